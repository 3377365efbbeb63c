import Cluster
import Foundation
@testable import RabbitMQ
import Testing

/// `rolling-upgrade` on real RabbitMQ 3.10.8. Only 3.10.8 runs here, so the upgrade command
/// reinstalls it: the Debian package really is installed again (`apt-get install --reinstall`) on
/// each node's turn, between its stop and its start.
///
/// Every loopback node (and any other checkout's devcluster) runs from the one installation, so
/// the command is made safe for a shared machine: it installs nothing but the version that is
/// installed (the files dpkg puts back are identical, and each is replaced by a rename, so running
/// VMs keep working); it runs only when apt plans exactly that one reinstall; and no service is
/// started or stopped: invoke-rc.d, which the package's maintainer scripts call, is held by a
/// policy-rc.d that exits 101 (the one present, when it does; else one put in place for the
/// command's length and removed after it). The system node's cookie is left alone (the postinst
/// regenerates it only when it looks Erlang-made; then the command refuses).
extension RealClusterTests {
    static let reinstallScript = #"""
        #!/bin/sh
        # Installs rabbitmq-server again, only at the version installed; starts and stops no service.
        set -eu
        want="$1"; log="$2"
        SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
        installed=$(dpkg-query -W -f='${Version}' rabbitmq-server)
        case "$installed" in
          "$want"-*) ;;
          *) echo "refusing: rabbitmq-server $installed is installed and this command only reinstalls it (asked for $want)" >&2; exit 3 ;;
        esac
        if [ "$(ps -o comm= -p 1)" = systemd ] && $SUDO grep -qE '^[A-Z]{20}$' /var/lib/rabbitmq/.erlang.cookie 2>/dev/null; then
          echo "refusing: the package would replace the system node's Erlang-made cookie and restart it" >&2; exit 3
        fi
        plan=$($SUDO apt-get install --reinstall -s -o DPkg::Lock::Timeout=300 "rabbitmq-server=$installed")
        echo "$plan" | grep -q '^0 upgraded, 0 newly installed, 1 reinstalled, 0 to remove' || {
          echo "refusing: apt plans more than reinstalling rabbitmq-server:"; echo "$plan"; exit 3; } >&2
        if [ -e /usr/sbin/policy-rc.d ]; then
          rc=0; $SUDO /usr/sbin/policy-rc.d rabbitmq-server restart >/dev/null 2>&1 || rc=$?
          [ "$rc" = 101 ] || { echo "refusing: /usr/sbin/policy-rc.d lets services restart (exit $rc)" >&2; exit 3; }
        else
          printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
          $SUDO chmod 755 /usr/sbin/policy-rc.d
          trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
          trap 'exit 130' INT TERM HUP
        fi
        $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install --reinstall -y -q -o DPkg::Lock::Timeout=300 "rabbitmq-server=$installed"
        echo "reinstalled rabbitmq-server=$installed" >> "$log"
        """#

    /// The devcluster's inventory with an `upgrade:` command per member (`failOn`: that member's fails).
    func upgradeInventory(failOn: String? = nil) throws -> (path: String, log: String) {
        let script = f.dir + "/reinstall.sh", log = f.dir + "/reinstall-\(UUID().uuidString).log"
        try Self.reinstallScript.write(toFile: script, atomically: true, encoding: .utf8)
        var inventory = f.inventory
        for i in inventory.nodes.indices where !inventory.nodes[i].spare {
            inventory.nodes[i].upgrade = inventory.nodes[i].name == failOn
                ? "echo 'E: Unable to locate package rabbitmq-server={version}' >&2; exit 100"
                : "/bin/sh \(script) {version} \(log)"
        }
        let path = f.dir + "/inventory-upgrade-\(UUID().uuidString).yaml"
        try inventory.yaml().write(toFile: path, atomically: true, encoding: .utf8)
        return (path, log)
    }

    @Test("rolling-upgrade to the installed 3.10.8 with reinstall=true reinstalls the package on each node in turn and converges",
          .enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/apt-get")))
    func rollingUpgradeReinstalls() throws {
        expectConverged()
        let (inventory, log) = try upgradeInventory()
        let r = try warren(["run", "rolling-upgrade", "--inventory", inventory, "--param", "to=3.10.8", "--param", "reinstall=true", "--yes"])
        #expect(r.code == 0, "\(r.output)")
        let done = primitives(r.state)
        for n in f.members {
            #expect(done.filter { $0 == "stop \(n)" }.count == 1 && done.filter { $0 == "upgrade \(n)" }.count == 1, "\(n): \(done)")
        }
        let reinstalled = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
        #expect(reinstalled.count == f.members.count && reinstalled.allSatisfy { $0.hasPrefix("reinstalled rabbitmq-server=3.10.8-") }, "\(reinstalled)")
        let status = DevClusterFixture.run("/usr/bin/dpkg-query", ["-W", "-f=${Status} ${Version}", "rabbitmq-server"])
        #expect(status.output.hasPrefix("install ok installed 3.10.8-"), "\(status.output)")
        #expect(r.output.contains("definitions backed up to"), "\(r.output)")
        expectConverged()
        #expect(try ClusterVersions.read(from: f.backend).nodes.allSatisfy { $0.rabbitmq == RabbitMQVersion(3, 10, 8) })
    }

    @Test("an upgrade command that fails on a node stops the run there: the node runs its old release again, the cluster is healthy, the next node untouched")
    func rollingUpgradeCommandFails() throws {
        expectConverged()
        let (inventory, _) = try upgradeInventory(failOn: n2)
        let r = try warren(["run", "rolling-upgrade", "--inventory", inventory, "--param", "to=3.10.8", "--param", "reinstall=true", "--yes"])
        #expect(r.code == 1, "\(r.output)")
        #expect(r.output.contains("the upgrade command failed on \(n2)") && r.output.contains("it runs its old release 3.10.8 again and the cluster is healthy"), "\(r.output)")
        #expect(r.output.contains("Unable to locate package rabbitmq-server=3.10.8"), "the command's output is shown: \(r.output)")
        let done = primitives(r.state)
        #expect(done.contains("start \(n2)") && !done.contains("stop \(n3)"), "\(done)")
        expectConverged()
    }

    @Test("an inventory without an upgrade command for a node: rolling-upgrade stops at that node before installing anything, and starts it again")
    func rollingUpgradeWithoutCommand() throws {
        expectConverged()
        let r = try warren(["run", "rolling-upgrade", "--inventory", f.inventoryPath, "--param", "to=3.10.8", "--param", "reinstall=true", "--yes"])
        #expect(r.code == 1, "\(r.output)")
        #expect(r.output.contains("gives no `upgrade:` command for \(n1)"), "\(r.output)")
        expectConverged()
    }
}
