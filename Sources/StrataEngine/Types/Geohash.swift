//! The geohash model of Redis's geo commands. A position is stored as a sorted-set score:
//! its longitude and latitude, each cut into 2^26 slices of the Web-Mercator-safe ranges
//! (longitude ±180, latitude ±85.05112878), interleaved bit by bit into 52 bits (latitude
//! on the even bits, longitude on the odd ones), so that positions close on the map are
//! mostly close in score order. A search covers the cell holding its centre at a coarser
//! step plus the eight cells around it, each of which is one contiguous score range.
//!
//! Every computation is done in the same order and with the same operations as Redis
//! (haversine with Earth radius 6372797.560856, the same step estimate, neighbour moves
//! and bounding box), because members, distances and coordinates must come out
//! bit-identical to Redis's for the same input.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A geohash cell: `step` bits of each coordinate, interleaved into `bits`.
public struct GeohashCell: Sendable, Equatable {
    /// The interleaved bits (2 × `step` of them for cells made here).
    public var bits: UInt64
    /// Bits per coordinate, 1...26; 0 with `bits` 0 marks a cell excluded from a search.
    public var step: UInt8

    /// A cell.
    public init(bits: UInt64, step: UInt8) {
        self.bits = bits
        self.step = step
    }

    /// The excluded cell (Redis's zeroed neighbour).
    public static let excluded = GeohashCell(bits: 0, step: 0)

    /// Whether the cell was excluded from a search.
    public var isExcluded: Bool { bits == 0 && step == 0 }

    /// The cell's bits aligned to 52 bits: the lowest score of a position inside it.
    public var aligned52: UInt64 {
        let shift = 52 - 2 * Int(step)
        return shift >= 0 ? bits << UInt64(shift) : bits >> UInt64(-shift)
    }

    /// The scores of positions inside the cell: from `lowerBound` included to `upperBound`
    /// excluded.
    public var scoreRange: (lowerBound: Double, upperBound: Double) {
        let next = GeohashCell(bits: bits &+ 1, step: step)
        return (Double(aligned52), Double(next.aligned52))
    }
}

/// A closed coordinate interval.
public struct GeohashRange: Sendable, Equatable {
    /// Lowest value.
    public var min: Double
    /// Highest value.
    public var max: Double
}

/// The area a cell covers.
public struct GeohashArea: Sendable, Equatable {
    /// Its longitudes.
    public var longitude: GeohashRange
    /// Its latitudes.
    public var latitude: GeohashRange
}

/// A search area: a circle (radius) or an axis-aligned box (width × height), in the
/// request's unit, around a centre.
public struct GeoShape: Sendable, Equatable {
    /// The form of the area.
    public enum Kind: Sendable, Equatable {
        /// A circle of this radius.
        case radius(Double)
        /// A box of this width (east-west) and height (north-south).
        case box(width: Double, height: Double)
    }

    /// Centre longitude.
    public var longitude: Double
    /// Centre latitude.
    public var latitude: Double
    /// Circle or box, in the unit.
    public var kind: Kind
    /// Meters per unit.
    public var metersPerUnit: Double

    /// A shape.
    public init(longitude: Double, latitude: Double, kind: Kind, metersPerUnit: Double) {
        self.longitude = longitude
        self.latitude = latitude
        self.kind = kind
        self.metersPerUnit = metersPerUnit
    }
}

/// Geohash encoding, decoding, neighbours, distances and search areas.
public enum Geohash {
    /// Longitude limits of stored positions.
    public static let longitudeRange = GeohashRange(min: -180, max: 180)
    /// Latitude limits of stored positions (the Web Mercator limits).
    public static let latitudeRange = GeohashRange(min: -85.05112878, max: 85.05112878)
    /// Bits per coordinate of a stored position.
    public static let fullStep: UInt8 = 26
    /// The Earth's quadratic mean radius (WGS-84), as Redis uses it.
    public static let earthRadius = 6372797.560856
    /// Half the Earth's circumference in Web Mercator meters, the bound of the step
    /// estimate.
    static let mercatorMax = 20037726.37
    static let radiansPerDegree = Double.pi / 180.0

    /// Whether a longitude, latitude pair can be stored (never NaN).
    public static func isValid(longitude: Double, latitude: Double) -> Bool {
        longitude >= longitudeRange.min && longitude <= longitudeRange.max && latitude >= latitudeRange.min
            && latitude <= latitudeRange.max
    }

    // MARK: Bits

    /// Spreads the low 32 bits of `value` onto the even bits.
    static func spread(_ value: UInt64) -> UInt64 {
        var x = value & 0xFFFF_FFFF
        x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF
        x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF
        x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F
        x = (x | (x << 2)) & 0x3333_3333_3333_3333
        x = (x | (x << 1)) & 0x5555_5555_5555_5555
        return x
    }

    /// Gathers the even bits of `value` into the low 32 bits.
    static func gather(_ value: UInt64) -> UInt64 {
        var x = value & 0x5555_5555_5555_5555
        x = (x | (x >> 1)) & 0x3333_3333_3333_3333
        x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F
        x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF
        x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF
        x = (x | (x >> 16)) & 0x0000_0000_FFFF_FFFF
        return x
    }

    /// Latitude bits on the even positions, longitude bits on the odd ones.
    static func interleave(latitude: UInt32, longitude: UInt32) -> UInt64 {
        spread(UInt64(latitude)) | (spread(UInt64(longitude)) << 1)
    }

    /// The cell of `step` bits per coordinate holding a position, within the given ranges;
    /// nil outside the storable limits or the ranges.
    public static func encode(
        longitude: Double, latitude: Double, step: UInt8, longitudeRange lon: GeohashRange = Geohash.longitudeRange,
        latitudeRange lat: GeohashRange = Geohash.latitudeRange
    ) -> GeohashCell? {
        guard step >= 1, step <= 26, isValid(longitude: longitude, latitude: latitude) else { return nil }
        guard lat.max > lat.min, lon.max > lon.min, latitude >= lat.min, latitude <= lat.max, longitude >= lon.min,
            longitude <= lon.max
        else { return nil }
        let slices = Double(UInt64(1) << UInt64(step))
        let latitudeOffset = (latitude - lat.min) / (lat.max - lat.min) * slices
        let longitudeOffset = (longitude - lon.min) / (lon.max - lon.min) * slices
        // In 0...2^step for finite ranges; checked so that no range can make them trap.
        guard latitudeOffset >= 0, latitudeOffset < 4_294_967_296, longitudeOffset >= 0,
            longitudeOffset < 4_294_967_296
        else { return nil }
        return GeohashCell(
            bits: interleave(latitude: UInt32(latitudeOffset), longitude: UInt32(longitudeOffset)), step: step)
    }

    /// The 52-bit score of a storable position.
    public static func score(longitude: Double, latitude: Double) -> UInt64? {
        encode(longitude: longitude, latitude: latitude, step: fullStep)?.aligned52
    }

    /// The area a cell covers within the given ranges; nil for the excluded cell.
    @inline(__always)
    public static func decode(
        _ cell: GeohashCell, longitudeRange lon: GeohashRange = Geohash.longitudeRange,
        latitudeRange lat: GeohashRange = Geohash.latitudeRange
    ) -> GeohashArea? {
        guard !cell.isExcluded, cell.step <= 32 else { return nil }
        let separated = (gather(cell.bits), gather(cell.bits >> 1))
        let latitudeIndex = UInt32(truncatingIfNeeded: separated.0)
        let longitudeIndex = UInt32(truncatingIfNeeded: separated.1)
        let slices = Double(UInt64(1) << UInt64(cell.step))
        let latitudeScale = lat.max - lat.min
        let longitudeScale = lon.max - lon.min
        // As Redis: the index after the last wraps in 32 bits.
        return GeohashArea(
            longitude: GeohashRange(
                min: lon.min + (Double(longitudeIndex) / slices) * longitudeScale,
                max: lon.min + (Double(longitudeIndex &+ 1) / slices) * longitudeScale),
            latitude: GeohashRange(
                min: lat.min + (Double(latitudeIndex) / slices) * latitudeScale,
                max: lat.min + (Double(latitudeIndex &+ 1) / slices) * latitudeScale))
    }

    /// The position a sorted-set score stands for: the centre of its cell, clamped to the
    /// storable limits. Any score decodes, as in Redis: it is first converted to a 64-bit
    /// integer the way x86-64 code converts a double to `uint64_t`.
    @inline(__always)
    public static func position(ofScore score: Double) -> (longitude: Double, latitude: Double) {
        let cell = GeohashCell(bits: x86UInt64(score), step: fullStep)
        guard let area = decode(cell) else { return (0, 0) }
        var longitude = (area.longitude.min + area.longitude.max) / 2
        longitude = Swift.min(Swift.max(longitude, longitudeRange.min), longitudeRange.max)
        var latitude = (area.latitude.min + area.latitude.max) / 2
        latitude = Swift.min(Swift.max(latitude, latitudeRange.min), latitudeRange.max)
        return (longitude, latitude)
    }

    /// A double converted to `uint64_t` as compiled C does on x86-64: in range it
    /// truncates; below 2^63 through a signed conversion (negative values wrap, values
    /// below -2^63 give 2^63); from 2^63 on through a signed conversion of the value less
    /// 2^63 with the top bit flipped (values from 2^64 on, and infinity, give 0).
    static func x86UInt64(_ value: Double) -> UInt64 {
        let twoTo63 = 9_223_372_036_854_775_808.0
        let indefinite: UInt64 = 1 << 63
        func signedTruncation(_ x: Double) -> UInt64 {
            guard x.isFinite, x > -twoTo63 - 1, x < twoTo63 else { return indefinite }
            return UInt64(bitPattern: Int64(x))
        }
        if !(value >= twoTo63) { return signedTruncation(value) }
        return signedTruncation(value - twoTo63) ^ indefinite
    }

    /// The geohash alphabet (`GEOHASH`'s base 32).
    static let base32 = Array("0123456789bcdefghjkmnpqrstuvwxyz".utf8)

    /// The standard 11-character geohash (longitude ±180, latitude ±90) of the position a
    /// score stands for, as GEOHASH prints it.
    public static func standardHash(ofScore score: Double) -> Bytes {
        let position = position(ofScore: score)
        let cell =
            encode(
                longitude: position.longitude, latitude: position.latitude, step: fullStep,
                longitudeRange: GeohashRange(min: -180, max: 180), latitudeRange: GeohashRange(min: -90, max: 90))
            ?? GeohashCell(bits: 0, step: fullStep)
        let alphabet = base32
        var text: [UInt8] = []
        text.reserveCapacity(11)
        for i in 0..<11 {
            // 52 bits give ten characters; the eleventh is always the first symbol.
            let index = i == 10 ? 0 : Int((cell.bits >> UInt64(52 - (i + 1) * 5)) & 0x1F)
            text.append(alphabet[index])
        }
        return Bytes(text)
    }

    // MARK: Neighbours

    /// The cell `dx` columns east (positive) or west and `dy` rows north or south, wrapping
    /// around the ranges.
    static func moved(_ cell: GeohashCell, dx: Int, dy: Int) -> GeohashCell {
        guard cell.step >= 1, cell.step <= 32 else { return cell }
        var bits = cell.bits
        let width = UInt64(64 - 2 * Int(cell.step))
        if dx != 0 {
            var x = bits & 0xAAAA_AAAA_AAAA_AAAA
            let y = bits & 0x5555_5555_5555_5555
            let filler: UInt64 = 0x5555_5555_5555_5555 >> width
            if dx > 0 {
                x = x &+ (filler &+ 1)
            } else {
                x = (x | filler) &- (filler &+ 1)
            }
            x &= 0xAAAA_AAAA_AAAA_AAAA >> width
            bits = x | y
        }
        if dy != 0 {
            let x = bits & 0xAAAA_AAAA_AAAA_AAAA
            var y = bits & 0x5555_5555_5555_5555
            let filler: UInt64 = 0xAAAA_AAAA_AAAA_AAAA >> width
            if dy > 0 {
                y = y &+ (filler &+ 1)
            } else {
                y = (y | filler) &- (filler &+ 1)
            }
            y &= 0x5555_5555_5555_5555 >> width
            bits = x | y
        }
        return GeohashCell(bits: bits, step: cell.step)
    }

    /// The eight cells around a cell.
    public struct Neighbours: Sendable, Equatable {
        /// The cell north.
        public var north: GeohashCell
        /// The cell south.
        public var south: GeohashCell
        /// The cell east.
        public var east: GeohashCell
        /// The cell west.
        public var west: GeohashCell
        /// The cell north-east.
        public var northEast: GeohashCell
        /// The cell north-west.
        public var northWest: GeohashCell
        /// The cell south-east.
        public var southEast: GeohashCell
        /// The cell south-west.
        public var southWest: GeohashCell

        /// The neighbours of `cell`.
        public init(of cell: GeohashCell) {
            north = Geohash.moved(cell, dx: 0, dy: 1)
            south = Geohash.moved(cell, dx: 0, dy: -1)
            east = Geohash.moved(cell, dx: 1, dy: 0)
            west = Geohash.moved(cell, dx: -1, dy: 0)
            northEast = Geohash.moved(cell, dx: 1, dy: 1)
            northWest = Geohash.moved(cell, dx: -1, dy: 1)
            southEast = Geohash.moved(cell, dx: 1, dy: -1)
            southWest = Geohash.moved(cell, dx: -1, dy: -1)
        }
    }

    // MARK: Distances

    static func radians(_ degrees: Double) -> Double { degrees * radiansPerDegree }
    static func degrees(_ radians: Double) -> Double { radians / radiansPerDegree }

    /// The great-circle distance in meters between two positions (haversine).
    public static func distance(
        longitude1: Double, latitude1: Double, longitude2: Double, latitude2: Double
    ) -> Double {
        let lat1 = radians(latitude1)
        let lon1 = radians(longitude1)
        let lat2 = radians(latitude2)
        let lon2 = radians(longitude2)
        let u = sin((lat2 - lat1) / 2)
        let v = sin((lon2 - lon1) / 2)
        return 2.0 * earthRadius * asin(sqrt(u * u + cos(lat1) * cos(lat2) * v * v))
    }

    /// The distance in meters from the shape's centre to a position when the position is
    /// inside the shape; nil outside.
    @inline(__always)
    public static func distanceIfInside(_ shape: GeoShape, longitude: Double, latitude: Double) -> Double? {
        switch shape.kind {
        case .radius(let radius):
            let d = distance(
                longitude1: shape.longitude, latitude1: shape.latitude, longitude2: longitude, latitude2: latitude)
            return d > radius * shape.metersPerUnit ? nil : d
        case .box(let width, let height):
            let widthMeters = width * shape.metersPerUnit
            let heightMeters = height * shape.metersPerUnit
            let east = distance(
                longitude1: longitude, latitude1: latitude, longitude2: shape.longitude, latitude2: latitude)
            let north = distance(
                longitude1: longitude, latitude1: latitude, longitude2: longitude, latitude2: shape.latitude)
            if east > widthMeters / 2 || north > heightMeters / 2 { return nil }
            return distance(
                longitude1: shape.longitude, latitude1: shape.latitude, longitude2: longitude, latitude2: latitude)
        }
    }

    // MARK: Search areas

    /// The step whose cells are about the size of `meters` at `latitude` (coarser towards
    /// the poles), 1...26.
    static func estimatedStep(meters: Double, latitude: Double) -> Int {
        if meters == 0 { return 26 }
        var range = meters
        var step = 1
        while range < mercatorMax {
            range *= 2
            step += 1
        }
        step -= 2
        if latitude > 66 || latitude < -66 {
            step -= 1
            if latitude > 80 || latitude < -80 { step -= 1 }
        }
        return Swift.min(Swift.max(step, 1), 26)
    }

    /// The longitudes and latitudes a shape spans: `(minLongitude, minLatitude,
    /// maxLongitude, maxLatitude)`, the east-west extent taken at the edge nearer the
    /// pole.
    static func boundingBox(_ shape: GeoShape) -> (Double, Double, Double, Double) {
        let halfHeight: Double
        let halfWidth: Double
        switch shape.kind {
        case .radius(let radius):
            (halfHeight, halfWidth) = (shape.metersPerUnit * radius, shape.metersPerUnit * radius)
        case .box(let width, let height):
            (halfHeight, halfWidth) = (shape.metersPerUnit * (height / 2), shape.metersPerUnit * (width / 2))
        }
        let latitudeDelta = degrees(halfHeight / earthRadius)
        let longitudeDeltaTop = degrees(halfWidth / earthRadius / cos(radians(shape.latitude + latitudeDelta)))
        let longitudeDeltaBottom = degrees(halfWidth / earthRadius / cos(radians(shape.latitude - latitudeDelta)))
        let delta = shape.latitude < 0 ? longitudeDeltaBottom : longitudeDeltaTop
        return (
            shape.longitude - delta, shape.latitude - latitudeDelta, shape.longitude + delta,
            shape.latitude + latitudeDelta
        )
    }

    /// The cells a search for `shape` scans, in Redis's order: the centre's cell, then
    /// north, south, east, west, north-east, north-west, south-east, south-west; cells the
    /// shape cannot reach are ``GeohashCell/excluded``.
    public static func searchCells(_ shape: GeoShape) -> [GeohashCell] {
        let (minLongitude, minLatitude, maxLongitude, maxLatitude) = boundingBox(shape)
        var meters: Double
        switch shape.kind {
        case .radius(let radius): meters = radius
        case .box(let width, let height): meters = sqrt((width / 2) * (width / 2) + (height / 2) * (height / 2))
        }
        meters *= shape.metersPerUnit
        var step = estimatedStep(meters: meters, latitude: shape.latitude)
        func cellAt(_ step: Int) -> GeohashCell {
            encode(longitude: shape.longitude, latitude: shape.latitude, step: UInt8(step))
                ?? GeohashCell(bits: 0, step: UInt8(step))
        }
        var cell = cellAt(step)
        var around = Neighbours(of: cell)
        // A neighbour that does not reach the edge of the bounding box: one step coarser.
        let north = decode(around.north)
        let south = decode(around.south)
        let east = decode(around.east)
        let west = decode(around.west)
        var coarser = false
        if let north, north.latitude.max < maxLatitude { coarser = true }
        if let south, south.latitude.min > minLatitude { coarser = true }
        if let east, east.longitude.max < maxLongitude { coarser = true }
        if let west, west.longitude.min > minLongitude { coarser = true }
        if step > 1 && coarser {
            step -= 1
            cell = cellAt(step)
            around = Neighbours(of: cell)
        }
        if step >= 2, let area = decode(cell) {
            if area.latitude.min < minLatitude {
                (around.south, around.southWest, around.southEast) = (.excluded, .excluded, .excluded)
            }
            if area.latitude.max > maxLatitude {
                (around.north, around.northEast, around.northWest) = (.excluded, .excluded, .excluded)
            }
            if area.longitude.min < minLongitude {
                (around.west, around.southWest, around.northWest) = (.excluded, .excluded, .excluded)
            }
            if area.longitude.max > maxLongitude {
                (around.east, around.southEast, around.northEast) = (.excluded, .excluded, .excluded)
            }
        }
        return [
            cell, around.north, around.south, around.east, around.west, around.northEast, around.northWest,
            around.southEast, around.southWest,
        ]
    }
}
