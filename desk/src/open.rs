//! Opening a [`Desk`]: its options, the data directory locked (or read beside the desk
//! that holds it), the database brought up to date and its key checked, and the host and
//! the desk's three parts set up around them.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use otai_plugin_host::http::{HttpTransport, MockHttp};
use otai_plugin_host::{HealthPolicy, Host};

use crate::database::Database;
use crate::deliveries::Deliveries;
use crate::desk::Desk;
use crate::error::DeskError;
use crate::flamegraphs::{FLAMEGRAPH_DIR, FlameGraphs, GraphFiles};
use crate::health::DeskHealth;
use crate::plugins::Plugins;
use crate::residents::Uses;
use crate::secrets::{KEY_ENV, SecretKey};
use crate::settings;
use crate::store::Store;
use crate::ticket_fields::DeskTickets;
use crate::tickets::Tickets;

/// The directory, in the data directory, where the host keeps compiled modules
/// (`HostBuilder::compile_cache_dir`, 512 MiB at most): deleting it costs only
/// compiling again.
pub const COMPILED_DIR: &str = "compiled";

/// How a [`Desk`] runs its plugins. The defaults are safe: no network (every request
/// a plugin is allowed to send gets a network error naming it, until a transport is
/// given), the help desk's limits and health policy, the last 50 deliveries of each
/// plugin kept.
pub struct DeskOptions {
    /// Where allowed requests go. Default: nowhere (a [`MockHttp`] without rules).
    pub http: Arc<dyn HttpTransport>,
    /// When a plugin is disabled automatically. Default: the help desk's (more than
    /// 50% failed in 10 minutes, at least 10 deliveries). Health settings saved in the
    /// data directory ([`Desk::set_health_settings`]) replace its threshold, count and
    /// window.
    pub health: HealthPolicy,
    /// How many deliveries of each plugin the log keeps. Default 50.
    pub keep_deliveries: u32,
    /// The key, as 64 hex digits, instead of the key file. Default: the environment
    /// variable `OTAI_DESK_KEY` when set.
    pub key: Option<String>,
    /// How long a plugin may go unused (no delivery, no panel) before it is taken out
    /// of the host, freeing its compiled code and instance pre-allocation; its next use
    /// loads it again, from the disk cache of compiled modules (`compiled/`, a few
    /// milliseconds) unless that lost it. Looked for after a delivery or a panel, at most
    /// twice per period. Default 10 minutes; `None` keeps every plugin loaded once used.
    pub unload_idle_after: Option<Duration>,
    /// Whether each delivery's report (and so the delivery log) gives the fuel it
    /// consumed ([`HostBuilder::count_fuel`](otai_plugin_host::HostBuilder::count_fuel)).
    /// Default: off, as on a production help desk, since counting slows the plugins'
    /// code; `cargo otai-plugin dev` turns it on.
    pub count_fuel: bool,
    /// Whether each delivery is profiled and drawn as a flame graph, written in the
    /// data directory ([`FLAMEGRAPH_DIR`](crate::FLAMEGRAPH_DIR)`/PLUGIN/SEQ.svg`, with
    /// the profile beside it as `SEQ.json`) and linked from the delivery log
    /// ([`Delivery::flamegraph`](crate::Delivery::flamegraph), [`Desk::flamegraph`]). Default: off; `cargo
    /// otai-plugin dev --flamegraph` turns it on. Profiling makes the plugins' code
    /// hundreds of times slower. A desk opened to read records none.
    pub flamegraphs: Option<FlameGraphs>,
}

impl Default for DeskOptions {
    fn default() -> Self {
        DeskOptions {
            http: Arc::new(MockHttp::new().unmatched_hint(
                "the local desk sends no requests unless it is given a transport (`--allow-network`)",
            )),
            health: HealthPolicy::default(),
            keep_deliveries: 50,
            key: std::env::var(KEY_ENV).ok(),
            unload_idle_after: Some(Duration::from_secs(600)),
            count_fuel: false,
            flamegraphs: None,
        }
    }
}

impl std::fmt::Debug for DeskOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeskOptions")
            .field("health", &self.health)
            .field("keep_deliveries", &self.keep_deliveries)
            .field("unload_idle_after", &self.unload_idle_after)
            .field("key", &self.key.as_ref().map(|_| "[redacted]"))
            .field("count_fuel", &self.count_fuel)
            .field("flamegraphs", &self.flamegraphs)
            .finish_non_exhaustive()
    }
}

impl Desk {
    /// Opens the desk in `dir` (created if needed) with [`DeskOptions::default`].
    ///
    /// # Errors
    /// See [`Desk::open_with`].
    pub fn open(dir: impl AsRef<Path>) -> Result<Desk, DeskError> {
        Desk::open_with(dir, DeskOptions::default())
    }

    /// Opens the desk in `dir`: locks it, brings the database's schema up to date and
    /// checks the key against it. No plugin is loaded (compiled) here: each is loaded
    /// at its first delivery or panel, so opening takes as long with a thousand plugins
    /// installed as with none, and a stored module this host no longer loads is found
    /// then ([`PluginInfo::load_error`](crate::PluginInfo::load_error), and the delivery's report).
    ///
    /// # Errors
    /// [`DeskError::Locked`] when another desk has it open; [`DeskError::Database`] for
    /// a file that is not a desk database (another application's, which is left as it
    /// was: see [`APPLICATION_ID`](crate::APPLICATION_ID)), an empty file beside a key
    /// file, or a database from a newer version;
    /// [`DeskError::Key`] for a missing or wrong key.
    pub fn open_with(dir: impl AsRef<Path>, options: DeskOptions) -> Result<Desk, DeskError> {
        let dir = dir.as_ref().to_owned();
        let (store, is_new) = Store::open(&dir)?;
        let check = store.meta("key_check")?;
        let key = SecretKey::load(&dir, options.key.clone(), is_new || check.is_none())?;
        match check {
            Some(check) => key.verify(&check)?,
            None => store.set_meta("key_check", &key.check_value())?,
        }
        Desk::assemble(dir, store, key, options)
    }

    /// Opens the desk in `dir` to read it, beside a desk that may have it open (a
    /// `cargo otai-plugin dev`): no lock is taken, nothing is created or written, no
    /// migration runs. It reads what the other desk has committed (deliveries are
    /// committed in groups, and before any other operation). Every operation that would
    /// write fails with [`DeskError::ReadOnly`]; delivering and rendering panels are
    /// for a desk that writes.
    ///
    /// # Errors
    /// [`DeskError::NoDesk`] for a directory without a desk database;
    /// [`DeskError::Database`] for a file that is not one, or whose schema is another
    /// version's (older: a desk that writes brings it up to date first; newer: only a
    /// newer desk reads it); [`DeskError::Key`] for a missing or wrong key.
    pub fn open_read_only(dir: impl AsRef<Path>, options: DeskOptions) -> Result<Desk, DeskError> {
        let dir = dir.as_ref().to_owned();
        let store = Store::open_read_only(&dir)?;
        let key = SecretKey::load(&dir, options.key.clone(), false)?;
        match store.meta("key_check")? {
            Some(check) => key.verify(&check)?,
            None => {
                return Err(
                    store.error("it has no key check: it was never opened by a desk that writes")
                );
            }
        }
        Desk::assemble(dir, store, key, options)
    }

    /// The desk around an open database.
    fn assemble(
        dir: PathBuf,
        store: Store,
        key: SecretKey,
        options: DeskOptions,
    ) -> Result<Desk, DeskError> {
        let path = store.path.clone();
        // The administrator's settings, once saved, are the policy a desk opens with.
        let policy = match settings::saved(&store.conn).map_err(|e| store.error(e))? {
            Some(saved) => saved.get().apply(options.health),
            None => options.health,
        };
        let read_only = store.read_only();
        let store = Arc::new(Mutex::new(store));
        let health = Arc::new(DeskHealth::new(store.clone()));
        let builder = Host::builder()
            .http(options.http.clone())
            // The host judges health with the desk's policy, and keeps each plugin's
            // window and state in the desk's database, so that an automatic disable and
            // the window survive a restart.
            .health_policy(policy)
            .health_store(health.clone())
            // Upgrades to the next build of a plugin are the desk's daily work (`dev`
            // swaps one in on every save): only its changed functions are compiled.
            .incremental_compilation(true)
            // The desk's tickets are the record of custom fields.
            .ticket_store(DeskTickets::new(store.clone()))
            // With compiled code on disk, a copy in memory would only spare a
            // deserialize (a millisecond or two) and keep the code of every plugin
            // unloaded as idle: none is kept, so that an unloaded plugin frees its code.
            .compile_cache_bytes(0)
            .count_fuel(options.count_fuel)
            .profile(options.flamegraphs.is_some() && !read_only)
            // Whole, for the log to keep what a fixture needs (`crate::replay_record`).
            .report_body_bytes(otai_plugin_host::abi::limits::MAX_HTTP_RESPONSE);
        // A command compiles a plugin once, not once per process: `desk deliver`
        // after `install` reads its code. Under the desk's key, so that only this
        // desk's entries are run (the directory is as trusted as the desk's data). A
        // desk that reads compiles nothing, and writes nothing there.
        let builder = if read_only {
            builder
        } else {
            builder.compile_cache_dir(dir.join(COMPILED_DIR), key.bytes())
        };
        let host = builder
            .build()
            .map_err(|e| DeskError::database(&path, format!("the host could not start: {e}")))?;
        let host = Arc::new(host);
        let flamegraphs = options.flamegraphs.filter(|_| !read_only);
        let graph_files = flamegraphs.as_ref().map(|f| GraphFiles {
            root: dir.join(FLAMEGRAPH_DIR),
            keep: f.keep,
        });
        let db = Arc::new(Database::new(
            store,
            health.clone(),
            options.keep_deliveries,
            graph_files,
        ));
        let tickets = Tickets::new(db.clone());
        let plugins = Arc::new(Plugins {
            dir,
            db: db.clone(),
            health,
            key,
            host: host.clone(),
            unloadable: Mutex::default(),
            waiting: Mutex::default(),
            loading: Mutex::default(),
            uses: Mutex::new(Uses::new(options.unload_idle_after)),
            in_use: RwLock::default(),
        });
        Ok(Desk {
            deliveries: Deliveries::new(
                db.clone(),
                host,
                tickets.clone(),
                plugins.clone(),
                flamegraphs,
            ),
            plugins,
            tickets,
            db,
        })
    }

    /// Says who holds the data directory, in its lock file: a command kept out
    /// ([`DeskError::Locked`]) names this process, `command` (what it runs, e.g. `cargo
    /// otai-plugin dev`; never arguments, which may hold a secret) and `url`, where it
    /// serves the web UI. Until this is called the lock file names the process and the
    /// program it was started as. Nothing for a desk opened to read.
    ///
    /// # Errors
    /// [`DeskError::Io`] when the lock file cannot be written.
    pub fn set_holder(&self, command: &str, url: Option<&str>) -> Result<(), DeskError> {
        self.db
            .as_is()
            .set_holder(&crate::holder::LockHolder::this_process(command, url))
    }
}
