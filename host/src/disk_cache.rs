//! Compiled modules kept on disk, so that a process that loads a module another process
//! (or an earlier run) compiled reads its code instead of compiling it again
//! ([`HostBuilder::compile_cache_dir`](crate::HostBuilder::compile_cache_dir)).
//!
//! An entry is one file, `<key>.cwasm`, named by a SHA-256 over the module's bytes and
//! everything else the compiled code depends on (the engine's compatibility hash, which
//! covers wasmtime's version, target, compiler flags, tunables and wasm features; this
//! crate's version; the host settings that shape code), so that an entry is only ever
//! looked up by a host that would have compiled the same code. Its content:
//!
//! ```text
//! MAGIC (8 bytes) | HMAC-SHA256(mac key, MAGIC | key | code) (32 bytes) | code
//! ```
//!
//! where `code` is wasmtime's serialization of the module or component. The MAC binds
//! the code to its key: an entry renamed to another module's key does not verify.
//!
//! Deserializing is trusting: wasmtime maps the code as it is and runs it, so the
//! directory must be as trusted as the binary. The MAC stops code that this embedder
//! (with its key) did not write from being run: a file dropped there by something that
//! can write the directory but does not hold the key (another user's process sharing
//! a world-writable directory, a backup restored from another machine, a desk's data
//! directory copied without its key), and any truncated or damaged file. It does not
//! protect against whoever holds the key.
//!
//! Nothing here fails a load: an entry that cannot be read, does not verify or that
//! wasmtime refuses is compiled again (and rewritten); a failure to write is counted
//! and skipped ([`DiskCacheStats`]).

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};
use wasmtime::Engine;

/// The first bytes of every entry: the format's version.
const MAGIC: &[u8; 8] = b"OTAICW01";
const MAC_LEN: usize = 32;
const HEADER_LEN: usize = MAGIC.len() + MAC_LEN;
const ENTRY_SUFFIX: &str = ".cwasm";
const TEMP_PREFIX: &str = ".tmp-";
/// A temporary file older than this was left by a process that died while writing it.
const STALE_TEMP: Duration = Duration::from_secs(3600);

/// What a host's disk cache did since the host was built
/// ([`Host::disk_cache_stats`](crate::Host::disk_cache_stats)).
///
/// A failure of the cache never fails a load: it is counted here, and the module is
/// compiled as it would be without a cache.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DiskCacheStats {
    /// Modules read from the cache instead of being compiled.
    pub hits: u64,
    /// Modules compiled and written to the cache.
    pub writes: u64,
    /// Entries found and not used: truncated, damaged, not written with this host's key,
    /// or refused by wasmtime. Each was compiled again and its entry rewritten.
    pub refused: u64,
    /// Errors reading or writing the directory (permissions, a full disk, ...).
    pub errors: u64,
    /// The last refusal or error, for a message.
    pub last_problem: Option<String>,
}

/// Whether an entry holds a core module or a component: part of its key.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Module,
    Component,
}

/// A directory of compiled modules.
pub(crate) struct DiskCache {
    dir: PathBuf,
    mac_key: [u8; 32],
    max_bytes: u64,
    /// The SHA-256 of what, beside a module's bytes, its compiled code depends on.
    context: [u8; 32],
    stats: Mutex<DiskCacheStats>,
    /// The directory's entries in bytes as this host last counted them, plus what it
    /// wrote since: `None` until its first write. The directory is read again only when
    /// this passes the bound, so that a thousand writes do not each read a thousand
    /// entries; what other processes write is counted at that next reading.
    counted: Mutex<Option<u64>>,
}

/// Numbers the temporary files of this process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl DiskCache {
    /// A cache in `dir` (created at the first write) for modules compiled by `engine`,
    /// whose entries are MACed with a key derived from `key`. `host_settings` describes
    /// the host's settings that shape compiled code.
    pub(crate) fn new(
        dir: PathBuf,
        key: &[u8],
        max_bytes: u64,
        engine: &Engine,
        host_settings: &str,
    ) -> DiskCache {
        // The embedder's key is not used as it is: it may serve the embedder for other
        // things (the desk seals secrets with it).
        let mac_key = hmac(key, &[b"otai-plugin-host compile cache MAC key v1"]);
        let mut context = Sha256Hasher(Sha256::new());
        context.0.update(b"otai-plugin-host compile cache v1\0");
        context.0.update(env!("CARGO_PKG_VERSION").as_bytes());
        context.0.update(b"\0");
        std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut context);
        context.0.update(b"\0");
        context.0.update(host_settings.as_bytes());
        DiskCache {
            dir,
            mac_key,
            max_bytes,
            context: context.0.finalize().into(),
            stats: Mutex::default(),
            counted: Mutex::default(),
        }
    }

    pub(crate) fn stats(&self) -> DiskCacheStats {
        self.lock_stats().clone()
    }

    fn lock_stats(&self) -> std::sync::MutexGuard<'_, DiskCacheStats> {
        self.stats
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn problem(&self, refused: bool, message: String) {
        let mut stats = self.lock_stats();
        if refused {
            stats.refused += 1;
        } else {
            stats.errors += 1;
        }
        stats.last_problem = Some(message);
    }

    /// The key of `bytes` compiled as `kind` by this host.
    fn key(&self, kind: Kind, bytes: &[u8]) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(self.context);
        hasher.update(match kind {
            Kind::Module => b"module\0",
            Kind::Component => b"compnt\0",
        });
        hasher.update(bytes);
        hasher.finalize().into()
    }

    fn path(&self, key: &[u8; 32]) -> PathBuf {
        self.dir.join(format!("{}{ENTRY_SUFFIX}", hex(key)))
    }

    /// The code of `bytes` from the cache, else `compile`d and written to it.
    ///
    /// `deserialize` must be wasmtime's deserialization for `kind`: it is given only
    /// bytes that carry this cache's MAC, so bytes that `serialize` wrote under this
    /// key, unless the key's holder wrote others.
    pub(crate) fn get_or_compile<T>(
        &self,
        kind: Kind,
        bytes: &[u8],
        compile: impl FnOnce() -> wasmtime::Result<T>,
        serialize: impl FnOnce(&T) -> wasmtime::Result<Vec<u8>>,
        deserialize: impl FnOnce(&[u8]) -> wasmtime::Result<T>,
    ) -> wasmtime::Result<T> {
        let key = self.key(kind, bytes);
        let path = self.path(&key);
        if let Some(code) = self.read(&key, &path) {
            match deserialize(code.as_slice()) {
                Ok(value) => {
                    self.lock_stats().hits += 1;
                    touch(&path);
                    return Ok(value);
                }
                Err(e) => self.problem(
                    true,
                    format!(
                        "the compiled module `{}` was refused by wasmtime ({e:#}); compiled again",
                        path.display()
                    ),
                ),
            }
        }
        let value = compile()?;
        match serialize(&value) {
            Ok(code) => self.write(&key, &path, &code),
            Err(e) => self.problem(
                false,
                format!("could not serialize a compiled module: {e:#}"),
            ),
        }
        Ok(value)
    }

    /// The code of the entry at `path`, when there is one and it verifies.
    fn read(&self, key: &[u8; 32], path: &Path) -> Option<Vec<u8>> {
        let mut entry = match read_at_most(path, self.max_bytes) {
            Ok(entry) => entry,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                self.problem(
                    false,
                    format!("could not read `{}`: {e}; compiled instead", path.display()),
                );
                return None;
            }
        };
        let verified = entry.len() >= HEADER_LEN
            && entry[..MAGIC.len()] == MAGIC[..]
            && constant_time_eq(
                &entry[MAGIC.len()..HEADER_LEN],
                &hmac(&self.mac_key, &[MAGIC, key, &entry[HEADER_LEN..]]),
            );
        if !verified {
            self.problem(
                true,
                format!(
                    "`{}` is truncated, damaged or was not written with this host's key; \
                     compiled again",
                    path.display()
                ),
            );
            return None;
        }
        entry.drain(..HEADER_LEN);
        Some(entry)
    }

    /// Writes an entry: to a temporary file in the directory, then renamed over the
    /// entry's name, so that a reader (in this process or another) sees a whole entry
    /// or none, and two writers of the same entry each rename a whole one.
    fn write(&self, key: &[u8; 32], path: &Path, code: &[u8]) {
        let size = (HEADER_LEN + code.len()) as u64;
        if size > self.max_bytes {
            return;
        }
        // Unique among the processes (the pid) and among the hosts of this one (a
        // counter of the process, not of the host: two hosts of one process writing the
        // same entry would otherwise take the same name, and one remove the other's).
        let temp = self.dir.join(format!(
            "{TEMP_PREFIX}{}-{}-{}",
            hex(&key[..8]),
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let written = create_dir(&self.dir)
            .and_then(|()| create_private(&temp))
            .and_then(|mut file| {
                let written = file
                    .write_all(MAGIC)
                    .and_then(|()| file.write_all(&hmac(&self.mac_key, &[MAGIC, key, code])))
                    .and_then(|()| file.write_all(code))
                    // Not synced: an entry a crash leaves torn fails its MAC and is
                    // compiled again, so a sync would cost every write for nothing.
                    .and_then(|()| fs::rename(&temp, path));
                if written.is_err() {
                    let _ = fs::remove_file(&temp);
                }
                written
            });
        match written {
            Ok(()) => {
                self.lock_stats().writes += 1;
                let mut counted = self
                    .counted
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                match counted.as_mut() {
                    Some(total) if *total + size <= self.max_bytes => *total += size,
                    _ => *counted = Some(self.evict()),
                }
            }
            Err(e) => self.problem(
                false,
                format!(
                    "could not write `{}`: {e}; the module is compiled again next time",
                    path.display()
                ),
            ),
        }
    }

    /// Removes the least recently used entries (by modification time, which a hit
    /// touches) until the entries take at most `max_bytes`, and temporary files left by
    /// a process that died while writing. Returns the bytes the entries then take.
    fn evict(&self) -> u64 {
        let Ok(read_dir) = fs::read_dir(&self.dir) else {
            return 0;
        };
        let now = SystemTime::now();
        let mut entries = Vec::new();
        let mut total = 0u64;
        for item in read_dir.flatten() {
            let name = item.file_name();
            let name = name.to_string_lossy();
            let Ok(meta) = item.metadata() else { continue };
            let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
            if name.starts_with(TEMP_PREFIX) {
                if now.duration_since(modified).unwrap_or_default() > STALE_TEMP {
                    let _ = fs::remove_file(item.path());
                }
            } else if name.ends_with(ENTRY_SUFFIX) && meta.is_file() {
                total += meta.len();
                entries.push((modified, meta.len(), item.path()));
            }
        }
        if total <= self.max_bytes {
            return total;
        }
        entries.sort();
        for (_, len, path) in entries {
            if total <= self.max_bytes {
                break;
            }
            // Another process may have removed it already: counted as gone either way.
            let _ = fs::remove_file(path);
            total = total.saturating_sub(len);
        }
        total
    }
}

/// The file at `path`, or an empty one (which fails the MAC) when it is larger than
/// `limit`: no entry this cache writes is, and reading one would take its size in memory.
fn read_at_most(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = File::open(path)?;
    let mut entry = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut entry)?;
    if entry.len() as u64 > limit {
        entry.clear();
    }
    Ok(entry)
}

/// Marks an entry as used now, for eviction.
fn touch(path: &Path) {
    if let Ok(file) = File::options().append(true).open(path) {
        let _ = file.set_modified(SystemTime::now());
    }
}

fn create_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = File::options();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Feeds what a [`std::hash::Hash`] writes into SHA-256: the engine's compatibility
/// hash is given as a `Hash`, and the key needs more than 64 bits of it.
struct Sha256Hasher(Sha256);

impl std::hash::Hasher for Sha256Hasher {
    fn finish(&self) -> u64 {
        // Never called: the digest is taken from the inner hasher.
        0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// HMAC-SHA256 (RFC 2104) of the concatenation of `parts`: a few lines over `sha2`,
/// which the workspace builds already, rather than one more crate.
fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    for part in parts {
        inner.update(part);
    }
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// Compares without returning early, so that the time taken does not tell how much of
/// a forged MAC was right.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::{Config, Module};

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test cases 2 and 6: a short key, and a key longer than the block.
        assert_eq!(
            hex(&hmac(b"Jefe", &[b"what do ya want ", b"for nothing?"])),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&hmac(
                &[0xaa; 131],
                &[b"Test Using Larger Than Block-Size Key - Hash Key First"]
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    fn engine(fuel: bool) -> Engine {
        let mut config = Config::new();
        config.consume_fuel(fuel);
        Engine::new(&config).unwrap()
    }

    fn wasm() -> Vec<u8> {
        wat::parse_str("(module (func (export \"f\") (result i32) i32.const 7))").unwrap()
    }

    fn load(cache: &DiskCache, engine: &Engine, bytes: &[u8]) -> Module {
        cache
            .get_or_compile(
                Kind::Module,
                bytes,
                || Module::from_binary(engine, bytes),
                Module::serialize,
                // SAFETY: only what the MAC verified reaches here (the test's own entries).
                |code| unsafe { Module::deserialize(engine, code) },
            )
            .unwrap()
    }

    /// The compatibility hash is in the key: a host whose engine compiles other code
    /// never looks up the other's entries.
    #[test]
    fn an_engine_with_other_settings_has_other_keys() {
        let dir = tempfile::tempdir().unwrap();
        let (plain, fueled) = (engine(false), engine(true));
        let a = DiskCache::new(dir.path().into(), b"k", 1 << 20, &plain, "");
        let b = DiskCache::new(dir.path().into(), b"k", 1 << 20, &fueled, "");
        let c = DiskCache::new(dir.path().into(), b"k", 1 << 20, &plain, "memory=1");
        let bytes = wasm();
        assert_ne!(a.key(Kind::Module, &bytes), b.key(Kind::Module, &bytes));
        assert_ne!(a.key(Kind::Module, &bytes), c.key(Kind::Module, &bytes));
        assert_ne!(a.key(Kind::Module, &bytes), a.key(Kind::Component, &bytes));
        load(&a, &plain, &bytes);
        load(&b, &fueled, &bytes);
        assert_eq!((b.stats().hits, b.stats().writes), (0, 1));
    }

    /// An entry another engine wrote, under this engine's key and with a valid MAC
    /// (what only the key's holder could forge): wasmtime's own check refuses it, and
    /// the module is compiled and the entry rewritten.
    #[test]
    fn an_entry_of_another_engine_under_this_key_is_refused_by_wasmtime() {
        let dir = tempfile::tempdir().unwrap();
        let (plain, fueled) = (engine(false), engine(true));
        let cache = DiskCache::new(dir.path().into(), b"k", 1 << 20, &plain, "");
        let bytes = wasm();
        let key = cache.key(Kind::Module, &bytes);
        let foreign = Module::from_binary(&fueled, &bytes)
            .unwrap()
            .serialize()
            .unwrap();
        cache.write(&key, &cache.path(&key), &foreign);
        let module = load(&cache, &plain, &bytes);
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.refused, stats.writes), (0, 1, 2));
        assert!(
            stats.last_problem.unwrap().contains("refused by wasmtime"),
            "{:?}",
            cache.stats()
        );
        assert!(module.get_export("f").is_some());
        // Rewritten with this engine's code.
        load(&cache, &plain, &bytes);
        assert_eq!(cache.stats().hits, 1);
    }

    /// Entries take at most the bound: the least recently used go first.
    #[test]
    fn eviction_keeps_the_most_recently_used_within_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(false);
        let modules: Vec<Vec<u8>> = (0..3)
            .map(|i| {
                wat::parse_str(format!(
                    "(module (func (export \"f\") (result i32) i32.const {i}))"
                ))
                .unwrap()
            })
            .collect();
        let probe = DiskCache::new(dir.path().into(), b"k", u64::MAX, &engine, "");
        load(&probe, &engine, &modules[0]);
        let one = fs::read_dir(dir.path()).unwrap().next().unwrap().unwrap();
        let size = one.metadata().unwrap().len();
        fs::remove_file(one.path()).unwrap();

        // Room for two entries.
        let cache = DiskCache::new(dir.path().into(), b"k", size * 2 + size / 2, &engine, "");
        let old = SystemTime::now() - Duration::from_secs(100);
        load(&cache, &engine, &modules[0]);
        load(&cache, &engine, &modules[1]);
        // Module 1 older than module 0, without sleeping: module 0 was used last.
        let set = |m: &[u8], t: SystemTime| {
            let file = File::options()
                .append(true)
                .open(cache.path(&cache.key(Kind::Module, m)))
                .unwrap();
            file.set_modified(t).unwrap();
        };
        set(&modules[1], old);
        set(&modules[0], old + Duration::from_secs(10));
        load(&cache, &engine, &modules[2]);
        let exists = |m: &[u8]| cache.path(&cache.key(Kind::Module, m)).exists();
        assert!(exists(&modules[0]) && exists(&modules[2]));
        assert!(!exists(&modules[1]));
    }

    /// A file larger than any entry the cache writes is not read into memory: refused.
    #[test]
    fn a_file_larger_than_the_bound_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(false);
        let cache = DiskCache::new(dir.path().into(), b"k", 4096, &engine, "");
        let bytes = wasm();
        let mut huge = MAGIC.to_vec();
        huge.resize(8192, 0);
        fs::write(cache.path(&cache.key(Kind::Module, &bytes)), huge).unwrap();
        assert!(load(&cache, &engine, &bytes).get_export("f").is_some());
        assert_eq!(cache.stats().refused, 1);
    }

    /// An entry larger than the whole bound is not written, and evicts nothing.
    #[test]
    fn an_entry_larger_than_the_bound_is_not_written() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(false);
        let cache = DiskCache::new(dir.path().join("c"), b"k", 100, &engine, "");
        load(&cache, &engine, &wasm());
        assert_eq!(cache.stats().writes, 0);
        assert!(!dir.path().join("c").exists());
    }
}
