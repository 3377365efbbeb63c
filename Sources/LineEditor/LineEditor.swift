import Text
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CEditLine
import CShims

/// An interactive line editor over libedit: emacs keys, a per-call prompt, a persistent history
/// file and Tab completion. On a non-terminal input it reads plain lines instead (no prompt, no
/// editing, no history), so a shell built on it is scriptable through a pipe.
///
/// One editor owns its input while `readLine` runs; call it from one thread at a time.
public final class LineEditor {
    /// What one call to `readLine` produced.
    public enum ReadResult: Equatable, Sendable {
        /// A line, without its trailing newline.
        case line(String)
        /// Ctrl-C while editing (the half-typed line is discarded), or a signal interrupted the read.
        case interrupted
        /// Ctrl-D on an empty line, or the end of a non-terminal input.
        case endOfInput
    }

    /// Marks the start and end of invisible sequences (colours) in a prompt, e.g.
    /// `"\u{01}\u{1B}[32m\u{01}ok\u{01}\u{1B}[0m\u{01}> "`, so that libedit measures it right.
    public static let promptEscape: Character = "\u{01}"

    /// True when the input is a terminal: the prompt, editing, completion and history are on.
    public let isInteractive: Bool

    /// Completion candidates for Tab. Given the line up to the cursor, return the full words that
    /// could replace the word being completed (the trailing run of characters not in
    /// `wordBreakCharacters`, e.g. `string.fo` or `n1:dr`). One candidate is inserted; several
    /// insert their longest common prefix and are listed below the line; none beeps.
    public var completion: ((_ lineBeforeCursor: String) -> [String])?

    /// Characters that end the word being completed. `.`, `:`, `_` and `-` are part of a word,
    /// so Lua fields (`cluster.nodes`, `n1:drain`) and runbook names (`rolling-restart`) complete.
    public var wordBreakCharacters: Set<Character> = Completion.defaultWordBreakCharacters

    private let inputFD: Int32
    private let outputFD: Int32
    private var editLine: OpaquePointer?
    private var history: OpaquePointer?
    private var inputFile: UnsafeMutablePointer<FILE>?
    private var outputFile: UnsafeMutablePointer<FILE>?
    private var promptStorage: UnsafeMutablePointer<CChar>?
    private var locale: UnsafeMutableRawPointer?
    private let historyFile: String?
    private let historySize: Int
    private var plainReader: PlainLineReader
    fileprivate var interruptRequested = false

    /// Creates an editor on the given file descriptors (which stay owned by the caller).
    /// - Parameters:
    ///   - historyFile: where history is loaded from now and saved to on every `addHistory`
    ///     (its directory is created); nil keeps history in memory only.
    ///   - historySize: the most entries kept.
    ///   - input: the terminal (or pipe) to read from.
    ///   - output: where the prompt, echo and completion lists go.
    ///   - terminal: the terminal type; nil reads `$TERM`.
    public init(historyFile: String?, historySize: Int = 1000, input: Int32 = 0, output: Int32 = 1,
                terminal: String? = nil) {
        self.inputFD = input
        self.outputFD = output
        self.historyFile = historyFile
        self.historySize = max(1, historySize)
        self.plainReader = PlainLineReader(fd: input)
        self.isInteractive = isatty(input) == 1
        guard isInteractive else { return }

        // Dup the descriptors so fclose at the end leaves the caller's open.
        inputFile = fdopen(dup(input), "r")
        outputFile = fdopen(dup(output), "w")
        guard let inputFile, let outputFile else { return }
        // SIGTERM or SIGHUP while a prompt waits: the input reads as its end (see CShims).
        warren_watch_input_fd(fileno(inputFile))
        locale = warren_utf8_locale_new()
        let previous = warren_locale_use(locale)
        defer { _ = warren_locale_use(previous) }

        promptStorage = strdup("")
        let this = Unmanaged.passUnretained(self).toOpaque()
        editLine = warren_el_open("warren", inputFile, outputFile, outputFile, terminal, this,
                                  promptCallback, CChar(Self.promptEscape.asciiValue!))
        guard let editLine else { return }
        history = warren_history_open(Int32(clamping: self.historySize), 1)
        if let history {
            _ = warren_el_use_history(editLine, history)
            if let historyFile { _ = warren_history_load(history, historyFile) }
        }
        // ^C reaches this binding only while the tty's intr character is cleared (readLine).
        _ = warren_el_bind_function(editLine, "warren-interrupt", "Discard the line",
                                    interruptCallback, "^C")
        _ = warren_el_bind_function(editLine, "warren-complete", "Complete the word",
                                    completeCallback, "^I")
        // Last, so an operator's own bindings win (`bind -v` for vi mode, macros...).
        _ = warren_el_source_user_settings(editLine)
    }

    deinit { close() }

    /// Reads one line, showing `prompt` (interactive only). A continuation prompt is just another
    /// prompt. History is not touched: call `addHistory` for what should be remembered.
    public func readLine(prompt: String) -> ReadResult {
        guard isInteractive, let editLine else { return plainReader.readLine() }
        free(promptStorage)
        promptStorage = strdup(prompt)
        interruptRequested = false

        let previous = warren_locale_use(locale)
        defer { _ = warren_locale_use(previous) }
        let savedInterrupt = disableInterruptCharacter()
        defer { restoreInterruptCharacter(savedInterrupt) }

        // Editing mode before the prompt is drawn: el_gets would draw it first, and a key typed
        // at the prompt in between would reach the kernel's cooked mode (^D read back as a NUL).
        warren_el_prepare_terminal(editLine)
        var count: Int32 = 0
        errno = 0
        let line = el_gets(editLine, &count)
        let readError = errno
        if interruptRequested { return .interrupted }
        guard let line, count > 0 else {
            return count < 0 && readError == EINTR ? .interrupted : .endOfInput
        }
        var text = ByteText.string(UnsafeBufferPointer(start: UnsafeRawPointer(line).assumingMemoryBound(to: UInt8.self), count: strlen(line)))
        if text.hasSuffix("\n") { text.removeLast() }
        return .line(text)
    }

    /// Remembers a line for Up/Down and adds it to the history file. Blank lines are ignored; an
    /// older equal entry is removed, so each command appears once. Does nothing on a non-terminal.
    /// Other editors on the same file (two shells open at once) keep their entries: each addition
    /// merges into the file as it is now, and a new editor sees them all.
    public func addHistory(_ line: String) {
        guard isInteractive, let history else { return }
        var entry = line
        while entry.hasSuffix("\n") { entry.removeLast() }
        guard entry.contains(where: { !$0.isWhitespace }) else { return }
        let previous = warren_locale_use(locale)
        defer { _ = warren_locale_use(previous) }
        _ = warren_history_erase(history, entry)
        _ = warren_history_enter(history, entry)
        saveHistory(adding: entry)
    }

    /// How many entries history holds (0 on a non-terminal).
    public var historyCount: Int {
        guard let history else { return 0 }
        return Int(warren_history_count(history))
    }

    /// Gives the terminal back and frees libedit (history is already saved by `addHistory`).
    /// The editor reads plain lines afterwards.
    public func close() {
        if let editLine { el_end(editLine) }
        editLine = nil
        if let history { warren_history_close(history) }
        history = nil
        if let inputFile {
            warren_unwatch_input_fd(fileno(inputFile))
            fclose(inputFile)
        }
        inputFile = nil
        if let outputFile { fclose(outputFile) }
        outputFile = nil
        free(promptStorage)
        promptStorage = nil
        warren_locale_free(locale)
        locale = nil
    }

    // MARK: - History file

    /// Writes a temporary file and renames it over the history file, so that a crash or a second
    /// shell never leaves a half-written history. (`history_truncate_file` would drop the header.)
    /// Adds `entry` to the history file as it is on disk now (not to this editor's copy, which
    /// would drop what another shell saved meanwhile), then replaces the file in one rename. The
    /// read-modify-write holds an exclusive lock on the file's directory, so two shells adding at
    /// the same moment both keep their entry.
    private func saveHistory(adding entry: String) {
        guard let historyFile, let merged = warren_history_open(Int32(clamping: historySize), 1) else { return }
        defer { warren_history_close(merged) }
        let directory = parentDirectory(of: historyFile)
        if !directory.isEmpty { makeDirectories(directory) }
        let lock = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if lock >= 0 { _ = flock(lock, LOCK_EX) }
        defer { if lock >= 0 { Glibc.close(lock) } }
        _ = warren_history_load(merged, historyFile)
        _ = warren_history_erase(merged, entry)
        _ = warren_history_enter(merged, entry)
        let temporary = "\(historyFile).\(getpid()).tmp"
        if warren_history_save(merged, temporary) >= 0 {
            if rename(temporary, historyFile) != 0 { unlink(temporary) }
        } else {
            unlink(temporary)
        }
    }

    // MARK: - Ctrl-C

    /// Clears the terminal's interrupt character while editing so ^C reaches the key binding,
    /// and returns the character to restore (nil when nothing was changed).
    ///
    /// Done with termios rather than `EL_SETTY -d intr=`: on libedit 3.1-20221030 the EL_SETTY
    /// setting alone did not stop the tty from eating ^C (checked by the Ctrl-C test); el_gets
    /// rebuilds its edit-mode characters from the terminal's current ones, so this is the change
    /// that sticks.
    private func disableInterruptCharacter() -> cc_t? {
        var settings = termios()
        guard tcgetattr(inputFD, &settings) == 0 else { return nil }
        let saved = withUnsafeBytes(of: &settings.c_cc) { $0[Int(VINTR)] }
        guard saved != disabledControlCharacter else { return nil }
        withUnsafeMutableBytes(of: &settings.c_cc) { $0[Int(VINTR)] = disabledControlCharacter }
        _ = tcsetattr(inputFD, TCSANOW, &settings)
        return saved
    }

    /// Puts the interrupt character back so ^C outside editing sends SIGINT (a running step).
    private func restoreInterruptCharacter(_ saved: cc_t?) {
        guard let saved else { return }
        var settings = termios()
        guard tcgetattr(inputFD, &settings) == 0 else { return }
        withUnsafeMutableBytes(of: &settings.c_cc) { $0[Int(VINTR)] = saved }
        _ = tcsetattr(inputFD, TCSANOW, &settings)
    }

    fileprivate func interrupt(_ editLine: OpaquePointer) -> UInt8 {
        interruptRequested = true
        // Show "^C" at the end of the line, then let ed-newline finish it: that moves the display
        // below the (possibly wrapped) line the way Enter does.
        if let info = el_line(editLine)?.pointee, let cursor = info.cursor, let last = info.lastchar {
            el_cursor(editLine, Int32(clamping: last - cursor))
        }
        _ = el_insertstr(editLine, "^C")
        el_push(editLine, "\n")
        return UInt8(CC_REFRESH)
    }

    // MARK: - Completion

    fileprivate func complete(_ editLine: OpaquePointer) -> UInt8 {
        guard let completion, let info = el_line(editLine)?.pointee,
              let start = info.buffer, let cursor = info.cursor else { return UInt8(CC_REFRESH_BEEP) }
        let before = UnsafeBufferPointer(start: UnsafeRawPointer(start).assumingMemoryBound(to: UInt8.self),
                                         count: cursor - start)
        let lineBeforeCursor = String(decoding: before, as: UTF8.self)
        let word = Completion.word(before: lineBeforeCursor, breaks: wordBreakCharacters)
        let candidates = Completion.unique(completion(lineBeforeCursor))
        guard !candidates.isEmpty else { return UInt8(CC_REFRESH_BEEP) }

        let insertion = candidates.count == 1
            ? candidates[0] : Completion.longestCommonPrefix(candidates)
        replaceWord(word, with: insertion, in: editLine)
        if candidates.count == 1 { return UInt8(CC_REFRESH) }

        guard let outputFile else { return UInt8(CC_REFRESH) }
        let list = Completion.columns(candidates, width: terminalWidth())
        fputs("\n" + list, outputFile)
        fflush(outputFile)
        return UInt8(CC_REDISPLAY)
    }

    private func replaceWord(_ word: String, with replacement: String, in editLine: OpaquePointer) {
        let wordScalars = Array(word.unicodeScalars)
        let newScalars = Array(replacement.unicodeScalars)
        if newScalars.starts(with: wordScalars) {
            let rest = String(String.UnicodeScalarView(newScalars.dropFirst(wordScalars.count)))
            if !rest.isEmpty { _ = el_insertstr(editLine, rest) }
        } else if newScalars.count >= wordScalars.count {
            // The caller completed differently (e.g. case-insensitively): replace the whole word.
            el_deletestr(editLine, Int32(wordScalars.count))
            _ = el_insertstr(editLine, replacement)
        }
    }

    private func terminalWidth() -> Int {
        var size = winsize()
        if ioctl(outputFD, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        return 80
    }
}

#if canImport(Darwin)
private let disabledControlCharacter: cc_t = 0xFF
#else
private let disabledControlCharacter: cc_t = 0
#endif

private func editor(of editLine: OpaquePointer) -> LineEditor? {
    guard let data = warren_el_client_data(editLine) else { return nil }
    return Unmanaged<LineEditor>.fromOpaque(data).takeUnretainedValue()
}

private let promptCallback: warren_el_prompt_fn = { editLine in
    guard let editLine, let editor = editor(of: editLine) else { return nil }
    return editor.currentPrompt
}

private let interruptCallback: warren_el_command_fn = { editLine, _ in
    guard let editLine, let editor = editor(of: editLine) else { return UInt8(CC_NEWLINE) }
    return editor.interrupt(editLine)
}

private let completeCallback: warren_el_command_fn = { editLine, _ in
    guard let editLine, let editor = editor(of: editLine) else { return UInt8(CC_REFRESH_BEEP) }
    return editor.complete(editLine)
}

extension LineEditor {
    fileprivate var currentPrompt: UnsafeMutablePointer<CChar>? { promptStorage }
}

private func parentDirectory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "" }
    return String(path[..<slash])
}

/// mkdir -p, ignoring failures: saving then fails and history stays in memory.
private func makeDirectories(_ path: String) {
    var current = path.hasPrefix("/") ? "" : "."
    for component in path.split(separator: "/") {
        current += "/" + component
        _ = mkdir(current, 0o700)
    }
}
