import Cluster
import Foundation
@testable import Runbook
import Sessions
import Simulator
import Testing

/// Gates that fail say exactly what blocks them and what to do.
@Suite("Gates name their blockers")
struct GateTests {
    func run(_ body: String, prepare: (Simulator) throws -> Void = { _ in }) throws -> (RunResult, String) {
        let drill = Drill()
        try prepare(drill.sim)
        try drill.target.persist()
        let source = tempRunbook("runbook { name = \"gate-check\" }\nlocal n1, n2, n3 = table.unpack(cluster.nodes{ all = true })\nstep(\"check\", function()\nconfirm(\"go?\")\n\(body)\nend)\n")
        let result = try drill.run("gate-check", source: source)
        return (result, drill.lastConsole.text)
    }

    @Test("quorum_safe lists each critical queue with its members online and down")
    func quorumSafe() throws {
        let (result, text) = try run("fault.kill(n2)\ngate.quorum_safe(n1, { timeout = 2 })", prepare: { _ in })
        let message = result.error?.description ?? ""
        #expect(message.contains("gate quorum_safe: rabbit@n1 is quorum-critical for"), "\(message)\n\(text)")
        #expect(message.contains(": 2 of 3 members online; down: rabbit@n2"), "\(message)")
        #expect(message.contains("rabbit@n1 was not touched"))
    }

    @Test("cluster_healthy lists the drained node, the alarm and the node down, each with what to do")
    func clusterHealthy() throws {
        let (result, _) = try run("n1:drain()\nfault.kill(n3)\ngate.cluster_healthy{ timeout = 1 }", prepare: { sim in
            try sim.inject(.alarm(node: sim.nodeNames[1], kind: "disk", raised: true))
        })
        let message = result.error?.description ?? ""
        #expect(message.contains("not running: rabbit@n3 (stopped); start it or wait for the boot"), "\(message)")
        #expect(message.contains("disk alarm on rabbit@n2: publishers are blocked; free disk space there"), "\(message)")
        #expect(message.contains("rabbit@n1 is drained (under maintenance): it serves no clients; revive it (`n1:revive()`)"), "\(message)")
    }

    @Test("node_running fails for a drained node, and status does not call the cluster healthy")
    func drainedNode() throws {
        let (result, text) = try run("n1:drain()\nsay(cluster.status().healthy and 'HEALTHY' or 'NOT HEALTHY')\ngate.node_running(n1, { timeout = 1 })")
        #expect(text.contains("NOT HEALTHY"))
        let message = result.error?.description ?? ""
        #expect(message.contains("gate node_running: rabbit@n1 is not serving after"), "\(message)")
        #expect(message.contains("running but drained (under maintenance)"))
        #expect(message.contains("Revive it"))
    }

    @Test("wait_until's timeout says what the condition last saw (its second value)")
    func waitUntilState() throws {
        let (result, _) = try run("wait_until(function() return false, 'replicas 1 of 3' end, { timeout = 2, every = 1, what = 'the replicas' })")
        #expect(result.error?.description.contains("timed out after 2.0s waiting for the replicas (last seen: replicas 1 of 3)") == true,
                "\(result.error?.description ?? "")")
    }
}
