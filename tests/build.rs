//! Tells the tests whether clang and wasm-ld are here to build `examples/c-hello`, so
//! that the C test is reported as ignored, with the reason, when they are not: a skip
//! that shows as `ok` would claim coverage that did not happen. And whether the CLI
//! finds `wasm-opt`, which sets the examples' size budgets. And whether the compiler is
//! Rust 1.95, whose rustdoc JSON the public API check (`tests/public_api`) reads.

use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(no_wasm_clang)");
    println!("cargo::rustc-check-cfg=cfg(no_wasm_opt)");
    println!("cargo::rustc-check-cfg=cfg(rustdoc_json_unknown)");
    println!("cargo::rerun-if-env-changed=PATH");
    println!("cargo::rerun-if-env-changed=WASM_OPT");
    let have = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !(have("clang") && have("wasm-ld")) {
        println!("cargo::rustc-cfg=no_wasm_clang");
    }
    let wasm_opt = std::env::var("WASM_OPT")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "wasm-opt".to_owned());
    if !have(&wasm_opt) {
        println!("cargo::rustc-cfg=no_wasm_opt");
    }
    // rustdoc and rustc come from one toolchain.
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = Command::new(rustc)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if !version.starts_with("rustc 1.95.") {
        println!("cargo::rustc-cfg=rustdoc_json_unknown");
    }
}
