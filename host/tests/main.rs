//! The host's integration tests, one test binary for all (`autotests = false` in
//! Cargo.toml): each file below links wasmtime, and one binary instead of twelve saves
//! about half a gigabyte of disk and eleven links of it. Run one file's tests with
//! `cargo test --workspace --test host-integration http::`. `tests/tests/architecture.rs` checks that
//! every file here is declared below, since cargo no longer finds them by itself.

mod common;

mod addresses;
mod compile_cache;
mod component;
mod cost;
mod defaults;
mod deliver;
mod disk_cache;
mod health_panel_secrets;
mod hostile;
mod http;
mod load;
mod ownership;
mod profile;
mod redaction;
mod signature;
mod testing_helpers;
