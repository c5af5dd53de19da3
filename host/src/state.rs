//! What a `Store` holds during one delivery: limits, the deadline, the plugin's
//! permissions and everything the delivery produced so far.

use std::sync::Arc;
use std::time::Instant;

use otai_plugin_abi::limits::{MAX_LOG_BYTES_PER_DELIVERY, MAX_LOG_LINE};
use otai_plugin_abi::rules::http::AllowedHosts;
use otai_plugin_abi::status::LogLevel;
use otai_plugin_abi::wasm::AllocatorKind;
use wasmtime::{Memory, ResourceLimiter, StoreLimits};

use crate::guest_func::GuestFn;

use crate::http::HttpTransport;
use crate::report::HostCall;
use crate::report::{CustomFieldSet, HttpExchange, LogLine, Reply};

/// A failure inside a host function that ends the delivery: the guest broke the ABI
/// (out-of-bounds buffer, failed allocation) or the deadline ran out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub(crate) struct GuestTrap {
    pub(crate) message: String,
    pub(crate) deadline: bool,
}

impl GuestTrap {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        GuestTrap {
            message: message.into(),
            deadline: false,
        }
    }

    pub(crate) fn deadline(function: &str) -> Self {
        GuestTrap {
            message: format!("{function}: the delivery's deadline ran out"),
            deadline: true,
        }
    }

    pub(crate) fn out_of_bounds(
        function: &str,
        what: &str,
        ptr: u32,
        len: u32,
        memory_len: usize,
    ) -> Self {
        GuestTrap::new(format!(
            "{function}: {what} {ptr:#x}+{len} is outside linear memory ({memory_len} bytes)"
        ))
    }
}

/// Whether the instance is serving `on_event` (ticket operations allowed, for this
/// ticket) or `render_panel` (ticket operations answer `NOT_AVAILABLE`).
#[derive(Debug, Clone)]
pub(crate) enum Mode {
    Event { ticket_id: String },
    Panel,
}

/// The guest's deallocator, in either calling convention.
#[derive(Clone, Copy)]
pub(crate) enum FreeFn {
    Ohd(GuestFn<(u32, u32), ()>),
    Libc(GuestFn<u32, ()>),
}

/// Log lines of one delivery, with the per-line and per-delivery caps applied.
#[derive(Debug, Default)]
pub(crate) struct LogSink {
    pub(crate) lines: Vec<LogLine>,
    kept_bytes: usize,
    dropped_lines: u64,
    dropped_bytes: u64,
}

/// The marker appended to a line cut at [`MAX_LOG_LINE`].
pub(crate) const TRUNCATED: &str = " …[truncated]";

impl LogSink {
    /// Whether the next line would be dropped; a dropped line still counts its bytes.
    pub(crate) fn is_full(&self) -> bool {
        self.kept_bytes >= MAX_LOG_BYTES_PER_DELIVERY
    }

    pub(crate) fn count_dropped(&mut self, len: u32) {
        self.dropped_lines += 1;
        self.dropped_bytes += u64::from(len);
    }

    /// Keeps a line given as (a prefix of) its bytes; `full_len` is the guest's length.
    pub(crate) fn push(&mut self, level: LogLevel, bytes: &[u8], full_len: usize) {
        let mut message = String::from_utf8_lossy(bytes).into_owned();
        if full_len > MAX_LOG_LINE || message.len() > MAX_LOG_LINE {
            let mut cut = MAX_LOG_LINE.min(message.len());
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push_str(TRUNCATED);
        }
        if self.kept_bytes + message.len() > MAX_LOG_BYTES_PER_DELIVERY {
            self.kept_bytes = MAX_LOG_BYTES_PER_DELIVERY;
            self.count_dropped(u32::try_from(full_len).unwrap_or(u32::MAX));
            return;
        }
        self.kept_bytes += message.len();
        self.lines.push(LogLine { level, message });
    }

    /// The lines, with one warning appended if any were dropped.
    pub(crate) fn finish(mut self) -> Vec<LogLine> {
        if self.dropped_lines > 0 {
            self.lines.push(LogLine {
                level: LogLevel::Warn,
                message: format!(
                    "host: dropped {} log line(s) ({} bytes): a delivery may log at most {} bytes",
                    self.dropped_lines, self.dropped_bytes, MAX_LOG_BYTES_PER_DELIVERY
                ),
            });
        }
        self.lines
    }
}

/// The contract's table limit as wasmtime's limits take it, with or without pooling.
pub(crate) const MAX_TABLE_ELEMENTS: usize = otai_plugin_abi::limits::MAX_TABLE_ELEMENTS as usize;

/// The store's resource limits, remembering the first memory growth they refused, so
/// that a plugin that then traps (a Rust plugin aborts when its allocator gets no
/// memory) is reported as out of memory rather than as a bare `unreachable`.
pub(crate) struct Limits {
    pub(crate) inner: StoreLimits,
    /// The memory limit, and the size a refused `memory.grow` asked for.
    pub(crate) memory_limit: usize,
    pub(crate) refused_growth: Option<usize>,
}

impl ResourceLimiter for Limits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.inner.memory_growing(current, desired, maximum)?;
        if !allowed && self.refused_growth.is_none() {
            self.refused_growth = Some(desired);
        }
        Ok(allowed)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.inner.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

/// Where an installed plugin's HTTP requests may go, and the transport that sends them:
/// made when the plugin is installed, shared by its deliveries.
pub(crate) struct Outbound {
    pub(crate) allowed_hosts: AllowedHosts,
    pub(crate) transport: Arc<dyn HttpTransport>,
    /// [`HostBuilder::report_body_bytes`](crate::HostBuilder::report_body_bytes).
    pub(crate) report_body_bytes: usize,
}

/// The data of a delivery's `Store`.
pub(crate) struct State {
    pub(crate) limits: Limits,
    pub(crate) mode: Mode,
    pub(crate) deadline: Instant,
    pub(crate) outbound: Arc<Outbound>,
    /// A core module's allocator pair; `None` for a component.
    pub(crate) allocator: Option<AllocatorKind>,
    pub(crate) memory: Option<Memory>,
    pub(crate) alloc: Option<GuestFn<u32, u32>>,
    pub(crate) free: Option<FreeFn>,
    /// Set while an `ohd_alloc`/`ohd_free` import forwards to the guest, to refuse a
    /// guest allocator that calls back into the import (endless recursion).
    pub(crate) forwarding: bool,
    pub(crate) logs: LogSink,
    pub(crate) http: Vec<HttpExchange>,
    pub(crate) replies: Vec<Reply>,
    pub(crate) custom_fields: Vec<CustomFieldSet>,
    /// Whether the plugin's latest host call logged a line at error level (and the line
    /// was kept): a trap right after it takes that line as its reason.
    pub(crate) last_call_logged_error: bool,
    /// The calls in order, when the host records them.
    pub(crate) calls: Option<Vec<HostCall>>,
    /// The profile being recorded, when the host profiles deliveries.
    pub(crate) profile: Option<Box<crate::profile::Recorder>>,
}

impl State {
    /// Records a call that returned to the plugin.
    pub(crate) fn record(&mut self, call: impl Into<HostCall>) {
        let call = call.into();
        if let Some(recorder) = &mut self.profile {
            recorder.last_call = Some(call.function());
        }
        if let Some(calls) = &mut self.calls {
            calls.push(call);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_at_a_char_boundary() {
        let mut sink = LogSink::default();
        // 3 bytes each: MAX_LOG_LINE (16 KiB) is not a multiple of 3, so the cut must
        // step back to the last whole character (a 2-byte one would always fit).
        let line = "€".repeat(MAX_LOG_LINE);
        sink.push(LogLevel::Info, line.as_bytes(), line.len());
        let kept = &sink.lines[0].message;
        assert!(kept.ends_with(TRUNCATED));
        let body = &kept[..kept.len() - TRUNCATED.len()];
        assert_eq!(body.len(), MAX_LOG_LINE / 3 * 3);
        assert!(body.chars().all(|c| c == '€'));
    }

    #[test]
    fn a_line_that_grows_when_decoded_is_cut_too() {
        // 16 KiB of invalid bytes decode to 48 KiB of U+FFFD: still one 16 KiB line.
        let mut sink = LogSink::default();
        let bytes = vec![0xff; MAX_LOG_LINE];
        sink.push(LogLevel::Info, &bytes, bytes.len());
        let kept = &sink.lines[0].message;
        assert!(kept.ends_with(TRUNCATED));
        assert!(
            kept.len() <= MAX_LOG_LINE + TRUNCATED.len(),
            "{}",
            kept.len()
        );
    }

    #[test]
    fn the_per_delivery_cap_appends_one_warning() {
        let mut sink = LogSink::default();
        let line = vec![b'x'; MAX_LOG_LINE];
        for _ in 0..(MAX_LOG_BYTES_PER_DELIVERY / MAX_LOG_LINE + 10) {
            if sink.is_full() {
                sink.count_dropped(MAX_LOG_LINE as u32);
            } else {
                sink.push(LogLevel::Info, &line, line.len());
            }
        }
        let lines = sink.finish();
        assert_eq!(lines.len(), MAX_LOG_BYTES_PER_DELIVERY / MAX_LOG_LINE + 1);
        let last = lines.last().unwrap();
        assert_eq!(last.level, LogLevel::Warn);
        assert!(
            last.message
                .contains("dropped 10 log line(s) (163840 bytes)"),
            "{}",
            last.message
        );
    }
}
