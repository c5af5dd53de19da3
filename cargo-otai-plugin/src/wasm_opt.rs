//! Binaryen's `wasm-opt` on the modules of optimized builds, as wasm-pack runs it:
//! about 12% smaller plugins for no slower decode (docs/PERFORMANCE.md, "Sizes").
//!
//! A package chooses in its Cargo.toml:
//!
//! ```toml
//! [package.metadata.otai-plugin]
//! wasm-opt = false          # never
//! # wasm-opt = true         # always, with the default arguments (`-O3`)
//! # wasm-opt = ["-Oz"]      # always, with these arguments
//! ```
//!
//! Without the key, a build with an optimizing profile (`--release`, or any `--profile`
//! but `dev` and `test`) runs `wasm-opt -O3` when it finds it, and says so when it does
//! not; with `true` or arguments, a missing `wasm-opt` is an error. `WASM_OPT` names the
//! executable; otherwise `wasm-opt` is looked up on `PATH`. Binaryen reads core modules
//! only: in the component flavour it runs on the core module before it is encoded.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use cargo_metadata::camino::Utf8Path;
use serde_json::Value;
use wasmparser::WasmFeatures;

/// The key of `[package.metadata]` that holds this CLI's build settings.
pub(crate) const METADATA_TABLE: &str = "otai-plugin";
/// The arguments of `wasm-opt = true` and of an unconfigured optimized build: as small
/// as `-Oz` for our plugins (0.3% larger), and the decode inside wasm is not slower
/// (with `-Oz` it is 2–8% slower; `OTAI_BENCH_ONLY=decode`).
pub(crate) const DEFAULT_ARGS: &[&str] = &["-O3"];
/// The environment variable naming the `wasm-opt` executable.
pub(crate) const ENV: &str = "WASM_OPT";

/// Binaryen's flag for each WebAssembly feature ABI v1 accepts
/// (`otai_plugin_abi::module::accepted_features`, docs/ABI.md section 1), so that
/// `wasm-opt` reads any plugin a host runs: a stripped module has no `target_features`
/// section to detect them from, and Binaryen enables only the MVP by default. Whatever it
/// writes stays within these, so within what every host accepts (the check after it says
/// so too). A test holds the table to the contract's set.
const FEATURE_FLAGS: &[(WasmFeatures, &str)] = &[
    (WasmFeatures::SIGN_EXTENSION, "--enable-sign-ext"),
    (WasmFeatures::MUTABLE_GLOBAL, "--enable-mutable-globals"),
    (
        WasmFeatures::SATURATING_FLOAT_TO_INT,
        "--enable-nontrapping-float-to-int",
    ),
    (WasmFeatures::SIMD, "--enable-simd"),
    (WasmFeatures::BULK_MEMORY, "--enable-bulk-memory"),
    (WasmFeatures::MULTI_VALUE, "--enable-multivalue"),
    (WasmFeatures::REFERENCE_TYPES, "--enable-reference-types"),
    (WasmFeatures::TAIL_CALL, "--enable-tail-call"),
    (WasmFeatures::EXTENDED_CONST, "--enable-extended-const"),
    (WasmFeatures::RELAXED_SIMD, "--enable-relaxed-simd"),
    (WasmFeatures::THREADS, "--enable-threads"),
];

/// The `--enable-*` arguments for what ABI v1 accepts.
fn feature_flags() -> impl Iterator<Item = &'static str> {
    FEATURE_FLAGS.iter().map(|(_, flag)| *flag)
}

/// `[package.metadata.otai-plugin] wasm-opt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Setting {
    /// Not configured: run with [`DEFAULT_ARGS`] when `wasm-opt` is found.
    Default,
    /// `false`.
    Off,
    /// `true` (with [`DEFAULT_ARGS`]) or the arguments given: `wasm-opt` must be found.
    Required(Vec<String>),
}

impl Setting {
    /// Reads the setting from a package's `metadata` (as `cargo metadata` gives it).
    /// Returns warnings for keys of the table this CLI does not know.
    ///
    /// # Errors
    /// The table or the key has the wrong type; the message names `manifest_path` and
    /// the key, and says what was found.
    pub(crate) fn from_metadata(
        metadata: &Value,
        manifest_path: &Utf8Path,
    ) -> Result<(Setting, Vec<String>)> {
        let Some(table) = metadata.get(METADATA_TABLE) else {
            return Ok((Setting::Default, Vec::new()));
        };
        let Some(table) = table.as_object() else {
            bail!(
                "`{manifest_path}`: `package.metadata.{METADATA_TABLE}` must be a table, found {}",
                describe(table)
            );
        };
        let warnings = table
            .keys()
            .filter(|key| *key != "wasm-opt")
            .map(|key| {
                format!(
                    "`{manifest_path}`: unused key `package.metadata.{METADATA_TABLE}.{key}` \
                     (the only key is `wasm-opt`)"
                )
            })
            .collect();
        let setting = match table.get("wasm-opt") {
            None => Setting::Default,
            Some(Value::Bool(false)) => Setting::Off,
            Some(Value::Bool(true)) => {
                Setting::Required(DEFAULT_ARGS.iter().map(|a| (*a).to_owned()).collect())
            }
            Some(Value::Array(items)) => {
                let args = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| match item {
                        Value::String(arg) => Ok(arg.clone()),
                        other => bail!(
                            "`{manifest_path}`: `package.metadata.{METADATA_TABLE}.wasm-opt[{i}]` \
                             must be a string (a `wasm-opt` argument), found {}",
                            describe(other)
                        ),
                    })
                    .collect::<Result<Vec<String>>>()?;
                Setting::Required(args)
            }
            Some(other) => bail!(
                "`{manifest_path}`: `package.metadata.{METADATA_TABLE}.wasm-opt` must be \
                 `true`, `false` or an array of `wasm-opt` arguments such as `[\"-Oz\"]`, \
                 found {}",
                describe(other)
            ),
        };
        Ok((setting, warnings))
    }
}

/// A JSON value as a TOML reader would name it.
fn describe(value: &Value) -> String {
    match value {
        Value::Null => "nothing".to_owned(),
        Value::Bool(b) => format!("the boolean `{b}`"),
        Value::Number(n) => format!("the number `{n}`"),
        Value::String(s) => format!("the string {s:?}"),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "a table".to_owned(),
    }
}

/// Whether a build with these profile options is one `wasm-opt` runs on.
pub(crate) fn optimizing_profile(release: bool, profile: Option<&str>) -> bool {
    release || profile.is_some_and(|p| p != "dev" && p != "test")
}

/// What a package's build does about `wasm-opt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolved {
    /// Run it.
    Run(WasmOpt),
    /// Off by the setting or by the profile.
    Off,
    /// Not configured and not found: the build says so and goes on.
    NotFound,
}

/// Decides from the setting, the profile, `WASM_OPT` (`env`) and `PATH` (`path`).
///
/// # Errors
/// `WASM_OPT` names no file, or the setting requires `wasm-opt` and it is not found.
pub(crate) fn resolve(
    setting: &Setting,
    optimizing_profile: bool,
    env: Option<OsString>,
    path: Option<OsString>,
    manifest_path: &Utf8Path,
) -> Result<Resolved> {
    if !optimizing_profile || *setting == Setting::Off {
        return Ok(Resolved::Off);
    }
    let program = match env.filter(|v| !v.is_empty()) {
        Some(program) => {
            let program = PathBuf::from(program);
            if !program.is_file() {
                bail!(
                    "`{ENV}` is `{}`, which is not a file: it names the `wasm-opt` executable",
                    program.display()
                );
            }
            Some(program)
        }
        None => path.and_then(|path| find_on_path(&path)),
    };
    let args = match setting {
        Setting::Required(args) => args.clone(),
        _ => DEFAULT_ARGS.iter().map(|a| (*a).to_owned()).collect(),
    };
    match (program, setting) {
        (Some(program), _) => Ok(Resolved::Run(WasmOpt::new(program, args))),
        (None, Setting::Required(_)) => bail!(
            "`{manifest_path}` asks for `wasm-opt` (`package.metadata.{METADATA_TABLE}.wasm-opt`), \
             and it is not on `PATH`; install Binaryen (`apt-get install binaryen`, \
             `brew install binaryen`, or a release from \
             https://github.com/WebAssembly/binaryen/releases) or set `{ENV}` to its path"
        ),
        (None, _) => Ok(Resolved::NotFound),
    }
}

fn find_on_path(path: &std::ffi::OsStr) -> Option<PathBuf> {
    let name = if cfg!(windows) {
        "wasm-opt.exe"
    } else {
        "wasm-opt"
    };
    std::env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The `wasm-opt` a build runs, and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WasmOpt {
    program: PathBuf,
    args: Vec<String>,
}

impl WasmOpt {
    pub(crate) fn new(program: PathBuf, args: Vec<String>) -> WasmOpt {
        WasmOpt { program, args }
    }

    /// The arguments as the status line shows them.
    pub(crate) fn args(&self) -> String {
        self.args.join(" ")
    }

    /// What a build's stamp records: another executable (by size and modification
    /// time) or other arguments give other bytes.
    pub(crate) fn key(&self) -> String {
        let file = std::fs::metadata(&self.program).ok().map(|meta| {
            let modified = meta
                .modified()
                .ok()
                .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_nanos());
            format!("{} bytes, {modified}", meta.len())
        });
        format!(
            "{} ({}) {}",
            self.program.display(),
            file.unwrap_or_default(),
            self.args()
        )
    }

    /// Runs `wasm-opt` on `module`, through two temporary files in `dir`. `what`
    /// names the module in errors.
    ///
    /// # Errors
    /// The files cannot be written or read, `wasm-opt` does not start, or it fails (its
    /// own message is kept).
    pub(crate) fn run(&self, module: &[u8], dir: &Path, what: &str) -> Result<Vec<u8>> {
        let temp = |suffix: &str| {
            tempfile::Builder::new()
                .prefix(".otai-wasm-opt-")
                .suffix(suffix)
                .tempfile_in(dir)
                .with_context(|| {
                    format!("failed to create a temporary file in `{}`", dir.display())
                })
        };
        let input = temp(".in.wasm")?;
        std::fs::write(input.path(), module)
            .with_context(|| format!("failed to write `{}`", input.path().display()))?;
        let output = temp(".out.wasm")?;
        let result = Command::new(&self.program)
            .args(&self.args)
            .args(feature_flags())
            .arg(input.path())
            .arg("-o")
            .arg(output.path())
            .output()
            .with_context(|| format!("failed to run `{}`", self.program.display()))?;
        if !result.status.success() {
            let stderr = String::from_utf8_lossy(&result.stderr);
            let mut lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
            let more = lines.len().saturating_sub(20);
            lines.truncate(20);
            let mut message = format!(
                "`{} {}` failed on `{what}` ({}){}",
                self.program.display(),
                self.args(),
                result.status,
                if lines.is_empty() { "" } else { ":" }
            );
            for line in lines {
                message.push_str("\n  ");
                message.push_str(line);
            }
            if more > 0 {
                message.push_str(&format!("\n  … {more} more lines"));
            }
            message.push_str(&format!(
                "\n(`wasm-opt = false` under `[package.metadata.{METADATA_TABLE}]` in Cargo.toml \
                 builds without it)"
            ));
            bail!(message);
        }
        std::fs::read(output.path()).with_context(|| {
            format!(
                "failed to read what `wasm-opt` wrote (`{}`)",
                output.path().display()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use otai_plugin_abi::module::accepted_features;

    use super::*;
    use serde_json::json;

    /// Accepted features that need no flag: floats are part of the MVP; multiple and
    /// 64-bit memories are accepted only so that the check can refuse them for what they
    /// are.
    const NO_FLAG: WasmFeatures = WasmFeatures::FLOATS
        .union(WasmFeatures::MULTI_MEMORY)
        .union(WasmFeatures::MEMORY64);

    #[test]
    fn every_feature_the_abi_accepts_is_enabled_for_wasm_opt() {
        let flagged = FEATURE_FLAGS
            .iter()
            .fold(WasmFeatures::empty(), |all, (feature, _)| all | *feature);
        let accepted = accepted_features();
        assert_eq!(
            accepted.difference(NO_FLAG),
            flagged,
            "a feature docs/ABI.md accepts has no Binaryen flag here, or one it refuses has"
        );
    }

    fn setting(metadata: Value) -> Result<(Setting, Vec<String>)> {
        Setting::from_metadata(&metadata, Utf8Path::new("plug/Cargo.toml"))
    }

    #[test]
    fn the_setting_is_read_from_the_package_metadata() {
        assert_eq!(setting(json!({})).unwrap().0, Setting::Default);
        assert_eq!(setting(json!({"ohd": {}})).unwrap().0, Setting::Default);
        assert_eq!(
            setting(json!({"otai-plugin": {}})).unwrap().0,
            Setting::Default
        );
        assert_eq!(
            setting(json!({"otai-plugin": {"wasm-opt": false}}))
                .unwrap()
                .0,
            Setting::Off
        );
        assert_eq!(
            setting(json!({"otai-plugin": {"wasm-opt": true}}))
                .unwrap()
                .0,
            Setting::Required(vec!["-O3".to_owned()])
        );
        assert_eq!(
            setting(json!({"otai-plugin": {"wasm-opt": ["-Oz", "--converge"]}}))
                .unwrap()
                .0,
            Setting::Required(vec!["-Oz".to_owned(), "--converge".to_owned()])
        );
    }

    #[test]
    fn a_wrong_setting_names_the_file_the_key_and_what_was_found() {
        let err = setting(json!({"otai-plugin": {"wasm-opt": "-Oz"}})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`plug/Cargo.toml`: `package.metadata.otai-plugin.wasm-opt` must be `true`, \
             `false` or an array of `wasm-opt` arguments such as `[\"-Oz\"]`, found the \
             string \"-Oz\""
        );
        let err = setting(json!({"otai-plugin": {"wasm-opt": ["-O", 3]}})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`plug/Cargo.toml`: `package.metadata.otai-plugin.wasm-opt[1]` must be a string \
             (a `wasm-opt` argument), found the number `3`"
        );
        let err = setting(json!({"otai-plugin": true})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`plug/Cargo.toml`: `package.metadata.otai-plugin` must be a table, found the \
             boolean `true`"
        );
        let (_, warnings) = setting(json!({"otai-plugin": {"wasm_opt": false}})).unwrap();
        assert_eq!(
            warnings,
            [
                "`plug/Cargo.toml`: unused key `package.metadata.otai-plugin.wasm_opt` (the only \
              key is `wasm-opt`)"
            ]
        );
    }

    #[test]
    fn only_optimizing_profiles_run_it() {
        assert!(optimizing_profile(true, None));
        assert!(optimizing_profile(false, Some("release")));
        assert!(optimizing_profile(false, Some("small")));
        assert!(!optimizing_profile(false, None));
        assert!(!optimizing_profile(false, Some("dev")));
        assert!(!optimizing_profile(false, Some("test")));
    }

    /// A directory holding an executable `wasm-opt` with `script` as its body.
    fn fake_wasm_opt(script: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let program = dir.path().join("wasm-opt");
        std::fs::write(&program, format!("#!/bin/sh\n{script}\n")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        dir
    }

    fn resolve_with(
        setting: &Setting,
        profile: bool,
        env: Option<&Path>,
        path: Option<&Path>,
    ) -> Result<Resolved> {
        resolve(
            setting,
            profile,
            env.map(|p| p.as_os_str().to_owned()),
            path.map(|p| p.as_os_str().to_owned()),
            Utf8Path::new("plug/Cargo.toml"),
        )
    }

    #[test]
    fn it_is_found_on_path_or_through_the_environment_variable() {
        let dir = fake_wasm_opt("exit 0");
        let program = dir.path().join("wasm-opt");
        let empty = tempfile::tempdir().unwrap();
        let run = |args: &[&str]| {
            Resolved::Run(WasmOpt::new(
                program.clone(),
                args.iter().map(|a| (*a).to_owned()).collect(),
            ))
        };
        let default = &Setting::Default;
        assert_eq!(
            resolve_with(default, true, None, Some(dir.path())).unwrap(),
            run(&["-O3"])
        );
        assert_eq!(
            resolve_with(default, true, Some(&program), Some(empty.path())).unwrap(),
            run(&["-O3"])
        );
        let oz = &Setting::Required(vec!["-Oz".to_owned()]);
        assert_eq!(
            resolve_with(oz, true, None, Some(dir.path())).unwrap(),
            run(&["-Oz"])
        );
        // Not an optimizing profile, or turned off: not looked for.
        assert_eq!(
            resolve_with(oz, false, None, Some(dir.path())).unwrap(),
            Resolved::Off
        );
        assert_eq!(
            resolve_with(&Setting::Off, true, None, Some(dir.path())).unwrap(),
            Resolved::Off
        );
        // Not found: the default goes on without it, a required one is an error.
        assert_eq!(
            resolve_with(default, true, None, Some(empty.path())).unwrap(),
            Resolved::NotFound
        );
        let err = resolve_with(oz, true, None, Some(empty.path())).unwrap_err();
        assert!(
            err.to_string().starts_with(
                "`plug/Cargo.toml` asks for `wasm-opt` \
                 (`package.metadata.otai-plugin.wasm-opt`), and it is not on `PATH`"
            ),
            "{err}"
        );
        let missing = empty.path().join("nowhere");
        let err = resolve_with(default, true, Some(&missing), Some(dir.path())).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "`WASM_OPT` is `{}`, which is not a file: it names the `wasm-opt` executable",
                missing.display()
            )
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_failing_wasm_opt_is_an_error_with_its_message() {
        let dir = fake_wasm_opt("echo '[wasm-validator error] unexpected false' >&2\nexit 3");
        let opt = WasmOpt::new(dir.path().join("wasm-opt"), vec!["-O3".to_owned()]);
        let err = opt
            .run(b"\0asm\x01\0\0\0", dir.path(), "target/plug.wasm")
            .unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("-O3` failed on `target/plug.wasm` (exit status: 3):\n  [wasm-validator error] unexpected false\n(`wasm-opt = false` under `[package.metadata.otai-plugin]`"),
            "{message}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn the_module_goes_in_and_what_wasm_opt_writes_comes_out() {
        // Translates the bytes, so that the output is known to come from the file after
        // `-o`; the arguments are `-Oz`, the features, the input, `-o`, the output.
        let dir = fake_wasm_opt(
            r#"[ "$1" = "-Oz" ] || exit 9
input=""; prev=""; for a; do if [ "$prev" = "-o" ]; then output=$a; fi; if [ "$a" = "-o" ]; then input=$prev; fi; prev=$a; done
tr abc xyz < "$input" > "$output""#,
        );
        let opt = WasmOpt::new(dir.path().join("wasm-opt"), vec!["-Oz".to_owned()]);
        let out = opt.run(b"abc\n", dir.path(), "plug.wasm").unwrap();
        assert_eq!(out, b"xyz\n");
        // The temporary files are gone.
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["wasm-opt"]);
    }
}
