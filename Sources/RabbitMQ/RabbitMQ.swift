// The real RabbitMQ target of warren.
//
// - `Inventory` (Inventory.swift): the YAML inventory, parsed with line-numbered validation
//   (`Inventory.load(path:)`, `InventoryError`), and written back (`yaml()`).
// - `Redactor` (Redactor.swift): replaces secrets (cookie, password, `secrets`, Authorization
//   headers, URL credentials) with `***`; `Redactor(inventory:)`.
// - `RabbitMQBackend` (RabbitMQBackend.swift, Preflight.swift): the `Backend` over the CLI tools
//   and the management API; `onCommand` receives a redacted `CommandRecord` for every command.
// - `DevCluster` (DevCluster.swift): `up`, `down`, `status`, `formCluster` for real nodes on
//   loopback, used by `warren devcluster` and the tests.
// - CommandRunner.swift, ManagementClient.swift, Net.swift: processes with deadlines
//   (posix_spawn), the time-boxed HTTP client, TCP/epmd probes and the cookie hash.
import Cluster
