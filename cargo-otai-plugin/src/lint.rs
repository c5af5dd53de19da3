//! The ABI v1 lint: every reason a host would refuse a module, and the things that
//! load but are probably mistakes. `build` runs it on what it writes; `check` runs it
//! on any module.
//!
//! The lint is static: it reads the module and never runs it. The reference host
//! applies the same rules at load time; this module says them earlier and all at once.

use std::fmt;

use otai_plugin_abi::limits::DEFAULT_MEMORY_LIMIT;
use otai_plugin_abi::manifest::{Manifest, Severity as DiagSeverity};
use otai_plugin_abi::marker::AbiMarker;
use otai_plugin_abi::wasm::{self as abi, AllocatorKind, PluginExport};
use serde::Serialize;

use crate::wasm::{Item, ModuleInfo, Signature};

/// How serious a [`Problem`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// A host refuses the module.
    Error,
    /// The module loads, but something is probably not what the author meant.
    Warning,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// What the lint found: the problems and the module's manifest and ABI marker when
/// they could be read.
#[derive(Debug, Clone, Default)]
pub struct Lint {
    /// Every problem, errors and warnings, in the order found.
    pub problems: Vec<Problem>,
    /// The embedded manifest, when exactly one parsed.
    pub manifest: Option<Manifest>,
    /// The `ohd_abi` marker, when present and readable.
    pub marker: Option<AbiMarker>,
}

impl Lint {
    /// Whether any problem is an error.
    pub fn has_errors(&self) -> bool {
        self.problems.iter().any(|p| p.severity == Severity::Error)
    }

    /// The errors.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }

    /// The warnings.
    pub fn warnings(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Warning)
    }

    fn error(&mut self, message: impl Into<String>) {
        self.problems.push(Problem {
            severity: Severity::Error,
            message: message.into(),
        });
    }

    fn warning(&mut self, message: impl Into<String>) {
        self.problems.push(Problem {
            severity: Severity::Warning,
            message: message.into(),
        });
    }
}

/// Lints a module already read into `info` (`bytes` is the same module, for validation).
pub fn lint(bytes: &[u8], info: &ModuleInfo<'_>) -> Lint {
    let mut lint = Lint::default();
    let mut validator =
        wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::default());
    if let Err(err) = validator.validate_all(bytes) {
        lint.error(format!("the module is not valid WebAssembly: {err}"));
    }
    check_manifest(info, &mut lint);
    check_marker(info, &mut lint);
    check_imports(info, &mut lint);
    check_exports(info, &mut lint);
    lint
}

fn check_manifest(info: &ModuleInfo<'_>, lint: &mut Lint) {
    let sections = info.custom(abi::MANIFEST_SECTION);
    let section = match sections.as_slice() {
        [] => {
            lint.error(format!(
                "no `{}` custom section: every plugin embeds its manifest (the SDK's `#[plugin]` \
                 does it from Cargo.toml; other toolchains add the section after linking)",
                abi::MANIFEST_SECTION
            ));
            return;
        }
        [one] => one,
        many => {
            lint.error(format!(
                "{} `{}` custom sections; a module must have exactly one",
                many.len(),
                abi::MANIFEST_SECTION
            ));
            return;
        }
    };
    match json_values(section.data) {
        Ok(0) => {
            lint.error(format!(
                "the `{}` section is empty; it must hold one JSON object",
                abi::MANIFEST_SECTION
            ));
            return;
        }
        Ok(1) => {}
        Ok(n) => {
            lint.error(format!(
                "the `{}` section holds {n} JSON documents back to back: the linker concatenates \
                 same-named sections, so {n} crates in this module each embedded a manifest; \
                 only one crate of a plugin may use `#[plugin]`",
                abi::MANIFEST_SECTION
            ));
            return;
        }
        // from_json below says precisely what is wrong.
        Err(()) => {}
    }
    if std::str::from_utf8(section.data).is_err() {
        lint.error(format!(
            "the `{}` section is not valid UTF-8",
            abi::MANIFEST_SECTION
        ));
        return;
    }
    match Manifest::from_json(section.data) {
        Ok(manifest) => {
            for d in manifest.validate().iter() {
                let message = if d.path.is_empty() {
                    format!("manifest: {}", d.message)
                } else {
                    format!("manifest: `{}`: {}", d.path, d.message)
                };
                match d.severity {
                    DiagSeverity::Error => lint.error(message),
                    DiagSeverity::Warning => lint.warning(message),
                }
            }
            lint.manifest = Some(manifest);
        }
        Err(err) => lint.error(format!(
            "the `{}` section is not a valid manifest: {err}",
            abi::MANIFEST_SECTION
        )),
    }
}

/// How many JSON documents `data` holds, or `Err` when it is not a JSON stream.
fn json_values(data: &[u8]) -> Result<usize, ()> {
    let mut count = 0;
    for value in serde_json::Deserializer::from_slice(data).into_iter::<serde::de::IgnoredAny>() {
        value.map_err(|_| ())?;
        count += 1;
    }
    Ok(count)
}

fn check_marker(info: &ModuleInfo<'_>, lint: &mut Lint) {
    let sections = info.custom(abi::ABI_MARKER_SECTION);
    let section = match sections.as_slice() {
        [] => return,
        [one] => one,
        many => {
            lint.error(format!(
                "{} `{}` custom sections; a module may have at most one",
                many.len(),
                abi::ABI_MARKER_SECTION
            ));
            return;
        }
    };
    match serde_json::from_slice::<AbiMarker>(section.data) {
        Ok(marker) => {
            if marker.abi != otai_plugin_abi::ABI_VERSION {
                lint.error(format!(
                    "the `{}` section says ABI version {}; this host implements ABI version {}",
                    abi::ABI_MARKER_SECTION,
                    marker.abi,
                    otai_plugin_abi::ABI_VERSION
                ));
            }
            lint.marker = Some(marker);
        }
        Err(err) => lint.error(format!(
            "the `{}` section is not a JSON object like {{\"abi\":1}}: {err}",
            abi::ABI_MARKER_SECTION
        )),
    }
}

fn check_imports(info: &ModuleInfo<'_>, lint: &mut Lint) {
    for import in &info.imports {
        let full = format!("{}.{}", import.module, import.name);
        match &import.item {
            Item::Memory { .. } => {
                lint.error(format!(
                    "import `{full}`: imported memory is not supported: the plugin must define and \
                     export its own memory"
                ));
                continue;
            }
            Item::Table | Item::Global | Item::Tag => {
                lint.error(format!(
                    "import `{full}`: only functions can be imported, and only from `{}`",
                    abi::IMPORT_MODULE
                ));
                continue;
            }
            Item::Func { .. } => {}
        }
        if import.module != abi::IMPORT_MODULE {
            let hint = if import.module.starts_with("wasi") {
                ": WASI is not available to plugins; build for `wasm32-unknown-unknown`, or \
                 avoid the std functions (files, clocks, stdout) that need it"
            } else {
                ""
            };
            lint.error(format!(
                "import `{full}`: plugins may import only from the `{}` module{hint}",
                abi::IMPORT_MODULE
            ));
            continue;
        }
        let Some(expected) = abi::host_function(&import.name) else {
            let names: Vec<&str> = abi::HOST_FUNCTIONS.iter().map(|f| f.name).collect();
            lint.error(format!(
                "import `{full}` is not a host function of ABI v1; `{}` provides {}",
                abi::IMPORT_MODULE,
                names.join(", ")
            ));
            continue;
        };
        if let Item::Func { signature } = &import.item
            && !matches_sig(signature.as_ref(), &expected.ty)
        {
            lint.error(format!(
                "import `{full}` has type `{}`, expected `{}`",
                show(signature.as_ref()),
                expected.ty
            ));
        }
    }
}

fn matches_sig(found: Option<&Signature>, expected: &abi::FuncType) -> bool {
    found.is_some_and(|s| expected.matches(&s.params, &s.results))
}

fn show(sig: Option<&Signature>) -> String {
    sig.map_or_else(|| "not a function type".to_owned(), ToString::to_string)
}

fn check_exports(info: &ModuleInfo<'_>, lint: &mut Lint) {
    match info.export(abi::EXPORT_MEMORY).map(|e| &e.item) {
        None => lint.error(format!(
            "no `{}` export: the plugin must define its linear memory and export it as `{}`",
            abi::EXPORT_MEMORY,
            abi::EXPORT_MEMORY
        )),
        Some(Item::Memory { memory64: true, .. }) => lint.error(format!(
            "export `{}` is a 64-bit memory; plugins are wasm32 modules with a 32-bit memory",
            abi::EXPORT_MEMORY
        )),
        Some(Item::Memory { initial_pages, .. }) => {
            let bytes = initial_pages.saturating_mul(65536);
            if bytes > DEFAULT_MEMORY_LIMIT {
                lint.warning(format!(
                    "the memory starts at {} MiB, above the default limit of {} MiB per instance: \
                     the reference host fails every delivery",
                    bytes >> 20,
                    DEFAULT_MEMORY_LIMIT >> 20
                ));
            }
        }
        Some(other) => lint.error(format!(
            "export `{}` is a {}, not a memory",
            abi::EXPORT_MEMORY,
            other.describe()
        )),
    }

    for expected in abi::PLUGIN_EXPORTS {
        match info.export(expected.name) {
            None if expected.required => lint.error(format!(
                "no `{}` export: every plugin exports `{}: {}`",
                expected.name, expected.name, expected.ty
            )),
            None => {}
            Some(export) => check_export_type(lint, expected, &export.item),
        }
    }

    let has = |name: &str| info.export(name).is_some();
    let complete = |kind: AllocatorKind| has(kind.alloc().name) && has(kind.free().name);
    let chosen = [AllocatorKind::Ohd, AllocatorKind::Libc]
        .into_iter()
        .find(|k| complete(*k));
    match chosen {
        None => lint.error(format!(
            "no allocator: export `{}: {}` and `{}: {}` (or `{}` and `{}`) so the host can hand \
             the plugin its event payload",
            abi::ALLOC_EXPORT.name,
            abi::ALLOC_EXPORT.ty,
            abi::FREE_EXPORT.name,
            abi::FREE_EXPORT.ty,
            abi::MALLOC_EXPORT.name,
            abi::LIBC_FREE_EXPORT.name,
        )),
        Some(AllocatorKind::Libc) if has(abi::EXPORT_OHD_ALLOC) || has(abi::EXPORT_OHD_FREE) => {
            lint.warning(format!(
                "`{}` and `{}` are not both exported, so the host uses `{}` and `{}`",
                abi::EXPORT_OHD_ALLOC,
                abi::EXPORT_OHD_FREE,
                abi::EXPORT_MALLOC,
                abi::EXPORT_LIBC_FREE
            ))
        }
        Some(_) => {}
    }

    let ui_panel = lint.manifest.as_ref().is_some_and(|m| m.ui_panel.is_some());
    let render_panel = has(abi::EXPORT_RENDER_PANEL);
    let indirect = has(abi::SDK_RENDER_PANEL_INDIRECT);
    if indirect {
        if render_panel {
            lint.warning(format!(
                "`{}` is still exported beside `{}`; hosts ignore it",
                abi::SDK_RENDER_PANEL_INDIRECT,
                abi::EXPORT_RENDER_PANEL
            ));
        } else {
            let message = format!(
                "the module exports `{}` but no `{}`: run `cargo otai-plugin build`, which adds \
                 the multi-value `{}` adapter",
                abi::SDK_RENDER_PANEL_INDIRECT,
                abi::EXPORT_RENDER_PANEL,
                abi::EXPORT_RENDER_PANEL
            );
            if ui_panel {
                lint.error(message)
            } else {
                lint.warning(message)
            }
        }
    }
    if ui_panel && !render_panel && !indirect {
        lint.error(format!(
            "the manifest declares `ui_panel` but the module does not export `{}: {}`",
            abi::RENDER_PANEL.name,
            abi::RENDER_PANEL.ty
        ));
    }
    if render_panel && !ui_panel && lint.manifest.is_some() {
        lint.warning(format!(
            "`{}` is exported but the manifest has no `ui_panel`, so the host never calls it",
            abi::EXPORT_RENDER_PANEL
        ));
    }
}

fn check_export_type(lint: &mut Lint, expected: &PluginExport, item: &Item) {
    match item {
        Item::Func { signature } if matches_sig(signature.as_ref(), &expected.ty) => {}
        Item::Func { signature } => lint.error(format!(
            "export `{}` has type `{}`, expected `{}`",
            expected.name,
            show(signature.as_ref()),
            expected.ty
        )),
        other => lint.error(format!(
            "export `{}` is a {}, expected a function `{}`",
            expected.name,
            other.describe(),
            expected.ty
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lint_wat(wat: &str) -> Lint {
        let bytes = wat::parse_str(wat).unwrap();
        let info = ModuleInfo::parse(&bytes).unwrap();
        lint(&bytes, &info)
    }

    const MANIFEST: &str = r#"{"id":"com.example.t","name":"T","version":"1.0.0","description":"d","events":["ticket.created"]}"#;

    fn module(extra: &str) -> String {
        format!(
            r#"(module
                {extra}
                (memory (export "memory") 1)
                (func (export "ohd_alloc") (param i32) (result i32) i32.const 16)
                (func (export "ohd_free") (param i32 i32))
                (@custom "ohd_manifest" "{}"))"#,
            MANIFEST.replace('"', "\\\"")
        )
    }

    #[test]
    fn a_complete_module_is_clean() {
        let lint = lint_wat(&module(r#"(func (export "on_event") (param i32 i32))"#));
        assert!(lint.problems.is_empty(), "{:?}", lint.problems);
        assert_eq!(lint.manifest.unwrap().id, "com.example.t");
    }

    #[test]
    fn names_foreign_imports_and_wrong_signatures() {
        let lint = lint_wat(&module(
            r#"(import "env" "abort" (func))
               (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
               (import "ohd" "ohd_log" (func (param i32 i32)))
               (func (export "on_event") (param i32))"#,
        ));
        let text: Vec<String> = lint.errors().map(|p| p.message.clone()).collect();
        let all = text.join("\n");
        assert!(
            all.contains("import `env.abort`: plugins may import only from the `ohd` module"),
            "{all}"
        );
        assert!(all.contains("WASI is not available"), "{all}");
        assert!(
            all.contains(
                "import `ohd.ohd_log` has type `(i32, i32) -> ()`, expected `(i32, i32, i32) -> ()`"
            ),
            "{all}"
        );
        assert!(
            all.contains("export `on_event` has type `(i32) -> ()`, expected `(i32, i32) -> ()`"),
            "{all}"
        );
    }

    #[test]
    fn concatenated_manifests_are_explained() {
        let doubled = format!("{MANIFEST}{MANIFEST}").replace('"', "\\\"");
        let wat = format!(
            r#"(module (memory (export "memory") 1)
                (func (export "on_event") (param i32 i32))
                (func (export "malloc") (param i32) (result i32) i32.const 0)
                (func (export "free") (param i32))
                (@custom "ohd_manifest" "{doubled}"))"#
        );
        let lint = lint_wat(&wat);
        let all: Vec<&str> = lint.errors().map(|p| p.message.as_str()).collect();
        assert!(
            all.iter()
                .any(|m| m.contains("holds 2 JSON documents back to back")),
            "{all:?}"
        );
    }

    #[test]
    fn indirect_panel_export_without_adapter() {
        let wat = module(
            r#"(func (export "on_event") (param i32 i32))
               (func (export "__ohd_render_panel_indirect") (param i32 i32) (result i32) i32.const 0)"#,
        );
        let lint = lint_wat(&wat);
        let all: Vec<&str> = lint.warnings().map(|p| p.message.as_str()).collect();
        assert!(
            all.iter()
                .any(|m| m.contains("run `cargo otai-plugin build`")),
            "{all:?}"
        );
    }
}
