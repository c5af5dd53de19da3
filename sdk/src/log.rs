//! Logging to the help desk's plugin log (`ohd_log`).
//!
//! Use the macros [`debug!`](crate::debug), [`info!`](crate::info),
//! [`warn!`](crate::warn) and [`error!`](crate::error); each call is one host call and
//! one log line, tagged by the host with the plugin id. A message without format
//! arguments is passed through as a `&str`, so a plugin that only logs literals does not
//! link Rust's formatting machinery.

pub use otai_plugin_abi::status::LogLevel as Level;

/// Logs `message` at `level` with one `ohd_log` call.
///
/// ```
/// use otai_plugin_sdk::log::{self, Level};
/// log::log(Level::Info, "ticket synced");
/// ```
pub fn log(level: Level, message: &str) {
    crate::host_functions::ohd_log(message.as_bytes(), level.code());
}

/// What the logging macros expand to. Not public API.
#[doc(hidden)]
#[inline(always)]
pub fn __log_args(level: Level, args: core::fmt::Arguments<'_>) {
    // `as_str` is `Some` exactly for a literal without arguments; inlined into the
    // caller it folds to a constant, so literal-only logging never calls `format`.
    match args.as_str() {
        Some(message) => log(level, message),
        None => log_formatted(level, args),
    }
}

#[inline(never)]
fn log_formatted(level: Level, args: core::fmt::Arguments<'_>) {
    // `write_fmt` on a `String` cannot fail; smaller than `std::fmt::format`, which
    // adds a capacity estimate.
    let mut line = String::new();
    let _ = core::fmt::Write::write_fmt(&mut line, args);
    log(level, &line);
}

/// Logs a line at debug level, with `format!` syntax.
///
/// ```
/// # use otai_plugin_sdk::debug;
/// debug!("payload has {} bytes", 2048);
/// ```
#[macro_export]
macro_rules! debug {
    ($($arg:tt)+) => {
        $crate::log::__log_args($crate::log::Level::Debug, ::core::format_args!($($arg)+))
    };
}

/// Logs a line at info level, with `format!` syntax.
///
/// ```
/// # use otai_plugin_sdk::info;
/// let id = "T-1";
/// info!("posted ticket {id} to Slack");
/// ```
#[macro_export]
macro_rules! info {
    ($($arg:tt)+) => {
        $crate::log::__log_args($crate::log::Level::Info, ::core::format_args!($($arg)+))
    };
}

/// Logs a line at warn level, with `format!` syntax.
///
/// ```
/// # use otai_plugin_sdk::warn;
/// warn!("Slack answered HTTP {}", 429);
/// ```
#[macro_export]
macro_rules! warn {
    ($($arg:tt)+) => {
        $crate::log::__log_args($crate::log::Level::Warn, ::core::format_args!($($arg)+))
    };
}

/// Logs a line at error level, with `format!` syntax.
///
/// ```
/// # use otai_plugin_sdk::error;
/// error!("could not create the incident: {}", "timeout");
/// ```
#[macro_export]
macro_rules! error {
    ($($arg:tt)+) => {
        $crate::log::__log_args($crate::log::Level::Error, ::core::format_args!($($arg)+))
    };
}
