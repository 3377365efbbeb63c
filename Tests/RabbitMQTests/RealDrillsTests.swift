import Foundation
@testable import RabbitMQ
import Testing

/// `warren drill drills/real`: the drills on real RabbitMQ (a hosts devcluster warren makes for
/// them), and their simulator twins in drills/ (the same file but for its target).
@Suite("Drills on real RabbitMQ (drills/real, on a 3-host devcluster warren makes) end as their simulator twins do",
       .serialized, .enabled(if: HostsDevCluster.unavailable == nil, "\(HostsDevCluster.unavailable ?? "")"))
struct RealDrillsTests {
    static let realDirectory = DevClusterFixture.packageRoot + "/drills/real"

    /// name -> how the run ended, from a JUnit report of `warren drill`.
    static func endings(junit path: String) -> [String: String] {
        let xml = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        var out: [String: String] = [:]
        let pattern = try! NSRegularExpression(pattern: #"<testcase classname="drills" name="([^"]+)"[^>]*>\s*<properties><property name="ending" value="([^"]*)"/>"#)
        for m in pattern.matches(in: xml, range: NSRange(xml.startIndex..., in: xml)) {
            out[String(xml[Range(m.range(at: 1), in: xml)!])] = String(xml[Range(m.range(at: 2), in: xml)!])
                .replacingOccurrences(of: "&apos;", with: "'").replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&amp;", with: "&")
        }
        return out
    }

    @Test("every drill in drills/real passes on real RabbitMQ and its twin in drills/ on the simulator; each pair ends the same way (completed, or stopped at the same step with the same outcome and exit code); the devcluster is gone afterwards")
    func realDrillsEndAsTheirTwins() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.realDirectory).filter { $0.hasSuffix(".lua") }.sorted()
        try #require(names.count >= 4, "drills/real has \(names)")
        let scratch = NSTemporaryDirectory() + "warren-real-drills-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: scratch) }

        let real = DevClusterFixture.run(DevClusterFixture.warrenBinary, ["drill", "--junit", scratch + "/real.xml", Self.realDirectory],
                                         env: ["WARREN_STATE": scratch + "/state", "WARREN_RUNBOOKS": DevClusterFixture.packageRoot + "/runbooks"],
                                         timeout: 2400)
        // What the CI log keeps: each drill's line and each devcluster warren made.
        for line in real.output.split(separator: "\n") where line.hasPrefix("devcluster: ") || line.hasPrefix("PASS ") || line.hasPrefix("FAIL ") {
            print("real drills: \(line)")
        }
        // Whatever happened, the devcluster warren made for the drills must be gone.
        let made = real.output.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("devcluster: "), let r = line.range(of: " in /") else { return nil }
            return String(line[line.index(before: r.upperBound)...].split(separator: " ").first ?? "")
        }
        #expect(!made.isEmpty, "warren drill did not say which devcluster it made:\n\(real.output)")
        for dir in Set(made) {
            let prefix = DevCluster.namespacePrefix(dir: dir)
            let left = HostsDevCluster.leftovers(prefix: prefix, dir: dir, before: HostsDevCluster.footprint(prefix: prefix, dir: dir))
            if !left.isEmpty { _ = try? DevCluster.downHosts(dir: dir) }
            #expect(left.isEmpty, "the drills' devcluster \(dir) left \(left)")
        }
        #expect(real.code == 0, "\(real.output.suffix(6000))")
        for n in names {
            let name = String(n.dropLast(4))
            #expect(real.output.contains("PASS \(name) ("), "\(name) on real RabbitMQ:\n\(real.output.suffix(4000))")
        }

        let twins = names.map { DevClusterFixture.packageRoot + "/drills/" + $0 }
        let sim = DevClusterFixture.run(DevClusterFixture.warrenBinary, ["drill", "--junit", scratch + "/sim.xml"] + twins,
                                        env: ["WARREN_STATE": scratch + "/state"], timeout: 300)
        #expect(sim.code == 0, "the simulator twins:\n\(sim.output)")
        let realEndings = Self.endings(junit: scratch + "/real.xml"), simEndings = Self.endings(junit: scratch + "/sim.xml")
        for n in names {
            let name = String(n.dropLast(4))
            #expect(realEndings[name] != nil && realEndings[name] == simEndings[name],
                    "\(name): on real RabbitMQ \(realEndings[name] ?? "no ending"), on the simulator \(simEndings[name] ?? "no ending")")
        }
    }
}
