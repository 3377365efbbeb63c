import Cluster
import Foundation

/// Starting and stopping nodes and their app, draining, resetting, joining and forgetting.
extension RabbitMQBackend {
    // MARK: Node lifecycle

    func runShell(_ command: String, node: String, timeout: Double) -> ProcessResult {
        let r = waiting("`\(command)`", limit: timeout) {
            ProcessRunner.run("/bin/sh", ["-c", command], environment: cliEnvironment(for: node), timeout: timeout,
                              interrupted: interruptRequested)
        }
        record(CommandRecord(kind: .shell, argv: ["/bin/sh", "-c", command], exitCode: r.exitCode, duration: r.duration,
                             output: r.combined, timedOut: r.timedOut))
        return r
    }

    /// What an ssh failure in a node's command means (nil: not an ssh failure): the command's
    /// output is shown too, this says in words which host refused what.
    static func sshHint(_ r: ProcessResult, command: String, node: String) -> String? {
        guard r.exitCode == 255, command.split(separator: " ").contains(where: { $0 == "ssh" || $0.hasSuffix("/ssh") }) else { return nil }
        let host = RabbitMQBackend.host(of: node), out = r.combined
        if out.contains("Permission denied") {
            return "ssh to \(node)'s host refused the key offered (the host \(host) does not accept this user's key: check the IdentityFile in ~/.ssh/config, or the host's authorized_keys)"
        }
        if out.contains("Could not resolve hostname") { return "the host in the command does not resolve here (DNS or /etc/hosts)" }
        if out.contains("Host key verification failed") || out.contains("REMOTE HOST IDENTIFICATION") {
            return "the host's ssh key is not the one in known_hosts: check it is the right host before trusting its new key"
        }
        if out.contains("Connection refused") { return "no sshd answers on the host (port 22 refused)" }
        if out.contains("timed out") { return "the host's sshd does not answer (connection timed out)" }
        return nil
    }

    /// The last lines of the node's log (inventory `log`), redacted, for error messages.
    public func lastLogLines(_ node: String, count: Int = 15) -> String {
        guard let path = entry(node).log, let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "" }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).suffix(count)
        return redactor.redact("last lines of \(path):\n" + lines.map { "  " + $0 }.joined(separator: "\n"))
    }

    public func start(_ node: String) throws {
        let n = try resolve(node)
        drainedHere.remove(n)
        try ensureIdentity(allowUnreachable: true)
        // A VM already registered with epmd is up or booting: starting it again would launch a
        // second one for the same node. Wait for it instead.
        let r = epmdRegistered(n) == true ? ProcessResult.skipped : runShell(entry(n).start, node: n, timeout: startCommandTimeout)
        if r.interrupted { throw Self.interrupted("the start command of \(n) was stopped before it finished", node: n) }
        if r.exitCode != 0 {
            var m = r.timedOut ? "the start command of \(n) did not finish within \(Int(startCommandTimeout)) s and was stopped: `\(entry(n).start)`"
                : "the start command of \(n) failed (exit \(r.exitCode)): `\(entry(n).start)`"
            if let hint = Self.sshHint(r, command: entry(n).start, node: n) { m += "; \(hint)" }
            if !r.combined.isEmpty { m += "\n" + r.combined }
            let log = lastLogLines(n)
            if !log.isEmpty { m += "\n" + log }
            throw ClusterError(r.timedOut ? .timeout : .unavailable, redactor.redact(m), node: n)
        }
        // Up once epmd lists the VM (polled: a TCP round trip each); without epmd, once it answers ping.
        let deadline = now() + startTimeout
        while now() < deadline {
            if try epmdRegistered(n) ?? ping(n) { return }
            try pause(0.2, waitingFor: "\(n) to come up")
        }
        var m = "\(n) did not answer ping within \(Int(startTimeout)) s after its start command"
        let log = lastLogLines(n)
        if !log.isEmpty { m += "\n" + log }
        throw ClusterError(.timeout, m, node: n)
    }

    public func stop(_ node: String) throws {
        let n = try resolve(node)
        drainedHere.remove(n)
        try ensureIdentity()
        let r = runShell(entry(n).stop, node: n, timeout: stopTimeout)
        if r.interrupted { throw Self.interrupted("the stop command of \(n) was stopped before it finished", node: n) }
        if r.exitCode != 0 {
            var what = r.timedOut ? "did not finish within \(Int(stopTimeout)) s and was stopped" : "failed (exit \(r.exitCode))"
            if let hint = Self.sshHint(r, command: entry(n).stop, node: n) { what += "; \(hint); \(n) was not stopped" }
            throw ClusterError(r.timedOut ? .timeout : .unavailable,
                               redactor.redact("the stop command of \(n) \(what): `\(entry(n).stop)`\n\(r.combined)"), node: n)
        }
        let deadline = now() + stopTimeout
        while now() < deadline {
            if !(try ping(n)) { return }
            try pause(0.2, waitingFor: "\(n) to go down")
        }
        throw ClusterError(.timeout, "\(n) still answers ping \(Int(stopTimeout)) s after its stop command", node: n)
    }

    func change(_ tool: String, _ node: String, _ args: [String]) throws {
        let n = try resolve(node)
        try ensureIdentity()
        drainedHere.remove(n)
        try cliChecked(tool, node: n, args)
        if args == ["drain"] { drainedHere.insert(n) }
    }

    public func startApp(_ node: String) throws { try change("rabbitmqctl", node, ["start_app"]) }
    public func stopApp(_ node: String) throws { try change("rabbitmqctl", node, ["stop_app"]) }
    public func reset(_ node: String) throws { try change("rabbitmqctl", node, ["reset"]) }
    public func forceReset(_ node: String) throws { try change("rabbitmqctl", node, ["force_reset"]) }
    /// `force_boot` works on a stopped node's data directory, when no node may answer to check
    /// the cluster's name; on the node's host when the inventory says how to reach it. On Khepri
    /// it does nothing and the CLI still exits 0 (rabbit_db.erl@v4.2.0 L182-190;
    /// clustering_management_SUITE.erl@v4.2.9 L828-834): refused when a running member says the
    /// cluster uses Khepri.
    public func forceBoot(_ node: String) throws {
        let n = try resolve(node)
        if (try? metadataStore()) == .khepri {
            throw ClusterError(.usage, "force_boot is not supported with Khepri, the metadata store of this cluster: the broker does nothing "
                + "(the CLI still exits 0), because a Khepri node boots only once a majority of its cluster's nodes run. "
                + "Start a majority of the nodes instead. Nothing was changed", node: n)
        }
        try ensureIdentity(allowUnreachable: true)
        drainedHere.remove(n)
        try offlineCLI("rabbitmqctl", node: n, ["force_boot"])
    }
    public func drain(_ node: String) throws { try change("rabbitmq-upgrade", node, ["drain"]) }
    public func revive(_ node: String) throws { try change("rabbitmq-upgrade", node, ["revive"]) }

    public func awaitRunning(_ node: String, timeout: Double) throws {
        let n = try resolve(node)
        let deadline = now() + timeout
        while true {
            // await_startup fails at once while the VM is not up yet: wait for epmd to list it
            // (or, without epmd, for ping to answer).
            while !(try epmdRegistered(n) ?? ping(n)) {
                if now() >= deadline {
                    throw ClusterError(.timeout, "timed out: \(n) did not answer ping within \(Int(timeout)) s", node: n)
                }
                try pause(0.2, waitingFor: "\(n) to come up")
            }
            let remaining = max(1, Int((deadline - now()).rounded(.up)))
            let r = cli("rabbitmqctl", node: n, ["await_startup", "--timeout", String(remaining)], timeout: Double(remaining) + 15)
            if r.exitCode == 0 { return }
            // A VM that registered a moment ago may not take the call yet: try again while time is left.
            if r.duration < 5, Self.isUnreachable(r.combined), !Self.isCookieMismatch(r.combined), now() + 0.5 < deadline {
                try pause(0.5, waitingFor: "\(n) to take await_startup")
                continue
            }
            throw cliError("rabbitmqctl", node: n, args: ["await_startup"], r)
        }
    }

    /// Runs the inventory's `upgrade:` command for the node with `{version}` replaced by the
    /// release, once the node no longer answers ping (an upgrade under a running node would have
    /// its package manager restart it under its clients).
    public func upgrade(_ node: String, to version: RabbitMQVersion) throws {
        let n = try resolve(node)
        guard let template = entry(n).upgrade else {
            throw ClusterError(.usage, "the inventory \(inventory.path ?? "") gives no `upgrade:` command for \(n); add one (e.g. "
                + "`upgrade: ssh HOST sudo apt-get install -y rabbitmq-server=\(Inventory.Node.versionPlaceholder)-1`). Nothing was installed", node: n)
        }
        try ensureIdentity(allowUnreachable: true)
        if try ping(n) {
            throw ClusterError(.usage, "\(n) is running: stop it before installing another release on it (nothing was installed)", node: n)
        }
        // The release is digits and dots only (RabbitMQVersion), safe in a shell command.
        let command = template.replacingOccurrences(of: Inventory.Node.versionPlaceholder, with: version.description)
        let r = runShell(command, node: n, timeout: upgradeTimeout)
        if r.interrupted { throw Self.interrupted("the upgrade command of \(n) was stopped before it finished", node: n) }
        if r.exitCode != 0 {
            let what = r.timedOut ? "did not finish within \(Int(upgradeTimeout)) s and was stopped" : "failed (exit \(r.exitCode))"
            let tail = r.combined.split(separator: "\n").suffix(12).joined(separator: "\n")
            throw ClusterError(r.timedOut ? .timeout : .unavailable,
                               redactor.redact("the upgrade command of \(n) \(what): `\(command)`\n\(tail)"), node: n)
        }
    }

    // MARK: Membership

    public func join(_ node: String, seed: String) throws {
        let n = try resolve(node)
        let s = try resolve(seed)
        try ensureIdentity()
        try cliChecked("rabbitmqctl", node: n, ["join_cluster", s])
    }

    public func forget(_ target: String, from executor: String, offline: Bool) throws {
        let t = try resolve(target)
        let e = try resolve(executor)
        try ensureIdentity(allowUnreachable: offline)
        if offline {
            try offlineCLI("rabbitmqctl", node: e, ["forget_cluster_node", "--offline", t])
        } else {
            try cliChecked("rabbitmqctl", node: e, ["forget_cluster_node", t])
        }
    }

    /// A CLI command that works on a stopped node's data directory (`force_boot`,
    /// `forget_cluster_node --offline`): it must run where that directory is, so on the node's
    /// host through the inventory's `shell` (e.g. `ssh HOST`) when there is one; else here, with
    /// the node's environment (a node on this machine).
    func offlineCLI(_ tool: String, node n: String, _ args: [String]) throws {
        guard let shell = entry(n).shell else {
            try cliChecked(tool, node: n, args)
            return
        }
        let quoted = ([tool, "-q", "-n", n] + args).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let r = runShell(shell + " " + quoted.joined(separator: " "), node: n, timeout: cliTimeout)
        if r.exitCode != 0 { throw cliError(tool, node: n, args: args, r) }
    }

}
