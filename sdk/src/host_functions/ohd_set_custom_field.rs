//! `ohd_set_custom_field(ptr, len) -> status`: a custom field on the event's ticket. Its
//! public face is [`crate::ticket::set_custom_field`], which builds the field and reads
//! the status.

use otai_plugin_abi::calls::SetCustomField;

/// The call in this build's flavour: the field as JSON (core flavour, stand-in); the
/// status.
#[cfg(not(all(target_arch = "wasm32", feature = "component")))]
pub(crate) fn call(field: SetCustomField) -> u32 {
    super::ohd_set_custom_field(crate::wire::set_custom_field_json(&field).as_bytes())
}

/// The call in this build's flavour: the field as a record (component flavour); the
/// status.
#[cfg(all(target_arch = "wasm32", feature = "component"))]
pub(crate) fn call(field: SetCustomField) -> u32 {
    super::ohd_set_custom_field(field)
}

/// The stand-in: the contract's ticket rules decide, an accepted field is recorded.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn native(payload: &[u8]) -> u32 {
    use crate::sys::native::{scope, with};
    use otai_plugin_abi::rules::ticket;
    use otai_plugin_abi::status;

    match scope(|scope| ticket::set_custom_field(scope, payload)) {
        Ok(field) => {
            with(|s| s.recorded.custom_fields.push(field));
            status::OK
        }
        Err(refused) => refused.code(),
    }
}

/// `set-custom-field(field)`, as `ohd_set_custom_field`'s status.
#[cfg(all(target_arch = "wasm32", feature = "component"))]
pub(crate) fn component(field: SetCustomField) -> u32 {
    use crate::sys::component::{code, host, types::CustomField};

    code(host::set_custom_field(&CustomField {
        ticket_id: field.ticket_id,
        key: field.key,
        value: field.value,
    }))
}
