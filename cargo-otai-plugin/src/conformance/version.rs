//! Versions of the import table (docs/ABI.md section 3, "Versions of the import table"):
//! the version a case needs, the newest `since` among its plugin's imports, and whether a
//! host may skip it for being older.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use otai_plugin_abi::module::ModuleInfo;
use otai_plugin_abi::wasm;

/// A version of the import table, `MAJOR.MINOR`, compared as numbers (1.10 is after 1.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Version {
    major: u32,
    minor: u32,
}

/// The first table: every ABI v1 host implements at least this, so no case that needs
/// only it may be skipped for its version.
pub(crate) const BASE: Version = Version {
    major: otai_plugin_abi::ABI_VERSION,
    minor: 0,
};

impl Version {
    /// Reads `1.0`; `None` for anything else.
    pub(crate) fn parse(text: &str) -> Option<Version> {
        let (major, minor) = text.split_once('.')?;
        let number = |s: &str| {
            (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse().ok())
                .flatten()
        };
        Some(Version {
            major: number(major)?,
            minor: number(minor)?,
        })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// What a case needs beyond [`BASE`]: the newest version among its plugin's imports, and
/// the imports of that version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Needs {
    pub(crate) version: Version,
    pub(crate) imports: Vec<String>,
}

impl fmt::Display for Needs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let imports: Vec<String> = self
            .imports
            .iter()
            .map(|name| format!("`{}.{name}`", wasm::IMPORT_MODULE))
            .collect();
        write!(f, "ABI {} ({})", self.version, imports.join(", "))
    }
}

/// The version that added each import: the contract's table, or a signature file of
/// `docs/abi-signatures.json`'s shape (a kit newer than this runner).
#[derive(Debug, Clone)]
pub(crate) struct ImportVersions(BTreeMap<String, Version>);

impl ImportVersions {
    /// The table this runner, and its reference host, are built with.
    pub(crate) fn of_the_contract() -> ImportVersions {
        ImportVersions(
            wasm::HOST_FUNCTIONS
                .iter()
                .map(|f| (f.name.to_owned(), Version::parse(f.since).unwrap_or(BASE)))
                .collect(),
        )
    }

    /// Reads the `since` of each import of a signature file.
    pub(crate) fn read(path: &Path) -> Result<ImportVersions> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read `{}`", path.display()))?;
        let value: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("`{}` is not valid JSON", path.display()))?;
        let imports = value["imports"].as_object().ok_or_else(|| {
            anyhow!(
                "`{}` has no `imports` object, as docs/abi-signatures.json has",
                path.display()
            )
        })?;
        let mut versions = BTreeMap::new();
        for (name, import) in imports {
            let since = import["since"].as_str().unwrap_or_default();
            let Some(version) = Version::parse(since) else {
                bail!(
                    "`{}`: `imports.{name}.since` is {}, expected a version such as \"1.0\"",
                    path.display(),
                    import["since"]
                );
            };
            versions.insert(name.clone(), version);
        }
        Ok(ImportVersions(versions))
    }

    /// The version a host built on this table implements: its newest `since`.
    pub(crate) fn newest(&self) -> Version {
        self.0.values().copied().max().unwrap_or(BASE)
    }

    /// What a core module needs beyond [`BASE`], by its `ohd` imports; `None` when it needs
    /// no more (a component, whose imports are of `ohd:plugin@1.0.0`, bytes that do not
    /// read, imports that no version has: every host refuses those alike).
    pub(crate) fn needs(&self, wasm: &[u8]) -> Option<Needs> {
        let info = ModuleInfo::parse(wasm).ok()?;
        let imports = info
            .imports
            .iter()
            .filter(|i| i.module == wasm::IMPORT_MODULE)
            .filter_map(|i| Some((i.name.as_str(), *self.0.get(&i.name)?)));
        let version = imports.clone().map(|(_, v)| v).max()?;
        let mut names: Vec<String> = imports
            .filter(|(_, v)| *v == version)
            .map(|(name, _)| name.to_owned())
            .collect();
        names.sort();
        names.dedup();
        (version > BASE).then_some(Needs {
            version,
            imports: names,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_numbers() {
        let v = |s| Version::parse(s).unwrap();
        assert!(v("1.10") > v("1.9"));
        assert!(v("2.0") > v("1.99"));
        assert_eq!(v("1.0"), BASE);
        assert_eq!(v("1.12").to_string(), "1.12");
        for bad in ["1", "1.", ".1", "1.x", "1.0.0", "+1.0", ""] {
            assert_eq!(Version::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_module_needs_the_newest_since_of_its_known_ohd_imports() {
        let versions = ImportVersions(
            [("ohd_log", "1.0"), ("ohd_a", "1.1"), ("ohd_b", "1.2")]
                .into_iter()
                .map(|(n, v)| (n.to_owned(), Version::parse(v).unwrap()))
                .collect(),
        );
        let module = |imports: &str| {
            wat::parse_str(format!(
                r#"(module {imports} (memory (export "memory") 1))"#
            ))
            .unwrap()
        };
        let import = |module: &str, name: &str| {
            format!(r#"(import "{module}" "{name}" (func (param i32 i32)))"#)
        };
        assert_eq!(versions.needs(&module(&import("ohd", "ohd_log"))), None);
        assert_eq!(versions.needs(&module("")), None);
        let needs = versions
            .needs(&module(&format!(
                "{}{}{}{}",
                import("ohd", "ohd_a"),
                import("ohd", "ohd_b"),
                import("ohd", "ohd_log"),
                import("env", "ohd_b")
            )))
            .unwrap();
        assert_eq!(needs.to_string(), "ABI 1.2 (`ohd.ohd_b`)");
        // A name no version has decides nothing: every host refuses it alike.
        assert_eq!(versions.needs(&module(&import("ohd", "ohd_sleep"))), None);
        assert_eq!(versions.needs(b"not wasm"), None);
        assert!(ImportVersions::of_the_contract().newest() >= BASE);
    }
}
