//! Keeps the builder's home folder out of the modules `build` writes.
//!
//! rustc writes the path of a source file into the module wherever code can panic
//! (`Location::file()`, which the SDK's panic hook reports). Cargo passes a workspace
//! member's files as relative paths, but a dependency from a registry or a git
//! repository as absolute ones under the cargo home: a plugin built against the
//! published SDK carries `/home/alice/.cargo/registry/src/…/otai-plugin-sdk-0.1.0/src/rt.rs`,
//! and ships the author's user name to every help desk that installs it (and its size
//! depends on the length of that name). Cargo's own cure, `profile.trim-paths`, is not
//! stable in the cargo of Rust 1.95; rustc's `--remap-path-prefix` is, so `build` asks
//! for it: the cargo home's `registry/src/` and `git/checkouts/` are cut from every
//! path, leaving `index.crates.io-1949cf8c6b5b557f/otai-plugin-sdk-0.1.0/src/rt.rs`,
//! the same on every machine.
//!
//! The flags are added to the user's own, never in place of them. Cargo takes a build's
//! flags from the first of `CARGO_ENCODED_RUSTFLAGS`, `RUSTFLAGS`, the
//! `target.<triple>.rustflags` of its configs, `build.rustflags`; this adds to the one
//! that applies (a `--config` array is joined to the configs' arrays), so a user's
//! `RUSTFLAGS`, or a plugin's `.cargo/config.toml` (the templates set the stack size
//! there), keep working as they did.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};

/// Where cargo will look for the flags of a `--target <triple>` build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FlagSource {
    /// `CARGO_ENCODED_RUSTFLAGS`: the flags as given, `\x1f`-separated.
    Encoded(String),
    /// `RUSTFLAGS`: the flags as given, whitespace-separated.
    Plain(String),
    /// `target.<triple>.rustflags` (or a `cfg(…)` target table), or nothing at all:
    /// ours go there.
    TargetConfig,
    /// `build.rustflags` (a config file or `CARGO_BUILD_RUSTFLAGS`) and no target table:
    /// ours join them there, since a target table would make cargo ignore them.
    BuildConfig,
}

/// How a build's command and environment change to remap the cargo home's paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Remap {
    /// Arguments for cargo (`--config …`).
    Args(Vec<OsString>),
    /// `CARGO_ENCODED_RUSTFLAGS` to set, holding the user's flags and ours.
    Env(OsString),
}

/// The `--remap-path-prefix` flags for `cargo_home`: its `registry/src/` and
/// `git/checkouts/`, both as given and as resolved when they differ (cargo names
/// sources through the cargo home as it finds it). `None` when a path is not UTF-8,
/// which cargo's config cannot carry.
pub(crate) fn flags(cargo_home: &Path) -> Option<Vec<String>> {
    let mut homes = vec![cargo_home.to_path_buf()];
    if let Ok(resolved) = cargo_home.canonicalize()
        && resolved != cargo_home
    {
        homes.push(resolved);
    }
    let mut flags = Vec::new();
    for home in homes {
        for sources in ["registry/src", "git/checkouts"] {
            let prefix = home.join(sources);
            flags.push(format!("--remap-path-prefix={}/=", prefix.to_str()?));
        }
    }
    Some(flags)
}

/// Where this process's environment and the configs cargo reads from `cwd` put the
/// flags of a build for `target`.
pub(crate) fn flag_source(target: &str, cwd: &Path, cargo_home: &Path) -> FlagSource {
    if let Some(encoded) = std::env::var_os("CARGO_ENCODED_RUSTFLAGS") {
        return FlagSource::Encoded(encoded.to_string_lossy().into_owned());
    }
    if let Some(plain) = std::env::var_os("RUSTFLAGS") {
        return FlagSource::Plain(plain.to_string_lossy().into_owned());
    }
    let configs = config_files(cwd, cargo_home);
    let tables: Vec<toml::Table> = configs
        .iter()
        .filter_map(|file| std::fs::read_to_string(file).ok()?.parse().ok())
        .collect();
    config_source(
        target,
        &tables,
        std::env::var_os("CARGO_BUILD_RUSTFLAGS").is_some(),
    )
}

/// [`flag_source`] once the configs are read: a target table wins over
/// `build.rustflags` as in cargo, and a `cfg(…)` table counts as a target table (it may
/// match wasm32; adding ours to a target table is then what cargo would use anyway).
fn config_source(target: &str, configs: &[toml::Table], build_env: bool) -> FlagSource {
    let target_table = configs.iter().any(|config| {
        config
            .get("target")
            .and_then(toml::Value::as_table)
            .is_some_and(|targets| {
                targets.iter().any(|(name, table)| {
                    (name == target || name.starts_with("cfg(")) && table.get("rustflags").is_some()
                })
            })
    });
    let build = build_env
        || configs.iter().any(|config| {
            config
                .get("build")
                .and_then(|b| b.get("rustflags"))
                .is_some()
        });
    if build && !target_table {
        FlagSource::BuildConfig
    } else {
        FlagSource::TargetConfig
    }
}

/// The config files cargo reads from `cwd`: `.cargo/config.toml` (or the older
/// `.cargo/config`) in it and each parent, then the cargo home's.
fn config_files(cwd: &Path, cargo_home: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut push = |dir: &Path| {
        for name in ["config.toml", "config"] {
            let file = dir.join(name);
            if file.is_file() {
                files.push(file);
                break;
            }
        }
    };
    for dir in cwd.ancestors() {
        push(&dir.join(".cargo"));
    }
    push(cargo_home);
    files
}

/// What to add to a build for `target` for `flags` given `source`.
pub(crate) fn remap(target: &str, source: &FlagSource, flags: &[String]) -> Remap {
    let as_config = |key: &str| {
        let array = toml::Value::Array(flags.iter().cloned().map(toml::Value::String).collect());
        vec![
            OsString::from("--config"),
            OsString::from(format!("{key}={array}")),
        ]
    };
    match source {
        FlagSource::Encoded(given) => {
            let mut all: Vec<&str> = given.split('\x1f').filter(|f| !f.is_empty()).collect();
            all.extend(flags.iter().map(String::as_str));
            Remap::Env(all.join("\x1f").into())
        }
        FlagSource::Plain(given) => {
            let mut all: Vec<&str> = given.split_whitespace().collect();
            all.extend(flags.iter().map(String::as_str));
            Remap::Env(all.join("\x1f").into())
        }
        FlagSource::TargetConfig => Remap::Args(as_config(&format!("target.{target}.rustflags"))),
        FlagSource::BuildConfig => Remap::Args(as_config("build.rustflags")),
    }
}

/// The cargo home cargo uses: `CARGO_HOME`, else `~/.cargo`.
pub(crate) fn cargo_home() -> Option<PathBuf> {
    match std::env::var_os("CARGO_HOME").filter(|h| !h.is_empty()) {
        Some(home) => Some(absolute(&home)),
        None => std::env::home_dir().map(|home| home.join(".cargo")),
    }
}

fn absolute(path: &OsStr) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| PathBuf::from(path))
}

/// Adds the remapping to `command`, a `cargo build --target <target>` about to run in
/// this process's current folder. Nothing when the cargo home is unknown or not UTF-8:
/// the build then runs as cargo would run it.
pub(crate) fn apply(command: &mut std::process::Command, target: &str) {
    let Some(home) = cargo_home() else { return };
    let Some(flags) = flags(&home) else { return };
    let cwd = std::env::current_dir().unwrap_or_default();
    match remap(target, &flag_source(target, &cwd, &home), &flags) {
        Remap::Args(args) => {
            command.args(args);
        }
        Remap::Env(encoded) => {
            command
                .env("CARGO_ENCODED_RUSTFLAGS", encoded)
                .env_remove("RUSTFLAGS");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WASM: &str = "wasm32-unknown-unknown";

    fn table(text: &str) -> toml::Table {
        text.parse().unwrap()
    }

    #[test]
    fn the_registry_and_git_sources_are_cut_to_the_same_prefix_everywhere() {
        let flags = flags(Path::new("/home/alice/.cargo")).unwrap();
        assert_eq!(
            flags,
            [
                "--remap-path-prefix=/home/alice/.cargo/registry/src/=",
                "--remap-path-prefix=/home/alice/.cargo/git/checkouts/=",
            ]
        );
    }

    #[test]
    fn the_flags_join_the_table_cargo_reads_and_never_replace_it() {
        // The templates' own `.cargo/config.toml`: a target table, which ours joins.
        let template = table(
            "[target.wasm32-unknown-unknown]\nrustflags = [\"-C\", \"link-arg=-zstack-size=65536\"]\n",
        );
        assert_eq!(
            config_source(WASM, &[template], false),
            FlagSource::TargetConfig
        );
        // Only `build.rustflags`: a target table of ours would hide it from cargo.
        let build = table("[build]\nrustflags = [\"-C\", \"target-feature=+simd128\"]\n");
        assert_eq!(
            config_source(WASM, std::slice::from_ref(&build), false),
            FlagSource::BuildConfig
        );
        assert_eq!(config_source(WASM, &[], true), FlagSource::BuildConfig);
        // Both: cargo uses the target table, so ours go there.
        let cfg = table("[target.'cfg(target_family = \"wasm\")']\nrustflags = [\"-Dwarnings\"]\n");
        assert_eq!(
            config_source(WASM, &[build, cfg], false),
            FlagSource::TargetConfig
        );
        assert_eq!(config_source(WASM, &[], false), FlagSource::TargetConfig);
    }

    #[test]
    fn rustflags_from_the_environment_are_kept_before_ours() {
        let ours = vec!["--remap-path-prefix=/h/registry/src/=".to_owned()];
        assert_eq!(
            remap(WASM, &FlagSource::Plain(" -C  opt-level=1 ".into()), &ours),
            Remap::Env("-C\x1fopt-level=1\x1f--remap-path-prefix=/h/registry/src/=".into())
        );
        assert_eq!(
            remap(WASM, &FlagSource::Encoded("-C\x1fa b".into()), &ours),
            Remap::Env("-C\x1fa b\x1f--remap-path-prefix=/h/registry/src/=".into())
        );
        let Remap::Args(args) = remap(WASM, &FlagSource::TargetConfig, &ours) else {
            panic!("a config table takes arguments");
        };
        assert_eq!(args[0], "--config");
        let value: toml::Table = args[1].to_str().unwrap().parse().unwrap();
        assert_eq!(
            value["target"]["wasm32-unknown-unknown"]["rustflags"][0].as_str(),
            Some(ours[0].as_str())
        );
    }

    #[test]
    fn a_path_with_quotes_stays_one_toml_string() {
        let flags = flags(Path::new("/tmp/a \"b\"\\c")).unwrap();
        let Remap::Args(args) = remap(WASM, &FlagSource::BuildConfig, &flags) else {
            panic!("a config table takes arguments");
        };
        let value: toml::Table = args[1].to_str().unwrap().parse().unwrap();
        assert_eq!(
            value["build"]["rustflags"][0].as_str(),
            Some("--remap-path-prefix=/tmp/a \"b\"\\c/registry/src/=")
        );
    }
}
