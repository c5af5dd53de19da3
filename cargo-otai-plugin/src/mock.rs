//! HTTP mocks as plugin authors write them: a fixture's `[[http]]` entries, and the
//! files `run --http-mock` reads (the same entries, in TOML or JSON). `harness::transport`
//! turns them into the host's `MockHttp`.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Deserialize;
use serde_json::Value;

use crate::values::toml_to_json;

/// One `[[http]]` mock.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HttpMock {
    /// The request method, e.g. `POST` (any letter case), or `*` for any.
    pub method: String,
    /// The request URL, exactly, or as a prefix when it ends with `*`.
    pub url: String,
    /// The response status (default 200).
    #[serde(default)]
    pub status: Option<u16>,
    /// The response body.
    #[serde(default)]
    pub body: Option<String>,
    /// The response body, as JSON.
    #[serde(default)]
    pub json: Option<toml::Value>,
    /// A failure instead of a response.
    #[serde(default)]
    pub error: Option<MockError>,
}

impl HttpMock {
    /// The response body: `body`, or `json` encoded, or empty.
    pub(crate) fn response_body(&self) -> String {
        match (&self.body, &self.json) {
            (Some(body), _) => body.clone(),
            (None, Some(json)) => toml_to_json(json).to_string(),
            (None, None) => String::new(),
        }
    }
}

/// `error = …` of a mock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum MockError {
    /// The server did not answer in time: a `timeout` error, at once.
    Timeout,
    /// Connecting or reading failed: a `network` error.
    Network,
}

/// A mock file: `[[http]]` entries as in fixtures (TOML), or the same as JSON
/// (`{"http": [...]}` or a bare array). Other keys are ignored, so a fixture file works.
///
/// # Errors
/// The file cannot be read or parsed.
pub(crate) fn read_mocks(path: &Path) -> Result<Vec<HttpMock>> {
    #[derive(Deserialize)]
    struct MockFile {
        #[serde(default)]
        http: Vec<HttpMock>,
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    if path.extension().is_some_and(|e| e == "json") {
        let value: Value = serde_json::from_str(&text)
            .with_context(|| format!("`{}` is not valid JSON", path.display()))?;
        let mocks = if value.is_array() {
            serde_json::from_value(value)
        } else {
            serde_json::from_value::<MockFile>(value).map(|f| f.http)
        };
        return mocks.with_context(|| format!("`{}` does not hold HTTP mocks", path.display()));
    }
    let file: MockFile = toml::from_str(&text)
        .map_err(|err| anyhow::anyhow!("{}: {}", path.display(), err.message()))?;
    Ok(file.http)
}
