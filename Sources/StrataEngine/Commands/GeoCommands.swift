//! Geo commands (Redis 7.0 `geo.c` semantics and errors) over ordinary sorted sets whose
//! scores are 52-bit geohashes (`Types/Geohash.swift`): GEOADD (a ZADD of the encoded
//! positions, with its options, reply and `zadd` event), GEOPOS, GEOHASH and GEODIST.
//! The searches (GEOSEARCH, GEOSEARCHSTORE and the GEORADIUS family) are in
//! `GeoSearchCommands`.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The geo commands that add and read positions.
public enum GeoCommands {
    static func spec(
        _ name: String, _ arity: Int, _ flags: CommandFlags, keys: (Int, Int, Int) = (1, 1, 1),
        since: String = "3.2.0", _ summary: String, _ synopsis: String,
        _ handler: @escaping (inout CommandContext) -> Reply
    ) -> CommandSpec {
        .dataType(name, arity, flags, group: "geo", keys: keys, since: since, summary, synopsis, handler)
    }

    /// Their table entries.
    public static let specs: [CommandSpec] = [
        spec(
            "geoadd", -5, [.write, .denyOOM],
            "Add one or more geospatial items in the geospatial index represented using a sorted set",
            "key [NX|XX] [CH] longitude latitude member [longitude latitude member ...]", add),
        spec(
            "geopos", -2, [.readonly], "Returns longitude and latitude of members of a geospatial index",
            "key [member [member ...]]", position),
        spec(
            "geohash", -2, [.readonly], "Returns members of a geospatial index as standard geohash strings",
            "key [member [member ...]]", hash),
        spec(
            "geodist", -4, [.readonly], "Returns the distance between two members of a geospatial index",
            "key member1 member2 [M|KM|FT|MI]", distance),
    ]

    // MARK: Arguments and replies shared with the searches

    /// A longitude, latitude pair from two arguments: floats, within the storable limits.
    static func coordinates(_ longitude: Bytes, _ latitude: Bytes) -> Result<(Double, Double), Reply> {
        guard let x = longitude.strictDouble, let y = latitude.strictDouble else { return .failure(Errors.notFloat) }
        guard Geohash.isValid(longitude: x, latitude: y) else {
            return .failure(.error("ERR invalid longitude,latitude pair \(printf("%f", x)),\(printf("%f", y))"))
        }
        return .success((x, y))
    }

    /// Meters per unit of a unit argument (any case).
    static func metersPerUnit(_ unit: Bytes) -> Result<Double, Reply> {
        if unit.equalsIgnoringCase("m") { return .success(1) }
        if unit.equalsIgnoringCase("km") { return .success(1000) }
        if unit.equalsIgnoringCase("ft") { return .success(0.3048) }
        if unit.equalsIgnoringCase("mi") { return .success(1609.34) }
        return .failure(.error("ERR unsupported unit provided. please use M, KM, FT, MI"))
    }

    /// A distance as the geo commands reply it: a bulk string with four decimals.
    static func distanceReply(_ value: Double) -> Reply {
        .bulk(Bytes(printf("%.4f", value)))
    }

    /// A coordinate as GEOPOS and WITHCOORD reply it: Redis's human long double format.
    static func coordinateReply(_ value: Double) -> Reply {
        .formattedDouble(NumberFormat.humanFloat(Float80(value)).string)
    }

    /// One double through C's `printf` with `format`.
    static func printf(_ format: String, _ value: Double) -> String {
        // "%f" of the largest double has 309 integer digits.
        var buffer = [CChar](repeating: 0, count: 400)
        let count = buffer.withUnsafeMutableBufferPointer { pointer in
            withVaList([value]) { vsnprintf(pointer.baseAddress, 400, format, $0) }
        }
        let length = Swift.min(Swift.max(Int(count), 0), 399)
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    // MARK: GEOADD

    /// GEOADD: the positions become scores and are added as ZADD adds them.
    static func add(_ c: inout CommandContext) -> Reply {
        let args = c.args
        var options = SortedSetCommands.AddOptions()
        var index = 2
        while index < args.count {
            let word = args[index]
            if word.equalsIgnoringCase("nx") {
                options.nx = true
            } else if word.equalsIgnoringCase("xx") {
                options.xx = true
            } else if word.equalsIgnoringCase("ch") {
                options.ch = true
            } else {
                break
            }
            index += 1
        }
        guard (args.count - index) % 3 == 0, !(options.nx && options.xx) else { return Errors.syntax }
        var pairs: [ScoredMember] = []
        pairs.reserveCapacity((args.count - index) / 3)
        for i in stride(from: index, to: args.count, by: 3) {
            switch coordinates(args[i], args[i + 1]) {
            case .failure(let error): return error
            case .success(let (longitude, latitude)):
                guard let score = Geohash.score(longitude: longitude, latitude: latitude) else { return Errors.syntax }
                pairs.append(ScoredMember(score: Double(score), member: args[i + 2]))
            }
        }
        // Only options and no position: the ZADD it becomes has no pair.
        guard let first = pairs.first else { return Errors.syntax }
        let limits = c.engine.settings.sortedSetLimits
        var tally = SortedSetCommands.AddTally()
        let apply = { (zset: inout SortedSetValue) in
            for pair in pairs { tally.record(SortedSetCommands.zadd(&zset, pair, options, limits)) }
        }
        switch c.modifyCollection(args[1], .sortedSet, create: false, apply) {
        case .failure(let error): return error
        case .success(.some): break
        case .success(nil):
            guard !options.xx else { break }
            // As ZADD: the encoding is picked from the first member alone.
            var zset = SortedSetValue(expecting: 1, longest: first.member.count, limits: limits)
            apply(&zset)
            if zset.count > 0 { c.store(args[1], .sortedSet(zset)) }
        }
        c.changed(tally.added + tally.updated)
        if tally.added + tally.updated > 0 { c.notify(.zset, "zadd", args[1]) }
        return .integer(options.ch ? tally.added + tally.updated : tally.added)
    }

    // MARK: Reads

    /// GEOPOS: `[longitude, latitude]` per member, a null array for a missing one.
    static func position(_ c: inout CommandContext) -> Reply {
        c.replyReading(c.args[1], .sortedSet) { zset in
            .array(
                c.args.dropFirst(2).map { member in
                    guard let score = zset?.score(of: member) else { return .nullArray }
                    let position = Geohash.position(ofScore: score)
                    return .array([coordinateReply(position.longitude), coordinateReply(position.latitude)])
                })
        }
    }

    /// GEOHASH: the standard 11-character geohash per member, null for a missing one.
    static func hash(_ c: inout CommandContext) -> Reply {
        c.replyReading(c.args[1], .sortedSet) { zset in
            .array(
                c.args.dropFirst(2).map { member in
                    guard let score = zset?.score(of: member) else { return .null }
                    return .bulk(Geohash.standardHash(ofScore: score))
                })
        }
    }

    /// GEODIST: the unit is checked before the key; null when the key or a member is
    /// missing.
    static func distance(_ c: inout CommandContext) -> Reply {
        var perUnit = 1.0
        if c.args.count == 5 {
            switch metersPerUnit(c.args[4]) {
            case .failure(let error): return error
            case .success(let value): perUnit = value
            }
        } else if c.args.count > 5 {
            return Errors.syntax
        }
        return c.replyReading(c.args[1], .sortedSet) { zset in
            guard let zset, let first = zset.score(of: c.args[2]), let second = zset.score(of: c.args[3]) else {
                return .null
            }
            let a = Geohash.position(ofScore: first)
            let b = Geohash.position(ofScore: second)
            let meters = Geohash.distance(
                longitude1: a.longitude, latitude1: a.latitude, longitude2: b.longitude, latitude2: b.latitude)
            return distanceReply(meters / perUnit)
        }
    }
}
