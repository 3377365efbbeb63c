import Cluster
import Foundation
import Runbook

/// Shows what a session waits for, so that it is never silent.
///
/// - On a terminal: one live line, redrawn twice a second, with how long the wait has lasted
///   against its limit, the last state seen, and the call under way inside it (a gate polling
///   `cluster_status`). It continues an open primitive line (`· rabbit@n1 await_running …`).
/// - In the recording (and on a pipe, which has no live line): a line when a wait has lasted a
///   second, and one each time what blocks it changes.
/// - In the journal: a `wait` entry each time the state of a wait that has lasted a second
///   changes, and when it ends.
///
/// Every text shown goes through ``write(_:)`` so that the live line and the output never mix.
public final class WaitDisplay: @unchecked Sendable {
    public let waits = Waits()
    /// A wait shorter than this shows nothing.
    static let threshold = 1.0

    /// One place text goes to: the terminal, or the recording.
    private struct Stream {
        var out: (String) -> Void
        /// The text after the last newline.
        var partial = ""
        /// A wait line ended an open line there: the next continuation repeats the line's start.
        var broken = false

        mutating func write(_ text: String) {
            if text.isEmpty { return }
            if broken && !text.hasPrefix("\n") { out(partial) }
            broken = false
            out(text)
            if let nl = text.lastIndex(of: "\n") {
                partial = String(text[text.index(after: nl)...])
            } else {
                partial += text
            }
        }

        mutating func line(_ text: String) {
            if !partial.isEmpty {
                out("\n")
                broken = true
            }
            out(text + "\n")
        }
    }

    private let lock = NSLock()
    private var terminal: Stream
    private var recording: Stream?
    private let live: Bool
    private let width: () -> Int
    private let journal: ((JournalEvent) -> Void)?
    private let step: () -> String?
    /// The live text now drawn after the terminal's partial line.
    private var drawn = ""
    /// Waits whose first line was written, with the state that line showed.
    private var announced: [Int: String] = [:]
    private var ticker: Thread?
    private var stopped = false

    /// - Parameters:
    ///   - terminal: where output goes (already redacted).
    ///   - live: whether the terminal shows a live line (an interactive terminal).
    ///   - record: where the recording takes output (nil: no recording).
    ///   - journal: where `wait` entries go (nil: not journaled).
    ///   - step: the step running now, for the journal.
    public init(terminal: @escaping (String) -> Void, live: Bool, width: @escaping () -> Int,
                record: ((String) -> Void)?, journal: ((JournalEvent) -> Void)?, step: @escaping () -> String? = { nil }) {
        self.terminal = Stream(out: terminal)
        self.recording = record.map { Stream(out: $0) }
        self.live = live
        self.width = width
        self.journal = journal
        self.step = step
        waits.onChange = { [weak self] wait, change in self?.changed(wait, change) }
    }

    deinit { stop() }

    /// Shows and records text (output of the session).
    public func write(_ text: String) {
        lock.withLock {
            clearLive()
            terminal.write(text)
            recording?.write(text)
            drawLive()
        }
    }

    /// Records text the terminal already shows (the line editor echoed it).
    public func recordOnly(_ text: String) {
        lock.withLock { recording?.write(text) }
    }

    /// Stops the live line (the session ends).
    public func stop() {
        lock.withLock {
            clearLive()
            stopped = true
        }
    }

    // MARK: Changes (on the waiting thread)

    private func changed(_ wait: Waits.Wait, _ change: Waits.Change) {
        let elapsed = wait.elapsed()
        switch change {
        case .began:
            startTicker()
        case .state:
            guard elapsed >= Self.threshold else { return }
            lock.withLock { announce(wait) }
            journal?(.wait(.init(step: step(), what: wait.what, state: wait.state, elapsed: elapsed, limit: wait.limit, outcome: "waiting")))
        case .ended(let ok):
            let wasAnnounced = lock.withLock { () -> Bool in
                let was = announced.removeValue(forKey: wait.id) != nil
                if was {
                    let line = "    … \(wait.what): \(ok ? "done" : "ended without success") after \(Self.format(elapsed))"
                    if !live { terminal.line(line) }
                    recording?.line(line)
                }
                clearLive()
                drawLive()
                return was
            }
            if wasAnnounced || elapsed >= Self.threshold {
                journal?(.wait(.init(step: step(), what: wait.what, state: wait.state, elapsed: elapsed, limit: wait.limit,
                                     outcome: ok ? "ok" : "failed")))
            }
        }
    }

    /// Writes the wait's line to the recording (and a pipe) if it has not been written with this
    /// state yet. Under the lock.
    private func announce(_ wait: Waits.Wait) {
        guard announced[wait.id] != wait.state else { return }
        let first = announced[wait.id] == nil
        announced[wait.id] = wait.state
        var line = first ? "    … waiting for \(wait.what)" + (wait.limit.map { " (at most \(Self.format($0)))" } ?? "")
                         : "    … \(wait.what) after \(Self.format(wait.elapsed()))"
        if !wait.state.isEmpty { line += ": \(wait.state)" }
        clearLive()
        if !live { terminal.line(line) }
        recording?.line(line)
        drawLive()
    }

    // MARK: The ticker

    private func startTicker() {
        lock.withLock {
            guard ticker == nil, !stopped else { return }
            let t = Thread { [weak self] in
                while self?.tick() ?? false { Thread.sleep(forTimeInterval: 0.5) }
            }
            t.name = "warren wait display"
            ticker = t
            t.start()
        }
    }

    /// One tick: announces waits that passed the threshold, redraws the live line. False once stopped.
    private func tick() -> Bool {
        lock.withLock {
            if stopped { return false }
            for w in waits.current where w.elapsed() >= Self.threshold { announce(w) }
            clearLive()
            drawLive()
            return true
        }
    }

    // MARK: The live line (under the lock)

    private func clearLive() {
        guard live, !drawn.isEmpty else { return }
        terminal.out("\r\u{1B}[K" + terminal.partial)
        drawn = ""
    }

    private func drawLive() {
        guard live, !stopped, let text = liveText() else { return }
        let room = width() - terminal.partial.count - 1
        guard room >= 12 else { return }
        let shown = text.count > room ? String(text.prefix(room - 1)) + "…" : text
        terminal.out(shown)
        drawn = shown
    }

    private func liveText() -> String? {
        let stack = waits.current
        guard let outer = stack.first, outer.elapsed() >= Self.threshold else { return nil }
        var text = terminal.partial.isEmpty ? "  … \(outer.what): " : " "
        text += Self.format(outer.elapsed()) + (outer.limit.map { " of \(Self.format($0))" } ?? "")
        let state = stack.last { !$0.state.isEmpty }?.state ?? ""
        if !state.isEmpty { text += " · \(state)" }
        if let inner = stack.last, inner.id != outer.id, inner.elapsed() >= Self.threshold {
            text += " · \(inner.what) \(Self.format(inner.elapsed()))" + (inner.limit.map { " of \(Self.format($0))" } ?? "")
        }
        return text
    }

    /// `7 s`, `2 min 05 s`.
    static func format(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.down))
        return s < 60 ? "\(s) s" : "\(s / 60) min \(String(format: "%02d", s % 60)) s"
    }
}
