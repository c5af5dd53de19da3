//! A plugin's state: enabled, or disabled with why and since when, as its row in the
//! database holds it. The desk's own enable and disable, its lifecycle and the host's
//! health store all write it here, by one rule.

use rusqlite::params;
use serde::Serialize;

/// Why a plugin is disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DisabledReason {
    /// Someone disabled it.
    ByHand,
    /// It failed too often ([`DeskOptions::health`](crate::DeskOptions::health)).
    Failures,
    /// A required config field has no value.
    NeedsConfig,
}

impl DisabledReason {
    fn as_str(self) -> &'static str {
        match self {
            DisabledReason::ByHand => "by_hand",
            DisabledReason::Failures => "failures",
            DisabledReason::NeedsConfig => "needs_config",
        }
    }

    pub(crate) fn parse(s: &str) -> DisabledReason {
        match s {
            "failures" => DisabledReason::Failures,
            "needs_config" => DisabledReason::NeedsConfig,
            _ => DisabledReason::ByHand,
        }
    }
}

/// A disabled plugin's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Disabled {
    /// Why.
    pub reason: DisabledReason,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// More about it: the failure counts, the missing fields.
    pub detail: String,
}

/// Sets the enabled state of a plugin's row at `now`: enabling starts a new health
/// window.
pub(crate) fn write_state(
    conn: &rusqlite::Connection,
    id: &str,
    disabled: Option<(DisabledReason, String)>,
    now: i64,
) -> rusqlite::Result<()> {
    match disabled {
        None => conn.execute(
            "UPDATE plugins SET enabled = 1, disabled_reason = NULL, disabled_detail = NULL,
                    disabled_at = NULL, window_start = ?2 WHERE id = ?1",
            params![id, now],
        )?,
        Some((reason, detail)) => conn.execute(
            "UPDATE plugins SET enabled = 0, disabled_reason = ?2, disabled_detail = ?3,
                    disabled_at = ?4 WHERE id = ?1",
            params![id, reason.as_str(), detail, now],
        )?,
    };
    Ok(())
}
