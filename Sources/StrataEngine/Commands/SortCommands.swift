//! SORT and SORT_RO over lists, sets and sorted sets (Redis 7.0 `sort.c` semantics): numeric or ALPHA
//! order, DESC, LIMIT, BY pattern (`nosort` or a pattern without `*` skips sorting; `->`
//! reads a hash field), GET patterns (`#` is the element), and STORE into a list.
//! Elements with equal weights are ordered by their bytes, so the output is deterministic.

/// The sort commands.
public enum SortCommands {
    /// Their table entries.
    public static let specs: [CommandSpec] = [
        CommandSpec(
            "sort", arity: -2, flags: [.write, .denyOOM], keys: (1, 1, 1), group: "generic",
            summary: "Sorts the elements in a list, a set, or a sorted set, optionally storing the result.",
            synopsis:
                "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA] [STORE destination]",
            categories: ["write", "set", "sortedset", "list", "slow", "dangerous"],
            handler: .engine { sort(&$0, readOnly: false) }
        ).findingKeys(keys),
        CommandSpec(
            "sort_ro", arity: -2, flags: [.readonly], keys: (1, 1, 1), group: "generic", since: "7.0.0",
            summary: "Returns the sorted elements of a list, a set, or a sorted set.",
            synopsis: "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA]",
            categories: ["read", "set", "sortedset", "list", "slow", "dangerous"],
            handler: .engine { sort(&$0, readOnly: true) }
        ).findingKeys(keys),
    ]

    /// The keys of a SORT: the key and the STORE destination; nil with BY or GET patterns,
    /// which name keys only the data can tell.
    @Sendable static func keys(_ args: [Bytes]) -> [Bytes]? {
        var keys = [args[1]]
        var index = 2
        while index < args.count {
            let option = args[index]
            if option.equalsIgnoringCase("by") || option.equalsIgnoringCase("get") { return nil }
            if option.equalsIgnoringCase("store"), index + 1 < args.count { keys.append(args[index + 1]) }
            index += option.equalsIgnoringCase("limit") ? 3 : option.equalsIgnoringCase("store") ? 2 : 1
        }
        return keys
    }

    struct Options {
        var by: Bytes?
        var offset = 0
        var count = -1
        var gets: [Bytes] = []
        var descending = false
        var alpha = false
        var store: Bytes?
    }

    static func parse(_ c: CommandContext, readOnly: Bool) -> Result<Options, Reply> {
        var options = Options()
        var i = 2
        let args = c.args
        while i < args.count {
            let word = args[i]
            let remaining = args.count - i - 1
            if word.equalsIgnoringCase("asc") {
                options.descending = false
            } else if word.equalsIgnoringCase("desc") {
                options.descending = true
            } else if word.equalsIgnoringCase("alpha") {
                options.alpha = true
            } else if word.equalsIgnoringCase("limit") && remaining >= 2 {
                guard let offset = c.integer(i + 1), let count = c.integer(i + 2) else {
                    return .failure(Errors.notInteger)
                }
                options.offset = offset
                options.count = count
                i += 2
            } else if word.equalsIgnoringCase("store") && remaining >= 1 && !readOnly {
                options.store = args[i + 1]
                i += 1
            } else if word.equalsIgnoringCase("by") && remaining >= 1 {
                // A pattern without `*` does not sort and reads no key.
                if c.engine.sortPatternsRefused && args[i + 1].withUnsafeBytes({ $0.contains(UInt8(ascii: "*")) }) {
                    return .failure(.error("ERR BY option of SORT denied due to insufficient ACL permissions."))
                }
                options.by = args[i + 1]
                i += 1
            } else if word.equalsIgnoringCase("get") && remaining >= 1 {
                if c.engine.sortPatternsRefused {
                    return .failure(.error("ERR GET option of SORT denied due to insufficient ACL permissions."))
                }
                options.gets.append(args[i + 1])
                i += 1
            } else {
                return .failure(Errors.syntax)
            }
            i += 1
        }
        return .success(options)
    }

    /// Looks up `pattern` with `*` replaced by `element`: a string key, or a hash field
    /// after `->`. `#` returns the element itself.
    static func lookup(_ c: CommandContext, _ pattern: Bytes, _ element: Bytes) -> Bytes? {
        let p = pattern.array
        if p == [UInt8(ascii: "#")] { return element }
        guard let star = p.firstIndex(of: UInt8(ascii: "*")) else { return nil }
        // `key*->field` reads a hash field, when something follows the arrow.
        var arrow: Int?
        var j = star + 1
        while j + 2 < p.count {
            if p[j] == UInt8(ascii: "-") && p[j + 1] == UInt8(ascii: ">") {
                arrow = j
                break
            }
            j += 1
        }
        let key = Bytes(Array(p[..<star]) + element.array + Array(p[(star + 1)..<(arrow ?? p.count)]))
        guard let value = c.lookup(key) else { return nil }
        guard let arrow else { return value.stringBytes }
        guard case .hash(let hash) = value else { return nil }
        return hash.get(Bytes(Array(p[(arrow + 2)...])))
    }

    static func sort(_ c: inout CommandContext, readOnly: Bool) -> Reply {
        let options: Options
        switch parse(c, readOnly: readOnly) {
        case .failure(let error): return error
        case .success(let o): options = o
        }
        var elements: [Bytes]
        // Unsorted, lists and sorted sets keep their own order (reversed for DESC); a set's
        // is arbitrary, so STORE sorts it to be deterministic, as Redis does.
        var hasOrder = false
        var isSet = false
        switch c.lookup(c.args[1]) {
        case nil: elements = []
        case .list(let list)?: (elements, hasOrder) = (Array(list.elements), true)
        case .set(let set)?: (elements, isSet) = (set.members, true)
        case .sortedSet(let zset)?: (elements, hasOrder) = (zset.all.map { $0.member }, true)
        default: return Errors.wrongType
        }
        let sorting = options.by.map { $0.array.contains(UInt8(ascii: "*")) } ?? true
        if sorting {
            var keyed: [(element: Bytes, weight: Bytes?, score: Double)] = []
            keyed.reserveCapacity(elements.count)
            for element in elements {
                let weight = options.by.map { lookup(c, $0, element) } ?? element
                var score = 0.0
                if !options.alpha, let weight {
                    guard let parsed = weight.strictDouble else {
                        return .error("ERR One or more scores can't be converted into double")
                    }
                    score = parsed
                }
                keyed.append((element, weight, score))
            }
            keyed.sort { a, b in
                var order: Int
                if options.alpha {
                    switch (a.weight, b.weight) {
                    case (nil, nil): order = 0
                    case (nil, _): order = -1
                    case (_, nil): order = 1
                    case (let x?, let y?): order = x.compare(y)
                    }
                } else {
                    order = a.score < b.score ? -1 : a.score > b.score ? 1 : 0
                }
                if order == 0 { order = a.element.compare(b.element) }
                return options.descending ? order > 0 : order < 0
            }
            elements = keyed.map { $0.element }
        } else if isSet && options.store != nil {
            elements.sort { $0 < $1 }
        } else if hasOrder && options.descending {
            elements.reverse()
        }
        // Both ends are clamped to the element count first, so huge LIMIT values cannot overflow.
        let start = Swift.min(Swift.max(0, options.offset), elements.count)
        let taken = options.count < 0 ? elements.count : Swift.min(options.count, elements.count)
        let end = Swift.min(elements.count, start + taken)
        let window = start < end ? Array(elements[start..<end]) : []
        var output: [Bytes?] = []
        if options.gets.isEmpty {
            output = window
        } else {
            for element in window {
                for pattern in options.gets { output.append(lookup(c, pattern, element)) }
            }
        }
        if let destination = options.store {
            let existed = c.delete(destination)
            if !output.isEmpty {
                c.store(destination, .list(ListValue(output.map { $0 ?? Bytes() })))
                c.notify(.list, "sortstore", destination)
            } else if existed {
                c.notify(.generic, "del", destination)
            }
            c.changed()
            return .integer(output.count)
        }
        return .array(output.map { .optional($0) })
    }
}
