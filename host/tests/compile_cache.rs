//! The compile cache: bounded by bytes of modules, least recently used out, and a plugin
//! whose module was forgotten still runs.

use crate::common;

use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use common::*;
use otai_plugin_host::http::{HttpRequest, HttpResponse, HttpTransport, TransportError};
use otai_plugin_host::{Event, Host, Plugin};
use serde_json::json;

/// Plugins of one length, told apart by their id (`com.example.p00` … `p99`), that log
/// the payload.
fn numbered(n: usize) -> Vec<u8> {
    assert!(n < 100);
    plugin(
        &manifest(&format!("com.example.p{n:02}"), &["ticket.created"], &[]),
        ECHO,
    )
}

/// A host keeping `modules` of the numbered plugins.
fn host_keeping(modules: u64) -> Host {
    Host::builder()
        .http(otai_plugin_host::http::MockHttp::new())
        .max_instances(8)
        .compile_cache_bytes(modules * numbered(0).len() as u64)
        .build()
        .unwrap()
}

fn load(host: &Host, n: usize) -> Plugin {
    host.load(&numbered(n)).unwrap()
}

#[test]
fn the_least_recently_loaded_module_goes_first_and_a_hit_refreshes() {
    let host = host_keeping(2);
    let (p0, p1) = (load(&host, 0), load(&host, 1));
    assert!(load(&host, 0).same_module(&p0)); // 0 is now the more recent
    load(&host, 2);
    assert_eq!(host.compiled_modules(), 2);
    assert!(load(&host, 0).same_module(&p0));
    // 1 was forgotten: compiled again, and 2 (now the least recent) makes room for it.
    assert!(!load(&host, 1).same_module(&p1));
    assert!(load(&host, 0).same_module(&p0));
    assert_eq!(host.compiled_modules(), 2);
}

#[test]
fn the_bound_holds_after_many_distinct_modules() {
    let host = host_keeping(3);
    let plugins: Vec<Plugin> = (0..12).map(|n| load(&host, n)).collect();
    assert_eq!(host.compiled_modules(), 3);
    // The last three first: loading a forgotten one would evict one of them.
    for (n, plugin) in plugins.iter().enumerate().skip(9) {
        assert!(load(&host, n).same_module(plugin), "plugin {n}");
    }
    for (n, plugin) in plugins.iter().enumerate().take(9) {
        assert!(!load(&host, n).same_module(plugin), "plugin {n}");
        // Compiled again and kept, evicting one.
        assert_eq!(host.compiled_modules(), 3);
    }
}

#[test]
fn zero_compiles_on_every_load() {
    let host = host_keeping(0);
    let p0 = load(&host, 0);
    assert!(!load(&host, 0).same_module(&p0));
    assert_eq!(host.compiled_modules(), 0);
}

#[test]
fn a_plugin_runs_after_its_module_was_forgotten_and_is_compiled_again() {
    let host = host_keeping(1);
    let id = install(&host, &numbered(0), json!({}));
    let p0 = load(&host, 0);
    load(&host, 1);
    // The installed plugin holds its compiled module; a handle to the forgotten one
    // still installs.
    let r = host.deliver_to(&id, &Event::ticket_created()).unwrap();
    r.assert_ok();
    assert_eq!(r.logs.len(), 1);
    host.install(&p0, json!({})).unwrap();
    host.deliver_to(&id, &Event::ticket_created())
        .unwrap()
        .assert_ok();
    // Loading its bytes again compiles it again, and that runs too.
    let again = load(&host, 0);
    assert!(!again.same_module(&p0));
    host.install(&again, json!({})).unwrap();
    host.deliver_to(&id, &Event::ticket_created())
        .unwrap()
        .assert_ok();
}

/// Answers 200, after running `during` (once set): code that runs while a plugin's
/// instance is in the middle of its delivery.
#[derive(Default)]
struct Meanwhile {
    during: OnceLock<Box<dyn Fn() + Send + Sync>>,
    ran: Mutex<usize>,
}

impl HttpTransport for Meanwhile {
    fn send(&self, _: &HttpRequest, _: Duration) -> Result<HttpResponse, TransportError> {
        if let Some(during) = self.during.get() {
            during();
            *self.ran.lock().unwrap() += 1;
        }
        Ok(HttpResponse {
            status: 200,
            body: b"answered".to_vec(),
        })
    }
}

#[test]
fn a_running_instance_is_unaffected_by_its_module_being_forgotten() {
    let meanwhile = Arc::new(Meanwhile::default());
    let request = br#"{"method":"GET","url":"https://api.example.com/x"}"#;
    let caller = plugin(
        &manifest("com.example.p00", &["ticket.created"], &["api.example.com"]),
        &http_call(request),
    );
    let host = Arc::new(
        Host::builder()
            .http(meanwhile.clone())
            .compile_cache_bytes(caller.len() as u64)
            .build()
            .unwrap(),
    );
    let first = host.load(&caller).unwrap();
    host.install(&first, json!({})).unwrap();
    let weak: Weak<Host> = Arc::downgrade(&host);
    let other = numbered(1);
    assert!(
        meanwhile
            .during
            .set(Box::new(move || {
                let host = weak.upgrade().expect("the host delivers");
                host.load(&other).unwrap();
            }))
            .is_ok()
    );
    let r = host
        .deliver_to("com.example.p00", &Event::ticket_created())
        .unwrap();
    r.assert_ok();
    // The plugin went on after its request, with the module gone from the cache.
    assert_eq!(r.logs[0].message, "answered");
    assert_eq!(*meanwhile.ran.lock().unwrap(), 1);
    assert!(!host.load(&caller).unwrap().same_module(&first));
}
