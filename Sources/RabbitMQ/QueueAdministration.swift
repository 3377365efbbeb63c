import Cluster
import Foundation

/// Growing, shrinking and rebalancing queues; declaring, publishing, consuming; definitions.
extension RabbitMQBackend {
    // MARK: Queues

    func membershipResults(_ r: ProcessResult) throws -> [String] {
        try decode([BrokerAnswer.MembershipRow].self, r).filter { $0.result == "ok" }.map(\.name)
    }

    @discardableResult
    public func grow(_ node: String, strategy: GrowStrategy) throws -> [String] {
        let n = try resolve(node)
        try ensureIdentity()
        // `grow` runs where the rabbit application runs: a node whose VM answers with its app
        // stopped would fail the command, and the broker grows nothing onto it anyway.
        let e = appRuns(n) ? n : try executor(excluding: n)
        return try membershipResults(cliChecked("rabbitmq-queues", node: e, ["grow", n, strategy.rawValue], json: true))
    }

    @discardableResult
    public func shrink(_ node: String) throws -> [String] {
        let n = try resolve(node)
        try ensureIdentity()
        let e = try executor(excluding: n)
        return try membershipResults(cliChecked("rabbitmq-queues", node: e, ["shrink", n], json: true))
    }

    public func rebalance(_ kind: String) throws {
        try ensureIdentity()
        try cliChecked("rabbitmq-queues", node: try executor(), ["rebalance", kind])
    }

    /// A management URL to send a write to: the given node's, else the first that answers.
    func managementBase(_ node: String?) throws -> String {
        if let n = node {
            let name = try resolve(n)
            guard let base = entry(name).management else {
                throw ClusterError(.unavailable, "\(name) has no management URL in the inventory; this operation needs the management API", node: name)
            }
            return base
        }
        if http.refusal != nil { throw credentialsRefused(inventory.cluster) }
        var refused: [String] = []
        for n in orderedNodes {
            guard let base = n.management, let status = (try? http.request("GET", base: base, path: "/api/overview"))?.status else { continue }
            if status == 200 { return base }
            if status == 401 || status == 403 { refused.append(n.name) }
        }
        if !refused.isEmpty { throw credentialsRefused(refused.joined(separator: ", ")) }
        throw ClusterError(.unavailable, "no management API of \(inventory.cluster) answers; this operation needs it (credentials: \(credentialVariables))")
    }

    var credentialVariables: String { "$\(inventory.userEnv ?? "unset") / $\(inventory.passwordEnv ?? "unset")" }

    func credentialsRefused(_ where: String) -> ClusterError {
        ClusterError(.unavailable, "the management API of \(`where`) refused the credentials from \(credentialVariables); this operation needs it. "
            + "Check the user and password those variables hold. Nothing was changed")
    }

    func httpWrite(_ method: String, _ base: String, _ path: String, body: Any, timeout: Double = 30) throws -> ManagementClient.Response {
        let r: ManagementClient.Response
        do {
            r = try http.request(method, base: base, path: path, body: body, timeout: timeout)
        } catch ManagementClient.Failure.refused {
            throw credentialsRefused(base)
        } catch let f as ManagementClient.Failure {
            throw ClusterError(.unavailable, redactor.redact("\(f)"))
        }
        if r.status == 401 { throw credentialsRefused(base) }
        return r
    }

    static func pathSegment(_ s: String) -> String {
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/?#%")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }

    public func declareQueue(_ spec: QueueSpec) throws {
        try ensureIdentity()
        let base = try managementBase(spec.node)
        var args: [String: Any] = ["x-queue-type": spec.type.rawValue]
        if let size = spec.initialGroupSize, spec.type != .classic { args["x-quorum-initial-group-size"] = size }
        if spec.leaderLocator == .balanced, spec.type != .classic { args["x-queue-leader-locator"] = "balanced" }
        let r = try httpWrite("PUT", base, "/api/queues/%2F/\(Self.pathSegment(spec.name))",
                              body: ["durable": spec.durable, "auto_delete": false, "arguments": args])
        guard r.status == 201 || r.status == 204 else {
            throw ClusterError(r.status == 400 ? .dataError : .unavailable, "declaring queue '\(spec.name)' failed: HTTP \(r.status) \(r.text.prefix(300))")
        }
    }

    @discardableResult
    public func publish(queue: String, count: Int, mandatory: Bool) throws -> Int {
        let base = try managementBase(nil)
        var routed = 0
        // The management API reports whether each message was routed; without mandatory an
        // unroutable message still counts, as a client's publisher confirm would.
        for i in 0..<count {
            let r = try httpWrite("POST", base, "/api/exchanges/%2F/amq.default/publish",
                                  body: ["properties": ["delivery_mode": 2], "routing_key": queue,
                                         "payload": "warren \(i)", "payload_encoding": "string"])
            struct Routed: Decodable { var routed: Bool }
            if r.status == 200, !mandatory || r.decode(Routed.self)?.routed == true { routed += 1 }
        }
        return routed
    }

    @discardableResult
    public func consume(queue: String, max: Int) throws -> Int {
        let base = try managementBase(nil)
        let r = try httpWrite("POST", base, "/api/queues/%2F/\(Self.pathSegment(queue))/get",
                              body: ["count": max, "ackmode": "ack_requeue_false", "encoding": "auto", "truncate": 1000])
        struct Message: Decodable {}
        guard r.status == 200, let list = r.decode([Message].self) else {
            throw ClusterError(.unavailable, "consuming from '\(queue)' failed: HTTP \(r.status) \(r.text.prefix(300))")
        }
        return list.count
    }

    public func exportDefinitions(to path: String) throws {
        if let base = try? managementBase(nil), let r = try? http.request("GET", base: base, path: "/api/definitions", timeout: 30), r.status == 200 {
            // Readable by the operator only: it holds password hashes.
            guard FileManager.default.createFile(atPath: path, contents: r.body, attributes: [.posixPermissions: 0o600]) else {
                throw ClusterError(.unavailable, "cannot write the definitions to \(path)")
            }
            return
        }
        // The CLI writes the file itself, with the process's umask: made private at once.
        let (_, _) = try cliOnAnyNode("rabbitmqctl", ["export_definitions", path], json: false)
        try? FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
    }

}
