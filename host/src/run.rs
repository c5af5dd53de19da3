//! One run of a plugin: a fresh store and instance, the payload in, the export
//! called, everything it did collected.

use std::sync::Arc;
use std::time::{Duration, Instant};

use otai_plugin_abi::limits::{MAX_COMPONENT_CORE_INSTANCES, MAX_COMPONENT_TABLES};
use otai_plugin_abi::status::LogLevel;
use otai_plugin_abi::wasm::{self, AllocatorKind};
use wasmtime::{
    Engine, Extern, Instance, InstancePre, Store, StoreContextMut, StoreLimitsBuilder, Trap,
    UpdateDeadline, WasmBacktrace,
};

use crate::functions::bindings::panel::PluginWithPanelPre;
use crate::functions::bindings::plugin::PluginPre;
use crate::functions::{guest_alloc, guest_free};
use crate::http::HttpTransport;
use crate::load::{Code, Exports, PluginInner};
use crate::memory;
use crate::report::HostCall;
use crate::report::{CustomFieldSet, HttpExchange, LogLine, Outcome, Reply, Timings};
use crate::state::{FreeFn, GuestTrap, Limits, LogSink, MAX_TABLE_ELEMENTS, Mode, Outbound, State};

/// Host-wide settings a run needs.
pub(crate) struct Settings {
    pub(crate) engine: Engine,
    pub(crate) deadline: Duration,
    pub(crate) epoch_ticks: u64,
    pub(crate) memory_limit: u64,
    pub(crate) max_module_size: u64,
    /// [`HostBuilder::require_signature_from`](crate::HostBuilder::require_signature_from).
    pub(crate) trusted_signers: Option<Vec<otai_plugin_abi::module::signature::PublicKey>>,
    pub(crate) fuel: Option<u64>,
    /// [`HostBuilder::count_fuel`](crate::HostBuilder::count_fuel).
    pub(crate) count_fuel: bool,
    pub(crate) transport: Arc<dyn HttpTransport>,
    pub(crate) record_calls: bool,
    /// [`HostBuilder::profile`](crate::HostBuilder::profile).
    pub(crate) profile: bool,
    /// [`HostBuilder::report_body_bytes`](crate::HostBuilder::report_body_bytes).
    pub(crate) report_body_bytes: usize,
    /// How many bytes of modules the host keeps compiled.
    pub(crate) compile_cache_bytes: u64,
}

/// What a run produced.
pub(crate) struct Finished {
    pub(crate) outcome: Outcome,
    pub(crate) logs: Vec<LogLine>,
    pub(crate) http: Vec<HttpExchange>,
    pub(crate) replies: Vec<Reply>,
    pub(crate) custom_fields: Vec<CustomFieldSet>,
    pub(crate) calls: Vec<HostCall>,
    pub(crate) timings: Timings,
    /// The fuel the run consumed, when the host counts it.
    pub(crate) fuel: Option<u64>,
    /// For `render_panel`: the bytes of the returned URL.
    pub(crate) panel_url: Option<Vec<u8>>,
    /// The run's profile, when the host records them.
    pub(crate) profile: Option<crate::Profile>,
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Runs `on_event` (mode `Event`) or `render_panel` (mode `Panel`) with `input`.
pub(crate) fn run(
    settings: &Settings,
    plugin: &PluginInner,
    outbound: Arc<Outbound>,
    mode: Mode,
    input: &[u8],
) -> Finished {
    let start = Instant::now();
    let panel = matches!(mode, Mode::Panel);
    let memory_limit = usize::try_from(settings.memory_limit).unwrap_or(usize::MAX);
    // One memory in either flavour, as the pooling allocator allows: without it each of
    // many memories could take the whole memory limit. A core module is one instance
    // with one table; a component has a few of each (its module and the encoder's shims).
    let (instances, tables) = match plugin.code {
        Code::Core { .. } => (1, 1),
        Code::Component { .. } => (
            usize::try_from(MAX_COMPONENT_CORE_INSTANCES).unwrap_or(usize::MAX),
            MAX_COMPONENT_TABLES,
        ),
    };
    let state = State {
        limits: Limits {
            inner: StoreLimitsBuilder::new()
                .memory_size(memory_limit)
                .table_elements(MAX_TABLE_ELEMENTS)
                .memories(1)
                .tables(tables)
                .instances(instances)
                .build(),
            memory_limit,
            refused_growth: None,
        },
        mode,
        deadline: start + settings.deadline,
        outbound,
        allocator: plugin_allocator(plugin),
        memory: None,
        alloc: None,
        free: None,
        forwarding: false,
        logs: LogSink::default(),
        http: Vec::new(),
        replies: Vec::new(),
        custom_fields: Vec::new(),
        last_call_logged_error: false,
        calls: settings.record_calls.then(Vec::new),
        profile: None,
    };
    let mut store = Store::new(&settings.engine, state);
    store.limiter(|s| &mut s.limits);
    store.set_epoch_deadline(settings.epoch_ticks);
    // Counting without a budget is a budget no delivery reaches: wasmtime counts fuel
    // only down from what a store was given.
    let given_fuel = settings.fuel.or(settings.count_fuel.then_some(u64::MAX));
    let mut setup = Ok(());
    if let Some(fuel) = given_fuel {
        setup = store.set_fuel(fuel);
    }
    if settings.profile {
        setup = setup.and_then(|()| start_profile(&mut store, settings, plugin));
    }

    let mut instantiated = start;
    let mut panel_url = None;
    let result = setup.and_then(|()| match &plugin.code {
        Code::Core { .. } => instantiate(&mut store, plugin).and_then(|(instance, free)| {
            instantiated = Instant::now();
            call(&mut store, plugin, instance, free, input, panel).map(|url| panel_url = url)
        }),
        Code::Component {
            pre,
            panel: panel_pre,
        } => {
            let pres = ComponentPres {
                plugin: pre,
                panel: panel_pre.as_ref(),
            };
            run_component(&mut store, pres, input, panel, &mut instantiated)
                .map(|url| panel_url = url)
        }
    });
    let end = Instant::now();
    if instantiated == start {
        instantiated = end;
    }
    let outcome = match result {
        Ok(()) => Outcome::Ok,
        Err(e) => classify(&e),
    };
    // After a trap too: what ran until then was work done (all of it, out of fuel).
    let fuel = given_fuel
        .filter(|_| settings.count_fuel)
        .map(|given| given.saturating_sub(store.get_fuel().unwrap_or(0)));
    let mut state = store.into_data();
    let profile = state.profile.take().and_then(|r| r.finish());
    let logs = state.logs.finish();
    let outcome = explain_out_of_memory(
        attach_reason(outcome, &logs, state.last_call_logged_error),
        &state.limits,
    );
    Finished {
        outcome,
        logs,
        http: state.http,
        replies: state.replies,
        custom_fields: state.custom_fields,
        calls: state.calls.unwrap_or_default(),
        timings: Timings {
            total_us: micros(end - start),
            instantiate_us: micros(instantiated - start),
            call_us: micros(end - instantiated),
        },
        fuel,
        panel_url,
        profile,
    }
}

/// Gives the store a recorder of the plugin's modules, named after the plugin.
fn start_profile(
    store: &mut Store<State>,
    settings: &Settings,
    plugin: &PluginInner,
) -> wasmtime::Result<()> {
    let name = &plugin.manifest.id;
    // The interval is only a hint for the Firefox Profiler's display: the recorder
    // samples at every function entry, loop header and host call (src/profile.rs).
    let interval = std::time::Duration::from_micros(1);
    let profiler = match &plugin.code {
        Code::Core { pre, .. } => wasmtime::GuestProfiler::new(
            &settings.engine,
            name,
            interval,
            [(name.clone(), pre.module().clone())],
        )?,
        Code::Component { pre, .. } => wasmtime::GuestProfiler::new_component(
            &settings.engine,
            name,
            interval,
            pre.instance_pre().component().clone(),
            [],
        )?,
    };
    let recorder = crate::profile::Recorder::new(profiler);
    store.data_mut().profile = Some(recorder);
    install_profiler(store);
    Ok(())
}

/// Sets `store` up to sample at every epoch check and host call. The epoch callback
/// keeps the delivery's deadline, which a callback replaces.
fn install_profiler(store: &mut wasmtime::Store<State>) {
    store.set_epoch_deadline(0);
    store.epoch_deadline_callback(|mut store| {
        if Instant::now() >= store.data().deadline {
            return Ok(UpdateDeadline::Interrupt);
        }
        with_recorder(&mut store, |recorder, store| recorder.check(store));
        Ok(UpdateDeadline::Continue(0))
    });
    store.call_hook(|mut store, hook| {
        with_recorder(&mut store, |recorder, store| recorder.hook(store, hook));
        Ok(())
    });
}

/// Runs `f` with the store's recorder taken out of it, since sampling reads the store.
fn with_recorder(
    store: &mut StoreContextMut<'_, State>,
    f: impl FnOnce(&mut crate::profile::Recorder, &StoreContextMut<'_, State>),
) {
    if let Some(mut recorder) = store.data_mut().profile.take() {
        f(&mut recorder, store);
        store.data_mut().profile = Some(recorder);
    }
}

fn plugin_allocator(plugin: &PluginInner) -> Option<AllocatorKind> {
    match &plugin.code {
        Code::Core { allocator, .. } => Some(*allocator),
        Code::Component { .. } => None,
    }
}

/// A core module's instance pre and exports.
fn core_parts(plugin: &PluginInner) -> Result<(&InstancePre<State>, &Exports), GuestTrap> {
    match &plugin.code {
        Code::Core { pre, exports, .. } => Ok((pre, exports)),
        Code::Component { .. } => Err(GuestTrap::new("the plugin is not a core module")),
    }
}

/// What a component's delivery instantiates.
struct ComponentPres<'a> {
    plugin: &'a PluginPre<State>,
    panel: Option<&'a PluginWithPanelPre<State>>,
}

/// A component's `on-event` (or `render-panel`): the canonical ABI moves the payload in
/// and the URL out, so there is nothing to allocate or free by hand. `instantiated` is
/// set when the instance exists.
fn run_component(
    store: &mut Store<State>,
    pres: ComponentPres<'_>,
    input: &[u8],
    panel: bool,
    instantiated: &mut Instant,
) -> wasmtime::Result<Option<Vec<u8>>> {
    // The host builds both inputs from strings: the payload JSON and a ticket id.
    let input = std::str::from_utf8(input)
        .map_err(|_| GuestTrap::new("the input is not UTF-8, which a component's string needs"))?;
    if !panel {
        let instance = pres.plugin.instantiate(&mut *store)?;
        *instantiated = Instant::now();
        instance.call_on_event(&mut *store, input)?;
        return Ok(None);
    }
    let Some(pre) = pres.panel else {
        return Err(GuestTrap::new("the plugin exports no `render-panel`").into());
    };
    let instance = pre.instantiate(&mut *store)?;
    *instantiated = Instant::now();
    let url = instance.call_render_panel(&mut *store, input)?;
    Ok(Some(url.into_bytes()))
}

fn instantiate(
    store: &mut Store<State>,
    plugin: &PluginInner,
) -> wasmtime::Result<(Instance, FreeFn)> {
    let (pre, exports) = core_parts(plugin)?;
    let instance = pre.instantiate(&mut *store)?;
    let memory = instance
        .get_module_export(&mut *store, &exports.memory)
        .and_then(Extern::into_memory)
        .ok_or_else(|| GuestTrap::new("the plugin exports no `memory`"))?;
    let alloc = exports
        .alloc
        .get(&mut *store, instance)
        .ok_or_else(not_found)?;
    let free = exports.free.get(store, instance).ok_or_else(not_found)?;
    let data = store.data_mut();
    data.memory = Some(memory);
    data.alloc = Some(alloc);
    data.free = Some(free);
    if let Some(initialize) = &exports.initialize {
        let initialize = initialize
            .get(&mut *store, instance)
            .ok_or_else(not_found)?;
        initialize.call(&mut *store, ())?;
    }
    Ok((instance, free))
}

/// An export resolved at load is missing from the instance: only an instance of
/// another module could do that.
fn not_found() -> GuestTrap {
    GuestTrap::new("an ABI export resolved at load is not in the instance")
}

fn call(
    store: &mut Store<State>,
    plugin: &PluginInner,
    instance: Instance,
    free: FreeFn,
    input: &[u8],
    panel: bool,
) -> wasmtime::Result<Option<Vec<u8>>> {
    let (_, exports) = core_parts(plugin)?;
    let (memory, alloc) = match (store.data().memory, store.data().alloc) {
        (Some(m), Some(a)) => (m, a),
        _ => return Err(GuestTrap::new("the instance is not set up").into()),
    };
    let function = if panel {
        wasm::EXPORT_RENDER_PANEL
    } else {
        wasm::EXPORT_ON_EVENT
    };
    let len =
        u32::try_from(input.len()).map_err(|_| GuestTrap::new("the input is larger than 4 GiB"))?;
    let ptr = guest_alloc(&mut *store, alloc, function, memory, len)?;
    memory::write(&mut *store, memory, function, "input buffer", ptr, input)?;
    if !panel {
        let on_event = exports
            .on_event
            .get(&mut *store, instance)
            .ok_or_else(not_found)?;
        on_event.call(&mut *store, (ptr, len))?;
        guest_free(&mut *store, &free, ptr, len)?;
        return Ok(None);
    }
    let Some(render_panel) = &exports.render_panel else {
        return Err(GuestTrap::new("the plugin exports no `render_panel`").into());
    };
    let render = render_panel
        .get(&mut *store, instance)
        .ok_or_else(not_found)?;
    let (url_ptr, url_len) = render.call(&mut *store, (ptr, len))?;
    guest_free(&mut *store, &free, ptr, len)?;
    if url_len == 0 {
        // "No panel for this ticket" (docs/ABI.md: `(0, 0)`). Nothing was allocated for
        // `(0, 0)`; a zero-length buffer the plugin did allocate is still its to free.
        if url_ptr != 0 {
            guest_free(&mut *store, &free, url_ptr, 0)?;
        }
        return Ok(Some(Vec::new()));
    }
    let max = otai_plugin_abi::limits::MAX_PANEL_URL;
    // One byte past the limit tells "too long" apart without copying a huge buffer.
    let url = memory::read_prefix(&*store, memory, "render_panel", url_ptr, url_len, max + 1)
        .map_err(|e| GuestTrap::new(e.message.replace("buffer", "returned URL")))?;
    guest_free(&mut *store, &free, url_ptr, url_len)?;
    Ok(Some(url))
}

fn classify(error: &wasmtime::Error) -> Outcome {
    if let Some(trap) = error.downcast_ref::<Trap>() {
        return match trap {
            Trap::Interrupt => Outcome::TimedOut,
            Trap::OutOfFuel => trapped(
                "the plugin ran out of fuel (the host's instruction budget)".into(),
                error,
            ),
            _ => trapped(trap_message(error), error),
        };
    }
    if let Some(trap) = error.downcast_ref::<GuestTrap>() {
        return if trap.deadline {
            Outcome::TimedOut
        } else {
            trapped(trap.message.clone(), error)
        };
    }
    if error
        .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
        .is_some()
    {
        return Outcome::Rejected {
            reason: format!("the host has no free instance slot: {error}"),
        };
    }
    trapped(trap_message(error), error)
}

fn trapped(message: String, error: &wasmtime::Error) -> Outcome {
    Outcome::Trapped {
        message,
        reason: None,
        backtrace: error
            .downcast_ref::<WasmBacktrace>()
            .map(|b| backtrace_frames(&b.to_string())),
    }
}

/// The error's chain without the wasm backtrace that wasmtime adds as its outermost
/// context: `wasm trap: wasm `unreachable` instruction executed`, not a screenful of
/// frames before it.
fn trap_message(error: &wasmtime::Error) -> String {
    // The backtrace is a context layer of the chain, only recognisable by its text.
    let backtrace = error
        .downcast_ref::<WasmBacktrace>()
        .map(ToString::to_string);
    let parts: Vec<String> = error
        .chain()
        .map(ToString::to_string)
        .filter(|cause| Some(cause) != backtrace.as_ref())
        .collect();
    parts.join(": ")
}

/// The frame lines of wasmtime's `error while executing at wasm backtrace:` text.
fn backtrace_frames(text: &str) -> String {
    let frames: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("0:"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    frames.join("\n")
}

/// Says in words that a trap followed a refused `memory.grow`: the plugin's allocator
/// got no memory and the plugin gave up (Rust aborts with `unreachable`), which a bare
/// trap and its `rust_oom` frame do not tell.
fn explain_out_of_memory(outcome: Outcome, limits: &Limits) -> Outcome {
    match (outcome, limits.refused_growth) {
        (
            Outcome::Trapped {
                message,
                reason,
                backtrace,
            },
            Some(desired),
        ) => Outcome::Trapped {
            message: format!(
                "the plugin ran out of memory: it asked for {desired} bytes of linear memory, \
                 over its limit of {} ({} bytes), and trapped: {message}",
                mib(limits.memory_limit),
                limits.memory_limit
            ),
            reason,
            backtrace,
        },
        (outcome, _) => outcome,
    }
}

fn mib(bytes: usize) -> String {
    if bytes.is_multiple_of(1 << 20) {
        format!("{} MiB", bytes >> 20)
    } else {
        format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
    }
}

/// Gives a trap the plugin's own account of it: the line it logged at error level as
/// its last host call (what the SDK does with a panic or a handler's `Err`, and what a
/// C plugin does before `abort`).
fn attach_reason(outcome: Outcome, logs: &[LogLine], last_call_logged_error: bool) -> Outcome {
    match outcome {
        Outcome::Trapped {
            message,
            reason: None,
            backtrace,
        } => Outcome::Trapped {
            message,
            reason: logs
                .last()
                .filter(|l| last_call_logged_error && l.level == LogLevel::Error)
                .map(|l| l.message.clone()),
            backtrace,
        },
        other => other,
    }
}
