//! The desk's integration tests, one test binary for all (`autotests = false` in
//! Cargo.toml): each file below links wasmtime and SQLite, and one binary instead of
//! eight saves several hundred megabytes of disk and seven links. Run one file's tests
//! with `cargo test --workspace --test desk-integration lifecycle::`. `tests/tests/architecture.rs`
//! checks that every file here is declared below, since cargo no longer finds them by
//! itself.

mod common;

mod browser;
mod compiled;
mod configure;
mod cost;
mod database;
mod fire;
mod first_use;
mod fixture;
mod flamegraphs;
mod lifecycle;
mod list;
mod read_beside;
mod registry;
mod secrets_at_rest;
mod settings;
mod trust;
mod web;
mod web_forms;
mod web_live;
mod web_mocks;
mod web_notices;
mod web_plugin_page;
mod web_registry;
mod web_security;
mod web_settings;
mod web_tickets;
