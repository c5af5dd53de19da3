//! Status codes returned by host functions, and log levels.

/// `ohd_add_reply` / `ohd_set_custom_field`: done.
pub const OK: u32 = 0;
/// The payload is not valid UTF-8 JSON of the documented shape (unknown or duplicate
/// field, wrong type, missing field), or a pointer/length pair is not in bounds.
pub const INVALID_REQUEST: u32 = 1;
/// `ticket_id` is not the ticket of the event being delivered.
pub const WRONG_TICKET: u32 = 2;
/// The payload, or one of its fields, is larger than [`crate::limits`] allows.
pub const TOO_LARGE: u32 = 3;
/// The operation is not available in this call, e.g. ticket operations from
/// `render_panel`.
pub const NOT_AVAILABLE: u32 = 4;

/// `ohd_http_request`: the request never produced an HTTP response (network error,
/// timeout, malformed request, response too large). The response body is a
/// [`crate::calls::HostErrorBody`] saying which.
pub const HTTP_NO_RESPONSE: u32 = 0;
/// `ohd_http_request`: the URL's host is not in `permissions.http.allowed_hosts`; no
/// connection (not even a DNS lookup) was made. The response body is a
/// [`crate::calls::HostErrorBody`] of kind `host_not_allowed`, which tells this apart
/// from a server's own 403.
pub const HTTP_HOST_NOT_ALLOWED: u32 = 403;

/// The outcome of `ohd_add_reply` or `ohd_set_custom_field`, as a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallStatus {
    /// [`OK`]
    Ok,
    /// [`INVALID_REQUEST`]
    InvalidRequest,
    /// [`WRONG_TICKET`]
    WrongTicket,
    /// [`TOO_LARGE`]
    TooLarge,
    /// [`NOT_AVAILABLE`]
    NotAvailable,
    /// A code this ABI version does not define (a newer host).
    Unknown(u32),
}

impl CallStatus {
    /// The status for a code returned by a host function.
    pub fn from_code(code: u32) -> Self {
        match code {
            OK => CallStatus::Ok,
            INVALID_REQUEST => CallStatus::InvalidRequest,
            WRONG_TICKET => CallStatus::WrongTicket,
            TOO_LARGE => CallStatus::TooLarge,
            NOT_AVAILABLE => CallStatus::NotAvailable,
            other => CallStatus::Unknown(other),
        }
    }

    /// The code a host function returns for this status.
    pub fn code(self) -> u32 {
        match self {
            CallStatus::Ok => OK,
            CallStatus::InvalidRequest => INVALID_REQUEST,
            CallStatus::WrongTicket => WRONG_TICKET,
            CallStatus::TooLarge => TOO_LARGE,
            CallStatus::NotAvailable => NOT_AVAILABLE,
            CallStatus::Unknown(code) => code,
        }
    }
}

/// A log level of `ohd_log`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// `0`
    Debug,
    /// `1`
    Info,
    /// `2`
    Warn,
    /// `3`
    Error,
}

impl LogLevel {
    /// The level for a code passed to `ohd_log`. Codes above 3 are not an error: they
    /// are logged at [`LogLevel::Error`], so that a plugin's message is never lost.
    pub fn from_code(code: u32) -> Self {
        match code {
            0 => LogLevel::Debug,
            1 => LogLevel::Info,
            2 => LogLevel::Warn,
            _ => LogLevel::Error,
        }
    }

    /// The code a plugin passes to `ohd_log` for this level.
    pub fn code(self) -> u32 {
        self as u32
    }

    /// The lowercase name, as in reports: `debug`, `info`, `warn`, `error`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        }
    }
}

impl std::fmt::Display for LogLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn call_status_round_trips() {
        for code in 0..8 {
            assert_eq!(CallStatus::from_code(code).code(), code);
        }
        assert_eq!(CallStatus::from_code(2), CallStatus::WrongTicket);
    }

    #[test]
    fn out_of_range_log_levels_are_errors() {
        assert_eq!(LogLevel::from_code(3), LogLevel::Error);
        assert_eq!(LogLevel::from_code(u32::MAX), LogLevel::Error);
        assert_eq!(LogLevel::from_code(0), LogLevel::Debug);
    }
}
