import Cluster
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A time-boxed, synchronous client for the management HTTP API.
final class ManagementClient {
    enum Failure: Error, CustomStringConvertible {
        /// Connection refused, host unreachable...: the listener is not there.
        case unreachable(String)
        /// No answer within the time box (3.10.8 queue listings can stall 30-40 s).
        case timedOut(Double)
        /// No credentials: neither the environment variables nor allow_guest.
        case noCredentials
        /// A status other than the expected ones.
        case status(Int, String)
        /// The credentials were refused earlier: no request is sent again (``Refusal``).
        case refused(String)

        var description: String {
            switch self {
            case .unreachable(let m): return "management API unreachable: \(m)"
            case .timedOut(let s): return "management API did not answer within \(s) s"
            case .noCredentials: return "no management credentials in the environment"
            case .status(let c, let b): return "management API answered \(c): \(b.prefix(300))"
            case .refused(let m): return m
            }
        }
    }

    struct Response {
        var status: Int
        var body: Data
        func decode<T: Decodable>(_ type: T.Type) -> T? { try? JSONDecoder().decode(T.self, from: body) }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// A 401: the user, where, and the broker's reason. Once refused, the client sends nothing
    /// more (every request would be refused the same way) and the backend reads through the CLI.
    struct Refusal: CustomStringConvertible {
        var user: String
        var url: String
        var reason: String

        var description: String {
            var m = "the management API at \(url) refused user '\(user)' (HTTP 401\(reason.isEmpty ? "" : ": " + reason))"
            if user == "guest" {
                m += "; guest may log in from loopback only (loopback_users.guest, the default), so any other host is refused"
                m += ": create a management user (`rabbitmqctl add_user`, `set_user_tags NAME administrator`, `set_permissions`) and name its variables in the inventory's management.user_env and password_env"
            } else if reason.contains("Not management user") {
                m += "; the user needs the management (or administrator) tag: `rabbitmqctl set_user_tags \(user) administrator`"
            } else {
                m += "; check the user and password the inventory's management.user_env and password_env variables hold"
            }
            return m + ". Reads go through the CLI tools from now on (slower), without asking the API again"
        }
    }

    let timeout: Double
    let credentials: (user: String, password: String)?
    private let refusalLock = NSLock()
    private var refusalValue: Refusal?
    /// Set by the first 401; nil while the credentials have not been refused.
    var refusal: Refusal? { refusalLock.withLock { refusalValue } }
    private let session: URLSession
    private let challenges = ChallengeRefuser()
    var onRequest: ((CommandRecord) -> Void)?
    /// Why a host cannot answer, known without asking it (it does not resolve, or was silent a
    /// moment ago); such a request fails at once instead of waiting out its time box.
    var knownUnreachable: ((String) -> String?)?
    /// Where a request in flight is shown (see ``Waits``).
    var waits: Waits?

    /// Answers the server's request for credentials (a 401 with `WWW-Authenticate`) by cancelling
    /// the task: the credentials were already sent, and swift-corelibs-foundation would otherwise
    /// hold the task until its time box. The task is remembered, so its cancellation reads as 401.
    final class ChallengeRefuser: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
        private let lock = NSLock()
        private var refused = Set<Int>()

        func urlSession(_ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
                        completionHandler: @escaping (URLSession.AuthChallengeDisposition, URLCredential?) -> Void) {
            lock.withLock { _ = refused.insert(task.taskIdentifier) }
            completionHandler(.cancelAuthenticationChallenge, nil)
        }

        func wasRefused(_ task: URLSessionTask) -> Bool { lock.withLock { refused.remove(task.taskIdentifier) != nil } }
    }

    init(timeout: Double, credentials: (user: String, password: String)?) {
        self.timeout = timeout
        self.credentials = credentials
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = timeout
        config.timeoutIntervalForResource = 600  // each request carries its own time box
        config.requestCachePolicy = .reloadIgnoringLocalCacheData
        config.httpMaximumConnectionsPerHost = 4
        session = URLSession(configuration: config, delegate: challenges, delegateQueue: nil)
    }

    deinit { session.invalidateAndCancel() }

    /// Sends one request; returns any HTTP response, or throws when there is none in time.
    func request(_ method: String, base: String, path: String, body: Any? = nil, timeout: Double? = nil) throws -> Response {
        guard let creds = credentials else { throw Failure.noCredentials }
        if let r = refusal { throw Failure.refused(r.description) }
        let trimmed = base.hasSuffix("/") ? String(base.dropLast()) : base
        guard let url = URL(string: trimmed + path) else { throw Failure.unreachable("bad URL \(trimmed + path)") }
        if let host = url.host, let why = knownUnreachable?(host) { throw Failure.unreachable(why) }
        let limit = timeout ?? self.timeout
        var req = URLRequest(url: url, timeoutInterval: limit)
        req.httpMethod = method
        let token = Data("\(creds.user):\(creds.password)".utf8).base64EncodedString()
        req.setValue("Basic \(token)", forHTTPHeaderField: "Authorization")
        if let body = body {
            req.httpBody = try? JSONSerialization.data(withJSONObject: body)
            req.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        final class Box: @unchecked Sendable { var data: Data?; var response: URLResponse?; var error: Error? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        let start = monotonicSeconds()
        let task = session.dataTask(with: req) { data, response, error in
            box.data = data
            box.response = response
            box.error = error
            done.signal()
        }
        task.resume()
        let argv = [method, url.absoluteString]
        let waitID = waits?.begin("\(method) \(url.path)", limit: limit)
        let answered = done.wait(timeout: .now() + limit + 0.2)
        if let waitID { waits?.end(waitID, ok: answered == .success) }
        if answered == .timedOut {
            task.cancel()
            onRequest?(CommandRecord(kind: .http, argv: argv, exitCode: -1, duration: monotonicSeconds() - start,
                                     output: "no answer within \(limit) s", timedOut: true))
            throw Failure.timedOut(limit)
        }
        let duration = monotonicSeconds() - start
        if challenges.wasRefused(task) {
            let refusal = Refusal(user: creds.user, url: trimmed, reason: "")
            refusalLock.withLock { refusalValue = refusalValue ?? refusal }
            onRequest?(CommandRecord(kind: .http, argv: argv, exitCode: 401, duration: duration,
                                     output: refusal.description, timedOut: false))
            return Response(status: 401, body: Data())
        }
        if let error = box.error {
            let ns = error as NSError
            let timedOut = ns.code == NSURLErrorTimedOut
            onRequest?(CommandRecord(kind: .http, argv: argv, exitCode: -1, duration: duration,
                                     output: ns.localizedDescription, timedOut: timedOut))
            if timedOut { throw Failure.timedOut(limit) }
            throw Failure.unreachable("\(url.absoluteString): \(ns.localizedDescription)")
        }
        let status = (box.response as? HTTPURLResponse)?.statusCode ?? 0
        let data = box.data ?? Data()
        if status == 401 {
            struct Body: Decodable { var reason: String? }
            let reason = (try? JSONDecoder().decode(Body.self, from: data))?.reason ?? String(decoding: data.prefix(200), as: UTF8.self)
            let refusal = Refusal(user: creds.user, url: trimmed, reason: reason)
            refusalLock.withLock { refusalValue = refusalValue ?? refusal }
            onRequest?(CommandRecord(kind: .http, argv: argv, exitCode: 401, duration: duration, output: refusal.description, timedOut: false))
            return Response(status: status, body: data)
        }
        // Definitions hold every user's password hash: the journal gets their size only.
        let recorded = path.hasPrefix("/api/definitions") ? "\(data.count) bytes of definitions (not recorded: they hold password hashes)"
            : String(decoding: data.prefix(4096 + 1024), as: UTF8.self)  // the record keeps 4096 once redacted
        onRequest?(CommandRecord(kind: .http, argv: argv, exitCode: Int32(status), duration: duration,
                                 output: recorded, timedOut: false))
        return Response(status: status, body: data)
    }

    /// A GET that must answer 200 with a JSON document of type T.
    func get<T: Decodable>(_ type: T.Type, base: String, path: String) throws -> T {
        let r = try request("GET", base: base, path: path)
        guard r.status == 200 else { throw Failure.status(r.status, r.text) }
        do {
            return try JSONDecoder().decode(T.self, from: r.body)
        } catch {
            throw Failure.status(r.status, "unexpected answer: \(r.text)")
        }
    }
}
