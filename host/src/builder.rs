//! [`HostBuilder`]: every setting of a [`Host`], with its default.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use otai_plugin_abi::limits::{
    DEFAULT_DEADLINE, DEFAULT_MAX_MODULE_SIZE, DEFAULT_MEMORY_LIMIT, MAX_COMPONENT_CORE_INSTANCES,
    MAX_COMPONENT_TABLES,
};
use otai_plugin_abi::module::signature::PublicKey;
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::compiled_functions::CompiledFunctions;
use crate::disk_cache::DiskCache;
use crate::error::HostError;
use crate::health::{
    Clock, HealthPolicy, HealthStatus, HealthStore, MemoryHealthStore, OnDisabled, SystemClock,
};
use crate::host::{Host, Stores};
use crate::http::{HttpTransport, RealHttp};
use crate::run::Settings;
use crate::ticker::Ticker;
use crate::ticket_fields::{MemoryTicketStore, TicketStore};

/// Tickets whose custom fields a host keeps unless told otherwise: enough for every
/// ticket a test or a demo touches, a few MiB at most with typical fields.
const DEFAULT_CUSTOM_FIELD_TICKETS: usize = 4096;

/// Bytes of modules a host keeps compiled unless told otherwise: the largest module it
/// accepts by default, or some hundred release plugins.
const DEFAULT_COMPILE_CACHE_BYTES: u64 = 32 << 20;

/// Bytes of compiled functions incremental compilation keeps unless told otherwise:
/// a whole build of the largest module accepted by default, at ~1.8× its size.
const DEFAULT_INCREMENTAL_COMPILATION_BYTES: u64 = 64 << 20;

/// Bytes of compiled modules a disk cache keeps unless told otherwise: a compiled
/// release plugin takes 2.6–3.5× its module, so some thousand of them.
const DEFAULT_COMPILE_CACHE_DIR_BYTES: u64 = 512 << 20;

/// Builds a [`Host`]. Every setter states its default.
///
/// ```
/// use otai_plugin_host::{Host, http::MockHttp};
/// use std::time::Duration;
///
/// let host = Host::builder()
///     .deadline(Duration::from_millis(500))
///     .memory_limit(16 << 20)
///     .http(MockHttp::new().on("POST", "https://hooks.slack.com/*").respond(200, "ok"))
///     .build()?;
/// # Ok::<(), otai_plugin_host::HostError>(())
/// ```
pub struct HostBuilder {
    deadline: Duration,
    memory_limit: u64,
    max_module_size: u64,
    trusted_signers: Option<Vec<PublicKey>>,
    fuel: Option<u64>,
    count_fuel: bool,
    http: Option<Arc<dyn HttpTransport>>,
    allow_internal_addresses: bool,
    policy: HealthPolicy,
    clock: Option<Arc<dyn Clock>>,
    health_store: Option<Arc<dyn HealthStore>>,
    on_disabled: Option<OnDisabled>,
    pooling: bool,
    max_instances: u32,
    keep_resident: usize,
    pagemap_scan: bool,
    record_calls: bool,
    profile: bool,
    report_body_bytes: usize,
    incremental_compilation: bool,
    incremental_compilation_bytes: u64,
    custom_field_tickets: Option<usize>,
    ticket_store: Option<Arc<dyn TicketStore>>,
    compile_cache_bytes: u64,
    /// The directory and the MAC key of the disk cache.
    compile_cache_dir: Option<(PathBuf, Vec<u8>)>,
    compile_cache_dir_bytes: u64,
}

impl std::fmt::Debug for HostBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostBuilder")
            .field("deadline", &self.deadline)
            .field("memory_limit", &self.memory_limit)
            .field("max_module_size", &self.max_module_size)
            .field("trusted_signers", &self.trusted_signers)
            .field("fuel", &self.fuel)
            .field("count_fuel", &self.count_fuel)
            .field("allow_internal_addresses", &self.allow_internal_addresses)
            .field("policy", &self.policy)
            .field("pooling", &self.pooling)
            .field("max_instances", &self.max_instances)
            .field("custom_field_tickets", &self.custom_field_tickets)
            .field("health_store", &self.health_store.is_some())
            .field("ticket_store", &self.ticket_store.is_some())
            .field("compile_cache_bytes", &self.compile_cache_bytes)
            // Never the key.
            .field(
                "compile_cache_dir",
                &self.compile_cache_dir.as_ref().map(|(dir, _)| dir),
            )
            .field("compile_cache_dir_bytes", &self.compile_cache_dir_bytes)
            .field("incremental_compilation", &self.incremental_compilation)
            .field(
                "incremental_compilation_bytes",
                &self.incremental_compilation_bytes,
            )
            .finish_non_exhaustive()
    }
}

// Here rather than beside `Host`'s other methods: the builder knows the host it makes,
// the host never needs to know its builder.
impl Host {
    /// A builder with the defaults: deadline 5 s, memory 64 MiB, no fuel, the real
    /// HTTP client, health policy 50% / 10 min / min 10 deliveries, pooling allocator,
    /// compiled modules kept up to 32 MiB of module bytes.
    pub fn builder() -> HostBuilder {
        HostBuilder::default()
    }
}

impl Default for HostBuilder {
    fn default() -> Self {
        HostBuilder {
            deadline: DEFAULT_DEADLINE,
            memory_limit: DEFAULT_MEMORY_LIMIT,
            max_module_size: DEFAULT_MAX_MODULE_SIZE,
            trusted_signers: None,
            fuel: None,
            count_fuel: false,
            http: None,
            allow_internal_addresses: false,
            policy: HealthPolicy::default(),
            clock: None,
            health_store: None,
            on_disabled: None,
            pooling: true,
            max_instances: 128,
            keep_resident: 2 << 20,
            pagemap_scan: true,
            record_calls: false,
            profile: false,
            report_body_bytes: crate::functions::REPORT_BODY_MAX,
            incremental_compilation: false,
            incremental_compilation_bytes: DEFAULT_INCREMENTAL_COMPILATION_BYTES,
            custom_field_tickets: None,
            ticket_store: None,
            compile_cache_bytes: DEFAULT_COMPILE_CACHE_BYTES,
            compile_cache_dir: None,
            compile_cache_dir_bytes: DEFAULT_COMPILE_CACHE_DIR_BYTES,
        }
    }
}

impl HostBuilder {
    /// Wall-clock deadline of one delivery, covering instantiation, `_initialize`,
    /// allocator calls, the export and host calls (HTTP gets the remaining time).
    /// Default 5 s.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Maximum linear memory of one instance, in bytes; `memory.grow` past it fails
    /// (returns -1) and a module whose initial memory is larger does not load.
    /// Default 64 MiB.
    pub fn memory_limit(mut self, bytes: u64) -> Self {
        self.memory_limit = bytes;
        self
    }

    /// The largest module [`Host::load`](crate::Host::load) accepts, in bytes; a larger
    /// one is refused (`module_too_large`) before it is parsed or compiled. Default
    /// 32 MiB, room for debug builds; release plugins are a few hundred KiB.
    pub fn max_module_size(mut self, bytes: u64) -> Self {
        self.max_module_size = bytes;
        self
    }

    /// Requires every module [`Host::load`](crate::Host::load) accepts to carry a
    /// signature (docs/ABI.md, section 15) from one of `keys` that covers the module as
    /// it is. A module without one is refused: unsigned (`signature_missing`), signed
    /// only by other keys (`signature_untrusted`), changed after a trusted key signed it
    /// (`signature_changed`), or with a signature that names a trusted key and does not
    /// verify (`signature_invalid`). With no keys, every module is refused. Default:
    /// off, signatures are not read.
    ///
    /// ```
    /// use otai_plugin_host::abi::module::signature::PublicKey;
    /// use otai_plugin_host::Host;
    ///
    /// let team = PublicKey::from_openssh(
    ///     "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMX03D6Lvl7lzpXK5kRuPDLmExzgO7VRCrnbn4uPxMVj release@example",
    /// )?;
    /// let host = Host::builder().require_signature_from([team]).build()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn require_signature_from(mut self, keys: impl IntoIterator<Item = PublicKey>) -> Self {
        self.trusted_signers = Some(keys.into_iter().collect());
        self
    }

    /// An instruction budget per delivery (wasmtime fuel); running out traps.
    /// Default: none (only the deadline bounds a delivery). Costs some speed.
    pub fn fuel(mut self, fuel: u64) -> Self {
        self.fuel = Some(fuel);
        self
    }

    /// Whether each report says how much fuel its delivery (or panel) consumed
    /// ([`DeliveryReport::fuel`](crate::DeliveryReport::fuel)): the wasm work done,
    /// counted by wasmtime as it runs, the same for the same module, input and wasmtime
    /// version on any machine. Without [`fuel`](HostBuilder::fuel) the budget is
    /// unlimited. Default: off, since counting makes the plugin's code slower (every
    /// block adds to a counter); `cargo otai-plugin run` and `test` turn it on.
    pub fn count_fuel(mut self, count: bool) -> Self {
        self.count_fuel = count;
        self
    }

    /// The HTTP transport. Default: [`RealHttp`] (allowed_hosts is enforced before
    /// any transport sees a request).
    pub fn http(mut self, transport: impl HttpTransport + 'static) -> Self {
        self.http = Some(Arc::new(transport));
        self
    }

    /// Whether the default transport ([`RealHttp`]) connects plugins to internal
    /// addresses: loopback, private (RFC 1918, `fc00::/7`), link-local (the cloud
    /// metadata service at `169.254.169.254` among them), carrier-grade NAT, and the
    /// other classes of `otai_plugin_abi::rules::address`. Turn it on for a help desk
    /// whose plugins call services on its own private network. Default `false`: a
    /// request whose host resolves only to such addresses gets `address_not_allowed`
    /// (status 0) without a connection being made, and an internal address is reached
    /// only when the URL writes it as an IP literal (which `allowed_hosts` then lists).
    ///
    /// A transport given with [`HostBuilder::http`] decides this itself
    /// ([`RealHttp::allow_internal_addresses`]): [`HostBuilder::build`] refuses this
    /// setting beside one rather than leave it without effect.
    pub fn allow_internal_addresses(mut self, allow: bool) -> Self {
        self.allow_internal_addresses = allow;
        self
    }

    /// The whole health policy. Default [`HealthPolicy::default`]: > 50% failures in
    /// 10 minutes with at least 10 deliveries disables the plugin.
    pub fn health_policy(mut self, policy: HealthPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Fraction of failed deliveries above which a plugin is disabled. Default 0.5.
    pub fn failure_threshold(mut self, threshold: f64) -> Self {
        self.policy.failure_threshold = threshold;
        self
    }

    /// Rolling window of the health policy. Default 10 minutes.
    pub fn failure_window(mut self, window: Duration) -> Self {
        self.policy.window = window;
        self
    }

    /// Deliveries needed in the window before the policy judges. Default 10.
    pub fn min_deliveries(mut self, min: u32) -> Self {
        self.policy.min_deliveries = min;
        self
    }

    /// Whether failing plugins are disabled automatically. Default `true`.
    pub fn auto_disable(mut self, enabled: bool) -> Self {
        self.policy.auto_disable = enabled;
        self
    }

    /// The clock of the default health store's windows ([`MemoryHealthStore`]).
    /// Default: the system clock. A store given with [`HostBuilder::health_store`]
    /// keeps its own time: [`HostBuilder::build`] refuses this setting beside one.
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Where plugins' health is kept: each one's window of outcomes and whether it is
    /// enabled ([`HealthStore`]). The host still decides with its
    /// [`HealthPolicy`](crate::HealthPolicy), which the store applies to its window.
    /// Default: [`MemoryHealthStore`], in memory for as long as the host runs, on the
    /// [`HostBuilder::clock`].
    pub fn health_store(mut self, store: impl HealthStore + 'static) -> Self {
        self.health_store = Some(Arc::new(store));
        self
    }

    /// Called (on the delivering thread, with no lock held) when a plugin is
    /// disabled by the health policy. Default: none.
    pub fn on_disabled(
        mut self,
        callback: impl Fn(&str, &HealthStatus) + Send + Sync + 'static,
    ) -> Self {
        self.on_disabled = Some(Box::new(callback));
        self
    }

    /// Whether instances come from wasmtime's pooling allocator (preallocated slots,
    /// much faster per delivery, reserves virtual address space up front). Default
    /// `true`.
    pub fn pooling(mut self, enabled: bool) -> Self {
        self.pooling = enabled;
        self
    }

    /// With pooling: how many instances may exist at once (concurrent deliveries);
    /// a delivery beyond it is `rejected`. Default 128: from 128 slots on, wasmtime splits
    /// each pool into one shard per CPU (up to 16), so that a thread reuses the slots it
    /// used before (warm in its core's cache) under a lock of its own; a smaller pool is
    /// one list shared by every thread (two threads then deliver no-op events at 0.8×
    /// the rate of one instead of 1.1×, `OTAI_BENCH_ONLY=threads` in
    /// `host/benches/delivery.rs`).
    pub fn max_instances(mut self, count: u32) -> Self {
        self.max_instances = count;
        self
    }

    /// With pooling: bytes of each memory slot kept resident (zeroed in place rather
    /// than unmapped) between instances. Default 2 MiB.
    pub fn memory_keep_resident(mut self, bytes: usize) -> Self {
        self.keep_resident = bytes;
        self
    }

    /// With pooling on Linux 6.7 and later: reset only the pages an instance touched
    /// (found with the `PAGEMAP_SCAN` ioctl) when a slot is reused. Default `true`
    /// (a no-op where the kernel lacks it).
    pub fn pagemap_scan(mut self, enabled: bool) -> Self {
        self.pagemap_scan = enabled;
        self
    }

    /// Whether reports list every `ohd` call in order ([`DeliveryReport::calls`]), for
    /// tools that need the interleaving of logs, requests and ticket operations or the
    /// status of a refused ticket operation (a conformance driver, a debugger). Default
    /// `false`: the separate lists say what most users need. Recording reports also keep
    /// each response body whole rather than its first 16 KiB.
    ///
    /// [`DeliveryReport::calls`]: crate::DeliveryReport::calls
    pub fn record_calls(mut self, enabled: bool) -> Self {
        self.record_calls = enabled;
        self
    }

    /// Whether each report carries a profile of its delivery (or panel)
    /// ([`DeliveryReport::profile`](crate::DeliveryReport::profile)): wasmtime's guest
    /// profiler samples the plugin's stack at every function entry, loop header and host
    /// call, for the Firefox Profiler and as folded stacks for a flame graph. For development
    /// tools (`cargo otai-plugin run --flamegraph`): the plugin's code runs hundreds of
    /// times slower while it is recorded. Default `false`, which costs nothing.
    pub fn profile(mut self, enabled: bool) -> Self {
        self.profile = enabled;
        self
    }

    /// How many bytes of each response body a report keeps ([`HttpExchange::response_body`]),
    /// at most the ABI's limit on a response, 4 MiB (more is taken as that). Default
    /// 16 KiB: enough to read what a server answered. A host that keeps deliveries to
    /// run them again (the local desk's log, from which a fixture is written) keeps
    /// them whole.
    ///
    /// [`HttpExchange::response_body`]: crate::HttpExchange::response_body
    pub fn report_body_bytes(mut self, bytes: usize) -> Self {
        self.report_body_bytes = bytes.min(otai_plugin_abi::limits::MAX_HTTP_RESPONSE);
        self
    }

    /// Whether the compiler keeps what it made of each function, so that a module whose
    /// functions mostly did not change (the next build of a plugin under development)
    /// compiles only the ones that did. Default `false`: a host that runs released
    /// plugins compiles each module once, and would only keep code it never reuses. The
    /// local desk turns it on.
    pub fn incremental_compilation(mut self, enabled: bool) -> Self {
        self.incremental_compilation = enabled;
        self
    }

    /// With [`HostBuilder::incremental_compilation`]: how many bytes of compiled functions
    /// (their code and cache keys) the compiler keeps. When a new function does not fit,
    /// the functions least recently compiled or reused are forgotten first, and a module
    /// using them compiles them again; a function larger than the bound is not kept.
    ///
    /// Default 64 MiB: a module's functions take 1.75–1.85× its size (the SDK's debug
    /// plugins of 137–393 KB), so this holds every function of a 4.4 MB debug plugin
    /// about eight times over (the first build and the functions of many saves), and all
    /// of the largest module the host accepts by default
    /// ([`HostBuilder::max_module_size`]), whose next build then reuses them. `0` keeps
    /// none: every function is compiled each time.
    pub fn incremental_compilation_bytes(mut self, bytes: u64) -> Self {
        self.incremental_compilation_bytes = bytes;
        self
    }

    /// How many tickets' custom fields the host keeps, so that later deliveries to a
    /// ticket carry the fields plugins set on it. When a plugin sets a field on one
    /// more ticket, the host forgets the fields of the ticket least recently delivered
    /// to or given a field. Default 4,096; `0` keeps none, for an embedder that puts
    /// the fields in the events it delivers itself. This sizes the default store
    /// ([`MemoryTicketStore`]): [`HostBuilder::build`] refuses it beside a store given
    /// with [`HostBuilder::ticket_store`].
    pub fn custom_field_tickets(mut self, tickets: usize) -> Self {
        self.custom_field_tickets = Some(tickets);
        self
    }

    /// Where the custom fields plugins set are kept, so that later deliveries carry
    /// them ([`TicketStore`]): an embedder whose tickets hold their fields (the local
    /// desk's database) gives its own. Default: [`MemoryTicketStore`] with
    /// [`HostBuilder::custom_field_tickets`] tickets.
    pub fn ticket_store(mut self, store: impl TicketStore + 'static) -> Self {
        self.ticket_store = Some(Arc::new(store));
        self
    }

    /// How many bytes of modules the host keeps compiled, so that loading the same bytes
    /// again (the version a plugin rolls back to, a reinstall) does not compile them
    /// again. Counted as the length of the bytes given to [`Host::load`](crate::Host::load);
    /// each kept module also holds its compiled code, about three times that (2.6–3.5×
    /// for the SDK's plugins, debug and release). When a new module does not fit, the
    /// modules loaded least recently are forgotten first; a module larger than the bound
    /// is compiled on every load. Forgetting a module does not affect the plugins loaded
    /// from it: installed ones keep running, and loading its bytes again compiles it
    /// again.
    ///
    /// Default 32 MiB: the largest module the host accepts by default
    /// ([`HostBuilder::max_module_size`]), some hundred release plugins, or the last
    /// seven builds of a 4.4 MB debug plugin under `dev`. A bound in bytes rather than in
    /// modules, because modules range from tens of KiB (release) to tens of MiB (debug):
    /// the memory a count of them would allow is unknown. `0` keeps none: every load
    /// compiles.
    pub fn compile_cache_bytes(mut self, bytes: u64) -> Self {
        self.compile_cache_bytes = bytes;
        self
    }

    /// Keeps compiled modules in `dir` too, so that the next process that loads the same
    /// bytes with the same settings reads their code instead of compiling them (the
    /// local desk's data directory, a CI cache). Each entry carries an HMAC-SHA256 made
    /// with a key derived from `key`; an entry without a valid one is never run, and is
    /// compiled again and rewritten. Default: off.
    ///
    /// **The directory must be as trusted as the binary.** Deserializing compiled code
    /// is running it: wasmtime cannot check that it came from the module. The MAC makes
    /// sure that only a holder of `key` wrote it (not a file dropped there by a process
    /// without the key, nor a truncated or damaged entry, nor one renamed to another
    /// module's name); keep `key` as secret as the embedder's other secrets (the local
    /// desk gives its own key).
    ///
    /// An entry is used only by a host that would compile the same code: its name is a
    /// SHA-256 of the module's bytes, wasmtime's version and the engine's settings
    /// (`Engine::precompile_compatibility_hash`: target, compiler flags, wasm features,
    /// fuel, epoch interruption), this crate's version, and the host's settings that
    /// shape instances (pooling, memory limit, fuel). The entries take at most
    /// [`HostBuilder::compile_cache_dir_bytes`]; processes may share the directory
    /// (each entry is written to a temporary file and renamed). A failure to read or
    /// write the directory never fails a load: the module is compiled as without a
    /// cache, and [`Host::disk_cache_stats`](crate::Host::disk_cache_stats) counts it.
    /// Checks of the module ([`Host::load`](crate::Host::load): the ABI, signatures)
    /// run on every load, cached or not. The directory is the cache's own: files named
    /// `*.cwasm` in it may be removed by eviction.
    ///
    /// ```
    /// use otai_plugin_host::Host;
    /// # let wasm = wat::parse_str(r#"(module
    /// #   (memory (export "memory") 1)
    /// #   (func (export "ohd_alloc") (param i32) (result i32) (i32.const 1024))
    /// #   (func (export "ohd_free") (param i32 i32))
    /// #   (func (export "on_event") (param i32 i32))
    /// #   (@custom "ohd_manifest" "{\"id\":\"com.example.hello\",\"name\":\"Hello\",\"version\":\"1.0.0\",\"description\":\"Hi.\",\"events\":[\"ticket.created\"]}"))"#)?;
    ///
    /// let dir = tempfile::tempdir()?;
    /// let key = [7u8; 32]; // the embedder's secret
    /// let first = Host::builder().compile_cache_dir(dir.path(), key).build()?;
    /// first.load(&wasm)?; // compiled, and written to `dir`
    /// assert_eq!(first.disk_cache_stats().unwrap().writes, 1);
    ///
    /// let next = Host::builder().compile_cache_dir(dir.path(), key).build()?;
    /// next.load(&wasm)?; // read from `dir`
    /// assert_eq!(next.disk_cache_stats().unwrap().hits, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn compile_cache_dir(mut self, dir: impl Into<PathBuf>, key: impl AsRef<[u8]>) -> Self {
        self.compile_cache_dir = Some((dir.into(), key.as_ref().to_vec()));
        self
    }

    /// With [`HostBuilder::compile_cache_dir`]: how many bytes of entries the directory
    /// holds. After a write that takes it past the bound, the entries used least
    /// recently (by modification time, which a use updates) are removed; an entry larger
    /// than the bound is not written. A host reads the directory at its first write and
    /// then again only when what it counted and wrote since passes the bound, so
    /// several processes writing at once may each add their writes before one of them
    /// evicts. Default 512 MiB: a compiled release plugin takes
    /// 2.6–3.5× its module, so about a thousand plugins of 150 KiB.
    pub fn compile_cache_dir_bytes(mut self, bytes: u64) -> Self {
        self.compile_cache_dir_bytes = bytes;
        self
    }

    /// Builds the host: creates the engine and starts its deadline ticker thread
    /// (stopped when the host is dropped).
    ///
    /// # Errors
    /// [`HostError`] for a setting out of range or an engine wasmtime refuses.
    pub fn build(mut self) -> Result<Host, HostError> {
        let invalid = |m: &str| Err(HostError::InvalidSetting(m.to_owned()));
        if self.deadline.is_zero() {
            return invalid("`deadline` must be greater than zero");
        }
        if self.memory_limit < 65536 || self.memory_limit > (4 << 30) {
            return invalid("`memory_limit` must be between 64 KiB and 4 GiB");
        }
        if let Some(problem) = self.policy.problem() {
            return invalid(problem);
        }
        if self.max_instances == 0 {
            return invalid("`max_instances` must be at least 1");
        }
        if self.allow_internal_addresses && self.http.is_some() {
            return invalid(
                "`allow_internal_addresses` applies to the host's default transport, and a \
                 transport was given with `http`: configure that transport instead (e.g. \
                 `RealHttp::new().allow_internal_addresses(true)`)",
            );
        }
        if self.clock.is_some() && self.health_store.is_some() {
            return invalid(
                "`clock` times the host's default health store, and a store was given with \
                 `health_store`: give that store its clock instead (e.g. \
                 `MemoryHealthStore::new(clock)`)",
            );
        }
        if self.custom_field_tickets.is_some() && self.ticket_store.is_some() {
            return invalid(
                "`custom_field_tickets` sizes the host's default ticket store, and a store was \
                 given with `ticket_store`: size that store instead (e.g. \
                 `MemoryTicketStore::new(tickets)`)",
            );
        }
        if self
            .compile_cache_dir
            .as_ref()
            .is_some_and(|(_, key)| key.is_empty())
        {
            return invalid("`compile_cache_dir` needs a key: it was given an empty one");
        }
        let memory_limit = usize::try_from(self.memory_limit).unwrap_or(usize::MAX);

        let mut config = Config::new();
        // Exactly the features of ABI v1, which `check` validates with: a module the
        // contract accepts compiles, and one it refuses never reaches the compiler.
        // Components are checked with the component model on top (and its proposals off).
        config
            .wasm_features(wasmtime::WasmFeatures::all(), false)
            .wasm_features(otai_plugin_abi::module::accepted_component_features(), true);
        config.epoch_interruption(true);
        config.consume_fuel(self.fuel.is_some() || self.count_fuel);
        if self.incremental_compilation {
            config
                .enable_incremental_compilation(Arc::new(CompiledFunctions::new(
                    self.incremental_compilation_bytes,
                )))
                .map_err(|e| HostError::Engine(format!("{e:#}")))?;
        }
        if self.pooling {
            // A delivery takes one memory in either flavour, so `max_instances` memories
            // bound the concurrent deliveries; a component's delivery also takes its few
            // core instances and tables.
            let per_component = MAX_COMPONENT_CORE_INSTANCES;
            let tables = u32::try_from(MAX_COMPONENT_TABLES).unwrap_or(u32::MAX);
            let mut pool = PoolingAllocationConfig::new();
            pool.total_core_instances(self.max_instances.saturating_mul(per_component))
                .total_component_instances(self.max_instances)
                .max_core_instances_per_component(per_component)
                .max_memories_per_component(1)
                .max_tables_per_component(tables)
                .total_memories(self.max_instances)
                .total_tables(self.max_instances.saturating_mul(tables))
                .max_memory_size(memory_limit)
                .table_elements(crate::state::MAX_TABLE_ELEMENTS)
                .linear_memory_keep_resident(self.keep_resident.min(memory_limit))
                .table_keep_resident(64 << 10)
                .pagemap_scan(if self.pagemap_scan {
                    Enabled::Auto
                } else {
                    Enabled::No
                });
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        let engine = Engine::new(&config).map_err(|e| HostError::Engine(format!("{e:#}")))?;
        let linker =
            crate::functions::linker(&engine).map_err(|e| HostError::Engine(format!("{e:#}")))?;
        let component_linker = crate::functions::component_linker(&engine)
            .map_err(|e| HostError::Engine(format!("{e:#}")))?;

        // The epoch ticks often enough that a deadline is met within ~2%, and at
        // least every 100 ms.
        let tick = (self.deadline / 50).clamp(Duration::from_millis(1), Duration::from_millis(100));
        let ticks = self.deadline.as_nanos().div_ceil(tick.as_nanos()) + 1;
        let ticker = Ticker::start(engine.clone(), tick)?;

        let transport: Arc<dyn HttpTransport> = match self.http.take() {
            Some(transport) => transport,
            None => Arc::new(self.default_transport()),
        };
        // What shapes compiled code beside the engine's own settings, which its
        // compatibility hash covers (fuel and epochs among them): repeated here so that a
        // change of how the host configures the engine cannot reuse an old entry.
        let code_settings = format!(
            "fuel={} epoch=1 pooling={} memory_limit={} max_instances={}",
            self.fuel.is_some(),
            self.pooling,
            self.memory_limit,
            self.max_instances
        );
        let disk_cache = self.compile_cache_dir.take().map(|(dir, key)| {
            DiskCache::new(
                dir,
                &key,
                self.compile_cache_dir_bytes,
                &engine,
                &code_settings,
            )
        });
        let settings = Settings {
            engine,
            deadline: self.deadline,
            epoch_ticks: u64::try_from(ticks).unwrap_or(u64::MAX),
            memory_limit: self.memory_limit,
            max_module_size: self.max_module_size,
            trusted_signers: self.trusted_signers.take(),
            fuel: self.fuel,
            count_fuel: self.count_fuel,
            transport,
            record_calls: self.record_calls,
            profile: self.profile,
            report_body_bytes: self.report_body_bytes,
            compile_cache_bytes: self.compile_cache_bytes,
        };
        let health = match self.health_store.take() {
            Some(store) => store,
            None => {
                let clock = self.clock.take().unwrap_or_else(|| Arc::new(SystemClock));
                Arc::new(MemoryHealthStore::with_clock(clock))
            }
        };
        let tickets = match self.ticket_store.take() {
            Some(store) => store,
            None => Arc::new(MemoryTicketStore::new(
                self.custom_field_tickets
                    .unwrap_or(DEFAULT_CUSTOM_FIELD_TICKETS),
            )),
        };
        Ok(Host::new(
            settings,
            linker,
            component_linker,
            self.policy,
            Stores {
                health,
                tickets,
                disk_cache,
            },
            self.on_disabled,
            ticker,
        ))
    }
}

impl HostBuilder {
    /// The transport a host built without [`HostBuilder::http`] sends requests with.
    fn default_transport(&self) -> RealHttp {
        RealHttp::new().allow_internal_addresses(self.allow_internal_addresses)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{IpAddr, Ipv4Addr, TcpListener};

    use super::*;
    use crate::http::{HostErrorKind, HttpRequest, MockHttp};

    fn get(url: &str) -> HttpRequest {
        HttpRequest {
            method: "GET".into(),
            url: url.into(),
            headers: Default::default(),
            body: None,
        }
    }

    /// `build` hands the host `default_transport()`; a test cannot reach the transport
    /// inside a built host, so it sends with that transport, its name resolution
    /// replaced by one the test controls.
    #[test]
    fn allow_internal_addresses_reaches_the_default_transport() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut head = Vec::new();
            let mut buf = [0u8; 512];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = stream.read(&mut buf).unwrap();
                assert!(n > 0, "the client closed before its request was complete");
                head.extend_from_slice(&buf[..n]);
            }
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                .unwrap();
            while stream.read(&mut buf).is_ok_and(|n| n > 0) {}
        });
        let url = format!("http://svc.internal:{port}/");
        let loopback = |_: &str| Ok(vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]);
        let timeout = Duration::from_secs(5);

        let refused = HostBuilder::default()
            .default_transport()
            .resolver(loopback)
            .send(&get(&url), timeout)
            .unwrap_err();
        assert_eq!(refused.kind, HostErrorKind::AddressNotAllowed, "{refused}");

        let allowed = HostBuilder::default()
            .allow_internal_addresses(true)
            .default_transport()
            .resolver(loopback)
            .send(&get(&url), timeout)
            .unwrap();
        assert_eq!((allowed.status, allowed.body.as_slice()), (200, &b"ok"[..]));
        server.join().unwrap();
    }

    #[test]
    fn allow_internal_addresses_beside_a_given_transport_is_refused() {
        let error = HostBuilder::default()
            .http(MockHttp::new())
            .allow_internal_addresses(true)
            .build()
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("`allow_internal_addresses` applies to the host's default transport"),
            "{error}"
        );
        assert!(
            HostBuilder::default()
                .http(MockHttp::new())
                .allow_internal_addresses(false)
                .build()
                .is_ok()
        );
    }
}
