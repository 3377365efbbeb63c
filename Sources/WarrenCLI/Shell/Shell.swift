import Cluster
import Foundation
import LineEditor
import Lua
import Runbook
import Sessions

/// Output of the shell: redacted, shown, recorded. Questions go through the line editor.
final class ShellTerminal: Terminal, Console {
    let editor: LineEditor
    var recorder: SessionRecorder?
    let redactor: Redactor

    init(editor: LineEditor, redactor: Redactor) {
        self.editor = editor
        self.redactor = redactor
    }

    var isInteractive: Bool { editor.isInteractive }

    var size: (width: Int, height: Int) {
        var ws = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 { return (Int(ws.ws_col), Int(ws.ws_row)) }
        return (100, 30)
    }

    /// Shows what the shell waits for; once set, all output goes through it.
    var display: WaitDisplay?

    func write(_ text: String) {
        let clean = redactor.redact(text)
        if let display { return display.write(clean) }
        Output.write(clean)
        recorder?.output(clean)
    }

    /// Records what the terminal showed without printing it (the editor echoed it already).
    func record(_ text: String) {
        if let display { return display.recordOnly(redactor.redact(text)) }
        recorder?.output(redactor.redact(text))
    }

    func ask(_ prompt: String) -> ConsoleAnswer {
        guard editor.isInteractive else {
            write(prompt)
            return .unavailable
        }
        let read = editor.readLine(prompt: prompt)
        if LuaState.terminationSignal != nil { return .interrupted }
        switch read {
        case .line(let l):
            record(prompt + l + "\n")
            return .line(l)
        case .interrupted:
            record(prompt + "^C\n")
            return .interrupted
        case .endOfInput: return .unavailable
        }
    }
}

/// The warren shell: shell commands, `=expr`, and Lua chunks against one cluster target.
final class Shell {
    let target: ClusterTarget
    let editor: LineEditor
    let terminal: ShellTerminal
    let lua: LuaState
    let library: RunbookLibrary
    let paths: StatePaths
    let shortNames: [String: String]
    /// The recording of this shell session and the guard of its primitives.
    let session: ShellSession
    private var buffer: [String] = []

    static let commands: [(name: String, usage: String, help: String)] = [
        ("help", "help", "this list"),
        ("status", "status", "the cluster at a glance"),
        ("nodes", "nodes", "every node: VM, app, maintenance, replicas, leaders"),
        ("queues", "queues [classic|quorum|stream]", "queues: type, leader, members, online, messages"),
        ("runbooks", "runbooks", "the runbooks found, with their summaries"),
        ("run", "run NAME [k=v ...] [--yes]", "run a runbook step by step (recorded, resumable)"),
        ("plan", "plan NAME [k=v ...]", "the steps and primitives a runbook would call; changes nothing"),
        ("resume", "resume [SESSION] [--yes]", "continue an unfinished session"),
        ("sessions", "sessions", "the recorded sessions"),
        ("preflight", "preflight", "the source document's requirements, checked"),
        ("exit", "exit", "leave the shell (also Ctrl-D)"),
    ]
    static let commandNames = Set(commands.map(\.name) + ["quit"])

    init(target: ClusterTarget, paths: StatePaths, library: RunbookLibrary) throws {
        self.target = target
        self.paths = paths
        self.library = library
        let interactive = isatty(0) == 1
        editor = LineEditor(historyFile: interactive ? paths.history : nil)
        terminal = ShellTerminal(editor: editor, redactor: target.redactor)
        session = try ShellSession(runner: Targets.runner(terminal: terminal, paths: paths, library: library), target: target,
                                   console: terminal, size: terminal.size)
        terminal.recorder = session.recorder
        terminal.display = session.showWaits(terminal: { Output.write($0) }, live: editor.isInteractive,
                                             width: { [terminal] in terminal.size.width })
        lua = LuaState()
        lua.installRequire(roots: library.requireRoots)
        shortNames = shortNodeNames(target.backend.nodeNames)
        lua.output = { [terminal] in terminal.write($0) }
        session.bindings.install(into: lua)
        // Node globals: n1, n2... (short names that are Lua identifiers and not taken).
        for (full, short) in shortNames.sorted(by: { $0.key < $1.key })
        where Shell.isIdentifier(short) && lua.global(short).isNil {
            lua.setGlobal(short, session.bindings.nodeValue(full))
        }
        editor.completion = { [unowned self] line in complete(line) }
    }

    static func isIdentifier(_ s: String) -> Bool {
        guard let f = s.first, f.isLetter || f == "_" else { return false }
        return s.allSatisfy { ($0.isLetter || $0.isNumber || $0 == "_") && $0.isASCII }
    }

    // MARK: The loop

    /// Reads and runs lines until `exit` or end of input. Returns the exit code: 0; 1 when a
    /// line of a piped script failed (the script stops there); 3 when SIGTERM or SIGHUP ended it.
    func loop() -> Int32 {
        if editor.isInteractive {
            terminal.write("warren shell on \(target.backend.targetDescription) — `help` lists commands; Lua works too (=expr prints)\n")
        }
        defer {
            session.close()
            editor.close()
        }
        while true {
            if LuaState.terminationSignal != nil { return Exit.interrupted }
            let prompt = buffer.isEmpty ? promptText() : ">> "
            LuaState.discardWaitingInterrupt()
            let read = editor.readLine(prompt: prompt)
            if LuaState.terminationSignal != nil { return Exit.interrupted }
            switch read {
            case .endOfInput:
                if editor.isInteractive { terminal.write("\n") }
                if !buffer.isEmpty && !editor.isInteractive {
                    terminal.write("error: the input ended inside an unfinished Lua chunk\n")
                    return Exit.failed
                }
                return 0
            case .interrupted:
                if !buffer.isEmpty { buffer = [] }
                terminal.record(prompt + "^C\n")
                continue
            case .line(let line):
                if editor.isInteractive { terminal.record(prompt + line + "\n") }
                session.latch.reset()
                failed = false
                if buffer.isEmpty, let done = handleCommand(line) {
                    if editor.isInteractive && !line.trimmingCharacters(in: .whitespaces).isEmpty { editor.addHistory(line) }
                    session.persist()
                    if done { return 0 }
                    if failed && !editor.isInteractive { return stopScript(line) }
                    continue
                }
                buffer.append(line)
                if evaluate() && editor.isInteractive {
                    editor.addHistory(buffer.joined(separator: "\n"))
                }
                session.persist()
                if let abort = session.latch.abort, !failed {
                    // A refusal caught by a pcall inside the chunk still counts.
                    terminal.write("error: \(abort.description)\n")
                    failed = true
                }
                if !awaitingMore { buffer = [] }
                if failed && !editor.isInteractive { return stopScript(line) }
            }
        }
    }

    /// Whether the line just run failed (an error was shown).
    var failed = false

    /// A piped script stops at its first failing line.
    private func stopScript(_ line: String) -> Int32 {
        terminal.write("warren: stopped at the failing line `\(line.prefix(80))`; the lines after it were not run\n")
        return Exit.failed
    }

    private var awaitingMore = false

    /// The prompt: target and health, e.g. `warren sim:3 [3/3 up]> `.
    func promptText() -> String {
        guard let s = try? target.backend.status() else { return "warren \(target.backend.targetDescription) [?]> " }
        var health = "\(s.running.count)/\(s.members.count) up"
        if !s.partitions.isEmpty { health += ", partitioned" }
        if !s.alarms.isEmpty { health += ", alarm" }
        return "warren \(target.backend.targetDescription) [\(health)]> "
    }

    // MARK: Lua

    /// Runs the buffered chunk. Returns true when the input was complete (ran or failed).
    private func evaluate() -> Bool {
        awaitingMore = false
        var text = buffer.joined(separator: "\n")
        var expression = false
        if buffer.count == 1, text.hasPrefix("=") {
            text = "return " + text.dropFirst()
            expression = true
        }
        // A lone unknown word is more likely a mistyped command than a nil variable.
        if buffer.count == 1, Shell.isIdentifier(text.trimmingCharacters(in: .whitespaces)),
           lua.global(text.trimmingCharacters(in: .whitespaces)).isNil, !suggestion(for: text).isEmpty {
            terminal.write(suggestion(for: text))
            failed = true
            return true
        }
        var chunk: LuaFunction?
        if !expression, buffer.count == 1, let f = try? lua.load("return " + text, chunkName: "stdin") {
            chunk = f
        }
        do {
            let fn = try chunk ?? lua.load(text, chunkName: "stdin")
            let results = try lua.call(fn, [])
            if !results.isEmpty {
                terminal.write(results.map { lua.render($0) }.joined(separator: "\t") + "\n")
            }
            return true
        } catch LuaError.syntax(_, _, let message, let incomplete) {
            if incomplete {
                awaitingMore = true
                return false
            }
            terminal.write("syntax error: \(message)\n" + suggestion(for: text))
            failed = true
            return true
        } catch let e as LuaError {
            failed = true
            switch e {
            case .runtime(let message, let traceback, _):
                terminal.write("error: \(message)\n")
                let frames = traceback.split(separator: "\n").filter { !$0.contains("[C]: in ?") }
                if frames.count > 1 { terminal.write(frames.joined(separator: "\n") + "\n") }
                terminal.write(suggestion(for: text))
            default:
                terminal.write("\(e.description)\n")
            }
            return true
        } catch {
            terminal.write("error: \(error)\n")
            failed = true
            return true
        }
    }

    /// "did you mean" for a first word that is neither a command nor a Lua global.
    private func suggestion(for text: String) -> String {
        let word = String(text.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" })
        guard !word.isEmpty, lua.global(word).isNil, !Shell.commandNames.contains(word),
              let near = nearest(word, in: Shell.commands.map(\.name)) else { return "" }
        return "unknown command '\(word)'; did you mean '\(near)'? (`help` lists commands)\n"
    }

    // MARK: Completion

    func complete(_ line: String) -> [String] {
        let word = Completion.word(before: line, breaks: editor.wordBreakCharacters)
        let before = line.dropLast(word.count)
        let words = before.split(separator: " ")
        if let first = words.first, ["run", "plan"].contains(String(first)), words.count == 1 {
            return library.names().filter { $0.hasPrefix(word) }
        }
        if before.hasSuffix("\"") || before.hasSuffix("'") {
            let queues = (try? target.backend.queues(type: nil))?.map(\.name) ?? []
            let names = target.backend.nodeNames + shortNames.values + queues
            return Array(Set(names.filter { $0.hasPrefix(word) })).sorted()
        }
        var candidates: [String] = []
        if before.trimmingCharacters(in: .whitespaces).isEmpty {
            candidates += Shell.commands.map(\.name).filter { $0.hasPrefix(word) }
        }
        candidates += luaCompletions(word)
        return Array(Set(candidates)).sorted()
    }

    private func luaCompletions(_ word: String) -> [String] {
        if let sep = word.lastIndex(where: { $0 == "." || $0 == ":" }) {
            let path = word[..<sep].split(separator: ".").map(String.init)
            let prefix = String(word[word.index(after: sep)...])
            let base = String(word[...sep])
            return lua.keys(atPath: path).filter { $0.hasPrefix(prefix) && !$0.hasPrefix("__") }.map { base + $0 }
        }
        let keywords = ["and", "break", "do", "else", "elseif", "end", "false", "for", "function", "if", "in",
                        "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while"]
        return (lua.keys(atPath: []) + keywords).filter { $0.hasPrefix(word) }
    }
}

