//! The `ohd` host functions, as the ABI defines them.
//!
//! Every function takes `i32` arguments treated as `u32`. Every pointer and length is
//! bounds-checked (see [`crate::memory`]); an out-of-bounds buffer traps the delivery
//! with a message naming the function and the range. Malformed JSON is a status, never
//! a trap. None of these functions panics.
//!
//! What each returns is the table of docs/ABI.md section 3, generated from
//! `otai_plugin_abi::wasm::HOST_FUNCTIONS`; who owns which buffer is section 4. Only the
//! response body of `ohd_http_request` is written into the plugin's memory, with its own
//! allocator; `ohd_alloc` and `ohd_free` forward to that allocator.

use std::time::Instant;

use otai_plugin_abi::calls::{AddReply, HostErrorKind, HttpRequest, SetCustomField};
use otai_plugin_abi::limits::{MAX_HTTP_RESPONSE, MAX_LOG_LINE};
use otai_plugin_abi::rules::http::{
    RequestRefusal, check_request, decode_request, error_body, normalize_allowed_host,
};
use otai_plugin_abi::rules::ticket::{self, TicketCallError, TicketScope};
use otai_plugin_abi::status::{self, LogLevel};
use otai_plugin_abi::wasm::{
    AllocatorKind, IMPORT_MODULE, OHD_ADD_REPLY, OHD_HTTP_REQUEST, OHD_LOG, OHD_SET_CUSTOM_FIELD,
};
use wasmtime::{AsContextMut, Caller, Engine, Extern, Func, Linker, Memory};

use crate::guest_func::GuestFn;
use crate::memory;
use crate::report::{CustomFieldSet, HostCall, HttpError, HttpExchange, Reply};
use crate::state::{FreeFn, GuestTrap, Mode, State};

type Result<T> = wasmtime::Result<T>;

/// How much of a response body a report keeps unless the host is told otherwise
/// ([`HostBuilder::report_body_bytes`](crate::HostBuilder::report_body_bytes)).
pub(crate) const REPORT_BODY_MAX: usize = 16 * 1024;

/// The linker with every `ohd` function; one per host, shared by all plugins.
///
/// Expanded from the ABI's table (`otai_plugin_abi::for_each_host_function!`): each row
/// is defined by the function of this module with the row's name, whose parameters and
/// result the row gives, so a row without its function here, or with another
/// signature, does not compile; the test below also instantiates every row.
pub(crate) fn linker(engine: &Engine) -> Result<Linker<State>> {
    let mut linker = Linker::new(engine);
    macro_rules! define {
        (@u32 $any:ident) => {
            u32
        };
        (@result) => {
            ()
        };
        (@result $result:ident) => {
            u32
        };
        ($($group:ident {
            $(
                $(#[$doc:meta])*
                $constant:ident: fn $name:ident($($param:ident),*) $(-> $result:ident)?;
                    returns $returns:literal;
                    $(wit $wit:literal;)?
                    since $since:literal;
                    call $call:ident;
            )*
        })*) => {
            $($({
                let function: fn(Caller<'_, State>, $(define!(@u32 $param)),*)
                    -> Result<define!(@result $($result)?)> = $name;
                linker.func_wrap(IMPORT_MODULE, otai_plugin_abi::wasm::$constant.name, function)?;
            })*)*
        };
    }
    otai_plugin_abi::for_each_host_function!(define);
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

fn alloc_fn(caller: &mut Caller<'_, State>) -> Result<GuestFn<u32, u32>> {
    if let Some(f) = caller.data().alloc {
        return Ok(f);
    }
    // During the start function and `_initialize` the host has not set it up yet.
    let name = allocator(caller.data())?.alloc().name;
    let func = export_by_name(caller, name)?;
    Ok(GuestFn::checked(&*caller, func, name).map_err(GuestTrap::new)?)
}

fn free_fn(caller: &mut Caller<'_, State>) -> Result<FreeFn> {
    if let Some(f) = caller.data().free {
        return Ok(f);
    }
    let kind = allocator(caller.data())?;
    let name = kind.free().name;
    let func = export_by_name(caller, name)?;
    let free = match kind {
        AllocatorKind::Ohd => GuestFn::checked(&*caller, func, name).map(FreeFn::Ohd),
        AllocatorKind::Libc => GuestFn::checked(&*caller, func, name).map(FreeFn::Libc),
    };
    Ok(free.map_err(GuestTrap::new)?)
}

fn export_by_name(caller: &mut Caller<'_, State>, name: &str) -> Result<Func> {
    caller
        .get_export(name)
        .and_then(Extern::into_func)
        .ok_or_else(|| GuestTrap::new(format!("the plugin exports no `{name}`")).into())
}

/// The plugin's allocator pair: a core module's (a component has none, and never calls
/// the core host functions).
fn allocator(state: &State) -> Result<AllocatorKind> {
    state
        .allocator
        .ok_or_else(|| GuestTrap::new("the plugin exports no allocator").into())
}

/// Calls the guest allocator for `size` bytes and checks the result: 0 for a non-zero
/// size is an allocation failure, a block outside memory is a broken allocator.
pub(crate) fn guest_alloc(
    mut store: impl AsContextMut<Data = State>,
    alloc: GuestFn<u32, u32>,
    function: &'static str,
    memory: Memory,
    size: u32,
) -> Result<u32> {
    let name = allocator(store.as_context().data())?.alloc().name;
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
    const F: &str = OHD_LOG.name;
    let mem = memory(&mut caller, F)?;
    let level = LogLevel::from_code(level);
    caller.data_mut().last_call_logged_error = false;
    if caller.data().logs.is_full() {
        memory::range(F, "buffer", ptr, len, mem.data_size(&caller))?;
        let state = caller.data_mut();
        state.logs.count_dropped(len);
        state.record(HostCall::OhdLog { line: None });
        return Ok(());
    }
    // Only the part that can be kept is copied; a little more so that a cut at the
    // limit still sees whole characters.
    let bytes = memory::read_prefix(&caller, mem, F, ptr, len, LOG_PREFIX)?;
    keep_log_line(caller.data_mut(), level, &bytes, len as usize);
    Ok(())
}

/// How much of a log line is read: the most that can be kept, and a little more so that
/// a cut at the limit still sees whole characters.
pub(crate) const LOG_PREFIX: usize = MAX_LOG_LINE + 4;

/// Keeps one log line, given as (a prefix of) its bytes and its whole length, with the
/// per-line and per-delivery caps (both flavours).
pub(crate) fn keep_log_line(state: &mut State, level: LogLevel, bytes: &[u8], full_len: usize) {
    let before = state.logs.lines.len();
    state.logs.push(level, bytes, full_len);
    let kept = state.logs.lines.len() > before;
    state.last_call_logged_error = kept && level == LogLevel::Error;
    state.record(HostCall::OhdLog {
        line: kept.then_some(before),
    });
}

/// Runs one ticket operation: the buffer is bounds-checked (a trap), then judged by
/// `rule` in place, without copying it out of guest memory.
fn ticket_call<T>(
    caller: &mut Caller<'_, State>,
    function: &'static str,
    ptr: u32,
    len: u32,
    rule: fn(TicketScope<'_>, &[u8]) -> std::result::Result<T, TicketCallError>,
) -> Result<std::result::Result<T, TicketCallError>> {
    caller.data_mut().last_call_logged_error = false;
    let mem = memory(caller, function)?;
    let (data, state) = mem.data_and_store_mut(caller);
    let range = memory::range(function, "buffer", ptr, len, data.len())?;
    Ok(rule(
        ticket_scope(&state.mode),
        data.get(range).unwrap_or_default(),
    ))
}

/// `ohd_add_reply(ptr, len) -> status`.
fn ohd_add_reply(mut caller: Caller<'_, State>, ptr: u32, len: u32) -> Result<u32> {
    let result = ticket_call(&mut caller, OHD_ADD_REPLY.name, ptr, len, ticket::add_reply)?;
    Ok(add_reply(caller.data_mut(), result))
}

/// Records what a reply call decided and returns its status (both flavours).
pub(crate) fn add_reply(
    state: &mut State,
    result: std::result::Result<AddReply, TicketCallError>,
) -> u32 {
    match result {
        Ok(reply) => {
            state.record(HostCall::OhdAddReply {
                status: status::OK,
                reply: Some(state.replies.len()),
            });
            state.replies.push(Reply {
                ticket_id: reply.ticket_id,
                body: reply.body,
                is_internal: reply.is_internal,
            });
            status::OK
        }
        Err(refused) => {
            let status = refused.code();
            state.record(HostCall::OhdAddReply {
                status,
                reply: None,
            });
            status
        }
    }
}

/// `ohd_set_custom_field(ptr, len) -> status`.
fn ohd_set_custom_field(mut caller: Caller<'_, State>, ptr: u32, len: u32) -> Result<u32> {
    let function = OHD_SET_CUSTOM_FIELD.name;
    let result = ticket_call(&mut caller, function, ptr, len, ticket::set_custom_field)?;
    Ok(set_custom_field(caller.data_mut(), result))
}

/// Records what a custom field call decided and returns its status (both flavours).
pub(crate) fn set_custom_field(
    state: &mut State,
    result: std::result::Result<SetCustomField, TicketCallError>,
) -> u32 {
    match result {
        Ok(field) => {
            state.record(HostCall::OhdSetCustomField {
                status: status::OK,
                field: Some(state.custom_fields.len()),
            });
            state.custom_fields.push(CustomFieldSet {
                ticket_id: field.ticket_id,
                key: field.key,
                value: field.value,
            });
            status::OK
        }
        Err(refused) => {
            let status = refused.code();
            state.record(HostCall::OhdSetCustomField {
                status,
                field: None,
            });
            status
        }
    }
}

/// The scope of a ticket operation in the current call.
pub(crate) fn ticket_scope(mode: &Mode) -> TicketScope<'_> {
    match mode {
        Mode::Event { ticket_id } => TicketScope::Event { ticket_id },
        Mode::Panel => TicketScope::Panel,
    }
}

/// `ohd_alloc(size) -> ptr` import: forwards to the plugin's own allocator export.
fn ohd_alloc(mut caller: Caller<'_, State>, size: u32) -> Result<u32> {
    if caller.data().forwarding {
        return Err(GuestTrap::new(
            "ohd_alloc: the plugin's allocator export calls the `ohd.ohd_alloc` import back (endless recursion)",
        )
        .into());
    }
    let f = alloc_fn(&mut caller)?;
    caller.data_mut().forwarding = true;
    let result = f.call(&mut caller, size);
    let state = caller.data_mut();
    state.forwarding = false;
    if let Ok(ptr) = result {
        state.record(HostCall::OhdAlloc { size, ptr });
    }
    result
}

/// `ohd_free(ptr, size)` import: forwards to the plugin's own deallocator export
/// (`free(ptr)` for a libc pair, ignoring `size`).
fn ohd_free(mut caller: Caller<'_, State>, ptr: u32, size: u32) -> Result<()> {
    if caller.data().forwarding {
        return Err(GuestTrap::new(
            "ohd_free: the plugin's deallocator export calls the `ohd.ohd_free` import back (endless recursion)",
        )
        .into());
    }
    let f = free_fn(&mut caller)?;
    caller.data_mut().forwarding = true;
    let result = guest_free(&mut caller, &f, ptr, size);
    let state = caller.data_mut();
    state.forwarding = false;
    if result.is_ok() {
        state.record(HostCall::OhdFree { ptr, size });
    }
    result
}

/// What the host answers an HTTP request with, before it is handed to the guest.
pub(crate) struct Answer {
    /// The status `ohd_http_request` returns.
    pub(crate) status: u32,
    /// The server's body, or the host's error body.
    pub(crate) body: Vec<u8>,
    /// Set when the status came from the host.
    pub(crate) error: Option<HttpError>,
    blocked: bool,
}

fn host_answer(kind: HostErrorKind, message: String, host: Option<&str>) -> Answer {
    Answer {
        status: kind.status(),
        body: error_body(kind, &message, host),
        error: Some(HttpError {
            kind,
            message,
            host: host.map(str::to_owned),
        }),
        blocked: kind == HostErrorKind::HostNotAllowed,
    }
}

fn refused(refusal: RequestRefusal) -> Answer {
    host_answer(refusal.kind, refusal.message, refusal.host.as_deref())
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
    const F: &str = OHD_HTTP_REQUEST.name;
    caller.data_mut().last_call_logged_error = false;
    let mem = memory(&mut caller, F)?;
    let data = mem.data(&caller);
    let request_range = memory::range(F, "buffer", req_ptr, req_len, data.len())?;
    memory::range(F, "resp_ptr_out", resp_ptr_out, 4, data.len())?;
    memory::range(F, "resp_len_out", resp_len_out, 4, data.len())?;
    // Decoded in place: an oversized request is refused without being copied.
    let decoded = decode_request(data.get(request_range).unwrap_or_default());
    let answer = exchange(caller.data_mut(), decoded, F)?;

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
    record_exchange(caller.data_mut());
    Ok(answer.status)
}

/// Records the latest HTTP exchange as a call that returned to the plugin.
pub(crate) fn record_exchange(state: &mut State) {
    let exchange = state.http.len().saturating_sub(1);
    state.record(HostCall::OhdHttpRequest { exchange });
}

/// Everything an HTTP request does between reading it from the plugin and handing the
/// answer back (both flavours): the checks, the transport with the time that remains,
/// the exchange in the report. A deadline that ran out (before or during the request)
/// is a trap of the delivery.
pub(crate) fn exchange(
    state: &mut State,
    decoded: std::result::Result<HttpRequest, RequestRefusal>,
    function: &'static str,
) -> Result<Answer> {
    let mut request = placeholder_request();
    let mut deadline_hit = false;
    let answer = match decoded {
        Err(refusal) => refused(refusal),
        Ok(parsed) => {
            request = parsed;
            match check_request(&request, &state.outbound.allowed_hosts) {
                Err(refusal) => refused(refusal),
                Ok(url) => {
                    // What goes out is the URL that was judged, as the URL standard
                    // writes it: a form the parser read one way and a client another
                    // (`\@`, `%2e`, full-width dots) cannot reach another host.
                    let url_host = normalize_allowed_host(url.host_str().unwrap_or_default());
                    request.url = url.into();
                    let deadline = state.deadline;
                    let remaining = deadline.saturating_duration_since(Instant::now());
                    if remaining.is_zero() {
                        return Err(GuestTrap::deadline(function).into());
                    }
                    let result = state.outbound.transport.send(&request, remaining);
                    deadline_hit = Instant::now() >= deadline;
                    match result {
                        Ok(resp) if resp.body.len() > MAX_HTTP_RESPONSE => host_answer(
                            HostErrorKind::ResponseTooLarge,
                            format!("the response body is larger than {MAX_HTTP_RESPONSE} bytes"),
                            None,
                        ),
                        Ok(resp) => Answer {
                            status: u32::from(resp.status),
                            body: resp.body,
                            error: None,
                            blocked: false,
                        },
                        Err(e) => {
                            // The refusal names the host the allow-list judged, as
                            // `host_not_allowed` does.
                            let host = (e.kind == HostErrorKind::AddressNotAllowed)
                                .then_some(url_host.as_str());
                            host_answer(e.kind, e.message, host)
                        }
                    }
                }
            }
        }
    };

    // A host that records calls reports what the plugin received, all of it: the
    // transcript of a conformance driver compares it.
    let keep = if state.calls.is_some() {
        MAX_HTTP_RESPONSE
    } else {
        state.outbound.report_body_bytes
    };
    let response_body = answer.error.is_none().then(|| {
        let end = answer.body.len().min(keep);
        String::from_utf8_lossy(answer.body.get(..end).unwrap_or_default()).into_owned()
    });
    state.http.push(HttpExchange {
        request,
        status: answer.status,
        blocked: answer.blocked,
        error: answer.error.clone(),
        response_body,
    });
    if deadline_hit {
        // The deadline covers host calls: the delivery is over even if the guest
        // would go on.
        return Err(GuestTrap::deadline(function).into());
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use otai_plugin_abi::wasm::{HOST_FUNCTIONS, HostFunction, ValType};
    use wasmtime::{Config, Module};

    use super::*;

    fn wat_types(types: &[ValType]) -> String {
        types.iter().map(|t| format!(" {t}")).collect()
    }

    /// A module that imports `f` under its ABI name with `params -> results`.
    fn importing(f: &HostFunction, params: &[ValType], results: &[ValType]) -> Vec<u8> {
        let wat = format!(
            r#"(module (import "{IMPORT_MODULE}" "{}" (func (param{}) (result{}))))"#,
            f.name,
            wat_types(params),
            wat_types(results)
        );
        wat::parse_str(&wat).unwrap()
    }

    #[test]
    fn the_linker_defines_every_host_function_of_the_table_with_its_signature() {
        let engine = Engine::new(&Config::new()).unwrap();
        let linker = linker(&engine).unwrap();
        for f in HOST_FUNCTIONS {
            let ok = Module::new(&engine, importing(f, f.ty.params, f.ty.results)).unwrap();
            if let Err(e) = linker.instantiate_pre(&ok) {
                panic!(
                    "`ohd.{}` {} is not defined by the linker: {e:#}",
                    f.name, f.ty
                );
            }
            // One parameter more than the ABI says: the linker must not accept it, or it
            // defined the function with another signature than the table's.
            let mut params = f.ty.params.to_vec();
            params.push(ValType::I32);
            let wrong = Module::new(&engine, importing(f, &params, f.ty.results)).unwrap();
            assert!(
                linker.instantiate_pre(&wrong).is_err(),
                "`ohd.{}` links with the wrong signature",
                f.name
            );
        }
    }
}
