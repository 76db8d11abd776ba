import StrataPersistence

/// The AOF manifest parser. What it accepts must survive a round trip through
/// `serialized()` unchanged (the server rewrites manifests it has read).
enum ManifestFuzzing {
    static func run(_ data: UnsafeRawBufferPointer) {
        let text = String(decoding: data, as: UTF8.self)
        guard let manifest = try? AOFManifest.parse(text, path: "fuzz.manifest") else { return }
        do {
            let again = try AOFManifest.parse(manifest.serialized(), path: "fuzz.manifest")
            precondition(again == manifest, "the manifest changed in a round trip")
        } catch {
            preconditionFailure("a serialized manifest does not parse: \(error)")
        }
    }
}
