//! The error a handler returns.

use core::fmt;

/// The result type of plugin handlers: `Result<T, otai_plugin_sdk::Error>`.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// Why a handler failed: a message for the plugin log.
///
/// Any error type converts into it with `?` (its message and the messages of its
/// sources are kept), so handlers can mix [`HttpError`](crate::http::HttpError),
/// [`TicketError`](crate::ticket::TicketError), `serde_json::Error` and their own.
/// When `on_event` returns an `Err`, the SDK logs `on_event failed: <message>` at error
/// level and traps, so the help desk counts the delivery as failed.
///
/// ```
/// use otai_plugin_sdk::{Error, Result};
///
/// fn parse_priority(p: &str) -> Result<u8> {
///     match p {
///         "Critical" => Ok(1),
///         "High" => Ok(2),
///         other => Err(Error::msg(format!("unexpected priority `{other}`"))),
///     }
/// }
/// assert_eq!(parse_priority("Low").unwrap_err().to_string(), "unexpected priority `Low`");
/// ```
pub struct Error {
    message: String,
}

impl Error {
    /// An error with this message.
    pub fn msg(message: impl fmt::Display) -> Self {
        Error {
            message: message.to_string(),
        }
    }

    /// The message, including the messages of the sources it was converted from.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// Deliberately not `std::error::Error` itself, so that this blanket conversion does
/// not overlap with `From<T> for T` (the `anyhow` pattern).
impl<E: std::error::Error> From<E> for Error {
    fn from(err: E) -> Self {
        let mut message = err.to_string();
        let mut source = err.source();
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        Error { message }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.message, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("inner")]
    struct Inner;

    #[test]
    fn conversion_keeps_the_source_chain() {
        let err: Error = Outer(Inner).into();
        assert_eq!(err.message(), "outer: inner");
    }
}
