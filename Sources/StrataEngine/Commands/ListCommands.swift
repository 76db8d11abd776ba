//! List commands that do not block (Redis 7.0 `t_list.c` semantics and errors). A list
//! left empty is deleted. The blocking variants (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH,
//! BLMPOP) need the server to park clients and are not implemented yet.

import DequeModule

/// The list commands.
public enum ListCommands {
    static func spec(
        _ name: String, _ arity: Int, _ flags: CommandFlags, keys: (Int, Int, Int) = (1, 1, 1),
        since: String = "1.0.0", _ summary: String, _ synopsis: String,
        _ handler: @escaping (inout CommandContext) -> Reply
    ) -> CommandSpec {
        .dataType(name, arity, flags, group: "list", keys: keys, since: since, summary, synopsis, handler)
    }

    /// Their table entries.
    public static let specs: [CommandSpec] = [
        spec(
            "lpush", -3, [.write, .denyOOM, .fast],
            "Prepends one or more elements to a list. Creates the key if it doesn't exist.",
            "key element [element ...]"
        ) { push(&$0, head: true, onlyIfExists: false) },
        spec(
            "rpush", -3, [.write, .denyOOM, .fast],
            "Appends one or more elements to a list. Creates the key if it doesn't exist.",
            "key element [element ...]"
        ) { push(&$0, head: false, onlyIfExists: false) },
        spec(
            "lpushx", -3, [.write, .denyOOM, .fast], since: "2.2.0",
            "Prepends one or more elements to a list only when the list exists.",
            "key element [element ...]"
        ) { push(&$0, head: true, onlyIfExists: true) },
        spec(
            "rpushx", -3, [.write, .denyOOM, .fast], since: "2.2.0",
            "Appends an element to a list only when the list exists.",
            "key element [element ...]"
        ) { push(&$0, head: false, onlyIfExists: true) },
        spec(
            "lpop", -2, [.write, .fast],
            "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.",
            "key [count]"
        ) { pop(&$0, head: true) },
        spec(
            "rpop", -2, [.write, .fast],
            "Returns and removes the last elements of a list. Deletes the list if the last element was popped.",
            "key [count]"
        ) { pop(&$0, head: false) },
        spec("llen", 2, [.readonly, .fast], "Returns the length of a list.", "key", llen),
        spec("lrange", 4, [.readonly], "Returns a range of elements from a list.", "key start stop", lrange),
        spec("lindex", 3, [.readonly], "Returns an element from a list by its index.", "key index", lindex),
        spec(
            "lset", 4, [.write, .denyOOM], "Sets the value of an element in a list by its index.", "key index element",
            lset),
        spec(
            "lrem", 4, [.write], "Removes elements from a list. Deletes the list if the last element was removed.",
            "key count element", lrem),
        spec(
            "ltrim", 4, [.write],
            "Removes elements from both ends a list. Deletes the list if all elements were trimmed.",
            "key start stop", ltrim),
        spec(
            "linsert", 5, [.write, .denyOOM], since: "2.2.0",
            "Inserts an element before or after another element in a list.",
            "key BEFORE|AFTER pivot element", linsert),
        spec(
            "lpos", -3, [.readonly], since: "6.0.6", "Returns the index of matching elements in a list.",
            "key element [RANK rank] [COUNT num-matches] [MAXLEN len]", lpos),
        spec(
            "lmove", 5, [.write, .denyOOM], keys: (1, 2, 1), since: "6.2.0",
            "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.",
            "source destination LEFT|RIGHT LEFT|RIGHT", lmove),
        spec(
            "rpoplpush", 3, [.write, .denyOOM], keys: (1, 2, 1), since: "1.2.0",
            "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.",
            "source destination"
        ) { move(&$0, fromHead: false, toHead: true) },
        spec(
            "lmpop", -4, [.write], keys: (2, -1, 1), since: "7.0.0",
            "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.",
            "numkeys key [key ...] LEFT|RIGHT [COUNT count]", lmpop),
    ]

    static func push(_ c: inout CommandContext, head: Bool, onlyIfExists: Bool) -> Reply {
        let elements = c.args.dropFirst(2)
        let outcome = c.modifyCollection(c.args[1], .list, create: !onlyIfExists) { list -> Int in
            for element in elements {
                if head { list.elements.prepend(element) } else { list.elements.append(element) }
            }
            return list.count
        }
        switch outcome {
        case .failure(let error): return error
        case .success(let length):
            if length != nil {
                c.changed(elements.count)
                c.notify(.list, head ? "lpush" : "rpush", c.args[1])
            }
            return .integer(length ?? 0)
        }
    }

    /// Removes up to `count` elements from one end of the list at `key`.
    static func popElements(
        _ c: inout CommandContext, _ key: Bytes, head: Bool, count: Int, announce: Bool = true
    ) -> Result<[Bytes]?, Reply> {
        let outcome = c.modifyCollection(key, .list, create: false) { list -> [Bytes] in
            var popped: [Bytes] = []
            popped.reserveCapacity(Swift.min(count, list.count))
            while popped.count < count, let element = head ? list.elements.popFirst() : list.elements.popLast() {
                popped.append(element)
            }
            return popped
        }
        if announce, case .success(let popped?) = outcome, !popped.isEmpty {
            c.notify(.list, head ? "lpop" : "rpop", key)
        }
        return outcome
    }

    static func pop(_ c: inout CommandContext, head: Bool) -> Reply {
        guard c.args.count <= 3 else { return Errors.arity(c.commandName) }
        var count: Int?
        if c.args.count == 3 {
            guard let n = c.integer(2), n >= 0 else { return .error("ERR value is out of range, must be positive") }
            count = n
        }
        switch popElements(&c, c.args[1], head: head, count: count ?? 1) {
        case .failure(let error): return error
        case .success(nil): return count == nil ? .null : .nullArray
        case .success(let popped?):
            c.changed(popped.count)
            if count == nil { return .optional(popped.first) }
            return .array(popped.map { .bulk($0) })
        }
    }

    static func llen(_ c: inout CommandContext) -> Reply {
        c.replyReading(c.args[1], .list) { .integer($0?.count ?? 0) }
    }

    static func lrange(_ c: inout CommandContext) -> Reply {
        guard let start = c.integer(2), let stop = c.integer(3) else { return Errors.notInteger }
        return c.replyReading(c.args[1], .list) { list in
            guard let list, let range = list.range(start, stop) else { return .array([]) }
            return .array(list.elements[range].map { .bulk($0) })
        }
    }

    static func lindex(_ c: inout CommandContext) -> Reply {
        // As Redis: the key (missing: nil, another type: WRONGTYPE) before the index.
        let index = c.integer(2)
        return c.replyReading(c.args[1], .list) { list in
            guard let list else { return .null }
            guard let index else { return Errors.notInteger }
            guard let offset = list.offset(index) else { return .null }
            return .bulk(list.elements[offset])
        }
    }

    private enum ListSetOutcome { case notInteger, outOfRange, set }

    static func lset(_ c: inout CommandContext) -> Reply {
        // As Redis: the key (missing: no such key, another type: WRONGTYPE) before the index.
        let index = c.integer(2)
        let element = c.args[3]
        let outcome = c.modifyCollection(c.args[1], .list, create: false) { list -> ListSetOutcome in
            guard let index else { return .notInteger }
            guard let offset = list.offset(index) else { return .outOfRange }
            list.elements[offset] = element
            return .set
        }
        switch outcome {
        case .failure(let error): return error
        case .success(nil): return Errors.noSuchKey
        case .success(.notInteger?): return Errors.notInteger
        case .success(.outOfRange?): return .error("ERR index out of range")
        case .success(.set?):
            c.changed()
            c.notify(.list, "lset", c.args[1])
            return .ok
        }
    }

    static func lrem(_ c: inout CommandContext) -> Reply {
        guard let count = c.integer(2) else { return Errors.notInteger }
        let element = c.args[3]
        let outcome = c.modifyCollection(c.args[1], .list, create: false) { list -> Int in
            let limit = count == 0 ? Int.max : count.magnitude > UInt(Int.max) ? Int.max : abs(count)
            var removed = 0
            if count >= 0 {
                var kept: [Bytes] = []
                kept.reserveCapacity(list.count)
                for item in list.elements {
                    if removed < limit && item == element { removed += 1 } else { kept.append(item) }
                }
                if removed > 0 { list.elements = Deque(kept) }
            } else {
                var kept: [Bytes] = []
                for item in list.elements.reversed() {
                    if removed < limit && item == element { removed += 1 } else { kept.append(item) }
                }
                if removed > 0 { list.elements = Deque(kept.reversed()) }
            }
            return removed
        }
        return c.countReply(outcome, .list, "lrem")
    }

    static func ltrim(_ c: inout CommandContext) -> Reply {
        guard let start = c.integer(2), let stop = c.integer(3) else { return Errors.notInteger }
        let outcome = c.modifyCollection(c.args[1], .list, create: false) { list in
            if let range = list.range(start, stop) {
                list.elements.removeLast(list.count - 1 - range.upperBound)
                list.elements.removeFirst(range.lowerBound)
            } else {
                list.elements.removeAll()
            }
        }
        if case .failure(let error) = outcome { return error }
        c.changed()
        if case .success(.some) = outcome { c.notify(.list, "ltrim", c.args[1]) }
        return .ok
    }

    static func linsert(_ c: inout CommandContext) -> Reply {
        let before: Bool
        if c.args[2].equalsIgnoringCase("before") {
            before = true
        } else if c.args[2].equalsIgnoringCase("after") {
            before = false
        } else {
            return Errors.syntax
        }
        let (pivot, element) = (c.args[3], c.args[4])
        let outcome = c.modifyCollection(c.args[1], .list, create: false) { list -> Int in
            guard let index = list.elements.firstIndex(of: pivot) else { return -1 }
            list.elements.insert(element, at: before ? index : index + 1)
            return list.count
        }
        switch outcome {
        case .failure(let error): return error
        case .success(let length):
            if let length, length > 0 {
                c.changed()
                c.notify(.list, "linsert", c.args[1])
            }
            return .integer(length ?? 0)
        }
    }

    static func lpos(_ c: inout CommandContext) -> Reply {
        var rank = 1
        var count: Int?
        var maxLength = 0
        var i = 3
        while i < c.args.count {
            guard i + 1 < c.args.count else { return Errors.syntax }
            // As Redis: the option name first, then its number; COUNT and MAXLEN reply with
            // their own message for a non-integer too.
            let n = c.integer(i + 1)
            if c.args[i].equalsIgnoringCase("rank") {
                guard let n else { return Errors.notInteger }
                guard n != 0 else {
                    return .error(
                        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
                    )
                }
                // Redis 7.0 negates LONG_MIN into itself and then takes the first match from
                // the tail: the same as RANK -1.
                rank = n == Int.min ? -1 : n
            } else if c.args[i].equalsIgnoringCase("count") {
                guard let n, n >= 0 else { return .error("ERR COUNT can't be negative") }
                count = n
            } else if c.args[i].equalsIgnoringCase("maxlen") {
                guard let n, n >= 0 else { return .error("ERR MAXLEN can't be negative") }
                maxLength = n
            } else {
                return Errors.syntax
            }
            i += 2
        }
        let element = c.args[2]
        return c.replyReading(c.args[1], .list) { list in
            var matches: [Int] = []
            let wanted = count.map { $0 == 0 ? Int.max : $0 } ?? 1
            if let list {
                let indices: [Int] = rank > 0 ? Array(0..<list.count) : Array((0..<list.count).reversed())
                var skip = abs(rank) - 1
                for (scanned, index) in indices.enumerated() {
                    if maxLength > 0 && scanned >= maxLength { break }
                    guard list.elements[index] == element else { continue }
                    if skip > 0 {
                        skip -= 1
                        continue
                    }
                    matches.append(index)
                    if matches.count >= wanted { break }
                }
            }
            if count == nil { return matches.first.map { .integer($0) } ?? .null }
            return .array(matches.map { .integer($0) })
        }
    }

    static func lmove(_ c: inout CommandContext) -> Reply {
        guard let from = side(c.args[3]), let to = side(c.args[4]) else { return Errors.syntax }
        return move(&c, fromHead: from, toHead: to)
    }

    /// `LEFT` → true (head), `RIGHT` → false; nil otherwise.
    static func side(_ word: Bytes) -> Bool? {
        if word.equalsIgnoringCase("left") { return true }
        if word.equalsIgnoringCase("right") { return false }
        return nil
    }

    static func move(_ c: inout CommandContext, fromHead: Bool, toHead: Bool) -> Reply {
        let (source, destination) = (c.args[1], c.args[2])
        switch c.readCollection(source, .list) {
        case .failure(let error): return error
        case .success(nil): return .null
        case .success: break
        }
        if case .failure(let error) = c.readCollection(destination, .list) { return error }
        if source == destination {
            // Rotated in place: popping the only element first would delete the key, and
            // with it its time to live.
            let moved = c.modifyCollection(source, .list, create: false) { list -> Bytes? in
                guard let element = fromHead ? list.elements.popFirst() : list.elements.popLast() else { return nil }
                if toHead { list.elements.prepend(element) } else { list.elements.append(element) }
                return element
            }
            guard case .success(let element??) = moved else { return .null }
            c.notify(.list, toHead ? "lpush" : "rpush", destination)
            c.notify(.list, fromHead ? "lpop" : "rpop", source)
            c.changed()
            return .bulk(element)
        }
        guard case .success(let popped?) = popElements(&c, source, head: fromHead, count: 1, announce: false),
            let element = popped.first
        else { return .null }
        _ = c.modifyCollection(destination, .list, create: true) { list in
            if toHead { list.elements.prepend(element) } else { list.elements.append(element) }
        }
        c.notify(.list, toHead ? "lpush" : "rpush", destination)
        c.notify(.list, fromHead ? "lpop" : "rpop", source)
        c.changed()
        return .bulk(element)
    }

    static func lmpop(_ c: inout CommandContext) -> Reply {
        guard let numkeys = c.integer(1), numkeys > 0 else { return .error("ERR numkeys should be greater than 0") }
        guard numkeys <= c.args.count - 3 else { return Errors.syntax }
        let sideIndex = 2 + numkeys
        guard let head = side(c.args[sideIndex]) else { return Errors.syntax }
        var count = 1
        if c.args.count > sideIndex + 1 {
            guard c.args.count == sideIndex + 3, c.args[sideIndex + 1].equalsIgnoringCase("count") else {
                return Errors.syntax
            }
            guard let n = c.integer(sideIndex + 2), n > 0 else { return .error("ERR count should be greater than 0") }
            count = n
        }
        for key in c.args[2..<sideIndex] {
            switch popElements(&c, key, head: head, count: count) {
            case .failure(let error): return error
            case .success(nil): continue
            case .success(let popped?):
                c.changed(popped.count)
                return .array([.bulk(key), .array(popped.map { .bulk($0) })])
            }
        }
        return .nullArray
    }
}
