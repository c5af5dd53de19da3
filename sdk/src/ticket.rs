//! Ticket operations (`ohd_add_reply`, `ohd_set_custom_field`).
//!
//! Both act on the ticket of the event being delivered, and only during `on_event`.
//!
//! ```
//! use otai_plugin_sdk::ticket;
//! # otai_plugin_sdk::testing::reset();
//! # otai_plugin_sdk::testing::set_current_ticket(Some("01JQXYZ"));
//!
//! ticket::set_custom_field("01JQXYZ", "pagerduty_incident", "PD-12345")?;
//! ticket::add_reply("01JQXYZ", "Incident PD-12345 opened.", true)?;
//! # Ok::<(), ticket::TicketError>(())
//! ```

use otai_plugin_abi::calls::{AddReply, SetCustomField};
use otai_plugin_abi::status::CallStatus;

/// Adds a reply to the ticket; `internal: true` makes it an internal note the submitter
/// does not see.
///
/// # Errors
/// A [`TicketError`] for the status the host returned: an empty body
/// ([`TicketError::InvalidRequest`]), another ticket than the event's
/// ([`TicketError::WrongTicket`]), a payload over 64 KiB ([`TicketError::TooLarge`]),
/// or a call from `render_panel` ([`TicketError::NotAvailable`]).
pub fn add_reply(ticket_id: &str, body: &str, internal: bool) -> Result<(), TicketError> {
    let payload = AddReply {
        ticket_id: ticket_id.to_owned(),
        body: body.to_owned(),
        is_internal: internal,
    };
    status(crate::host_functions::ohd_add_reply::call(payload))
}

/// Sets a custom field on the ticket. Later events carry it in
/// `ticket.custom_fields`.
///
/// # Errors
/// A [`TicketError`] for the status the host returned: an empty key
/// ([`TicketError::InvalidRequest`]), another ticket than the event's
/// ([`TicketError::WrongTicket`]), a key over 128 bytes or a value over 4 KiB
/// ([`TicketError::TooLarge`]), or a call from `render_panel`
/// ([`TicketError::NotAvailable`]).
pub fn set_custom_field(ticket_id: &str, key: &str, value: &str) -> Result<(), TicketError> {
    let payload = SetCustomField {
        ticket_id: ticket_id.to_owned(),
        key: key.to_owned(),
        value: value.to_owned(),
    };
    status(crate::host_functions::ohd_set_custom_field::call(payload))
}

fn status(code: u32) -> Result<(), TicketError> {
    match CallStatus::from_code(code) {
        CallStatus::Ok => Ok(()),
        CallStatus::InvalidRequest => Err(TicketError::InvalidRequest),
        CallStatus::WrongTicket => Err(TicketError::WrongTicket),
        CallStatus::TooLarge => Err(TicketError::TooLarge),
        CallStatus::NotAvailable => Err(TicketError::NotAvailable),
        CallStatus::Unknown(code) => Err(TicketError::Unknown(code)),
    }
}

/// Why a ticket operation failed: the status the host returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum TicketError {
    /// Status 1: the host rejected the payload (an empty reply body or key).
    #[error("the host rejected the ticket operation as invalid (empty reply body or field key?)")]
    InvalidRequest,
    /// Status 2: `ticket_id` is not the ticket of the event being delivered.
    #[error("`ticket_id` is not the ticket of the event being delivered; use `event.ticket.id`")]
    WrongTicket,
    /// Status 3: the reply is over 64 KiB, the key over 128 bytes or the value over 4 KiB.
    #[error(
        "the ticket operation is too large (reply at most 64 KiB, field key 128 bytes, field value 4 KiB)"
    )]
    TooLarge,
    /// Status 4: ticket operations are available only during `on_event`.
    #[error("ticket operations are available only during `on_event`, not `render_panel`")]
    NotAvailable,
    /// A status this SDK does not know (a newer host).
    #[error("the ticket operation failed with unknown host status {0}")]
    Unknown(u32),
}
