//! `HostBuilder::require_signature_from`: a host that requires a trusted signer refuses
//! every other module at load, with the kind that says why; by default signatures are
//! not read.

use crate::common;

use common::*;
use otai_plugin_host::abi::module::ProblemKind;
use otai_plugin_host::abi::module::signature::PublicKey;
use otai_plugin_host::http::MockHttp;
use otai_plugin_host::{Event, Host, LoadError};
use otai_plugin_test_support::{public, sign_without_key_id};

/// `wasm` with the plugin id `from` changed to `to`, of the same length.
fn renamed(wasm: &[u8], from: &str, to: &str) -> Vec<u8> {
    let at = wasm
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .unwrap();
    let mut out = wasm.to_vec();
    out[at..at + to.len()].copy_from_slice(to.as_bytes());
    out
}

fn requiring(keys: &[PublicKey]) -> Host {
    Host::builder()
        .max_instances(8)
        .http(MockHttp::new())
        .require_signature_from(keys.iter().copied())
        .build()
        .unwrap()
}

fn refusal(host: &Host, wasm: &[u8]) -> Vec<ProblemKind> {
    match host.load(wasm) {
        Err(LoadError::Rejected(r)) => r.errors().map(|p| p.kind).collect(),
        Err(other) => panic!("expected a rejection, got {other}"),
        Ok(_) => panic!("expected a rejection, the module loaded"),
    }
}

#[test]
fn a_host_requiring_a_signature_refuses_an_unsigned_module_and_runs_a_signed_one() {
    let pair = wasmsign2::KeyPair::generate();
    let wasm = plugin(
        &manifest("com.example.signed", &["ticket.created"], &[]),
        ECHO,
    );
    let host = requiring(&[public(&pair)]);
    assert_eq!(refusal(&host, &wasm), [ProblemKind::SignatureMissing]);

    let signed = sign_without_key_id(&pair, &wasm);
    let plugin = host.load(&signed).unwrap();
    host.install(&plugin, serde_json::json!({})).unwrap();
    let report = host
        .deliver_to("com.example.signed", &Event::ticket_created())
        .unwrap();
    assert!(report.outcome.is_ok(), "{report:?}");

    // By another key, or changed after signing: refused too.
    let other = wasmsign2::KeyPair::generate();
    assert_eq!(
        refusal(&host, &sign_without_key_id(&other, &wasm)),
        [ProblemKind::SignatureUntrusted]
    );
    let changed = renamed(&signed, "com.example.signed", "com.example.signee");
    assert_eq!(refusal(&host, &changed), [ProblemKind::SignatureChanged]);
}

#[test]
fn by_default_a_host_does_not_read_signatures() {
    let pair = wasmsign2::KeyPair::generate();
    let wasm = plugin(
        &manifest("com.example.plain", &["ticket.created"], &[]),
        NOOP,
    );
    let host = test_host(MockHttp::new());
    host.load(&wasm).unwrap();
    // A stale signature is one more custom section to a host that does not check.
    let changed = renamed(
        &sign_without_key_id(&pair, &wasm),
        "com.example.plain",
        "com.example.plaim",
    );
    assert_eq!(host.load(&changed).unwrap().id(), "com.example.plaim");
}

#[test]
fn a_signed_component_loads_and_runs_on_a_host_requiring_its_key() {
    let pair = wasmsign2::KeyPair::generate();
    let wasm = component(
        "plugin",
        Some(&manifest("com.example.signedc", &["ticket.created"], &[])),
        COMPONENT_ECHO,
    );
    let host = requiring(&[public(&pair)]);
    assert_eq!(refusal(&host, &wasm), [ProblemKind::SignatureMissing]);
    let signed = sign_without_key_id(&pair, &wasm);
    let plugin = host.load(&signed).unwrap();
    host.install(&plugin, serde_json::json!({})).unwrap();
    let report = host
        .deliver_to("com.example.signedc", &Event::ticket_created())
        .unwrap();
    assert!(report.outcome.is_ok(), "{report:?}");
    let changed = renamed(&signed, "com.example.signedc", "com.example.signedd");
    assert_eq!(refusal(&host, &changed), [ProblemKind::SignatureChanged]);
}
