//! Tells the tests whether clang and wasm-ld are here to build `examples/c-hello`, so
//! that the C test is reported as ignored, with the reason, when they are not: a skip
//! that shows as `ok` would claim coverage that did not happen.

use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(no_wasm_clang)");
    println!("cargo::rerun-if-env-changed=PATH");
    let have = |tool: &str| {
        Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !(have("clang") && have("wasm-ld")) {
        println!("cargo::rustc-cfg=no_wasm_clang");
    }
}
