//! The plugin pages, and what every page's handler shares: each handler reads or
//! changes the desk on a blocking thread (SQLite and wasm are synchronous) and renders a
//! template. The ticket pages are in `ticket_pages.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use otai_plugin_host::DeliveryReport;
use serde::Serialize;
use serde_json::Value;

use super::WebState;
use super::render::{error_page, form_refused, render, ser};
use super::text::plain_text;
use crate::clock::{ago_text, utc_text};
use crate::desk::Desk;
use crate::error::DeskError;
use crate::notices::Notice;
use crate::plugin_info::{ConfigEntry, PluginInfo};

pub(super) fn desk_error(e: &DeskError) -> Response {
    let status = match e {
        DeskError::NotInstalled { .. }
        | DeskError::NoDelivery { .. }
        | DeskError::NoFlameGraph { .. } => StatusCode::NOT_FOUND,
        DeskError::NoFixture { .. } => StatusCode::CONFLICT,
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
pub(super) async fn desk_do<T: Send + 'static>(
    state: &Arc<WebState>,
    f: impl FnOnce(&Desk) -> Result<T, DeskError> + Send + 'static,
) -> Result<T, Response> {
    with_desk(state, f).await?.map_err(|e| desk_error(&e))
}

#[derive(Serialize)]
struct NoticeView {
    seq: i64,
    plugin_id: String,
    detail: String,
    at: String,
    ago: String,
    dismissed: bool,
}

fn notice_views(notices: &[Notice]) -> Vec<NoticeView> {
    notices
        .iter()
        .map(|n| NoticeView {
            seq: n.seq,
            plugin_id: n.plugin_id.clone(),
            detail: n.detail.clone(),
            at: utc_text(n.at_ms),
            ago: ago_text(n.at_ms),
            dismissed: n.dismissed,
        })
        .collect()
}

/// The most notices the banner shows; the notices page lists them all.
const BANNER_NOTICES: u32 = 5;

/// Renders a page with what every page shows: a failed build, and the notices to
/// administrators not dismissed (a plugin the health policy disabled).
pub(super) async fn page(state: &Arc<WebState>, name: &str, ctx: minijinja::Value) -> Response {
    let notices = match desk_do(state, |d| d.notices(true, BANNER_NOTICES + 1)).await {
        Ok(notices) => notices,
        Err(r) => return r,
    };
    let more = notices.len() > BANNER_NOTICES as usize;
    let shown = &notices[..notices.len().min(BANNER_NOTICES as usize)];
    let build = state.build();
    render(
        name,
        context! {
            banner_notices => ser(&notice_views(shown)),
            more_notices => more,
            build_error => build.error,
            live => build.number,
            ..ctx
        },
    )
}

pub(super) async fn notices(State(state): State<Arc<WebState>>) -> Response {
    match desk_do(&state, |d| d.notices(false, 200)).await {
        Ok(list) => {
            page(
                &state,
                "notices.html",
                context! { notices => ser(&notice_views(&list)) },
            )
            .await
        }
        Err(r) => r,
    }
}

/// Dismisses one notice (`seq` in the form) or all (`all`); back to the notices.
pub(super) async fn dismiss(
    State(state): State<Arc<WebState>>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let submitted: BTreeMap<String, String> = match form {
        Ok(Form(pairs)) => pairs.into_iter().collect(),
        Err(rejection) => return form_refused(&rejection),
    };
    let which = match (submitted.get("seq"), submitted.contains_key("all")) {
        (None, true) => None,
        (Some(seq), false) => match seq.trim().parse::<i64>() {
            Ok(seq) => Some(seq),
            Err(_) => {
                return error_page(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    &format!(
                        "seq: found {:?}, expected the number of a notice",
                        seq.chars().take(64).collect::<String>()
                    ),
                );
            }
        },
        _ => {
            return error_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "the form names no notice: send `seq` (one notice's number) or `all`, not both",
            );
        }
    };
    match desk_do(&state, move |d| d.dismiss_notices(which)).await {
        Ok(_) => Redirect::to("/notices").into_response(),
        Err(r) => r,
    }
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

/// A warning for each request no mock answered (`dev` answers with the fixtures'
/// mocks), whatever the plugin then did: a plugin may end `ok` on a network error.
pub(super) fn report_warnings(report: &DeliveryReport) -> Vec<String> {
    report
        .http
        .iter()
        .filter_map(|x| x.error.as_ref())
        .filter_map(|e| otai_plugin_host::abi::testing::mock::unmatched(&e.message))
        .map(|u| u.to_string())
        .collect()
}

/// One line per thing a delivery did, as the pages list them.
pub(super) fn report_lines(report: &DeliveryReport) -> Vec<String> {
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
        Ok(list) => {
            page(
                &state,
                "plugins.html",
                context! { plugins => ser(&list.iter().map(plugin_view).collect::<Vec<_>>()) },
            )
            .await
        }
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
    /// A secret was typed in a form the desk refused: the page does not send it back.
    retype: bool,
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
                retype: f.secret
                    && submitted
                        .and_then(|values| values.get(&f.key))
                        .is_some_and(|typed| !typed.is_empty()),
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
    warnings: Vec<String>,
    lines: Vec<String>,
    total_us: u64,
    fuel: Option<u64>,
    at: String,
    ago: String,
    /// Whether the log kept what a fixture of it needs.
    fixture: bool,
    /// Whether its flame graph was recorded and kept.
    flamegraph: bool,
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
            warnings: report_warnings(&d.report),
            lines: report_lines(&d.report),
            total_us: d.report.timings.total_us,
            fuel: d.report.fuel,
            at: utc_text(d.at_ms),
            ago: ago_text(d.at_ms),
            fixture: d.fixture,
            flamegraph: d.flamegraph,
        })
        .collect();
    let pending = state.pending(&id).map(|p| PendingView {
        version: p.version,
        diff: p.diff.to_string(),
    });
    let mut response = page(
        state,
        "plugin.html",
        context! {
            plugin => ser(&plugin_view(&info)),
            fields => ser(&field_views(&form, submitted.as_ref(), &by_key)),
            errors => errors.iter().map(|(k, m)| if k.is_empty() { m.clone() } else { format!("{k}: {m}") }).collect::<Vec<_>>(),
            deliveries => ser(&deliveries),
            pending => ser(&pending),
            saved => saved,
        },
    )
    .await;
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
                    other => serde_json::from_str::<Value>(text.trim()).is_ok_and(|v| v == *other),
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
