//! `ohd_add_reply(ptr, len) -> status`: a reply or internal note on the event's ticket.
//! Its public face is [`crate::ticket::add_reply`], which builds the reply and reads the
//! status.

use otai_plugin_abi::calls::AddReply;

/// The call in this build's flavour: the reply as JSON (core flavour, stand-in); the
/// status.
#[cfg(not(all(target_arch = "wasm32", feature = "component")))]
pub(crate) fn call(reply: AddReply) -> u32 {
    super::ohd_add_reply(crate::wire::add_reply_json(&reply).as_bytes())
}

/// The call in this build's flavour: the reply as a record (component flavour); the
/// status.
#[cfg(all(target_arch = "wasm32", feature = "component"))]
pub(crate) fn call(reply: AddReply) -> u32 {
    super::ohd_add_reply(reply)
}

/// The stand-in: the contract's ticket rules decide, an accepted reply is recorded.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn native(payload: &[u8]) -> u32 {
    use crate::sys::native::{scope, with};
    use otai_plugin_abi::rules::ticket;
    use otai_plugin_abi::status;

    match scope(|scope| ticket::add_reply(scope, payload)) {
        Ok(reply) => {
            with(|s| s.recorded.replies.push(reply));
            status::OK
        }
        Err(refused) => refused.code(),
    }
}

/// `add-reply(reply)`, as `ohd_add_reply`'s status.
#[cfg(all(target_arch = "wasm32", feature = "component"))]
pub(crate) fn component(reply: AddReply) -> u32 {
    use crate::sys::component::{code, host, types::Reply};

    code(host::add_reply(&Reply {
        ticket_id: reply.ticket_id,
        body: reply.body,
        is_internal: reply.is_internal,
    }))
}
