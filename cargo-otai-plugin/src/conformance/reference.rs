//! The reference host as a conformance driver: a case run in process, its report
//! turned into the transcript of `conformance/README.md`.

use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use otai_plugin_host::http::MockHttp;
use otai_plugin_host::{DeliverError, Event, Host, LoadError, Outcome, PanelReport};
use serde_json::{Map, Value, json};

use super::case::{AnswerError, Call, Case};

/// Runs `case` on the reference host and returns its transcript.
pub(crate) fn transcript(case: &Case) -> Result<Value> {
    let mut mock = MockHttp::new();
    for answer in &case.http {
        let rule = mock.on(&answer.method, &answer.url);
        mock = match (answer.error, answer.status) {
            (Some(AnswerError::Network), _) => {
                rule.network_error("the case scripts a network error")
            }
            (Some(AnswerError::Timeout), _) => rule.timeout(),
            (None, status) => rule.respond(
                status.unwrap_or(200),
                answer.body.clone().unwrap_or_default(),
            ),
        };
    }
    let mut builder = Host::builder().http(mock).record_calls(true);
    if let Some(ms) = case.settings.host.deadline_ms {
        builder = builder.deadline(Duration::from_millis(ms));
    }
    if let Some(bytes) = case.settings.host.memory_limit_bytes {
        builder = builder.memory_limit(bytes);
    }
    let host = builder
        .build()
        .context("failed to build the reference host")?;

    let plugin = match host.load(&case.wasm) {
        Ok(plugin) => plugin,
        Err(LoadError::Rejected(rejection)) => {
            let kinds: Vec<Value> = rejection
                .kinds()
                .into_iter()
                .map(|k| serde_json::to_value(k).unwrap_or(Value::Null))
                .collect();
            return Ok(json!({ "load": { "refused": kinds } }));
        }
        Err(e) => return Err(anyhow!(e).context("the reference host could not load the module")),
    };
    if host.install(&plugin, case.config.clone()).is_err() {
        return Ok(json!({ "load": "loaded", "install": "refused" }));
    }
    let mut out = Map::new();
    out.insert("load".into(), "loaded".into());
    out.insert("install".into(), "installed".into());
    match case.settings.call {
        Call::OnEvent => {
            let event = Event::from_json(case.event.clone()).context("the case's event.json")?;
            let report = host.deliver_to(plugin.id(), &event)?;
            out.insert("outcome".into(), outcome(&report.outcome)?);
            out.insert("calls".into(), report.transcript_calls());
        }
        Call::StatusChange => {
            let change = case
                .settings
                .status_change
                .as_ref()
                .context("a status change case without `status_change`")?;
            let before = Event::from_json(case.event.clone()).context("the case's event.json")?;
            let mut deliveries = Vec::new();
            // One after the other: the fields the host keeps from one reach the next.
            for event in before.status_change(&change.to, &change.notes)? {
                let report = match host.deliver_to(plugin.id(), &event) {
                    Ok(report) => report,
                    Err(DeliverError::NotSubscribed { .. }) => continue,
                    Err(e) => return Err(e.into()),
                };
                deliveries.push(json!({
                    "event": report.event,
                    "outcome": outcome(&report.outcome)?,
                    "calls": report.transcript_calls(),
                }));
            }
            out.insert("deliveries".into(), Value::Array(deliveries));
        }
        Call::RenderPanel => {
            let report = host.render_panel(plugin.id(), &case.ticket_id())?;
            out.insert("outcome".into(), outcome(&report.outcome)?);
            out.insert("calls".into(), report.transcript_calls());
            if report.outcome.is_ok() {
                out.insert("panel".into(), panel(&report));
            }
        }
    }
    Ok(Value::Object(out))
}

fn outcome(outcome: &Outcome) -> Result<Value> {
    if let Outcome::Rejected { reason } = outcome {
        return Err(anyhow!(
            "the reference host did not run the plugin: {reason}"
        ));
    }
    // The transcript's names are the report's own.
    Ok(outcome.status().into())
}

fn panel(report: &PanelReport) -> Value {
    match (&report.url, &report.refused) {
        (_, Some(_)) => json!({ "refused": true }),
        (url, None) => json!({ "url": url }),
    }
}

#[cfg(test)]
mod tests {
    use otai_plugin_abi::wasm::{HOST_FUNCTIONS, IMPORT_MODULE};

    const KIT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../conformance");

    /// A function the contract's table gains is not done until the kit shows it at the
    /// boundary: a case whose plugin imports it, so both hosts run it. (The entry
    /// `conformance/README.md` gives its calls in a transcript is generated from the
    /// host's functions, and held current by a unit test of the host.)
    #[test]
    fn every_host_function_of_the_table_has_a_case() {
        let mut imports = String::new();
        for case in std::fs::read_dir(format!("{KIT}/v1")).unwrap() {
            let wat = case.unwrap().path().join("plugin.wat");
            imports += &std::fs::read_to_string(wat).unwrap_or_default();
        }
        for f in HOST_FUNCTIONS {
            assert!(
                imports.contains(&format!("(import \"{IMPORT_MODULE}\" \"{}\"", f.name)),
                "no case of conformance/v1 imports `{}`",
                f.name
            );
        }
    }
}
