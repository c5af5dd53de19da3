//! What `ohd_add_reply` and `ohd_set_custom_field` answer to a payload.
//!
//! One function per host function, taking the bytes the plugin passed and the
//! [`TicketScope`] of the call, and returning the decoded operation or the status the
//! host returns. The reference host and the SDK's native stand-in both call these, so a
//! plugin's native test sees the statuses the help desk gives.
//!
//! When several problems apply, the first in this order decides the status (docs/ABI.md,
//! section 5):
//!
//! 1. called during `render_panel`: [`TicketCallError::NotAvailable`];
//! 2. the payload is over [`MAX_REPLY`] bytes (both functions): [`TicketCallError::TooLarge`];
//! 3. the payload is not JSON of the documented shape: [`TicketCallError::InvalidRequest`];
//! 4. `ticket_id` is not the event's ticket: [`TicketCallError::WrongTicket`];
//! 5. the fields' own rules: a reply `body` with nothing but whitespace, an empty `key`
//!    ([`TicketCallError::InvalidRequest`]); a `key` over [`MAX_CUSTOM_FIELD_KEY`] or a
//!    `value` over [`MAX_CUSTOM_FIELD_VALUE`] bytes ([`TicketCallError::TooLarge`]).
//!
//! ```
//! use otai_plugin_abi::rules::ticket::{self, TicketCallError, TicketScope};
//!
//! let during_event = TicketScope::Event { ticket_id: "T-1" };
//! let reply = ticket::add_reply(during_event, br#"{"ticket_id":"T-1","body":"Done."}"#).unwrap();
//! assert_eq!(reply.body, "Done.");
//!
//! let wrong = ticket::add_reply(during_event, br#"{"ticket_id":"T-2","body":"Done."}"#);
//! assert_eq!(wrong.unwrap_err(), TicketCallError::WrongTicket);
//! assert_eq!(TicketCallError::WrongTicket.code(), 2);
//!
//! let in_panel = ticket::set_custom_field(TicketScope::Panel, b"not even JSON");
//! assert_eq!(in_panel.unwrap_err(), TicketCallError::NotAvailable);
//! ```

use std::fmt;

use crate::calls::{AddReply, SetCustomField};
use crate::limits::{MAX_CUSTOM_FIELD_KEY, MAX_CUSTOM_FIELD_VALUE, MAX_REPLY};
use crate::status::{self, CallStatus};

/// Where a ticket operation is called from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketScope<'a> {
    /// During `on_event` for the event about this ticket: operations may act on it.
    Event {
        /// `ticket.id` of the payload being delivered.
        ticket_id: &'a str,
    },
    /// During `render_panel`, or outside any delivery: no ticket operation is available.
    Panel,
}

/// Why a ticket operation was refused: one non-zero status of docs/ABI.md, section 5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketCallError {
    /// Status 1: not UTF-8 JSON of the documented shape, a blank reply body or an
    /// empty field key.
    InvalidRequest,
    /// Status 2: `ticket_id` is not the ticket of the event being delivered.
    WrongTicket,
    /// Status 3: the payload, the key or the value is over its limit.
    TooLarge,
    /// Status 4: called during `render_panel`.
    NotAvailable,
}

impl TicketCallError {
    /// The status as a type.
    pub fn status(self) -> CallStatus {
        match self {
            TicketCallError::InvalidRequest => CallStatus::InvalidRequest,
            TicketCallError::WrongTicket => CallStatus::WrongTicket,
            TicketCallError::TooLarge => CallStatus::TooLarge,
            TicketCallError::NotAvailable => CallStatus::NotAvailable,
        }
    }

    /// The code the host function returns.
    pub fn code(self) -> u32 {
        match self {
            TicketCallError::InvalidRequest => status::INVALID_REQUEST,
            TicketCallError::WrongTicket => status::WRONG_TICKET,
            TicketCallError::TooLarge => status::TOO_LARGE,
            TicketCallError::NotAvailable => status::NOT_AVAILABLE,
        }
    }
}

impl fmt::Display for TicketCallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TicketCallError::InvalidRequest => {
                "invalid request: not JSON of the documented shape, a blank reply body or an empty key"
            }
            TicketCallError::WrongTicket => {
                "wrong ticket: `ticket_id` is not the ticket of the event being delivered"
            }
            TicketCallError::TooLarge => "too large: over the size limit of the payload, key or value",
            TicketCallError::NotAvailable => {
                "not available: ticket operations exist only during `on_event`"
            }
        })
    }
}

impl std::error::Error for TicketCallError {}

/// The checks every ticket operation starts with: scope, then size.
fn scope_and_size<'a>(scope: TicketScope<'a>, payload: &[u8]) -> Result<&'a str, TicketCallError> {
    let TicketScope::Event { ticket_id } = scope else {
        return Err(TicketCallError::NotAvailable);
    };
    if payload.len() > MAX_REPLY {
        return Err(TicketCallError::TooLarge);
    }
    Ok(ticket_id)
}

/// `ohd_add_reply(ptr, len)`: the reply to add, or why not.
///
/// # Errors
/// The [`TicketCallError`] whose status the host returns, chosen in the order of the
/// module documentation.
pub fn add_reply(scope: TicketScope<'_>, payload: &[u8]) -> Result<AddReply, TicketCallError> {
    let ticket_id = scope_and_size(scope, payload)?;
    let reply: AddReply =
        super::decode_object(payload).map_err(|_| TicketCallError::InvalidRequest)?;
    if reply.ticket_id != ticket_id {
        return Err(TicketCallError::WrongTicket);
    }
    // A reply of nothing but spaces reaches the submitter as an empty message.
    if reply.body.trim().is_empty() {
        return Err(TicketCallError::InvalidRequest);
    }
    Ok(reply)
}

/// `ohd_set_custom_field(ptr, len)`: the field to set, or why not.
///
/// # Errors
/// The [`TicketCallError`] whose status the host returns, chosen in the order of the
/// module documentation.
pub fn set_custom_field(
    scope: TicketScope<'_>,
    payload: &[u8],
) -> Result<SetCustomField, TicketCallError> {
    let ticket_id = scope_and_size(scope, payload)?;
    let field: SetCustomField =
        super::decode_object(payload).map_err(|_| TicketCallError::InvalidRequest)?;
    if field.ticket_id != ticket_id {
        return Err(TicketCallError::WrongTicket);
    }
    if field.key.is_empty() {
        return Err(TicketCallError::InvalidRequest);
    }
    if field.key.len() > MAX_CUSTOM_FIELD_KEY || field.value.len() > MAX_CUSTOM_FIELD_VALUE {
        return Err(TicketCallError::TooLarge);
    }
    Ok(field)
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: TicketScope<'static> = TicketScope::Event { ticket_id: "T-1" };

    fn reply(json: &str) -> Result<AddReply, TicketCallError> {
        add_reply(T, json.as_bytes())
    }

    fn field(key: &str, value: &str) -> Result<SetCustomField, TicketCallError> {
        let json = serde_json::json!({ "ticket_id": "T-1", "key": key, "value": value });
        set_custom_field(T, json.to_string().as_bytes())
    }

    #[test]
    fn the_first_applicable_rule_decides() {
        use TicketCallError::*;
        let huge = format!(
            r#"{{"ticket_id":"T-2","body":"{}"}}"#,
            "x".repeat(MAX_REPLY)
        );
        // Panel before size before syntax before ticket before content.
        assert_eq!(
            add_reply(TicketScope::Panel, huge.as_bytes()),
            Err(NotAvailable)
        );
        assert_eq!(reply(&huge), Err(TooLarge));
        assert_eq!(
            reply(r#"{"ticket_id":"T-2","body":"" "#),
            Err(InvalidRequest)
        );
        assert_eq!(reply(r#"{"ticket_id":"T-2","body":""}"#), Err(WrongTicket));
        assert_eq!(
            reply(r#"{"ticket_id":"T-1","body":" \n\t"}"#),
            Err(InvalidRequest)
        );
        assert!(reply(r#"{"ticket_id":"T-1","body":" ok "}"#).is_ok());
    }

    #[test]
    fn payload_size_limit_is_inclusive() {
        let fits = |len: usize| {
            let pad = len - r#"{"ticket_id":"T-1","body":""}"#.len();
            let json = format!(r#"{{"ticket_id":"T-1","body":"{}"}}"#, "x".repeat(pad));
            assert_eq!(json.len(), len);
            reply(&json)
        };
        assert!(fits(MAX_REPLY).is_ok());
        assert_eq!(fits(MAX_REPLY + 1), Err(TicketCallError::TooLarge));
    }

    #[test]
    fn field_limits_are_inclusive() {
        use TicketCallError::*;
        assert!(field(&"k".repeat(MAX_CUSTOM_FIELD_KEY), "").is_ok());
        assert_eq!(
            field(&"k".repeat(MAX_CUSTOM_FIELD_KEY + 1), ""),
            Err(TooLarge)
        );
        assert!(field("k", &"v".repeat(MAX_CUSTOM_FIELD_VALUE)).is_ok());
        assert_eq!(
            field("k", &"v".repeat(MAX_CUSTOM_FIELD_VALUE + 1)),
            Err(TooLarge)
        );
        assert_eq!(field("", "v"), Err(InvalidRequest));
    }

    #[test]
    fn shape_errors_are_invalid_requests() {
        use TicketCallError::InvalidRequest;
        for json in [
            "",
            "null",
            r#"{"ticket_id":"T-1"}"#,
            r#"{"ticket_id":"T-1","body":"a","body":"b"}"#,
            r#"{"ticket_id":"T-1","body":"a","colour":"red"}"#,
            r#"{"ticket_id":"T-1","body":"a","is_internal":"yes"}"#,
        ] {
            assert_eq!(reply(json), Err(InvalidRequest), "{json}");
        }
        assert_eq!(
            add_reply(T, b"{\"ticket_id\":\"T-1\",\"body\":\"\xff\"}"),
            Err(InvalidRequest)
        );
    }

    #[test]
    fn codes_match_the_status_table() {
        for e in [
            TicketCallError::InvalidRequest,
            TicketCallError::WrongTicket,
            TicketCallError::TooLarge,
            TicketCallError::NotAvailable,
        ] {
            assert_eq!(e.status().code(), e.code());
            assert_ne!(e.code(), status::OK);
        }
    }

    #[test]
    fn each_error_says_what_it_means_with_its_status() {
        use TicketCallError::*;
        for (error, code, words) in [
            (InvalidRequest, status::INVALID_REQUEST, "invalid request"),
            (WrongTicket, status::WRONG_TICKET, "wrong ticket"),
            (TooLarge, status::TOO_LARGE, "too large"),
            (
                NotAvailable,
                status::NOT_AVAILABLE,
                "only during `on_event`",
            ),
        ] {
            assert_eq!(error.code(), code);
            assert_eq!(error.status().code(), code, "{error:?}");
            assert!(error.to_string().contains(words), "{error:?}: {error}");
        }
    }
}
