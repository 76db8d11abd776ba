//! Running under a supervisor: systemd hears `READY=1` once the dataset loaded at start is
//! in memory (an AOF or a snapshot, however long that takes), `STOPPING=1` when shutdown
//! begins, and a `STATUS=` line for each, as Redis 7.0 sends them.

extension ServerCore {
    /// Runs `body` once the dataset loaded at start is in memory (at once when no load is
    /// running). Called right after the load begins, before replication can start one.
    func whenDatasetLoaded(_ body: @escaping () -> Void) {
        if persistence.loading {
            datasetLoadWaiters.append(body)
        } else {
            body()
        }
    }

    /// The dataset loaded at start is in memory.
    func initialDatasetLoaded() {
        let waiters = datasetLoadWaiters
        datasetLoadWaiters = []
        for waiter in waiters { waiter() }
    }

    /// Tells systemd the server is ready, once the dataset is loaded.
    func notifyReadyWhenLoaded() {
        guard systemd != nil else { return }
        whenDatasetLoaded { [unowned self] in
            self.systemd?.notify("STATUS=Ready to accept connections\n")
            self.systemd?.notify("READY=1\n")
        }
    }

    /// Tells systemd the server is stopping.
    func notifyStopping() {
        systemd?.notify("STOPPING=1\n")
    }
}
