//! Plugin health: the outcomes of each plugin's deliveries in its window, persisted so
//! that the window (not only an automatic disable) survives a restart. It is the
//! host's [`HealthStore`]: the host records each delivery's outcome here and judges it
//! with the desk's [`HealthPolicy`]; the desk's database holds the result.
//!
//! The `outcomes` table is the record; a delivery judges health from a copy of the
//! window kept in memory, because counting the table's rows on every delivery costs
//! more than the delivery itself once a plugin gets many events in ten minutes. The
//! copy ([`crate::window`]) runs ahead of the table by the deliveries that wait to be committed
//! ([`crate::batch`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

use otai_plugin_host::{HealthPolicy, HealthStatus, HealthStore, PluginHealth};
use rusqlite::Connection;

use crate::state::{DisabledReason, write_state};
use crate::store::{Store, lock, now_ms};

/// The desk's [`HealthStore`]: each plugin's state is its row in the database (enabled,
/// why not, when its window began) and its window the `outcomes` table. The host asks
/// for a plugin's health when it installs it; the desk sets it from the row whenever
/// the row changes ([`DeskHealth::sync`]).
pub(crate) struct DeskHealth {
    store: Arc<Mutex<Store>>,
    plugins: Mutex<HashMap<String, Arc<DeskPluginHealth>>>,
}

/// One plugin's health as the host reads it, kept in step with its row.
struct DeskPluginHealth {
    id: String,
    store: Arc<Mutex<Store>>,
    /// Asked before every delivery: an atomic, no lock.
    enabled: AtomicBool,
    auto_disabled: AtomicBool,
    /// The row's `window_start`: when the plugin was last enabled.
    window_start: AtomicI64,
}

impl DeskHealth {
    pub(crate) fn new(store: Arc<Mutex<Store>>) -> DeskHealth {
        DeskHealth {
            store,
            plugins: Mutex::default(),
        }
    }

    fn handle(&self, id: &str) -> Arc<DeskPluginHealth> {
        lock(&self.plugins)
            .entry(id.to_owned())
            .or_insert_with(|| {
                // Disabled until the desk sets it from the row, right after installing.
                Arc::new(DeskPluginHealth {
                    id: id.to_owned(),
                    store: self.store.clone(),
                    enabled: AtomicBool::new(false),
                    auto_disabled: AtomicBool::new(false),
                    window_start: AtomicI64::new(0),
                })
            })
            .clone()
    }

    /// Sets plugin `id`'s health from its row (which the desk has just changed):
    /// whether it is enabled, whether for failing, and when its window began.
    pub(crate) fn sync(&self, conn: &Connection, id: &str) -> rusqlite::Result<()> {
        let (enabled, reason, window_start): (bool, Option<String>, i64) = conn
            .prepare_cached(
                "SELECT enabled, disabled_reason, window_start FROM plugins WHERE id = ?1",
            )?
            .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        let handle = self.handle(id);
        let failing = reason.is_some_and(|r| DisabledReason::parse(&r) == DisabledReason::Failures);
        handle.window_start.store(window_start, Ordering::Release);
        handle.auto_disabled.store(failing, Ordering::Release);
        handle.enabled.store(enabled, Ordering::Release);
        Ok(())
    }

    /// Enables again the plugins whose automatic disabling was not committed.
    pub(crate) fn undo_disable(&self, ids: &[(String, String)]) {
        let plugins = lock(&self.plugins);
        for (id, _) in ids {
            if let Some(handle) = plugins.get(id) {
                handle.auto_disabled.store(false, Ordering::Release);
                handle.enabled.store(true, Ordering::Release);
            }
        }
    }

    /// Forgets plugin `id` (removed).
    pub(crate) fn forget(&self, id: &str) {
        lock(&self.plugins).remove(id);
    }
}

impl HealthStore for DeskHealth {
    fn plugin(&self, plugin_id: &str) -> Arc<dyn PluginHealth> {
        self.handle(plugin_id)
    }
}

impl DeskPluginHealth {
    fn status_with(&self, deliveries: u32, failures: u32) -> HealthStatus {
        HealthStatus {
            enabled: self.enabled.load(Ordering::Acquire),
            auto_disabled: self.auto_disabled.load(Ordering::Acquire),
            deliveries,
            failures,
        }
    }

    /// Writes the plugin's state to its row, as the desk's own enable and disable do.
    fn write(&self, disabled: Option<(DisabledReason, String)>) {
        let mut store = lock(&self.store);
        let now = now_ms();
        match write_state(&store.conn, &self.id, disabled.clone(), now) {
            Ok(()) => {
                if disabled.is_none() {
                    self.window_start.store(now, Ordering::Release);
                }
                self.auto_disabled.store(false, Ordering::Release);
                self.enabled.store(disabled.is_none(), Ordering::Release);
            }
            Err(e) => store.defer(e),
        }
    }
}

impl PluginHealth for DeskPluginHealth {
    fn is_enabled(&self) -> bool {
        self.enabled.load(Ordering::Acquire)
    }

    fn record(&self, failed: bool, policy: &HealthPolicy) -> Option<HealthStatus> {
        let mut store = lock(&self.store);
        let store = &mut *store;
        let now = now_ms();
        let window_start = self.window_start.load(Ordering::Acquire);
        // Observed before it waits in `pending`: a window loaded now counts the
        // outcomes that wait, and this one once.
        let observed = store.windows.observe(
            &store.conn,
            &store.pending,
            &self.id,
            window_start,
            (now, failed),
            policy,
        );
        store.pending.push_outcome(&self.id, now, failed);
        let (deliveries, failures) = match observed {
            Ok(counts) => counts,
            Err(e) => {
                store.defer(e);
                return None;
            }
        };
        let status = self.status_with(deliveries, failures);
        // Under the store's lock, which every outcome takes: no other outcome of this
        // plugin comes between the judgement and the disabling.
        if !status.enabled || !policy.should_disable(&status) {
            return None;
        }
        self.enabled.store(false, Ordering::Release);
        self.auto_disabled.store(true, Ordering::Release);
        let detail = format!(
            "{} of {} deliveries failed within {} minutes",
            status.failures,
            status.deliveries,
            policy.window.as_secs() / 60
        );
        store.pending.disable.push((self.id.clone(), detail));
        Some(self.status_with(deliveries, failures))
    }

    fn status(&self, policy: &HealthPolicy) -> HealthStatus {
        let mut store = lock(&self.store);
        let store = &mut *store;
        let window_start = self.window_start.load(Ordering::Acquire);
        let counts = store.windows.counts(
            &store.conn,
            &store.pending,
            &self.id,
            window_start,
            now_ms(),
            policy,
        );
        match counts {
            Ok((deliveries, failures)) => self.status_with(deliveries, failures),
            Err(e) => {
                store.defer(e);
                self.status_with(0, 0)
            }
        }
    }

    fn enable(&self) {
        self.write(None);
    }

    fn disable(&self) {
        self.write(Some((DisabledReason::ByHand, "disabled by hand".into())));
    }
}

#[cfg(test)]
mod tests {
    use otai_plugin_test_support::Module;
    use serde_json::json;

    use crate::DisabledReason;
    use crate::test_desk::open;

    /// The host judges the window and disables the plugin; the window and the state are
    /// the desk's database, which the host reads again after a restart, and the host's
    /// own enable writes it.
    #[test]
    fn auto_disable_goes_through_the_desks_store_and_survives_reopening() {
        let failing = Module::new()
            .body(r#"(func (export "on_event") (param i32 i32) unreachable)"#)
            .manifest(
                &json!({"id": "com.example.fails", "name": "Fails", "version": "1.0.0",
                        "description": "Traps.", "events": ["ticket.created"]})
                .to_string(),
            )
            .wasm();
        let id = "com.example.fails";
        let dir = tempfile::tempdir().unwrap();
        let desk = open(dir.path());
        desk.install(&failing).unwrap();
        for _ in 0..10 {
            desk.deliver("ticket.created", "T-1").unwrap();
        }
        let expected = otai_plugin_host::HealthStatus {
            enabled: false,
            auto_disabled: true,
            deliveries: 10,
            failures: 10,
        };
        assert_eq!(desk.host().health(id), Some(expected.clone()));
        let disabled = desk.plugin(id).unwrap().disabled.unwrap();
        assert_eq!(disabled.reason, DisabledReason::Failures);
        assert_eq!(
            disabled.detail,
            "10 of 10 deliveries failed within 10 minutes"
        );
        assert!(desk.deliver("ticket.created", "T-1").unwrap().is_empty());
        drop(desk);

        let desk = open(dir.path());
        // Opening loads nothing, and a disabled plugin is not loaded to deliver to it;
        // loaded, the host reads the health the desk kept.
        assert_eq!(desk.host().health(id), None);
        desk.load(id).unwrap();
        assert_eq!(desk.host().health(id), Some(expected));
        assert!(desk.deliver("ticket.created", "T-1").unwrap().is_empty());
        // The host's enable is the desk's: enabled in the database, a new window.
        desk.host().enable(id).unwrap();
        let info = desk.plugin(id).unwrap();
        assert!(info.enabled && info.disabled.is_none(), "{info:?}");
        assert_eq!((info.deliveries, info.failures), (0, 0));
        assert_eq!(desk.deliver("ticket.created", "T-1").unwrap().len(), 1);
        assert_eq!(desk.plugin(id).unwrap().deliveries, 1);
    }
}
