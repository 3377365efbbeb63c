import Foundation
import Text

/// A runbook file: its path, content and content hash.
public struct RunbookSource: Sendable {
    public let path: String
    public let content: String
    /// SHA-256 of the content; resume refuses a runbook whose hash changed.
    public let hash: String
    /// The file name without `.lua`.
    public var fileName: String { ((path as NSString).lastPathComponent as NSString).deletingPathExtension }

    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RunbookError.usage("cannot read the runbook '\(path)'")
        }
        self.path = (path as NSString).standardizingPath
        content = ByteText.string(data)
        hash = SHA256.hex(data)
    }
}

extension RunbookSource {
    /// A module the runbook requires, directly or through another module.
    public struct Module: Sendable {
        public var name: String
        public var path: String
        public var content: String
        public var hash: String
    }

    /// The modules the runbook requires (`require "lib.common"`), transitively, as the runbook
    /// path resolves them now.
    public func requiredModules(library: RunbookLibrary) -> [Module] {
        var seen = Set<String>()
        var out: [Module] = []
        var queue = [content]
        while let text = queue.popLast() {
            for m in text.matches(of: RunbookSource.requirePattern) {
                let name = String(m.output.1)
                guard seen.insert(name).inserted else { continue }
                let relative = name.split(separator: ".").joined(separator: "/")
                for root in library.requireRoots {
                    let path = "\(root)/\(relative).lua"
                    if let data = FileManager.default.contents(atPath: path) {
                        let text = ByteText.string(data)
                        out.append(Module(name: name, path: path, content: text, hash: SHA256.hex(data)))
                        queue.append(text)
                        break
                    }
                }
            }
        }
        return out.sorted { $0.name < $1.name }
    }

    /// The hash of every module the runbook requires, by module name.
    public func moduleHashes(library: RunbookLibrary) -> [String: String] {
        Dictionary(uniqueKeysWithValues: requiredModules(library: library).map { ($0.name, $0.hash) })
    }

    /// Whether the runbook, or a module it requires (transitively), calls `confirm` or `ask`:
    /// such a run cannot go ahead without an operator, --yes or --answers.
    public func asksQuestions(library: RunbookLibrary) -> Bool {
        ([content] + requiredModules(library: library).map(\.content)).contains { $0.contains("confirm(") || $0.contains("ask(") }
    }

    nonisolated(unsafe) static let requirePattern = try! Regex<(Substring, Substring)>("require\\s*\\(?\\s*[\"']([A-Za-z0-9_.]+)[\"']")
}

/// Declared parameter of a runbook (`runbook{ params = { {name=, default=, help=, required=} } }`).
public struct ParamSpec: Sendable, Equatable {
    public var name: String
    public var defaultValue: String?
    public var help: String
    public var required: Bool
}

/// What `runbook{...}` declares.
public struct RunbookMetadata: Sendable {
    public var name: String
    public var summary: String
    public var params: [ParamSpec]
}

/// Where runbooks are found: `./runbooks`, then each folder of `$WARREN_RUNBOOKS` (colon-separated),
/// then the installed ones (`<prefix>/share/warren/runbooks` beside the executable).
public struct RunbookLibrary: Sendable {
    public var roots: [String]

    public init(roots: [String]) { self.roots = roots }

    public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> RunbookLibrary {
        var roots = [FileManager.default.currentDirectoryPath + "/runbooks"]
        if let extra = environment["WARREN_RUNBOOKS"] {
            roots += extra.split(separator: ":").map(String.init).filter { !$0.isEmpty }
        }
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        roots.append(exe.deletingLastPathComponent().appendingPathComponent("share/warren/runbooks").path)
        // A build folder of the package (.build/<config>/warren): the package's own runbooks.
        if exe.deletingLastPathComponent().lastPathComponent == ".build" || exe.pathComponents.contains(".build") {
            var root = exe
            while root.lastPathComponent != ".build" && root.pathComponents.count > 1 { root.deleteLastPathComponent() }
            roots.append(root.deletingLastPathComponent().appendingPathComponent("runbooks").path)
        }
        var seen = Set<String>()
        return RunbookLibrary(roots: roots.map { ($0 as NSString).standardizingPath }.filter { seen.insert($0).inserted })
    }

    /// A runbook by name (first match in the roots) or by path.
    public func find(_ nameOrPath: String) throws -> RunbookSource {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".lua") {
            guard FileManager.default.fileExists(atPath: nameOrPath) else {
                throw RunbookError.usage("no runbook file '\(nameOrPath)'")
            }
            return try RunbookSource(path: nameOrPath)
        }
        for root in roots {
            let path = root + "/" + nameOrPath + ".lua"
            if FileManager.default.fileExists(atPath: path) { return try RunbookSource(path: path) }
        }
        let known = names()
        var message = "unknown runbook '\(nameOrPath)'"
        if let near = nearest(nameOrPath, in: known) { message += "; did you mean '\(near)'?" }
        message += known.isEmpty ? "; no runbooks found in \(roots.joined(separator: ", "))" : "; known runbooks: \(known.joined(separator: ", "))"
        throw RunbookError.usage(message)
    }

    /// Names of every runbook found (the first of each name wins), sorted.
    public func names() -> [String] {
        var names = Set<String>()
        for root in roots {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
            for f in files where f.hasSuffix(".lua") { names.insert(String(f.dropLast(4))) }
        }
        return names.sorted()
    }

    /// Lua `require` roots: each root and its `lib/` folder's parent (`require "lib.x"`).
    public var requireRoots: [String] { roots }
}

/// The candidate nearest to `word` by edit distance, if it is close enough to be a likely typo.
public func nearest(_ word: String, in candidates: [String]) -> String? {
    func distance(_ a: [Character], _ b: [Character]) -> Int {
        var prev = Array(0...b.count)
        for (i, ca) in a.enumerated() {
            var cur = [i + 1] + Array(repeating: 0, count: b.count)
            for (j, cb) in b.enumerated() {
                cur[j + 1] = min(prev[j + 1] + 1, cur[j] + 1, prev[j] + (ca == cb ? 0 : 1))
            }
            prev = cur
        }
        return prev[b.count]
    }
    let w = Array(word.lowercased())
    let scored = candidates.map { ($0, distance(w, Array($0.lowercased()))) }.min { $0.1 < $1.1 }
    guard let best = scored, best.1 <= max(2, w.count / 3) || best.0.hasPrefix(word) else { return nil }
    return best.0
}
