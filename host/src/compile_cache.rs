//! What a host keeps of its compiler's work, by the bytes it was made from, least recently
//! used first out: the compiled plugins, so that loading bytes it loaded before does not
//! compile them again, bounded by the size of their modules
//! ([`HostBuilder::compile_cache_bytes`](crate::HostBuilder::compile_cache_bytes)); and
//! the compiled functions of incremental compilation, bounded by their own size
//! ([`crate::compiled_functions`]).

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};

/// Compiled values (a [`Plugin`](crate::Plugin) in the host) by the bytes they were
/// compiled from, at most `capacity` in all of the sizes their inserts gave.
pub(crate) struct CompileCache<V> {
    capacity: u64,
    /// The sum of the kept entries' sizes.
    used: u64,
    /// Stamps each use: the entry with the smallest stamp is the least recently used.
    uses: u64,
    /// The key of each entry by its stamp, oldest first: eviction takes the first rather
    /// than scanning every entry, as the compiled functions of a debug plugin are
    /// thousands and evicting can follow every one of their inserts.
    order: BTreeMap<u64, u64>,
    /// By the hash of the bytes; the bytes themselves tell apart modules whose hashes
    /// collide.
    entries: HashMap<u64, Vec<Entry<V>>>,
}

struct Entry<V> {
    bytes: Box<[u8]>,
    value: V,
    size: u64,
    last_used: u64,
}

impl<V: Clone> CompileCache<V> {
    /// A cache keeping entries up to `capacity` in all; `0` keeps none.
    pub(crate) fn new(capacity: u64) -> Self {
        CompileCache {
            capacity,
            used: 0,
            uses: 0,
            order: BTreeMap::new(),
            entries: HashMap::new(),
        }
    }

    /// The key of `bytes`: computed before taking the cache's lock, as hashing a large
    /// module takes a while.
    pub(crate) fn key(bytes: &[u8]) -> u64 {
        let mut hasher = std::hash::DefaultHasher::new();
        bytes.hash(&mut hasher);
        hasher.finish()
    }

    /// The value compiled from `bytes` (whose key is `key`), now the most recently used.
    pub(crate) fn get(&mut self, key: u64, bytes: &[u8]) -> Option<V> {
        self.uses += 1;
        let stamp = self.uses;
        let entry = self
            .entries
            .get_mut(&key)?
            .iter_mut()
            .find(|e| *e.bytes == *bytes)?;
        self.order.remove(&entry.last_used);
        self.order.insert(stamp, key);
        entry.last_used = stamp;
        Some(entry.value.clone())
    }

    /// Whether an entry of `size` can be kept at all.
    pub(crate) fn fits(&self, size: u64) -> bool {
        self.capacity != 0 && size <= self.capacity
    }

    /// Keeps `value`, compiled from `bytes`, as the most recently used, counting `size`
    /// against the capacity (the host counts a module's length), evicting the least
    /// recently used entries until it fits; returns the value to use: the one already
    /// kept when another thread compiled the same bytes meanwhile. An entry larger than
    /// the capacity is not kept, and evicts nothing.
    pub(crate) fn insert(&mut self, key: u64, bytes: &[u8], value: V, size: u64) -> V {
        if let Some(existing) = self.get(key, bytes) {
            return existing;
        }
        if !self.fits(size) {
            return value;
        }
        while self.used + size > self.capacity && self.evict_least_recently_used() {}
        self.uses += 1;
        self.order.insert(self.uses, key);
        self.entries.entry(key).or_default().push(Entry {
            bytes: Box::from(bytes),
            value: value.clone(),
            size,
            last_used: self.uses,
        });
        self.used += size;
        value
    }

    /// Whether there was an entry to evict.
    fn evict_least_recently_used(&mut self) -> bool {
        let Some((stamp, key)) = self.order.pop_first() else {
            return false;
        };
        if let Some(list) = self.entries.get_mut(&key)
            && let Some(index) = list.iter().position(|e| e.last_used == stamp)
        {
            // Dropping the value drops only the cache's handle: wasmtime's compiled
            // `Module`s and `Component`s are reference-counted, so a plugin installed
            // from it, or an instance running it, keeps its code alive.
            let evicted = list.swap_remove(index);
            self.used -= evicted.size;
            if list.is_empty() {
                self.entries.remove(&key);
            }
        }
        true
    }

    /// How many compiled values the cache holds.
    pub(crate) fn len(&self) -> usize {
        self.entries.values().map(Vec::len).sum()
    }

    #[cfg(test)]
    pub(crate) fn used(&self) -> u64 {
        self.used
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module of `len` bytes, told apart from others of its length by `tag`.
    fn module(tag: u8, len: usize) -> Vec<u8> {
        let mut bytes = vec![0; len];
        bytes[0] = tag;
        bytes
    }

    fn load(cache: &mut CompileCache<u8>, bytes: &[u8]) -> Option<u8> {
        cache.get(CompileCache::<u8>::key(bytes), bytes)
    }

    fn keep(cache: &mut CompileCache<u8>, bytes: &[u8]) -> u8 {
        cache.insert(
            CompileCache::<u8>::key(bytes),
            bytes,
            bytes[0],
            bytes.len() as u64,
        )
    }

    #[test]
    fn the_least_recently_used_goes_first_and_a_hit_refreshes() {
        let (a, b, c, d) = (module(1, 10), module(2, 10), module(3, 10), module(4, 10));
        let mut cache = CompileCache::new(30);
        for m in [&a, &b, &c] {
            keep(&mut cache, m);
        }
        assert_eq!(load(&mut cache, &a), Some(1)); // a is now the most recent; b the least
        keep(&mut cache, &d);
        assert_eq!(load(&mut cache, &b), None);
        assert_eq!(
            [&a, &c, &d].map(|m| load(&mut cache, m)),
            [Some(1), Some(3), Some(4)]
        );
        // Those hits ran in the order a, c, d: a is the least recent now.
        keep(&mut cache, &b);
        assert_eq!(load(&mut cache, &a), None);
        assert_eq!(cache.len(), 3);
    }

    #[test]
    fn the_bound_holds_after_many_distinct_modules_of_any_size() {
        let mut cache = CompileCache::new(1000);
        for i in 0..500u32 {
            let len = 1 + (i as usize * 37) % 300;
            let mut bytes = module(0, len + 4);
            bytes[..4].copy_from_slice(&i.to_le_bytes());
            keep(&mut cache, &bytes);
            assert!(cache.used() <= 1000, "{} bytes after {i}", cache.used());
            // The newest is always kept: evicting makes room for it.
            assert!(load(&mut cache, &bytes).is_some());
            let kept: u64 = cache
                .entries
                .values()
                .flatten()
                .map(|e| e.bytes.len() as u64)
                .sum();
            assert_eq!(kept, cache.used());
            assert_eq!(cache.order.len(), cache.len());
        }
    }

    #[test]
    fn a_module_larger_than_the_bound_is_not_kept_and_evicts_nothing() {
        let mut cache = CompileCache::new(20);
        let small = module(1, 10);
        keep(&mut cache, &small);
        assert_eq!(keep(&mut cache, &module(2, 21)), 2);
        assert_eq!(load(&mut cache, &module(2, 21)), None);
        assert_eq!(load(&mut cache, &small), Some(1));
        // Exactly the bound fits, after the others are gone.
        keep(&mut cache, &module(3, 20));
        assert_eq!(load(&mut cache, &module(3, 20)), Some(3));
        assert_eq!((cache.len(), cache.used()), (1, 20));
    }

    #[test]
    fn the_size_given_counts_not_the_length_of_the_bytes() {
        let mut cache = CompileCache::new(100);
        cache.insert(1, &[1], 1, 60);
        cache.insert(2, &[2], 2, 30);
        cache.insert(3, &[3], 3, 20); // 110 in all: the oldest goes
        assert_eq!(
            [cache.get(1, &[1]), cache.get(2, &[2]), cache.get(3, &[3])],
            [None, Some(2), Some(3)]
        );
        assert_eq!(cache.used(), 50);
        assert!(cache.fits(100) && !cache.fits(101));
    }

    #[test]
    fn zero_keeps_nothing() {
        let mut cache = CompileCache::new(0);
        let empty: &[u8] = &[];
        for bytes in [&module(1, 10)[..], empty] {
            cache.insert(CompileCache::<u8>::key(bytes), bytes, 7, bytes.len() as u64);
            assert_eq!(cache.get(CompileCache::<u8>::key(bytes), bytes), None);
        }
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn modules_whose_hashes_collide_are_kept_apart() {
        let (a, b) = (module(1, 10), module(2, 10));
        let mut cache = CompileCache::new(100);
        cache.insert(42, &a, 1, 10);
        cache.insert(42, &b, 2, 10);
        assert_eq!((cache.get(42, &a), cache.get(42, &b)), (Some(1), Some(2)));
        assert_eq!(cache.get(42, &module(3, 10)), None);
    }

    #[test]
    fn a_module_compiled_twice_at_once_is_kept_once_and_both_get_the_first() {
        let a = module(1, 10);
        let mut cache = CompileCache::new(100);
        let key = CompileCache::<u8>::key(&a);
        assert_eq!(cache.insert(key, &a, 1, 10), 1);
        assert_eq!(cache.insert(key, &a, 2, 10), 1);
        assert_eq!((cache.len(), cache.used()), (1, 10));
    }
}
