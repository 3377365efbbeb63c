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
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the recorded sessions, oldest first.")

        func run() throws {
            let store = SessionStore()
            let sessions = store.list()
            guard !sessions.isEmpty else {
                print("No sessions in \(store.directory). `warren run RUNBOOK` records one.")
                return
            }
            var rows = [["ID", "RUNBOOK", "TARGET", "STARTED (UTC)", "OUTCOME", "RESUMABLE"]]
            for s in sessions {
                var outcome = s.outcome
                if let step = s.stoppedAt { outcome += " in \(step)" }
                let started = s.started.map { String(ReportWriter.dateTime($0).dropLast(4)) } ?? "?"
                rows.append([s.id, s.runbook, s.target, started, outcome, s.resumable ? "yes" : "no"])
            }
            let widths = rows[0].indices.map { i in rows.map { $0[i].count }.max() ?? 0 }
            for row in rows {
                let line = row.enumerated().map { i, cell in
                    i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
                }.joined(separator: "  ")
                print(line)
            }
            let unreadable = sessions.filter { $0.problem != nil }
            if !unreadable.isEmpty {
                print("")
                for s in unreadable { print("\(s.id): \(s.problem!)") }
            }
            if let latest = sessions.last(where: \.resumable) {
                print("\n`warren resume` continues \(latest.id); `warren sessions show ID` prints a report.")
            }
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Print a session's report.")

        @Argument(help: "The session id, or a unique beginning of it (see `warren sessions list`).")
        var session: String

        func run() throws {
            let store = SessionStore()
            do {
                let id = try store.resolve(session)
                let report = try store.report(id)
                if report.renderedFromJournal {
                    sessionsCommandError("note: \(store.reportPath(id)) is missing or older than the journal; "
                        + "this report is rendered from the journal, without the final cluster state.")
                }
                print(report.text, terminator: report.text.utf8.last == UInt8(ascii: "\n") ? "" : "\n")
            } catch {
                sessionsCommandError(String(describing: error))
                throw ExitCode(2)
            }
        }
    }
}

/// Prints `warren: message` on standard error.
private func sessionsCommandError(_ message: String) {
    FileHandle.standardError.write(Data("warren: \(message)\n".utf8))
}
