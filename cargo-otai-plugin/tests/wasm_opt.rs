//! `build` runs `wasm-opt` on the modules of optimizing profiles, as
//! `[package.metadata.otai-plugin] wasm-opt` says. A stand-in `wasm-opt` (a shell
//! script named by `WASM_OPT`) records its arguments and marks what it writes, so that
//! the test needs no Binaryen and knows which module came out of it; the real one runs
//! on the examples (`tests/tests/examples.rs`, their size budgets).
#![cfg(unix)]

mod support;

use std::path::{Path, PathBuf};

use support::{Project, shared_target_dir, stderr_of};

/// A profile that optimizes in the CLI's sense (not `dev`) and compiles like `dev`, so
/// that the test shares the other tests' dependency builds' speed.
const PROFILE: &str = "wasm-opt-test";

/// The custom section the stand-in appends: id 0, 8 bytes, a 7-byte name.
const MARK: &[u8] = b"\x00\x08\x07fakeopt";

fn stand_in(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write the stand-in");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

fn module(crate_name: &str) -> Vec<u8> {
    let path = shared_target_dir()
        .join("wasm32-unknown-unknown")
        .join(PROFILE)
        .join(format!("{crate_name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn calls(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn build_runs_wasm_opt_as_cargo_toml_says_and_only_when_the_module_changed() {
    let project = Project::plugin("optimized", "minimal");
    let cargo_toml = project.read("Cargo.toml");
    // Cargo.toml as `new` wrote it, with the profile and `extra` after it.
    let cargo_toml_with = |extra: &str| {
        project.write(
            "Cargo.toml",
            format!("{cargo_toml}\n[profile.{PROFILE}]\ninherits = \"dev\"\n{extra}"),
        );
    };
    cargo_toml_with("");
    let tools = project.root.join("tools");
    std::fs::create_dir_all(&tools).expect("mkdir");
    let log = tools.join("calls");
    let fake = stand_in(
        &tools,
        "wasm-opt",
        &format!(
            "echo \"$*\" >> '{}'\n\
             for a; do [ \"$prev\" = -o ] && out=$a; [ \"$a\" = -o ] && in=$prev; prev=$a; done\n\
             cat \"$in\" > \"$out\" && printf '\\000\\010\\007fakeopt' >> \"$out\"",
            log.display()
        ),
    );
    // `build ARGS` with `WASM_OPT` naming `program`.
    let build_with = |program: &Path, args: &[&str]| {
        project
            .cmd(&[&["build"][..], args].concat())
            .env("WASM_OPT", program)
            .output()
            .expect("the CLI runs")
    };
    let profile = ["--profile", PROFILE];
    let build = |args: &[&str]| build_with(&fake, args);

    // Not configured: the default arguments, the features docs/ABI.md accepts, and the
    // module is what the stand-in wrote.
    let output = build(&profile);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("Optimizing `optimized` with wasm-opt -O3 ("),
        "{stderr}"
    );
    let first = module("optimized");
    assert!(first.ends_with(MARK), "the module is not wasm-opt's output");
    let logged = calls(&log);
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert!(
        logged[0].starts_with("-O3 --enable-sign-ext --enable-mutable-globals"),
        "{logged:?}"
    );

    // A no-op build puts back the kept output instead of running it again.
    let output = build(&profile);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(calls(&log).len(), 1, "wasm-opt ran again on a no-op build");
    assert_eq!(module("optimized"), first);

    // Another `wasm-opt` (cargo sees no change, the stamp does): it runs. This one logs
    // and hands over to the first, which logs too.
    let other = stand_in(
        &tools,
        "other-wasm-opt",
        &format!(
            "echo \"other $*\" >> '{}'; exec '{}' \"$@\"",
            log.display(),
            fake.display()
        ),
    );
    let output = build_with(&other, &profile);
    assert!(output.status.success(), "{}", stderr_of(&output));
    let logged = calls(&log);
    assert_eq!(logged.len(), 3, "{logged:?}");
    assert!(logged[1].starts_with("other -O3 --enable-"), "{logged:?}");

    // Other arguments in Cargo.toml: it runs again, with them.
    let with = |setting: &str| {
        cargo_toml_with(&format!(
            "\n[package.metadata.otai-plugin]\nwasm-opt = {setting}\n"
        ));
    };
    with("[\"-Oz\", \"--converge\"]");
    let output = build(&profile);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("Optimizing `optimized` with wasm-opt -Oz --converge ("),
        "{stderr}"
    );
    let logged = calls(&log);
    assert_eq!(logged.len(), 4, "{logged:?}");
    assert!(
        logged[3].starts_with("-Oz --converge --enable-"),
        "{logged:?}"
    );
    assert!(module("optimized").ends_with(MARK));

    // Turned off: the module is cargo's, processed.
    with("false");
    let output = build(&profile);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(calls(&log).len(), 4, "wasm-opt ran while turned off");
    assert!(!module("optimized").ends_with(MARK));

    // The dev profile never runs it.
    with("true");
    let output = build_with(&fake, &[]);
    assert!(output.status.success(), "{}", stderr_of(&output));
    assert_eq!(calls(&log).len(), 4, "wasm-opt ran on a dev build");

    // The component flavour: on the core module, before it is encoded.
    let output = build_with(&fake, &["--component", "--profile", PROFILE]);
    let stderr = stderr_of(&output);
    assert!(output.status.success(), "{stderr}");
    let optimizing = stderr
        .find("Optimizing `optimized` with wasm-opt -O3 (")
        .unwrap_or_else(|| panic!("{stderr}"));
    let encoding = stderr
        .find("Encoding `optimized` as a component")
        .unwrap_or_else(|| panic!("{stderr}"));
    assert!(optimizing < encoding, "{stderr}");
    assert_eq!(calls(&log).len(), 5);
    let component = module("optimized");
    assert!(wasmparser::Parser::is_component(&component));
    assert!(
        component.windows(MARK.len()).any(|w| w == MARK),
        "the component's core module is not wasm-opt's output"
    );

    // A failing wasm-opt fails the build with its message.
    let failing = stand_in(
        &tools,
        "failing-wasm-opt",
        "echo '[wasm-validator error in function 3] unexpected false' >&2; exit 1",
    );
    let output = build_with(&failing, &profile);
    let stderr = stderr_of(&output);
    assert!(!output.status.success(), "{stderr}");
    for expected in [
        "failing-wasm-opt -O3` failed on `",
        "optimized.wasm` (exit status: 1):\n  [wasm-validator error in function 3] unexpected false",
        "(`wasm-opt = false` under `[package.metadata.otai-plugin]` in Cargo.toml builds without it)",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }

    // One that writes a broken module: the check says so, and who broke it.
    let breaking = stand_in(
        &tools,
        "breaking-wasm-opt",
        "for a; do [ \"$prev\" = -o ] && out=$a; [ \"$a\" = -o ] && in=$prev; prev=$a; done\n\
         cat \"$in\" > \"$out\" && printf '\\001' >> \"$out\"",
    );
    let output = build_with(&breaking, &profile);
    let stderr = stderr_of(&output);
    assert!(!output.status.success(), "{stderr}");
    for expected in [
        "optimized.wasm` is not a valid ABI v1 plugin:",
        "- the module had none of these problems before `wasm-opt -O3`: set `wasm-opt = \
         false` under `[package.metadata.otai-plugin]` in Cargo.toml",
    ] {
        assert!(
            stderr.contains(expected),
            "missing {expected:?} in:\n{stderr}"
        );
    }

    // A module the help desk refuses is reported as cargo built it: `wasm-opt` does not
    // run, and the errors do not blame it.
    let lib = project.read("src/lib.rs");
    project.write(
        "src/lib.rs",
        format!(
            "{lib}\n#[link(wasm_import_module = \"env\")]\nunsafe extern \"C\" {{ fn not_ohd(); }}\n\
             #[unsafe(no_mangle)]\npub extern \"C\" fn calls_it() {{ unsafe {{ not_ohd() }} }}\n"
        ),
    );
    let before = calls(&log).len();
    let output = build(&profile);
    let stderr = stderr_of(&output);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("optimized.wasm` is not a valid ABI v1 plugin:")
            && stderr.contains("import `env.not_ohd` is not provided"),
        "{stderr}"
    );
    assert!(!stderr.contains("before `wasm-opt"), "{stderr}");
    assert!(!stderr.contains("Optimizing"), "{stderr}");
    assert_eq!(
        calls(&log).len(),
        before,
        "wasm-opt ran on a refused module"
    );
    project.write("src/lib.rs", lib);

    // Asked for and not there.
    let output = build_with(&tools.join("nothing-here"), &profile);
    let stderr = stderr_of(&output);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("`WASM_OPT` is `")
            && stderr
                .contains("nothing-here`, which is not a file: it names the `wasm-opt` executable"),
        "{stderr}"
    );
}
