//! How ACL users are printed (`ACL LIST`, `ACL GETUSER`, `ACL SAVE`). The command part is
//! not a replay of the rules typed: like Redis 7.0's `ACLDescribeSelectorCommandRules`, it
//! is worked out again from the command bitmap. It starts from `+@all` or `-@all` (the
//! "future commands" bit), then greedily adds whole categories that agree with the bitmap
//! more than they disagree (fewest disagreements first, then most agreements), applying
//! each to a scratch selector, and finally adds single `+cmd`/`-cmd`/`+cmd|sub` fixes and
//! allowed first arguments until the scratch selector equals the user's. The result,
//! applied as rules, gives back exactly the same permissions.

import StrataEngine

extension ACLSelector {
    /// The normalised command rules (`-@all +@string -set +config|get`).
    func commandRules(catalog: ACLCommandCatalog) -> String {
        var rules: [String] = []
        let additive = !futureCommands
        var fake = ACLSelector(isRoot: false, bitCount: catalog.bitCount, allChannels: false)
        if additive {
            rules.append("-@all")
        } else {
            rules.append("+@all")
            fake.commands = ACLCommandBits(count: catalog.bitCount, all: true)
            fake.allCommands = true
            fake.futureCommands = true
        }
        var scratch = self
        var applied = Set<String>()
        while true {
            var best: String?
            var fewestDifferences = Int.max
            var mostSame = 0
            for category in ACLCommandCatalog.categories where !applied.contains(category) {
                var on = 0
                var off = 0
                for spec in catalog.members[category] ?? [] {
                    if scratch.commands.contains(spec.ordinal) { on += 1 } else { off += 1 }
                }
                let difference = additive ? off : on
                let same = additive ? on : off
                if same > difference
                    && (difference < fewestDifferences || (difference == fewestDifferences && same > mostSame))
                {
                    best = category
                    fewestDifferences = difference
                    mostSame = same
                }
            }
            guard let category = best else { break }
            for spec in catalog.members[category] ?? [] {
                fake.change(spec, allowed: additive)
                scratch.change(spec, allowed: !additive)
            }
            rules.append((additive ? "+@" : "-@") + category)
            applied.insert(category)
        }
        for command in catalog.commands { singleCommandRules(command, fake: &fake, rules: &rules) }
        return rules.joined(separator: " ")
    }

    /// Redis's `ACLDescribeSelectorCommandRulesSingleCommands`.
    private func singleCommandRules(_ spec: CommandSpec, fake: inout ACLSelector, rules: inout [String]) {
        let allowed = commands.contains(spec.ordinal)
        if allowed != fake.commands.contains(spec.ordinal) {
            rules.append((allowed ? "+" : "-") + spec.name)
            fake.change(spec, allowed: allowed)
        }
        for sub in spec.subcommands.values.sorted(by: { $0.name < $1.name }) {
            singleCommandRules(sub, fake: &fake, rules: &rules)
        }
    }

    /// The key patterns as `ACL GETUSER` prints them.
    var keysDescription: [UInt8] {
        allKeys ? Array("~*".utf8) : ACLSelector.joined(keys.map(\.description))
    }

    /// The channel patterns as `ACL GETUSER` prints them.
    var channelsDescription: [UInt8] {
        allChannels ? Array("&*".utf8) : ACLSelector.joined(channels.map { [UInt8(ascii: "&")] + $0.array })
    }

    /// The selector as `ACL LIST` writes it: keys, channels, commands.
    func listDescription(catalog: ACLCommandCatalog) -> [UInt8] {
        var words: [[UInt8]] = []
        if allKeys {
            words.append(Array("~*".utf8))
        } else {
            words.append(contentsOf: keys.map(\.description))
        }
        if allChannels {
            words.append(Array("&*".utf8))
        } else {
            words.append(Array("resetchannels".utf8))
            words.append(contentsOf: channels.map { [UInt8(ascii: "&")] + $0.array })
        }
        words.append(commandRuleBytes(catalog: catalog))
        return ACLSelector.joined(words)
    }

    /// The command rules as bytes (first arguments need not be UTF-8).
    func commandRuleBytes(catalog: ACLCommandCatalog) -> [UInt8] {
        var bytes = Array(commandRules(catalog: catalog).utf8)
        for (ordinal, arguments) in firstArgs.sorted(by: { $0.key < $1.key }) where !commands.contains(ordinal) {
            guard let name = catalog.name(ofOrdinal: ordinal) else { continue }
            for argument in arguments { bytes += Array(" +\(name)|".utf8) + argument }
        }
        return bytes
    }

    /// Words joined with single spaces.
    static func joined(_ words: [[UInt8]]) -> [UInt8] {
        Array(words.joined(separator: [UInt8(ascii: " ")]))
    }

    /// The `commands`, `keys`, `channels` pairs of `ACL GETUSER`.
    func getUserFields(catalog: ACLCommandCatalog) -> [(Reply, Reply)] {
        [
            (.bulk(Bytes("commands")), .bulk(Bytes(commandRuleBytes(catalog: catalog)))),
            (.bulk(Bytes("keys")), .bulk(Bytes(keysDescription))),
            (.bulk(Bytes("channels")), .bulk(Bytes(channelsDescription))),
        ]
    }
}

extension ACLUser {
    /// The user's `ACL LIST` line, without `user <name> `.
    func rulesDescription(catalog: ACLCommandCatalog) -> [UInt8] {
        var words = state.flagNames.map { Array($0.utf8) }
        words.append(contentsOf: state.passwords.map { Array(("#" + $0).utf8) })
        for selector in state.selectors {
            let text = selector.listDescription(catalog: catalog)
            words.append(selector.isRoot ? text : [UInt8(ascii: "(")] + text + [UInt8(ascii: ")")])
        }
        return ACLSelector.joined(words)
    }

    /// The `ACL LIST` line.
    func listLine(catalog: ACLCommandCatalog) -> [UInt8] {
        Array("user \(name) ".utf8) + rulesDescription(catalog: catalog)
    }

    /// The `ACL GETUSER` reply.
    func getUserReply(catalog: ACLCommandCatalog) -> Reply {
        var fields: [(Reply, Reply)] = [
            (.bulk(Bytes("flags")), .set(state.flagNames.map { .bulk(Bytes($0)) })),
            (.bulk(Bytes("passwords")), .array(state.passwords.map { .bulk(Bytes($0)) })),
        ]
        fields.append(contentsOf: state.selectors[0].getUserFields(catalog: catalog))
        let others = state.selectors.dropFirst().map { Reply.map($0.getUserFields(catalog: catalog)) }
        fields.append((.bulk(Bytes("selectors")), .array(Array(others))))
        return .map(fields)
    }
}
