//! `--format json` when a command fails before it has a result to print: one JSON
//! object on stdout all the same, so that a script reading stdout always gets JSON.
//!
//! ```json
//! {"ok": false, "error": {"message": "cannot run `x.wasm`", "causes": ["…"],
//!  "problems": [{"severity": "error", "kind": "foreign_import", "message": "…"}]}}
//! ```
//!
//! `problems` lists a refused module's problems (as `check` gives them), or is empty.

use std::io::Write;

use otai_plugin_abi::module::{Problem, ReadError, Severity};
use otai_plugin_host::LoadError;
use serde_json::json;

use crate::Exit;
use crate::term::Shell;

/// The module problems behind `err`, if a module was refused or unreadable.
fn problems(err: &anyhow::Error) -> Vec<Problem> {
    for cause in err.chain() {
        if let Some(load) = cause.downcast_ref::<LoadError>() {
            return load.problems().to_vec();
        }
        if let Some(read) = cause.downcast_ref::<ReadError>() {
            return vec![Problem {
                severity: Severity::Error,
                kind: read.kind(),
                message: read.to_string(),
            }];
        }
    }
    Vec::new()
}

/// Prints `err` as the JSON object above on stdout, and as usual on stderr; returns
/// the [`Exit`] the command ends with.
fn json_failure(shell: &Shell, err: anyhow::Error) -> anyhow::Error {
    let status = match err.downcast_ref::<Exit>() {
        // Cargo or a test already said why on stderr.
        Some(Exit(code)) => *code,
        None => {
            shell.error(&err);
            1
        }
    };
    let report = json!({
        "ok": false,
        "error": {
            "message": err.to_string(),
            "causes": crate::term::distinct_causes(&err),
            "problems": problems(&err),
        }
    });
    let text = serde_json::to_string_pretty(&report).unwrap_or_default();
    let _ = writeln!(shell.out(), "{text}");
    Exit(status).into()
}

/// `result`, or with `json`, its error printed as [`json_failure`] does.
pub(crate) fn or_json<T>(
    json: bool,
    shell: &Shell,
    result: anyhow::Result<T>,
) -> anyhow::Result<T> {
    match result {
        Err(err) if json => Err(json_failure(shell, err)),
        other => other,
    }
}
