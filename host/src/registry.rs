//! The installed plugins, by id and by the events they subscribe to: a delivery reads
//! the plugins subscribed to its event and no other, so its cost does not grow with the
//! plugins installed but not subscribed (issue 41).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use otai_plugin_abi::event::EventKind;

/// What is installed, by id, with an index event kind → plugins kept in step with it
/// on every insert and remove (a reinstall may change the events).
pub(crate) struct Registry<T> {
    by_id: BTreeMap<String, Entry<T>>,
    by_event: HashMap<EventKind, BTreeMap<String, Arc<T>>>,
}

struct Entry<T> {
    value: Arc<T>,
    /// The events it is indexed under, to take it out of the index again.
    events: Vec<EventKind>,
}

impl<T> Default for Registry<T> {
    fn default() -> Self {
        Registry {
            by_id: BTreeMap::new(),
            by_event: HashMap::new(),
        }
    }
}

impl<T> Registry<T> {
    /// Puts `value` under `id`, subscribed to `events`, replacing what `id` had (and
    /// the events it was subscribed to).
    pub(crate) fn insert(&mut self, id: &str, events: &[EventKind], value: Arc<T>) {
        self.remove(id);
        for kind in events {
            self.by_event
                .entry(kind.clone())
                .or_default()
                .insert(id.to_owned(), value.clone());
        }
        let events = events.to_vec();
        self.by_id.insert(id.to_owned(), Entry { value, events });
    }

    /// Takes `id` out; returns what it held.
    pub(crate) fn remove(&mut self, id: &str) -> Option<Arc<T>> {
        let entry = self.by_id.remove(id)?;
        for kind in &entry.events {
            if let Some(plugins) = self.by_event.get_mut(kind) {
                plugins.remove(id);
                if plugins.is_empty() {
                    self.by_event.remove(kind);
                }
            }
        }
        Some(entry.value)
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Arc<T>> {
        self.by_id.get(id).map(|e| &e.value)
    }

    /// The ids, sorted.
    pub(crate) fn ids(&self) -> impl Iterator<Item = &String> {
        self.by_id.keys()
    }

    /// The plugins subscribed to `kind`, in id order.
    pub(crate) fn subscribed(&self, kind: &EventKind) -> Vec<Arc<T>> {
        self.by_event
            .get(kind)
            .map(|plugins| plugins.values().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREATED: EventKind = EventKind::TicketCreated;
    const CLOSED: EventKind = EventKind::TicketClosed;

    fn ids(found: Vec<Arc<String>>) -> Vec<String> {
        found.iter().map(|v| v.to_string()).collect()
    }

    #[test]
    fn a_delivery_reads_only_the_subscribed_in_id_order() {
        let mut r = Registry::default();
        for i in 0..1_000 {
            let id = format!("p{i:04}");
            r.insert(&id, &[CREATED], Arc::new(id.clone()));
        }
        r.insert("closer", &[CLOSED, CREATED], Arc::new("closer".to_owned()));
        assert_eq!(ids(r.subscribed(&CLOSED)), ["closer"]);
        assert_eq!(r.subscribed(&CREATED).len(), 1_001);
        assert!(r.subscribed(&EventKind::TicketAssigned).is_empty());
        let created = ids(r.subscribed(&CREATED));
        let mut sorted = created.clone();
        sorted.sort_unstable();
        assert_eq!(created, sorted);
    }

    #[test]
    fn a_reinstall_with_other_events_moves_it_and_a_removal_takes_it_out() {
        let mut r = Registry::default();
        r.insert("a", &[CREATED, CLOSED], Arc::new("a v1".to_owned()));
        r.insert("b", &[CREATED], Arc::new("b".to_owned()));
        // An upgrade that no longer subscribes to `ticket.closed`.
        r.insert("a", &[CREATED], Arc::new("a v2".to_owned()));
        assert!(r.subscribed(&CLOSED).is_empty());
        assert_eq!(ids(r.subscribed(&CREATED)), ["a v2", "b"]);
        assert!(!r.by_event.contains_key(&CLOSED), "no empty entry is left");

        assert_eq!(r.remove("a").as_deref().map(String::as_str), Some("a v2"));
        assert_eq!(ids(r.subscribed(&CREATED)), ["b"]);
        assert!(r.remove("a").is_none());
        assert!(r.get("a").is_none());
        r.remove("b");
        assert!(r.by_event.is_empty() && r.ids().next().is_none());
    }
}
