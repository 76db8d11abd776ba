/// Versions the server reports.
public enum ServerVersion {
    /// The Redis version whose behaviour Strata matches; `INFO server` `redis_version`.
    public static let redisCompatible = "7.0.15"
    /// Strata's own version; `INFO server` `strata_version`.
    public static let strata = "0.1.0"
}
