//! The `ohd` host functions, one file per row of the ABI's table
//! (`otai_plugin_abi::for_each_host_function!`), and what they share.
//!
//! A function's file holds all of it: the core import (`$name::$name`, a `fn` of the
//! row's parameters, each an `i32` taken as `u32`), its component twin (`$name::twin`,
//! which registers itself on the component linker's `ohd:plugin/host` instance, for a
//! row with a `wit` column), the logic both share, and the entry in a conformance
//! transcript of the record a call leaves in a report (`impl Transcript`; the record is
//! the row's `call` column, expanded with [`HostCall`](crate::HostCall) in
//! `report.rs`, below every function) with the entry's description in
//! `conformance/README.md` (`TRANSCRIPT`). The modules, the core linker, the component
//! linker and `HostCall` are expanded from the table: a row without its file, its core
//! function of the row's signature, its twin (when the row has a `wit`) or its
//! transcript entry does not compile.
//!
//! Every pointer and length is bounds-checked (see [`crate::memory`]); an out-of-bounds
//! buffer traps the delivery with a message naming the function and the range.
//! Malformed JSON is a status, never a trap. None of these functions panics. What each
//! returns is the table of docs/ABI.md section 3; who owns which buffer is section 4.
//! Only blocks the host hands over (the response body of `ohd_http_request`) are
//! written into the plugin's memory, with its own allocator; `ohd_alloc` and
//! `ohd_free` forward to that allocator.

use otai_plugin_abi::rules::ticket::{TicketCallError, TicketScope};
use otai_plugin_abi::wasm::{AllocatorKind, IMPORT_MODULE};
use wasmtime::component::Linker as ComponentLinker;
use wasmtime::{AsContextMut, Caller, Engine, Extern, Func, Linker, Memory};

use crate::guest_func::GuestFn;
use crate::memory;
use crate::state::{FreeFn, GuestTrap, Mode, State};

/// One module per row of the table, named after the import: a row without its file is a
/// compile error naming the file.
macro_rules! modules {
    ($($group:ident {
        $(
            $(#[$doc:meta])*
            $constant:ident: fn $name:ident($($param:ident),*) $(-> $result:ident)?;
                returns $returns:literal;
                $(wit $wit:literal;)?
                since $since:literal;
                call $call:ident $record:tt;
        )*
    })*) => {
        $($(
            pub(crate) mod $name;
        )*)*
    };
}
otai_plugin_abi::for_each_host_function!(modules);

pub(crate) type Result<T> = wasmtime::Result<T>;

/// How much of a response body a report keeps unless the host is told otherwise
/// ([`HostBuilder::report_body_bytes`](crate::HostBuilder::report_body_bytes)).
pub(crate) const REPORT_BODY_MAX: usize = 16 * 1024;

/// The core linker with every `ohd` function; one per host, shared by all plugins.
///
/// Each row is defined by the function of its module with the row's name, whose
/// parameters and result the row gives, so a row without its function, or with another
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
                    call $call:ident $record:tt;
            )*
        })*) => {
            $($({
                let function: fn(Caller<'_, State>, $(define!(@u32 $param)),*)
                    -> Result<define!(@result $($result)?)> = $name::$name;
                linker.func_wrap(IMPORT_MODULE, otai_plugin_abi::wasm::$constant.name, function)?;
            })*)*
        };
    }
    otai_plugin_abi::for_each_host_function!(define);
    Ok(linker)
}

/// The component linker with every twin; one per host, shared by all plugins.
///
/// Each row with a `wit` column is registered by the `twin` of its module, under the
/// name the column gives, on the `ohd:plugin/host` instance: a row with a `wit` and no
/// twin does not compile, and a twin of another shape than the WIT's makes every
/// component importing it fail to instantiate (the tests of both worlds). The types of
/// the records are `bindgen!`'s ([`bindings`]); its `add_to_linker` is not used, so
/// that no trait lists the functions a second time.
pub(crate) fn component_linker(engine: &Engine) -> Result<ComponentLinker<State>> {
    let mut linker = ComponentLinker::new(engine);
    // The types interface declares no function: an empty instance satisfies it.
    linker.instance(otai_plugin_abi::component::TYPES_INTERFACE)?;
    let mut host = linker.instance(otai_plugin_abi::component::HOST_INTERFACE)?;
    macro_rules! twins {
        ($($group:ident {
            $(
                $(#[$doc:meta])*
                $constant:ident: fn $name:ident($($param:ident),*) $(-> $result:ident)?;
                    returns $returns:literal;
                    $(wit $wit:literal;)?
                    since $since:literal;
                    call $call:ident $record:tt;
            )*
        })*) => {
            $($($(
                $name::twin(&mut host, wit_name($wit))?;
            )?)*)*
        };
    }
    otai_plugin_abi::for_each_host_function!(twins);
    Ok(linker)
}

/// The function's name in a `wit` column, `log` of `log: func(…)`.
fn wit_name(wit: &'static str) -> &'static str {
    wit.split_once(':').map_or(wit, |(name, _)| name.trim())
}

/// The generated bindings of the WIT, for the types of the twins' records and the
/// worlds' exports; kept private.
pub(crate) mod bindings {
    /// The world `plugin`: `on-event`, and the host functions.
    pub(crate) mod plugin {
        wasmtime::component::bindgen!({
            // This crate's own copy of the workspace's `wit/`, so that the packaged crate
            // builds; `tests/tests/packaging.rs` holds the two identical.
            path: "wit",
            world: "plugin",
            imports: { default: trappable },
        });
    }

    /// The world `plugin-with-panel`: `render-panel` too, with the host functions of
    /// [`plugin`].
    pub(crate) mod panel {
        wasmtime::component::bindgen!({
            path: "wit",
            world: "plugin-with-panel",
            imports: { default: trappable },
            with: {
                "ohd:plugin/types": crate::functions::bindings::plugin::ohd::plugin::types,
                "ohd:plugin/host": crate::functions::bindings::plugin::ohd::plugin::host,
            },
        });
    }

    pub(crate) use plugin::ohd::plugin::types;
}

/// The plugin's memory, for a host function.
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

/// Where a function hands a block over (`resp_ptr_out`, `resp_len_out`): both are
/// bounds-checked before the call does anything, so that a bad pointer traps before
/// the host acts on the call.
#[derive(Clone, Copy)]
struct HandOver {
    memory: Memory,
    ptr_out: u32,
    len_out: u32,
}

impl HandOver {
    fn check(
        caller: &mut Caller<'_, State>,
        function: &'static str,
        ptr_out: u32,
        len_out: u32,
    ) -> Result<HandOver> {
        let memory = memory(caller, function)?;
        let len = memory.data_size(&*caller);
        memory::range(function, "resp_ptr_out", ptr_out, 4, len)?;
        memory::range(function, "resp_len_out", len_out, 4, len)?;
        Ok(HandOver {
            memory,
            ptr_out,
            len_out,
        })
    }

    /// Copies `bytes` into a block of the plugin's allocator (none for no bytes) and
    /// writes its address and length to the out-pointers.
    fn write(
        self,
        caller: &mut Caller<'_, State>,
        function: &'static str,
        bytes: &[u8],
    ) -> Result<()> {
        let mem = self.memory;
        let (ptr, len) = if bytes.is_empty() {
            (0, 0)
        } else {
            let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
            let alloc = alloc_fn(caller)?;
            let ptr = guest_alloc(&mut *caller, alloc, function, mem, len)?;
            memory::write(&mut *caller, mem, function, "response buffer", ptr, bytes)?;
            (ptr, len)
        };
        let ptr_bytes = ptr.to_le_bytes();
        memory::write(
            &mut *caller,
            mem,
            function,
            "resp_ptr_out",
            self.ptr_out,
            &ptr_bytes,
        )?;
        let len_bytes = len.to_le_bytes();
        memory::write(
            &mut *caller,
            mem,
            function,
            "resp_len_out",
            self.len_out,
            &len_bytes,
        )?;
        Ok(())
    }
}

/// Runs one ticket operation of the core flavour: the buffer is bounds-checked (a
/// trap), then judged by `rule` in place, without copying it out of guest memory.
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

/// The scope of a ticket operation in the current call.
pub(crate) fn ticket_scope(mode: &Mode) -> TicketScope<'_> {
    match mode {
        Mode::Event { ticket_id, .. } => TicketScope::Event { ticket_id },
        Mode::Panel => TicketScope::Panel,
    }
}

/// A ticket operation's record of the component flavour as the JSON the core flavour
/// carries, which the rules judge (its size included).
fn as_json<T: serde::Serialize>(payload: &T) -> Vec<u8> {
    // Strings and a bool: serializing cannot fail.
    serde_json::to_vec(payload).unwrap_or_default()
}

/// A refused ticket operation as the WIT's error.
fn call_error(error: TicketCallError) -> bindings::types::CallError {
    use bindings::types::CallError;
    match error {
        TicketCallError::InvalidRequest => CallError::InvalidRequest,
        TicketCallError::WrongTicket => CallError::WrongTicket,
        TicketCallError::TooLarge => CallError::TooLarge,
        TicketCallError::NotAvailable => CallError::NotAvailable,
    }
}

#[cfg(test)]
mod tests;
