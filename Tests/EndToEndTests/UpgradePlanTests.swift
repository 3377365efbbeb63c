import Foundation
import Testing

/// `warren upgrade-plan` through the built binary.
@Suite("warren upgrade-plan, end to end")
struct UpgradePlanTests {
    func json(_ output: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
    }

    @Test("--from 3.10.8 --to 4.0.5 prints four rolling upgrades and, as JSON, the documented keys")
    func betweenReleases() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let text = try w.run(["upgrade-plan", "--from", "3.10.8", "--to", "4.0.5"])
        #expect(text.code == 0, "\(text.output)")
        #expect(text.output.contains("Upgrade 3.10.8 -> 4.0.5: 4 rolling upgrades"))
        #expect(text.output.contains("4. 3.13.7 -> 4.0.5"))
        #expect(text.output.contains("Classic queue mirroring is removed"))
        let r = try w.run(["upgrade-plan", "--from", "3.10.8", "--to", "4.0.5", "--format", "json"])
        #expect(r.code == 0)
        let doc = try json(r.output)
        #expect(Set(doc.keys) == ["from", "to", "direct", "hops", "mixed_version_window", "cluster"])
        #expect(doc["cluster"] is NSNull && doc["direct"] as? Bool == false)
        let hops = try #require(doc["hops"] as? [[String: Any]])
        #expect(hops.compactMap { $0["to"] as? String } == ["3.11.28", "3.12.14", "3.13.7", "4.0.5"])
        #expect(Set(hops[0].keys) == ["from", "to", "kind", "enable_first", "block_boot", "erlang", "erlang_shared", "changes", "source"])
        #expect(hops.allSatisfy { Set($0.keys) == Set(hops[0].keys) })
        #expect(hops[1]["erlang"] is NSNull && hops[1]["erlang_shared"] is NSNull, "3.12.14 is not in the Erlang matrix")
    }

    @Test("--to on a simulated cluster reads its versions and flags, and reports no mirroring policy")
    func fromTarget() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let r = try w.run(["upgrade-plan", "--to", "4.0.5", "--sim", "3", "--format", "json"])
        #expect(r.code == 0, "\(r.output)")
        let cluster = try #require(try json(r.output)["cluster"] as? [String: Any])
        #expect((cluster["nodes"] as? [[String: Any]])?.compactMap { $0["rabbitmq"] as? String } == ["3.10.8", "3.10.8", "3.10.8"])
        #expect((cluster["disabled_stable_flags"] as? [String])?.isEmpty == true)
        #expect((cluster["mirroring_policies"] as? [Any])?.isEmpty == true)
        #expect(cluster["metadata_store"] as? String == "mnesia")
        let text = try w.run(["upgrade-plan", "--to", "4.0.5", "--sim", "3"])
        #expect(text.output.contains("Policies setting classic queue mirroring (ignored from 4.0): none."))
    }

    @Test("bad input exits 2 with a clear message: unknown or malformed release, downgrade, --from with a target")
    func badInput() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let cases: [([String], String)] = [
            (["--from", "3.10.8", "--to", "4.3.0"], "4.3.0 is not in warren's version table (it knows 3.10.0 to 4.2.9)"),
            (["--from", "3.10", "--to", "4.0.5"], "'3.10' is not a RabbitMQ version: expected MAJOR.MINOR.PATCH"),
            (["--from", "4.0.5", "--to", "3.13.7"], "3.13.7 is older than 4.0.5: RabbitMQ does not support downgrades"),
            (["--to", "3.9.0", "--sim", "3"], "3.9.0 is not in warren's version table"),
            (["--from", "3.10.8", "--to", "4.0.5", "--sim", "3"], "--from plans between two releases"),
        ]
        for (args, message) in cases {
            let r = try w.run(["upgrade-plan"] + args)
            #expect(r.code == 2, "\(args): \(r.output)")
            #expect(r.output.contains(message), "\(args): \(r.output)")
        }
    }

    @Test("the cluster's own release is nothing to plan")
    func alreadyThere() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let r = try w.run(["upgrade-plan", "--to", "3.10.8", "--sim", "3"])
        #expect(r.code == 0 && r.output.contains("Already on 3.10.8: nothing to upgrade."), "\(r.output)")
    }
}
