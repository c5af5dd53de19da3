//! The reference host runtime for Open Help Desk plugins, on wasmtime.
//!
//! A plugin is a core WebAssembly module following ABI v1 (see `docs/ABI.md` and the
//! [`otai_plugin_abi`] crate). This crate loads plugins ([`Host::load`]), installs
//! them with a config ([`Host::install`]), delivers events ([`Host::deliver`]) in a
//! fresh sandboxed instance each time, and reports what every delivery did
//! ([`DeliveryReport`]): its outcome, logs, HTTP requests, replies and custom fields.
//!
//! - Limits: a deadline per delivery (default 5 s, enforced by epoch interruption,
//!   including during host calls), a memory limit per instance (default 64 MiB),
//!   optional fuel.
//! - Cost: a host built with [`HostBuilder::count_fuel`] reports the fuel each delivery
//!   consumed ([`DeliveryReport::fuel`]), a count of the plugin's wasm operators that is
//!   the same on every machine, where the time is not.
//! - Profiles: a host built with [`HostBuilder::profile`] records where each delivery's
//!   time went ([`Profile`]: the Firefox Profiler's JSON and folded stacks for a flame
//!   graph), with the plugin's own function names (off by default).
//! - Compiled modules are kept, up to 32 MiB of module bytes, least recently loaded
//!   out ([`HostBuilder::compile_cache_bytes`]): loading the same bytes again does not
//!   compile them again. With [`HostBuilder::compile_cache_dir`], compiled modules are
//!   also kept on disk for the next process (off by default).
//! - HTTP goes through an [`http::HttpTransport`]: [`http::RealHttp`] (ureq, rustls,
//!   no redirects, 4 MiB body cap, no internal address unless allowed, no environment
//!   proxy) or [`http::MockHttp`]. `allowed_hosts` is enforced before any transport is
//!   called.
//! - Health: a plugin failing more than half of its deliveries in a 10-minute window
//!   (at least 10 deliveries) is disabled ([`HealthPolicy`]). Health and the custom
//!   fields plugins set are kept in memory by default, or by an embedder's own
//!   [`HealthStore`] and [`TicketStore`] (the local desk's are its database).
//! - Secrets: config values marked `secret` never appear in `Debug` output, errors or
//!   reports; reports replace them with `[redacted]` wherever they occur, as given or
//!   in the forms encoders write them (JSON, percent-encoding) and the URL parser sends
//!   them in (a whole URL, a host, a path, a query, a fragment). A secret URL on one of
//!   the plugin's `allowed_hosts` keeps that public host in sight:
//!   `https://hooks.slack.com/[redacted]`.
//! - [`testing`]: helpers for a plugin's own `cargo test`.
//!
//! ```
//! use otai_plugin_host::{Event, Host, Outcome, http::MockHttp};
//! use serde_json::json;
//!
//! // A plugin in WAT that posts the event to a webhook: a real plugin is built with
//! // `cargo otai-plugin build`.
//! let wasm = wat::parse_str(r#"(module
//!   (import "ohd" "ohd_http_request" (func $http (param i32 i32 i32 i32) (result i32)))
//!   (memory (export "memory") 1)
//!   (global $next (mut i32) (i32.const 4096))
//!   (func (export "ohd_alloc") (param $n i32) (result i32)
//!     (local $p i32) (local.set $p (global.get $next))
//!     (global.set $next (i32.add (global.get $next) (local.get $n))) (local.get $p))
//!   (func (export "ohd_free") (param i32 i32))
//!   (func (export "on_event") (param i32 i32)
//!     (drop (call $http (i32.const 0) (i32.const 63) (i32.const 2048) (i32.const 2052))))
//!   (data (i32.const 0) "{\"method\":\"POST\",\"url\":\"https://hooks.slack.com/x\",\"body\":\"hi\"}")
//!   (@custom "ohd_manifest" "{\"id\":\"com.example.hook\",\"name\":\"Hook\",\"version\":\"1.0.0\",\"description\":\"Posts.\",\"events\":[\"ticket.created\"],\"permissions\":{\"http\":{\"allowed_hosts\":[\"hooks.slack.com\"]}}}")
//! )"#)?;
//!
//! let mock = MockHttp::new().on("POST", "https://hooks.slack.com/x").respond(200, "ok");
//! let host = Host::builder().http(mock.clone()).build()?;
//! let plugin = host.load(&wasm)?;
//! host.install(&plugin, json!({}))?;
//! let report = host.deliver_to("com.example.hook", &Event::ticket_created())?;
//! assert_eq!(report.outcome, Outcome::Ok);
//! assert_eq!(report.http[0].status, 200);
//! assert_eq!(mock.requests()[0].body.as_deref(), Some("hi"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]

mod builder;
mod compile_cache;
mod compiled_functions;
mod disk_cache;
mod error;
mod event;
mod functions;
mod guest_func;
mod health;
mod host;
pub mod http;
mod load;
mod memory;
mod profile;
mod redact;
mod registry;
mod report;
mod run;
mod state;
#[cfg(test)]
mod store_tests;
pub mod testing;
mod ticker;
mod ticket_fields;

pub use otai_plugin_abi as abi;

pub use builder::HostBuilder;
pub use disk_cache::DiskCacheStats;
pub use error::{DeliverError, EventError, HostError, InstallError, LoadError, Rejection};
pub use event::{DEFAULT_TICKET_ID, Event};
pub use health::{
    Clock, HealthPolicy, HealthStatus, HealthStore, ManualClock, MemoryHealthStore, OnDisabled,
    PluginHealth, SystemClock,
};
pub use host::Host;
pub use load::Plugin;
pub use profile::{HostCallTime, Profile};
pub use report::{
    CustomFieldSet, DeliveryReport, HostCall, HttpError, HttpExchange, LogLine, Outcome,
    PanelReport, REDACTED, Reply, Timings, host_call,
};
pub use ticket_fields::{MemoryTicketStore, TicketStore};
