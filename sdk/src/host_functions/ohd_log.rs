//! `ohd_log(ptr, len, level)`: one line of the plugin's log. Its public face is
//! [`crate::log`] (`log::log` and the macros), and the panic hook of `rt` logs through it
//! too.

/// The stand-in: the line is recorded, invalid UTF-8 replaced, as the host does.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn native(message: &[u8], level: u32) {
    use crate::sys::native::{LogLine, with};
    use otai_plugin_abi::status::LogLevel;

    let line = LogLine {
        level: LogLevel::from_code(level),
        message: String::from_utf8_lossy(message).into_owned(),
    };
    with(|s| s.recorded.logs.push(line));
}

/// `log(level, message)`, `ohd_log`'s twin: levels above 3 are logged at error, as
/// `ohd_log` logs them; bytes that are not UTF-8 are replaced, as the core host replaces
/// them.
#[cfg(all(target_arch = "wasm32", feature = "component"))]
pub(crate) fn component(message: &[u8], level: u32) {
    use crate::sys::component::{host, types::LogLevel as WitLevel};
    use otai_plugin_abi::status::LogLevel;

    let level = match LogLevel::from_code(level) {
        LogLevel::Debug => WitLevel::Debug,
        LogLevel::Info => WitLevel::Info,
        LogLevel::Warn => WitLevel::Warn,
        LogLevel::Error => WitLevel::Error,
    };
    host::log(level, &String::from_utf8_lossy(message));
}
