//! The baseline plugin written by hand against ABI v1 alone: `ohd_alloc`, `ohd_free`
//! and `on_event` exported, `ohd.ohd_log` imported, the payload decoded with
//! `serde_json` into the fields the handler reads. It has no manifest: it runs on the
//! bench's raw wasmtime host, which does only what the ABI needs.
//!
//! The workload is the one of issue 16 and of the peer harness: decode the event
//! name, three ticket fields and the two config fields (owned strings, every other
//! member skipped but still validated), format one line, log it once.

use std::alloc::{Layout, alloc, dealloc};

use serde::Deserialize;

#[derive(Deserialize)]
struct Payload {
    event: String,
    ticket: Ticket,
    config: Config,
}

#[derive(Deserialize)]
struct Ticket {
    subject: String,
    url: String,
    status: String,
}

#[derive(Deserialize)]
struct Config {
    webhook_url: String,
    channel: String,
}

const LEVEL_INFO: u32 = 1;
const LEVEL_ERROR: u32 = 3;

#[link(wasm_import_module = "ohd")]
unsafe extern "C" {
    fn ohd_log(ptr: *const u8, len: usize, level: u32);
}

fn log(level: u32, line: &str) {
    // SAFETY: the host reads `len` bytes at `ptr` during the call and keeps nothing.
    unsafe { ohd_log(line.as_ptr(), line.len(), level) }
}

/// # Safety
/// Called by the host only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ohd_alloc(size: usize) -> *mut u8 {
    match Layout::from_size_align(size.max(1), 1) {
        // SAFETY: the layout has a non-zero size.
        Ok(layout) => unsafe { alloc(layout) },
        Err(_) => std::ptr::null_mut(),
    }
}

/// # Safety
/// `ptr` and `size` are those of an earlier `ohd_alloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ohd_free(ptr: *mut u8, size: usize) {
    if let Ok(layout) = Layout::from_size_align(size.max(1), 1) {
        // SAFETY: guaranteed by the caller, see above.
        unsafe { dealloc(ptr, layout) }
    }
}

/// # Safety
/// `ptr..ptr + len` is the payload the host wrote into a buffer from `ohd_alloc`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn on_event(ptr: *const u8, len: usize) {
    // SAFETY: guaranteed by the caller, see above.
    let input = unsafe { std::slice::from_raw_parts(ptr, len) };
    match serde_json::from_slice::<Payload>(input) {
        Ok(event) => {
            log(
                LEVEL_INFO,
                &format!(
                    "[{}] {} ({}) {} -> {} via {}",
                    event.event,
                    event.ticket.subject,
                    event.ticket.status,
                    event.ticket.url,
                    event.config.channel,
                    event.config.webhook_url
                ),
            );
        }
        Err(e) => log(LEVEL_ERROR, &format!("invalid event payload: {e}")),
    }
}
