//! Where a host keeps the custom fields plugins set ([`TicketStore`]), and the default
//! store: the fields of the tickets used most recently, in memory.
//!
//! A real desk stores fields with its tickets (the local desk gives its own store); the
//! reference host keeps them in memory so that later deliveries carry them. Unbounded, that memory grows with every ticket
//! a plugin ever touched, and the map's growth (rehashing, the allocator taking more
//! pages) stalls deliveries in a long-running host. So the host keeps a fixed number of
//! tickets and forgets the one used least recently when another needs room.
//!
//! A full store takes the forgotten ticket's slot, strings included, for the new one:
//! freeing the forgotten ticket's memory, cold by then, cost about 1 µs per delivery
//! in the examples bench (PagerDuty 25.0 → 26.4 µs), as much as the rest of the store.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::report::CustomFieldSet;

/// Where a host keeps the custom fields plugins set on tickets, so that later
/// deliveries carry them in `ticket.custom_fields` (docs/ABI.md, `ohd_set_custom_field`).
///
/// Before each delivery the host asks [`TicketStore::fields_for_delivery`] for the
/// event's ticket and merges the answer over the event's own `custom_fields`; after
/// each delivery that set fields, failed or not, it gives them to
/// [`TicketStore::record_sets`], so that the next delivery (to the next plugin of the
/// same event, too) sees them. The default, [`MemoryTicketStore`], keeps the fields of
/// the 4,096 tickets used most recently in memory
/// ([`HostBuilder::custom_field_tickets`](crate::HostBuilder::custom_field_tickets)).
/// An embedder whose tickets hold their fields (the local desk's database) gives its
/// own with [`HostBuilder::ticket_store`](crate::HostBuilder::ticket_store).
///
/// Both calls are on every delivery's path: a store answers from memory where it can.
///
/// ```
/// use otai_plugin_host::{CustomFieldSet, Host, TicketStore};
/// use std::collections::{BTreeMap, HashMap};
/// use std::sync::Mutex;
///
/// /// Every ticket's fields, never forgotten (a test's store: it grows without bound).
/// #[derive(Default)]
/// struct Everything(Mutex<HashMap<String, BTreeMap<String, String>>>);
///
/// impl TicketStore for Everything {
///     fn fields_for_delivery(&self, ticket_id: &str) -> Option<BTreeMap<String, String>> {
///         self.0.lock().unwrap().get(ticket_id).cloned()
///     }
///     fn record_sets(&self, _plugin_id: &str, sets: &[CustomFieldSet]) {
///         let mut tickets = self.0.lock().unwrap();
///         for set in sets {
///             tickets.entry(set.ticket_id.clone()).or_default().insert(set.key.clone(), set.value.clone());
///         }
///     }
///     fn fields(&self, ticket_id: &str) -> BTreeMap<String, String> {
///         self.fields_for_delivery(ticket_id).unwrap_or_default()
///     }
///     fn clear(&self) {
///         self.0.lock().unwrap().clear();
///     }
/// }
///
/// let host = Host::builder().ticket_store(Everything::default()).build()?;
/// assert!(host.custom_fields("T-1").is_empty());
/// # Ok::<(), otai_plugin_host::HostError>(())
/// ```
pub trait TicketStore: Send + Sync {
    /// The fields kept for `ticket_id`, for a delivery about it; `None` (or an empty
    /// map) when there are none. A store that forgets tickets counts this as a use.
    fn fields_for_delivery(&self, ticket_id: &str) -> Option<BTreeMap<String, String>>;

    /// Keeps the fields one delivery of plugin `plugin_id` set, in the order it set them
    /// (a later value of a key replaces an earlier one), as its report shows them: a
    /// secret config value in a value is already replaced by [`crate::REDACTED`].
    fn record_sets(&self, plugin_id: &str, sets: &[CustomFieldSet]);

    /// The fields kept for `ticket_id` ([`crate::Host::custom_fields`]), without counting
    /// as a use.
    fn fields(&self, ticket_id: &str) -> BTreeMap<String, String>;

    /// Forgets every ticket's fields ([`crate::Host::forget_custom_fields`]).
    fn clear(&self);
}

impl<T: TicketStore + ?Sized> TicketStore for Arc<T> {
    fn fields_for_delivery(&self, ticket_id: &str) -> Option<BTreeMap<String, String>> {
        (**self).fields_for_delivery(ticket_id)
    }

    fn record_sets(&self, plugin_id: &str, sets: &[CustomFieldSet]) {
        (**self).record_sets(plugin_id, sets);
    }

    fn fields(&self, ticket_id: &str) -> BTreeMap<String, String> {
        (**self).fields(ticket_id)
    }

    fn clear(&self) {
        (**self).clear();
    }
}

/// The default [`TicketStore`]: the custom fields of at most a fixed number of tickets,
/// in memory, the ticket used least recently forgotten first when another needs room.
/// A ticket is used when a delivery reads its fields or a plugin sets one.
pub struct MemoryTicketStore {
    fields: Mutex<TicketFields>,
    /// Whether `fields` may hold anything: until a plugin sets a field, deliveries do
    /// not take its lock.
    held: AtomicBool,
}

impl std::fmt::Debug for MemoryTicketStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryTicketStore")
            .field("capacity", &self.lock().capacity)
            .finish_non_exhaustive()
    }
}

impl MemoryTicketStore {
    /// A store for the fields of `tickets` tickets; `0` keeps none.
    pub fn new(tickets: usize) -> MemoryTicketStore {
        MemoryTicketStore {
            fields: Mutex::new(TicketFields::new(tickets)),
            held: AtomicBool::new(false),
        }
    }

    fn lock(&self) -> MutexGuard<'_, TicketFields> {
        // Updated in single steps; a panic elsewhere cannot leave it half-written.
        self.fields.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl TicketStore for MemoryTicketStore {
    fn fields_for_delivery(&self, ticket_id: &str) -> Option<BTreeMap<String, String>> {
        if !self.held.load(Ordering::Acquire) {
            return None;
        }
        self.lock().for_delivery(ticket_id)
    }

    fn record_sets(&self, _plugin_id: &str, sets: &[CustomFieldSet]) {
        if sets.is_empty() {
            return;
        }
        let mut fields = self.lock();
        for set in sets {
            fields.set(&set.ticket_id, &set.key, &set.value);
        }
        self.held.store(true, Ordering::Release);
    }

    fn fields(&self, ticket_id: &str) -> BTreeMap<String, String> {
        self.lock().get(ticket_id).unwrap_or_default()
    }

    fn clear(&self) {
        let mut fields = self.lock();
        fields.clear();
        // Under the lock, as `record_sets` marks the store: the mark cannot be cleared
        // after a set that came later.
        self.held.store(false, Ordering::Release);
    }
}

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
struct TicketFields {
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
    fn new(capacity: usize) -> TicketFields {
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
    fn for_delivery(&mut self, ticket_id: &str) -> Option<BTreeMap<String, String>> {
        let at = *self.index.get(ticket_id)?;
        self.make_newest(at);
        Some(self.slots[at].fields.iter().cloned().collect())
    }

    /// The fields of a ticket, without counting as a use.
    fn get(&self, ticket_id: &str) -> Option<BTreeMap<String, String>> {
        let at = *self.index.get(ticket_id)?;
        Some(self.slots[at].fields.iter().cloned().collect())
    }

    /// Sets a field, making room by forgetting the least recently used ticket.
    fn set(&mut self, ticket_id: &str, key: &str, value: &str) {
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
    fn clear(&mut self) {
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
