//! The pages: each handler reads or changes the desk on a blocking thread (SQLite and
//! wasm are synchronous) and renders a template.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use otai_plugin_abi::event::{EventKind, sample};
use otai_plugin_abi::rules::status::status_change_events;
use otai_plugin_host::{DeliveryReport, Outcome};
use serde::Serialize;
use serde_json::{Map, Value};

use super::guard::FrameSources;
use super::render::{error_page, form_refused, render, ser};
use super::{PanelHost, WebState};
use crate::desk::Desk;
use crate::error::DeskError;
use crate::plugin_info::{ConfigEntry, PluginInfo};
use crate::ticket_records::Ticket;

pub(super) fn desk_error(e: &DeskError) -> Response {
    let status = match e {
        DeskError::NotInstalled { .. } => StatusCode::NOT_FOUND,
        DeskError::InvalidConfig { .. }
        | DeskError::NeedsConfig { .. }
        | DeskError::Event(_)
        | DeskError::BlankStatus { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    error_page(status, &e.to_string())
}

/// Runs `f` with the desk on a blocking thread.
pub(super) async fn with_desk<T: Send + 'static>(
    state: &Arc<WebState>,
    f: impl FnOnce(&Desk) -> T + Send + 'static,
) -> Result<T, Response> {
    let desk = state.desk.clone();
    tokio::task::spawn_blocking(move || f(&desk))
        .await
        .map_err(|e| {
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("the request failed: {e}"),
            )
        })
}

/// Runs `f` with the desk on a blocking thread; a desk error becomes its error page.
async fn desk_do<T: Send + 'static>(
    state: &Arc<WebState>,
    f: impl FnOnce(&Desk) -> Result<T, DeskError> + Send + 'static,
) -> Result<T, Response> {
    with_desk(state, f).await?.map_err(|e| desk_error(&e))
}

#[derive(Serialize)]
struct PluginView {
    id: String,
    name: String,
    version: String,
    state: &'static str,
    detail: Option<String>,
    failures: u32,
    deliveries: u32,
    error_rate: String,
    last_delivery: Option<String>,
    events: Vec<String>,
    hosts: Vec<String>,
    panel: Option<String>,
    signers: Vec<String>,
}

fn plugin_view(info: &PluginInfo) -> PluginView {
    let m = &info.manifest;
    PluginView {
        id: info.id.clone(),
        name: m.name.clone(),
        version: m.version.clone(),
        state: match (&info.load_error, info.enabled) {
            (Some(_), _) => "not loaded",
            (None, true) => "enabled",
            (None, false) => "disabled",
        },
        detail: info
            .load_error
            .clone()
            .or_else(|| info.disabled.as_ref().map(|d| d.detail.clone())),
        failures: info.failures,
        deliveries: info.deliveries,
        error_rate: format!("{:.0}", info.error_rate() * 100.0),
        last_delivery: info.last_delivery_ago(),
        events: m.events.iter().map(ToString::to_string).collect(),
        hosts: m.allowed_hosts().to_vec(),
        panel: m
            .ui_panel
            .as_ref()
            .map(|p| format!("\u{201c}{}\u{201d}, {} px high", p.title, p.height)),
        signers: info.signers.clone(),
    }
}

/// One line per thing a delivery did, as the pages list them.
fn report_lines(report: &DeliveryReport) -> Vec<String> {
    let mut lines = Vec::new();
    for l in &report.logs {
        lines.push(format!("[{}] {}", l.level.as_str(), l.message));
    }
    for x in &report.http {
        lines.push(format!(
            "{} {} → {}",
            x.request.method, x.request.url, x.status
        ));
    }
    for r in &report.replies {
        let kind = if r.is_internal {
            "internal note"
        } else {
            "reply"
        };
        lines.push(format!("{kind}: {}", r.body));
    }
    for f in &report.custom_fields {
        lines.push(format!("custom field {} = {}", f.key, f.value));
    }
    lines
}

pub(super) async fn plugins(State(state): State<Arc<WebState>>) -> Response {
    match desk_do(&state, |d| d.list()).await {
        Ok(list) => render(
            "plugins.html",
            context! { plugins => ser(&list.iter().map(plugin_view).collect::<Vec<_>>()), build_error => state.build_error() },
        ),
        Err(r) => r,
    }
}

#[derive(Serialize)]
struct FieldView {
    key: String,
    label: String,
    description: Option<String>,
    #[serde(rename = "type")]
    ty: &'static str,
    required: bool,
    secret: bool,
    is_set: bool,
    options: Vec<String>,
    value: String,
    checked: bool,
    default: String,
    error: Option<String>,
}

fn field_views(
    form: &[ConfigEntry],
    submitted: Option<&BTreeMap<String, String>>,
    errors: &BTreeMap<String, String>,
) -> Vec<FieldView> {
    form.iter()
        .map(|f| {
            let stored = match &f.value {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            // After a refused save the form shows what was typed (never a secret).
            let value = match submitted {
                Some(values) if !f.secret => values.get(&f.key).cloned().unwrap_or_default(),
                _ => stored,
            };
            let checked = match submitted.and_then(|values| values.get(&f.key)) {
                Some(text) => text.trim() == "true",
                None => match (&f.value, &f.default) {
                    (Some(v), _) => v == &Value::Bool(true),
                    (None, Some(d)) => d == &Value::Bool(true),
                    (None, None) => false,
                },
            };
            FieldView {
                key: f.key.clone(),
                label: f.label.clone(),
                description: f.description.clone(),
                ty: f.ty.as_str(),
                required: f.required,
                secret: f.secret,
                is_set: f.is_set,
                options: f.options.clone(),
                value,
                checked,
                default: f
                    .default
                    .as_ref()
                    .map(|d| match d {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .unwrap_or_default(),
                error: errors.get(&f.key).cloned(),
            }
        })
        .collect()
}

#[derive(Serialize)]
struct DeliveryView {
    seq: i64,
    event: String,
    ticket_id: String,
    ok: bool,
    outcome: String,
    lines: Vec<String>,
    total_us: u64,
    fuel: Option<u64>,
}

#[derive(Serialize)]
struct PendingView {
    version: String,
    diff: String,
}

/// The plugin page, with the form as submitted and its errors after a refused save.
async fn plugin_page(
    state: &Arc<WebState>,
    id: String,
    saved: bool,
    submitted: Option<BTreeMap<String, String>>,
    errors: Vec<(String, String)>,
) -> Response {
    let lookup = id.clone();
    let read = desk_do(state, move |d| {
        Ok((
            d.plugin(&lookup)?,
            d.config_form(&lookup)?,
            d.deliveries(&lookup, 20)?,
        ))
    })
    .await;
    let (info, form, deliveries) = match read {
        Ok(read) => read,
        Err(r) => return r,
    };
    let by_key: BTreeMap<String, String> = errors
        .iter()
        .filter(|(k, _)| !k.is_empty())
        .cloned()
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let deliveries: Vec<DeliveryView> = deliveries
        .iter()
        .map(|d| DeliveryView {
            seq: d.seq,
            event: d.report.event.clone(),
            ticket_id: d.ticket_id.clone(),
            ok: d.report.outcome.is_ok(),
            outcome: d.report.outcome.to_string(),
            lines: report_lines(&d.report),
            total_us: d.report.timings.total_us,
            fuel: d.report.fuel,
        })
        .collect();
    let pending = state.pending(&id).map(|p| PendingView {
        version: p.version,
        diff: p.diff.to_string(),
    });
    let mut response = render(
        "plugin.html",
        context! {
            plugin => ser(&plugin_view(&info)),
            fields => ser(&field_views(&form, submitted.as_ref(), &by_key)),
            errors => errors.iter().map(|(k, m)| if k.is_empty() { m.clone() } else { format!("{k}: {m}") }).collect::<Vec<_>>(),
            deliveries => ser(&deliveries),
            pending => ser(&pending),
            saved => saved,
            build_error => state.build_error(),
        },
    );
    if response.status() == StatusCode::OK {
        *response.status_mut() = status;
    }
    response
}

#[derive(serde::Deserialize)]
pub(super) struct PluginQuery {
    #[serde(default)]
    saved: Option<String>,
}

pub(super) async fn plugin(
    State(state): State<Arc<WebState>>,
    Path(id): Path<String>,
    Query(query): Query<PluginQuery>,
) -> Response {
    plugin_page(&state, id, query.saved.is_some(), None, Vec::new()).await
}

/// The form's fields as [`Desk::configure_text`] takes them: an empty secret keeps the
/// stored one (the page never has it to send back), a key the form does not have is
/// left out, as a browser never sends one.
fn form_texts(
    form: &[ConfigEntry],
    submitted: BTreeMap<String, String>,
) -> impl Iterator<Item = (String, String)> + '_ {
    submitted.into_iter().filter(|(key, text)| {
        form.iter()
            .find(|f| f.key == *key)
            .is_some_and(|f| !(f.secret && text.is_empty()))
    })
}

pub(super) async fn configure(
    State(state): State<Arc<WebState>>,
    Path(id): Path<String>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let submitted: BTreeMap<String, String> = match form {
        Ok(Form(pairs)) => pairs.into_iter().collect(),
        Err(rejection) => return form_refused(&rejection),
    };
    let (plugin_id, values) = (id.clone(), submitted.clone());
    let saved = with_desk(&state, move |d| -> Result<_, DeskError> {
        let form = d.config_form(&plugin_id)?;
        d.configure_text(&plugin_id, form_texts(&form, values))
    })
    .await;
    match saved {
        Ok(Ok(_)) => Redirect::to(&format!("/plugins/{id}?saved=1")).into_response(),
        Ok(Err(DeskError::InvalidConfig { diagnostics, .. })) => {
            let errors = diagnostics
                .errors()
                .map(|d| (d.path.clone(), d.message.clone()))
                .collect();
            plugin_page(&state, id, false, Some(submitted), errors).await
        }
        Ok(Err(e)) => desk_error(&e),
        Err(r) => r,
    }
}

pub(super) async fn enable(State(state): State<Arc<WebState>>, Path(id): Path<String>) -> Response {
    let plugin_id = id.clone();
    match with_desk(&state, move |d| d.enable(&plugin_id)).await {
        Ok(Ok(_)) => Redirect::to(&format!("/plugins/{id}")).into_response(),
        Ok(Err(DeskError::NeedsConfig { missing, .. })) => {
            plugin_page(
                &state,
                id,
                false,
                None,
                vec![(
                    String::new(),
                    format!("{missing} must be configured before the plugin can be enabled"),
                )],
            )
            .await
        }
        Ok(Err(e)) => desk_error(&e),
        Err(r) => r,
    }
}

pub(super) async fn disable(
    State(state): State<Arc<WebState>>,
    Path(id): Path<String>,
) -> Response {
    let plugin_id = id.clone();
    match desk_do(&state, move |d| d.disable(&plugin_id)).await {
        Ok(_) => Redirect::to(&format!("/plugins/{id}")).into_response(),
        Err(r) => r,
    }
}

pub(super) async fn approve(
    State(state): State<Arc<WebState>>,
    Path(id): Path<String>,
) -> Response {
    let Some(pending) = state.take_pending(&id) else {
        return Redirect::to(&format!("/plugins/{id}")).into_response();
    };
    match desk_do(&state, move |d| d.upgrade(&pending.wasm, true)).await {
        Ok(_) => Redirect::to(&format!("/plugins/{id}")).into_response(),
        Err(r) => r,
    }
}

#[derive(Serialize)]
struct PanelView {
    plugin: String,
    title: String,
    height: u32,
    url: Option<String>,
    reason: Option<String>,
}

#[derive(Serialize)]
struct ReportView {
    plugin: String,
    event: String,
    ok: bool,
    outcome: String,
    lines: Vec<String>,
}

/// The panels of the enabled plugins that have one, for a ticket.
fn panels(d: &Desk, ticket_id: &str, hosts: &[PanelHost]) -> Result<Vec<PanelView>, DeskError> {
    let mut panels = Vec::new();
    for info in d.list()? {
        let Some(panel) = &info.manifest.ui_panel else {
            continue;
        };
        if !info.enabled {
            continue;
        }
        let (url, reason) = match d.render_panel(&info.id, ticket_id) {
            // The iframe loads the URL as the plugin returned it: a secret in it
            // (a signed token) is what makes it work; only reports redact it.
            Ok(report) => match (report.embed_url(), &report.refused, &report.outcome) {
                (Some(url), _, _) => (Some(map_panel_url(url, hosts)), None),
                (None, Some(refused), _) => (None, Some(format!("the URL was refused: {refused}"))),
                (None, None, Outcome::Ok) => (
                    None,
                    Some("the plugin shows no panel for this ticket".into()),
                ),
                (None, None, outcome) => (None, Some(outcome.to_string())),
            },
            Err(e) => (None, Some(e.to_string())),
        };
        panels.push(PanelView {
            plugin: info.id.clone(),
            title: panel.title.clone(),
            height: panel.height,
            url,
            reason,
        });
    }
    Ok(panels)
}

/// What the ticket page shows: the ticket, its panels, and what a delivery just made
/// did (what was delivered, the reports).
struct TicketPage {
    ticket: Ticket,
    panels: Vec<PanelView>,
    delivered: Option<(String, Vec<DeliveryReport>)>,
}

/// The ticket page: `read` runs on the desk's blocking thread, in one call.
async fn ticket_page(
    state: &Arc<WebState>,
    read: impl FnOnce(&Desk, &[PanelHost]) -> Result<TicketPage, DeskError> + Send + 'static,
) -> Response {
    let panel_hosts = state.panel_hosts.clone();
    let page = match desk_do(state, move |d| read(d, &panel_hosts)).await {
        Ok(page) => page,
        Err(r) => return r,
    };
    let TicketPage {
        ticket,
        panels,
        delivered,
    } = page;
    let fields = ticket.ticket["custom_fields"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let (event, reports) = match delivered {
        Some((event, reports)) => (
            Some(event),
            Some(
                reports
                    .iter()
                    .map(|r| ReportView {
                        plugin: r.plugin_id.clone(),
                        event: r.event.clone(),
                        ok: r.outcome.is_ok(),
                        outcome: r.outcome.to_string(),
                        lines: report_lines(r),
                    })
                    .collect::<Vec<_>>(),
            ),
        ),
        None => (None, None),
    };
    let frames = FrameSources::of(panels.iter().filter_map(|p| p.url.as_deref()));
    let mut response = render(
        "ticket.html",
        context! {
            ticket => ser(&ticket.ticket),
            fields => ser(&fields),
            replies => ser(&ticket.replies),
            panels => ser(&panels),
            events => EventKind::ALL.iter().map(EventKind::as_str).collect::<Vec<_>>(),
            event => event,
            reports => ser(&reports),
            // What a panel may ask for by `postMessage`.
            bridge => ser(&serde_json::json!({
                "ticket": ticket.ticket,
                "user": sample::agent_actor(),
            })),
            build_error => state.build_error(),
        },
    );
    response.extensions_mut().insert(frames);
    response
}

/// A panel URL as the page shows it: from the development server of its host, when one
/// was given (`--panel-host`).
fn map_panel_url(url: &str, hosts: &[PanelHost]) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return url.to_owned();
    };
    let Some(mapped) = hosts
        .iter()
        .find(|h| parsed.host_str() == Some(h.host.as_str()))
    else {
        return url.to_owned();
    };
    let mut out = mapped.base.clone();
    out.set_path(parsed.path());
    out.set_query(parsed.query());
    out.to_string()
}

pub(super) async fn ticket(State(state): State<Arc<WebState>>, Path(id): Path<String>) -> Response {
    ticket_page(&state, move |d, hosts| {
        Ok(TicketPage {
            ticket: d.ticket(&id)?,
            panels: panels(d, &id, hosts)?,
            delivered: None,
        })
    })
    .await
}

pub(super) async fn fire(
    State(state): State<Arc<WebState>>,
    Path(id): Path<String>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let submitted: BTreeMap<String, String> = match form {
        Ok(Form(pairs)) => pairs.into_iter().collect(),
        Err(rejection) => return form_refused(&rejection),
    };
    let event = submitted.get("event").cloned().unwrap_or_default();
    let mut changes = Map::new();
    for key in ["subject", "description", "status", "priority", "category"] {
        if let Some(value) = submitted.get(key) {
            changes.insert(key.to_owned(), Value::String(value.replace("\r\n", "\n")));
        }
    }
    ticket_page(&state, move |d, hosts| {
        let fired = d.fire(&id, &event, changes)?;
        Ok(TicketPage {
            ticket: fired.ticket,
            panels: panels(d, &id, hosts)?,
            delivered: Some((event, fired.reports)),
        })
    })
    .await
}

/// Changes a ticket's status as the help desk does: every event of the change, in order
/// (docs/ABI.md section 6, "One change, several events").
pub(super) async fn change_status(
    State(state): State<Arc<WebState>>,
    Path(id): Path<String>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let submitted: BTreeMap<String, String> = match form {
        Ok(Form(pairs)) => pairs.into_iter().collect(),
        Err(rejection) => return form_refused(&rejection),
    };
    let to = submitted.get("status").cloned().unwrap_or_default();
    let notes = submitted
        .get("notes")
        .map(|n| n.replace("\r\n", "\n"))
        .unwrap_or_default();
    ticket_page(&state, move |d, hosts| {
        let from = d.ticket(&id)?.ticket["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let reports = d.change_status(&id, &to, &notes)?;
        let names: Vec<String> = status_change_events(&from, &to)
            .iter()
            .map(|e| e.as_str().to_owned())
            .collect();
        let what = if names.is_empty() {
            format!("nothing: the status already is {to}")
        } else {
            names.join(", then ")
        };
        Ok(TicketPage {
            ticket: d.ticket(&id)?,
            panels: panels(d, &id, hosts)?,
            delivered: Some((what, reports)),
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panel_url_is_served_from_its_development_server() {
        let hosts = [PanelHost {
            host: "panel.example.com".into(),
            base: "http://127.0.0.1:8080".parse().unwrap(),
        }];
        assert_eq!(
            map_panel_url("https://panel.example.com/p/x?ticket=T-1", &hosts),
            "http://127.0.0.1:8080/p/x?ticket=T-1"
        );
        assert_eq!(
            map_panel_url("https://other.example.com/p", &hosts),
            "https://other.example.com/p"
        );
    }
}
