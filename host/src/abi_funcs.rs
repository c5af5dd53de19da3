//! The `ohd` host functions, as the ABI defines them.
//!
//! Every function takes `i32` arguments treated as `u32`. Every pointer and length is
//! bounds-checked (see [`crate::memory`]); an out-of-bounds buffer traps the delivery
//! with a message naming the function and the range. Malformed JSON is a status, never
//! a trap. None of these functions panics.
//!
//! | function | ABI | buffers |
//! |---|---|---|
//! | `ohd_log(ptr, len, level)` | one log line; levels 0–3, others logged at error | plugin-owned, read only |
//! | `ohd_http_request(req_ptr, req_len, resp_ptr_out, resp_len_out) -> status` | HTTP status, 0 = no response, 403 + `host_not_allowed` body = refused | the response body is allocated with the plugin's allocator and owned by the plugin; `(0, 0)` for an empty body |
//! | `ohd_add_reply(ptr, len) -> status` | 0 ok, 1 invalid, 2 wrong ticket, 3 too large, 4 not available | plugin-owned, read only |
//! | `ohd_set_custom_field(ptr, len) -> status` | as `ohd_add_reply` | plugin-owned, read only |
//! | `ohd_alloc(size) -> ptr`, `ohd_free(ptr, size)` | forward to the plugin's exported allocator | — |

use std::time::Instant;

use otai_plugin_abi::calls::{
    AddReply, HostError, HostErrorBody, HostErrorKind, HttpRequest, SetCustomField,
};
use otai_plugin_abi::limits::{
    MAX_CUSTOM_FIELD_KEY, MAX_CUSTOM_FIELD_VALUE, MAX_HTTP_REQUEST, MAX_HTTP_RESPONSE,
    MAX_LOG_LINE, MAX_REPLY,
};
use otai_plugin_abi::status::{self, LogLevel};
use otai_plugin_abi::wasm::{AllocatorKind, IMPORT_MODULE};
use wasmtime::{AsContextMut, Caller, Engine, Extern, Linker, Memory, TypedFunc};

use crate::http::check_request;
use crate::memory;
use crate::report::{CustomFieldSet, HttpError, HttpExchange, Reply};
use crate::state::{FreeFn, GuestTrap, Mode, State};

type Result<T> = wasmtime::Result<T>;

/// How much of a response body a report keeps.
const REPORT_BODY_MAX: usize = 16 * 1024;

/// The linker with every `ohd` function; one per host, shared by all plugins.
pub(crate) fn linker(engine: &Engine) -> Result<Linker<State>> {
    let mut linker = Linker::new(engine);
    linker.func_wrap(IMPORT_MODULE, "ohd_log", ohd_log)?;
    linker.func_wrap(IMPORT_MODULE, "ohd_http_request", ohd_http_request)?;
    linker.func_wrap(IMPORT_MODULE, "ohd_add_reply", ohd_add_reply)?;
    linker.func_wrap(IMPORT_MODULE, "ohd_set_custom_field", ohd_set_custom_field)?;
    linker.func_wrap(IMPORT_MODULE, "ohd_alloc", import_alloc)?;
    linker.func_wrap(IMPORT_MODULE, "ohd_free", import_free)?;
    Ok(linker)
}

fn memory(caller: &mut Caller<'_, State>, function: &'static str) -> Result<Memory> {
    if let Some(m) = caller.data().memory {
        return Ok(m);
    }
    // During the start function and `_initialize` the host has not looked it up yet.
    match caller.get_export("memory") {
        Some(Extern::Memory(m)) => Ok(m),
        _ => Err(GuestTrap::new(format!("{function}: the plugin exports no `memory`")).into()),
    }
}

fn alloc_fn(caller: &mut Caller<'_, State>) -> Result<TypedFunc<u32, u32>> {
    if let Some(f) = &caller.data().alloc {
        return Ok(f.clone());
    }
    let name = caller.data().allocator.alloc().name;
    match caller.get_export(name).and_then(Extern::into_func) {
        Some(f) => f.typed::<u32, u32>(&*caller),
        None => Err(GuestTrap::new(format!("the plugin exports no `{name}`")).into()),
    }
}

fn free_fn(caller: &mut Caller<'_, State>) -> Result<FreeFn> {
    if let Some(f) = &caller.data().free {
        return Ok(f.clone());
    }
    let kind = caller.data().allocator;
    let name = kind.free().name;
    let Some(func) = caller.get_export(name).and_then(Extern::into_func) else {
        return Err(GuestTrap::new(format!("the plugin exports no `{name}`")).into());
    };
    Ok(match kind {
        AllocatorKind::Ohd => FreeFn::Ohd(func.typed(&*caller)?),
        AllocatorKind::Libc => FreeFn::Libc(func.typed(&*caller)?),
    })
}

/// Calls the guest allocator for `size` bytes and checks the result: 0 for a non-zero
/// size is an allocation failure, a block outside memory is a broken allocator.
pub(crate) fn guest_alloc(
    mut store: impl AsContextMut<Data = State>,
    alloc: TypedFunc<u32, u32>,
    function: &'static str,
    memory: Memory,
    size: u32,
) -> Result<u32> {
    let name = store.as_context().data().allocator.alloc().name;
    let ptr = alloc.call(&mut store, size)?;
    if ptr == 0 && size > 0 {
        return Err(GuestTrap::new(format!(
            "{function}: allocation failed: the plugin's `{name}` returned 0 for {size} bytes"
        ))
        .into());
    }
    let len = memory.data_size(&store);
    memory::range(function, "block from the allocator", ptr, size, len)?;
    Ok(ptr)
}

/// Frees a block with the guest's deallocator.
pub(crate) fn guest_free(
    store: impl AsContextMut<Data = State>,
    free: &FreeFn,
    ptr: u32,
    size: u32,
) -> Result<()> {
    match free {
        FreeFn::Ohd(f) => f.call(store, (ptr, size)),
        FreeFn::Libc(f) => f.call(store, ptr),
    }
}

/// `ohd_log(ptr, len, level)`.
fn ohd_log(mut caller: Caller<'_, State>, ptr: u32, len: u32, level: u32) -> Result<()> {
    const F: &str = "ohd_log";
    let mem = memory(&mut caller, F)?;
    let level = LogLevel::from_code(level);
    if caller.data().logs.is_full() {
        memory::range(F, "buffer", ptr, len, mem.data_size(&caller))?;
        caller.data_mut().logs.count_dropped(len);
        return Ok(());
    }
    // Only the part that can be kept is copied; a little more so that a cut at the
    // limit still sees whole characters.
    let bytes = memory::read_prefix(&caller, mem, F, ptr, len, MAX_LOG_LINE + 4)?;
    caller.data_mut().logs.push(level, &bytes, len as usize);
    Ok(())
}

/// Reads a ticket-operation payload: bounds (trap), mode, size (statuses).
fn ticket_payload(
    caller: &mut Caller<'_, State>,
    function: &'static str,
    ptr: u32,
    len: u32,
) -> Result<std::result::Result<(Vec<u8>, String), u32>> {
    let mem = memory(caller, function)?;
    memory::range(function, "buffer", ptr, len, mem.data_size(&*caller))?;
    let ticket_id = match &caller.data().mode {
        Mode::Event { ticket_id } => ticket_id.clone(),
        Mode::Panel => return Ok(Err(status::NOT_AVAILABLE)),
    };
    if len as usize > MAX_REPLY {
        return Ok(Err(status::TOO_LARGE));
    }
    Ok(Ok((
        memory::read(&*caller, mem, function, ptr, len)?,
        ticket_id,
    )))
}

/// `ohd_add_reply(ptr, len) -> status`.
fn ohd_add_reply(mut caller: Caller<'_, State>, ptr: u32, len: u32) -> Result<u32> {
    let (bytes, ticket_id) = match ticket_payload(&mut caller, "ohd_add_reply", ptr, len)? {
        Ok(v) => v,
        Err(code) => return Ok(code),
    };
    let Ok(reply) = serde_json::from_slice::<AddReply>(&bytes) else {
        return Ok(status::INVALID_REQUEST);
    };
    if reply.ticket_id != ticket_id {
        return Ok(status::WRONG_TICKET);
    }
    if reply.body.trim().is_empty() {
        return Ok(status::INVALID_REQUEST);
    }
    caller.data_mut().replies.push(Reply {
        ticket_id: reply.ticket_id,
        body: reply.body,
        is_internal: reply.is_internal,
    });
    Ok(status::OK)
}

/// `ohd_set_custom_field(ptr, len) -> status`.
fn ohd_set_custom_field(mut caller: Caller<'_, State>, ptr: u32, len: u32) -> Result<u32> {
    let (bytes, ticket_id) = match ticket_payload(&mut caller, "ohd_set_custom_field", ptr, len)? {
        Ok(v) => v,
        Err(code) => return Ok(code),
    };
    let Ok(field) = serde_json::from_slice::<SetCustomField>(&bytes) else {
        return Ok(status::INVALID_REQUEST);
    };
    if field.ticket_id != ticket_id {
        return Ok(status::WRONG_TICKET);
    }
    if field.key.is_empty() {
        return Ok(status::INVALID_REQUEST);
    }
    if field.key.len() > MAX_CUSTOM_FIELD_KEY || field.value.len() > MAX_CUSTOM_FIELD_VALUE {
        return Ok(status::TOO_LARGE);
    }
    caller.data_mut().custom_fields.push(CustomFieldSet {
        ticket_id: field.ticket_id,
        key: field.key,
        value: field.value,
    });
    Ok(status::OK)
}

/// `ohd_alloc(size) -> ptr` import: forwards to the plugin's own allocator export.
fn import_alloc(mut caller: Caller<'_, State>, size: u32) -> Result<u32> {
    if caller.data().forwarding {
        return Err(GuestTrap::new(
            "ohd_alloc: the plugin's allocator export calls the `ohd.ohd_alloc` import back (endless recursion)",
        )
        .into());
    }
    let f = alloc_fn(&mut caller)?;
    caller.data_mut().forwarding = true;
    let result = f.call(&mut caller, size);
    caller.data_mut().forwarding = false;
    result
}

/// `ohd_free(ptr, size)` import: forwards to the plugin's own deallocator export
/// (`free(ptr)` for a libc pair, ignoring `size`).
fn import_free(mut caller: Caller<'_, State>, ptr: u32, size: u32) -> Result<()> {
    if caller.data().forwarding {
        return Err(GuestTrap::new(
            "ohd_free: the plugin's deallocator export calls the `ohd.ohd_free` import back (endless recursion)",
        )
        .into());
    }
    let f = free_fn(&mut caller)?;
    caller.data_mut().forwarding = true;
    let result = guest_free(&mut caller, &f, ptr, size);
    caller.data_mut().forwarding = false;
    result
}

/// What the host answers an HTTP request with, before it is written to the guest.
struct Answer {
    status: u32,
    body: Vec<u8>,
    error: Option<HttpError>,
    blocked: bool,
}

fn host_answer(kind: HostErrorKind, message: String, host: Option<String>) -> Answer {
    let body = HostErrorBody {
        ohd_error: HostError {
            kind,
            message: message.clone(),
            host,
        },
    };
    Answer {
        status: kind.status(),
        body: serde_json::to_vec(&body).unwrap_or_default(),
        error: Some(HttpError { kind, message }),
        blocked: kind == HostErrorKind::HostNotAllowed,
    }
}

fn placeholder_request() -> HttpRequest {
    HttpRequest {
        method: String::new(),
        url: String::new(),
        headers: Default::default(),
        body: None,
    }
}

/// `ohd_http_request(req_ptr, req_len, resp_ptr_out, resp_len_out) -> status`.
fn ohd_http_request(
    mut caller: Caller<'_, State>,
    req_ptr: u32,
    req_len: u32,
    resp_ptr_out: u32,
    resp_len_out: u32,
) -> Result<u32> {
    const F: &str = "ohd_http_request";
    let mem = memory(&mut caller, F)?;
    let size = mem.data_size(&caller);
    memory::range(F, "buffer", req_ptr, req_len, size)?;
    memory::range(F, "resp_ptr_out", resp_ptr_out, 4, size)?;
    memory::range(F, "resp_len_out", resp_len_out, 4, size)?;

    let mut request = placeholder_request();
    let mut deadline_hit = false;
    let answer = if req_len as usize > MAX_HTTP_REQUEST {
        host_answer(
            HostErrorKind::InvalidRequest,
            format!("the request JSON is {req_len} bytes, over the limit of {MAX_HTTP_REQUEST}"),
            None,
        )
    } else {
        let bytes = memory::read(&caller, mem, F, req_ptr, req_len)?;
        match serde_json::from_slice::<HttpRequest>(&bytes) {
            Err(e) => host_answer(
                HostErrorKind::InvalidRequest,
                format!("invalid request JSON: {e}"),
                None,
            ),
            Ok(parsed) => {
                request = parsed;
                match check_request(&request, &caller.data().allowed_hosts) {
                    Err(refusal) => host_answer(refusal.kind, refusal.message, refusal.host),
                    Ok(()) => {
                        let deadline = caller.data().deadline;
                        let remaining = deadline.saturating_duration_since(Instant::now());
                        if remaining.is_zero() {
                            return Err(GuestTrap::deadline(F).into());
                        }
                        let transport = caller.data().transport.clone();
                        let result = transport.send(&request, remaining);
                        deadline_hit = Instant::now() >= deadline;
                        match result {
                            Ok(resp) if resp.body.len() > MAX_HTTP_RESPONSE => host_answer(
                                HostErrorKind::ResponseTooLarge,
                                format!(
                                    "the response body is larger than {MAX_HTTP_RESPONSE} bytes"
                                ),
                                None,
                            ),
                            Ok(resp) => Answer {
                                status: u32::from(resp.status),
                                body: resp.body,
                                error: None,
                                blocked: false,
                            },
                            Err(e) => host_answer(e.kind, e.message, None),
                        }
                    }
                }
            }
        }
    };

    let response_body = answer.error.is_none().then(|| {
        let end = answer.body.len().min(REPORT_BODY_MAX);
        String::from_utf8_lossy(answer.body.get(..end).unwrap_or_default()).into_owned()
    });
    caller.data_mut().http.push(HttpExchange {
        request,
        status: answer.status,
        blocked: answer.blocked,
        error: answer.error,
        response_body,
    });
    if deadline_hit {
        // The deadline covers host calls: the delivery is over even if the guest
        // would go on.
        return Err(GuestTrap::deadline(F).into());
    }

    let (ptr, len) = if answer.body.is_empty() {
        (0, 0)
    } else {
        let len = u32::try_from(answer.body.len()).unwrap_or(u32::MAX);
        let alloc = alloc_fn(&mut caller)?;
        let ptr = guest_alloc(&mut caller, alloc, F, mem, len)?;
        memory::write(&mut caller, mem, F, "response buffer", ptr, &answer.body)?;
        (ptr, len)
    };
    memory::write(
        &mut caller,
        mem,
        F,
        "resp_ptr_out",
        resp_ptr_out,
        &ptr.to_le_bytes(),
    )?;
    memory::write(
        &mut caller,
        mem,
        F,
        "resp_len_out",
        resp_len_out,
        &len.to_le_bytes(),
    )?;
    Ok(answer.status)
}
