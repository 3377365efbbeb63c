import Cluster
import Foundation
import Runbook
import Testing
@testable import Sessions

@Suite("The sessions store, listing, show and replay")
struct StoreTests {
    @Test("the state root follows WARREN_STATE, then XDG_STATE_HOME, then ~/.local/state")
    func statePaths() {
        #expect(StatePaths(environment: ["WARREN_STATE": "/s", "XDG_STATE_HOME": "/x", "HOME": "/h"]).root == "/s")
        #expect(StatePaths(environment: ["WARREN_STATE": "", "XDG_STATE_HOME": "/x", "HOME": "/h"]).root == "/x/warren")
        #expect(StatePaths(environment: ["XDG_STATE_HOME": "relative", "HOME": "/h"]).root == "/h/.local/state/warren")
        #expect(StatePaths(environment: ["WARREN_STATE": "/s"]).sessions == "/s/sessions")
        #expect(StatePaths(environment: ["WARREN_STATE": "/s"]).locks == "/s/locks")
        #expect(StatePaths(environment: ["WARREN_STATE": "/s"]).memory == "/s/memory")
        #expect(StatePaths(environment: ["WARREN_STATE": "/s"]).history == "/s/history")
    }

    @Test("session ids sort by time")
    func idsSortByTime() {
        let a = SessionStore.makeID(date: Date(timeIntervalSince1970: 1_795_000_000))
        let b = SessionStore.makeID(date: Date(timeIntervalSince1970: 1_795_000_001))
        let c = SessionStore.makeID(date: Date(timeIntervalSince1970: 1_800_000_000))
        #expect(a.hasPrefix("20261118-") || a.hasPrefix("20261119-"))
        #expect(a.count == "20261124-203015-ab12".count)
        #expect([c, a, b].sorted() == [a, b, c])
    }

    /// Three sessions: done, interrupted, crashed in the middle of a step.
    private func threeSessions() throws -> (SessionStore, done: String, interrupted: String, crashed: String) {
        let store = SessionStore(directory: makeTempDir() + "/sessions")
        let done = try store.create(date: Date(timeIntervalSince1970: 1_795_000_000))
        try writeJournal(doneJournal(), to: store.journalPath(done))

        let interrupted = try store.create(date: Date(timeIntervalSince1970: 1_795_000_100))
        var entries = Array(doneJournal(t0: 1_795_000_100).prefix(10))
        entries.append(entry(kind: .stepStart, time: 1_795_000_111, step: "restart-n2", title: "restart rabbit@n2"))
        entries.append(entry(kind: .interrupted, time: 1_795_000_112, step: "restart-n2", message: "Ctrl-C"))
        entries.append(entry(kind: .sessionEnd, time: 1_795_000_112, outcome: "interrupted"))
        try writeJournal(entries, to: store.journalPath(interrupted))

        let crashed = try store.create(date: Date(timeIntervalSince1970: 1_795_000_200))
        try writeJournal(Array(doneJournal(t0: 1_795_000_200).prefix(12)), to: store.journalPath(crashed))
        // The crash tore the last line.
        let h = FileHandle(forWritingAtPath: store.journalPath(crashed))!
        h.seekToEndOfFile()
        h.write(Data("{\"kind\":\"primitive\",\"ti".utf8))
        h.closeFile()
        return (store, done, interrupted, crashed)
    }

    @Test("listing derives outcome and resumability: done, interrupted, crashed mid-step")
    func listing() throws {
        let (store, done, interrupted, crashed) = try threeSessions()
        let list = store.list()
        #expect(list.map(\.id) == [done, interrupted, crashed])
        #expect(list.map(\.outcome) == ["done", "interrupted", "crashed"])
        #expect(list.map(\.resumable) == [false, true, true])
        #expect(list.map(\.stoppedAt) == [nil, "restart-n2", "restart-n2"])
        #expect(list.allSatisfy { $0.runbook == "rolling-restart" && $0.target == "sim:3" })
        #expect(store.latestUnfinished()?.id == crashed)
    }

    @Test("an unreadable journal is listed with its problem, not an error")
    func unreadableJournal() throws {
        let store = SessionStore(directory: makeTempDir() + "/sessions")
        let id = try store.create()
        try "{\"kind\":\"session_start\",\"time\":1}\nnot json\n{\"kind\":\"say\",\"time\":2}\n"
            .write(toFile: store.journalPath(id), atomically: true, encoding: .utf8)
        let l = store.listing(id)
        #expect(l.outcome == "unreadable")
        #expect(!l.resumable)
        #expect(l.problem?.contains(store.journalPath(id) + ":2:") == true)
        #expect(throws: JournalError.self) { try store.report(id) }
    }

    @Test("commands run before the session starts (reading the cluster) follow its session_start, so the session lists as resumable")
    func commandsBeforeStart() throws {
        let store = SessionStore(directory: makeTempDir() + "/sessions")
        let id = try store.create()
        let journal = try JournalWriter(path: store.journalPath(id))
        try journal.append(entry(kind: .command, time: 1, primitive: "http", value: "GET /api/overview"), durable: false)
        try journal.append(entry(kind: .sessionStart, time: 2, runbook: "rolling-restart", target: "prod"))
        try journal.append(entry(kind: .stepStart, time: 3, step: "restart-n1"), durable: false)
        let entries = try JournalReader.read(store.journalPath(id))
        #expect(entries.map(\.kind) == [.sessionStart, .command, .stepStart])
        // What the writer holds is what it wrote, in the order written (the end of a run draws its
        // reports from it).
        #expect(journal.written == entries)
        let l = store.listing(id)
        #expect(l.problem == nil && l.resumable, "\(l.problem ?? "")")
        // The canary's first sample, taken before the runbook starts, is held the same way.
        let sampled = try store.create()
        let withCanary = try JournalWriter(path: store.journalPath(sampled))
        try withCanary.append(JournalEntry(.canarySample(.init(published: 5, confirmed: 5, consumed: 5)), time: 1, clock: 0), durable: false)
        try withCanary.append(entry(kind: .sessionStart, time: 2, runbook: "rolling-restart", target: "sim:3"))
        #expect(try JournalReader.read(store.journalPath(sampled)).map(\.kind) == [.sessionStart, .canarySample])
        // Reopened for a resume, the journal has begun: a command is written where it comes.
        let again = try JournalWriter(path: store.journalPath(id))
        try again.append(entry(kind: .command, time: 4, primitive: "cli"), durable: false)
        #expect(try JournalReader.read(store.journalPath(id)).last?.kind == .command)
        #expect(try entries + again.written == JournalReader.read(store.journalPath(id)))
    }

    @Test("an id may be given by a unique prefix; unknown and ambiguous ones are clear errors")
    func resolve() throws {
        let (store, done, _, crashed) = try threeSessions()
        #expect(try store.resolve(done) == done)
        // The three ids share the date; the seconds differ.
        #expect(try store.resolve(String(crashed.prefix(15))) == crashed)
        #expect(throws: SessionsError.unknownSession("1999", sessionsDirectory: store.directory)) { try store.resolve("1999") }
        let error = try #require(throws: SessionsError.self) { try store.resolve(String(done.prefix(8))) }
        guard case .ambiguousSession(_, let matches) = error else { Issue.record("\(error)"); return }
        #expect(matches.count == 3)
        #expect(SessionsError.unknownSession("x", sessionsDirectory: "/d").description.contains("warren sessions list"))
    }

    @Test("show prints report.md, or renders it from the journal when it is missing or older")
    func show() throws {
        let (store, done, _, _) = try threeSessions()
        let rendered = try store.report(done)
        #expect(rendered.renderedFromJournal)
        #expect(rendered.text.contains("- Outcome: done"))
        try ReportWriter.write(to: store.reportPath(done), entries: doneJournal(), sessionID: done, redactor: Redactor())
        let written = try store.report(done)
        #expect(!written.renderedFromJournal)
        #expect(written.text.contains("- Session: \(done)"))
    }

    @Test("show --html gives report.html, drawn from the journal when it is missing or older; without a journal it is a clear error")
    func showHTML() throws {
        let (store, done, _, _) = try threeSessions()
        let first = try store.htmlReport(done)
        #expect(first.writtenNow && first.path == store.htmlReportPath(done))
        let page = try String(contentsOfFile: first.path, encoding: .utf8)
        #expect(page.contains("<svg id=\"timeline\""))
        #expect(page.contains("data-node=\"rabbit@n2\""))
        #expect(try !store.htmlReport(done).writtenNow)

        let empty = try store.create()
        let error = try #require(throws: SessionsError.self) { try store.htmlReport(empty) }
        #expect(error == .missingFile(path: store.journalPath(empty), what: "journal, which its timeline is drawn from"))
        #expect(error.description.contains("has no journal"))
    }

    @Test("a canary sample is one compact journal line, read back as it was written")
    func canarySampleLine() throws {
        let sample = JournalEntry(.canarySample(.init(published: 120, confirmed: 118, consumed: 117)), time: 1_796_292_921.5, clock: 12.25)
        let line = String(decoding: try JSONEncoder().encode(sample), as: UTF8.self)
        let fields = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(Set(fields.keys) == ["kind", "time", "clock", "published", "confirmed", "consumed"])
        #expect(fields["kind"] as? String == "canary_sample")
        #expect(try JSONDecoder().decode(JournalEntry.self, from: Data(line.utf8)) == sample)
        let incomplete = #"{"kind":"canary_sample","time":1,"published":3}"#
        #expect(throws: (any Error).self) { try JSONDecoder().decode(JournalEntry.self, from: Data(incomplete.utf8)) }
    }

    @Test("replay at speed 0 prints the recorded output, without waiting")
    func replayInstant() throws {
        let path = makeTempDir() + "/session.cast"
        let clock = ManualClock()
        let rec = try SessionRecorder(path: path, width: 80, height: 24, title: "t", redactor: Redactor(), clock: clock.read)
        rec.output("step 1\n")
        clock.now += 30
        rec.output("Stop? [y/N] ")
        rec.input("y")
        rec.output("done\n")
        rec.close()
        var printed = ""
        var slept: [Double] = []
        Replayer.play(try CastReader.read(path), speed: 0, toTerminal: true,
                      write: { printed += $0 }, sleep: { slept.append($0) })
        #expect(printed == "step 1\r\nStop? [y/N] y\r\ndone\r\n")
        #expect(slept.isEmpty)
        printed = ""
        Replayer.play(try CastReader.read(path), speed: 1, toTerminal: false,
                      write: { printed += $0 }, sleep: { slept.append($0) })
        #expect(printed == "step 1\nStop? [y/N] y\ndone\n")
        #expect(slept.isEmpty)
    }

    @Test("replay keeps the timing, divided by the speed, with long pauses capped")
    func replayTiming() {
        let cast = Cast(header: CastHeader(version: 2, width: 80, height: 24),
                        events: [CastEvent(time: 0.5, type: "o", data: "a"), CastEvent(time: 1.0, type: "i", data: "y"),
                                 CastEvent(time: 30, type: "o", data: "b"), CastEvent(time: 31, type: "o", data: "c")],
                        truncated: false, validByteCount: 0)
        var slept: [Double] = []
        var printed = ""
        Replayer.play(cast, speed: 2, maxIdle: 2, toTerminal: true, write: { printed += $0 }, sleep: { slept.append($0) })
        #expect(printed == "abc")
        #expect(slept == [0.25, 1.0, 0.5])
    }
}

@Suite("Secrets in a whole session directory")
struct SecretsTests {
    @Test("a secret set in the redactor appears in no file of the state directory")
    func noSecretAnywhere() throws {
        let state = makeTempDir()
        let store = SessionStore(directory: StatePaths(environment: ["WARREN_STATE": state]).sessions)
        let secret = "erlang-cookie-XYZZY-42"
        let redactor = Redactor(secrets: [secret])
        let id = try store.create()

        var entries = doneJournal()
        entries[0] = entry(kind: .sessionStart, runbook: "rolling-restart", params: ["cookie": secret])
        entries[2] = entry(kind: .confirmAsked, step: "restart-n1", message: "Use cookie \(secret)?")
        entries[3] = entry(kind: .confirmAnswered, step: "restart-n1", outcome: secret)
        entries[8] = entry(kind: .note, step: "restart-n1", key: "first_restarted", value: "the cookie is \(secret)")
        try writeJournal(entries, to: store.journalPath(id), redact: redactor.redact)

        let rec = try SessionRecorder(path: store.castPath(id), width: 80, height: 24, title: "run \(secret)", redactor: redactor)
        rec.output("cookie: \(secret)\n")
        rec.output("again: erlang-cookie-")
        rec.output("XYZZY-42\n")
        rec.input(secret)
        rec.close()

        let status = ClusterStatus(clusterName: secret, members: [], running: [], nodes: [])
        try ReportWriter.write(to: store.reportPath(id), entries: try JournalReader.read(store.journalPath(id)),
                               finalStatus: status, queues: [], sessionID: id, redactor: redactor)
        try HTMLReport.write(to: store.htmlReportPath(id), entries: try JournalReader.read(store.journalPath(id)),
                             sessionID: id, redactor: redactor)

        var checked = 0
        let files = FileManager.default.enumerator(atPath: state)!.compactMap { $0 as? String }
        for file in files {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: state + "/" + file, isDirectory: &isDir), !isDir.boolValue else { continue }
            let text = String(decoding: FileManager.default.contents(atPath: state + "/" + file)!, as: UTF8.self)
            #expect(!text.contains(secret), "\(file) contains the secret")
            #expect(!text.contains("XYZZY"), "\(file) contains part of the secret")
            checked += 1
        }
        #expect(checked == 4)
        // The redacted files are still useful.
        #expect(try store.report(id).text.contains("- Parameters: cookie=***"))
        #expect(try CastReader.read(store.castPath(id)).events.contains { $0.type == "i" && $0.data == "***" })
    }
}
