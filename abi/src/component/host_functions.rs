// The functions of the component flavour's host interface, each beside its core
// twin, included by `abi/src/component.rs`: generated from `wit/ohd-plugin.wit` by
// `abi/tests/generated.rs`. Do not edit: change the WIT, then
// `OTAI_BLESS=1 cargo test --workspace --test generated`.

/// `log: func(level: log-level, message: string)`, [`wasm::OHD_LOG`]'s twin.
pub const LOG: WitFunction = WitFunction {
    name: "log",
    core: wasm::OHD_LOG,
    ty: "func(level: enum{debug, info, warn, error}, message: string)",
};

/// `http-request: func(request: request) -> result<response, request-error>`, [`wasm::OHD_HTTP_REQUEST`]'s twin.
pub const HTTP_REQUEST: WitFunction = WitFunction {
    name: "http-request",
    core: wasm::OHD_HTTP_REQUEST,
    ty: "func(request: record{method: enum{get, head, post, put, patch, delete}, url: string, headers: list<tuple<string, string>>, body: option<string>}) -> result<record{status: u16, body: list<u8>}, variant{host-not-allowed(record{host: string, message: string}), invalid-request(string), network(string), timeout(string), response-too-large(string)}>",
};

/// `add-reply: func(reply: reply) -> result<_, call-error>`, [`wasm::OHD_ADD_REPLY`]'s twin.
pub const ADD_REPLY: WitFunction = WitFunction {
    name: "add-reply",
    core: wasm::OHD_ADD_REPLY,
    ty: "func(reply: record{ticket-id: string, body: string, is-internal: bool}) -> result<_, enum{invalid-request, wrong-ticket, too-large, not-available}>",
};

/// `set-custom-field: func(field: custom-field) -> result<_, call-error>`, [`wasm::OHD_SET_CUSTOM_FIELD`]'s twin.
pub const SET_CUSTOM_FIELD: WitFunction = WitFunction {
    name: "set-custom-field",
    core: wasm::OHD_SET_CUSTOM_FIELD,
    ty: "func(field: record{ticket-id: string, key: string, value: string}) -> result<_, enum{invalid-request, wrong-ticket, too-large, not-available}>",
};

/// Every function of [`HOST_INTERFACE`]. Every one is optional for a plugin. The core
/// allocator imports have no twin: the canonical ABI moves strings and lists itself.
pub const HOST_FUNCTIONS: &[WitFunction] = &[LOG, HTTP_REQUEST, ADD_REPLY, SET_CUSTOM_FIELD];
