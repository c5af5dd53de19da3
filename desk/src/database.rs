//! The desk's database as its parts read and write it: the deliveries that wait are
//! committed first ([`crate::batch`]), so that what is read includes them.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::DeskError;
use crate::flamegraphs::GraphFiles;
use crate::health::DeskHealth;
use crate::notices;
use crate::state::{DisabledReason, write_state};
use crate::store::{Store, lock, now_ms};

/// The database, shared by the desk's parts and the host's stores.
pub(crate) struct Database {
    /// Shared with the stores the host keeps health and custom fields in.
    store: Arc<Mutex<Store>>,
    /// The host's health store: a commit that fails enables again the plugins it
    /// would have disabled.
    health: Arc<DeskHealth>,
    /// How many deliveries of each plugin the log keeps.
    keep_deliveries: u32,
    /// Where the deliveries' flame graphs go, for a desk that records them.
    graphs: Option<GraphFiles>,
}

impl Database {
    pub(crate) fn new(
        store: Arc<Mutex<Store>>,
        health: Arc<DeskHealth>,
        keep_deliveries: u32,
        graphs: Option<GraphFiles>,
    ) -> Database {
        Database {
            store,
            health,
            keep_deliveries,
            graphs,
        }
    }

    /// The database, the deliveries that wait committed first: what is read from it
    /// then includes them.
    pub(crate) fn store(&self) -> Result<MutexGuard<'_, Store>, DeskError> {
        let mut store = lock(&self.store);
        if !store.pending.is_empty() {
            self.commit_pending(&mut store)?;
        }
        // Any operation but a delivery may change a ticket: the copies deliveries read
        // are not used after one (a commit drops them too, but a delivery that reached
        // no plugin leaves nothing to commit).
        store.pending.forget_tickets();
        Ok(store)
    }

    /// The database as it is, the deliveries that wait not committed: for deliveries,
    /// which commit in groups.
    pub(crate) fn as_is(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    /// Commits the deliveries that wait.
    pub(crate) fn flush(&self) -> Result<(), DeskError> {
        self.store().map(drop)
    }

    /// Commits the deliveries that wait and disables the plugins the health policy
    /// disabled meanwhile (with why) in one transaction; then writes their flame graphs,
    /// named by the numbers the log gave them.
    ///
    /// # Errors
    /// The commit fails (nothing is recorded), or a flame graph cannot be written (the
    /// deliveries are recorded: the error says so).
    pub(crate) fn commit_pending(&self, store: &mut Store) -> Result<(), DeskError> {
        let waiting = store.pending.len();
        let disable = std::mem::take(&mut store.pending.disable);
        let Store {
            conn,
            path,
            pending,
            windows,
            ..
        } = store;
        let mut graphs = Vec::new();
        let written = conn.transaction().and_then(|tx| {
            graphs = pending.write(&tx, self.keep_deliveries)?;
            windows.trim(&tx)?;
            for (id, detail) in &disable {
                let now = now_ms();
                write_state(
                    &tx,
                    id,
                    Some((DisabledReason::Failures, detail.clone())),
                    now,
                )?;
                // The help desk tells its administrators; so does the desk's web UI.
                notices::add(&tx, now, id, detail)?;
            }
            tx.commit()
        });
        written.map_err(|e| {
            pending.discard();
            // The windows counted outcomes that the table did not get, and the plugins
            // they disabled are not disabled in the table.
            windows.clear();
            self.health.undo_disable(&disable);
            if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ReadOnly) {
                return DeskError::ReadOnly { path: path.clone() };
            }
            DeskError::database(
                path,
                format!("{waiting} deliveries could not be recorded: {e}"),
            )
        })?;
        if let Some(files) = &self.graphs {
            for (plugin_id, seq, drawn) in graphs {
                files.write(&plugin_id, seq, &drawn)?;
            }
        }
        Ok(())
    }
}
