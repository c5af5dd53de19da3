//! A local Open Help Desk around the reference host (`otai-plugin-host`): what plugin
//! authors need to see their plugin as the help desk's administrators and agents will.
//!
//! A [`Desk`] lives in a data directory: a SQLite database (compiled in; schema
//! versioned by migrations), a key file, and a lock that keeps a second desk out.
//!
//! - **Lifecycle**: [`Desk::install`] a `.wasm` (validated as the host loads it;
//!   disabled until configured when a required field has no value),
//!   [`Desk::configure`] (validated against `config_schema`, every problem at once;
//!   [`Desk::configure_text`] with values typed as text, read by [`parse_config_text`]
//!   as the web UI and the CLI read them),
//!   [`Desk::upgrade`] (same id; a [`PermissionDiff`] that must be approved when
//!   permissions grow; config carried over), [`Desk::rollback`], [`Desk::enable`],
//!   [`Desk::disable`], [`Desk::remove`], [`Desk::list`].
//! - **Secrets** are sealed with ChaCha20-Poly1305 under a 256-bit key (`desk.key`,
//!   mode 0600, or `OTAI_DESK_KEY`) and are write-only: [`Desk::config_form`] says
//!   whether one is set, never what it is; reports redact them.
//! - **Health**: a plugin failing more than the policy allows is disabled with its
//!   reason and time, persisted, so it stays disabled after a restart; enabling it
//!   starts a new window. The administrator's [`HealthSettings`] (the threshold, the
//!   minimum count, the window) are saved in the database and judge the next outcome
//!   ([`Desk::set_health_settings`]).
//! - **Tickets and deliveries**: [`Desk::deliver`] sends an event about a ticket to the
//!   subscribed plugins; the replies and custom fields they write stay on the ticket
//!   and are in later payloads; [`Desk::deliveries`] is each plugin's delivery log.
//! - **Registries** (module `registry`, feature `registry`): modules pushed to and
//!   pulled from OCI registries, pulls pinned to a digest; `Desk::install_pulled`
//!   records where a version came from.
//! - **Web UI** (module `web`, feature `web`): the desk's pages, served on a loopback
//!   listener, as `cargo otai-plugin dev` shows them.
//!
//! ```
//! use otai_plugin_desk::Desk;
//!
//! let wasm = wat::parse_str(r#"(module
//!   (import "ohd" "ohd_log" (func $log (param i32 i32 i32)))
//!   (memory (export "memory") 1)
//!   (func (export "ohd_alloc") (param i32) (result i32) (i32.const 1024))
//!   (func (export "ohd_free") (param i32 i32))
//!   (func (export "on_event") (param i32 i32) (call $log (i32.const 0) (i32.const 5) (i32.const 1)))
//!   (data (i32.const 0) "hello")
//!   (@custom "ohd_manifest" "{\"id\":\"com.example.hello\",\"name\":\"Hello\",\"version\":\"1.0.0\",\"description\":\"Says hello.\",\"events\":[\"ticket.created\"]}")
//! )"#)?;
//!
//! let dir = tempfile::tempdir()?;
//! let desk = Desk::open(dir.path())?;
//! desk.install(&wasm)?;
//! let reports = desk.deliver("ticket.created", "T-1")?;
//! assert_eq!(reports[0].logs[0].message, "hello");
//! drop(desk);
//!
//! // Everything is on disk.
//! let desk = Desk::open(dir.path())?;
//! assert_eq!(desk.deliveries("com.example.hello", 10)?.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod batch;
mod clock;
mod config_input;
mod config_records;
mod database;
mod deliveries;
mod desk;
mod diff;
mod error;
mod fixture_config;
pub mod fixture_export;
mod flamegraphs;
mod health;
mod holder;
mod lifecycle;
mod notices;
mod open;
mod plugin_info;
mod plugins;
mod recent_events;
#[cfg(feature = "registry")]
pub mod registry;
mod replay_record;
mod residency;
mod residents;
mod secrets;
mod settings;
mod state;
mod store;
#[cfg(test)]
mod test_desk;
mod ticket_fields;
mod ticket_list;
mod ticket_records;
mod tickets;
mod trust;
#[cfg(feature = "web")]
pub mod web;
mod window;

pub use config_input::parse_config_text;
pub use deliveries::{Delivery, Fired};
pub use desk::Desk;
pub use diff::PermissionDiff;
pub use error::DeskError;
pub use flamegraphs::{DrawFlameGraph, FLAMEGRAPH_DIR, FlameGraphs};
pub use holder::LockHolder;
pub use lifecycle::{Review, Upgraded};
pub use notices::Notice;
pub use open::{COMPILED_DIR, DeskOptions};
pub use plugin_info::{ConfigEntry, PluginInfo};
pub use replay_record::{KEPT_BODY_MAX, KeptBody};
pub use secrets::{KEY_ENV, KEY_FILE};
pub use settings::{
    HealthSettings, MAX_MIN_DELIVERIES, MAX_WINDOW_MINUTES, SETTINGS, SettingProblem,
};
pub use state::{Disabled, DisabledReason};
pub use store::{APPLICATION_ID, DATABASE_FILE};
pub use ticket_list::TicketSummary;
pub use ticket_records::{Ticket, TicketReply};
pub use trust::{InstallOptions, TrustedKey};
