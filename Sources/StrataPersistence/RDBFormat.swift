//! The constants of Redis's RDB encoding (Redis 7.0 `rdb.h`): opcodes, value types and
//! the special string encodings. `docs/FORMAT.md` lists which of them Strata writes and
//! which it reads.

/// RDB opcodes and type bytes.
public enum RDB {
    /// The version Strata writes: the newest Redis 7.0 loads.
    public static let writtenVersion = 10
    /// The newest version Strata reads (Redis 7.2 writes 11).
    public static let newestReadableVersion = 11

    // Opcodes.
    static let opFunction2: UInt8 = 0xF5
    static let opFunctionPreGA: UInt8 = 0xF6
    static let opModuleAux: UInt8 = 0xF7
    static let opIdle: UInt8 = 0xF8
    static let opFreq: UInt8 = 0xF9
    static let opAux: UInt8 = 0xFA
    static let opResizeDB: UInt8 = 0xFB
    static let opExpireTimeMs: UInt8 = 0xFC
    static let opExpireTime: UInt8 = 0xFD
    static let opSelectDB: UInt8 = 0xFE
    static let opEOF: UInt8 = 0xFF

    // Value types.
    static let typeString: UInt8 = 0
    static let typeList: UInt8 = 1
    static let typeSet: UInt8 = 2
    static let typeZSet: UInt8 = 3
    static let typeHash: UInt8 = 4
    static let typeZSet2: UInt8 = 5
    static let typeModule: UInt8 = 6
    static let typeModule2: UInt8 = 7
    static let typeHashZipmap: UInt8 = 9
    static let typeListZiplist: UInt8 = 10
    static let typeSetIntset: UInt8 = 11
    static let typeZSetZiplist: UInt8 = 12
    static let typeHashZiplist: UInt8 = 13
    static let typeListQuicklist: UInt8 = 14
    static let typeStreamListpacks: UInt8 = 15
    static let typeHashListpack: UInt8 = 16
    static let typeZSetListpack: UInt8 = 17
    static let typeListQuicklist2: UInt8 = 18
    static let typeStreamListpacks2: UInt8 = 19
    static let typeSetListpack: UInt8 = 20
    static let typeStreamListpacks3: UInt8 = 21

    // Special string encodings (after the 0b11 length prefix).
    static let encodingInt8: UInt8 = 0
    static let encodingInt16: UInt8 = 1
    static let encodingInt32: UInt8 = 2
    static let encodingLZF: UInt8 = 3
}
