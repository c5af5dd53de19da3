//! The ticket pages: the ticket list and its new-ticket form, a ticket with its panels
//! and the forms that deliver events about it, each redirecting back to the ticket
//! with what the delivery did (post/redirect/get).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use otai_plugin_abi::event::{EventKind, sample};
use otai_plugin_abi::rules::status::status_change_events;
use otai_plugin_host::Outcome;
use serde::Serialize;
use serde_json::Value;

use super::event_form::{self, PRIORITIES, STATUSES};
use super::guard::FrameSources;
use super::pages::{desk_do, desk_error, page, report_lines, report_warnings, with_desk};
use super::render::{error_page, form_refused, ser};
use super::results::Delivered;
use super::text::path_segment;
use super::{PanelHost, WebState};
use crate::clock::{ago_text, utc_text};
use crate::desk::Desk;
use crate::error::DeskError;

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
    warnings: Vec<String>,
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
    refused: Option<Refused>,
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
                        warnings: report_warnings(r),
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
    let form = fire_form_values(&ticket.ticket, refused.as_ref().map(|r| &r.typed));
    let mut response = page(
        state,
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
            form_errors => refused.as_ref().map(|r| r.problems.clone()),
            other_errors => refused.as_ref().map(|r| r.others(&form)),
            errors => ser(&refused.as_ref().map(Refused::by_input).unwrap_or_default()),
            form => ser(&form),
            // What a panel may ask for by `postMessage`.
            bridge => ser(&serde_json::json!({
                "ticket": ticket.ticket,
                "user": sample::agent_actor(),
            })),
        },
    )
    .await;
    response.extensions_mut().insert(frames);
    if refused.is_some() && response.status() == StatusCode::OK {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

/// A form the desk refused: what was typed, to show it again, and every problem, each
/// `input: what was found, what is expected` ([`event_form::read`]).
pub(super) struct Refused {
    typed: BTreeMap<String, String>,
    problems: Vec<String>,
}

impl Refused {
    /// The problems that name no input of `form`: the page lists them above it.
    fn others<V>(&self, form: &BTreeMap<impl std::borrow::Borrow<str> + Ord, V>) -> Vec<String> {
        self.problems
            .iter()
            .filter(|p| {
                p.split_once(": ")
                    .is_none_or(|(input, _)| !form.contains_key(input))
            })
            .cloned()
            .collect()
    }

    /// The problems by the input they name, for the page to show beside it.
    fn by_input(&self) -> BTreeMap<String, String> {
        let mut by_input: BTreeMap<String, String> = BTreeMap::new();
        for problem in &self.problems {
            if let Some((input, message)) = problem.split_once(": ") {
                let entry = by_input.entry(input.to_owned()).or_default();
                if !entry.is_empty() {
                    entry.push_str("; ");
                }
                entry.push_str(message);
            }
        }
        by_input
    }
}

/// The fire form's values: the ticket's fields and each kind's sample data, or, after a
/// refusal, what was typed.
fn fire_form_values(
    ticket: &Value,
    typed: Option<&BTreeMap<String, String>>,
) -> BTreeMap<String, String> {
    let field = |key: &str| ticket[key].as_str().unwrap_or_default().to_owned();
    let mut values = BTreeMap::from([
        ("event".to_owned(), String::new()),
        ("subject".to_owned(), field("subject")),
        ("description".to_owned(), field("description")),
        ("status".to_owned(), field("status")),
        ("priority".to_owned(), field("priority")),
        ("category".to_owned(), field("category")),
        ("data_body".to_owned(), "Thanks, we are on it.".to_owned()),
        ("data_is_internal".to_owned(), "false".to_owned()),
        ("data_author_name".to_owned(), "Riley Chen".to_owned()),
        (
            "data_author_email".to_owned(),
            "riley@example.com".to_owned(),
        ),
        ("data_from_status".to_owned(), field("status")),
        ("data_to_status".to_owned(), "In Progress".to_owned()),
        ("data_assignee_type".to_owned(), "user".to_owned()),
        ("data_assignee_name".to_owned(), "Riley Chen".to_owned()),
        (
            "data_assignee_email".to_owned(),
            "riley@example.com".to_owned(),
        ),
        ("data_resolution_notes".to_owned(), String::new()),
        ("data_reason".to_owned(), String::new()),
    ]);
    if let Some(typed) = typed {
        for (key, value) in &mut values {
            if let Some(text) = typed.get(key) {
                value.clone_from(text);
            }
        }
    }
    values
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
    ticket_page(&state, id, delivered, None).await
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
    let (ticket_id, typed) = (id.clone(), submitted.clone());
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
            let refused = Refused { typed, problems };
            return ticket_page(&state, ticket_id, None, Some(refused)).await;
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
    tickets_page(&state, None).await
}

/// The ticket list and the new-ticket form: empty, or as typed after a refusal (422).
async fn tickets_page(state: &Arc<WebState>, refused: Option<Refused>) -> Response {
    let list = match desk_do(state, Desk::tickets).await {
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
    let typed = |key: &str, default: &str| {
        refused
            .as_ref()
            .and_then(|r| r.typed.get(key).cloned())
            .unwrap_or_else(|| default.to_owned())
    };
    let form = BTreeMap::from([
        ("subject", typed("subject", "")),
        ("description", typed("description", "")),
        ("priority", typed("priority", "Medium")),
        ("category", typed("category", "")),
    ]);
    let mut response = page(
        state,
        "tickets.html",
        context! {
            tickets => ser(&rows),
            priorities => PRIORITIES,
            form_errors => refused.as_ref().map(|r| r.problems.clone()),
            other_errors => refused.as_ref().map(|r| r.others(&form)),
            errors => ser(&refused.as_ref().map(Refused::by_input).unwrap_or_default()),
            form => ser(&form),
        },
    )
    .await;
    if refused.is_some() && response.status() == StatusCode::OK {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
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
    let typed = submitted.clone();
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
        Ok(Ok(Err(problems))) => tickets_page(&state, Some(Refused { typed, problems })).await,
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
