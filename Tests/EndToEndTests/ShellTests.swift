import Foundation
import WarrenTestSupport
import Testing

/// The shell through a pseudo-terminal driving the built binary.
@Suite("The shell, end to end")
struct ShellTests {
    let prompt = "[3/3 up]> "

    @Test("an expression prints its value")
    func expression() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let t = try w.terminal()
        try t.expect(prompt)
        t.send("=6 * 7\r")
        try t.expect("42")
        t.send("1 + 1\r")
        try t.expect("\r\n2\r\n")
    }

    @Test("the operator's libedit settings file ($EDITRC, else ~/.editrc) is applied")
    func editrc() throws {
        let w = try Warren(); defer { w.cleanUp() }
        try "warren:bind -s ^T 6*7\n".write(toFile: w.state + "/editrc", atomically: true, encoding: .utf8)
        let t = try w.terminal()
        try t.expect(prompt)
        t.send("=")
        t.sendControl("t")
        t.send("\r")
        try t.expect("\r\n42\r\n")
    }

    @Test("a multi-line function definition continues with >> and works")
    func multiLine() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let t = try w.terminal()
        try t.expect(prompt)
        t.send("function sq(x)\r")
        try t.expect(">> ")
        t.send("return x * x\r")
        try t.expect(">> ")
        t.send("end\r")
        try t.expect(prompt)
        t.send("=sq(12)\r")
        try t.expect("144")
    }

    @Test("an error prints and the shell goes on")
    func errorThenGoodLine() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let t = try w.terminal()
        try t.expect(prompt)
        t.send("error('bad thing')\r")
        try t.expect("error: stdin:1: bad thing")
        try t.expect("stack traceback:")
        t.send("x = = 1\r")
        try t.expect("syntax error: stdin:1:")
        t.send("stauts\r")
        try t.expect("did you mean 'status'?")
        t.send("=2 + 3\r")
        try t.expect("5")
    }

    @Test("history is recalled after a restart with the Up arrow")
    func history() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let t = try w.terminal()
        try t.expect(prompt)
        t.send("=40 + 2\r")
        try t.expect("42")
        t.send("exit\r")
        #expect(try t.waitForExit() == 0)
        let t2 = try w.terminal()
        try t2.expect(prompt)
        t2.send("\u{1B}[A")  // Up: the last line entered was `exit`
        try t2.expect("exit")
        t2.send("\u{1B}[A")
        try t2.expect("=40 + 2")
        t2.send("\r")
        try t2.expect("42")
    }

    @Test("Tab completes string.fo to string.format, node methods and commands")
    func completion() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let t = try w.terminal()
        try t.expect(prompt)
        // libedit redraws only what changed: check what the completed line does.
        t.send("=string.fo\t")
        try t.expect("rmat")
        t.send("('%d', 7)\r")
        try t.expect("\"7\"")
        t.send("=type(n1.await_r\t")
        try t.expect("unning")
        t.send(")\r")
        try t.expect("\"function\"")
        t.send("stat\t")
        try t.expect("us")
        t.send("\r")
        try t.expect("members running")
    }

    @Test("Tab completes runbook parameters, resumable session ids, queue types and queue names")
    func completionOfArguments() throws {
        let w = try Warren(); defer { w.cleanUp() }
        // An unfinished session to resume: the first confirmation refused.
        try "no\n".write(toFile: w.state + "/no.txt", atomically: true, encoding: .utf8)
        #expect(try w.run(["run", "rolling-restart", "--answers", w.state + "/no.txt"]).code != 0)
        let session = try #require(w.sessions.last)
        let t = try w.terminal()
        try t.expect(prompt)
        t.send("plan rolling-restart ti\t")
        try t.expect("meout=")
        t.send("1 no\t")
        try t.expect("des=")
        t.send("n1\r")
        try t.expect("END OF PLAN")
        t.send("resume \t")
        try t.expect(String(session.dropFirst(3)))
        t.sendControl("c")
        try t.expect(prompt)
        t.send("queues qu\t")
        try t.expect("orum")
        t.send("\r")
        try t.expect("payments")
        t.send("=cluster.publish(\"pay\t")
        try t.expect("ments")
        t.send("\", 2)\r")
        try t.expect("\r\n2\r\n")
    }

    @Test("Ctrl-C clears a half-typed line")
    func ctrlCOnLine() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let t = try w.terminal()
        try t.expect(prompt)
        t.send("=999")
        t.sendControl("c")
        try t.expect(prompt)
        t.send("=1\r")
        let out = try t.expect(regex: "\\r\\n1\\r\\n")
        #expect(!out.contains("9991"))
    }

    @Test("Ctrl-C stops a runaway chunk and the shell keeps running")
    func ctrlCDuringLoop() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let t = try w.terminal()
        try t.expect(prompt)
        t.send("print('looping') while true do end\r")
        try t.expect("looping\r\n")
        // The budget would stop it after a while, with its own message: "interrupted" is Ctrl-C's.
        t.sendControl("c")
        try t.expect("interrupted")
        t.send("=7\r")
        try t.expect("7")
    }

    @Test("Ctrl-D on an empty line exits 0")
    func ctrlD() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let t = try w.terminal()
        try t.expect(prompt)
        t.sendControl("d")
        #expect(try t.waitForExit() == 0)
    }

    @Test("status, nodes and queues print readable tables, and the prompt follows the cluster")
    func views() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let t = try w.terminal()
        try t.expect(prompt)
        t.send("nodes\r")
        try t.expect(regex: "NODE +VM +APP +MAINT")
        try t.expect("rabbit@n3")
        t.send("queues\r")
        try t.expect(regex: "QUEUE +TYPE +LEADER +MEMBERS +ONLINE +MESSAGES")
        t.send("n3:stop()\r")
        try t.expect("rabbit@n3 stop")
        try t.expect("[2/3 up]> ")
    }

    @Test("piped stdin runs each line without a prompt")
    func piped() throws {
        let w = try Warren(); defer { w.cleanUp() }
        let r = try w.run([], input: "=1+1\nfunction f()\nreturn 'x'\nend\n=f()\n")
        #expect(r.code == 0)
        #expect(r.output == "2\n\"x\"\n")
    }
}
