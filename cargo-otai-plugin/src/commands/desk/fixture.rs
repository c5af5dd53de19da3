//! `desk log PLUGIN --as-fixture [N]`: a logged delivery written as a fixture
//! (`otai_plugin_desk::fixture_export`, which the web UI's download writes too).

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use otai_plugin_desk::Desk;
use serde::Serialize;

use super::{Output, Printed};

/// What `--format json` prints.
#[derive(Serialize)]
struct Written<'a> {
    plugin_id: &'a str,
    /// The file written, or `null` when the fixture is in `fixture`.
    path: Option<&'a Path>,
    /// The fixture's TOML, when it was not written to a file.
    fixture: Option<&'a str>,
}

pub(super) fn write(
    desk: &Desk,
    out: Output<'_>,
    id: &str,
    seq: Option<i64>,
    path: Option<&Path>,
) -> Result<Printed> {
    let toml = desk.fixture(id, seq)?;
    if let Some(path) = path {
        std::fs::write(path, &toml)
            .with_context(|| format!("failed to write `{}`", path.display()))?;
    }
    let written = Written {
        plugin_id: id,
        path,
        fixture: path.is_none().then_some(toml.as_str()),
    };
    out.success(&written, |shell| {
        match path {
            Some(path) => shell.note(format!(
                "wrote `{}`: fill in its placeholders, if any, then `cargo otai-plugin test`",
                path.display()
            )),
            None => shell
                .out()
                .write_all(toml.as_bytes())
                .context("failed to write to stdout")?,
        }
        Ok(())
    })
}
