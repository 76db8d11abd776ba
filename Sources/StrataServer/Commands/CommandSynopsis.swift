//! Turns a command's synopsis (`key value [NX|XX] [EX seconds|PX milliseconds]`) into the
//! argument structure `COMMAND DOCS` reports, from which redis-cli builds its hints.

import StrataEngine

/// One documented argument.
struct DocumentedArgument: Equatable {
    var name: String
    var type: String
    var token: String?
    var optional = false
    var multiple = false
    var children: [DocumentedArgument] = []

    var reply: Reply {
        var fields: [(Reply, Reply)] = [(.text("name"), .text(name)), (.text("type"), .text(type))]
        if let token { fields.append((.text("token"), .text(token))) }
        var flags: [Reply] = []
        if optional { flags.append(.status("optional")) }
        if multiple { flags.append(.status("multiple")) }
        if !flags.isEmpty { fields.append((.text("flags"), .set(flags))) }
        if !children.isEmpty { fields.append((.text("arguments"), .array(children.map { $0.reply }))) }
        return .map(fields)
    }
}

/// Parser of synopsis strings.
enum CommandSynopsis {
    /// Parses a synopsis into arguments.
    static func parse(_ synopsis: String) -> [DocumentedArgument] {
        var tokens = tokenize(synopsis)[...]
        return sequence(&tokens, closing: nil)
    }

    private static func tokenize(_ text: String) -> [String] {
        var tokens: [String] = []
        var word = ""
        for ch in text {
            if ch == "[" || ch == "]" || ch == "|" || ch == " " {
                if !word.isEmpty { tokens.append(word) }
                word = ""
                if ch != " " { tokens.append(String(ch)) }
            } else {
                word.append(ch)
            }
        }
        if !word.isEmpty { tokens.append(word) }
        return tokens
    }

    /// Parses alternatives separated by `|` until `closing`; each alternative is a sequence.
    private static func sequence(_ tokens: inout ArraySlice<String>, closing: String?) -> [DocumentedArgument] {
        var alternatives: [[DocumentedArgument]] = [[]]
        while let token = tokens.first {
            tokens = tokens.dropFirst()
            if token == closing { break }
            switch token {
            case "|":
                alternatives.append([])
            case "[":
                let inner = sequence(&tokens, closing: "]")
                if inner.last?.name == "..." {
                    if var last = alternatives[alternatives.count - 1].popLast() {
                        last.multiple = true
                        alternatives[alternatives.count - 1].append(last)
                    }
                    continue
                }
                var argument =
                    inner.count == 1 ? inner[0] : DocumentedArgument(name: "block", type: "block", children: inner)
                argument.optional = true
                if let previous = alternatives[alternatives.count - 1].last, previous.name == argument.name,
                    argument.children.isEmpty
                {
                    // `key [key ...]`: the repeated form marks the first as multiple.
                    alternatives[alternatives.count - 1][alternatives[alternatives.count - 1].count - 1].multiple = true
                    continue
                }
                alternatives[alternatives.count - 1].append(argument)
            default:
                if token == "..." {
                    alternatives[alternatives.count - 1].append(DocumentedArgument(name: "...", type: "string"))
                } else if token.uppercased() == token && token.lowercased() != token {
                    alternatives[alternatives.count - 1].append(
                        DocumentedArgument(name: token.lowercased(), type: "pure-token", token: token))
                } else {
                    let type = token == "key" || token.hasSuffix("key") ? "key" : "string"
                    if let previousIndex = alternatives[alternatives.count - 1].indices.last,
                        alternatives[alternatives.count - 1][previousIndex].type == "pure-token",
                        alternatives[alternatives.count - 1][previousIndex].children.isEmpty
                    {
                        // `EX seconds`: a token followed by its value becomes one argument.
                        var previous = alternatives[alternatives.count - 1][previousIndex]
                        previous.name = token
                        previous.type = type
                        alternatives[alternatives.count - 1][previousIndex] = previous
                    } else {
                        alternatives[alternatives.count - 1].append(DocumentedArgument(name: token, type: type))
                    }
                }
            }
        }
        if alternatives.count == 1 { return alternatives[0] }
        let options = alternatives.map { group -> DocumentedArgument in
            group.count == 1 ? group[0] : DocumentedArgument(name: "block", type: "block", children: group)
        }
        return [DocumentedArgument(name: "choice", type: "oneof", children: options)]
    }
}
