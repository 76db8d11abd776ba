//! MEMORY STATS: Redis 7.0's breakdown of memory use, with Strata's figures. Allocation
//! totals are jemalloc's (every thread); per-database overheads are the bytes of the
//! shards' keyspace and deadline tables (slots and tags, at their real capacities).

import StrataEngine

extension ServerCore {
    /// The MEMORY STATS reply.
    func memoryStats() -> Reply {
        let allocated = ProcessMemory.allocatedBytes()
        let rss = ProcessMemory.residentBytes()
        peakMemory = max(peakMemory, allocated)
        let clientBuffers = clients.values.reduce(0) { $0 + $1.queryBufferSize + $1.outputBufferSize }
        let aofBuffer = aof.feed.pendingBytes
        var fields: [(Reply, Reply)] = [
            (.text("peak.allocated"), .integer(peakMemory)),
            (.text("total.allocated"), .integer(allocated)),
            (.text("startup.allocated"), .integer(startupMemory)),
            (.text("replication.backlog"), .integer(0)),
            (.text("clients.slaves"), .integer(0)),
            (.text("clients.normal"), .integer(clientBuffers)),
            (.text("cluster.links"), .integer(0)),
            (.text("aof.buffer"), .integer(aofBuffer)),
            (.text("lua.caches"), .integer(0)),
            (.text("functions.caches"), .integer(0)),
        ]
        var overhead = startupMemory + clientBuffers + aofBuffer
        var keys = 0
        for (index, database) in engine.databases.enumerated() where database.count > 0 {
            let main = database.shards.reduce(0) { $0 + $1.entries.allocatedBytes }
            let expires = database.shards.reduce(0) { $0 + $1.deadlines.allocatedBytes }
            overhead += main + expires
            keys += database.count
            fields.append(
                (
                    .text("db.\(index)"),
                    .map([
                        (.text("overhead.hashtable.main"), .integer(main)),
                        (.text("overhead.hashtable.expires"), .integer(expires)),
                        (.text("overhead.hashtable.slot-to-keys"), .integer(0)),
                    ])
                ))
        }
        let dataset = max(0, allocated - overhead)
        let netUsage = max(1, allocated - startupMemory)
        fields += [
            (.text("overhead.total"), .integer(overhead)),
            (.text("keys.count"), .integer(keys)),
            (.text("keys.bytes-per-key"), .integer(keys > 0 ? netUsage / keys : 0)),
            (.text("dataset.bytes"), .integer(dataset)),
            (.text("dataset.percentage"), .double(Double(dataset) * 100 / Double(netUsage))),
            (.text("peak.percentage"), .double(peakMemory > 0 ? Double(allocated) * 100 / Double(peakMemory) : 100)),
            (.text("allocator.allocated"), .integer(allocated)),
            (.text("allocator.resident"), .integer(rss)),
            (.text("fragmentation"), .double(allocated > 0 ? Double(rss) / Double(allocated) : 0)),
            (.text("fragmentation.bytes"), .integer(rss - allocated)),
        ]
        return .map(fields)
    }
}
