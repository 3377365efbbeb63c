import Foundation

/// Puts confirmations and choices to the operator, and journals question and answer.
///
/// Where an answer comes from, in order: a plan answers itself; then the answers file (keyed to
/// the step, or the next unkeyed line); then `--yes` (never for an unsafe confirmation, never for
/// a choice); then the terminal. Without any of them the question is refused: nothing proceeds
/// silently. A confirmation takes `y`, `yes`, `n` or `no` (any case); anything else is asked
/// again on a terminal and is an input error in an answers file.
public final class Questions {
    public enum Mode: Sendable {
        /// A run: the answers file, `--yes`, the terminal.
        case run
        /// A plan: every question answers itself with its first answer.
        case plan
        /// The shell: the terminal only.
        case shell
    }

    let console: Console
    let journal: SessionJournal
    let latch: RunLatch
    var mode: Mode
    var assumeYes: Bool
    var answers: AnswerScript?

    public init(console: Console, journal: SessionJournal, latch: RunLatch, mode: Mode, assumeYes: Bool = false,
                answers: AnswerScript? = nil) {
        self.console = console
        self.journal = journal
        self.latch = latch
        self.mode = mode
        self.assumeYes = assumeYes
        self.answers = answers
    }

    /// Accepted words for yes and no.
    static let yes: Set<String> = ["y", "yes"], no: Set<String> = ["n", "no"]

    /// Asks a yes/no confirmation. Returns true for yes; a no (or no answer) stops the run with
    /// `refused(refusal)`.
    /// - Parameters:
    ///   - step: the step asking (nil in the shell).
    ///   - unsafe: the separate confirmation of an `{unsafe = true}` call: `--yes` does not answer it.
    ///   - refusal: the message of the refusal.
    public func confirm(_ text: String, step: String?, unsafe: Bool = false, refusal: String) throws -> Bool {
        if let abort = latch.abort { throw abort }
        journal.append(.question(.init(step: step, text: text, unsafe: unsafe)))
        let prompt = "? \(text) [y/N] "
        var asked = 0
        while true {
            let (raw, source, line) = try answer(prompt, step: step, unsafe: unsafe, automatic: "yes", allowYesFlag: true)
            let word = raw.lowercased()
            if Questions.yes.contains(word) || Questions.no.contains(word) || (word.isEmpty && source == "operator") {
                let yes = Questions.yes.contains(word)
                journal.append(.answer(.init(step: step, answer: yes ? "yes" : "no", source: source)))
                guard yes else { throw latch.stop(.refused(refusal)) }
                return true
            }
            if let line, let path = answers?.path {
                throw latch.stop(.usage("\(path):\(line): '\(raw)' is not an answer to \"\(text)\": write yes or no; nothing further was changed"))
            }
            asked += 1
            console.write("  please answer y (yes) or n (no); an empty answer is no\n")
            if asked >= 3 { throw latch.stop(.refused(refusal)) }
        }
    }

    /// Asks the operator to pick one of `choices` (by name or number). `--yes` does not answer it.
    public func ask(_ text: String, choices: [String], step: String?) throws -> String {
        if let abort = latch.abort { throw abort }
        journal.append(.question(.init(step: step, text: text, choices: choices)))
        let menu = choices.enumerated().map { "\($0.offset + 1)) \($0.element)" }.joined(separator: "  ")
        for _ in 0..<3 {
            let (raw, source, line) = try answer("? \(text) \(menu): ", step: step, unsafe: false, automatic: choices[0],
                                                 allowYesFlag: false)
            let pick = choices.first { $0.lowercased() == raw.lowercased() }
                ?? Int(raw).flatMap { $0 >= 1 && $0 <= choices.count ? choices[$0 - 1] : nil }
            if let pick {
                journal.append(.answer(.init(step: step, answer: pick, source: source)))
                return pick
            }
            if let line, let path = answers?.path {
                throw latch.stop(.usage("\(path):\(line): '\(raw)' is not one of \(choices.joined(separator: ", ")) (asked: \"\(text)\"); nothing further was changed"))
            }
            console.write("  '\(raw)' is not one of: \(choices.joined(separator: ", "))\n")
        }
        throw latch.stop(.refused("no valid answer to \"\(text)\"\(step.map { " in step '\($0)'" } ?? "")"))
    }

    /// One raw answer and where it came from (`plan`, `answers` with its line, `yes-flag`, `operator`).
    private func answer(_ prompt: String, step: String?, unsafe: Bool, automatic: String,
                        allowYesFlag: Bool) throws -> (String, String, Int?) {
        if mode == .plan {
            console.write("\(prompt)\(automatic) (plan)\n")
            return (automatic, "plan", nil)
        }
        if mode == .run, var script = answers, let a = script.next(step: step ?? "", unsafe: unsafe) {
            answers = script
            console.write("\(prompt)\(a.answer) (from \((script.path as NSString).lastPathComponent))\n")
            return (a.answer, "answers", a.line)
        }
        if mode == .run && assumeYes && allowYesFlag && !unsafe {
            console.write("\(prompt)\(automatic) (--yes)\n")
            return (automatic, "yes-flag", nil)
        }
        switch console.ask(prompt) {
        case .line(let l): return (l.trimmingCharacters(in: .whitespaces), "operator", nil)
        case .interrupted: throw latch.stop(.interrupted)
        case .unavailable:
            console.write("\n")
            let where_ = step.map { " in step '\($0)'" } ?? ""
            let question = prompt.trimmingCharacters(in: .whitespaces).replacing("? ", with: "", maxReplacements: 1)
                .replacing(" [y/N]", with: "")
            let why: String
            switch mode {
            case .shell:
                why = "stdin is not a terminal, so nobody can answer; nothing was sent"
            default:
                if unsafe {
                    why = "an unsafe confirmation needs an operator at a terminal or an answer keyed '\(step ?? "")#unsafe' in --answers (--yes does not cover it)"
                } else if !allowYesFlag {
                    why = "a choice needs an operator at a terminal or an answer in --answers (--yes does not choose)"
                } else {
                    why = "stdin is not a terminal and neither --yes nor an answer in --answers was given"
                }
            }
            throw latch.stop(.refused("no answer to \"\(question)\"\(where_): \(why); the step stopped before changing anything after this question"))
        }
    }
}
