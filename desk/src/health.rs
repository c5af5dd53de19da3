//! Plugin health: the outcomes of each plugin's deliveries in its window, persisted so
//! that the window (not only an automatic disable) survives a restart.
//!
//! The `outcomes` table is the record; a delivery judges health from a copy of the
//! window kept in memory, because counting the table's rows on every delivery costs
//! more than the delivery itself once a plugin gets many events in ten minutes. The
//! copy runs ahead of the table by the deliveries that wait to be committed
//! ([`crate::batch`]).

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};

use otai_plugin_host::{HealthPolicy, HealthStatus};
use rusqlite::{Connection, Transaction, params};

/// Every how many expired outcomes a window deletes them from the table: one `DELETE`
/// for many deliveries, not one per delivery.
const TRIM_EVERY: u32 = 256;

/// The in-memory windows of the plugins that got a delivery since the desk opened.
#[derive(Default)]
pub(crate) struct Windows(HashMap<String, Window>);

struct Window {
    /// The plugin's `window_start` when it was loaded: enabling a plugin moves it,
    /// which makes this copy stale.
    since: i64,
    /// `(at, failed)`, oldest first.
    outcomes: VecDeque<(i64, bool)>,
    failures: u32,
    /// Outcomes that left the window since the table was last trimmed.
    expired: u32,
    /// Where the window began at the last delivery.
    cutoff: i64,
}

impl Windows {
    /// Counts one delivery's outcome of plugin `id` (the table gets it when the delivery
    /// is committed) and returns its health in the window that ends `now`.
    /// `window_start` is the plugin's (when it was last enabled).
    pub(crate) fn observe(
        &mut self,
        conn: &Connection,
        id: &str,
        window_start: i64,
        now: i64,
        failed: bool,
        policy: &HealthPolicy,
    ) -> rusqlite::Result<HealthStatus> {
        let cutoff = cutoff(window_start, now, policy);
        let window = match self.0.entry(id.to_owned()) {
            Entry::Occupied(e) if e.get().since == window_start => e.into_mut(),
            Entry::Occupied(mut e) => {
                e.insert(Window::load(conn, id, window_start, cutoff)?);
                e.into_mut()
            }
            Entry::Vacant(e) => e.insert(Window::load(conn, id, window_start, cutoff)?),
        };
        window.outcomes.push_back((now, failed));
        window.failures += u32::from(failed);
        while let Some(&(at, failed)) = window.outcomes.front() {
            if at >= cutoff {
                break;
            }
            window.outcomes.pop_front();
            window.failures -= u32::from(failed);
            window.expired += 1;
        }
        window.cutoff = cutoff;
        Ok(HealthStatus {
            enabled: true,
            auto_disabled: false,
            deliveries: u32::try_from(window.outcomes.len()).unwrap_or(u32::MAX),
            failures: window.failures,
        })
    }

    /// Deletes from the table the outcomes that left the windows, once enough did.
    pub(crate) fn trim(&mut self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        for (id, window) in &mut self.0 {
            if window.expired >= TRIM_EVERY {
                tx.prepare_cached("DELETE FROM outcomes WHERE plugin_id = ?1 AND at < ?2")?
                    .execute(params![id, window.cutoff])?;
                window.expired = 0;
            }
        }
        Ok(())
    }

    /// Forgets plugin `id`'s window (it was removed; the table's rows went with it).
    pub(crate) fn forget(&mut self, id: &str) {
        self.0.remove(id);
    }

    /// Forgets every window: outcomes they counted were not committed.
    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }
}

impl Window {
    fn load(
        conn: &Connection,
        id: &str,
        window_start: i64,
        cutoff: i64,
    ) -> rusqlite::Result<Window> {
        let mut stmt = conn.prepare_cached(
            "SELECT at, failed FROM outcomes WHERE plugin_id = ?1 AND at >= ?2 ORDER BY at, rowid",
        )?;
        let outcomes: VecDeque<(i64, bool)> = stmt
            .query_map(params![id, cutoff], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let failures = outcomes.iter().map(|&(_, f)| u32::from(f)).sum();
        Ok(Window {
            since: window_start,
            outcomes,
            failures,
            // The table may hold rows this window never counts (from before the plugin
            // was last enabled, or older than the window when the desk opened): the
            // next commit deletes them, once.
            expired: TRIM_EVERY,
            cutoff,
        })
    }
}

/// A plugin's deliveries and failures in its health window as the table has them (for
/// the pages and `desk list`; deliveries use [`Windows`]).
pub(crate) fn counts(
    conn: &Connection,
    id: &str,
    window_start: i64,
    now: i64,
    policy: &HealthPolicy,
) -> rusqlite::Result<(u32, u32)> {
    conn.prepare_cached(
        "SELECT count(*), coalesce(sum(failed), 0) FROM outcomes WHERE plugin_id = ?1 AND at >= ?2",
    )?
    .query_row(params![id, cutoff(window_start, now, policy)], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
}

/// Where the health window that ends `now` begins: the policy's length before, or
/// when the plugin was last enabled, whichever is later.
fn cutoff(window_start: i64, now: i64, policy: &HealthPolicy) -> i64 {
    let length = i64::try_from(policy.window.as_millis()).unwrap_or(i64::MAX);
    window_start.max(now.saturating_sub(length))
}
