import Cluster
import Foundation

/// `down` and `status` of a devcluster with hosts.
extension DevCluster {
    /// Whether namespaces or processes of a devcluster with hosts in `dir` exist (its manifest may
    /// be gone: `up` was killed, or the directory was removed by hand).
    static func hostsLeftovers(dir: String) -> Bool {
        let prefix = namespacePrefix(dir: dir) + "-"
        if !NetworkNamespaces.named(prefix: prefix).isEmpty { return true }
        if (try? FileManager.default.contentsOfDirectory(atPath: "/etc/netns"))?.contains(where: { $0.hasPrefix(prefix) }) == true { return true }
        return !NetworkNamespaces.pids(marked: "\(markerVariable)=\(dir)", directory: dir).isEmpty
    }

    /// The processes of the devcluster: inside its namespaces, or carrying its marker (sshd's
    /// SetEnv puts it into every session and what it starts, `up` into everything else), or
    /// naming its directory on their command line (sshd rewrites its environment area). This
    /// process and its ancestors are left alone, and so are zombies (already dead).
    static func devclusterPids(dir: String, prefix: String) -> Set<Int32> {
        let keep = NetworkNamespaces.selfAndAncestors()
        let all = NetworkNamespaces.pids(in: NetworkNamespaces.named(prefix: prefix + "-"))
            .union(NetworkNamespaces.pids(marked: "\(markerVariable)=\(dir)", directory: dir))
        return all.subtracting(keep).filter { !NetworkNamespaces.isZombie($0) }
    }

    /// Removes everything a devcluster with hosts made: its processes (SIGKILL: the cluster is
    /// disposable), its namespaces (and with them the bridge and every link), `/etc/netns/PREFIX-*`,
    /// `/run/sshd` if `up` made it and no sshd runs any more, and the directory. Works from the
    /// manifest or, without one, from the directory's name; idempotent.
    /// - Returns: what is still there afterwards (empty: all gone).
    @discardableResult
    public static func downHosts(dir: String, log: (String) -> Void = { _ in }) throws -> [String] {
        guard geteuid() == 0 else {
            throw Failure("removing a devcluster with hosts needs root (it deletes network namespaces); nothing was removed")
        }
        let dir = URL(fileURLWithPath: dir).standardizedFileURL.path
        let m = manifest(dir: dir)
        let prefix = m?.hosts?.prefix ?? namespacePrefix(dir: dir)
        // 1. Processes, until none is left (a dying VM may still fork its helpers).
        var killed = 0
        for _ in 0..<25 {
            let pids = devclusterPids(dir: dir, prefix: prefix)
            if pids.isEmpty { break }
            for p in pids where kill(p, SIGKILL) == 0 { killed += 1 }
            usleep(100_000)
        }
        if killed > 0 { log("killed \(killed) process\(killed == 1 ? "" : "es")") }
        // 2. Namespaces: `ip netns del` unmounts the name; the kernel frees the namespace, its
        //    bridge and veths once no process holds it (hence the processes first).
        let namespaces = NetworkNamespaces.named(prefix: prefix + "-")
        for ns in namespaces {
            let r = SystemTool.run("ip", ["netns", "del", ns])
            if r.exitCode != 0 { log("ip netns del \(ns): \(r.combined)") }
        }
        if !namespaces.isEmpty { log("deleted \(namespaces.count) network namespaces (\(prefix)-*)") }
        // 3. Files.
        let fm = FileManager.default
        for e in (try? fm.contentsOfDirectory(atPath: "/etc/netns")) ?? [] where e.hasPrefix(prefix + "-") {
            try? fm.removeItem(atPath: "/etc/netns/" + e)
        }
        if let entries = try? fm.contentsOfDirectory(atPath: "/etc/netns"), entries.isEmpty { try? fm.removeItem(atPath: "/etc/netns") }
        if m?.hosts?.createdRunSshd == true, !sshdRunsAnywhere() { try? fm.removeItem(atPath: "/run/sshd") }
        if fm.fileExists(atPath: dir) { try? fm.removeItem(atPath: dir) }
        // 4. What is left; namespace teardown in the kernel is asynchronous: look again briefly.
        var left: [String] = []
        let deadline = monotonicSeconds() + 5
        repeat {
            left = []
            let ns = NetworkNamespaces.named(prefix: prefix + "-")
            if !ns.isEmpty { left.append("namespaces \(ns.joined(separator: ", "))") }
            let pids = devclusterPids(dir: dir, prefix: prefix)
            if !pids.isEmpty { left.append("processes \(pids.sorted().map(String.init).joined(separator: ", "))") }
            if fm.fileExists(atPath: dir) { left.append("directory \(dir)") }
            if left.isEmpty { break }
            usleep(200_000)
        } while monotonicSeconds() < deadline
        return left
    }

    static func sshdRunsAnywhere() -> Bool {
        NetworkNamespaces.allPids().contains { pid in
            guard let comm = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8) else { return false }
            return comm.trimmingCharacters(in: .whitespacesAndNewlines) == "sshd" && !NetworkNamespaces.isZombie(pid)
        }
    }

    /// Per host: its namespace, address, whether ssh reaches it, and its node's state and role.
    static func statusHosts(_ m: Manifest) -> [String] {
        guard let h = m.hosts else { return [] }
        var lines = ["devcluster \(m.cluster) in \(m.dir): \(m.nodes.filter { !$0.spare }.count) hosts"
                     + "\(m.nodes.contains(where: \.spare) ? " + \(m.nodes.filter(\.spare).count) spare" : ""), namespaces \(h.prefix)-*",
                     "inventory: \(m.inventoryPath)   credentials: \(h.envFile)",
                     "run warren there: warren devcluster exec --dir \(m.dir) -- warren shell --inventory \(m.inventoryPath)",
                     "  bastion  \(h.bastionAddress)  \(NetworkNamespaces.exists(h.bastionNamespace) ? "" : "MISSING ")namespace \(h.bastionNamespace)"]
        var members: [String] = []
        if let seed = m.nodes.first(where: { !$0.spare }) {
            let r = runInBastion(m, [m.cliPath + "/rabbitmqctl", "-q", "-n", seed.name, "cluster_status", "--formatter", "json"], timeout: 20)
            if r.exitCode == 0, let data = r.stdout.data(using: .utf8),
               let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
                members = (o["disk_nodes"] as? [String] ?? []) + (o["ram_nodes"] as? [String] ?? [])
            }
        }
        var results = [String](repeating: "", count: m.nodes.count)
        DispatchQueue.concurrentPerform(iterations: m.nodes.count) { i in
            let n = m.nodes[i]
            let ns = NetworkNamespaces.exists(n.namespace!) ? "" : "  namespace \(n.namespace!) MISSING"
            let r = ssh(m, n.host!, "rabbitmq-service status", timeout: 10)
            let state: String
            if r.exitCode == 0 || r.exitCode == 3 {
                state = "ssh ok  " + (r.exitCode == 0 ? "VM running" : "stopped")
            } else {
                state = "ssh FAILED: " + explainSSH(r, host: n.host!, m)
            }
            let role = members.contains(n.name) ? "member" : (n.spare ? "spare" : "not a member")
            results[i] = "  \(n.host!)  \(n.address!)  \(n.name)  \(role)  \(state)\(ns)"
        }
        lines += results
        if let faults = DevClusterFaults.activeFaults(m), !faults.isEmpty { lines.append("faults: " + faults.joined(separator: "; ")) }
        return lines
    }
}
