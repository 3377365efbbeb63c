import Cluster
import Foundation

/// A production-shaped devcluster: one host per node, each a network namespace on a bridge, with
/// its own address, an sshd and `rabbit@HOST` on the standard ports; the operator's commands run
/// in a bastion namespace (`warren devcluster exec`). Needs root.
///
/// ```
/// netns PREFIX-sw       the switch: bridge br0 and the switch side of every veth (nothing is
///                       added to the machine's own namespace, so its firewall cannot interfere)
/// netns PREFIX-bastion  198.18.213.2, where warren, ssh and the CLI tools run
/// netns PREFIX-nK       host nK, 198.18.213.(10+K); sshd on :22 in a UTS namespace named nK;
///                       rabbit@nK on 5672, 15672, 25672 and its own epmd on 4369
/// /etc/netns/PREFIX-*/hosts, resolv.conf   every name from the hosts file, no DNS at all
/// ```
/// PREFIX is `wdc-` and six hex digits of the directory's path, so two devclusters never share a
/// namespace. The addresses are from 198.18.0.0/15 (RFC 2544, for network tests), which no LAN,
/// VPN or container pool uses; no namespace has a default route, so nothing leaves the machine.
///
/// Files in D: `hosts/nK/` (sshd_config and host key, `home/.erlang.cookie`, `etc/rabbitmq-env.conf`
/// which plays /etc/rabbitmq/rabbitmq-env.conf, `etc/rabbitmq.conf`, `bin/rabbitmq-service`,
/// mnesia/, log/), `ssh/` (the devcluster's key, known_hosts, config), `bastion/home/` (the CLI's
/// cookie), `management.env` (the management user's credentials, mode 600), `inventory.yaml`,
/// `devcluster.json`.
extension DevCluster {
    public struct HostsLayout: Codable, Equatable, Sendable {
        /// Every namespace of this devcluster starts with `prefix-`.
        public var prefix: String
        public var switchNamespace: String
        public var bastionNamespace: String
        public var bastionAddress: String
        public var managementUser: String
        /// `WARREN_RABBITMQ_USER=...` and `WARREN_RABBITMQ_PASSWORD=...`, mode 600.
        public var envFile: String
        public var sshConfig: String
        public var bastionHome: String
        /// Whether `up` created sshd's privilege separation directory (`down` removes it then).
        public var createdRunSshd: Bool
        public var partitionHandling: String
        public var netTicktime: Int
    }

    public static let hostsSubnet = "198.18.213"
    public static let managementUserName = "warren-admin"
    public static let userVariable = "WARREN_RABBITMQ_USER"
    public static let passwordVariable = "WARREN_RABBITMQ_PASSWORD"
    /// Marks every process a devcluster starts (`NAME=DIR`), so that `down` finds them all.
    public static let markerVariable = "WARREN_DEVCLUSTER"

    /// `wdc-` and six hex digits of the directory's path (FNV-1a).
    public static func namespacePrefix(dir: String) -> String {
        var h: UInt32 = 0x811c9dc5
        for b in dir.utf8 { h = (h ^ UInt32(b)) &* 0x01000193 }
        return "wdc-" + String(format: "%06x", h & 0xffffff)
    }

    static func hostAddress(_ k: Int) -> String { "\(hostsSubnet).\(10 + k)" }

    // MARK: up

    /// Builds the hosts, starts the members' nodes over ssh, creates the management user and
    /// writes the inventory; `form` then forms the cluster (it runs in the bastion). On any failure
    /// everything made so far is removed before the error is thrown.
    @discardableResult
    public static func upHosts(hosts: Int, spares: Int = 0, dir: String, cliPath: String = defaultCLIPath,
                               partitionHandling: String = "pause_minority",
                               log: (String) -> Void = { _ in }, form: (Manifest) throws -> Void) throws -> Manifest {
        guard geteuid() == 0 else {
            throw Failure("`devcluster up --hosts` needs root: it creates network namespaces, a bridge and an sshd per host. "
                + "Nothing was created. Run it as root (e.g. `sudo warren devcluster up --hosts \(hosts)`), or use `--nodes N` for nodes on loopback without root.")
        }
        guard hosts >= 1, spares >= 0, hosts + spares <= 9 else {
            throw Failure("--hosts must be 1-9 and --hosts + --spares at most 9 (got \(hosts) + \(spares)). Nothing was created.")
        }
        guard ["ignore", "pause_minority", "autoheal"].contains(partitionHandling) else {
            throw Failure("--partition-handling must be ignore, pause_minority or autoheal (got '\(partitionHandling)'). Nothing was created.")
        }
        try checkInstalled(cliPath: cliPath)
        let missing = SystemTool.required.filter { SystemTool.path($0.tool) == nil }
        if !missing.isEmpty {
            let packages = Array(Set(missing.map(\.package))).sorted()
            throw Failure("`devcluster up --hosts` needs \(missing.map(\.tool).joined(separator: ", ")), which \(missing.count == 1 ? "is" : "are") not installed: "
                + "run `apt-get install \(packages.joined(separator: " "))`. Nothing was created.")
        }
        let dir = URL(fileURLWithPath: dir).standardizedFileURL.path
        guard dir.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "/._-+".contains($0)) }) else {
            throw Failure("the devcluster directory \(dir) may hold only letters, digits and / . _ - + (it is written into sshd and shell configuration). Nothing was created.")
        }
        let fm = FileManager.default
        if manifest(dir: dir) != nil {
            throw Failure("a devcluster is already in \(dir): remove it first with `warren devcluster down --dir \(dir)`. Nothing was created.")
        }
        if fm.fileExists(atPath: dir), let contents = try? fm.contentsOfDirectory(atPath: dir), !contents.isEmpty {
            throw Failure("\(dir) exists and is not a devcluster directory; choose another with --dir or remove it. Nothing was created.")
        }
        let prefix = namespacePrefix(dir: dir)
        let layout = HostsLayout(prefix: prefix, switchNamespace: prefix + "-sw", bastionNamespace: prefix + "-bastion",
                                 bastionAddress: "\(hostsSubnet).2", managementUser: managementUserName,
                                 envFile: dir + "/management.env", sshConfig: dir + "/ssh/config", bastionHome: dir + "/bastion/home",
                                 createdRunSshd: !fm.fileExists(atPath: "/run/sshd"), partitionHandling: partitionHandling,
                                 netTicktime: 10)
        var nodes: [Node] = []
        for k in 1...(hosts + spares) {
            let host = "n\(k)"
            nodes.append(Node(index: k, name: "rabbit@\(host)", amqpPort: 5672, managementPort: 15672, distPort: 25672,
                              spare: k > hosts, dir: dir + "/hosts/" + host, host: host, address: hostAddress(k),
                              namespace: "\(prefix)-\(host)"))
        }
        // Names left by another tool (or another devcluster): refused before anything is made.
        var owners: [(String, String)] = [(layout.switchNamespace, "the switch"), (layout.bastionNamespace, "the bastion")]
        owners += nodes.map { ($0.namespace!, "host \($0.host!)") }
        for (ns, what) in owners where NetworkNamespaces.exists(ns) || fm.fileExists(atPath: "/etc/netns/" + ns) {
            throw Failure("\(what): a network namespace named \(ns) already exists (\(NetworkNamespaces.exists(ns) ? "/run/netns/" : "/etc/netns/")\(ns)), "
                + "not made by a devcluster in \(dir). Nothing was created. If it is a leftover, remove it (`ip netns del \(ns)`, `rm -r /etc/netns/\(ns)`); else choose another --dir.")
        }

        let m = Manifest(cluster: clusterName, dir: dir, cliPath: cliPath, nodes: nodes, hosts: layout)
        do {
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try writeManifest(m)
            log("devcluster: \(hosts) host\(hosts == 1 ? "" : "s")\(spares > 0 ? " + \(spares) spare" : "") in \(dir) (namespaces \(prefix)-*)")
            var t = monotonicSeconds()
            try HostsBuilder(m).buildNetwork()
            log(String(format: "network: %d namespaces, a bridge, %d links, hosts files (%.1f s)", nodes.count + 2, nodes.count + 1, monotonicSeconds() - t))
            t = monotonicSeconds()
            let builder = HostsBuilder(m)
            try builder.writeFiles()
            try builder.startSSHDaemons()
            log(String(format: "sshd on %d hosts, keys checked, names resolve everywhere (%.1f s)", nodes.count, monotonicSeconds() - t))
            t = monotonicSeconds()
            try builder.startNodes(nodes.filter { !$0.spare })
            log(String(format: "%d nodes booted over ssh (%.1f s)", hosts, monotonicSeconds() - t))
            t = monotonicSeconds()
            try builder.createManagementUser(on: nodes.filter { !$0.spare })
            try builder.writeInventory()
            log(String(format: "management user %@, credentials in %@ (%.1f s)", layout.managementUser, layout.envFile, monotonicSeconds() - t))
            t = monotonicSeconds()
            try form(m)
            log(String(format: "cluster formed (%.1f s)", monotonicSeconds() - t))
        } catch {
            log("up failed; removing everything it made")
            let leftovers = (try? downHosts(dir: dir, log: log)) ?? ["the teardown itself failed"]
            var message = "\(error)"
            message += leftovers.isEmpty ? "\nEverything this `up` made was removed." : "\nNot everything could be removed: \(leftovers.joined(separator: "; "))"
            throw Failure(message)
        }
        return m
    }

    static func writeManifest(_ m: Manifest) throws {
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try enc.encode(m).write(to: URL(fileURLWithPath: manifestPath(m.dir)))
    }

    // MARK: The bastion

    /// The environment of a command in the bastion: the CLI's HOME (its cookie), the tools on the
    /// PATH, the management credentials, and the devcluster's marker.
    public static func bastionEnvironment(_ m: Manifest, base: [String: String] = [:]) -> [String: String] {
        var env = base
        guard let h = m.hosts else { return env }
        env["PATH"] = m.cliPath + ":" + (base["PATH"] ?? SystemTool.directories.joined(separator: ":"))
        env["HOME"] = h.bastionHome
        env["ERL_CRASH_DUMP"] = m.dir + "/bastion/erl_crash.dump"
        env["LC_ALL"] = base["LC_ALL"] ?? "C.UTF-8"
        env[markerVariable] = m.dir
        for (k, v) in managementCredentials(m) { env[k] = v }
        return env
    }

    /// The variables of the management env file (empty before it is written).
    public static func managementCredentials(_ m: Manifest) -> [String: String] {
        guard let file = m.hosts?.envFile, let text = try? String(contentsOfFile: file, encoding: .utf8) else { return [:] }
        var out: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            out[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return out
    }

    /// `ip netns exec BASTION argv...`: the executable and arguments that run argv in the bastion.
    public static func inBastion(_ m: Manifest, _ argv: [String]) throws -> (executable: String, arguments: [String]) {
        guard let h = m.hosts else { throw Failure("the devcluster in \(m.dir) runs on loopback: it has no bastion") }
        guard let ip = SystemTool.path("ip") else { throw Failure("ip (iproute2) is not installed") }
        return (ip, ["netns", "exec", h.bastionNamespace] + argv)
    }

    /// Runs argv in the bastion with the bastion's environment and waits for it.
    static func runInBastion(_ m: Manifest, _ argv: [String], timeout: Double, stdin: String? = nil) -> ProcessResult {
        guard let (exe, args) = try? inBastion(m, argv) else {
            return ProcessResult(exitCode: 127, stdout: "", stderr: "no bastion", duration: 0, timedOut: false)
        }
        return ProcessRunner.run(exe, args, environment: bastionEnvironment(m), timeout: timeout, stdin: stdin)
    }

    /// `ssh HOST COMMAND` from the bastion, with the devcluster's key and known hosts.
    static func ssh(_ m: Manifest, _ host: String, _ command: String, timeout: Double) -> ProcessResult {
        runInBastion(m, ["ssh", "-F", m.hosts?.sshConfig ?? "/dev/null", host, command], timeout: timeout)
    }

    /// What an ssh failure means, in words naming the host.
    static func explainSSH(_ r: ProcessResult, host: String, _ m: Manifest) -> String {
        let out = r.combined
        if out.contains("Permission denied") {
            return "host \(host): sshd refused the devcluster's key (\(m.dir)/ssh/id_ed25519): \(out)"
        }
        if out.contains("Could not resolve hostname") {
            return "host \(host) does not resolve in the bastion (/etc/netns/\(m.hosts?.bastionNamespace ?? "?")/hosts): \(out)"
        }
        if out.contains("Host key verification failed") || out.contains("REMOTE HOST IDENTIFICATION") {
            return "host \(host): its host key is not the one in \(m.dir)/ssh/known_hosts: \(out)"
        }
        if r.timedOut { return "host \(host): ssh did not answer within \(Int(r.duration)) s" }
        return "host \(host): ssh failed (exit \(r.exitCode)): \(out)"
    }
}

/// The steps of `up --hosts` that make things: network, files, daemons, nodes, user, inventory.
struct HostsBuilder {
    let m: DevCluster.Manifest
    let layout: DevCluster.HostsLayout
    init(_ m: DevCluster.Manifest) {
        self.m = m
        layout = m.hosts!
    }

    var nodes: [DevCluster.Node] { m.nodes }

    @discardableResult
    func ip(_ args: [String], _ what: @autoclosure () -> String) throws -> ProcessResult {
        let r = SystemTool.run("ip", args)
        guard r.exitCode == 0 else {
            throw DevCluster.Failure("\(what()): `ip \(args.joined(separator: " "))` failed (exit \(r.exitCode)): \(r.combined)")
        }
        return r
    }

    /// Namespaces, the bridge, a veth per namespace (both ends placed at creation: none ever
    /// appears in the machine's own namespace), addresses, and the hosts files.
    func buildNetwork() throws {
        let sw = layout.switchNamespace
        try ip(["netns", "add", sw], "the switch")
        try ip(["-n", sw, "link", "set", "lo", "up"], "the switch")
        try ip(["-n", sw, "link", "add", "br0", "type", "bridge"], "the switch's bridge")
        try ip(["-n", sw, "link", "set", "br0", "up"], "the switch's bridge")
        var attached: [(ns: String, address: String, port: String, what: String)] = [(layout.bastionNamespace, layout.bastionAddress, "bastion", "the bastion")]
        attached += nodes.map { ($0.namespace!, $0.address!, $0.host!, "host \($0.host!)") }
        // The bastion also answers to this machine's hostname: the CLI tools run there as
        // `rabbitmqcli-PID-rabbit@HOSTNAME`, and commands that stream results back from other
        // nodes (list_queues) have those nodes connect to the CLI by that name.
        var bastionNames = "bastion"
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        let machine = String(cString: buffer).split(separator: ".").first.map(String.init) ?? ""
        if !machine.isEmpty, machine != "bastion", machine != "localhost", !nodes.contains(where: { $0.host == machine }) { bastionNames += " " + machine }
        var hosts = "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n\(layout.bastionAddress) \(bastionNames)\n"
        for n in nodes { hosts += "\(n.address!) \(n.host!)\n" }
        let resolv = "# warren devcluster: names come from /etc/hosts only, no DNS server is asked\noptions timeout:1 attempts:1\n"
        for a in attached {
            try ip(["netns", "add", a.ns], a.what)
            // Written before any process runs in the namespace: `ip netns exec` bind-mounts them,
            // and a bind mount keeps the file it was made of.
            let etc = "/etc/netns/" + a.ns
            try FileManager.default.createDirectory(atPath: etc, withIntermediateDirectories: true)
            try ("# generated by warren devcluster \(m.dir)\n" + hosts).write(toFile: etc + "/hosts", atomically: false, encoding: .utf8)
            try resolv.write(toFile: etc + "/resolv.conf", atomically: false, encoding: .utf8)
            try ip(["-n", a.ns, "link", "set", "lo", "up"], a.what)
            try ip(["-n", sw, "link", "add", a.port, "type", "veth", "peer", "name", "eth0", "netns", a.ns], a.what)
            try ip(["-n", sw, "link", "set", a.port, "master", "br0", "up"], a.what)
            try ip(["-n", a.ns, "addr", "add", a.address + "/24", "dev", "eth0"], a.what)
            try ip(["-n", a.ns, "link", "set", "eth0", "up"], a.what)
        }
    }

    static func randomString(_ count: Int, from alphabet: String) -> String {
        let letters = Array(alphabet)
        var rng = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in letters.randomElement(using: &rng)! })
    }

    func write(_ text: String, to path: String, mode: Int = 0o644) throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard fm.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: mode]) else {
            throw DevCluster.Failure("cannot write \(path)")
        }
        try fm.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    func keygen(_ path: String, comment: String) throws {
        let r = SystemTool.run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path])
        guard r.exitCode == 0 else { throw DevCluster.Failure("ssh-keygen for \(comment) failed: \(r.combined)") }
    }

    /// Keys, the cookie, the management password, and each host's sshd and RabbitMQ files.
    func writeFiles() throws {
        let d = m.dir
        try FileManager.default.createDirectory(atPath: d + "/ssh", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try keygen(d + "/ssh/id_ed25519", comment: "warren-devcluster")
        let publicKey = try String(contentsOfFile: d + "/ssh/id_ed25519.pub", encoding: .utf8)
        try write(publicKey, to: d + "/ssh/authorized_keys", mode: 0o600)
        let cookie = HostsBuilder.randomString(32, from: "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        try write(cookie, to: layout.bastionHome + "/.erlang.cookie", mode: 0o600)
        let password = HostsBuilder.randomString(24, from: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        try write("# management credentials of the warren devcluster in \(d); `warren devcluster exec` exports them\n"
                  + "\(DevCluster.userVariable)=\(layout.managementUser)\n\(DevCluster.passwordVariable)=\(password)\n",
                  to: layout.envFile, mode: 0o600)
        try write("""
            # ssh from the bastion to the hosts of the warren devcluster in \(d)
            Host *
              User root
              IdentityFile \(d)/ssh/id_ed25519
              IdentitiesOnly yes
              UserKnownHostsFile \(d)/ssh/known_hosts
              GlobalKnownHostsFile /dev/null
              StrictHostKeyChecking yes
              BatchMode yes
              ConnectTimeout 5
              LogLevel ERROR

            """, to: layout.sshConfig, mode: 0o600)
        var knownHosts = ""
        for n in nodes {
            let h = n.host!
            try FileManager.default.createDirectory(atPath: n.dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            for sub in ["mnesia", "log", "bin", "etc", "home"] {
                try FileManager.default.createDirectory(atPath: n.dir + "/" + sub, withIntermediateDirectories: true)
            }
            try write(cookie, to: n.dir + "/home/.erlang.cookie", mode: 0o600)
            try keygen(n.dir + "/ssh_host_ed25519_key", comment: h)
            let hostKey = try String(contentsOfFile: n.dir + "/ssh_host_ed25519_key.pub", encoding: .utf8)
            let keyFields = hostKey.split(separator: " ").prefix(2).joined(separator: " ")
            knownHosts += "\(h),\(n.address!) \(keyFields)\n"
            let path = "\(n.dir)/bin:\(m.cliPath):/usr/sbin:/usr/bin:/sbin:/bin"
            // StrictModes no: the key files may sit under /tmp (world-writable), which strict
            // mode refuses; the files themselves are mode 600 and owned by root.
            try write("""
                # sshd of host \(h) (namespace \(n.namespace!)), warren devcluster \(d)
                ListenAddress \(n.address!):22
                HostKey \(n.dir)/ssh_host_ed25519_key
                PidFile \(n.dir)/sshd.pid
                AuthorizedKeysFile \(d)/ssh/authorized_keys
                PermitRootLogin prohibit-password
                PubkeyAuthentication yes
                PasswordAuthentication no
                KbdInteractiveAuthentication no
                StrictModes no
                UsePAM no
                X11Forwarding no
                PrintMotd no
                SetEnv \(DevCluster.markerVariable)=\(d) HOME=\(n.dir)/home RABBITMQ_CONF_ENV_FILE=\(n.dir)/etc/rabbitmq-env.conf ERL_CRASH_DUMP=\(n.dir)/log/erl_crash.dump LC_ALL=C.UTF-8 PATH=\(path)

                """, to: n.dir + "/sshd_config")
            try write("""
                # plays /etc/rabbitmq/rabbitmq-env.conf on host \(h)
                NODENAME=\(n.name)
                CONFIG_FILE=\(n.dir)/etc/rabbitmq.conf
                ENABLED_PLUGINS_FILE=\(n.dir)/etc/enabled_plugins
                MNESIA_BASE=\(n.mnesiaBase)
                LOG_BASE=\(n.dir)/log
                PID_FILE=\(n.pidFile)
                # no busy-waiting schedulers: several nodes share this machine's cores
                SERVER_ADDITIONAL_ERL_ARGS="+sbwt none +sbwtdcpu none +sbwtdio none"

                """, to: n.dir + "/etc/rabbitmq-env.conf")
            try write("""
                # host \(h): the standard ports on every address of the host
                listeners.tcp.default = 5672
                management.tcp.port = 15672
                cluster_name = \(m.cluster)
                # a lost peer is noticed after 10 s instead of 60 (3.10 maps this to kernel.net_ticktime)
                net_ticktime = \(layout.netTicktime)
                cluster_partition_handling = \(layout.partitionHandling)
                # guest may log in from loopback only (the default, stated)
                loopback_users.guest = true
                log.file.level = info
                log.console = false

                """, to: n.dir + "/etc/rabbitmq.conf")
            try write("[rabbitmq_management].\n", to: n.dir + "/etc/enabled_plugins")
            let service = ServiceScript(node: n.name, environment: "", cliPath: m.cliPath, pidFile: n.pidFile, logFile: n.logFile,
                                        amqpHost: "127.0.0.1", amqpPort: n.amqpPort, managementPort: n.managementPort,
                                        distPort: n.distPort, failMarker: n.failMarker)
            try write(service.text, to: n.dir + "/bin/rabbitmq-service", mode: 0o755)
        }
        try write(knownHosts, to: d + "/ssh/known_hosts", mode: 0o600)
    }

    /// One sshd per host, inside the host's network namespace and a UTS namespace with its
    /// hostname; every ssh session and what it starts inherit both. Then each host is asked over
    /// ssh for its hostname and to resolve every other name.
    func startSSHDaemons() throws {
        if layout.createdRunSshd && !FileManager.default.fileExists(atPath: "/run/sshd") {
            // Debian's sshd refuses to run without its privilege separation directory, which its
            // service unit creates ("Missing privilege separation directory: /run/sshd").
            try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        }
        guard let sshd = SystemTool.path("sshd"), let unshare = SystemTool.path("unshare") else {
            throw DevCluster.Failure("sshd or unshare is not installed")
        }
        for n in nodes {
            let conf = n.dir + "/sshd_config"
            let check = SystemTool.run("sshd", ["-t", "-f", conf])
            guard check.exitCode == 0 else { throw DevCluster.Failure("host \(n.host!): sshd refuses its configuration \(conf): \(check.combined)") }
            let r = SystemTool.run("ip", ["netns", "exec", n.namespace!, "env", "-i", "\(DevCluster.markerVariable)=\(m.dir)",
                                          "PATH=" + SystemTool.directories.joined(separator: ":"), unshare, "--uts", "/bin/sh", "-c",
                                          "hostname \(n.host!) && exec \(sshd) -f \(conf) -E \(n.dir)/sshd.log"])
            guard r.exitCode == 0 else { throw DevCluster.Failure("host \(n.host!): sshd did not start (exit \(r.exitCode)): \(r.combined)") }
        }
        let names = nodes.map(\.host!) + ["bastion"]
        for n in nodes {
            // sshd listens only once it has daemonized: poll.
            var last = ProcessResult.skipped
            let deadline = monotonicSeconds() + 10
            repeat {
                last = DevCluster.ssh(m, n.host!, "hostname; getent hosts \(names.joined(separator: " ")) | wc -l", timeout: 10)
                if last.exitCode == 0 || last.combined.contains("Permission denied") || last.combined.contains("resolve hostname")
                    || last.combined.contains("Host key verification") { break }
                usleep(100_000)
            } while monotonicSeconds() < deadline
            guard last.exitCode == 0 else {
                var message = DevCluster.explainSSH(last, host: n.host!, m)
                if let log = try? String(contentsOfFile: n.dir + "/sshd.log", encoding: .utf8), !log.isEmpty {
                    message += "\nsshd log of \(n.host!):\n" + log.split(separator: "\n").suffix(5).map { "  " + $0 }.joined(separator: "\n")
                }
                throw DevCluster.Failure(message)
            }
            let lines = last.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            guard lines.first == n.host! else {
                throw DevCluster.Failure("host \(n.host!): ssh reached a host named '\(lines.first ?? "")' instead")
            }
            guard lines.last == String(names.count) else {
                throw DevCluster.Failure("host \(n.host!) cannot resolve every name of the devcluster (\(names.joined(separator: ", "))) through /etc/netns/\(n.namespace!)/hosts")
            }
        }
    }

    /// `ssh HOST rabbitmq-service start` for each node at once; each returns once its node booted.
    func startNodes(_ list: [DevCluster.Node]) throws {
        var failures = [String?](repeating: nil, count: list.count)
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: list.count) { i in
            let n = list[i]
            let r = DevCluster.ssh(m, n.host!, "rabbitmq-service start", timeout: 150)
            if r.exitCode != 0 {
                let why = r.exitCode == 255 ? DevCluster.explainSSH(r, host: n.host!, m) : "host \(n.host!): \(n.name) did not start: \(r.combined)"
                lock.withLock { failures[i] = why }
            }
        }
        let failed = failures.compactMap { $0 }
        if !failed.isEmpty { throw DevCluster.Failure(failed.joined(separator: "\n")) }
    }

    /// The management user, on every member before they are clustered, so that the API accepts
    /// it on each (a join then replaces the joining node's users with the seed's, the same user);
    /// the password goes to `add_user` on standard input, so it never shows in a process list.
    func createManagementUser(on members: [DevCluster.Node]) throws {
        for n in members { try createManagementUser(on: n) }
    }

    func createManagementUser(on seed: DevCluster.Node) throws {
        let password = DevCluster.managementCredentials(m)[DevCluster.passwordVariable] ?? ""
        let stdin = m.dir + "/bastion/.add-user-input"
        try write(password + "\n", to: stdin, mode: 0o600)
        defer { try? FileManager.default.removeItem(atPath: stdin) }
        let user = layout.managementUser
        let steps: [([String], String?)] = [
            (["add_user", user], stdin),
            (["set_user_tags", user, "administrator"], nil),
            (["set_permissions", "-p", "/", user, ".*", ".*", ".*"], nil),
        ]
        for (args, input) in steps {
            let r = DevCluster.runInBastion(m, [m.cliPath + "/rabbitmqctl", "-q", "-n", seed.name] + args, timeout: 60, stdin: input)
            guard r.exitCode == 0 else {
                throw DevCluster.Failure("host \(seed.host!): `rabbitmqctl \(args.first!)` for the management user failed (exit \(r.exitCode)): \(r.combined)")
            }
        }
    }

    /// The inventory, as an operator's would read: `start: ssh HOST rabbitmq-service start`.
    func writeInventory() throws {
        let ssh = "ssh -F \(layout.sshConfig)"
        let invNodes = nodes.map { n in
            Inventory.Node(name: n.name, management: "http://\(n.host!):15672",
                           start: "\(ssh) \(n.host!) rabbitmq-service start", stop: "\(ssh) \(n.host!) rabbitmq-service stop",
                           env: [:], log: n.logFile, spare: n.spare, shell: "\(ssh) \(n.host!)")
        }
        let inv = Inventory(cluster: m.cluster, nodes: invNodes, cliPath: m.cliPath, cliEnv: ["HOME": layout.bastionHome],
                            cookieFile: layout.bastionHome + "/.erlang.cookie",
                            userEnv: DevCluster.userVariable, passwordEnv: DevCluster.passwordVariable)
        let header = "# generated by `warren devcluster up --hosts`: run warren in the bastion with `warren devcluster exec --dir \(m.dir) -- warren ...`;\n"
            + "# the management credentials are in \(layout.envFile) (exported by `devcluster exec`)\n"
        try write(header + inv.yaml(), to: m.inventoryPath)
    }
}
