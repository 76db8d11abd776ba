/// `client-output-buffer-limit`: for each client class, a hard limit (bytes) and a soft
/// limit (bytes held for longer than some seconds) on replies queued for a client that is
/// not reading. A client past either is disconnected; 0 disables a limit. Redis's classes
/// and defaults: `normal 0 0 0`, `replica 256mb 64mb 60`, `pubsub 32mb 8mb 60`.
public struct OutputBufferLimits: Sendable, Equatable {
    /// One class's limits.
    public struct Limit: Sendable, Equatable {
        public var hardBytes: Int
        public var softBytes: Int
        public var softSeconds: Int
    }

    /// Ordinary clients.
    public var normal = Limit(hardBytes: 0, softBytes: 0, softSeconds: 0)
    /// Replicas (accepted and reported; Strata has no replication yet).
    public var replica = Limit(hardBytes: 256 * 1024 * 1024, softBytes: 64 * 1024 * 1024, softSeconds: 60)
    /// Clients subscribed to channels or patterns.
    public var pubsub = Limit(hardBytes: 32 * 1024 * 1024, softBytes: 8 * 1024 * 1024, softSeconds: 60)

    public init() {}

    /// As `CONFIG GET` prints it (Redis spells the replica class `slave`).
    public var text: String {
        [("normal", normal), ("slave", replica), ("pubsub", pubsub)].map {
            "\($0.0) \($0.1.hardBytes) \($0.1.softBytes) \($0.1.softSeconds)"
        }.joined(separator: " ")
    }

    /// Applies `class hard soft seconds` groups; every group is checked before any applies.
    /// No groups at all (`CONFIG SET client-output-buffer-limit ""`) change nothing, as in
    /// Redis.
    mutating func apply(_ words: [String]) throws {
        guard words.count % 4 == 0 else {
            throw ConfigError.invalidValue("Wrong number of arguments in buffer limit configuration.")
        }
        var updated = self
        for start in stride(from: 0, to: words.count, by: 4) {
            let limit: Limit
            do {
                limit = Limit(
                    hardBytes: try ConfigValueParsing.memory(words[start + 1]),
                    softBytes: try ConfigValueParsing.memory(words[start + 2]),
                    softSeconds: try ConfigValueParsing.integer(words[start + 3], 0...Int(Int32.max)))
            } catch {
                throw ConfigError.invalidValue(
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration.")
            }
            switch words[start].lowercased() {
            case "normal": updated.normal = limit
            case "slave", "replica": updated.replica = limit
            case "pubsub": updated.pubsub = limit
            default: throw ConfigError.invalidValue("Invalid client class specified in buffer limit configuration.")
            }
        }
        self = updated
    }
}
