import Text
#if canImport(Glibc)
import Glibc
#endif

extension LuaState {
    /// Installs `require`: it loads Lua source modules (never native ones) from the given roots
    /// only, by dotted name (`require "lib.helpers"` reads `ROOT/lib/helpers.lua`), once each.
    public func installRequire(roots: [String]) {
        let finder: HostFunction = { args in
            let name = try args.string(0)
            guard name.wholeMatch(of: LuaState.moduleName) != nil else {
                throw LuaArgumentError("require '\(name)': module names are dotted Lua identifiers such as 'lib.helpers'; paths are not allowed")
            }
            let relative = name.split(separator: ".").joined(separator: "/")
            for root in roots {
                for candidate in ["\(root)/\(relative).lua", "\(root)/\(relative)/init.lua"] {
                    if let source = LuaState.readFile(candidate) { return [.string(source), .string(candidate)] }
                }
            }
            let searched = roots.isEmpty ? "(no runbook path)" : roots.joined(separator: ", ")
            throw LuaArgumentError("require '\(name)': no Lua module '\(relative).lua' in the runbook path (\(searched)); only Lua source modules can be required")
        }
        register("require", finder)
        _ = try? call(load("""
            local find, load, loaded = require, load, {}
            require = function(name)
              if loaded[name] ~= nil then return loaded[name] end
              local source, path = find(name)
              local chunk, err = load(source, "@" .. path, "t")
              if not chunk then error(err, 2) end
              local result = chunk(name, path)
              if result == nil then result = true end
              loaded[name] = result
              return result
            end
            """, chunkName: "require"), [], routesInterrupts: false)
    }

    static let moduleName = try! Regex("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*")

    /// A regular file's contents as UTF-8 text, or nil.
    static func readFile(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n <= 0 { break }
            bytes.append(contentsOf: buf[0..<n])
        }
        return ByteText.string(bytes)
    }
}
