//! What an upgrade changes in a plugin's permissions.

use std::fmt;

use otai_plugin_abi::manifest::Manifest;
use serde::Serialize;

/// The permissions a new version gains and loses: the hosts it may send requests to,
/// the events it receives, and its ticket panel. An upgrade that gains anything must
/// be approved, as the help desk asks its administrators.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PermissionDiff {
    /// Hosts in the new `allowed_hosts` only.
    pub hosts_added: Vec<String>,
    /// Hosts in the old `allowed_hosts` only.
    pub hosts_removed: Vec<String>,
    /// Events the new version subscribes to and the old did not.
    pub events_added: Vec<String>,
    /// Events the old version subscribed to and the new does not.
    pub events_removed: Vec<String>,
    /// The new version has a `ui_panel` and the old had none.
    pub panel_added: bool,
    /// The old version had a `ui_panel` and the new has none.
    pub panel_removed: bool,
}

impl PermissionDiff {
    /// The difference from `old` to `new`. Hosts compare case-insensitively, as
    /// requests are matched.
    pub fn between(old: &Manifest, new: &Manifest) -> PermissionDiff {
        let hosts = |m: &Manifest| -> Vec<String> {
            m.allowed_hosts()
                .iter()
                .map(|h| h.to_ascii_lowercase())
                .collect()
        };
        let events =
            |m: &Manifest| -> Vec<String> { m.events.iter().map(|e| e.to_string()).collect() };
        let (old_hosts, new_hosts) = (hosts(old), hosts(new));
        let (old_events, new_events) = (events(old), events(new));
        let only = |a: &[String], b: &[String]| -> Vec<String> {
            a.iter().filter(|x| !b.contains(x)).cloned().collect()
        };
        PermissionDiff {
            hosts_added: only(&new_hosts, &old_hosts),
            hosts_removed: only(&old_hosts, &new_hosts),
            events_added: only(&new_events, &old_events),
            events_removed: only(&old_events, &new_events),
            panel_added: new.ui_panel.is_some() && old.ui_panel.is_none(),
            panel_removed: old.ui_panel.is_some() && new.ui_panel.is_none(),
        }
    }

    /// Whether the new version may do something the old could not.
    pub fn grows(&self) -> bool {
        !self.hosts_added.is_empty() || !self.events_added.is_empty() || self.panel_added
    }

    /// Whether nothing changes.
    pub fn is_empty(&self) -> bool {
        *self == PermissionDiff::default()
    }
}

impl fmt::Display for PermissionDiff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return write!(f, "  permissions unchanged");
        }
        let mut lines = Vec::new();
        for h in &self.hosts_added {
            lines.push(format!("  + may send requests to {h}"));
        }
        for h in &self.hosts_removed {
            lines.push(format!("  - no longer sends requests to {h}"));
        }
        for e in &self.events_added {
            lines.push(format!("  + receives {e}"));
        }
        for e in &self.events_removed {
            lines.push(format!("  - no longer receives {e}"));
        }
        if self.panel_added {
            lines.push("  + shows a panel on tickets".to_owned());
        }
        if self.panel_removed {
            lines.push("  - no longer shows a panel on tickets".to_owned());
        }
        write!(f, "{}", lines.join("\n"))
    }
}
