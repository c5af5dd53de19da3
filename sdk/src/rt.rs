//! What `#[plugin]` expands to calls into here: the export bodies, the panic hook and
//! the ABI marker. Not public API (`otai_plugin_sdk::__private`); it changes with the
//! macro, which always comes from the same SDK version.

use core::sync::atomic::{AtomicU32, Ordering};

use serde::de::DeserializeOwned;

use crate::log::{self, Level};
use crate::{Error, Event, RawEvent, Result};

/// The `ohd_abi` custom section contents: `{"abi":1,"sdk":"otai-plugin-sdk <version>"}`.
pub(crate) const ABI_MARKER: &str = concat!(
    r#"{"abi":1,"sdk":"otai-plugin-sdk "#,
    env!("CARGO_PKG_VERSION"),
    r#""}"#
);

const ABI_MARKER_LEN: usize = ABI_MARKER.len();

const fn marker_bytes() -> [u8; ABI_MARKER_LEN] {
    let src = ABI_MARKER.as_bytes();
    let mut out = [0u8; ABI_MARKER_LEN];
    let mut i = 0;
    while i < ABI_MARKER_LEN {
        out[i] = src[i];
        i += 1;
    }
    out
}

// One copy per module: this crate is linked once into a plugin, and `#[plugin]` does
// not emit the section itself. (Statics with `#[used]` in dependencies survive linking
// since rustc's synthetic `symbols.o`; the shapes test checks the built modules.)
#[cfg(target_arch = "wasm32")]
#[unsafe(link_section = "ohd_abi")]
#[used]
static OHD_ABI: [u8; ABI_MARKER_LEN] = marker_bytes();

#[cfg(not(target_arch = "wasm32"))]
#[allow(dead_code)]
static OHD_ABI: [u8; ABI_MARKER_LEN] = marker_bytes();

/// Reads a host-provided buffer.
///
/// # Safety
/// `ptr..ptr+len` must be readable and unchanged for `'a` (the host's payload buffer
/// during the call), or `len` must be 0.
unsafe fn host_bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 || ptr.is_null() {
        &[]
    } else {
        // SAFETY: by this function's contract.
        unsafe { core::slice::from_raw_parts(ptr, len) }
    }
}

/// The body of the `on_event` export.
///
/// # Safety
/// `ptr`/`len` are the host's payload buffer (see `host_bytes`).
pub unsafe fn on_event(ptr: *const u8, len: usize, handler: fn(&[u8]) -> Result<()>) {
    install_panic_hook();
    // SAFETY: forwarded from the caller.
    let payload = unsafe { host_bytes(ptr, len) };
    if let Err(err) = handler(payload) {
        fail("on_event", &err);
    }
}

/// Decodes a payload and runs a [`Plugin`](crate::Plugin)'s `on_event`.
///
/// # Errors
/// A decoding error, or the handler's.
pub fn dispatch_event<P: crate::Plugin>(payload: &[u8]) -> Result<()>
where
    P::Config: DeserializeOwned,
{
    let event = Event::<P::Config>::from_json(payload)?;
    P::default().on_event(event)
}

/// Runs a [`RawPlugin`](crate::RawPlugin)'s `on_event`.
///
/// # Errors
/// The handler's.
pub fn dispatch_raw_event<P: crate::RawPlugin>(payload: &[u8]) -> Result<()> {
    P::default().on_event(RawEvent::new(payload))
}

/// Runs a [`Plugin`](crate::Plugin)'s `render_panel`.
///
/// # Errors
/// The handler's.
pub fn dispatch_panel<P: crate::Plugin>(ticket_id: &str) -> Result<String> {
    P::default().render_panel(ticket_id)
}

/// Runs a [`RawPlugin`](crate::RawPlugin)'s `render_panel`.
///
/// # Errors
/// The handler's.
pub fn dispatch_raw_panel<P: crate::RawPlugin>(ticket_id: &str) -> Result<String> {
    P::default().render_panel(ticket_id)
}

/// `(url_ptr, url_len)` of the last `render_panel`, read by the adapter that
/// `cargo otai-plugin build` adds. Atomics only for `Sync`: wasm32 without threads
/// compiles them to plain loads and stores; in memory they are little-endian u32s.
static PANEL_RESULT: [AtomicU32; 2] = [AtomicU32::new(0), AtomicU32::new(0)];

/// The body of the `__ohd_render_panel_indirect` export: returns the address of 8
/// bytes holding the URL's pointer and length.
///
/// # Safety
/// `ptr`/`len` are the host's ticket id buffer (see `host_bytes`).
pub unsafe fn render_panel(
    ptr: *const u8,
    len: usize,
    handler: fn(&str) -> Result<String>,
) -> *const AtomicU32 {
    install_panic_hook();
    // SAFETY: forwarded from the caller.
    let bytes = unsafe { host_bytes(ptr, len) };
    let result = match core::str::from_utf8(bytes) {
        Ok(ticket_id) => handler(ticket_id),
        Err(_) => Err(Error::msg("the ticket id is not UTF-8")),
    };
    match result {
        Ok(url) => {
            let (ptr, len) = crate::allocator::into_host_buffer(url);
            // Addresses and lengths are 32 bits on wasm32, the only target where the
            // host reads these.
            PANEL_RESULT[0].store(ptr as usize as u32, Ordering::Relaxed);
            PANEL_RESULT[1].store(len as u32, Ordering::Relaxed);
            PANEL_RESULT.as_ptr()
        }
        Err(err) => fail("render_panel", &err),
    }
}

/// The body of a component's `on-event` export: as [`on_event`], with the payload the
/// canonical ABI handed over.
pub fn component_on_event(payload: &[u8], handler: fn(&[u8]) -> Result<()>) {
    install_panic_hook();
    if let Err(err) = handler(payload) {
        fail("on_event", &err);
    }
}

/// The body of a component's `render-panel` export: the URL, which the canonical ABI
/// hands to the host (an empty one is "no panel for this ticket").
pub fn component_render_panel(ticket_id: &str, handler: fn(&str) -> Result<String>) -> String {
    install_panic_hook();
    match handler(ticket_id) {
        Ok(url) => url,
        Err(err) => fail("render_panel", &err),
    }
}

/// The exports `#[plugin]` asks for, in the flavour the SDK is built in. The macro
/// cannot see the SDK's features, so it expands to this, and the SDK decides:
///
/// - a core module: `on_event(ptr, len)` and, with a panel,
///   `__ohd_render_panel_indirect(ptr, len)`;
/// - a component (feature `component`, on wasm32): an implementation of the `Guest`
///   trait of the world `plugin` or `plugin-with-panel`, exported with that world's
///   macro, which also embeds the world's type for the component encoder.
#[cfg(not(all(target_arch = "wasm32", feature = "component")))]
#[doc(hidden)]
#[macro_export]
macro_rules! __plugin_exports {
    (on_event: $on_event:expr $(, render_panel: $render_panel:expr)?) => {
        #[cfg_attr(target_arch = "wasm32", unsafe(export_name = "on_event"))]
        extern "C" fn __ohd_on_event(ptr: *const u8, len: usize) {
            // SAFETY: the host passes its payload buffer, readable for the call (ABI v1).
            unsafe { $crate::__private::on_event(ptr, len, $on_event) }
        }
        $(
            #[cfg_attr(
                target_arch = "wasm32",
                unsafe(export_name = "__ohd_render_panel_indirect")
            )]
            extern "C" fn __ohd_render_panel_indirect(
                ptr: *const u8,
                len: usize,
            ) -> *const ::core::sync::atomic::AtomicU32 {
                // SAFETY: the host passes its ticket id buffer, readable for the call.
                unsafe { $crate::__private::render_panel(ptr, len, $render_panel) }
            }
        )?
    };
}

/// See the core flavour's definition above.
#[cfg(all(target_arch = "wasm32", feature = "component"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __plugin_exports {
    (on_event: $on_event:expr) => {
        struct __OhdComponent;
        impl $crate::__private::wit_plugin::Guest for __OhdComponent {
            fn on_event(payload: ::std::string::String) {
                $crate::__private::component_on_event(payload.as_bytes(), $on_event)
            }
        }
        $crate::__private::wit_plugin::export_plugin!(
            __OhdComponent with_types_in $crate::__private::wit_plugin
        );
    };
    (on_event: $on_event:expr, render_panel: $render_panel:expr) => {
        struct __OhdComponent;
        impl $crate::__private::wit_plugin_with_panel::Guest for __OhdComponent {
            fn on_event(payload: ::std::string::String) {
                $crate::__private::component_on_event(payload.as_bytes(), $on_event)
            }
            fn render_panel(ticket_id: ::std::string::String) -> ::std::string::String {
                $crate::__private::component_render_panel(&ticket_id, $render_panel)
            }
        }
        $crate::__private::wit_plugin_with_panel::export_plugin_with_panel!(
            __OhdComponent with_types_in $crate::__private::wit_plugin_with_panel
        );
    };
}

/// Logs why a call failed and traps, so that the host records a failed delivery.
#[cold]
fn fail(call: &str, err: &Error) -> ! {
    let mut line = String::with_capacity(call.len() + 9 + err.message().len());
    line.push_str(call);
    line.push_str(" failed: ");
    line.push_str(err.message());
    log::log(Level::Error, &line);
    trap()
}

#[cfg(target_arch = "wasm32")]
fn trap() -> ! {
    // Not `panic!`: that would run the panic hook and log a second line.
    core::arch::wasm32::unreachable()
}

#[cfg(not(target_arch = "wasm32"))]
fn trap() -> ! {
    panic!("the plugin trapped (see the error log line before this)")
}

/// Installs the panic hook that sends `panicked at file:line:col: message` to the
/// host log at error level, once per instance. A no-op off wasm32, where the test
/// harness reports panics itself.
pub fn install_panic_hook() {
    #[cfg(target_arch = "wasm32")]
    {
        use core::sync::atomic::AtomicBool;
        static INSTALLED: AtomicBool = AtomicBool::new(false);
        if !INSTALLED.swap(true, Ordering::Relaxed) {
            std::panic::set_hook(Box::new(|info| {
                let line = panic_line(info.location(), info.payload_as_str());
                crate::host_functions::ohd_log(&line, Level::Error.code());
            }));
        }
    }
}

/// `panicked at src/lib.rs:12:5: message`, like Rust's own report on one line.
///
/// Built as bytes by hand rather than with `format!`: a plugin that formats nothing
/// itself then links no integer formatting for its panic reports.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(crate) fn panic_line(
    location: Option<&core::panic::Location<'_>>,
    message: Option<&str>,
) -> Vec<u8> {
    let message = message.unwrap_or("Box<dyn Any>");
    let mut line = Vec::with_capacity(64 + message.len());
    match location {
        Some(l) => {
            line.extend_from_slice(b"panicked at ");
            line.extend_from_slice(l.file().as_bytes());
            line.push(b':');
            push_decimal(&mut line, l.line());
            line.push(b':');
            push_decimal(&mut line, l.column());
            line.extend_from_slice(b": ");
        }
        None => line.extend_from_slice(b"panicked: "),
    }
    line.extend_from_slice(message.as_bytes());
    line
}

fn push_decimal(out: &mut Vec<u8>, mut n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marker_is_the_documented_json() {
        let marker: otai_plugin_abi::marker::AbiMarker = serde_json::from_slice(&OHD_ABI).unwrap();
        assert_eq!(marker.abi, otai_plugin_abi::ABI_VERSION);
        assert_eq!(
            marker.sdk.as_deref(),
            Some(concat!("otai-plugin-sdk ", env!("CARGO_PKG_VERSION")))
        );
    }

    #[test]
    fn a_failed_handler_logs_then_traps() {
        let payload = b"{}";
        // SAFETY: a valid buffer.
        let trapped = std::panic::catch_unwind(|| unsafe {
            on_event(payload.as_ptr(), payload.len(), |_| Err(Error::msg("boom")))
        });
        assert!(trapped.is_err());
        let logs = crate::sys::native::with(|s| std::mem::take(&mut s.recorded)).logs;
        assert_eq!(logs.len(), 1);
        assert_eq!(logs[0].level, Level::Error);
        assert_eq!(logs[0].message, "on_event failed: boom");
    }

    #[test]
    fn render_panel_publishes_the_url_length_and_rejects_non_utf8_ids() {
        let id = b"T-1";
        // SAFETY: a valid buffer.
        let result = unsafe {
            render_panel(id.as_ptr(), id.len(), |id| {
                Ok(format!("https://p.example/{id}"))
            })
        };
        // SAFETY: `result` points at the two-word static.
        let len = unsafe { &*result.add(1) }.load(Ordering::Relaxed);
        assert_eq!(len as usize, "https://p.example/T-1".len());

        let bad = [0xffu8, 0xfe];
        // SAFETY: a valid buffer.
        let trapped = std::panic::catch_unwind(|| unsafe {
            render_panel(bad.as_ptr(), bad.len(), |_| Ok(String::new()))
        });
        assert!(trapped.is_err());
        assert_eq!(
            crate::sys::native::with(|s| std::mem::take(&mut s.recorded)).logs[0].message,
            "render_panel failed: the ticket id is not UTF-8"
        );
    }

    #[test]
    fn panic_line_has_location_and_message() {
        let here = core::panic::Location::caller();
        let line = String::from_utf8(panic_line(Some(here), Some("boom"))).unwrap();
        assert_eq!(
            line,
            format!(
                "panicked at {}:{}:{}: boom",
                file!(),
                here.line(),
                here.column()
            )
        );
        assert_eq!(panic_line(None, None), b"panicked: Box<dyn Any>");
        for n in [0, 7, 10, 4_294_967_295] {
            let mut s = Vec::new();
            push_decimal(&mut s, n);
            assert_eq!(s, n.to_string().as_bytes());
        }
    }
}
