import Cluster
import Foundation

/// Whether the management API accepts the inventory's credentials. A refusal is said once (a
/// notice when the target loads, a preflight check), and from then on the backend reads through
/// the CLI tools without asking the API again (``ManagementClient/Refusal``).
extension RabbitMQBackend {
    /// Asks the first management API that answers who the credentials are (`GET /api/whoami`).
    /// - Returns: the refusal in words, or nil when they were accepted, when there are none, or
    ///   when no API answered.
    public func credentialsRefusal() -> String? {
        guard http.credentials != nil else { return nil }
        if let r = http.refusal { return r.description }
        return whoami().refusal
    }

    /// The user the API knows the credentials as, and its tags; or the refusal; or neither when
    /// no management API answered.
    func whoami() -> (user: String?, tags: [String], url: String?, refusal: String?) {
        for n in orderedNodes {
            guard let base = n.management else { continue }
            do {
                let r = try http.request("GET", base: base, path: "/api/whoami")
                if r.status == 401 { return (nil, [], base, http.refusal?.description) }
                struct WhoAmI: Decodable {
                    var name: String
                    var tags: Tags?
                    enum Tags: Decodable {
                        case list([String]), text(String)
                        init(from decoder: Decoder) throws {
                            let c = try decoder.singleValueContainer()
                            if let l = try? c.decode([String].self) { self = .list(l) } else { self = .text(try c.decode(String.self)) }
                        }
                        var names: [String] {
                            switch self {
                            case .list(let l): return l
                            case .text(let t): return t.split(separator: ",").map(String.init)
                            }
                        }
                    }
                }
                if r.status == 200, let w = r.decode(WhoAmI.self) { return (w.name, w.tags?.names ?? [], base, nil) }
            } catch ManagementClient.Failure.timedOut {
                return (nil, [], nil, nil)
            } catch {
                continue
            }
        }
        return (nil, [], nil, nil)
    }

    /// Checks the credentials once; a refusal becomes a notice, shown once when the target loads.
    public func checkCredentials() {
        if let r = credentialsRefusal(), !notices.contains(r) { notices.append(r) }
    }

    /// Preflight: the management credentials are accepted.
    func credentialsCheck() -> PreflightCheck {
        guard let creds = http.credentials else {
            return .init(name: "management credentials", outcome: .warn,
                         detail: "none: the inventory's management.user_env/password_env variables are not set; reads use the CLI tools (slower), and declaring queues, publishing and the canary are unavailable")
        }
        if let r = http.refusal { return .init(name: "management credentials", outcome: .fail, detail: r.description) }
        let w = whoami()
        if let refusal = w.refusal { return .init(name: "management credentials", outcome: .fail, detail: refusal) }
        guard let user = w.user, let url = w.url else {
            return .init(name: "management credentials", outcome: .warn, detail: "no management API answered; user '\(creds.user)' not checked")
        }
        return .init(name: "management credentials", outcome: .pass,
                     detail: "user '\(user)' accepted by \(url)\(w.tags.isEmpty ? "" : " (tags: \(w.tags.joined(separator: ", ")))")")
    }
}
