import Foundation
import Testing
@testable import LineEditor

/// Each test drives a real pseudo-terminal. Serialized: libedit installs process-wide signal
/// handlers while it reads, and two editors reading at once would restore each other's.
@Suite("Line editing on a terminal", .serialized)
struct LineEditorTerminalTests {
    let up = "\u{1B}[A"

    @Test("a typed line comes back without its newline, UTF-8 intact")
    func typedLine() throws {
        let term = try TerminalFixture()
        let editor = term.makeEditor()
        #expect(editor.isInteractive)
        let read = PendingRead(editor, prompt: "warren> ")
        try term.expect("warren> ")
        term.send("héllo wörld ✓\r")
        #expect(try read.result() == .line("héllo wörld ✓"))
    }

    @Test("Ctrl-A, Ctrl-E and backspace edit the line")
    func editingKeys() throws {
        let term = try TerminalFixture()
        let editor = term.makeEditor()
        let read = PendingRead(editor, prompt: "> ")
        try term.expect("> ")
        term.send("world\u{01}hello \u{05}!\u{7F}?\r")
        #expect(try read.result() == .line("hello world?"))
    }

    @Test("history is saved to a new directory and recalled with Up by a new editor")
    func historyPersists() throws {
        let file = temporaryDirectory() + "/state/warren/history"
        do {
            let term = try TerminalFixture()
            let editor = term.makeEditor(historyFile: file)
            editor.addHistory("status")
            editor.addHistory("run rolling-restart ünïcode")
            editor.close()
        }
        #expect(FileManager.default.fileExists(atPath: file))
        let term = try TerminalFixture()
        let editor = term.makeEditor(historyFile: file)
        #expect(editor.historyCount == 2)
        let first = PendingRead(editor, prompt: "p1> ")
        try term.expect("p1> ")
        term.send(up + "\r")
        #expect(try first.result() == .line("run rolling-restart ünïcode"))
        let second = PendingRead(editor, prompt: "p2> ")
        try term.expect("p2> ")
        term.send(up + up + "\r")
        #expect(try second.result() == .line("status"))
    }

    @Test("history keeps each entry once and ignores blank lines")
    func uniqueHistory() throws {
        let file = temporaryDirectory() + "/history"
        let term = try TerminalFixture()
        let editor = term.makeEditor(historyFile: file)
        for line in ["a", "b", "a", "a", "   ", ""] { editor.addHistory(line) }
        #expect(editor.historyCount == 2)
        let read = PendingRead(editor, prompt: "> ")
        try term.expect("> ")
        term.send(up + up + "\r")
        #expect(try read.result() == .line("b"))
    }

    @Test("two shells on one history file both keep their entries, in the order they were typed")
    func twoShellsShareHistory() throws {
        let file = temporaryDirectory() + "/history"
        let termA = try TerminalFixture(), termB = try TerminalFixture()
        let a = termA.makeEditor(historyFile: file)
        let b = termB.makeEditor(historyFile: file)
        a.addHistory("status")
        b.addHistory("queues")
        a.addHistory("run rolling-restart")
        b.addHistory("status")  // moves to the end, once
        a.close(); b.close()
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text == "_HiStOrY_V2_\nqueues\nrun\\040rolling-restart\nstatus\n")
    }

    @Test("history is bounded by historySize, saved privately (0600) with libedit's header")
    func boundedHistory() throws {
        let file = temporaryDirectory() + "/history"
        let term = try TerminalFixture()
        let editor = LineEditor(historyFile: file, historySize: 3, input: term.slave, output: term.slave,
                                terminal: "xterm")
        for line in ["one", "two", "three", "four", "five"] { editor.addHistory(line) }
        #expect(editor.historyCount == 3)
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text == "_HiStOrY_V2_\nthree\nfour\nfive\n")
        let mode = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: (file as NSString).deletingLastPathComponent)
        #expect(leftovers == ["history"])
    }

    @Test("Tab with one candidate inserts the rest of it, dots included")
    func completeSingle() throws {
        let term = try TerminalFixture()
        let editor = term.makeEditor()
        var asked: [String] = []
        editor.completion = { before in
            asked.append(before)
            let word = Completion.word(before: before, breaks: Completion.defaultWordBreakCharacters)
            return ["string.format", "string.find", "print"].filter { $0.hasPrefix(word) }
        }
        let read = PendingRead(editor, prompt: "> ")
        try term.expect("> ")
        term.send("x = string.fo\t(1)\r")
        #expect(try read.result() == .line("x = string.format(1)"))
        #expect(asked == ["x = string.fo"])
    }

    @Test("Tab with several candidates inserts the common prefix and lists them")
    func completeSeveral() throws {
        let term = try TerminalFixture()
        let editor = term.makeEditor()
        editor.completion = { _ in ["cluster.nodes", "cluster.node", "cluster.nodes"] }
        let read = PendingRead(editor, prompt: "> ")
        try term.expect("> ")
        term.send("cl\t")
        try term.expect("cluster.nodes  cluster.node")
        try term.expect("> cluster.node")
        term.send("s\r")
        #expect(try read.result() == .line("cluster.nodes"))
    }

    @Test("Tab with no candidate beeps and changes nothing")
    func completeNone() throws {
        let term = try TerminalFixture()
        let editor = term.makeEditor()
        editor.completion = { _ in [] }
        let read = PendingRead(editor, prompt: "> ")
        try term.expect("> ")
        term.send("zz\t")
        try term.expect("\u{07}")
        term.send("\r")
        #expect(try read.result() == .line("zz"))
    }

    @Test("Ctrl-C discards a half-typed line, and ^C is the interrupt key again afterwards")
    func controlC() throws {
        let term = try TerminalFixture()
        let editor = term.makeEditor()
        #expect(term.interruptCharacter == 3)
        let first = PendingRead(editor, prompt: "one> ")
        try term.expect("one> ")
        term.send("half typ\u{02}\u{02}\u{03}")
        #expect(try first.result() == .interrupted)
        try term.expect("^C")
        #expect(term.interruptCharacter == 3)
        let second = PendingRead(editor, prompt: "two> ")
        try term.expect("two> ")
        term.send("ok\r")
        #expect(try second.result() == .line("ok"))
    }

    @Test("Ctrl-D on an empty line is the end of input; on a non-empty line it deletes")
    func controlD() throws {
        let term = try TerminalFixture()
        let editor = term.makeEditor()
        let first = PendingRead(editor, prompt: "> ")
        try term.expect("> ")
        term.send("ab\u{02}\u{04}\r")
        #expect(try first.result() == .line("a"))
        let second = PendingRead(editor, prompt: "again> ")
        try term.expect("again> ")
        term.send("\u{04}")
        #expect(try second.result() == .endOfInput)
    }

    @Test("the terminal is in editing mode before the prompt is written, so a key typed at the prompt is never cooked")
    func editingModeBeforePrompt() throws {
        let term = try TerminalFixture()
        // The prompt goes to a second terminal whose output is stopped (^S), so writing it blocks:
        // the mode the keyboard's terminal has while the editor waits there is the mode a key
        // typed at the visible prompt meets.
        let screen = try TerminalFixture()
        let probe = open(screen.slavePath, O_WRONLY | O_NOCTTY | O_NONBLOCK)
        defer { close(probe) }
        let stop: [UInt8] = [0x13], start: [UInt8] = [0x11], dot: [UInt8] = [0x2E]
        _ = write(screen.master, stop, 1)
        let stopDeadline = Date().addingTimeInterval(5)
        while write(probe, dot, 1) == 1, Date() < stopDeadline {}  // until ^S has been processed
        #expect(errno == EAGAIN, "the second terminal's output did not stop")
        let editor = LineEditor(historyFile: nil, input: term.slave, output: screen.slave, terminal: "xterm")
        let pending = PendingRead(editor, prompt: "blocked> ")

        let deadline = Date().addingTimeInterval(5)
        var mode = termios()
        while tcgetattr(term.slave, &mode) == 0, mode.c_lflag & tcflag_t(ICANON) != 0, Date() < deadline {
            var nothing = pollfd(fd: -1, events: 0, revents: 0)
            _ = poll(&nothing, 0, 1)
        }
        #expect(mode.c_lflag & tcflag_t(ICANON) == 0, "the prompt was written while the terminal was still canonical")

        // Let the prompt through, then ^D straight away: the end of input, not a NUL in the line.
        _ = write(screen.master, start, 1)
        try screen.expect("blocked> ")
        let endOfFile: [UInt8] = [4]
        _ = write(term.master, endOfFile, 1)
        #expect(try pending.result() == .endOfInput)
    }

    @Test("odd bytes, stray escapes and invalid UTF-8 do not crash the editor")
    func oddInput() throws {
        let term = try TerminalFixture()
        let editor = term.makeEditor()
        let read = PendingRead(editor, prompt: "> ")
        try term.expect("> ")
        term.sendBytes([0xFF, 0xFE, 0xC3, 0x1B, 0x5B, 0x39, 0x39, 0x7E, 0x1B, 0x4F, 0x00, 0x16, 0x41,
                        0x1B, 0x1B, 0x7F, 0x7F, 0x0B, 0x19, 0x14])
        term.send("\u{15}ok\r")   // ^U: kill the line, then a clean line
        let result = try read.result()
        #expect(result == .line("ok"))
    }
}

@Suite("Line reading from a pipe")
struct LineEditorPipeTests {
    @Test("a non-terminal input gives plain lines, no prompt and no history file")
    func plainLines() throws {
        var input: [Int32] = [0, 0]
        var output: [Int32] = [0, 0]
        #expect(pipe(&input) == 0 && pipe(&output) == 0)
        defer { for fd in input + output { close(fd) } }
        let text = "one\ntwo\r\nthé three"
        _ = text.utf8CString.withUnsafeBufferPointer { write(input[1], $0.baseAddress, $0.count - 1) }
        close(input[1])
        input[1] = -1

        let file = temporaryDirectory() + "/sub/history"
        let editor = LineEditor(historyFile: file, input: input[0], output: output[1])
        #expect(!editor.isInteractive)
        var results: [LineEditor.ReadResult] = []
        for prompt in ["a> ", "b> ", "c> ", "d> ", "e> "] {
            results.append(editor.readLine(prompt: prompt))
            editor.addHistory("x")
        }
        editor.close()
        #expect(results == [.line("one"), .line("two"), .line("thé three"), .endOfInput, .endOfInput])
        #expect(!FileManager.default.fileExists(atPath: file))
        var descriptor = pollfd(fd: output[0], events: Int16(POLLIN), revents: 0)
        #expect(poll(&descriptor, 1, 0) == 0, "nothing was written to the output")
    }
}

@Suite("Completion text")
struct CompletionTests {
    let breaks = Completion.defaultWordBreakCharacters

    @Test("the completed word keeps dots, colons, underscores and dashes")
    func words() {
        #expect(Completion.word(before: "x = string.fo", breaks: breaks) == "string.fo")
        #expect(Completion.word(before: "print(n1:dr", breaks: breaks) == "n1:dr")
        #expect(Completion.word(before: "run rolling-re", breaks: breaks) == "rolling-re")
        #expect(Completion.word(before: "status ", breaks: breaks) == "")
        #expect(Completion.word(before: "", breaks: breaks) == "")
    }

    @Test("the common prefix is computed on Unicode scalars")
    func commonPrefix() {
        #expect(Completion.longestCommonPrefix(["cluster.nodes", "cluster.node"]) == "cluster.node")
        #expect(Completion.longestCommonPrefix(["é1", "é2"]) == "é")
        #expect(Completion.longestCommonPrefix(["a", "b"]) == "")
    }

    @Test("lists fill columns down then across")
    func columns() {
        #expect(Completion.columns(["a", "bb", "c"], width: 80) == "a   bb  c\n")
        #expect(Completion.columns(["aaaa", "b", "c"], width: 12) == "aaaa  c\nb\n")
    }
}
