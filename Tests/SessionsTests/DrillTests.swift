import Cluster
import Foundation
import Testing
import Runbook
@testable import Sessions

/// The package's root folder.
private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().path
let drillLibrary = RunbookLibrary(roots: [packageRoot + "/runbooks"])
private let shippedDrills = (try? DrillRunner.files([packageRoot + "/drills"])) ?? []

/// Writes a drill to a temporary file.
func tempDrill(_ text: String, name: String = "custom") -> String {
    let dir = makeTempDir()
    let path = dir + "/\(name).lua"
    try! text.write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

@Suite("Drills")
struct DrillTests {
    @Test("drills ship for every runbook")
    func everyRunbookHasADrill() throws {
        let names = Set(shippedDrills.map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension })
        for runbook in drillLibrary.names() { #expect(names.contains(runbook), "no drill for \(runbook)") }
        #expect(shippedDrills.count >= 15)
    }

    @Test("every shipped drill passes", arguments: shippedDrills)
    func shippedDrillPasses(_ file: String) {
        let o = DrillRunner(library: drillLibrary).run(file: file)
        #expect(o.passed, "\(o.line)\n\(o.log.suffix(3000))")
        #expect(o.line.hasPrefix("PASS "))
    }

    @Test("a deliberately wrong expectation fails with a message saying what was expected and what happened")
    func wrongExpectationFails() {
        let file = tempDrill("""
            return {
              runbook = "rolling-restart",
              faults = { { before = "restart-n2", fault = "fail_next_boot", node = "n2" } },
              expect = { completed = true },
            }
            """, name: "wrong")
        let o = DrillRunner(library: drillLibrary).run(file: file)
        #expect(!o.passed)
        #expect(o.inputError == nil)
        #expect(o.line.hasPrefix("FAIL wrong: expected the run to complete, but it stopped at step 'restart-n2'"), "\(o.line)")
        #expect(o.line.contains("rabbit@n2 failed to boot"), "\(o.line)")
    }

    @Test("a check function returning false fails with its reason")
    func checkFails() {
        let file = tempDrill("""
            return {
              runbook = "rebalance",
              expect = { completed = true, check = function(state) return false, "orders has " .. state.queues.orders.messages end },
            }
            """, name: "check")
        let o = DrillRunner(library: drillLibrary).run(file: file)
        #expect(o.failures == ["check failed: orders has 100"], "\(o.line)")
    }

    @Test("a drill naming an unknown runbook, step or node is an input error naming the file and line",
          arguments: [
            ("runbook = \"rolling-restrat\",", "unknown runbook 'rolling-restrat'", 2),
            ("runbook = \"rolling-restart\",\n  faults = { { before = \"restart-n9\", fault = \"kill\", node = \"n2\" } },",
             "a fault names the step 'restart-n9', which runbook 'rolling-restart' does not have", 3),
            ("runbook = \"rolling-restart\",\n  faults = { { before = \"restart-n2\", fault = \"kill\", node = \"n7\" } },",
             "unknown node 'n7'; the drill's cluster has: n1, n2, n3", 3),
            ("runbook = \"rolling-restart\",\n  answers = { [\"restart-n7\"] = \"no\" },",
             "an answer names the step 'restart-n7'", 3),
            ("runbook = \"rolling-restart\",\n  faults = { { before = \"restart-n2\", fault = \"explode\", node = \"n2\" } },",
             "unknown fault 'explode'", 3),
          ])
    func inputErrors(_ body: String, _ message: String, _ line: Int) {
        let file = tempDrill("return {\n  \(body)\n  expect = { completed = true },\n}\n", name: "bad")
        let o = DrillRunner(library: drillLibrary).run(file: file)
        guard let e = o.inputError else { Issue.record("not an input error: \(o.line)"); return }
        #expect(e.file == file)
        #expect(e.line == line, "\(e)")
        #expect(e.message.contains(message), "\(e)")
        #expect(o.line.hasPrefix("FAIL bad: \(file):\(line): "), "\(o.line)")
    }

    @Test("a crash of warren mid rolling-restart resumes from the journal on the saved state and completes, each step once")
    func crashAndResume() {
        let file = tempDrill("""
            return {
              runbook = "rolling-restart",
              faults = { { after = { primitive = "drain", node = "n3" }, fault = "crash" } },
              expect = { completed = true, converged = true,
                check = function(s)
                  local drains = 0
                  for _, p in ipairs(s.primitives) do if p == "drain rabbit@n3" then drains = drains + 1 end end
                  return drains == 1 and #s.steps_done == 5, drains .. " drains, " .. #s.steps_done .. " steps"
                end },
            }
            """)
        let o = DrillRunner(library: drillLibrary).run(file: file)
        #expect(o.passed, "\(o.line)\n\(o.log.suffix(2000))")
        #expect(o.log.contains("warren crashed (simulated); `warren resume`"))
        #expect(o.log.contains("done in an earlier run"))
    }

    @Test("a fault that never fires fails the drill")
    func unfiredFault() {
        let file = tempDrill("""
            return {
              runbook = "rolling-restart",
              faults = { { after = { primitive = "force_boot" }, fault = "kill", node = "n1" } },
              expect = { completed = true },
            }
            """)
        let o = DrillRunner(library: drillLibrary).run(file: file)
        #expect(o.failures.contains { $0.contains("never fired") }, "\(o.line)")
    }

    @Test("JUnit XML lists every drill with its failure")
    func junit() {
        let ok = DrillOutcome(name: "a", file: "drills/a.lua", seconds: 0.1)
        var bad = DrillOutcome(name: "b<1>", file: "drills/b.lua")
        bad.failures = ["expected \"x\" & y"]
        let xml = DrillJUnit.render([ok, bad])
        #expect(xml.contains("<testsuite name=\"warren drills\" tests=\"2\" failures=\"1\" errors=\"0\""))
        #expect(xml.contains("<testcase classname=\"drills\" name=\"a\" file=\"drills/a.lua\" time=\"0.100\"/>"))
        #expect(xml.contains("name=\"b&lt;1&gt;\""))
        #expect(xml.contains("<failure message=\"expected &quot;x&quot; &amp; y\""))
    }

    @Test("a drill on real RabbitMQ: the simulator's knobs and faults are refused when it is loaded, and without a devcluster it says how to run it")
    func devclusterTarget() throws {
        let seeded = tempDrill("""
            return { target = { devcluster = { hosts = 3 }, seed = 4 }, runbook = "rolling-restart", expect = { completed = true } }
            """, name: "seeded")
        let o1 = DrillRunner(library: drillLibrary).run(file: seeded)
        #expect(o1.inputError?.message.contains("unknown field 'seed' in a devcluster target") == true, "\(o1.line)")

        let slow = tempDrill("""
            return {
              target = { devcluster = { hosts = 3 } },
              runbook = "rolling-restart",
              faults = { { before = "restart-n2", fault = "slow_boot", node = "n2", seconds = 5 } },
              expect = { completed = true },
            }
            """, name: "slow")
        let noHosts = DrillRunner(library: drillLibrary).run(file: slow)
        #expect(noHosts.inputError?.message.contains("runs on real RabbitMQ (target.devcluster)") == true, "\(noHosts.line)")

        let spec = try DrillSpec.load(path: slow)
        #expect(spec.devcluster == DrillDevcluster(hosts: 3, spares: 0))
        #expect(spec.demo == false)
        final class Refusing: DrillDevclusters {
            var faults: Set<String> { ["partition", "heal", "kill"] }
            func target(for spec: DrillSpec) throws -> ClusterTarget { throw Fault.Refusal("not reached") }
            func restore(_ spec: TargetSpec, sessionDirectory: String) throws -> ClusterTarget { throw Fault.Refusal("not reached") }
        }
        let o2 = DrillRunner(library: drillLibrary, devclusters: Refusing()).run(spec)
        #expect(o2.inputError?.message.contains("fault 'slow_boot' cannot be made on a real devcluster") == true, "\(o2.line)")
    }

    @Test("a fault at = \"resume\" fires between the stop and the resume (a heal), and needs resume")
    func faultAtResume() {
        let noResume = tempDrill("""
            return {
              runbook = "rolling-restart",
              faults = { { at = "resume", fault = "heal" } },
              expect = { completed = true },
            }
            """, name: "noresume")
        let o1 = DrillRunner(library: drillLibrary).run(file: noResume)
        #expect(o1.inputError?.message.contains("needs the drill to resume") == true, "\(o1.line)")

        // Without the heal the resumed run stops again at the same gate.
        let unhealed = tempDrill("""
            return {
              target = { nodes = 3, demo = false, partition_handling = "pause_minority",
                         queues = { { name = "q", type = "quorum", group_size = 3, messages = 5 } } },
              runbook = "rolling-restart",
              params = { timeout = "30" },
              faults = { { before = "restart-n1", fault = "partition", a = { "n1", "n2" }, b = { "n3" } } },
              resume = true,
              expect = { completed = true },
            }
            """, name: "unhealed")
        let o2 = DrillRunner(library: drillLibrary).run(file: unhealed)
        #expect(!o2.passed && o2.ending?.hasPrefix("stopped at 'restart-n1': failed (exit 1); resumed; stopped at 'restart-n1'") == true,
                "\(o2.ending ?? o2.line)")
        let healed = tempDrill((try? String(contentsOfFile: unhealed, encoding: .utf8))!
            .replacingOccurrences(of: "b = { \"n3\" } } },", with: "b = { \"n3\" } }, { at = \"resume\", fault = \"heal\" } },"), name: "healed")
        let o3 = DrillRunner(library: drillLibrary).run(file: healed)
        #expect(o3.passed && o3.ending == "stopped at 'restart-n1': failed (exit 1); resumed; completed", "\(o3.ending ?? "") \(o3.line)")
        #expect(DrillJUnit.render([o3]).contains("<property name=\"ending\" value=\"stopped at &apos;restart-n1&apos;: failed (exit 1); resumed; completed\"/>"))
    }
}
