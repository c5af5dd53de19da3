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
use serde_json::Value;

use super::event_form::{self, PRIORITIES, STATUSES};
use super::guard::FrameSources;
use super::render::{error_page, form_refused, render, ser};
use super::results::Delivered;
use super::text::{path_segment, plain_text};
use super::{PanelHost, WebState};
use crate::clock::{ago_text, utc_text};
use crate::desk::Desk;
use crate::error::DeskError;
use crate::plugin_info::{ConfigEntry, PluginInfo};

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
    last_delivery_at: Option<String>,
    description: String,
    author: Option<String>,
    license: Option<String>,
    homepage: Option<String>,
    source: Option<String>,
    missing: Vec<String>,
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
        last_delivery_at: info.last_delivery_ms.map(utc_text),
        description: plain_text(&m.description),
        author: m.author.as_deref().map(plain_text),
        license: m.license.clone(),
        // The manifest's validation allows only `http` and `https`; checked again here
        // because the page makes it a link.
        homepage: m
            .homepage
            .clone()
            .filter(|h| url::Url::parse(h).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))),
        source: info.source.clone(),
        missing: info.missing_config.clone(),
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
    /// The field shows its default as its value: nothing is stored, and the default is
    /// what the plugin gets.
    defaulted: bool,
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
            let default = f
                .default
                .as_ref()
                .map(|d| match d {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .unwrap_or_default();
            // After a refused save the form shows what was typed (never a secret); a
            // field without a value shows the default it takes.
            let (value, defaulted) = match submitted {
                Some(values) if !f.secret => {
                    (values.get(&f.key).cloned().unwrap_or_default(), false)
                }
                _ if f.value.is_none() && f.default.is_some() && !f.secret => {
                    (default.clone(), true)
                }
                _ => (stored, false),
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
                description: f.description.as_deref().map(plain_text),
                ty: f.ty.as_str(),
                required: f.required,
                secret: f.secret,
                is_set: f.is_set,
                options: f.options.clone(),
                value,
                checked,
                default,
                defaulted,
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
    at: String,
    ago: String,
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
            at: utc_text(d.at_ms),
            ago: ago_text(d.at_ms),
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

/// The name of the form's "clear" boxes, one per optional secret that is set, each with the secret's key as
/// its value. A config key is an identifier (`[a-z_][a-z0-9_]*`): it cannot be this.
const CLEAR: &str = "ohd-clear";

/// The form's fields as [`Desk::configure_text`] takes them: an empty secret keeps the
/// stored one (the page never has it to send back) unless its "clear" box is ticked; a
/// field without a value that comes back as the default it showed stays without one (so
/// it follows the default of a later version); a key the form does not have is left
/// out, as a browser never sends one.
fn form_texts(
    form: &[ConfigEntry],
    submitted: BTreeMap<String, String>,
    cleared: &[String],
) -> Vec<(String, String)> {
    submitted
        .into_iter()
        .filter(|(key, text)| {
            let Some(f) = form.iter().find(|f| f.key == *key) else {
                return false;
            };
            if f.secret {
                return !text.is_empty() || cleared.contains(key);
            }
            let shows_default = f.value.is_none()
                && f.default.as_ref().is_some_and(|d| match d {
                    Value::String(s) => s == text,
                    other => other.to_string() == text.trim(),
                });
            !shows_default
        })
        .collect()
}

/// The "clear" boxes ticked: each must name a secret of the form that is not required
/// (the config would be refused without it) and that nothing was typed into. Errors are `(key, message)` as the form shows them.
fn clear_requests(
    form: &[ConfigEntry],
    pairs: &[(String, String)],
) -> Result<Vec<String>, Vec<(String, String)>> {
    let mut cleared = Vec::new();
    let mut errors = Vec::new();
    for (_, key) in pairs.iter().filter(|(name, _)| name == CLEAR) {
        match form.iter().find(|f| f.key == *key) {
            Some(f) if f.secret && f.required => errors.push((
                key.clone(),
                "it is required: type a new value to replace it; it cannot be cleared".into(),
            )),
            Some(f) if f.secret => {
                let typed = pairs.iter().any(|(k, v)| k == key && !v.is_empty());
                if typed {
                    errors.push((
                        key.clone(),
                        "a new value was typed and \"clear\" ticked: do one or the other".into(),
                    ));
                } else {
                    cleared.push(key.clone());
                }
            }
            _ => errors.push((
                String::new(),
                format!(
                    "{CLEAR}: found {:?}, expected the key of one of this plugin's secret fields",
                    key.chars().take(64).collect::<String>()
                ),
            )),
        }
    }
    if errors.is_empty() {
        Ok(cleared)
    } else {
        Err(errors)
    }
}

pub(super) async fn configure(
    State(state): State<Arc<WebState>>,
    Path(id): Path<String>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let pairs = match form {
        Ok(Form(pairs)) => pairs,
        Err(rejection) => return form_refused(&rejection),
    };
    let submitted: BTreeMap<String, String> =
        pairs.iter().filter(|(k, _)| k != CLEAR).cloned().collect();
    let (plugin_id, values) = (id.clone(), submitted.clone());
    let saved = with_desk(&state, move |d| -> Result<_, DeskError> {
        let form = d.config_form(&plugin_id)?;
        Ok(match clear_requests(&form, &pairs) {
            Ok(cleared) => Ok(d.configure_text(&plugin_id, form_texts(&form, values, &cleared))),
            Err(errors) => Err(errors),
        })
    })
    .await;
    let saved = match saved {
        Ok(Ok(Ok(saved))) => Ok(saved),
        Ok(Ok(Err(errors))) => {
            return plugin_page(&state, id, false, Some(submitted), errors).await;
        }
        Ok(Err(e)) => Ok(Err(e)),
        Err(r) => Err(r),
    };
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

/// The ticket page: the ticket, its panels, and what a delivery from a form did when
/// the page is the one that form redirected to.
async fn ticket_page(
    state: &Arc<WebState>,
    id: String,
    delivered: Option<Result<Delivered, String>>,
) -> Response {
    let panel_hosts = state.panel_hosts.clone();
    let read = desk_do(state, move |d| {
        Ok((d.ticket(&id)?, panels(d, &id, &panel_hosts)?))
    })
    .await;
    let (ticket, panels) = match read {
        Ok(page) => page,
        Err(r) => return r,
    };
    let fields = ticket.ticket["custom_fields"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let (event, reports, gone) = match delivered {
        Some(Ok(Delivered { what, reports, .. })) => (
            Some(what),
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
            None,
        ),
        Some(Err(gone)) => (None, None, Some(gone)),
        None => (None, None, None),
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
            statuses => STATUSES,
            priorities => PRIORITIES,
            event => event,
            reports => ser(&reports),
            gone => gone,
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

/// Holds what a delivery from a form did and redirects to the ticket page that shows it
/// (303: the browser follows with a GET, and a reload repeats the GET, not the POST).
fn show_delivered(state: &WebState, delivered: Delivered) -> Response {
    let ticket = path_segment(&delivered.ticket_id);
    let n = state.hold_result(delivered);
    Redirect::to(&format!("/tickets/{ticket}?delivered={n}")).into_response()
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

#[derive(serde::Deserialize)]
pub(super) struct TicketQuery {
    #[serde(default)]
    delivered: Option<String>,
}

pub(super) async fn ticket(
    State(state): State<Arc<WebState>>,
    Path(id): Path<String>,
    Query(query): Query<TicketQuery>,
) -> Response {
    let delivered = query.delivered.map(|n| {
        n.parse::<u64>()
            .ok()
            .and_then(|n| state.result(n))
            .filter(|d| d.ticket_id == id)
            .ok_or_else(|| {
                format!(
                    "The result of delivery {n:?} is no longer held here (the desk keeps \
                     the latest few, until it stops); each plugin's page lists its deliveries."
                )
            })
    });
    ticket_page(&state, id, delivered).await
}

/// Where a form posts, asked for with a GET: the ticket's page.
pub(super) async fn to_ticket(Path(id): Path<String>) -> Response {
    Redirect::to(&format!("/tickets/{}", path_segment(&id))).into_response()
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
    let fired = with_desk(&state, move |d| -> Result<_, DeskError> {
        let ticket = d.ticket(&id)?;
        let form = match event_form::read(&submitted, &ticket.ticket) {
            Ok(form) => form,
            Err(problems) => return Ok(Err(problems)),
        };
        let fired = d.fire_with(&id, &form.event, form.changes, form.data)?;
        Ok(Ok(Delivered {
            ticket_id: id,
            what: form.event,
            reports: fired.reports,
        }))
    })
    .await;
    let fired = match fired {
        Ok(Ok(Ok(delivered))) => Ok(delivered),
        Ok(Ok(Err(problems))) => {
            return error_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!(
                    "The event was not delivered; the form has {} problem{}:\n{}",
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" },
                    problems.join("\n")
                ),
            );
        }
        Ok(Err(e)) => Err(desk_error(&e)),
        Err(r) => Err(r),
    };
    match fired {
        Ok(delivered) => show_delivered(&state, delivered),
        Err(r) => r,
    }
}

#[derive(Serialize)]
struct TicketRow {
    id: String,
    path: String,
    subject: String,
    status: String,
    last_event: Option<String>,
    last_at: Option<String>,
    last_ago: Option<String>,
    written_by: Vec<String>,
}

pub(super) async fn tickets(State(state): State<Arc<WebState>>) -> Response {
    let list = match desk_do(&state, Desk::tickets).await {
        Ok(list) => list,
        Err(r) => return r,
    };
    let rows: Vec<TicketRow> = list
        .into_iter()
        .map(|t| TicketRow {
            path: path_segment(&t.id),
            last_at: t.last_event.as_ref().map(|(_, at)| utc_text(*at)),
            last_ago: t.last_event.as_ref().map(|(_, at)| ago_text(*at)),
            last_event: t.last_event.map(|(event, _)| event),
            id: t.id,
            subject: t.subject,
            status: t.status,
            written_by: t.written_by,
        })
        .collect();
    render(
        "tickets.html",
        context! {
            tickets => ser(&rows),
            priorities => PRIORITIES,
            build_error => state.build_error(),
        },
    )
}

/// Opens a ticket as the help desk does: stores it under a new id, then delivers
/// `ticket.created`; redirects to its page with the result.
pub(super) async fn new_ticket(
    State(state): State<Arc<WebState>>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let mut submitted: BTreeMap<String, String> = match form {
        Ok(Form(pairs)) => pairs.into_iter().collect(),
        Err(rejection) => return form_refused(&rejection),
    };
    // Only the new ticket's own fields: it is `New`, and its event is `ticket.created`.
    submitted.retain(|k, _| {
        matches!(
            k.as_str(),
            "subject" | "description" | "priority" | "category"
        )
    });
    submitted.insert("event".into(), EventKind::TicketCreated.as_str().into());
    // A field left out is empty, not the sample ticket's.
    for key in ["subject", "description", "category"] {
        submitted.entry(key.into()).or_default();
    }
    let created = with_desk(&state, move |d| -> Result<_, DeskError> {
        // A new ticket has no status or priority of its own to keep.
        let form = match event_form::read(&submitted, &Value::Null) {
            Ok(form) => form,
            Err(problems) => return Ok(Err(problems)),
        };
        let id = d.create_ticket(form.changes)?;
        let reports = d.deliver(&form.event, &id)?;
        Ok(Ok(Delivered {
            ticket_id: id,
            what: form.event,
            reports,
        }))
    })
    .await;
    match created {
        Ok(Ok(Ok(delivered))) => show_delivered(&state, delivered),
        Ok(Ok(Err(problems))) => error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("The ticket was not opened:\n{}", problems.join("\n")),
        ),
        Ok(Err(e)) => desk_error(&e),
        Err(r) => r,
    }
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
    let changed = desk_do(&state, move |d| {
        let from = d.ticket(&id)?.ticket["status"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if !to.trim().is_empty() && to != from && !STATUSES.contains(&to.as_str()) {
            return Ok(Err(event_form::not_a_status("status", &to)));
        }
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
        Ok(Ok(Delivered {
            ticket_id: id,
            what,
            reports,
        }))
    })
    .await;
    match changed {
        Ok(Ok(delivered)) => show_delivered(&state, delivered),
        Ok(Err(problem)) => error_page(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("The status was not changed: {problem}"),
        ),
        Err(r) => r,
    }
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
