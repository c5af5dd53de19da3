//! Reads the plugin's `Cargo.toml` and builds the manifest with the abi crate's shared
//! `manifest_from_cargo_toml` (the CLI calls the same function).

use std::path::{Path, PathBuf};

use otai_plugin_abi::manifest::cargo::manifest_from_cargo_toml_in_workspace;
use otai_plugin_abi::manifest::{Diagnostic, Manifest};
use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::LitStr;

use crate::model::Errors;

/// A manifest ready to embed.
pub(crate) struct Built {
    pub(crate) manifest: Manifest,
    /// The file as messages name it: `Cargo.toml`, or the `cargo_toml` argument.
    pub(crate) shown: String,
    /// The manifest JSON.
    pub(crate) json: String,
    /// Warnings, as `Cargo.toml: key: message` lines.
    pub(crate) warnings: Vec<String>,
    /// `include_bytes!` items for every file read, so that editing one recompiles.
    pub(crate) tracking: TokenStream,
}

/// Builds the manifest from the crate's `Cargo.toml` (or from `cargo_toml`, resolved
/// against the directory of `source_file`). Errors go to `errors`, spanned on the
/// attribute.
pub(crate) fn build(
    cargo_toml: Option<&LitStr>,
    source_file: Option<PathBuf>,
    errors: &mut Errors,
) -> Option<Built> {
    let span = Span::call_site();
    let (path, shown, mut tracking) = match cargo_toml {
        Some(lit) => {
            let base = source_file
                .as_deref()
                .and_then(Path::parent)
                .unwrap_or(Path::new(""));
            let path = base.join(lit.value());
            // Absolute, since the include_bytes! below resolves against the source file
            // the compiler knows, which may differ from the relative path we got.
            let absolute = std::fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
            let shown = lit.value();
            let lit_path = LitStr::new(&absolute.to_string_lossy(), lit.span());
            (
                absolute,
                shown,
                quote! { const _: &[u8] = ::core::include_bytes!(#lit_path); },
            )
        }
        None => {
            let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") else {
                errors.push(syn::Error::new(
                    span,
                    "`CARGO_MANIFEST_DIR` is not set: build the plugin with cargo, which provides it",
                ));
                return None;
            };
            (
                PathBuf::from(dir).join("Cargo.toml"),
                "Cargo.toml".to_owned(),
                quote! {
                    const _: &[u8] = ::core::include_bytes!(::core::concat!(
                        ::core::env!("CARGO_MANIFEST_DIR"),
                        "/Cargo.toml"
                    ));
                },
            )
        }
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) => {
            errors.push(syn::Error::new(
                span,
                format!(
                    "cannot read `{}` for the plugin manifest: {err}",
                    path.display()
                ),
            ));
            return None;
        }
    };

    // Keys such as `version.workspace = true` resolve against the workspace root.
    let workspace = if text.contains("workspace") {
        find_workspace_root(&path, &text)
    } else {
        None
    };
    let workspace_text = match &workspace {
        Some(root) => match std::fs::read_to_string(root) {
            Ok(t) => {
                let lit = LitStr::new(&root.to_string_lossy(), span);
                tracking.extend(quote! { const _: &[u8] = ::core::include_bytes!(#lit); });
                Some(t)
            }
            Err(_) => None,
        },
        None => None,
    };

    let warning_lines = |diags: &mut dyn Iterator<Item = &Diagnostic>| -> Vec<String> {
        diags
            .map(|d| line("plugin manifest warning in", &shown, d))
            .collect()
    };
    match manifest_from_cargo_toml_in_workspace(&text, workspace_text.as_deref()) {
        Ok(built) => Some(Built {
            json: built.manifest.to_json(),
            warnings: warning_lines(&mut built.warnings.warnings()),
            manifest: built.manifest,
            shown,
            tracking,
        }),
        Err(diagnostics) => {
            for d in diagnostics.errors() {
                errors.push(syn::Error::new(
                    span,
                    line("invalid plugin manifest in", &shown, d),
                ));
            }
            None
        }
    }
}

/// The config table as `#[derive(Config)]` records it and `#[plugin]` compares it: any
/// text that differs when the table does, since both sides are this crate.
pub(crate) fn config_table_id(manifest: &Manifest) -> String {
    format!("{:?}", manifest.config_schema)
}

/// `` invalid plugin manifest in `Cargo.toml`: `package.metadata.ohd.events[1]`: unknown event … ``
fn line(what: &str, file: &str, d: &Diagnostic) -> String {
    if d.path.is_empty() {
        format!("{what} `{file}`: {}", d.message)
    } else {
        format!("{what} `{file}`: `{}`: {}", d.path, d.message)
    }
}

/// The workspace root manifest of the package at `cargo_toml`: the one named by
/// `package.workspace`, else the nearest ancestor `Cargo.toml` with a `[workspace]`.
fn find_workspace_root(cargo_toml: &Path, text: &str) -> Option<PathBuf> {
    let doc: toml::Table = text.parse().ok()?;
    if doc.contains_key("workspace") {
        return Some(cargo_toml.to_path_buf());
    }
    let dir = cargo_toml.parent()?;
    if let Some(explicit) = doc
        .get("package")
        .and_then(|p| p.get("workspace"))
        .and_then(|w| w.as_str())
    {
        return Some(dir.join(explicit).join("Cargo.toml"));
    }
    dir.ancestors()
        .skip(1)
        .map(|d| d.join("Cargo.toml"))
        .find(|candidate| {
            std::fs::read_to_string(candidate)
                .ok()
                .and_then(|t| t.parse::<toml::Table>().ok())
                .is_some_and(|t| t.contains_key("workspace"))
        })
}
