//! The notices to administrators: a plugin the health policy disabled, as the help desk
//! notifies its admins of one. Each stays in the list; dismissing one takes it off the
//! pages' banner.

use rusqlite::{Connection, params};
use serde::Serialize;

use crate::error::DeskError;
use crate::store::Store;

/// A notice to administrators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// Its number, increasing.
    pub seq: i64,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The plugin disabled.
    pub plugin_id: String,
    /// Why: the health policy's count (`10 of 10 deliveries failed within 10 minutes`).
    pub detail: String,
    /// Whether an administrator dismissed it.
    pub dismissed: bool,
}

/// Records that the health policy disabled `plugin_id`, in the transaction that does.
pub(crate) fn add(
    conn: &Connection,
    at_ms: i64,
    plugin_id: &str,
    detail: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached("INSERT INTO notices (at, plugin_id, detail) VALUES (?1, ?2, ?3)")?
        .execute(params![at_ms, plugin_id, detail])
        .map(drop)
}

/// The notices, newest first, at most `limit`; only those not dismissed with `pending`.
pub(crate) fn list(store: &Store, pending: bool, limit: u32) -> Result<Vec<Notice>, DeskError> {
    let mut stmt = store
        .conn
        .prepare_cached(
            "SELECT seq, at, plugin_id, detail, dismissed FROM notices
             WHERE dismissed = 0 OR ?1 = 0 ORDER BY seq DESC LIMIT ?2",
        )
        .map_err(|e| store.error(e))?;
    stmt.query_map(params![pending, limit], |r| {
        Ok(Notice {
            seq: r.get(0)?,
            at_ms: r.get(1)?,
            plugin_id: r.get(2)?,
            detail: r.get(3)?,
            dismissed: r.get(4)?,
        })
    })
    .and_then(Iterator::collect)
    .map_err(|e| store.error(e))
}

/// Dismisses notice `seq`, or every notice with `None`; returns how many were shown.
pub(crate) fn dismiss(store: &Store, seq: Option<i64>) -> Result<usize, DeskError> {
    store
        .conn
        .prepare_cached(
            "UPDATE notices SET dismissed = 1 WHERE dismissed = 0 AND (?1 IS NULL OR seq = ?1)",
        )
        .and_then(|mut s| s.execute(params![seq]))
        .map_err(|e| store.error(e))
}
