//! `#[plugin]` UI tests: what compiles, and the exact errors for every user mistake.
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite cargo test -p otai-plugin-macros --test ui`.
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
