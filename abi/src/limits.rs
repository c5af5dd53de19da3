//! Sizes and durations the host enforces. `docs/ABI.md` documents each one.

use std::time::Duration;

/// Default wall-clock deadline of one delivery (`on_event` or `render_panel`),
/// covering instantiation, `_initialize`, the allocator calls and host calls.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(5);

/// Default maximum size of a plugin's linear memory (64 MiB).
pub const DEFAULT_MEMORY_LIMIT: u64 = 64 * 1024 * 1024;

/// Most elements a plugin's table may have, at its start and after `table.grow` (which
/// returns -1 past it, as a refused `memory.grow` does): the pooling allocator's default,
/// and a bound on what a hostile plugin can make the host allocate.
pub const MAX_TABLE_ELEMENTS: u64 = 20_000;

/// Largest `ohd_manifest` section: a manifest is a few hundred bytes to a few KiB, and
/// every host parses it at load.
pub const MAX_MANIFEST: usize = 64 * 1024;

/// Default largest module a host loads (32 MiB): a release plugin is tens to hundreds of
/// KiB, a debug build a few MiB; compiling is what a larger module would cost the host.
pub const DEFAULT_MAX_MODULE_SIZE: u64 = 32 * 1024 * 1024;

/// Longest log line kept; a longer one is cut to this many bytes (at a character
/// boundary) and marked as truncated.
pub const MAX_LOG_LINE: usize = 16 * 1024;

/// Total log bytes kept per delivery; lines past this are counted, not kept, and the
/// host appends one warning saying how many were dropped.
pub const MAX_LOG_BYTES_PER_DELIVERY: usize = 1024 * 1024;

/// Largest `ohd_http_request` request JSON.
pub const MAX_HTTP_REQUEST: usize = 1024 * 1024;

/// Largest HTTP response body handed to the plugin; a larger one fails the request
/// with status 0 and error kind `response_too_large`.
pub const MAX_HTTP_RESPONSE: usize = 4 * 1024 * 1024;

/// Largest `ohd_add_reply` payload JSON.
pub const MAX_REPLY: usize = 64 * 1024;

/// Longest custom field key, in bytes.
pub const MAX_CUSTOM_FIELD_KEY: usize = 128;

/// Longest custom field value, in bytes.
pub const MAX_CUSTOM_FIELD_VALUE: usize = 4 * 1024;

/// Longest config value, in bytes: a string value (a token, a URL, a key in PEM form is
/// a few KiB) as the plugin receives it in the payload's `config`. A `default` in the
/// manifest is held to it as well.
pub const MAX_CONFIG_VALUE: usize = 16 * 1024;

/// Largest config of one installation: the payload's `config` object as compact JSON,
/// defaults included. Every delivery copies it into the plugin's memory.
pub const MAX_CONFIG: usize = 64 * 1024;

/// Longest URL `render_panel` may return, in bytes.
pub const MAX_PANEL_URL: usize = 4 * 1024;

/// Default auto-disable threshold: more than this fraction of failed deliveries…
pub const DEFAULT_FAILURE_THRESHOLD: f64 = 0.5;

/// …within this rolling window…
pub const DEFAULT_FAILURE_WINDOW: Duration = Duration::from_secs(10 * 60);

/// …once at least this many deliveries fell in the window.
pub const DEFAULT_MIN_DELIVERIES: u32 = 10;

/// Most core instances a plugin component may declare: its own module's, the small shim
/// modules' a component encoder adds for the host functions that return lists, and the
/// bundles of exports that wire them (`wit-component` declares five in all). The
/// reference host's pooling allocator reserves this many per component instance.
pub const MAX_COMPONENT_CORE_INSTANCES: u32 = 8;

/// Most tables the core modules of a plugin component may define: the module's own
/// and the shim's table of indirect calls.
pub const MAX_COMPONENT_TABLES: usize = 4;
