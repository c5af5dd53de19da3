//! The custom fields plugins set, kept for the tickets used most recently.
//!
//! A real desk stores fields with its tickets; the reference host keeps them in memory
//! so that later deliveries carry them. Unbounded, that memory grows with every ticket
//! a plugin ever touched, and the map's growth (rehashing, the allocator taking more
//! pages) stalls deliveries in a long-running host. So the host keeps a fixed number of
//! tickets and forgets the one used least recently when another needs room.

use std::collections::{BTreeMap, HashMap};

/// The fields of one ticket and when the ticket was last used.
struct Ticket {
    last_use: u64,
    fields: BTreeMap<String, String>,
}

/// The custom fields of at most `capacity` tickets, least recently used forgotten first.
///
/// A ticket is used when a delivery reads its fields or a plugin sets one. Lookups and
/// updates cost `O(log n)`: the use order is a `BTreeMap` from use stamps to tickets.
pub(crate) struct TicketFields {
    capacity: usize,
    next_use: u64,
    tickets: HashMap<String, Ticket>,
    by_use: BTreeMap<u64, String>,
}

impl TicketFields {
    /// A store for `capacity` tickets; `0` keeps nothing.
    pub(crate) fn new(capacity: usize) -> TicketFields {
        TicketFields {
            capacity,
            next_use: 0,
            tickets: HashMap::new(),
            by_use: BTreeMap::new(),
        }
    }

    /// The fields of a ticket, for a delivery to it (which counts as a use).
    pub(crate) fn for_delivery(&mut self, ticket_id: &str) -> Option<BTreeMap<String, String>> {
        let stamp = self.stamp();
        let ticket = self.tickets.get_mut(ticket_id)?;
        let id = self.by_use.remove(&ticket.last_use);
        debug_assert!(id.is_some(), "every kept ticket is in the use order");
        ticket.last_use = stamp;
        self.by_use.insert(stamp, ticket_id.to_owned());
        Some(ticket.fields.clone())
    }

    /// The fields of a ticket, without counting as a use.
    pub(crate) fn get(&self, ticket_id: &str) -> Option<&BTreeMap<String, String>> {
        self.tickets.get(ticket_id).map(|t| &t.fields)
    }

    /// Sets a field, making room by forgetting the least recently used ticket.
    pub(crate) fn set(&mut self, ticket_id: &str, key: &str, value: &str) {
        if self.capacity == 0 {
            return;
        }
        let stamp = self.stamp();
        if let Some(ticket) = self.tickets.get_mut(ticket_id) {
            self.by_use.remove(&ticket.last_use);
            ticket.last_use = stamp;
            ticket.fields.insert(key.to_owned(), value.to_owned());
        } else {
            if self.tickets.len() >= self.capacity
                && let Some((_, oldest)) = self.by_use.pop_first()
            {
                self.tickets.remove(&oldest);
            }
            let fields = BTreeMap::from([(key.to_owned(), value.to_owned())]);
            self.tickets.insert(
                ticket_id.to_owned(),
                Ticket {
                    last_use: stamp,
                    fields,
                },
            );
        }
        self.by_use.insert(stamp, ticket_id.to_owned());
    }

    /// Forgets every ticket's fields.
    pub(crate) fn clear(&mut self) {
        self.tickets.clear();
        self.by_use.clear();
    }

    fn stamp(&mut self) -> u64 {
        self.next_use += 1;
        self.next_use
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(store: &TicketFields, id: &str) -> Vec<(String, String)> {
        store
            .get(id)
            .map(|f| f.clone().into_iter().collect())
            .unwrap_or_default()
    }

    fn kept(store: &TicketFields, ids: &[&str]) -> Vec<bool> {
        ids.iter().map(|id| store.get(id).is_some()).collect()
    }

    #[test]
    fn fields_set_on_a_ticket_are_kept_and_the_last_value_wins() {
        let mut store = TicketFields::new(4);
        store.set("t1", "severity", "low");
        store.set("t1", "jira", "OPS-1");
        store.set("t1", "severity", "high");
        assert_eq!(
            fields(&store, "t1"),
            [
                ("jira".into(), "OPS-1".into()),
                ("severity".into(), "high".into())
            ]
        );
        assert_eq!(store.for_delivery("t1"), store.get("t1").cloned());
        assert_eq!(store.for_delivery("t2"), None);
    }

    #[test]
    fn a_full_store_forgets_the_ticket_used_least_recently() {
        let mut store = TicketFields::new(3);
        for id in ["t1", "t2", "t3"] {
            store.set(id, "k", id);
        }
        // t1 delivered to, t2 given another field: t3 is now the least recently used.
        assert!(store.for_delivery("t1").is_some());
        store.set("t2", "k2", "v");
        store.set("t4", "k", "t4");
        assert_eq!(
            kept(&store, &["t1", "t2", "t3", "t4"]),
            [true, true, false, true]
        );
        // Reading without a delivery does not count as a use: t1 goes next.
        assert!(store.get("t1").is_some());
        store.set("t5", "k", "t5");
        assert_eq!(
            kept(&store, &["t1", "t2", "t4", "t5"]),
            [false, true, true, true]
        );
        assert_eq!(store.tickets.len(), 3);
        assert_eq!(store.by_use.len(), 3);
    }

    #[test]
    fn a_forgotten_ticket_starts_again_from_its_new_fields() {
        let mut store = TicketFields::new(1);
        store.set("t1", "a", "1");
        store.set("t2", "b", "2");
        store.set("t1", "c", "3");
        assert_eq!(fields(&store, "t1"), [("c".into(), "3".into())]);
        assert_eq!(kept(&store, &["t1", "t2"]), [true, false]);
    }

    #[test]
    fn capacity_zero_keeps_nothing() {
        let mut store = TicketFields::new(0);
        store.set("t1", "a", "1");
        assert_eq!(store.for_delivery("t1"), None);
        assert!(store.tickets.is_empty() && store.by_use.is_empty());
    }

    #[test]
    fn clear_forgets_every_ticket_and_the_store_fills_again() {
        let mut store = TicketFields::new(2);
        store.set("t1", "a", "1");
        store.set("t2", "a", "1");
        store.clear();
        assert_eq!(kept(&store, &["t1", "t2"]), [false, false]);
        store.set("t3", "a", "1");
        store.set("t4", "a", "1");
        assert_eq!(kept(&store, &["t3", "t4"]), [true, true]);
    }

    #[test]
    fn many_tickets_through_a_small_store_keep_it_at_its_capacity() {
        let mut store = TicketFields::new(16);
        for n in 0..1000 {
            let id = format!("t{n}");
            store.set(&id, "k", "v");
            // Every ticket delivered to again right away stays.
            assert!(store.for_delivery(&id).is_some());
            // An old ticket delivered to keeps its place at the back.
            assert!(n < 1 || store.for_delivery("t0").is_some());
        }
        assert_eq!(store.tickets.len(), 16);
        assert_eq!(store.by_use.len(), 16);
        // t0 and the 15 most recent.
        assert_eq!(
            kept(&store, &["t0", "t983", "t984", "t985", "t999"]),
            [true, false, false, true, true]
        );
    }
}
