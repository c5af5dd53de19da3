//! `ARCHITECTURE.md` held to the code: which crate of the workspace may depend on which,
//! the SDK's ground floor (`sdk/src/sys/`) depending on no other module of the SDK, and
//! the files it and `docs/TESTING.md` send a reader to.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{members, workspace};

/// `(package, dependency, kind)` for every dependency of every workspace member on
/// another member, of any kind (`normal`, `build`, `dev`).
fn internal_dependencies() -> Vec<(String, String, String)> {
    let packages = members();
    let names: Vec<&str> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    let mut edges = Vec::new();
    for package in &packages {
        let name = package["name"].as_str().unwrap();
        for dep in package["dependencies"].as_array().unwrap() {
            let kind = dep["kind"].as_str().unwrap_or("normal");
            let dep = dep["name"].as_str().unwrap();
            if dep != name && names.contains(&dep) {
                edges.push((name.to_owned(), dep.to_owned(), kind.to_owned()));
            }
        }
    }
    assert!(
        edges
            .iter()
            .any(|(p, d, _)| p == "otai-plugin-host" && d == "otai-plugin-abi"),
        "the dependency listing is empty or unreadable: {edges:?}"
    );
    edges
}

#[test]
fn crates_depend_only_on_the_layers_below_them() {
    let edges = internal_dependencies();
    let forbidden = |from: &str, to: &str, kind: &str| -> Option<&'static str> {
        match (from, to) {
            ("otai-plugin-abi", _) => Some("the contract depends on no crate of ours"),
            ("otai-plugin-test-support", "otai-plugin-abi") => None,
            ("otai-plugin-test-support", _) => {
                Some("the test support sits under the tests it serves: at most the contract")
            }
            (_, "otai-plugin-test-support") if kind != "dev" => Some(
                "the test support is unpublished: a dev-dependency only, or the published crates would need it",
            ),
            ("otai-plugin-host", "otai-plugin-sdk" | "otai-plugin-macros") => {
                Some("the host never depends on the guest SDK")
            }
            ("otai-plugin-sdk" | "otai-plugin-macros", "otai-plugin-host") => {
                Some("the guest SDK never depends on the host")
            }
            ("otai-plugin-desk", "otai-plugin-sdk" | "otai-plugin-macros") => {
                Some("the desk runs plugins through the host, never the guest SDK")
            }
            ("otai-plugin-host" | "otai-plugin-sdk" | "otai-plugin-macros", "otai-plugin-desk") => {
                Some(
                    "the desk sits on the host: the host and the guest side stay free of its storage",
                )
            }
            (_, "cargo-otai-plugin") => Some("no crate depends on the CLI"),
            _ => None,
        }
    };
    let broken: Vec<String> = edges
        .iter()
        .filter_map(|(from, to, kind)| {
            forbidden(from, to, kind).map(|why| format!("{from} -> {to} ({kind}): {why}"))
        })
        .collect();
    assert!(
        broken.is_empty(),
        "ARCHITECTURE.md is broken:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_sdks_raw_imports_depend_on_no_other_module_of_the_sdk() {
    let dir = workspace().join("sdk/src/sys");
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).expect("sdk/src/sys exists") {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        files += 1;
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            assert!(
                !code.contains("crate::") && !code.contains("super::super"),
                "{}:{}: `sys` is the SDK's ground floor and may not use other SDK modules: {line}",
                path.display(),
                n + 1
            );
        }
    }
    assert!(
        files >= 2,
        "expected sys/mod.rs and sys/native.rs in {}",
        dir.display()
    );
}

/// `cargo tree`'s `package version [features]` lines for the host platform's normal
/// (and with `dev`, dev-) dependencies of `selection`.
fn features(selection: &[&str], edges: &str) -> std::collections::BTreeSet<String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "tree",
            "--locked",
            "--offline",
            "--prefix",
            "none",
            "--no-dedupe",
        ])
        .args(["-e", edges, "-f", "{p} [{f}]"])
        .args(selection)
        .current_dir(workspace())
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        // `(*)` marks a repeat, and a path dependency's line carries its path.
        .map(|l| l.replace(" (*)", ""))
        .map(|l| match (l.find(" ("), l.find(" [")) {
            (Some(path), Some(features)) if path < features => {
                format!("{}{}", &l[..path], &l[features..])
            }
            _ => l,
        })
        .collect()
}

/// `cargo otai-plugin …` (a `cargo run -p cargo-otai-plugin`) and `cargo test
/// --workspace` resolve features for different sets of packages. Where a dependency of
/// the CLI gets other features in the test build, it and everything above it (wasmtime,
/// the host) is compiled twice, which on CI's two cores costs minutes. The CLI's
/// Cargo.toml asks for the test build's features to keep the two builds one.
#[test]
fn the_cli_is_built_with_the_features_the_test_build_gives_its_dependencies() {
    let cli = features(&["-p", "cargo-otai-plugin"], "normal");
    let tests = features(&["--workspace"], "normal,dev");
    // A package the test build has with other features; `tests` may hold a second set
    // for the same package (build scripts and proc macros resolve apart), so compare
    // by package, and only the CLI's sets need to be among the test build's.
    let missing: Vec<&String> = cli.iter().filter(|line| !tests.contains(*line)).collect();
    assert!(
        missing.is_empty(),
        "the CLI's dependencies have features the test build does not give them (or lack \
         some it does); add the test build's features to cargo-otai-plugin/Cargo.toml:\n{}",
        missing
            .iter()
            .map(|l| format!("  {l}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The repository's paths in backticks in `text`, outside fenced blocks: those that start
/// at a top-level folder of the workspace. Others (`commands/dev.rs` under a crate the
/// sentence names, globs) are the reader's to resolve.
fn repository_paths(text: &str) -> Vec<String> {
    const ROOTS: &[&str] = &[
        "abi/",
        "cargo-otai-plugin/",
        "conformance/",
        "desk/",
        "docs/",
        "examples/",
        "fuzz/",
        "host/",
        "sdk/",
        "sdk-macros/",
        "test-support/",
        "tests/",
        "wit/",
    ];
    // A fence's three backticks would turn the inline spans after it inside out.
    let mut in_fence = false;
    let prose: Vec<&str> = text
        .lines()
        .filter(|line| {
            if line.trim_start().starts_with("```") {
                in_fence = !in_fence;
                return false;
            }
            !in_fence
        })
        .collect();
    prose
        .join("\n")
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|span| ROOTS.iter().any(|root| span.starts_with(root)))
        .filter(|span| !span.contains(['*', '{', '<', ' ', '\n']))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_files_the_architecture_and_the_testing_guide_name_exist() {
    let mut named = 0;
    let mut missing = Vec::new();
    for doc in ["ARCHITECTURE.md", "docs/TESTING.md"] {
        let text = std::fs::read_to_string(workspace().join(doc)).expect("the document exists");
        for path in repository_paths(&text) {
            named += 1;
            if !workspace().join(&path).exists() {
                missing.push(format!("{doc}: `{path}`"));
            }
        }
    }
    assert!(
        named >= 50,
        "only {named} paths found: is the reading broken?"
    );
    assert!(
        missing.is_empty(),
        "named but not in the repository:\n{}",
        missing.join("\n")
    );
}

#[test]
fn repository_paths_are_the_backticked_spans_under_a_top_level_folder() {
    let text = "`host/src/run.rs` and `run.rs`, `conformance/v1/`, `load-*`, `abi/src/{a,b}.rs`,\n\
                ```sh\ncargo test -p abi/\n```\n\
                `desk serve`, `cargo test`, `docs/ABI.md`";
    assert_eq!(
        repository_paths(text),
        ["host/src/run.rs", "conformance/v1/", "docs/ABI.md"]
    );
}

/// A crate whose integration tests are one binary (`autotests = false`, a `[[test]]`
/// target whose `main.rs` declares each file as a module) no longer has cargo find a new
/// file in `tests/`: a file nobody declares would compile nowhere, and its tests pass by
/// never running. Every `.rs` file directly in a member's `tests/` is a test target of
/// its own or a module of one.
#[test]
fn every_file_in_a_tests_folder_is_compiled() {
    let mut checked = 0;
    let mut orphans = Vec::new();
    for package in members() {
        let manifest = Path::new(package["manifest_path"].as_str().expect("manifest_path"));
        let tests = manifest.parent().expect("a package folder").join("tests");
        let Ok(entries) = std::fs::read_dir(&tests) else {
            continue;
        };
        let targets: Vec<PathBuf> = package["targets"]
            .as_array()
            .expect("targets")
            .iter()
            .filter(|t| {
                t["kind"]
                    .as_array()
                    .is_some_and(|k| k.contains(&"test".into()))
            })
            .map(|t| PathBuf::from(t["src_path"].as_str().expect("src_path")))
            .collect();
        // The modules that the test targets rooted in `tests/` itself declare.
        let declared: Vec<String> = targets
            .iter()
            .filter(|root| root.parent() == Some(tests.as_path()))
            .flat_map(|root| {
                let text = std::fs::read_to_string(root).expect("a test target's file");
                text.lines()
                    .filter_map(|line| {
                        let line = line
                            .trim_start()
                            .strip_prefix("pub ")
                            .unwrap_or(line.trim_start());
                        line.strip_prefix("mod ")?
                            .strip_suffix(';')
                            .map(str::to_owned)
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            checked += 1;
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            if !targets.contains(&path) && !declared.iter().any(|m| m == stem) {
                orphans.push(path.display().to_string());
            }
        }
    }
    assert!(
        checked >= 40,
        "only {checked} test files found: is the reading broken?"
    );
    assert!(
        orphans.is_empty(),
        "these test files are in no test target (declare each as `mod NAME;` in its crate's \
         tests/main.rs):\n{}",
        orphans.join("\n")
    );
}
