import Cluster
import Foundation
import Testing
@testable import Runbook
import Simulator

@Suite("Feature flags from Lua: cluster.feature_flags() reads, cluster.enable_feature_flags() changes")
struct FeatureFlagBindingTests {
    @Test("a runbook lists the disabled flags, enables them all and then one by name; both are journaled changes")
    func runbookEnables() throws {
        let drill = Drill()
        drill.sim.setFeatureFlag("user_limits", enabled: false)
        drill.sim.setFeatureFlag("stream_queue", enabled: false)
        let source = tempRunbook("""
            runbook { name = "flags", summary = "enable every stable feature flag" }
            step{ id = "enable", title = "enable the disabled flags", run = function()
              local off = {}
              for _, f in ipairs(cluster.feature_flags()) do
                assert(f.stability == "stable" and f.provided_by ~= nil and f.desc ~= nil)
                if f.state ~= "enabled" then off[#off + 1] = f.name end
              end
              note("disabled", table.concat(off, ","))
              cluster.enable_feature_flags()
              for _, f in ipairs(cluster.feature_flags()) do assert(f.state == "enabled", f.name) end
              cluster.enable_feature_flags("quorum_queue")
            end }
            """, name: "flags")
        let r = try drill.run("flags", source: source)
        #expect(r.error == nil, "\(r.error.map { "\($0)" } ?? "")")
        #expect(try drill.sim.featureFlags().allSatisfy { $0.state == .enabled })
        let calls = drill.journal.compactMap { e -> [String: String]? in
            if case .primitiveCall(let c) = e.event, c.primitive == "enable_feature_flags" { return c.args } else { return nil }
        }
        #expect(calls == [["flags": "all"], ["flags": "quorum_queue"]])
        #expect(drill.journal.contains { if case .note(let n) = $0.event { return n.key == "disabled" && n.value == "stream_queue,user_limits" } else { return false } })
    }

    @Test("an unknown flag fails the call with the CLI's words")
    func unknownFlag() throws {
        let sim = Simulator(nodes: 3, seed: 7)
        let rig = try ShellRig(backend: sim, confirmsChanges: true, answers: [])
        let error = rig.line("cluster.enable_feature_flags('nosuchflag')")
        #expect(error?.contains("This feature flag is not supported by node rabbit@n1") == true, "\(error ?? "no error")")
    }

    @Test("at the shell on a real cluster enabling flags is a change: it is not asked as a destructive call")
    func shellDoesNotAsk() throws {
        let sim = Simulator(nodes: 3, seed: 7)
        sim.setFeatureFlag("user_limits", enabled: false)
        let rig = try ShellRig(backend: sim, confirmsChanges: true, answers: [])
        #expect(rig.line("cluster.enable_feature_flags()") == nil)
        #expect(!rig.console.text.contains("[y/N]"))
        #expect(rig.calls == ["enable_feature_flags "])
        #expect(try sim.featureFlags().allSatisfy { $0.state == .enabled })
    }
}
