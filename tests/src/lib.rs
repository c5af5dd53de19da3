//! End-to-end tests of the whole toolkit; the tests live in `tests/tests/`.
//!
//! They drive the `cargo-otai-plugin` binary built by the same `cargo test --workspace`
//! run: every example plugin is built from source, checked against ABI v1 and its size
//! budget, and its fixtures are run against the reference host.
//!
//! This crate also compiles the guide's snippets: `cargo test --workspace --doc` runs the
//! `rust` blocks of `docs/SDK.md` as its doc tests (below). They see what a plugin crate
//! sees: the SDK and `serde` (this crate's dev-dependencies), and, for `#[plugin]`, the
//! manifest in this crate's `Cargo.toml`. The guide is not part of a published crate: this
//! one is `publish = false`.

/// The `rust` blocks of `docs/SDK.md`, compiled and run as doc tests.
#[doc = include_str!("../../docs/SDK.md")]
mod sdk_guide {}
