import Cluster
import Foundation

/// The secrets an inventory names: the Erlang cookie's contents, the management password, and its
/// `secrets` (environment variable names whose values are redacted, or literal values).
extension Redactor {
    /// The secrets of an inventory, read from the environment and the cookie file.
    public init(inventory: Inventory, environment: [String: String] = ProcessInfo.processInfo.environment) {
        var v: [String] = []
        if let cookie = try? String(contentsOfFile: inventory.effectiveCookieFile, encoding: .utf8) {
            v.append(cookie.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        // The CLI tools inherit warren's own environment too.
        for env in [environment, inventory.cliEnv] + inventory.nodes.map(\.env) {
            if let c = env["RABBITMQ_ERLANG_COOKIE"] { v.append(c) }
        }
        if let p = inventory.passwordEnv, let value = environment[p] {
            v.append(value)
            // Basic auth carries it base64-encoded.
            if let u = inventory.userEnv, let user = environment[u] {
                v.append(Data("\(user):\(value)".utf8).base64EncodedString())
            }
        }
        for s in inventory.secrets {
            // A name of a variable that is set stands for its value; anything else (an upper-case
            // literal such as an access key id included) is the secret itself.
            if isUpperEnvName(s), let value = environment[s] {
                v.append(value)
            } else {
                v.append(s)
            }
        }
        self.init(secrets: v)
    }
}
