//! The public API of `otai-plugin-sdk` and `otai-plugin-abi` may not change
//! incompatibly without a version bump (docs/COMPATIBILITY.md).
//!
//! Each crate's API is read from the JSON rustdoc writes, written as lines
//! (`render.rs`) and compared with the snapshot in `tests/public-api/CRATE.txt`,
//! which holds the version last released and the lines of the API since
//! (`snapshot.rs`). A line of the release that is gone fails the test until the crate's
//! version is one cargo does not take for a compatible upgrade; any other difference
//! fails until the snapshot is written again, so that every change of the API shows in
//! review as a change of that file:
//!
//! ```text
//! OTAI_BLESS=1 cargo test --workspace --test public_api          # write the snapshots
//! OTAI_BLESS=release cargo test --workspace --test public_api    # after `cargo publish`
//! ```
//!
//! rustdoc writes JSON only on nightly; on stable, `RUSTC_BOOTSTRAP=1` unlocks it for
//! the one `cargo doc` this test runs, as cargo-semver-checks does for its own. The
//! format changes between Rust versions: the test reads Rust 1.95's and, on another
//! toolchain, is ignored with the reason (on CI, where `CI` is set, it fails instead).

mod render;
mod snapshot;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use render::Doc;
use snapshot::{Snapshot, Verdict, Version};

/// The crates whose API is held, by package name.
const CHECKED: [&str; 2] = ["otai-plugin-abi", "otai-plugin-sdk"];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn snapshot_path(package: &str) -> PathBuf {
    workspace()
        .join("tests/public-api")
        .join(format!("{package}.txt"))
}

const BLESS: &str = "OTAI_BLESS=1 cargo test --workspace --test public_api";

/// Both crates' rustdoc JSON, every feature on, built once for every test here.
fn rustdoc_json() -> &'static Result<Vec<(String, Doc)>, String> {
    static DOCS: OnceLock<Result<Vec<(String, Doc)>, String>> = OnceLock::new();
    DOCS.get_or_init(|| {
        let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("public-api");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(workspace())
            .args(["doc", "--no-deps", "--locked", "--all-features"])
            .env("CARGO_TARGET_DIR", &target)
            .env("RUSTC_BOOTSTRAP", "1")
            .env("RUSTDOCFLAGS", "-Z unstable-options --output-format json")
            .env_remove("CARGO_ENCODED_RUSTDOCFLAGS");
        for package in CHECKED {
            cmd.args(["-p", package]);
        }
        let out = cmd
            .output()
            .map_err(|e| format!("running cargo doc: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "cargo doc for the rustdoc JSON failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        CHECKED
            .iter()
            .map(|package| {
                let file = target
                    .join("doc")
                    .join(format!("{}.json", package.replace('-', "_")));
                let text = std::fs::read_to_string(&file)
                    .map_err(|e| format!("reading {}: {e}", file.display()))?;
                let json =
                    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", file.display()))?;
                Ok(((*package).to_owned(), Doc::new(json)?))
            })
            .collect()
    })
}

/// The compatible range (`1`, `0.23`) of each package in `Cargo.lock`, by crate name,
/// preferring the version `package` depends on when the lock holds several.
fn locked_ranges(package: &str) -> impl Fn(&str) -> Option<String> {
    let text =
        std::fs::read_to_string(workspace().join("Cargo.lock")).expect("Cargo.lock is readable");
    let lock: toml::Table = toml::from_str(&text).expect("Cargo.lock is TOML");
    let packages: Vec<(String, String)> = lock["package"]
        .as_array()
        .expect("Cargo.lock lists packages")
        .iter()
        .filter_map(|p| {
            Some((
                p.get("name")?.as_str()?.to_owned(),
                p.get("version")?.as_str()?.to_owned(),
            ))
        })
        .collect();
    let ours: Vec<String> = lock["package"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p.get("name").and_then(|n| n.as_str()) == Some(package))
        .and_then(|p| p.get("dependencies")?.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|d| d.as_str().map(str::to_owned))
        .collect();
    move |krate: &str| {
        let versions: Vec<&(String, String)> = packages
            .iter()
            .filter(|(name, _)| name.replace('-', "_") == krate)
            .collect();
        let chosen = match versions.as_slice() {
            [] => return None,
            [(_, version)] => version.clone(),
            several => several
                .iter()
                .find(|(name, version)| ours.iter().any(|d| d == &format!("{name} {version}")))
                .map(|(_, version)| version.clone())
                .unwrap_or_else(|| {
                    several
                        .iter()
                        .map(|(_, v)| v.as_str())
                        .collect::<Vec<_>>()
                        .join(" | ")
                }),
        };
        Some(range(&chosen))
    }
}

/// The versions cargo takes as compatible with `version`, by their common prefix.
fn range(version: &str) -> String {
    let parts: Vec<&str> = version
        .split(['-', '+'])
        .next()
        .unwrap_or_default()
        .split('.')
        .collect();
    match parts.as_slice() {
        ["0", "0", patch] => format!("0.0.{patch}"),
        ["0", minor, _] => format!("0.{minor}"),
        [major, ..] => (*major).to_owned(),
        [] => version.to_owned(),
    }
}

fn check(package: &str) {
    let docs = rustdoc_json().as_ref().unwrap_or_else(|e| panic!("{e}"));
    let (_, doc) = docs
        .iter()
        .find(|(name, _)| name == package)
        .expect("a checked crate");
    let others: Vec<&Doc> = docs
        .iter()
        .filter(|(name, _)| name != package)
        .map(|(_, d)| d)
        .collect();
    let lines = render::public_api(doc, &others, &locked_ranges(package));
    let texts: Vec<String> = lines.into_iter().map(|l| l.text).collect();
    let current: BTreeSet<String> = texts.iter().cloned().collect();
    let version = Version::parse(doc.crate_version().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{package}: {e}"));
    let path = snapshot_path(package);
    let committed = std::fs::read_to_string(&path).ok();
    let parsed = committed.as_deref().map(Snapshot::parse);

    if let Some(mode) = std::env::var_os("OTAI_BLESS") {
        let (released, released_lines) = match (&parsed, mode == "release") {
            (_, true) | (None, _) => (version, current.clone()),
            (Some(Ok(s)), false) => (s.released, s.released_lines()),
            (Some(Err(e)), false) => panic!("{}: {e}", path.display()),
        };
        let text = header(package) + &Snapshot::write(released, &released_lines, &texts);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }

    let shown = format!("tests/public-api/{package}.txt");
    let snapshot = match parsed {
        None => panic!("{shown} is missing: write it with `{BLESS}` and commit it"),
        Some(Err(e)) => panic!("{shown}: {e}"),
        Some(Ok(s)) => s,
    };
    match snapshot::verdict(&snapshot, version, &current) {
        Verdict::Same => {}
        Verdict::Incompatible {
            removed,
            added,
            needs,
        } => panic!(
            "{package}'s public API changed incompatibly since {released}, and its version \
             ({version}) is one cargo takes for a compatible upgrade of {released}: a plugin or \
             host that builds with {released} may not build with it.\n\
             Released and gone:\n{}\nNew:\n{}\n\
             Bump the version to {needs} (workspace Cargo.toml), say what changed in \
             CHANGELOG.md, and update the snapshot: `{BLESS}`. If the change cannot break any \
             user after all, delete its `- ` lines from {shown} by hand and say why in the \
             commit.",
            list(&removed),
            list(&added),
            released = snapshot.released,
        ),
        Verdict::Changed { removed, added } => panic!(
            "{package}'s public API differs from {shown} (compatibly with {released}, or \
             after the version moved past it):\nGone:\n{}\nNew:\n{}\n\
             Update the snapshot, and review its diff: `{BLESS}`",
            list(&removed),
            list(&added),
            released = snapshot.released,
        ),
    }
}

fn list(lines: &[String]) -> String {
    if lines.is_empty() {
        return "  (none)\n".to_owned();
    }
    lines.iter().map(|l| format!("  {l}\n")).collect()
}

fn header(package: &str) -> String {
    format!(
        "# The public API of {package}, every feature on, as tests/tests/public_api reads it \
         from rustdoc.\n\
         # `released`: the version last published. Lines: `  ` released, `+ ` added since, \
         `- ` released and gone\n\
         # (an incompatible change: the version must be past `released`). docs/COMPATIBILITY.md \
         says what is promised.\n\
         # Write it with `{BLESS}`; after publishing, with OTAI_BLESS=release.\n"
    )
}

#[test]
#[cfg_attr(
    rustdoc_json_unknown,
    ignore = "reads rustdoc JSON as Rust 1.95 writes it (format 57); this toolchain is another"
)]
fn sdk_public_api_matches_its_snapshot() {
    check("otai-plugin-sdk");
}

#[test]
#[cfg_attr(
    rustdoc_json_unknown,
    ignore = "reads rustdoc JSON as Rust 1.95 writes it (format 57); this toolchain is another"
)]
fn abi_public_api_matches_its_snapshot() {
    check("otai-plugin-abi");
}

#[test]
#[cfg(rustdoc_json_unknown)]
fn ci_checks_the_public_api() {
    assert!(
        std::env::var_os("CI").is_none(),
        "CI runs Rust 1.95, whose rustdoc JSON the public API check reads: it was ignored on this toolchain"
    );
}

/// docs/COMPATIBILITY.md tells a maintainer how to run and update this check: its
/// commands and the format it reads must be this file's.
#[test]
fn the_compatibility_doc_describes_this_check() {
    let doc = std::fs::read_to_string(workspace().join("docs/COMPATIBILITY.md"))
        .expect("docs/COMPATIBILITY.md is readable");
    let release = BLESS.replace("OTAI_BLESS=1", "OTAI_BLESS=release");
    for needed in [
        BLESS.to_owned(),
        release,
        format!("format {}", render::FORMAT_VERSION),
        "tests/public-api/CRATE.txt".to_owned(),
    ] {
        assert!(
            doc.contains(&needed),
            "docs/COMPATIBILITY.md does not say `{needed}`"
        );
    }
    for package in CHECKED {
        assert!(
            doc.contains(&format!("`{package}`")),
            "docs/COMPATIBILITY.md does not name `{package}`"
        );
    }
    for (file, link) in [
        ("README.md", "(docs/COMPATIBILITY.md)"),
        ("README.md", "(CHANGELOG.md)"),
        ("CHANGELOG.md", "(docs/COMPATIBILITY.md)"),
    ] {
        let text = std::fs::read_to_string(workspace().join(file)).expect("readable");
        assert!(text.contains(link), "{file} does not link {link}");
    }
}
