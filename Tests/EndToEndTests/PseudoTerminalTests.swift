import Foundation
import WarrenTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Proves the pty harness on plain system programs, before any test relies on it with warren.
@Suite("The pseudo-terminal harness")
struct PseudoTerminalTests {
    @Test("a program prompts, reads a typed line and its exit code is reported")
    func promptAndExit() throws {
        let term = try PseudoTerminal(executable: "/bin/sh",
                                      arguments: ["-c", #"printf 'name? '; read x; echo "got:$x"; exit 7"#])
        try term.expect("name? ")
        term.send("rabbit\r")
        try term.expect("got:rabbit")
        #expect(try term.waitForExit() == 7)
    }

    @Test("Ctrl-C is the terminal's intr: the foreground sleep dies of SIGINT")
    func controlCInterrupts() throws {
        let term = try PseudoTerminal(executable: "/bin/sh", arguments: ["-c", "echo ready; exec sleep 30"])
        try term.expect("ready")
        let started = Date()
        term.sendControl("c")
        #expect(try term.waitForExit(timeout: 10) == 128 + SIGINT)
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test("the program has the pty as its controlling terminal, with the given size")
    func controllingTerminal() throws {
        let term = try PseudoTerminal(executable: "/bin/sh", arguments: ["-c", "stty size; tty; echo via-dev-tty </dev/null >/dev/tty"],
                                      columns: 100, rows: 30)
        try term.expect("30 100")
        try term.expect(regex: #"/dev/pts/[0-9]+"#)
        try term.expect("via-dev-tty")   // /dev/tty opens only with a controlling terminal
        #expect(try term.waitForExit() == 0)
    }

    @Test("environment overrides and the working directory reach the program")
    func environmentAndDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.resolvingSymlinksInPath().path
        let term = try PseudoTerminal(executable: "/bin/sh", arguments: ["-c", #"echo "dir=$(pwd) foo=$FOO term=$TERM""#],
                                      environment: ["FOO": "bar"], workingDirectory: directory)
        try term.expect("dir=\(directory) foo=bar term=xterm")
        #expect(try term.waitForExit() == 0)
    }

    @Test("a failed expect says what was seen; kill ends the program")
    func timeoutAndKill() throws {
        let term = try PseudoTerminal(executable: "/bin/sh", arguments: ["-c", "echo hello; exec sleep 30"])
        try term.expect("hello")
        do {
            try term.expect("never printed", timeout: 0.3)
            Issue.record("expect should have thrown")
        } catch let failure as PseudoTerminal.Failure {
            #expect(failure.description.contains("never printed"))
        }
        term.kill(SIGTERM)
        #expect(try term.waitForExit() == 128 + SIGTERM)
        #expect(term.transcript.contains("hello"))
    }

    @Test("an expect on a program that has exited fails at once, not at the deadline")
    func exitedProgram() throws {
        let term = try PseudoTerminal(executable: "/bin/sh", arguments: ["-c", "echo bye"])
        let started = Date()
        #expect(throws: PseudoTerminal.Failure.self) { try term.expect("something else", timeout: 20) }
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test("the warren binary is found under .build/debug")
    func findsWarren() throws {
        let path = try PseudoTerminal.warrenExecutable()
        #expect(path.hasSuffix("/.build/debug/warren"))
    }
}
