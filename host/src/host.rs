//! [`Host`]: loads, installs and runs plugins.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use otai_plugin_abi::manifest::{
    Config, ConfigType, ConfigValue, Diagnostic, Diagnostics, Manifest,
};
use serde_json::Value;
use wasmtime::component::Linker as ComponentLinker;
use wasmtime::{Engine, Linker};

use crate::compile_cache::CompileCache;
use crate::disk_cache::{DiskCache, DiskCacheStats};
use crate::error::{DeliverError, HostError, InstallError, LoadError};
use crate::event::Event;
use crate::health::{HealthPolicy, HealthStatus, HealthStore, OnDisabled, PluginHealth};
use otai_plugin_abi::module::AcceptOptions;
use otai_plugin_abi::rules::delivery::check_subscribed;
use otai_plugin_abi::rules::http::{AllowedHosts, UrlCheck};

use crate::load::{self, Plugin};
use crate::redact::Redactor;
use crate::registry::Registry;
use crate::report::Unredacted;
use crate::report::{DeliveryReport, PanelReport};
use crate::run::{self, Finished, Settings};
use crate::state::{Mode, Outbound, State};
use crate::ticker::Ticker;
use crate::ticket_fields::TicketStore;

/// An installed plugin: its module and its validated config.
struct Installed {
    plugin: Plugin,
    /// The payload's `config` as JSON, secrets decrypted. Never printed.
    config: Vec<u8>,
    /// Finds every form of every secret value in reports.
    redactor: Redactor,
    outbound: Arc<Outbound>,
    /// Kept across a reinstall; gone with an uninstall.
    health: Arc<dyn PluginHealth>,
}

/// Where a host keeps what lasts beyond a delivery ([`crate::HostBuilder::health_store`],
/// [`crate::HostBuilder::ticket_store`]) and beyond the process
/// ([`crate::HostBuilder::compile_cache_dir`]).
pub(crate) struct Stores {
    pub(crate) health: Arc<dyn HealthStore>,
    pub(crate) tickets: Arc<dyn TicketStore>,
    pub(crate) disk_cache: Option<DiskCache>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // State behind these locks is updated in single steps; a panic elsewhere cannot
    // leave it half-written.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The reference plugin host.
///
/// - [`Host::load`] checks a module against ABI v1 and compiles it (identical bytes
///   reuse the compiled module while the host's compile cache holds it:
///   [`HostBuilder::compile_cache_bytes`](crate::HostBuilder::compile_cache_bytes)).
/// - [`Host::install`] validates a config against the manifest.
/// - [`Host::deliver`] runs every installed, enabled, subscribed plugin on an event,
///   each in a fresh instance with the host's deadline and memory limit; a failure
///   fails only that delivery and counts against the plugin's health.
/// - The host keeps tickets' custom fields: fields a plugin sets are in the payload of
///   later deliveries for that ticket, for the 4,096 tickets delivered to or given a
///   field most recently ([`HostBuilder::custom_field_tickets`](crate::HostBuilder::custom_field_tickets)),
///   or wherever the [`TicketStore`](crate::TicketStore) given keeps them.
/// - Health (each plugin's window of outcomes and whether it is enabled) is kept in
///   memory, or wherever the [`HealthStore`](crate::HealthStore) given keeps it.
///
/// `Host` is `Send + Sync`: deliveries may run on several threads at once. On two cores,
/// two threads sharing one `Host` deliver 1.5–1.7 times the events of one thread (the
/// threads share wasmtime's per-instance bookkeeping of one engine); a `Host` per thread
/// delivers 1.8–1.9 times as many, and compiles each plugin once per host, with health
/// and custom fields kept per host (docs/PERFORMANCE.md, "Two threads").
///
/// ```
/// use otai_plugin_host::{Event, Host, Outcome, http::MockHttp};
/// use serde_json::json;
///
/// let wasm = wat::parse_str(r#"(module
///   (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
///   (memory (export "memory") 1)
///   (global $next (mut i32) (i32.const 1024))
///   (func (export "ohd_alloc") (param $n i32) (result i32)
///     (local $p i32) (local.set $p (global.get $next))
///     (global.set $next (i32.add (global.get $next) (local.get $n))) (local.get $p))
///   (func (export "ohd_free") (param i32 i32))
///   (func (export "on_event") (param i32 i32) (call $log (i32.const 0) (i32.const 5) (i32.const 1)))
///   (data (i32.const 0) "hello")
///   (@custom "ohd_manifest" "{\"id\":\"com.example.hello\",\"name\":\"Hello\",\"version\":\"1.0.0\",\"description\":\"Says hello.\",\"events\":[\"ticket.created\"]}")
/// )"#)?;
///
/// let host = Host::builder().http(MockHttp::new()).build()?;
/// let plugin = host.load(&wasm)?;
/// host.install(&plugin, json!({}))?;
/// let reports = host.deliver(&Event::ticket_created());
/// assert_eq!(reports.len(), 1);
/// assert_eq!(reports[0].outcome, Outcome::Ok);
/// assert_eq!(reports[0].logs[0].message, "hello");
/// assert!(host.deliver(&Event::ticket_closed()).is_empty()); // not subscribed
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Host {
    settings: Settings,
    linker: Linker<State>,
    component_linker: ComponentLinker<State>,
    /// Read (a copy) at each delivery's outcome; an embedder changes it at run time
    /// ([`Host::set_health_policy`]), as the local desk's settings page does.
    policy: RwLock<HealthPolicy>,
    health: Arc<dyn HealthStore>,
    on_disabled: Option<OnDisabled>,
    cache: Mutex<CompileCache<Plugin>>,
    /// [`HostBuilder::compile_cache_dir`](crate::HostBuilder::compile_cache_dir).
    disk_cache: Option<DiskCache>,
    installed: RwLock<Registry<Installed>>,
    tickets: Arc<dyn TicketStore>,
    // Declared last: dropped after everything that might still use the engine.
    _ticker: Ticker,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let installed: Vec<String> = self
            .installed
            .read()
            .map(|m| m.ids().cloned().collect())
            .unwrap_or_default();
        f.debug_struct("Host")
            .field("deadline", &self.settings.deadline)
            .field("memory_limit", &self.settings.memory_limit)
            .field("max_module_size", &self.settings.max_module_size)
            .field("installed", &installed)
            .finish_non_exhaustive()
    }
}

impl Host {
    pub(crate) fn new(
        settings: Settings,
        linker: Linker<State>,
        component_linker: ComponentLinker<State>,
        policy: HealthPolicy,
        Stores {
            health,
            tickets,
            disk_cache,
        }: Stores,
        on_disabled: Option<OnDisabled>,
        ticker: Ticker,
    ) -> Host {
        Host {
            linker,
            component_linker,
            policy: RwLock::new(policy),
            health,
            on_disabled,
            cache: Mutex::new(CompileCache::new(settings.compile_cache_bytes)),
            disk_cache,
            installed: RwLock::default(),
            tickets,
            settings,
            _ticker: ticker,
        }
    }

    /// The wasmtime engine (for tools that want to inspect modules the same way).
    pub fn engine(&self) -> &Engine {
        &self.settings.engine
    }

    /// Loads a plugin from module bytes: one `ohd_manifest` section, a valid
    /// manifest, imports only from `ohd` with ABI signatures, the required exports.
    /// Loading bytes this host loaded before returns the same compiled plugin while its
    /// compile cache still holds it ([`HostBuilder::compile_cache_bytes`](crate::HostBuilder::compile_cache_bytes)); after that,
    /// they are compiled again, or read from the disk cache when the host has one
    /// ([`HostBuilder::compile_cache_dir`](crate::HostBuilder::compile_cache_dir)).
    ///
    /// # Errors
    /// [`LoadError`] saying what is wrong with the module.
    pub fn load(&self, bytes: &[u8]) -> Result<Plugin, LoadError> {
        let options = AcceptOptions {
            memory_limit: self.settings.memory_limit,
            max_module_size: self.settings.max_module_size,
        };
        if bytes.len() as u64 > options.max_module_size {
            // Refused before it is hashed, parsed or compiled.
            return self.load_uncached(bytes, &options);
        }
        let key = CompileCache::<Plugin>::key(bytes);
        if let Some(hit) = lock(&self.cache).get(key, bytes) {
            return Ok(hit);
        }
        // Compiled outside the lock: compiling takes tens of milliseconds.
        let plugin = self.load_uncached(bytes, &options)?;
        Ok(lock(&self.cache).insert(key, bytes, plugin, bytes.len() as u64))
    }

    fn load_uncached(&self, bytes: &[u8], options: &AcceptOptions) -> Result<Plugin, LoadError> {
        load::load(
            &self.settings.engine,
            &self.linker,
            &self.component_linker,
            bytes,
            options,
            self.settings.trusted_signers.as_deref(),
            self.disk_cache.as_ref(),
        )
    }

    /// Reads a file and [`Host::load`]s it.
    ///
    /// # Errors
    /// [`LoadError::Io`] when the file cannot be read, else as [`Host::load`].
    pub fn load_file(&self, path: impl AsRef<Path>) -> Result<Plugin, LoadError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| LoadError::Io {
            path: path.to_owned(),
            source,
        })?;
        self.load(&bytes)
    }

    /// How many compiled modules this host's compile cache holds: the distinct modules
    /// it loaded, less those evicted ([`HostBuilder::compile_cache_bytes`](crate::HostBuilder::compile_cache_bytes)).
    pub fn compiled_modules(&self) -> usize {
        lock(&self.cache).len()
    }

    /// What the disk cache of compiled modules did since this host was built, or `None`
    /// without one ([`HostBuilder::compile_cache_dir`](crate::HostBuilder::compile_cache_dir)):
    /// how a failure of the cache, which never fails a load, can be seen.
    pub fn disk_cache_stats(&self) -> Option<DiskCacheStats> {
        self.disk_cache.as_ref().map(DiskCache::stats)
    }

    /// Installs (or reinstalls, replacing the config) `plugin` with `config`, a JSON
    /// object checked against the manifest's `config_schema`. A reinstall keeps the
    /// plugin's health.
    ///
    /// # Errors
    /// [`InstallError::InvalidConfig`] listing every problem (never a secret value);
    /// [`InstallError::ForeignPlugin`] for a plugin another host loaded.
    pub fn install(&self, plugin: &Plugin, config: Value) -> Result<(), InstallError> {
        let manifest = plugin.manifest();
        self.check_own(plugin)?;
        let validated = manifest.validate_config(&config).map_err(|diagnostics| {
            InstallError::InvalidConfig {
                plugin_id: manifest.id.clone(),
                diagnostics,
            }
        })?;
        // Also every value the schema marks secret, whatever shape it was given in.
        let mut secrets = Vec::new();
        for (key, field) in &manifest.config_schema {
            if field.secret
                && let Some(Value::String(s)) = config.get(key)
            {
                secrets.push(s.clone());
            }
        }
        self.put(plugin, &validated, secrets);
        Ok(())
    }

    /// Installs (or reinstalls) `plugin` with a config already validated against its
    /// manifest ([`Manifest::validate_config`](otai_plugin_abi::manifest::Manifest::validate_config)),
    /// for an embedder that validates it itself (to show every problem, or before
    /// storing it): [`Host::install`] would validate it a second time. Only that the
    /// config fits this manifest's fields (keys and types) is checked.
    ///
    /// # Errors
    /// [`InstallError::InvalidConfig`] for a config validated against another manifest
    /// (a key this one does not have, a value of another type, a required field
    /// without a value); [`InstallError::ForeignPlugin`] for a plugin another host
    /// loaded.
    pub fn install_config(&self, plugin: &Plugin, config: &Config) -> Result<(), InstallError> {
        let manifest = plugin.manifest();
        self.check_own(plugin)?;
        let misfits: Vec<Diagnostic> = misfits(manifest, config).collect();
        if !misfits.is_empty() {
            return Err(InstallError::InvalidConfig {
                plugin_id: manifest.id.clone(),
                diagnostics: Diagnostics(misfits),
            });
        }
        self.put(plugin, config, Vec::new());
        Ok(())
    }

    fn check_own(&self, plugin: &Plugin) -> Result<(), InstallError> {
        if plugin.compiled_by(&self.settings.engine) {
            Ok(())
        } else {
            Err(InstallError::ForeignPlugin {
                plugin_id: plugin.manifest().id.clone(),
            })
        }
    }

    /// Puts `plugin` in the installed map with a validated config; `secrets` are more
    /// values to redact beside the config's secret ones.
    fn put(&self, plugin: &Plugin, validated: &Config, mut secrets: Vec<String>) {
        let manifest = plugin.manifest();
        for (_, value) in validated.iter() {
            if let ConfigValue::Secret(s) = value {
                secrets.push(s.expose().to_owned());
            }
        }
        let config = serde_json::to_vec(&validated.to_payload_json()).unwrap_or_default();
        let allowed_hosts = AllowedHosts::new(manifest.allowed_hosts());
        let redactor = Redactor::new(secrets.iter().map(String::as_str), allowed_hosts.hosts());
        let outbound = Arc::new(Outbound {
            allowed_hosts,
            transport: self.settings.transport.clone(),
            report_body_bytes: self.settings.report_body_bytes,
        });
        let mut map = self
            .installed
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let health = match map.get(&manifest.id) {
            Some(old) => old.health.clone(),
            None => self.health.plugin(&manifest.id),
        };
        let installed = Installed {
            plugin: plugin.clone(),
            config,
            redactor,
            outbound,
            health,
        };
        map.insert(&manifest.id, &manifest.events, Arc::new(installed));
    }

    /// `text` as the reports of `plugin_id` would show it: every form of each of its
    /// secret config values replaced by [`crate::REDACTED`]. For tools that compare
    /// what they expect with a report (`cargo otai-plugin test`'s fixtures may name a
    /// secret). Unchanged when the plugin is not installed.
    ///
    /// ```
    /// # use otai_plugin_host::Host;
    /// # let host = Host::builder().build()?;
    /// assert_eq!(host.redact("com.example.not-installed", "xoxb-1"), "xoxb-1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn redact(&self, plugin_id: &str, text: &str) -> String {
        let mut text = text.to_owned();
        if let Ok(installed) = self.get(plugin_id) {
            installed.redactor.redact(&mut text);
        }
        text
    }

    /// Forgets the custom fields plugins have set on every ticket, so that the next
    /// delivery carries only the event's own: for a harness that runs independent
    /// cases on one host (and so compiles each module once).
    pub fn forget_custom_fields(&self) {
        self.tickets.clear();
    }

    /// Removes a plugin; returns whether it was installed.
    pub fn uninstall(&self, plugin_id: &str) -> bool {
        self.installed
            .write()
            .map(|mut m| m.remove(plugin_id).is_some())
            .unwrap_or(false)
    }

    /// Whether plugin `plugin_id` is installed.
    pub fn is_installed(&self, plugin_id: &str) -> bool {
        self.installed
            .read()
            .is_ok_and(|m| m.get(plugin_id).is_some())
    }

    /// The ids of installed plugins, sorted.
    pub fn installed(&self) -> Vec<String> {
        self.installed
            .read()
            .map(|m| m.ids().cloned().collect())
            .unwrap_or_default()
    }

    fn get(&self, plugin_id: &str) -> Result<Arc<Installed>, DeliverError> {
        self.installed
            .read()
            .ok()
            .and_then(|m| m.get(plugin_id).cloned())
            .ok_or_else(|| DeliverError::NotInstalled {
                plugin_id: plugin_id.to_owned(),
            })
    }

    /// Delivers `event` to every installed, enabled plugin that subscribes to it, one
    /// after another in plugin id order. The plugins installed that do not subscribe to
    /// it are not read (an index by event kind): a delivery costs the same with a
    /// thousand of them installed as with none.
    pub fn deliver(&self, event: &Event) -> Vec<DeliveryReport> {
        let targets = self
            .installed
            .read()
            .map(|m| m.subscribed(event.kind()))
            .unwrap_or_default();
        targets
            .into_iter()
            .filter(|i| i.health.is_enabled())
            .map(|i| self.run_delivery(&i, event))
            .collect()
    }

    /// Delivers `event` to one plugin.
    ///
    /// # Errors
    /// [`DeliverError`] when the plugin is not installed, does not subscribe to the
    /// event, or is disabled. A plugin that fails is not an error: see the report.
    pub fn deliver_to(
        &self,
        plugin_id: &str,
        event: &Event,
    ) -> Result<DeliveryReport, DeliverError> {
        let installed = self.get(plugin_id)?;
        let manifest = installed.plugin.manifest();
        // The SDK's native stand-in refuses with the same rule (a parity row).
        if let Err(refusal) = check_subscribed(plugin_id, &manifest.events, event.kind()) {
            return Err(DeliverError::NotSubscribed {
                subscribed: refusal.subscribed_list(),
                event: refusal.event.to_string(),
                plugin_id: refusal.plugin_id,
            });
        }
        if !installed.health.is_enabled() {
            return Err(DeliverError::Disabled {
                plugin_id: plugin_id.to_owned(),
            });
        }
        Ok(self.run_delivery(&installed, event))
    }

    fn run_delivery(&self, installed: &Installed, event: &Event) -> DeliveryReport {
        let ticket_id = event.ticket_id().to_owned();
        // Copied out so that no lock is held while serializing.
        let stored = self.tickets.fields_for_delivery(&ticket_id);
        let payload = event.payload_bytes(&installed.config, stored.as_ref());
        let finished = run::run(
            &self.settings,
            &installed.plugin.inner,
            installed.outbound.clone(),
            Mode::Event {
                ticket_id: ticket_id.clone(),
            },
            &payload,
        );
        let plugin_id = installed.plugin.id().to_owned();
        if !matches!(finished.outcome, crate::Outcome::Rejected { .. }) {
            self.record_health(installed, finished.outcome.is_failure());
        }
        let Finished {
            outcome,
            logs,
            http,
            replies,
            custom_fields,
            calls,
            timings,
            fuel,
            profile,
            ..
        } = finished;
        let mut report = DeliveryReport {
            plugin_id,
            event: event.kind().to_string(),
            outcome,
            logs,
            http,
            replies,
            custom_fields,
            calls,
            fuel,
            timings,
            profile,
        };
        report.redact(&installed.redactor);
        // Whatever the outcome: a field the host accepted stays set when the delivery
        // then fails (docs/ABI.md section 9, "What a failed delivery keeps"). Kept as the
        // report shows it, so that no store holds a secret config value a plugin wrote
        // into a field (the local desk's database keeps secrets only sealed).
        if !report.custom_fields.is_empty() {
            self.tickets
                .record_sets(&report.plugin_id, &report.custom_fields);
        }
        report
    }

    fn record_health(&self, installed: &Installed, failed: bool) {
        let disabled = installed.health.record(failed, &self.health_policy());
        if let (Some(status), Some(callback)) = (disabled, &self.on_disabled) {
            callback(installed.plugin.id(), &status);
        }
    }

    /// Asks a plugin with a `ui_panel` for its panel URL for `ticket_id`. The URL
    /// must be an http(s) URL whose host is in the plugin's `allowed_hosts`; ticket
    /// operations answer `NOT_AVAILABLE` during the call. Panel calls do not count
    /// towards health.
    ///
    /// # Errors
    /// [`DeliverError`] when the plugin is not installed, is disabled, or has no panel.
    pub fn render_panel(
        &self,
        plugin_id: &str,
        ticket_id: &str,
    ) -> Result<PanelReport, DeliverError> {
        let installed = self.get(plugin_id)?;
        if installed.plugin.manifest().ui_panel.is_none()
            || !installed.plugin.inner.code.has_panel()
        {
            return Err(DeliverError::NoPanel {
                plugin_id: plugin_id.to_owned(),
            });
        }
        if !installed.health.is_enabled() {
            return Err(DeliverError::Disabled {
                plugin_id: plugin_id.to_owned(),
            });
        }
        let finished = run::run(
            &self.settings,
            &installed.plugin.inner,
            installed.outbound.clone(),
            Mode::Panel,
            ticket_id.as_bytes(),
        );
        let (url, refused) = match &finished.panel_url {
            // `(0, 0)`: no panel for this ticket, which is no refusal.
            Some(bytes) if bytes.is_empty() => (None, None),
            Some(bytes) => check_panel_url(bytes, &installed.outbound.allowed_hosts),
            None => (None, None),
        };
        let mut report = PanelReport {
            plugin_id: plugin_id.to_owned(),
            ticket_id: ticket_id.to_owned(),
            outcome: finished.outcome,
            embed_url: url.clone().map(Unredacted),
            url,
            refused,
            logs: finished.logs,
            http: finished.http,
            calls: finished.calls,
            fuel: finished.fuel,
            timings: finished.timings,
            profile: finished.profile,
        };
        report.redact(&installed.redactor);
        Ok(report)
    }

    /// A plugin's health, or `None` when it is not installed.
    pub fn health(&self, plugin_id: &str) -> Option<HealthStatus> {
        let installed = self.get(plugin_id).ok()?;
        Some(installed.health.status(&self.health_policy()))
    }

    /// The health policy deliveries are judged by now.
    pub fn health_policy(&self) -> HealthPolicy {
        *self.policy.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Judges the outcomes from now on by `policy`: each plugin's window is then
    /// `policy.window` long, counted over the outcomes its [`HealthStore`] still holds
    /// (the default store keeps each plugin's outcomes for the window's length at the
    /// time, so a longer window starts with only those). A plugin is judged at its next
    /// outcome, not at once.
    ///
    /// # Errors
    /// [`HostError::InvalidSetting`] for a policy [`HostBuilder::build`](crate::HostBuilder::build) would refuse
    /// (a `failure_threshold` outside 0.0 to 1.0, NaN included); the policy is unchanged.
    pub fn set_health_policy(&self, policy: HealthPolicy) -> Result<(), HostError> {
        if let Some(problem) = policy.problem() {
            return Err(HostError::InvalidSetting(problem.to_owned()));
        }
        *self.policy.write().unwrap_or_else(PoisonError::into_inner) = policy;
        Ok(())
    }

    /// Enables a plugin and resets its health window.
    ///
    /// # Errors
    /// [`DeliverError::NotInstalled`].
    pub fn enable(&self, plugin_id: &str) -> Result<(), DeliverError> {
        self.get(plugin_id)?.health.enable();
        Ok(())
    }

    /// Disables a plugin by hand: deliveries skip it until [`Host::enable`].
    ///
    /// # Errors
    /// [`DeliverError::NotInstalled`].
    pub fn disable(&self, plugin_id: &str) -> Result<(), DeliverError> {
        self.get(plugin_id)?.health.disable();
        Ok(())
    }

    /// The custom fields the host holds for a ticket (set by plugins), empty for a
    /// ticket it does not keep (see [`HostBuilder::custom_field_tickets`](crate::HostBuilder::custom_field_tickets)). Asking does
    /// not count as a use of the ticket.
    pub fn custom_fields(&self, ticket_id: &str) -> BTreeMap<String, String> {
        self.tickets.fields(ticket_id)
    }
}

fn check_panel_url(bytes: &[u8], allowed_hosts: &AllowedHosts) -> (Option<String>, Option<String>) {
    let max = otai_plugin_abi::limits::MAX_PANEL_URL;
    if bytes.len() > max {
        return (None, Some(format!("the URL is longer than {max} bytes")));
    }
    let Ok(url) = std::str::from_utf8(bytes) else {
        return (None, Some("the URL is not valid UTF-8".into()));
    };
    match allowed_hosts.check_url(url) {
        UrlCheck::Allowed(_) => (Some(url.to_owned()), None),
        UrlCheck::Invalid(reason) => (None, Some(reason)),
        UrlCheck::HostNotAllowed { host } => (
            None,
            Some(format!(
                "the URL's host `{host}` is not in the plugin's `permissions.http.allowed_hosts`"
            )),
        ),
    }
}

/// How `config` does not fit the fields of `manifest`: a key it does not have, a value
/// of another type, a required field without a value. Never quotes a value.
fn misfits<'a>(
    manifest: &'a Manifest,
    config: &'a Config,
) -> impl Iterator<Item = Diagnostic> + 'a {
    let given = config.iter().filter_map(|(key, value)| {
        let Some(field) = manifest.config_schema.get(key) else {
            return Some(Diagnostic::error(
                key,
                format!("`{key}` is not a config key of `{}`", manifest.id),
            ));
        };
        let fits = matches!(
            (field.ty, field.secret, value),
            (ConfigType::String, false, ConfigValue::String(_))
                | (ConfigType::String, true, ConfigValue::Secret(_))
                | (ConfigType::Boolean, _, ConfigValue::Boolean(_))
                | (ConfigType::Integer, _, ConfigValue::Integer(_))
                | (ConfigType::Select, _, ConfigValue::Select(_))
        );
        (!fits).then(|| {
            Diagnostic::error(
                key,
                format!(
                    "the value is not of the field's type ({}{})",
                    field.ty.as_str(),
                    if field.secret { ", secret" } else { "" }
                ),
            )
        })
    });
    let missing = manifest
        .config_schema
        .iter()
        .filter(|(key, field)| field.required && config.get(key).is_none())
        .map(|(key, _)| {
            Diagnostic::error(key.clone(), format!("`{key}` is required; set a value"))
        });
    given.chain(missing)
}
