import ArgumentParser
import Foundation
import Sessions

/// `warren replay SESSION [--speed X]`: plays a session's recording back in the terminal.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Play a session's recording back in the terminal, with its timing.",
        discussion: "When standard output is not a terminal, or with --speed 0, the output is printed at once."
    )

    @Argument(help: "The session id, or a unique beginning of it (see `warren sessions list`).")
    var session: String

    @Option(help: "Playback speed: 2 plays twice as fast; 0 prints everything at once.")
    var speed: Double = 1

    @Option(help: "Longest pause kept, in recorded seconds; longer pauses are shortened to it.")
    var maxIdle: Double = Replayer.defaultMaxIdle

    func run() throws {
        guard speed.isFinite, speed >= 0 else {
            throw ValidationError("--speed must be a number of 0 or more (got \(speed)).")
        }
        guard maxIdle.isFinite, maxIdle >= 0 else {
            throw ValidationError("--max-idle must be a number of seconds, 0 or more (got \(maxIdle)).")
        }
        let store = SessionStore()
        let id = try store.resolve(session)
        let path = store.castPath(id)
        guard FileManager.default.fileExists(atPath: path) else {
            throw SessionsError.missingFile(path: path, what: "recording")
        }
        let cast = try CastReader.read(path)
        let terminal = Replayer.isTerminal(STDOUT_FILENO)
        var last = ""
        Replayer.play(cast, speed: speed, maxIdle: maxIdle, toTerminal: terminal, write: { text in
            Output.raw(text)
            last = text
        })
        if terminal, let end = last.utf8.last, end != UInt8(ascii: "\n") {
            Output.raw("\r\n")
        }
        if cast.truncated {
            Output.error("warren: note: \(path):\(cast.tornLine ?? 0): the recording ends with a torn line "
                + "(the session stopped while writing it); played up to there.\n")
        }
    }
}
