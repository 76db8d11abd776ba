import RESP

/// A configuration error located in its source, printed as Redis prints a fatal config error.
public struct ConfigLoadError: Error, CustomStringConvertible {
    /// 1-based line number in the combined configuration text.
    public let line: Int
    /// The offending line.
    public let text: String
    /// What is wrong.
    public let reason: String
    /// Where the line came from (a file path, or "command line").
    public let source: String

    public var description: String {
        """

        *** FATAL CONFIG FILE ERROR (Redis \(ServerVersion.redisCompatible)) ***
        Reading the configuration file, at line \(line) of \(source)
        >>> '\(text)'
        \(reason)
        """
    }
}

/// Reads redis.conf syntax: one directive per line, `#` comments, arguments split with
/// Redis's quoting rules (`"..."` with escapes, `'...'`).
public enum ConfigLoader {
    /// Applies configuration `text` to `config`.
    ///
    /// - Parameters:
    ///   - text: the file contents.
    ///   - source: the name to report in errors.
    /// - Throws: ``ConfigLoadError`` naming the line.
    public static func apply(_ text: String, source: String, to config: inout ServerConfig) throws {
        config.savePointsFromFile = true
        defer { config.savePointsFromFile = false }
        var lineNumber = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            let words: [String]
            do {
                var bytes = Array(line.utf8)
                words = try bytes.withUnsafeMutableBytes { raw in
                    try RESPInlineSplitter.split(UnsafeRawBufferPointer(raw))
                }.map { String(decoding: $0, as: UTF8.self) }
            } catch {
                throw ConfigLoadError(
                    line: lineNumber, text: line, reason: "Unbalanced quotes in configuration line", source: source)
            }
            guard let name = words.first else { continue }
            if name.lowercased() == "user" {
                guard words.count >= 2 else {
                    throw ConfigLoadError(
                        line: lineNumber, text: line, reason: "Bad directive or wrong number of arguments",
                        source: source)
                }
                if config.users.contains(where: { $0.first == words[1] }) {
                    throw ConfigLoadError(
                        line: lineNumber, text: line,
                        reason:
                            "Error in user declaration '\(words[1])': Duplicate user found. A user can only be defined once in config files",
                        source: source)
                }
                config.users.append(Array(words.dropFirst()))
                continue
            }
            guard let directive = ConfigDirective.named(name) else {
                throw ConfigLoadError(
                    line: lineNumber, text: line, reason: "Bad directive or wrong number of arguments", source: source)
            }
            do {
                try directive.set(&config, Array(words.dropFirst()))
            } catch let error as ConfigError {
                throw ConfigLoadError(line: lineNumber, text: line, reason: error.description, source: source)
            }
        }
    }

    /// Turns `--name value ...` arguments into configuration lines, as Redis does.
    ///
    /// - Returns: the config file path (the first argument when it does not start with
    ///   `--`), and the text of the options.
    public static func parseArguments(_ arguments: [String]) -> (file: String?, options: String) {
        var file: String?
        var rest = arguments[...]
        if let first = rest.first, !first.hasPrefix("--") {
            file = first
            rest = rest.dropFirst()
        }
        var lines: [String] = []
        var current: [String] = []
        for arg in rest {
            if arg.hasPrefix("--") && arg.count > 2 {
                if !current.isEmpty { lines.append(current.joined(separator: " ")) }
                current = [String(arg.dropFirst(2))]
            } else {
                current.append(quote(arg))
            }
        }
        if !current.isEmpty { lines.append(current.joined(separator: " ")) }
        return (file, lines.joined(separator: "\n"))
    }

    /// Quotes an argument so the config splitter reads it back unchanged.
    static func quote(_ arg: String) -> String {
        if !arg.isEmpty && !arg.contains(where: { $0 == " " || $0 == "\"" || $0 == "'" || $0 == "\\" || $0 == "\t" }) {
            return arg
        }
        var out = "\""
        for ch in arg {
            switch ch {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: out.append(ch)
            }
        }
        return out + "\""
    }
}

extension Substring {
    func trimmingWhitespace() -> String {
        var s = self
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}
