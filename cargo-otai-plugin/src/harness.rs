//! Running a plugin with the reference host, as `run` and `test` do: production limits
//! (5 s deadline, 64 MiB memory, `allowed_hosts` enforced), HTTP answered by mocks, and
//! real network only when asked for.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use otai_plugin_abi::event::EventKind;
use otai_plugin_host::http::{HttpRequest, HttpTransport, RealHttp};
use otai_plugin_host::http::{HttpResponse, TransportError};
use otai_plugin_host::{Event, Host, Plugin, REDACTED};
use serde::Deserialize;
use serde_json::Value;

use crate::fixture::{HttpMock, MockError, toml_to_json};

/// Answers plugin requests from mocks; then from the network if allowed; else with a
/// network error that says why.
#[derive(Debug)]
pub struct Transport {
    mocks: Vec<HttpMock>,
    real: Option<RealHttp>,
    no_match: &'static str,
}

impl Transport {
    /// Mocks only; an unmatched request fails with a message ending in `no_match`.
    pub fn mocks(mocks: Vec<HttpMock>, no_match: &'static str) -> Transport {
        Transport {
            mocks,
            real: None,
            no_match,
        }
    }

    /// Mocks first, then real requests (within `allowed_hosts`, which the host enforces).
    pub fn with_network(mocks: Vec<HttpMock>) -> Transport {
        Transport {
            mocks,
            real: Some(RealHttp::new()),
            no_match: "",
        }
    }
}

fn matches(mock: &HttpMock, request: &HttpRequest) -> bool {
    let method = mock.method == "*" || mock.method.eq_ignore_ascii_case(&request.method);
    let url = match mock.url.strip_suffix('*') {
        Some(prefix) => request.url.starts_with(prefix),
        None => mock.url == request.url,
    };
    method && url
}

impl HttpTransport for Transport {
    fn send(
        &self,
        request: &HttpRequest,
        timeout: Duration,
    ) -> Result<HttpResponse, TransportError> {
        if let Some(mock) = self.mocks.iter().find(|m| matches(m, request)) {
            return match mock.error {
                Some(MockError::Timeout) => {
                    Err(TransportError::timeout("the request timed out (mocked)"))
                }
                Some(MockError::Network) => {
                    Err(TransportError::network("the connection failed (mocked)"))
                }
                None => Ok(HttpResponse {
                    status: mock.status.unwrap_or(200),
                    body: mock.response_body().into_bytes(),
                }),
            };
        }
        match &self.real {
            Some(real) => real.send(request, timeout),
            None => Err(TransportError::network(format!(
                "no HTTP mock matches `{} {}`; {}",
                request.method, request.url, self.no_match
            ))),
        }
    }
}

/// A host with the help desk's production limits around `transport`, with the plugin
/// loaded and installed with `config`.
///
/// Auto-disabling is off, so a run of failing fixtures keeps being delivered.
///
/// # Errors
/// The host cannot start, the module is refused, or the config does not fit.
pub fn host_with(wasm: &[u8], transport: Transport, config: Value) -> Result<(Host, Plugin)> {
    let host = Host::builder()
        .http(Arc::new(transport))
        .auto_disable(false)
        .build()
        .context("failed to start the reference host")?;
    let plugin = host.load(wasm).context("the host refused the module")?;
    host.install(&plugin, config)
        .context("the host refused the config")?;
    Ok((host, plugin))
}

/// The event for `--event` or a fixture: an event name (a realistic payload of that
/// kind) or a JSON payload file.
///
/// # Errors
/// An unknown event name, or a file that is not an ABI v1 payload.
pub fn event_from(spec: &str, base_dir: &Path) -> Result<Event> {
    let as_path = base_dir.join(spec);
    if spec.ends_with(".json") || (as_path.is_file() && !spec.starts_with("ticket.")) {
        return event_from_file(&as_path);
    }
    event_from_kind(spec)
}

/// An event of the named kind with realistic defaults.
///
/// # Errors
/// The name is not an ABI v1 event.
pub fn event_from_kind(name: &str) -> Result<Event> {
    let kind = EventKind::from_name(name);
    if !kind.is_known() {
        let names: Vec<&str> = EventKind::ALL.iter().map(EventKind::as_str).collect();
        bail!(
            "unknown event `{name}`; the events are {}",
            names.join(", ")
        );
    }
    Ok(Event::from_kind(kind))
}

/// An event from a JSON payload file.
///
/// # Errors
/// The file cannot be read or is not an ABI v1 payload.
pub fn event_from_file(path: &Path) -> Result<Event> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    let value: Value =
        serde_json::from_str(&text).with_context(|| format!("`{}` is not JSON", path.display()))?;
    Event::from_json(value).with_context(|| format!("`{}` is not an event payload", path.display()))
}

/// Reads a JSON or TOML file of values (config files).
///
/// # Errors
/// The file cannot be read or parsed.
pub fn read_values(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read `{}`", path.display()))?;
    if path.extension().is_some_and(|e| e == "toml") {
        let table: toml::Table = toml::from_str(&text)
            .with_context(|| format!("`{}` is not valid TOML", path.display()))?;
        Ok(toml_to_json(&toml::Value::Table(table)))
    } else {
        serde_json::from_str(&text)
            .with_context(|| format!("`{}` is not valid JSON", path.display()))
    }
}

/// A mock file: `[[http]]` entries as in fixtures (TOML), or the same as JSON
/// (`{"http": [...]}` or a bare array). Other keys are ignored, so a fixture file works.
///
/// # Errors
/// The file cannot be read or parsed.
pub fn read_mocks(path: &Path) -> Result<Vec<HttpMock>> {
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

/// The secret config values of `plugin`'s manifest present in `config`, as the host
/// redacts them, to apply the same redaction to expectations.
pub fn redactor(plugin: &Plugin, config: &Value) -> impl Fn(&str) -> String + use<> {
    let mut secrets: Vec<String> = plugin
        .manifest()
        .config_schema
        .iter()
        .filter(|(_, f)| f.secret)
        .filter_map(|(k, _)| config.get(k).and_then(Value::as_str).map(str::to_owned))
        .filter(|s| !s.is_empty())
        .collect();
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    move |text: &str| {
        let mut out = text.to_owned();
        for secret in &secrets {
            out = out.replace(secret.as_str(), REDACTED);
        }
        out
    }
}
