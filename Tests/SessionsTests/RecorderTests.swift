import Cluster
import Foundation
import Testing
@testable import Sessions

@Suite("Recording a session as asciicast v2")
struct RecorderTests {
    @Test("a recording parses as asciicast v2, line by line, and contains the output written")
    func asciicastV2() throws {
        let dir = makeTempDir()
        let path = dir + "/session.cast"
        let clock = ManualClock()
        let rec = try SessionRecorder(path: path, width: 100, height: 30, title: "rolling-restart on sim:3",
                                      redactor: Redactor(), clock: clock.read, timestamp: 1_795_000_000,
                                      environment: ["TERM": "xterm-256color", "SHELL": "/bin/bash", "PATH": "/x"])
        rec.output("step 1: restart rabbit@n1\n")
        clock.now += 1.5
        rec.output("\u{1b}[32mok\u{1b}[0m \"quoted\" \\ tab\there ünïcode ✓\n")
        clock.now += 0.25
        rec.output("no newline yet")
        rec.close()

        let raw = lines(of: path)
        #expect(raw.count == 4)
        let header = try #require(JSONSerialization.jsonObject(with: Data(raw[0].utf8)) as? [String: Any])
        #expect(header["version"] as? Int == 2)
        #expect(header["width"] as? Int == 100)
        #expect(header["height"] as? Int == 30)
        #expect(header["timestamp"] as? Int == 1_795_000_000)
        #expect(header["title"] as? String == "rolling-restart on sim:3")
        #expect(header["env"] as? [String: String] == ["TERM": "xterm-256color", "SHELL": "/bin/bash"])

        var texts: [String] = []
        var times: [Double] = []
        for line in raw.dropFirst() {
            let event = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [Any])
            #expect(event.count == 3)
            times.append(try #require((event[0] as? NSNumber)?.doubleValue))
            #expect(event[1] as? String == "o")
            texts.append(try #require(event[2] as? String))
        }
        #expect(times == [0, 1.5, 1.75])
        #expect(texts == ["step 1: restart rabbit@n1\r\n",
                          "\u{1b}[32mok\u{1b}[0m \"quoted\" \\ tab\there ünïcode ✓\r\n",
                          "no newline yet"])

        let cast = try CastReader.read(path)
        #expect(cast.events.map(\.data) == texts)
        #expect(!cast.truncated)
    }

    @Test("events are on disk as soon as they are recorded, before close")
    func unbuffered() throws {
        let path = makeTempDir() + "/session.cast"
        let rec = try SessionRecorder(path: path, width: 80, height: 24, title: "t", redactor: Redactor())
        rec.output("first\n")
        #expect(lines(of: path).count == 2)
        rec.output("second\n")
        #expect(try CastReader.read(path).events.map(\.data) == ["first\r\n", "second\r\n"])
        rec.close()
    }

    @Test("input events are recorded only for answers, with the echo as output")
    func inputOnlyForAnswers() throws {
        let path = makeTempDir() + "/session.cast"
        let rec = try SessionRecorder(path: path, width: 80, height: 24, title: "t", redactor: Redactor())
        rec.output("Stop rabbit@n1? [y/N] ")
        rec.input("y")
        rec.output("stopping rabbit@n1\n")
        rec.output("done\n")
        rec.input("n", echo: false)
        rec.close()
        let events = try CastReader.read(path).events
        #expect(events.filter { $0.type == "i" }.map(\.data) == ["y", "n"])
        #expect(events.map(\.type) == ["o", "i", "o", "o", "o", "i"])
        #expect(events[2].data == "y\r\n")
    }

    @Test("a secret never reaches the cast, even split across output chunks or typed as an answer")
    func secretsRedacted() throws {
        let path = makeTempDir() + "/session.cast"
        let secret = "s3cr3t-Cookie-VALUE"
        let rec = try SessionRecorder(path: path, width: 80, height: 24, title: "cookie \(secret)",
                                      redactor: Redactor(secrets: [secret]))
        rec.output("cookie is \(secret)\n")
        rec.output("split: s3cr3t-Co")
        rec.output("okie-VAL")
        rec.output("UE and more\n")
        rec.output("Authorization: Basic dXNlcjpw")
        rec.output("YXNzd29yZA==\n")
        rec.input(secret)
        rec.output("tail s3cr")  // held back, written on close
        rec.close()
        let text = String(decoding: FileManager.default.contents(atPath: path)!, as: UTF8.self)
        #expect(!text.contains(secret))
        #expect(!text.contains("YXNzd29yZA"))
        #expect(!text.contains("dXNlcjpw"))
        let all = try CastReader.read(path).events.filter { $0.type == "o" }.map(\.data).joined()
        #expect(all.contains("split: *** and more"))
        #expect(all.contains("Authorization: ***"))
        #expect(all.hasSuffix("tail s3cr"))
    }

    @Test("a torn last line is tolerated: the events before it are read and the cast is marked truncated")
    func tornLastLine() throws {
        let path = makeTempDir() + "/session.cast"
        let rec = try SessionRecorder(path: path, width: 80, height: 24, title: "t", redactor: Redactor())
        rec.output("one\n")
        rec.output("two\n")
        rec.close()
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data("[3.5, \"o\", \"thr".utf8))
        handle.closeFile()

        let cast = try CastReader.read(path)
        #expect(cast.truncated)
        #expect(cast.tornLine == 4)
        #expect(cast.events.map(\.data) == ["one\r\n", "two\r\n"])
    }

    @Test("a corrupt middle line is an error naming the file and the line")
    func corruptMiddleLine() throws {
        let path = makeTempDir() + "/session.cast"
        let text = """
        {"version": 2, "width": 80, "height": 24}
        [0.1, "o", "ok"]
        [0.2, "o", "broken
        [0.3, "o", "after"]

        """
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let error = try #require(throws: CastError.self) { try CastReader.read(path) }
        #expect(error.line == 3)
        #expect(error.description.hasPrefix(path + ":3: "))
    }

    @Test("a bad header or event shape is an error naming the line")
    func badShapes() throws {
        let dir = makeTempDir()
        let cases: [(String, Int?)] = [
            ("{\"version\": 1, \"width\": 80, \"height\": 24}\n", 1),
            ("[0.1, \"o\", \"no header\"]\n", 1),
            ("{\"version\": 2, \"width\": 80, \"height\": 24}\n[0.1, \"x\", \"t\"]\n", 2),
            ("{\"version\": 2, \"width\": 80, \"height\": 24}\n[0.1, \"o\"]\n", 2),
            ("{\"version\": 2, \"width\": 80, \"height\": 24}\n[\"0.1\", \"o\", \"t\"]\n", 2),
            ("", nil),
        ]
        for (i, (text, line)) in cases.enumerated() {
            let path = dir + "/\(i).cast"
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            let error = try #require(throws: CastError.self) { try CastReader.read(path) }
            #expect(error.line == line, "case \(i): \(error)")
            #expect(error.description.contains(path))
        }
    }

    @Test("appending to a recording keeps its header, cuts a torn line and continues its timing")
    func appendAfterCrash() throws {
        let path = makeTempDir() + "/session.cast"
        let clock = ManualClock()
        let first = try SessionRecorder(path: path, width: 80, height: 24, title: "t", redactor: Redactor(), clock: clock.read)
        clock.now += 4
        first.output("before crash\n")
        first.close()
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data("[5.0, \"o\", \"tor".utf8))
        handle.closeFile()

        let second = try SessionRecorder(path: path, width: 120, height: 40, title: "other", redactor: Redactor(),
                                         clock: clock.read, append: true)
        clock.now += 1
        second.output("after resume\n")
        second.close()
        let cast = try CastReader.read(path)
        #expect(!cast.truncated)
        #expect(cast.header.width == 80)
        #expect(cast.events.map(\.data) == ["before crash\r\n", "after resume\r\n"])
        #expect(cast.events.map(\.time) == [4, 5])
    }
}
