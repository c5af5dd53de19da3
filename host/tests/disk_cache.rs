//! The disk cache of compiled modules (`HostBuilder::compile_cache_dir`): a second host
//! reads what the first compiled; an entry truncated, damaged, written with another key
//! or by another engine is never run (the module is compiled again and the entry
//! rewritten); two hosts share a directory; a directory that cannot be written fails
//! no load; the checks of a module run on a cached load too.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;
use otai_plugin_host::http::MockHttp;
use otai_plugin_host::{Event, Host, Outcome};
use serde_json::json;

const KEY: [u8; 32] = [0x42; 32];

fn host(dir: &Path, key: &[u8]) -> Host {
    Host::builder()
        .http(MockHttp::new())
        .max_instances(8)
        .compile_cache_dir(dir, key)
        .build()
        .unwrap()
}

fn echo(n: usize) -> Vec<u8> {
    plugin(
        &manifest(&format!("com.example.d{n:02}"), &["ticket.created"], &[]),
        ECHO,
    )
}

/// The one entry in `dir`.
fn entry(dir: &Path) -> PathBuf {
    let entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    entries.into_iter().next().unwrap()
}

/// Loads, installs and delivers: the plugin echoes the payload, so a run of anything but
/// its own code would not log it.
fn runs(host: &Host, wasm: &[u8]) {
    let plugin = host.load(wasm).unwrap();
    host.install(&plugin, json!({})).unwrap();
    let report = host
        .deliver_to(plugin.id(), &Event::ticket_created())
        .unwrap();
    assert_eq!(report.outcome, Outcome::Ok, "{report:?}");
    assert!(
        report.logs[0].message.contains("\"ticket.created\""),
        "{report:?}"
    );
}

fn stats(host: &Host) -> (u64, u64, u64, u64) {
    let s = host.disk_cache_stats().unwrap();
    (s.hits, s.writes, s.refused, s.errors)
}

#[test]
fn a_second_host_runs_what_the_first_compiled() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = echo(0);
    let first = host(dir.path(), &KEY);
    runs(&first, &wasm);
    assert_eq!(stats(&first), (0, 1, 0, 0));
    let second = host(dir.path(), &KEY);
    runs(&second, &wasm);
    assert_eq!(stats(&second), (1, 0, 0, 0));
    // Off by default.
    assert!(
        Host::builder()
            .build()
            .unwrap()
            .disk_cache_stats()
            .is_none()
    );
}

#[test]
fn a_component_is_cached_too() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = component(
        "plugin",
        Some(&manifest("com.example.dc", &["ticket.created"], &[])),
        COMPONENT_ECHO,
    );
    runs(&host(dir.path(), &KEY), &wasm);
    let second = host(dir.path(), &KEY);
    runs(&second, &wasm);
    assert_eq!(stats(&second), (1, 0, 0, 0));
}

/// Damages the one entry with `damage`, then checks that a new host refuses it, runs
/// the module compiled again, and rewrites the entry (a third host reads it).
fn refused_after(damage: impl FnOnce(&Path), key: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let wasm = echo(1);
    runs(&host(dir.path(), &KEY), &wasm);
    damage(&entry(dir.path()));
    let second = host(dir.path(), key);
    runs(&second, &wasm);
    assert_eq!(stats(&second), (0, 1, 1, 0));
    let problem = second.disk_cache_stats().unwrap().last_problem.unwrap();
    assert!(problem.contains(".cwasm"), "{problem}");
    let third = host(dir.path(), key);
    runs(&third, &wasm);
    assert_eq!(stats(&third), (1, 0, 0, 0));
}

#[test]
fn a_truncated_entry_is_compiled_again() {
    let truncate = |path: &Path| {
        let len = fs::metadata(path).unwrap().len();
        let file = fs::File::options().write(true).open(path).unwrap();
        file.set_len(len / 2).unwrap();
    };
    refused_after(truncate, &KEY);
    // Shorter than its header, and empty.
    refused_after(
        |path| {
            fs::File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_len(20)
                .unwrap()
        },
        &KEY,
    );
    refused_after(|path| fs::write(path, b"").unwrap(), &KEY);
}

#[test]
fn an_entry_with_a_flipped_byte_is_compiled_again() {
    let flip = |at: fn(usize) -> usize| {
        move |path: &Path| {
            let mut bytes = fs::read(path).unwrap();
            let i = at(bytes.len());
            bytes[i] ^= 0x01;
            fs::write(path, bytes).unwrap();
        }
    };
    // In the code (middle, last byte), in the MAC, in the magic.
    refused_after(flip(|len| len / 2), &KEY);
    refused_after(flip(|len| len - 1), &KEY);
    refused_after(flip(|_| 20), &KEY);
    refused_after(flip(|_| 0), &KEY);
}

/// Entries written by an embedder with another key are not its: never run.
#[test]
fn an_entry_written_with_another_key_is_compiled_again() {
    refused_after(|_| {}, &[0x43; 32]);
}

/// An entry copied to the name of another module's entry: it verifies for its own
/// module only, so the other module is compiled rather than run with its code.
#[test]
fn an_entry_under_another_modules_name_is_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (echo(2), echo(3));
    runs(&host(dir.path(), &KEY), &a);
    let a_entry = entry(dir.path());
    runs(&host(dir.path(), &KEY), &b);
    let b_entry = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| *p != a_entry)
        .unwrap();
    fs::copy(&a_entry, &b_entry).unwrap();
    let host = host(dir.path(), &KEY);
    let plugin = host.load(&b).unwrap();
    assert_eq!(plugin.id(), "com.example.d03");
    assert_eq!(stats(&host), (0, 1, 1, 0));
    runs(&host, &b);
}

/// A host whose settings change compiled code (here fuel) has entries of its own.
#[test]
fn a_host_with_other_settings_does_not_use_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = echo(4);
    runs(&host(dir.path(), &KEY), &wasm);
    let fueled = Host::builder()
        .http(MockHttp::new())
        .max_instances(8)
        .fuel(1_000_000)
        .compile_cache_dir(dir.path(), KEY)
        .build()
        .unwrap();
    runs(&fueled, &wasm);
    assert_eq!(stats(&fueled), (0, 1, 0, 0));
    let other_memory = Host::builder()
        .http(MockHttp::new())
        .max_instances(8)
        .memory_limit(8 << 20)
        .compile_cache_dir(dir.path(), KEY)
        .build()
        .unwrap();
    runs(&other_memory, &wasm);
    assert_eq!(stats(&other_memory), (0, 1, 0, 0));
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 3);
}

/// Two hosts (as two processes would) load the same modules at once into one
/// directory: every load succeeds, and a third host reads every entry whole.
#[test]
fn two_hosts_share_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let modules: Vec<Vec<u8>> = (10..22).map(echo).collect();
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let host = host(dir.path(), &KEY);
                for wasm in &modules {
                    runs(&host, wasm);
                }
                assert_eq!(host.disk_cache_stats().unwrap().refused, 0);
            });
        }
    });
    let third = host(dir.path(), &KEY);
    for wasm in &modules {
        runs(&third, wasm);
    }
    assert_eq!(stats(&third), (12, 0, 0, 0));
    // No temporary file left behind.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 12);
}

/// A directory that cannot be made (a file is in its place) fails no load: the read
/// and the write are each an error, counted.
#[test]
fn a_directory_that_cannot_be_written_fails_no_load() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    fs::write(&file, b"mine").unwrap();
    let host = host(&file, &KEY);
    runs(&host, &echo(5));
    assert_eq!(stats(&host), (0, 0, 0, 2));
    let problem = host.disk_cache_stats().unwrap().last_problem.unwrap();
    assert!(problem.contains("could not write"), "{problem}");
    assert_eq!(fs::read(&file).unwrap(), b"mine");
}

/// The cache holds compiled code, not verdicts: a host that requires a signature
/// refuses an unsigned module another host cached, and a module the ABI refuses is
/// never written.
#[test]
fn a_cached_module_is_still_checked() {
    let dir = tempfile::tempdir().unwrap();
    let wasm = echo(6);
    runs(&host(dir.path(), &KEY), &wasm);
    let strict = Host::builder()
        .http(MockHttp::new())
        .max_instances(8)
        .require_signature_from([])
        .compile_cache_dir(dir.path(), KEY)
        .build()
        .unwrap();
    assert!(strict.load(&wasm).is_err());
    assert_eq!(stats(&strict), (0, 0, 0, 0));

    let empty = tempfile::tempdir().unwrap();
    let host = host(empty.path(), &KEY);
    assert!(host.load(&module_without_manifest(NOOP)).is_err());
    assert_eq!(
        fs::read_dir(empty.path()).map(|d| d.count()).unwrap_or(0),
        0
    );
}

#[test]
fn an_empty_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let error = Host::builder()
        .compile_cache_dir(dir.path(), [])
        .build()
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("`compile_cache_dir` needs a key"),
        "{error}"
    );
}
