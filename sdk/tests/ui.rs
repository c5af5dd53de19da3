//! `#[plugin]` and `#[derive(Config)]` UI tests: what compiles, and the exact errors for
//! every user mistake. Regenerate the `.stderr` files with
//! `TRYBUILD=overwrite cargo test --workspace --test ui`.
//!
//! They are the macro crate's tests, kept in the SDK: every case goes through the SDK, and
//! a dev-dependency of `otai-plugin-macros` on `otai-plugin-sdk`, which depends on the
//! macros, is a cycle that `cargo package` cannot resolve.
//!
//! trybuild compiles each case as a binary of a generated crate whose `Cargo.toml` we
//! do not control, so the cases point `#[plugin(cargo_toml = "…")]` at manifests under
//! `tests/fixtures/`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
