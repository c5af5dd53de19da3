//! [`Desk`]: a thin front over the desk's three parts: the plugins ([`crate::plugins`],
//! [`crate::lifecycle`]), the tickets ([`crate::tickets`]) and the deliveries
//! ([`crate::deliveries`]). Opening one, and what it is opened with, is
//! [`crate::open`]'s.

use std::path::Path;
use std::sync::Arc;

use otai_plugin_host::{DeliveryReport, Host};
use serde_json::{Map, Value};

use crate::database::Database;
use crate::deliveries::{Deliveries, Delivery, Fired};
use crate::error::DeskError;
use crate::flamegraphs::FLAMEGRAPH_DIR;
use crate::lifecycle::{Review, Upgraded};
use crate::notices::Notice;
use crate::plugin_info::{ConfigEntry, PluginInfo};
use crate::plugins::Plugins;
use crate::settings::{self, HealthSettings};
use crate::ticket_list::TicketSummary;
use crate::ticket_records::Ticket;
use crate::tickets::Tickets;
use crate::trust::{self, InstallOptions, TrustedKey};

/// A local help desk in a data directory: plugins with their versions and config,
/// secrets sealed at rest, tickets, and a log of deliveries.
///
/// Every operation is one SQLite transaction, so a failure leaves the directory as it
/// was; deliveries are committed in groups ([`Desk::deliver`]), before anything else
/// reads or writes. One desk at a time uses a directory (a lock file); a second gets
/// [`DeskError::Locked`].
///
/// ```
/// use otai_plugin_desk::Desk;
///
/// let dir = tempfile::tempdir()?;
/// let desk = Desk::open(dir.path())?;
/// assert!(desk.list()?.is_empty());
/// assert!(Desk::open(dir.path()).is_err()); // in use
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Desk {
    // Set up when the desk opens (`crate::open`).
    pub(crate) plugins: Arc<Plugins>,
    pub(crate) tickets: Tickets,
    pub(crate) deliveries: Deliveries,
    pub(crate) db: Arc<Database>,
}

impl Drop for Desk {
    fn drop(&mut self) {
        // See `flush`: an error cannot be reported from here.
        let _ = self.flush();
    }
}

impl std::fmt::Debug for Desk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk")
            .field("dir", &self.plugins.dir)
            .finish_non_exhaustive()
    }
}

impl Desk {
    /// Loads plugin `id` into the host now, as its first use would.
    #[cfg(test)]
    pub(crate) fn load(&self, id: &str) -> Result<(), DeskError> {
        self.plugins.load_now(id)
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.plugins.dir
    }

    /// The host that runs the plugins. It holds only the plugins used since the desk
    /// opened (delivered to, a panel rendered, installed or upgraded): to render a
    /// panel, use [`Desk::render_panel`], which loads the plugin first.
    pub fn host(&self) -> &Host {
        &self.plugins.host
    }

    /// Asks plugin `id` for its panel for `ticket_id` ([`Host::render_panel`]), loading
    /// it into the host first when this is its first use.
    ///
    /// # Errors
    /// [`DeskError::Unloadable`] when its stored module or config is refused;
    /// [`DeskError::Deliver`] when the host refuses (not installed, disabled, no panel).
    pub fn render_panel(
        &self,
        id: &str,
        ticket_id: &str,
    ) -> Result<otai_plugin_host::PanelReport, DeskError> {
        self.plugins.render_panel(id, ticket_id)
    }

    /// Commits the deliveries that wait ([`Desk::deliver`] commits them in groups).
    /// Every other operation of the desk does so first, and so does dropping it, where
    /// an error has nobody to reach: flush first to see it.
    ///
    /// # Errors
    /// [`DeskError::Database`]; the deliveries that waited are not recorded.
    pub fn flush(&self) -> Result<(), DeskError> {
        self.db.flush()
    }

    /// The health settings deliveries are judged by now: the saved ones, else those of
    /// [`DeskOptions::health`](crate::DeskOptions::health).
    pub fn health_settings(&self) -> HealthSettings {
        HealthSettings::of(&self.plugins.host.health_policy())
    }

    /// Checks and saves `settings`, which judge every plugin's next outcome (each
    /// plugin's window is then `window_minutes` long, over the outcomes the desk still
    /// keeps) and every desk opened later on this directory.
    ///
    /// # Errors
    /// [`DeskError::InvalidSettings`] naming each setting out of range (nothing is
    /// saved); [`DeskError::Database`].
    pub fn set_health_settings(&self, settings: HealthSettings) -> Result<(), DeskError> {
        let settings = settings
            .checked()
            .map_err(|problems| DeskError::InvalidSettings { problems })?;
        // Under the store's lock, the deliveries that waited committed: no outcome is
        // recorded between the saved row and the host's policy.
        let store = self.db.store()?;
        settings::save(&store.conn, &settings, crate::store::now_ms())
            .map_err(|e| store.error(e))?;
        let policy = settings.get().apply(self.plugins.host.health_policy());
        self.plugins
            .host
            .set_health_policy(policy)
            .map_err(|e| store.error(e))
    }

    /// The installed plugins, by id.
    ///
    /// # Errors
    /// [`DeskError::Database`] when the database cannot be read.
    pub fn list(&self) -> Result<Vec<PluginInfo>, DeskError> {
        self.plugins.list()
    }

    /// One installed plugin.
    ///
    /// # Errors
    /// [`DeskError::NotInstalled`].
    pub fn plugin(&self, id: &str) -> Result<PluginInfo, DeskError> {
        self.plugins.plugin(id)
    }

    /// A plugin's config as the admin form shows it: every field of its schema, with
    /// its value, except a secret's (only whether it is set).
    ///
    /// # Errors
    /// [`DeskError::NotInstalled`].
    pub fn config_form(&self, id: &str) -> Result<Vec<ConfigEntry>, DeskError> {
        self.plugins.config_form(id)
    }

    /// What installing or upgrading to `wasm` would do, without doing it: its manifest
    /// and permissions, its signatures against the trusted keys and whether the trust
    /// rule would refuse it, and for an upgrade the permission diff, the installed
    /// version's signers and whether the same-signer rule would refuse it.
    ///
    /// # Errors
    /// [`DeskError::Load`] when the module does not load.
    pub fn review(&self, wasm: &[u8]) -> Result<Review, DeskError> {
        self.plugins.review(wasm)
    }

    /// Installs a module, validated as the host loads it. It is enabled, or disabled
    /// until configured when a required config field has no value (and no default).
    ///
    /// When the desk trusts keys ([`Desk::trust_add`]), the module must carry a valid
    /// signature from one of them; the keys that signed it are recorded
    /// ([`PluginInfo::signers`]). A desk that trusts no key installs any module, as
    /// it always did.
    ///
    /// # Errors
    /// [`DeskError::Load`] for a module that does not load (every problem);
    /// [`DeskError::Signature`] for one without a valid signature from a trusted key;
    /// [`DeskError::AlreadyInstalled`] for an id that is installed (upgrade it).
    pub fn install(&self, wasm: &[u8]) -> Result<PluginInfo, DeskError> {
        self.plugins.install(wasm, InstallOptions::default(), "")
    }

    /// [`Desk::install`] with `options`: [`InstallOptions::allow_unsigned`] installs a
    /// module that is unsigned, or signed by no trusted key, on a desk that trusts keys.
    ///
    /// # Errors
    /// See [`Desk::install`].
    pub fn install_with(
        &self,
        wasm: &[u8],
        options: InstallOptions,
    ) -> Result<PluginInfo, DeskError> {
        self.plugins.install(wasm, options, "")
    }

    /// Trusts the first key in `public_key_text` (OpenSSH's public key form,
    /// `ssh-ed25519 AAAA… comment`, as `cargo otai-plugin key new` writes it) to sign
    /// the modules this desk installs. From the first trusted key on, an install or
    /// upgrade needs a valid signature from one of them. Trusting a key again keeps it
    /// as it was.
    ///
    /// # Errors
    /// [`DeskError::TrustedKey`] for text that is not an ed25519 public key;
    /// [`DeskError::Database`].
    pub fn trust_add(&self, public_key_text: &str) -> Result<TrustedKey, DeskError> {
        trust::add(&*self.db.store()?, public_key_text)
    }

    /// The keys the desk trusts, oldest first.
    ///
    /// # Errors
    /// [`DeskError::Database`].
    pub fn trust_list(&self) -> Result<Vec<TrustedKey>, DeskError> {
        trust::trusted(&*self.db.store()?)
    }

    /// Stops trusting the key with `fingerprint` (`SHA256:…`, the prefix may be left
    /// out). Installed plugins stay; their upgrades are still held to the keys that
    /// signed them.
    ///
    /// # Errors
    /// [`DeskError::NotTrusted`]; [`DeskError::Database`].
    pub fn trust_remove(&self, fingerprint: &str) -> Result<TrustedKey, DeskError> {
        trust::remove(&*self.db.store()?, fingerprint)
    }

    /// Sets config values: each key given replaces its value (`null` removes it), the
    /// others are kept. The whole config is validated against the schema first, every
    /// problem reported at once; the secrets that changed are sealed before they are
    /// stored (the others keep their sealed bytes). A plugin disabled for missing config
    /// is enabled once it is complete.
    ///
    /// # Errors
    /// [`DeskError::InvalidConfig`]; [`DeskError::NotInstalled`].
    pub fn configure(&self, id: &str, values: Map<String, Value>) -> Result<PluginInfo, DeskError> {
        self.plugins.configure(id, values)
    }

    /// [`Desk::configure`] with values typed as text (the web UI's form, `--set
    /// KEY=VALUE`), read against their fields' types by [`parse_config_text`](crate::parse_config_text): empty
    /// text removes a value. A key the schema does not have is reported with the
    /// others (with the nearest key), as is text that is not of its field's type.
    ///
    /// ```
    /// # let wasm = wat::parse_str(r#"(module (memory (export "memory") 1)
    /// #   (func (export "ohd_alloc") (param i32) (result i32) (i32.const 1024))
    /// #   (func (export "ohd_free") (param i32 i32)) (func (export "on_event") (param i32 i32))
    /// #   (@custom "ohd_manifest" "{\"id\":\"com.example.t\",\"name\":\"T\",\"version\":\"1.0.0\",\"description\":\"d\",\"events\":[\"ticket.created\"],\"config_schema\":{\"retries\":{\"type\":\"integer\"},\"loud\":{\"type\":\"boolean\"}}}"))"#)?;
    /// # let dir = tempfile::tempdir()?;
    /// use otai_plugin_desk::Desk;
    /// use serde_json::json;
    ///
    /// let desk = Desk::open(dir.path())?;
    /// desk.install(&wasm)?;
    /// desk.configure_text("com.example.t", [("retries", " 3"), ("loud", "true")])?;
    /// let form = desk.config_form("com.example.t")?;
    /// assert_eq!((form[0].value.clone(), form[1].value.clone()), (Some(json!(3)), Some(json!(true))));
    ///
    /// let refused = desk.configure_text("com.example.t", [("retries", "many"), ("lod", "true")]);
    /// assert_eq!(refused.unwrap_err().to_string(), "invalid config for plugin `com.example.t`:\n\
    ///     error: retries: expected a whole number, found \"many\"\n\
    ///     error: lod: unknown config key \"lod\"; did you mean \"loud\"?\n");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`DeskError::InvalidConfig`]; [`DeskError::NotInstalled`].
    pub fn configure_text<K, T>(
        &self,
        id: &str,
        texts: impl IntoIterator<Item = (K, T)>,
    ) -> Result<PluginInfo, DeskError>
    where
        K: Into<String>,
        T: AsRef<str>,
    {
        self.plugins.configure_text(id, texts)
    }

    /// Replaces a plugin with a new version of it (same id, same or higher version).
    /// Config values the new schema still has are carried over; new required fields
    /// leave it disabled until configured. When the new version may do more (hosts,
    /// events, a panel), the upgrade happens only with `approve`.
    ///
    /// The signatures are checked as [`Desk::install`] checks them; and when the
    /// installed version was signed, the new module must carry a valid signature from a
    /// key that signed it (the same-signer rule, which
    /// [`InstallOptions::allow_unsigned`] does not lift).
    ///
    /// # Errors
    /// [`DeskError::NeedsApproval`] with the diff; [`DeskError::NotInstalled`] for a module
    /// whose id is not installed (a new plugin);
    /// [`DeskError::Signature`]; [`DeskError::SignerChanged`];
    /// [`DeskError::Downgrade`]; [`DeskError::Load`].
    pub fn upgrade(&self, wasm: &[u8], approve: bool) -> Result<Upgraded, DeskError> {
        self.plugins
            .upgrade(wasm, approve, InstallOptions::default(), "")
    }

    /// [`Desk::upgrade`] with `options` (see [`Desk::install_with`]).
    ///
    /// # Errors
    /// See [`Desk::upgrade`].
    pub fn upgrade_with(
        &self,
        wasm: &[u8],
        approve: bool,
        options: InstallOptions,
    ) -> Result<Upgraded, DeskError> {
        self.plugins.upgrade(wasm, approve, options, "")
    }

    /// Installs a module pulled from a registry ([`crate::registry::RegistryClient::pull`]:
    /// its bytes checked against the digest the tag resolved to), as
    /// [`Desk::install_with`] installs a file (the same signature and trust rules), and
    /// records where it came from: the reference pinned to the digest
    /// ([`PluginInfo::source`]).
    ///
    /// # Errors
    /// See [`Desk::install`].
    #[cfg(feature = "registry")]
    pub fn install_pulled(
        &self,
        pulled: &crate::registry::Pulled,
        options: InstallOptions,
    ) -> Result<PluginInfo, DeskError> {
        self.plugins
            .install(&pulled.module, options, &pulled.reference.to_string())
    }

    /// [`Desk::upgrade_with`] to a module pulled from a registry, recording where it
    /// came from as [`Desk::install_pulled`] does.
    ///
    /// # Errors
    /// See [`Desk::upgrade`].
    #[cfg(feature = "registry")]
    pub fn upgrade_pulled(
        &self,
        pulled: &crate::registry::Pulled,
        approve: bool,
        options: InstallOptions,
    ) -> Result<Upgraded, DeskError> {
        self.plugins.upgrade(
            &pulled.module,
            approve,
            options,
            &pulled.reference.to_string(),
        )
    }

    /// Goes back to the previous version, with the config it had. The version rolled
    /// back from becomes the previous one, so a second rollback undoes the first.
    ///
    /// # Errors
    /// [`DeskError::NoPreviousVersion`]; [`DeskError::NotInstalled`].
    pub fn rollback(&self, id: &str) -> Result<PluginInfo, DeskError> {
        self.plugins.rollback(id)
    }

    /// Enables a plugin and starts a new health window.
    ///
    /// # Errors
    /// [`DeskError::NeedsConfig`] when a required field has no value.
    pub fn enable(&self, id: &str) -> Result<PluginInfo, DeskError> {
        self.plugins.enable(id)
    }

    /// Disables a plugin by hand: deliveries skip it until it is enabled.
    ///
    /// # Errors
    /// [`DeskError::NotInstalled`].
    pub fn disable(&self, id: &str) -> Result<PluginInfo, DeskError> {
        self.plugins.disable(id)
    }

    /// Removes a plugin: its versions, config, secrets and delivery log. Replies and
    /// custom fields it wrote stay on the tickets.
    ///
    /// # Errors
    /// [`DeskError::NotInstalled`].
    pub fn remove(&self, id: &str) -> Result<(), DeskError> {
        self.plugins.remove(id)
    }

    /// A ticket; a ticket the desk has not seen yet starts as the sample ticket with
    /// this id.
    ///
    /// # Errors
    /// [`DeskError::Database`].
    pub fn ticket(&self, id: &str) -> Result<Ticket, DeskError> {
        self.tickets.ticket(id)
    }

    /// The notices to administrators (each plugin the health policy disabled), newest
    /// first, at most `limit`; only those not dismissed with `pending`.
    ///
    /// # Errors
    /// [`DeskError::Database`].
    pub fn notices(&self, pending: bool, limit: u32) -> Result<Vec<Notice>, DeskError> {
        crate::notices::list(&*self.db.store()?, pending, limit)
    }

    /// Dismisses notice `seq`, or all of them with `None`: they leave the pages' banner
    /// and stay in the list. Returns how many were not dismissed before.
    ///
    /// # Errors
    /// [`DeskError::Database`].
    pub fn dismiss_notices(&self, seq: Option<i64>) -> Result<usize, DeskError> {
        crate::notices::dismiss(&*self.db.store()?, seq)
    }

    /// Every ticket the desk knows (stored, or named by a delivery, a custom field or a
    /// reply), the most recently active first.
    ///
    /// # Errors
    /// [`DeskError::Database`].
    pub fn tickets(&self) -> Result<Vec<TicketSummary>, DeskError> {
        self.tickets.list()
    }

    /// Stores a new ticket, the sample ticket with `changes` (as
    /// [`Desk::update_ticket`] takes them), under a new id `T-N`, and returns the id.
    /// Nothing is delivered: [`Desk::deliver`] `ticket.created` about it, as the help
    /// desk does.
    ///
    /// # Errors
    /// [`DeskError::Event`] when the result is not a valid ticket; [`DeskError::Database`].
    pub fn create_ticket(&self, changes: Map<String, Value>) -> Result<String, DeskError> {
        self.tickets.create(changes)
    }

    /// Changes a ticket's fields (a JSON merge: the members given replace theirs;
    /// `custom_fields` and `id` are not editable here).
    ///
    /// # Errors
    /// [`DeskError::Event`] when the result is not a valid ticket.
    pub fn update_ticket(
        &self,
        id: &str,
        changes: Map<String, Value>,
    ) -> Result<Ticket, DeskError> {
        self.tickets.update_ticket(id, changes)
    }

    /// Delivers an event about a ticket to every enabled plugin that subscribes to it,
    /// and records what happened: each report in the log (the last
    /// [`keep_deliveries`](crate::DeskOptions::keep_deliveries) per plugin), the replies
    /// and custom fields on the ticket (later events carry them), the plugin's health
    /// (a plugin failing too often is disabled, and stays so after a restart).
    ///
    /// Deliveries are committed in groups (a commit costs many deliveries): when 64
    /// wait, when one disables a plugin, before any other operation of the desk, and by
    /// [`Desk::flush`] or dropping the desk. Everything the desk shows includes them; a
    /// process killed before then loses the waiting ones.
    ///
    /// # Errors
    /// [`DeskError::Event`] for an unknown event; [`DeskError::Database`].
    pub fn deliver(&self, event: &str, ticket_id: &str) -> Result<Vec<DeliveryReport>, DeskError> {
        self.deliveries.deliver(event, ticket_id)
    }

    /// Changes a ticket's fields and delivers an event about it, as an agent does from
    /// the ticket page: [`Desk::update_ticket`] then [`Desk::deliver`], with the ticket
    /// read once and the event built once. The event is built (which checks the
    /// changed ticket) before the change is saved: an unknown event changes nothing.
    /// Returns the reports and the ticket as the deliveries left it, which is what
    /// [`Desk::ticket`] reads next.
    ///
    /// # Errors
    /// [`DeskError::Event`] for an unknown event or a ticket that does not make a valid
    /// one; [`DeskError::Database`].
    pub fn fire(
        &self,
        ticket_id: &str,
        event: &str,
        changes: Map<String, Value>,
    ) -> Result<Fired, DeskError> {
        self.deliveries.fire(ticket_id, event, changes, Map::new())
    }

    /// [`Desk::fire`] with the event's `data` given: each member given replaces the
    /// sample's whole (docs/ABI.md section 6); the members left out are the sample's.
    ///
    /// # Errors
    /// As [`Desk::fire`]; [`DeskError::Event`] also when `data` has a member of the
    /// wrong type.
    pub fn fire_with(
        &self,
        ticket_id: &str,
        event: &str,
        changes: Map<String, Value>,
        data: Map<String, Value>,
    ) -> Result<Fired, DeskError> {
        self.deliveries.fire(ticket_id, event, changes, data)
    }

    /// Changes a ticket's status as the help desk does: saves the new status, then
    /// delivers the events the change sends, one after the other (docs/ABI.md section 6,
    /// "One change, several events"): `ticket.status_changed`, then `ticket.resolved`,
    /// `ticket.closed` or `ticket.reopened` when the change means one, with `notes` as
    /// their resolution notes or reason. Each event carries the ticket as the
    /// deliveries before it left it, custom fields included, and each is recorded as
    /// [`Desk::deliver`] records one. Returns every report, in the order of delivery;
    /// none when the ticket already has this status.
    ///
    /// # Errors
    /// [`DeskError::BlankStatus`]; [`DeskError::Event`] when the ticket does not make a
    /// valid event; [`DeskError::Database`].
    pub fn change_status(
        &self,
        ticket_id: &str,
        to: &str,
        notes: &str,
    ) -> Result<Vec<DeliveryReport>, DeskError> {
        self.deliveries.change_status(ticket_id, to, notes)
    }

    /// A plugin's deliveries, newest first, at most `limit`.
    ///
    /// # Errors
    /// [`DeskError::NotInstalled`].
    pub fn deliveries(&self, id: &str, limit: u32) -> Result<Vec<Delivery>, DeskError> {
        self.deliveries.deliveries(id, limit)
    }

    /// The flame graph (SVG) of plugin `id`'s delivery `seq`, as a desk recording them
    /// wrote it ([`DeskOptions::flamegraphs`](crate::DeskOptions::flamegraphs)). An SVG may hold script: whoever serves it
    /// serves it so that none runs (the web UI does).
    ///
    /// # Errors
    /// [`DeskError::NotInstalled`]; [`DeskError::NoFlameGraph`] when none was recorded
    /// (or it was deleted: the last few of each plugin are kept).
    pub fn flamegraph(&self, id: &str, seq: i64) -> Result<Vec<u8>, DeskError> {
        {
            let store = self.db.store()?;
            self.plugins.row(&store, id)?;
        }
        let none = || DeskError::NoFlameGraph {
            plugin_id: id.to_owned(),
            seq,
        };
        let path = crate::flamegraphs::svg_path(&self.dir().join(FLAMEGRAPH_DIR), id, seq)
            .ok_or_else(none)?;
        match std::fs::read(&path) {
            Ok(svg) => Ok(svg),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(none()),
            Err(source) => Err(DeskError::Io {
                what: "failed to read a delivery's flame graph",
                path,
                source,
            }),
        }
    }

    /// Plugin `id`'s delivery `seq` (the newest when `None`) written as a fixture TOML
    /// for `cargo otai-plugin test` ([`crate::fixture_export`]): the payload as
    /// delivered, the config of the version that received it with each secret a
    /// placeholder (the secret is read only to keep what reports show of it, a
    /// webhook's `https://host/`), each response as a mock, `[expect]` from the report.
    ///
    /// # Errors
    /// [`DeskError::NotInstalled`], [`DeskError::NoDelivery`]; [`DeskError::NoFixture`]
    /// for a delivery logged before the log kept what a fixture needs, or whose payload
    /// the fixture format cannot say.
    pub fn fixture(&self, id: &str, seq: Option<i64>) -> Result<String, DeskError> {
        let store = self.db.store()?;
        let row = self.plugins.row(&store, id)?;
        let (delivery, record) = self.deliveries.recorded(&store, id, seq)?;
        let no_fixture = |why: String| DeskError::NoFixture {
            plugin_id: id.to_owned(),
            seq: delivery.seq,
            why,
        };
        let Some(record) = record else {
            return Err(no_fixture(
                "it was logged by a desk that did not keep the payload as delivered and the \
                 responses whole (a desk database before schema version 7); deliver the event \
                 again"
                    .to_owned(),
            ));
        };
        // The config of the version that received it, when the desk still has it.
        let version_seq = crate::fixture_config::version_seq(&store, id, &delivery.version)?
            .unwrap_or(row.current_seq);
        let version = self.plugins.version_row(&store, version_seq)?;
        let config = crate::fixture_config::config(
            &store,
            &self.plugins.key,
            id,
            version_seq,
            &version.manifest,
        )?;
        crate::fixture_export::fixture_toml(&crate::fixture_export::FixtureInput {
            plugin_id: id,
            seq: delivery.seq,
            version: &delivery.version,
            payload: &record.payload,
            report: &delivery.report,
            bodies: &record.bodies,
            config: &config,
        })
        .map_err(|e| no_fixture(e.to_string()))
    }
}
