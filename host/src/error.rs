//! The host's error types. Messages are lowercase, name things in backticks, and say
//! what was found and what is expected. None of them ever contains a secret value.

use std::path::PathBuf;

use otai_plugin_abi::manifest::Diagnostics;
use otai_plugin_abi::module::{Problem, ProblemKind, Severity};

/// A module could not be loaded as a plugin.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The file could not be read.
    #[error("failed to read `{}`: {source}", path.display())]
    Io {
        /// The path given.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The module breaks ABI v1: every problem found, as `cargo otai-plugin check`
    /// reports them.
    #[error("{0}")]
    Rejected(Rejection),
    /// wasmtime could not compile a module that follows ABI v1.
    #[error("failed to compile the module: {0}")]
    Compile(String),
}

impl LoadError {
    /// The problems of a rejected module (errors, then the warnings found beside
    /// them); empty for the other errors.
    pub fn problems(&self) -> &[Problem] {
        match self {
            LoadError::Rejected(r) => &r.problems,
            _ => &[],
        }
    }
}

/// Why a module was refused: its problems, each with a kind and a message that names
/// the import, export, section or manifest field, what was found and what is expected.
///
/// Displays as the one error's message, or as `N problems:` and a line per error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub(crate) problems: Vec<Problem>,
}

impl Rejection {
    /// Every problem: the errors, then the warnings.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// The errors, each a reason the module was refused.
    pub fn errors(&self) -> impl Iterator<Item = &Problem> {
        self.problems
            .iter()
            .filter(|p| p.severity == Severity::Error)
    }

    /// The kinds of the errors, in order.
    pub fn kinds(&self) -> Vec<ProblemKind> {
        self.errors().map(|p| p.kind).collect()
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let errors: Vec<&Problem> = self.errors().collect();
        match errors.as_slice() {
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} problems:", many.len())?;
                for p in many {
                    write!(f, "\n  - {p}")?;
                }
                Ok(())
            }
        }
    }
}

/// A plugin could not be installed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InstallError {
    /// The config does not match the manifest's `config_schema`. The diagnostics
    /// never contain a secret value.
    #[error("invalid config for plugin `{plugin_id}`:\n{diagnostics}")]
    InvalidConfig {
        /// The plugin.
        plugin_id: String,
        /// Every problem found.
        diagnostics: Diagnostics,
    },
    /// The plugin was loaded by another [`crate::Host`].
    #[error("plugin `{plugin_id}` was loaded by another host; load it with this host's `load`")]
    ForeignPlugin {
        /// The plugin.
        plugin_id: String,
    },
}

/// A delivery or panel request could not be started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeliverError {
    /// No plugin with this id is installed.
    #[error("no plugin `{plugin_id}` is installed")]
    NotInstalled {
        /// The id asked for.
        plugin_id: String,
    },
    /// The plugin does not subscribe to the event.
    #[error(
        "plugin `{plugin_id}` does not subscribe to `{event}`; its manifest lists {subscribed}"
    )]
    NotSubscribed {
        /// The plugin.
        plugin_id: String,
        /// The event name.
        event: String,
        /// The events it subscribes to.
        subscribed: String,
    },
    /// The plugin is disabled (by hand or by its health policy).
    #[error("plugin `{plugin_id}` is disabled; enable it with `Host::enable`")]
    Disabled {
        /// The plugin.
        plugin_id: String,
    },
    /// `render_panel` was asked of a plugin without `ui_panel`.
    #[error("plugin `{plugin_id}` declares no `ui_panel`")]
    NoPanel {
        /// The plugin.
        plugin_id: String,
    },
}

/// The host could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HostError {
    /// A setting is out of range.
    #[error("invalid host setting: {0}")]
    InvalidSetting(String),
    /// wasmtime refused the engine configuration.
    #[error("failed to create the wasm engine: {0}")]
    Engine(String),
    /// The epoch ticker thread could not be started.
    #[error("failed to start the deadline ticker thread: {0}")]
    Thread(std::io::Error),
}

/// A JSON event payload is not an ABI v1 payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an ABI v1 event payload: {message}")]
pub struct EventError {
    pub(crate) message: String,
}
