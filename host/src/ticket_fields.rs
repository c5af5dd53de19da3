//! The custom fields plugins set, kept for the tickets used most recently.
//!
//! A real desk stores fields with its tickets; the reference host keeps them in memory
//! so that later deliveries carry them. Unbounded, that memory grows with every ticket
//! a plugin ever touched, and the map's growth (rehashing, the allocator taking more
//! pages) stalls deliveries in a long-running host. So the host keeps a fixed number of
//! tickets and forgets the one used least recently when another needs room.
//!
//! A full store takes the forgotten ticket's slot, strings included, for the new one:
//! freeing the forgotten ticket's memory, cold by then, cost about 1 µs per delivery
//! in the examples bench (PagerDuty 25.0 → 26.4 µs), as much as the rest of the store.

use std::collections::{BTreeMap, HashMap};

/// No slot: the end of the use order.
const NONE: usize = usize::MAX;

/// One kept ticket, linked into the use order.
struct Slot {
    ticket_id: String,
    /// Sorted by name; a name appears once.
    fields: Vec<(String, String)>,
    older: usize,
    newer: usize,
}

/// The custom fields of at most `capacity` tickets, least recently used forgotten first.
///
/// A ticket is used when a delivery reads its fields or a plugin sets one. The use
/// order is a doubly linked list over the slots, so that a use and a replacement cost
/// a hash lookup and a few index updates.
pub(crate) struct TicketFields {
    capacity: usize,
    index: HashMap<String, usize>,
    slots: Vec<Slot>,
    oldest: usize,
    newest: usize,
    /// The first field's strings of the last ticket forgotten, for the next field set.
    spare: Option<(String, String)>,
}

impl TicketFields {
    /// A store for `capacity` tickets; `0` keeps nothing.
    pub(crate) fn new(capacity: usize) -> TicketFields {
        TicketFields {
            capacity,
            index: HashMap::new(),
            slots: Vec::new(),
            oldest: NONE,
            newest: NONE,
            spare: None,
        }
    }

    /// The fields of a ticket, for a delivery to it (which counts as a use).
    pub(crate) fn for_delivery(&mut self, ticket_id: &str) -> Option<BTreeMap<String, String>> {
        let at = *self.index.get(ticket_id)?;
        self.make_newest(at);
        Some(self.slots[at].fields.iter().cloned().collect())
    }

    /// The fields of a ticket, without counting as a use.
    pub(crate) fn get(&self, ticket_id: &str) -> Option<BTreeMap<String, String>> {
        let at = *self.index.get(ticket_id)?;
        Some(self.slots[at].fields.iter().cloned().collect())
    }

    /// Sets a field, making room by forgetting the least recently used ticket.
    pub(crate) fn set(&mut self, ticket_id: &str, key: &str, value: &str) {
        if self.capacity == 0 {
            return;
        }
        let at = match self.index.get(ticket_id) {
            Some(&at) => at,
            None => self.take_slot(ticket_id),
        };
        self.make_newest(at);
        let fields = &mut self.slots[at].fields;
        match fields.binary_search_by(|(name, _)| name.as_str().cmp(key)) {
            Ok(i) => replace(&mut fields[i].1, value),
            Err(i) => {
                let field = match self.spare.take() {
                    Some((mut name, mut spare_value)) => {
                        replace(&mut name, key);
                        replace(&mut spare_value, value);
                        (name, spare_value)
                    }
                    None => (key.to_owned(), value.to_owned()),
                };
                fields.insert(i, field);
            }
        }
    }

    /// Forgets every ticket's fields.
    pub(crate) fn clear(&mut self) {
        self.index.clear();
        self.slots.clear();
        self.spare = None;
        self.oldest = NONE;
        self.newest = NONE;
    }

    /// A slot for a ticket not kept yet, with no fields: a new one while the store has
    /// room, else the least recently used ticket's, reusing its strings.
    fn take_slot(&mut self, ticket_id: &str) -> usize {
        if self.slots.len() < self.capacity {
            self.slots.push(Slot {
                ticket_id: ticket_id.to_owned(),
                fields: Vec::new(),
                older: NONE,
                newer: NONE,
            });
            let at = self.slots.len() - 1;
            self.index.insert(ticket_id.to_owned(), at);
            return at;
        }
        let at = self.oldest;
        let slot = &mut self.slots[at];
        let mut key = match self.index.remove_entry(&slot.ticket_id) {
            Some((key, _)) => key,
            None => String::new(),
        };
        replace(&mut key, ticket_id);
        replace(&mut slot.ticket_id, ticket_id);
        slot.fields.truncate(1);
        if let Some(first) = slot.fields.pop() {
            self.spare = Some(first);
        }
        self.index.insert(key, at);
        at
    }

    fn make_newest(&mut self, at: usize) {
        if self.newest == at {
            return;
        }
        let Slot { older, newer, .. } = self.slots[at];
        if older != NONE {
            self.slots[older].newer = newer;
        } else if self.oldest == at {
            self.oldest = newer;
        }
        if newer != NONE {
            self.slots[newer].older = older;
        }
        let slot = &mut self.slots[at];
        slot.older = self.newest;
        slot.newer = NONE;
        if self.newest != NONE {
            self.slots[self.newest].newer = at;
        }
        self.newest = at;
        if self.oldest == NONE {
            self.oldest = at;
        }
    }
}

fn replace(string: &mut String, with: &str) {
    string.clear();
    string.push_str(with);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(store: &TicketFields, id: &str) -> Vec<(String, String)> {
        store
            .get(id)
            .map(|f| f.into_iter().collect())
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
        assert_eq!(store.for_delivery("t1"), store.get("t1"));
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
        assert_eq!((store.index.len(), store.slots.len()), (3, 3));
    }

    #[test]
    fn a_forgotten_ticket_starts_again_from_its_new_fields() {
        let mut store = TicketFields::new(1);
        store.set("t1", "a", "1");
        store.set("t1", "b", "2");
        store.set("t2", "b", "22");
        assert_eq!(fields(&store, "t2"), [("b".into(), "22".into())]);
        store.set("t1", "c", "3");
        assert_eq!(fields(&store, "t1"), [("c".into(), "3".into())]);
        assert_eq!(kept(&store, &["t1", "t2"]), [true, false]);
    }

    /// The same operations on a store and on a list ordered by use (oldest first).
    #[test]
    fn the_store_agrees_with_a_plain_list_ordered_by_use() {
        type Model = Vec<(String, BTreeMap<String, String>)>;
        fn use_in(model: &mut Model, id: &str) -> Option<BTreeMap<String, String>> {
            let at = model.iter().position(|(t, _)| t == id)?;
            let entry = model.remove(at);
            model.push(entry);
            model.last().map(|(_, f)| f.clone())
        }
        for capacity in [1, 2, 3, 5] {
            let mut store = TicketFields::new(capacity);
            let mut model: Model = Vec::new();
            let mut rng = 0x2545_f491_4f6c_dd1du64;
            for step in 0..5000 {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let id = format!("t{}", rng % 8);
                let key = format!("k{}", (rng >> 8) % 3);
                let value = format!("v{step}");
                match (rng >> 16) % 4 {
                    0 => assert_eq!(store.for_delivery(&id), use_in(&mut model, &id)),
                    1 if step % 97 == 0 => {
                        store.clear();
                        model.clear();
                    }
                    _ => {
                        if use_in(&mut model, &id).is_none() {
                            if model.len() == capacity {
                                model.remove(0);
                            }
                            model.push((id.clone(), BTreeMap::new()));
                        }
                        if let Some((_, fields)) = model.last_mut() {
                            fields.insert(key.clone(), value.clone());
                        }
                        store.set(&id, &key, &value);
                    }
                }
                for n in 0..8 {
                    let id = format!("t{n}");
                    let expected = model.iter().find(|(t, _)| *t == id).map(|(_, f)| f.clone());
                    assert_eq!(store.get(&id), expected, "step {step}, capacity {capacity}");
                }
                // The use order, walked both ways, is the model's.
                let mut order = Vec::new();
                let mut at = store.oldest;
                while at != NONE {
                    order.push(store.slots[at].ticket_id.clone());
                    at = store.slots[at].newer;
                }
                let ids: Vec<String> = model.iter().map(|(t, _)| t.clone()).collect();
                assert_eq!(order, ids, "step {step}, capacity {capacity}");
                let mut back = Vec::new();
                let mut at = store.newest;
                while at != NONE {
                    back.push(store.slots[at].ticket_id.clone());
                    at = store.slots[at].older;
                }
                back.reverse();
                assert_eq!(back, ids, "step {step}, capacity {capacity}");
            }
        }
    }

    #[test]
    fn capacity_zero_keeps_nothing() {
        let mut store = TicketFields::new(0);
        store.set("t1", "a", "1");
        assert_eq!(store.for_delivery("t1"), None);
        assert!(store.index.is_empty() && store.slots.is_empty());
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
        assert_eq!((store.index.len(), store.slots.len()), (16, 16));
        // t0 and the 15 most recent.
        assert_eq!(
            kept(&store, &["t0", "t983", "t984", "t985", "t999"]),
            [true, false, false, true, true]
        );
    }
}
