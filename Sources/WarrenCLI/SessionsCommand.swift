import ArgumentParser
import Foundation
import Sessions

/// `warren sessions [list | show SESSION]`: the recorded sessions.
struct SessionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sessions",
        abstract: "List the recorded sessions, or show one's report.",
        discussion: "Sessions live in $WARREN_STATE/sessions (default $XDG_STATE_HOME/warren, else ~/.local/state/warren).",
        subcommands: [List.self, Show.self],
        defaultSubcommand: List.self
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list", abstract: "List the recorded sessions, oldest first.",
            discussion: """
                --format json prints one object: directory, sessions [{id, runbook ("shell" for a \
                shell session), target, started (UTC, ISO 8601; null when unreadable), outcome \
                ("done", "failed", "refused", "interrupted", "running", "crashed", "unreadable"; \
                for a shell "open", "closed", "killed"), stopped_at (the step; null), resumable, \
                problem (why the journal cannot be read; null)}], oldest first.
                """)

        @Option(help: "text or json.") var format: OutputFormat = .text

        func run() throws {
            let store = SessionStore()
            guard format == .json else { return Output.write(List.render(store.list(), directory: store.directory)) }
            struct Session: Encodable {
                var id: String, runbook: String, target: String, started: Nullable<String>, outcome: String
                var stopped_at: Nullable<String>, resumable: Bool, problem: Nullable<String>
            }
            struct Document: Encodable { var directory: String; var sessions: [Session] }
            let iso = ISO8601DateFormatter()
            Output.write(try OutputFormat.json(Document(directory: store.directory, sessions: store.list().map { s in
                Session(id: s.id, runbook: s.runbook, target: s.target, started: Nullable(s.started.map { iso.string(from: Date(timeIntervalSince1970: $0)) }),
                        outcome: s.outcome, stopped_at: Nullable(s.stoppedAt), resumable: s.resumable, problem: Nullable(s.problem))
            })))
        }

        /// The sessions as a table, then unreadable ones and what to do next.
        static func render(_ sessions: [SessionListing], directory: String) -> String {
            if sessions.isEmpty { return "No sessions in \(directory). `warren run RUNBOOK` records one.\n" }
            var rows = [["ID", "RUNBOOK", "TARGET", "STARTED (UTC)", "OUTCOME", "RESUMABLE"]]
            rows += sessions.map(row)
            var out = ClusterTables.table(rows)
            let unreadable = sessions.compactMap { s in s.problem.map { "\(s.id): \($0)" } }
            if !unreadable.isEmpty { out += "\n" + unreadable.joined(separator: "\n") + "\n" }
            if let latest = sessions.last(where: { $0.resumable }) {
                out += "\n`warren resume` continues \(latest.id); `warren sessions show ID` prints a report.\n"
            }
            return out
        }

        static func row(_ s: SessionListing) -> [String] {
            let outcome = s.stoppedAt.map { "\(s.outcome) in \($0)" } ?? s.outcome
            let started = s.started.map { String(ReportWriter.dateTime($0).dropLast(4)) } ?? "?"
            return [s.id, s.runbook, s.target, started, outcome, s.resumable ? "yes" : "no"]
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Print a session's report.")

        @Argument(help: "The session id, or a unique beginning of it (see `warren sessions list`).")
        var session: String

        @Flag(help: "Print the path of the session's report.html (its timeline: nodes, quorum-critical windows, steps, questions, canary rates) instead.")
        var html = false

        func run() throws {
            let store = SessionStore()
            let id = try store.resolve(session)
            if html {
                let report = try store.htmlReport(id)
                if report.writtenNow {
                    Output.error("warren: note: \(report.path) was missing or older than the journal; it was drawn now from the journal.\n")
                }
                Output.write(report.path + "\n")
                return
            }
            let report = try store.report(id)
            if report.renderedFromJournal {
                Output.error("warren: note: \(store.reportPath(id)) is missing or older than the journal; "
                    + "this report is rendered from the journal, without the final cluster state.\n")
            }
            Output.write(report.text + (report.text.utf8.last == UInt8(ascii: "\n") ? "" : "\n"))
        }
    }
}
