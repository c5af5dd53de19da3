//! What the desk knows of which plugins are in the host: those that wait outside it, by
//! the events they subscribe to, and when each one inside was last used. When to load
//! and unload them is [`crate::residency`]'s.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use otai_plugin_abi::event::EventKind;

/// The installed plugins the host does not hold (not loaded yet, unloaded after a
/// change, or refused), by the events they subscribe to as their stored manifest says:
/// a delivery loads the ones subscribed to its event and reads no other.
#[derive(Default)]
pub(crate) struct Waiting {
    /// Whether it was read from the database: at the first delivery or panel, so that
    /// opening reads nothing more than it must.
    pub(crate) read: bool,
    events: HashMap<String, Vec<EventKind>>,
    by_event: HashMap<EventKind, BTreeSet<String>>,
}

impl Waiting {
    pub(crate) fn add(&mut self, id: &str, events: &[EventKind]) {
        self.remove(id);
        for kind in events {
            self.by_event
                .entry(kind.clone())
                .or_default()
                .insert(id.to_owned());
        }
        self.events.insert(id.to_owned(), events.to_vec());
    }

    pub(crate) fn remove(&mut self, id: &str) {
        for kind in self.events.remove(id).unwrap_or_default() {
            if let Some(ids) = self.by_event.get_mut(&kind) {
                ids.remove(id);
                if ids.is_empty() {
                    self.by_event.remove(&kind);
                }
            }
        }
    }

    /// Whether plugin `id` waits.
    pub(crate) fn holds(&self, id: &str) -> bool {
        self.events.contains_key(id)
    }

    pub(crate) fn subscribed(&self, kind: &EventKind) -> Vec<String> {
        self.by_event
            .get(kind)
            .map(|ids| ids.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// When each plugin the host holds was last used (loaded, delivered to, a panel
/// rendered), so that the ones idle longer than
/// [`DeskOptions::unload_idle_after`](crate::DeskOptions::unload_idle_after) are taken
/// out of the host: a desk's memory follows the plugins it runs, not those installed.
pub(crate) struct Uses {
    idle_after: Option<Duration>,
    pub(crate) last: HashMap<String, Instant>,
    /// When idle plugins were last looked for: at most twice per `idle_after`, so that
    /// a delivery does not read every loaded plugin's time.
    swept: Instant,
}

impl Uses {
    pub(crate) fn new(idle_after: Option<Duration>) -> Uses {
        Uses {
            idle_after,
            last: HashMap::new(),
            swept: Instant::now(),
        }
    }

    /// The plugins idle longer than the bound, other than `just_used`, when it is time
    /// to look for them.
    pub(crate) fn idle(&mut self, just_used: &HashSet<&str>) -> Vec<String> {
        let Some(idle_after) = self.idle_after else {
            return Vec::new();
        };
        let now = Instant::now();
        if now.duration_since(self.swept) < idle_after / 2 {
            return Vec::new();
        }
        self.swept = now;
        self.last
            .iter()
            .filter(|(id, last)| {
                !just_used.contains(id.as_str()) && now.duration_since(**last) > idle_after
            })
            .map(|(id, _)| id.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_follows_adds_and_removals() {
        let mut w = Waiting::default();
        w.add("a", &[EventKind::TicketCreated, EventKind::TicketClosed]);
        w.add("b", &[EventKind::TicketCreated]);
        // Upgraded to a version that no longer subscribes to `ticket.closed`.
        w.add("a", &[EventKind::TicketCreated]);
        assert!(w.subscribed(&EventKind::TicketClosed).is_empty());
        assert_eq!(w.subscribed(&EventKind::TicketCreated), ["a", "b"]);
        w.remove("a");
        w.remove("b");
        assert!(w.by_event.is_empty() && w.events.is_empty());
    }
}
