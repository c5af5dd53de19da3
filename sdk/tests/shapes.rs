//! The plugin shapes the SDK promises compile to wasm32 on stable Rust, built for real
//! with the plugin release profile, and checked as a host would load them: only `ohd`
//! imports with ABI signatures, the ABI exports, exactly one `ohd_manifest` and one
//! `ohd_abi` section, and the size budgets.
//!
//! Builds `examples/minimal` (root workspace) and `sdk/tests/shapes/*` (a workspace of
//! their own) into this test's own target directory. The shapes hold no tests of their
//! own (nothing would run them): what they do natively is tested in
//! `plugin_natively.rs`, with the SDK's stand-in host.

use std::path::{Path, PathBuf};
use std::process::Command;

use otai_plugin_abi::wasm::{self, ValType};
use wasmparser::{ExternalKind, Parser, Payload, TypeRef, Validator};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("sdk/ has a parent")
        .to_path_buf()
}

/// Builds the packages of the workspace at `manifest` and returns the target directory.
fn build(manifest: &Path, packages: &[&str], target_subdir: &str) -> PathBuf {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join(target_subdir);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(manifest.parent().expect("a manifest has a directory"))
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-unknown-unknown",
            "--manifest-path",
        ])
        .arg(manifest)
        .env("CARGO_TARGET_DIR", &target);
    for p in packages {
        cmd.args(["-p", p]);
    }
    let status = cmd.status().expect("cargo runs");
    assert!(
        status.success(),
        "building {packages:?} for wasm32 failed (see the output above)"
    );
    target.join("wasm32-unknown-unknown/release")
}

/// Parameter and result types.
type Signature = (Vec<ValType>, Vec<ValType>);

struct Module {
    size: usize,
    imports: Vec<(String, String, Vec<ValType>, Vec<ValType>)>,
    exports: Vec<(String, Option<Signature>)>,
    custom: Vec<(String, Vec<u8>)>,
}

fn val(t: wasmparser::ValType) -> ValType {
    match t {
        wasmparser::ValType::I32 => ValType::I32,
        wasmparser::ValType::I64 => ValType::I64,
        wasmparser::ValType::F32 => ValType::F32,
        wasmparser::ValType::F64 => ValType::F64,
        wasmparser::ValType::V128 => ValType::V128,
        wasmparser::ValType::Ref(_) => ValType::Ref,
    }
}

fn read(path: &Path) -> Module {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let types = Validator::new()
        .validate_all(&bytes)
        .expect("the module validates");
    let sig = |func: u32| -> Signature {
        let f = types[types.as_ref().core_function_at(func)].unwrap_func();
        (
            f.params().iter().copied().map(val).collect(),
            f.results().iter().copied().map(val).collect(),
        )
    };
    let mut m = Module {
        size: bytes.len(),
        imports: vec![],
        exports: vec![],
        custom: vec![],
    };
    let mut imported_funcs = 0;
    for payload in Parser::new(0).parse_all(&bytes) {
        match payload.expect("the module parses") {
            Payload::ImportSection(reader) => {
                for import in reader.into_imports() {
                    let import = import.expect("an import");
                    let (params, results) = match import.ty {
                        TypeRef::Func(_) => {
                            imported_funcs += 1;
                            sig(imported_funcs - 1)
                        }
                        _ => (vec![], vec![]),
                    };
                    m.imports.push((
                        import.module.to_owned(),
                        import.name.to_owned(),
                        params,
                        results,
                    ));
                }
            }
            Payload::ExportSection(reader) => {
                for export in reader {
                    let export = export.expect("an export");
                    let ty = (export.kind == ExternalKind::Func).then(|| sig(export.index));
                    m.exports.push((export.name.to_owned(), ty));
                }
            }
            Payload::CustomSection(c) => m.custom.push((c.name().to_owned(), c.data().to_vec())),
            _ => {}
        }
    }
    m
}

impl Module {
    fn sections(&self, name: &str) -> Vec<&[u8]> {
        self.custom
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, d)| d.as_slice())
            .collect()
    }

    fn export(&self, name: &str) -> Option<&Option<Signature>> {
        self.exports.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }

    /// Checks what every SDK-built plugin must satisfy; returns the manifest JSON.
    fn check_abi(&self, name: &str) -> serde_json::Value {
        for (module, field, params, results) in &self.imports {
            assert_eq!(
                module,
                wasm::IMPORT_MODULE,
                "{name}: import `{module}.{field}` outside `ohd`"
            );
            let expected = wasm::host_function(field)
                .unwrap_or_else(|| panic!("{name}: unknown import `{field}`"));
            assert!(
                expected.ty.matches(params, results),
                "{name}: `{field}` has the wrong signature"
            );
        }
        for export in [wasm::ON_EVENT, wasm::ALLOC_EXPORT, wasm::FREE_EXPORT] {
            let ty = self
                .export(export.name)
                .unwrap_or_else(|| panic!("{name}: no `{}` export", export.name));
            let (params, results) = ty.as_ref().expect("a function export");
            assert!(
                export.ty.matches(params, results),
                "{name}: `{}` has the wrong signature",
                export.name
            );
        }
        assert!(
            self.export(wasm::EXPORT_MEMORY).is_some(),
            "{name}: no memory export"
        );

        let abi = self.sections(wasm::ABI_MARKER_SECTION);
        assert_eq!(
            abi.len(),
            1,
            "{name}: expected exactly one `ohd_abi` section"
        );
        let marker: otai_plugin_abi::marker::AbiMarker =
            serde_json::from_slice(abi[0]).expect("marker JSON");
        assert_eq!(marker.abi, 1);
        assert_eq!(
            marker.sdk.as_deref(),
            Some(concat!("otai-plugin-sdk ", env!("CARGO_PKG_VERSION")))
        );

        let manifest = self.sections(wasm::MANIFEST_SECTION);
        assert_eq!(
            manifest.len(),
            1,
            "{name}: expected exactly one `ohd_manifest` section"
        );
        serde_json::from_slice(manifest[0]).expect("manifest JSON")
    }
}

#[test]
fn shapes_build_for_wasm32_and_carry_the_abi() {
    let root = workspace_root();
    let examples = build(
        &root.join("Cargo.toml"),
        &["ohd-example-minimal"],
        "plugins",
    );
    // One target directory for both: the proc macros and the SDK's dependencies compile
    // once.
    let shapes = build(&root.join("sdk/tests/shapes/Cargo.toml"), &[], "plugins");

    let minimal = read(&examples.join("ohd_example_minimal.wasm"));
    let manifest = minimal.check_abi("minimal");
    assert_eq!(manifest["id"], "com.example.minimal");
    assert_eq!(
        manifest["version"],
        env!("CARGO_PKG_VERSION"),
        "inherited from the workspace"
    );
    assert_eq!(minimal.imports.len(), 1, "the minimal plugin only logs");
    assert!(
        minimal.size <= 20_000,
        "minimal plugin is {} bytes, budget 20 000",
        minimal.size
    );

    let slack = read(&shapes.join("shape_slack.wasm"));
    let manifest = slack.check_abi("slack");
    assert_eq!(manifest["config_schema"]["webhook_url"]["secret"], true);
    assert_eq!(
        manifest["permissions"]["http"]["allowed_hosts"][0],
        "hooks.slack.com"
    );
    assert!(
        slack.size <= 150_000,
        "Slack-style plugin is {} bytes, budget 150 000",
        slack.size
    );

    let ops = read(&shapes.join("shape_ticket_ops.wasm"));
    ops.check_abi("ticket-ops");
    for import in ["ohd_add_reply", "ohd_set_custom_field"] {
        assert!(
            ops.imports.iter().any(|i| i.1 == import),
            "ticket-ops imports `{import}`"
        );
    }

    let panel = read(&shapes.join("shape_panel.wasm"));
    assert_eq!(panel.check_abi("panel")["ui_panel"]["height"], 140);
    let indirect = panel
        .export(wasm::SDK_RENDER_PANEL_INDIRECT)
        .expect("the indirect panel export");
    assert_eq!(
        indirect,
        &Some((vec![ValType::I32, ValType::I32], vec![ValType::I32]))
    );
    assert!(
        panel.export(wasm::EXPORT_RENDER_PANEL).is_none(),
        "the CLI adds `render_panel`"
    );
    assert!(
        slack.export(wasm::SDK_RENDER_PANEL_INDIRECT).is_none(),
        "no panel, no panel export"
    );

    for (name, m) in [
        ("minimal", &minimal),
        ("slack", &slack),
        ("ticket-ops", &ops),
        ("panel", &panel),
    ] {
        eprintln!("{name}: {} bytes", m.size);
    }
}
