//! Each plugin's health window: the outcomes of its deliveries since the policy's
//! length ago (or since it was last enabled), counted from the `outcomes` table, and
//! the copy of it kept in memory that deliveries judge health from ([`crate::health`]).

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};

use otai_plugin_host::HealthPolicy;
use rusqlite::{Connection, Transaction, params};

use crate::batch::Pending;

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
    /// The policy's length (ms) when it was loaded: a longer one (the administrator's
    /// settings changed) reaches outcomes this copy already dropped.
    length: i64,
    /// `(at, failed)`, oldest first.
    outcomes: VecDeque<(i64, bool)>,
    failures: u32,
    /// Outcomes that left the window since the table was last trimmed.
    expired: u32,
    /// Where the window began at the last delivery.
    cutoff: i64,
}

impl Windows {
    /// Counts one delivery's outcome of plugin `id`, `(now, failed)` (the table gets it
    /// when the delivery is committed), and returns its deliveries and failures in the
    /// window that ends `now`. `window_start` is the plugin's (when it was last enabled).
    pub(crate) fn observe(
        &mut self,
        conn: &Connection,
        pending: &Pending,
        id: &str,
        window_start: i64,
        (now, failed): (i64, bool),
        policy: &HealthPolicy,
    ) -> rusqlite::Result<(u32, u32)> {
        let window = self.window(conn, pending, id, window_start, now, policy)?;
        window.outcomes.push_back((now, failed));
        window.failures += u32::from(failed);
        Ok(window.counts())
    }

    /// Plugin `id`'s deliveries and failures in the window that ends `now`, the
    /// deliveries that wait included.
    pub(crate) fn counts(
        &mut self,
        conn: &Connection,
        pending: &Pending,
        id: &str,
        window_start: i64,
        now: i64,
        policy: &HealthPolicy,
    ) -> rusqlite::Result<(u32, u32)> {
        Ok(self
            .window(conn, pending, id, window_start, now, policy)?
            .counts())
    }

    /// Plugin `id`'s window that ends `now`, loaded from the table (and the outcomes
    /// that wait in `pending`) if this copy has none or a stale one.
    fn window(
        &mut self,
        conn: &Connection,
        pending: &Pending,
        id: &str,
        window_start: i64,
        now: i64,
        policy: &HealthPolicy,
    ) -> rusqlite::Result<&mut Window> {
        let cutoff = cutoff(window_start, now, policy);
        let length = length(policy);
        let load = || Window::load(conn, pending, id, window_start, length, cutoff);
        let window = match self.0.entry(id.to_owned()) {
            Entry::Occupied(e) if e.get().since == window_start && e.get().length >= length => {
                let window = e.into_mut();
                // A shorter window: this copy only drops more.
                window.length = length;
                window
            }
            Entry::Occupied(mut e) => {
                e.insert(load()?);
                e.into_mut()
            }
            Entry::Vacant(e) => e.insert(load()?),
        };
        window.expire(cutoff);
        Ok(window)
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
    /// Drops the outcomes older than `cutoff`.
    fn expire(&mut self, cutoff: i64) {
        while let Some(&(at, failed)) = self.outcomes.front() {
            if at >= cutoff {
                break;
            }
            self.outcomes.pop_front();
            self.failures -= u32::from(failed);
            self.expired += 1;
        }
        self.cutoff = cutoff;
    }

    fn counts(&self) -> (u32, u32) {
        (
            u32::try_from(self.outcomes.len()).unwrap_or(u32::MAX),
            self.failures,
        )
    }

    fn load(
        conn: &Connection,
        pending: &Pending,
        id: &str,
        window_start: i64,
        length: i64,
        cutoff: i64,
    ) -> rusqlite::Result<Window> {
        let mut stmt = conn.prepare_cached(
            "SELECT at, failed FROM outcomes WHERE plugin_id = ?1 AND at >= ?2 ORDER BY at, rowid",
        )?;
        let mut outcomes: VecDeque<(i64, bool)> = stmt
            .query_map(params![id, cutoff], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        // Recorded after what the table has: the order of outcomes stays the order of
        // time, which `expire` relies on (a clock set back aside).
        outcomes.extend(pending.outcomes_of(id).filter(|&(at, _)| at >= cutoff));
        let failures = outcomes.iter().map(|&(_, f)| u32::from(f)).sum();
        Ok(Window {
            since: window_start,
            length,
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
    window_start.max(floor(now, policy))
}

/// Where a health window that ends `now` begins at the earliest (for a plugin enabled
/// before): the policy's length before.
pub(crate) fn floor(now: i64, policy: &HealthPolicy) -> i64 {
    now.saturating_sub(length(policy))
}

/// The policy's window in milliseconds.
fn length(policy: &HealthPolicy) -> i64 {
    i64::try_from(policy.window.as_millis()).unwrap_or(i64::MAX)
}
