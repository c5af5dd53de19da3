//! [`Profile`]: where the work and the time of one delivery went, recorded by wasmtime's
//! guest profiler when the host is built with
//! [`HostBuilder::profile`](crate::HostBuilder::profile).
//!
//! A delivery lasts microseconds, far less than any timer-driven sampling interval, so the
//! recorder samples at every point where wasmtime can stop the plugin: each function entry
//! and loop header (an epoch deadline of zero ticks makes every epoch check call back), and
//! each return from an `ohd` import.
//!
//! A sample's weight is the plugin's wall time since the previous one, without the time
//! the recorder and the runtime's own calls out of wasm took. It is still no production
//! time: the plugin's code runs between samples a few operators apart, and the way into
//! and out of each check is counted with it, so a function called often looks heavier
//! than it is. (Fuel would be exact, but wasmtime brings a store's fuel up to date only at
//! calls, not at the loop headers where most samples are taken.) The time inside an `ohd`
//! import is a frame of its own, `ohd_http_request`, above the plugin's stack that called
//! it, with the plugin's code it ran (its allocator) above that; [`Profile::host_calls`]
//! sums it per function.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;
use wasmtime::{AsContext, CallHook, GuestProfiler};

/// The profile of one delivery (or panel): the same samples in two forms.
///
/// Recording it makes the plugin's code hundreds of times slower (each function call and
/// loop iteration stops to walk the stack), so the delivery's `timings` are not its
/// production timings; its `fuel` is unchanged.
#[derive(Clone, PartialEq, Eq)]
pub struct Profile {
    firefox: String,
    folded: String,
    host_calls: Vec<HostCallTime>,
}

/// The calls a delivery made to one `ohd` function, and the wall time they took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostCallTime {
    /// The function, `ohd_http_request`.
    pub function: &'static str,
    /// How many calls returned to the plugin.
    pub calls: u32,
    /// Their wall time in the host, the plugin's code they ran (an allocator) included.
    pub time: Duration,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("firefox", &format_args!("{} bytes", self.firefox.len()))
            .field(
                "folded",
                &format_args!("{} stacks", self.folded.lines().count()),
            )
            .field("host_calls", &self.host_calls)
            .finish()
    }
}

impl Profile {
    /// The profile in the Firefox Profiler's "processed profile" JSON format, as
    /// wasmtime's `GuestProfiler` writes it: open it at <https://profiler.firefox.com/>.
    /// Its frames are the plugin's functions only: the time inside a host call is the
    /// calling function's there.
    pub fn firefox_json(&self) -> &str {
        &self.firefox
    }

    /// The samples as folded stacks, one line each: the frames from the outermost to the
    /// innermost, separated by `;`, a space, and the nanoseconds spent on that stack
    /// (`on_event;my_plugin::handle;ohd_http_request 81234`). The format of Brendan
    /// Gregg's `flamegraph.pl` and of the `inferno` crate. Names are demangled without
    /// their hash; a `;` inside a name (`[u8; 4]`) is written `,`. A host call is a frame
    /// of its own, with the plugin's code it ran above it (`…;ohd_alloc;my_allocator`).
    pub fn folded(&self) -> &str {
        &self.folded
    }

    /// Each `ohd` function the delivery called, in the order of first call, with the
    /// number of calls and their wall time.
    pub fn host_calls(&self) -> &[HostCallTime] {
        &self.host_calls
    }
}

/// What a store being profiled keeps: wasmtime's profiler and the weights and host-call
/// frames of its samples, in the order they were taken.
pub(crate) struct Recorder {
    profiler: GuestProfiler,
    samples: Vec<Sample>,
    /// Where the time not yet in a sample starts.
    since: Instant,
    /// The calls in progress between the host and the plugin, innermost last.
    levels: Vec<Level>,
    host_calls: Vec<HostCallTime>,
    /// The `ohd` function that returned last, set by `State::record`: what tells an
    /// import from the runtime's own calls out of wasm (the epoch check, `memory.grow`).
    pub(crate) last_call: Option<&'static str>,
}

struct Sample {
    nanos: u64,
    /// For the sample taken when an import returned: its name, on the stack that called
    /// it.
    host_call: Option<&'static str>,
    /// The import (its returning sample) this sample ran inside, if any.
    inside: Option<usize>,
}

/// A call between the host and the plugin that has not returned.
enum Level {
    /// The host called into the plugin.
    Wasm,
    /// The plugin called out: an `ohd` import or one of the runtime's calls.
    Host {
        /// The plugin's time before the call, not sampled yet.
        guest: Duration,
        /// The host's time in the call before it called back into the plugin.
        host: Duration,
        /// When the call began.
        at: Instant,
        /// The first sample taken inside it.
        first_sample: usize,
    },
}

impl Recorder {
    /// A recorder around wasmtime's profiler of the plugin's modules.
    pub(crate) fn new(profiler: GuestProfiler) -> Box<Recorder> {
        Box::new(Recorder {
            profiler,
            samples: Vec::new(),
            since: Instant::now(),
            levels: Vec::new(),
            host_calls: Vec::new(),
            last_call: None,
        })
    }

    fn sample(&mut self, store: impl AsContext, time: Duration, host_call: Option<&'static str>) {
        self.profiler.sample(store, time);
        self.samples.push(Sample {
            nanos: u64::try_from(time.as_nanos()).unwrap_or(u64::MAX),
            host_call,
            inside: None,
        });
    }

    /// At an epoch check: the plugin's work since the last sample, on its stack.
    pub(crate) fn check(&mut self, store: impl AsContext) {
        let time = match self.levels.last_mut() {
            // The check is a call out of wasm, which took the time before it.
            Some(Level::Host { guest, .. }) => std::mem::take(guest),
            _ => {
                let time = self.since.elapsed();
                self.since = Instant::now();
                time
            }
        };
        self.sample(store, time, None);
    }

    pub(crate) fn hook(&mut self, store: impl AsContext, hook: CallHook) {
        match hook {
            CallHook::CallingHost => {
                let now = Instant::now();
                self.levels.push(Level::Host {
                    guest: now - self.since,
                    host: Duration::ZERO,
                    at: now,
                    first_sample: self.samples.len(),
                });
                self.since = now;
                self.last_call = None;
            }
            CallHook::ReturningFromHost => {
                let Some(Level::Host {
                    guest,
                    host,
                    at,
                    first_sample,
                }) = self.levels.pop()
                else {
                    return;
                };
                match self.last_call.take() {
                    // An import: the plugin's time up to it, then the host's in it, on
                    // the stack that called it; what ran inside it goes under its frame.
                    Some(name) => {
                        if !guest.is_zero() {
                            self.sample(&store, guest, None);
                        }
                        let anchor = self.samples.len();
                        self.sample(&store, host + self.since.elapsed(), Some(name));
                        for sample in &mut self.samples[first_sample..anchor] {
                            sample.inside.get_or_insert(anchor);
                        }
                        self.count_call(name, at.elapsed());
                        self.since = Instant::now();
                    }
                    // The runtime's own call: its time is not the plugin's, and the
                    // plugin's time before it goes into the next sample.
                    None => {
                        let now = Instant::now();
                        self.since = now.checked_sub(guest).unwrap_or(now);
                    }
                }
            }
            CallHook::CallingWasm => {
                if let Some(Level::Host { guest, host, .. }) = self.levels.last_mut() {
                    *host += self.since.elapsed();
                    // The import calls back into the plugin (its allocator): the work
                    // before the import is the caller's, whose stack this still is.
                    let guest = std::mem::take(guest);
                    if !guest.is_zero() {
                        self.sample(&store, guest, None);
                    }
                }
                self.levels.push(Level::Wasm);
                // At the top, the host's own work between its calls into the plugin
                // (writing the payload, reading a result) is not the plugin's.
                self.since = Instant::now();
            }
            CallHook::ReturningFromWasm => {
                if matches!(self.levels.last(), Some(Level::Wasm)) {
                    self.levels.pop();
                }
            }
        }
    }

    fn count_call(&mut self, function: &'static str, time: Duration) {
        match self.host_calls.iter_mut().find(|c| c.function == function) {
            Some(known) => {
                known.calls = known.calls.saturating_add(1);
                known.time += time;
            }
            None => self.host_calls.push(HostCallTime {
                function,
                calls: 1,
                time,
            }),
        }
    }

    /// The recorded profile, or `None` when wasmtime could not write it.
    pub(crate) fn finish(self) -> Option<Profile> {
        let mut json = Vec::new();
        self.profiler.finish(&mut json).ok()?;
        let firefox = String::from_utf8(json).ok()?;
        let value: Value = serde_json::from_str(&firefox).ok()?;
        let folded = fold(&value, &self.samples)?;
        Some(Profile {
            firefox,
            folded,
            host_calls: self.host_calls,
        })
    }
}

/// Folds the samples of wasmtime's profile (its one thread's stack, frame and function
/// tables) with their weights and host-call frames into `inferno`'s format.
fn fold(profile: &Value, samples: &[Sample]) -> Option<String> {
    let thread = profile.get("threads")?.get(0)?;
    let column = |table: &str, name: &str| thread.get(table)?.get(name)?.as_array();
    let strings = thread.get("stringArray")?.as_array()?;
    let stacks = column("samples", "stack")?;
    let prefixes = column("stackTable", "prefix")?;
    let frames = column("stackTable", "frame")?;
    let frame_funcs = column("frameTable", "func")?;
    let func_names = column("funcTable", "name")?;
    let index = |v: &Value| v.as_u64().and_then(|i| usize::try_from(i).ok());
    let name_of_frame = |frame: usize| -> Option<String> {
        let func = index(frame_funcs.get(frame)?)?;
        let name = strings.get(index(func_names.get(func)?)?)?.as_str()?;
        Some(clean_name(name))
    };
    // wasmtime adds one sample per `sample` call, in order: the two lists line up.
    if stacks.len() != samples.len() {
        return None;
    }
    let mut names: Vec<Vec<String>> = Vec::with_capacity(samples.len());
    for stack in stacks {
        let mut stack_names = Vec::new();
        let mut next = index(stack);
        while let Some(at) = next {
            stack_names.push(name_of_frame(index(frames.get(at)?)?)?);
            next = prefixes.get(at).and_then(index);
        }
        stack_names.reverse();
        names.push(stack_names);
    }

    let mut folded: BTreeMap<String, u64> = BTreeMap::new();
    for (at, sample) in samples.iter().enumerate() {
        if sample.nanos == 0 {
            continue;
        }
        // The imports this sample ran inside, outermost first, each at the depth of the
        // plugin's stack that called it.
        let mut imports = Vec::new();
        let mut inside = sample.inside;
        while let Some(anchor) = inside.filter(|a| *a != at) {
            let depth = names.get(anchor).map_or(0, Vec::len);
            imports.push((depth, samples.get(anchor)?.host_call.unwrap_or("ohd")));
            inside = samples.get(anchor)?.inside;
        }
        imports.reverse();
        let mut frames = names[at].clone();
        for (inserted, (depth, name)) in imports.into_iter().enumerate() {
            let position = (depth + inserted).min(frames.len());
            frames.insert(position, name.to_owned());
        }
        if let Some(call) = sample.host_call {
            frames.push(call.to_owned());
        }
        if frames.is_empty() {
            continue;
        }
        *folded.entry(frames.join(";")).or_default() += sample.nanos;
    }
    let mut out = String::new();
    for (stack, nanos) in folded {
        out.push_str(&stack);
        out.push(' ');
        out.push_str(&nanos.to_string());
        out.push('\n');
    }
    Some(out)
}

/// A function name as people read it and a folded stack can hold it: demangled without
/// rustc's hash (`my_plugin::created_text`, not `_ZN9my_plugin12created_text17h…E`), or,
/// when wasmtime demangled it already, without the hash it keeps (`::h0123456789abcdef`);
/// and without the `;` that separates frames.
fn clean_name(name: &str) -> String {
    let name = match rustc_demangle::try_demangle(name) {
        Ok(symbol) => format!("{symbol:#}"),
        Err(_) => match name.rsplit_once("::h") {
            Some((path, hash))
                if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
            {
                path.to_owned()
            }
            _ => name.to_owned(),
        },
    };
    name.replace(';', ",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_hash_and_semicolons() {
        // As rustc writes them in the name section: legacy and v0 mangling.
        assert_eq!(
            clean_name("_ZN19slack_notifications12created_text17h0123456789abcdefE"),
            "slack_notifications::created_text"
        );
        assert_eq!(
            clean_name("_RNvCsfLfy6EI15iL_7___rustc14___rust_dealloc"),
            "__rustc::__rust_dealloc"
        );
        // As wasmtime writes them when it demangles.
        assert_eq!(
            clean_name("serde_json::de::from_slice::h0123456789abcdef"),
            "serde_json::de::from_slice"
        );
        assert_eq!(
            clean_name("<[u8; 4] as Debug>::fmt"),
            "<[u8, 4] as Debug>::fmt"
        );
        // Not a hash: kept.
        assert_eq!(clean_name("a::hello"), "a::hello");
        assert_eq!(clean_name("on_event"), "on_event");
    }

    #[test]
    fn samples_fold_by_stack_with_host_calls_on_top() {
        // `on_event` calls `handle`, which calls `ohd_alloc`, which runs `alloc`.
        let profile = serde_json::json!({"threads": [{
            "stringArray": ["on_event", "my::handle::h0123456789abcdef", "alloc"],
            "funcTable": {"name": [0, 1, 2]},
            "frameTable": {"func": [0, 1, 2]},
            "stackTable": {"prefix": [null, 0, 1], "frame": [0, 1, 2]},
            "samples": {"stack": [0, 1, 2, 1, 1]},
        }]});
        let sample = |nanos, host_call, inside| Sample {
            nanos,
            host_call,
            inside,
        };
        let samples = [
            sample(5, None, None),
            sample(7, None, None),
            // Inside the import whose returning sample is the fourth.
            sample(30, None, Some(3)),
            // The import returns: its own time, and the frame its work goes under.
            sample(4, Some("ohd_alloc"), None),
            sample(2, None, None),
        ];
        assert_eq!(
            fold(&profile, &samples).unwrap(),
            "on_event 5\non_event;my::handle 9\non_event;my::handle;ohd_alloc 4\n\
             on_event;my::handle;ohd_alloc;alloc 30\n"
        );
    }
}
