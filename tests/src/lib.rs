//! End-to-end tests of the whole toolkit; the tests live in `tests/tests/`.
//!
//! They drive the `cargo-otai-plugin` binary built by the same `cargo test --workspace`
//! run: every example plugin is built from source, checked against ABI v1 and its size
//! budget, and its fixtures are run against the reference host.
