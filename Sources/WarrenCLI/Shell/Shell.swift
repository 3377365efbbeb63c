import Cluster
import Foundation
import LineEditor
import Lua
import Runbook
import Sessions

/// The warren shell: shell commands, `=expr`, and Lua chunks against one cluster target.
final class Shell {
    let target: Target
    let editor: LineEditor
    let terminal: ShellTerminal
    let lua: LuaState
    let bindings: ClusterBindings
    let library: RunbookLibrary
    let paths: StatePaths
    let shortNames: [String: String]
    /// Recording of this shell session (journal of primitives and a cast), when it could be created.
    let session: ShellSession?
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

    init(target: Target, paths: StatePaths, library: RunbookLibrary) {
        self.target = target
        self.paths = paths
        self.library = library
        let interactive = isatty(0) == 1
        editor = LineEditor(historyFile: interactive ? paths.history : nil)
        session = ShellSession(target: target, paths: paths)
        terminal = ShellTerminal(editor: editor, recorder: session?.recorder, redactor: target.redactor)
        lua = LuaState()
        lua.installRequire(roots: library.requireRoots)
        bindings = ClusterBindings(backend: target.backend)
        shortNames = shortNodeNames(target.backend.nodeNames)
        lua.output = { [terminal] in terminal.write($0) }
        observer = ShellObserver(target: target, terminal: terminal, session: session)
        bindings.observer = observer
        bindings.install(into: lua)
        // Node globals: n1, n2... (short names that are Lua identifiers and not taken).
        for (full, short) in shortNames.sorted(by: { $0.key < $1.key })
        where Shell.isIdentifier(short) && lua.global(short).isNil {
            lua.setGlobal(short, bindings.nodeValue(full))
        }
        editor.completion = { [unowned self] line in complete(line) }
    }

    /// Journals, shows and guards the primitives typed at the shell (bindings hold it weakly).
    private let observer: ShellObserver

    static func isIdentifier(_ s: String) -> Bool {
        guard let f = s.first, f.isLetter || f == "_" else { return false }
        return s.allSatisfy { ($0.isLetter || $0.isNumber || $0 == "_") && $0.isASCII }
    }

    // MARK: The loop

    /// Reads and runs lines until `exit` or end of input. Returns the exit code.
    func loop() -> Int32 {
        if editor.isInteractive {
            terminal.write("warren shell on \(target.backend.targetDescription) — `help` lists commands; Lua works too (=expr prints)\n")
        }
        defer {
            session?.close()
            editor.close()
        }
        while true {
            let prompt = buffer.isEmpty ? promptText() : ">> "
            LuaState.discardWaitingInterrupt()
            switch editor.readLine(prompt: prompt) {
            case .endOfInput:
                if editor.isInteractive { terminal.write("\n") }
                return 0
            case .interrupted:
                if !buffer.isEmpty { buffer = [] }
                terminal.record(prompt + "^C\n")
                continue
            case .line(let line):
                if editor.isInteractive { terminal.record(prompt + line + "\n") }
                if buffer.isEmpty, let done = handleCommand(line) {
                    if editor.isInteractive && !line.trimmingCharacters(in: .whitespaces).isEmpty { editor.addHistory(line) }
                    if done { return 0 }
                    continue
                }
                buffer.append(line)
                if evaluate() && editor.isInteractive {
                    editor.addHistory(buffer.joined(separator: "\n"))
                }
                if !awaitingMore { buffer = [] }
            }
        }
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
            return true
        } catch let e as LuaError {
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

