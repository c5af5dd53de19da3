//! JIRA linker: opens a JIRA issue for each new ticket in the configured categories,
//! links the two, forwards public replies as issue comments, and shows the issue in a
//! ticket panel.
//!
//! - `ticket.created` in a configured category: `POST /rest/api/2/issue`, labelled
//!   `ohd-<ticket id>`; the issue key goes into the custom field `jira_key` and an
//!   internal note links the issue.
//! - `ticket.reply_added` (public replies) on a ticket with `jira_key`:
//!   `POST /rest/api/2/issue/{key}/comment`.
//! - The panel: `render_panel` receives only the ticket id (no config, no custom
//!   fields), so it shows a JIRA search for the label `ohd-<ticket id>`, which finds the
//!   issue without knowing its key.
//!
//! See README.md for the configuration and the failure policy.

mod encode;

use otai_plugin_sdk::prelude::*;
use otai_plugin_sdk::{Reply, Ticket, http::Response};

use crate::encode::{base64, percent_encode};

/// The JIRA site, the one host in `allowed_hosts` (Cargo.toml). The panel URL is built
/// from it since `render_panel` gets no config; `jira_base_url` must name it too. A
/// unit test keeps the two places in step.
pub const JIRA_SITE: &str = "example.atlassian.net";

/// The custom field holding the linked issue's key.
pub const JIRA_KEY_FIELD: &str = "jira_key";

/// The installation's configuration (`[package.metadata.ohd.config]` in Cargo.toml,
/// which `Config` holds it to when the crate compiles). The host fills in the declared
/// defaults, so the fields need no serde defaults.
// No `Debug`: the config holds a decrypted secret, which must not reach a log line.
#[derive(Deserialize, Config)]
pub struct Config {
    /// `https://example.atlassian.net`.
    jira_base_url: String,
    /// The account the plugin acts as.
    email: String,
    /// That account's API token.
    api_token: String,
    /// The project new issues go to, e.g. `OPS`.
    project_key: String,
    /// The issue type of new issues.
    issue_type: String,
    /// Comma-separated categories that get an issue; `*` for all.
    categories: String,
}

/// `POST /rest/api/2/issue` body.
#[derive(Debug, Serialize)]
struct CreateIssue<'a> {
    fields: IssueFields<'a>,
}

#[derive(Debug, Serialize)]
struct IssueFields<'a> {
    project: ProjectRef<'a>,
    issuetype: IssueTypeRef<'a>,
    summary: String,
    description: String,
    labels: Vec<String>,
}

#[derive(Debug, Serialize)]
struct ProjectRef<'a> {
    key: &'a str,
}

#[derive(Debug, Serialize)]
struct IssueTypeRef<'a> {
    name: &'a str,
}

/// `201 {"id":"10000","key":"OPS-1","self":"https://…/rest/api/2/issue/10000"}`.
#[derive(Debug, Deserialize)]
struct CreatedIssue {
    key: String,
}

/// JIRA's error body: `{"errorMessages":["…"],"errors":{"field":"…"}}`.
#[derive(Debug, Default, Deserialize)]
struct JiraErrors {
    #[serde(default, rename = "errorMessages")]
    error_messages: Vec<String>,
    #[serde(default)]
    errors: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Serialize)]
struct Comment {
    body: String,
}

/// The plugin. The SDK creates one per event: it keeps no state.
#[derive(Default)]
pub struct JiraLinker;

#[plugin]
impl Plugin for JiraLinker {
    type Config = Config;

    fn on_event(&mut self, event: Event<'_, Config>) -> Result<()> {
        match (&event.kind, &event.data) {
            (EventKind::TicketCreated, _) => create_issue(&event),
            (EventKind::TicketReplyAdded, EventData::ReplyAdded(reply)) => {
                add_comment(&event, reply)
            }
            _ => {
                debug!(
                    "ignoring `{}`: not an event this plugin handles",
                    event.name()
                );
                Ok(())
            }
        }
    }

    fn render_panel(&mut self, ticket_id: &str) -> Result<String> {
        panel_url(ticket_id)
    }
}

/// A JIRA search for the ticket's label: the panel cannot know the issue key.
fn panel_url(ticket_id: &str) -> Result<String> {
    if ticket_id.trim().is_empty() {
        return Err(Error::msg("no ticket id: cannot show the JIRA panel"));
    }
    let jql = format!("labels = \"{}\"", ticket_label(ticket_id));
    Ok(format!(
        "https://{JIRA_SITE}/issues/?jql={}",
        percent_encode(&jql)
    ))
}

/// The label that ties an issue to its ticket. JIRA labels cannot hold spaces, so
/// anything but ASCII letters, digits, `-` and `_` becomes `-`.
fn ticket_label(ticket_id: &str) -> String {
    let id: String = ticket_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("ohd-{id}")
}

/// Whether `category` is one of the comma-separated `configured` ones (letter case and
/// spaces around names ignored; `*` matches every ticket, even one without category).
fn category_matches(configured: &str, category: Option<&str>) -> bool {
    let category = category.map(str::trim).unwrap_or("");
    configured.split(',').map(str::trim).any(|wanted| {
        wanted == "*" || (!wanted.is_empty() && wanted.eq_ignore_ascii_case(category))
    })
}

/// The site's base URL (`https://host`, no trailing slash) after checking that
/// `jira_base_url` names the allowed JIRA site: a clear message here beats the host's
/// generic refusal.
fn base_url(config: &Config) -> Result<String> {
    let url = config.jira_base_url.trim().trim_end_matches('/');
    // https only: the requests carry the account's credentials.
    let Some(authority) = url.strip_prefix("https://") else {
        return Err(Error::msg(format!(
            "`jira_base_url` must be an https URL such as `https://{JIRA_SITE}`, found `{url}`"
        )));
    };
    if authority.contains(['/', '?', '#', '@']) {
        return Err(Error::msg(format!(
            "`jira_base_url` must be the site's address alone (`https://{JIRA_SITE}`), without path, query or user, found `{url}`"
        )));
    }
    let host = authority.split(':').next().unwrap_or(authority);
    if !host.eq_ignore_ascii_case(JIRA_SITE) {
        return Err(Error::msg(format!(
            "`jira_base_url` names `{host}`, but this plugin may only reach `{JIRA_SITE}` (its allowed host): set `jira_base_url` to `https://{JIRA_SITE}`, or rebuild the plugin for your site"
        )));
    }
    Ok(url.to_owned())
}

fn authorization(config: &Config) -> String {
    format!(
        "Basic {}",
        base64(format!("{}:{}", config.email.trim(), config.api_token.trim()).as_bytes())
    )
}

fn create_issue(event: &Event<'_, Config>) -> Result<()> {
    let ticket = &event.ticket;
    let config = &event.config;
    if let Some(key) = ticket
        .custom_fields
        .get(JIRA_KEY_FIELD)
        .filter(|k| !k.is_empty())
    {
        info!(
            "ticket {} is already linked to {key}: not creating another issue",
            ticket.id
        );
        return Ok(());
    }
    if !category_matches(&config.categories, ticket.category.as_deref()) {
        debug!(
            "ticket {} is in category `{}`, not one of `{}`: no JIRA issue",
            ticket.id,
            ticket.category.as_deref().unwrap_or("(none)"),
            config.categories
        );
        return Ok(());
    }
    let base = base_url(config)?;
    let body = CreateIssue {
        fields: IssueFields {
            project: ProjectRef {
                key: config.project_key.trim(),
            },
            issuetype: IssueTypeRef {
                name: config.issue_type.trim(),
            },
            summary: issue_summary(&ticket.subject),
            description: issue_description(ticket),
            labels: vec![ticket_label(&ticket.id), "open-help-desk".to_owned()],
        },
    };
    let response = match http::post(format!("{base}/rest/api/2/issue"))
        .header("Authorization", authorization(config))
        .header("Accept", "application/json")
        .json(&body)
        .send()
    {
        Ok(response) => response,
        Err(err) => return on_http_error(err, "create an issue", &ticket.id),
    };
    if !check_response(&response, "create an issue", &ticket.id)? {
        return Ok(());
    }
    let key = match response.json::<CreatedIssue>() {
        Ok(created) if is_issue_key(&created.key) => created.key,
        _ => {
            // The issue probably exists: the label still finds it from the panel.
            error!(
                "JIRA created an issue for ticket {} but its answer has no issue key: {}",
                ticket.id,
                body_excerpt(response.body())
            );
            return Ok(());
        }
    };
    ticket::set_custom_field(&ticket.id, JIRA_KEY_FIELD, &key)?;
    ticket::add_reply(
        &ticket.id,
        &format!("Linked JIRA issue {key}: {base}/browse/{key}"),
        true,
    )?;
    info!("created JIRA issue {key} for ticket {}", ticket.id);
    Ok(())
}

fn add_comment(event: &Event<'_, Config>, reply: &Reply<'_>) -> Result<()> {
    let ticket = &event.ticket;
    if reply.is_internal {
        debug!(
            "reply {} on ticket {} is internal: not copied to JIRA",
            reply.reply_id, ticket.id
        );
        return Ok(());
    }
    let Some(key) = ticket
        .custom_fields
        .get(JIRA_KEY_FIELD)
        .filter(|k| !k.is_empty())
    else {
        debug!(
            "ticket {} has no linked JIRA issue: reply not copied",
            ticket.id
        );
        return Ok(());
    };
    // Any plugin can set custom fields: check the key before it goes into a URL path.
    if !is_issue_key(&key) {
        return Err(Error::msg(format!(
            "custom field `{JIRA_KEY_FIELD}` of ticket {} is `{key}`, not a JIRA issue key such as `OPS-12`",
            ticket.id
        )));
    }
    let base = base_url(&event.config)?;
    let comment = Comment {
        body: comment_body(ticket, reply),
    };
    let response = match http::post(format!("{base}/rest/api/2/issue/{key}/comment"))
        .header("Authorization", authorization(&event.config))
        .header("Accept", "application/json")
        .json(&comment)
        .send()
    {
        Ok(response) => response,
        Err(err) => return on_http_error(err, "add a comment", &ticket.id),
    };
    if check_response(&response, "add a comment", &ticket.id)? {
        info!(
            "copied reply {} of ticket {} to {key}",
            reply.reply_id, ticket.id
        );
    }
    Ok(())
}

/// `PROJECT-123`: an uppercase letter, then letters, digits or `_`, a dash and digits.
fn is_issue_key(key: &str) -> bool {
    let Some((project, number)) = key.rsplit_once('-') else {
        return false;
    };
    project
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase())
        && project
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
        && !number.is_empty()
        && number.chars().all(|c| c.is_ascii_digit())
}

/// JIRA's summary field holds one line of at most 255 characters.
fn issue_summary(subject: &str) -> String {
    let line: String = subject.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= 255 {
        return line;
    }
    let mut cut: String = line.chars().take(254).collect();
    cut.push('…');
    cut
}

/// The description in JIRA wiki markup (REST API v2), linking back to the ticket.
fn issue_description(ticket: &Ticket<'_>) -> String {
    let mut text = format!(
        "Opened from help desk ticket [{}|{}].\n\n",
        ticket.id, ticket.url
    );
    text.push_str(&format!("*Priority:* {}\n", ticket.priority));
    if let Some(category) = ticket.category.as_deref().filter(|c| !c.is_empty()) {
        text.push_str(&format!("*Category:* {category}\n"));
    }
    text.push_str(&format!("*Submitter:* {}\n", ticket.submitter.name));
    if !ticket.description.trim().is_empty() {
        text.push_str("\n{quote}");
        text.push_str(ticket.description.trim());
        text.push_str("{quote}");
    }
    text
}

fn comment_body(ticket: &Ticket<'_>, reply: &Reply<'_>) -> String {
    format!(
        "{} replied on help desk ticket [{}|{}]:\n\n{{quote}}{}{{quote}}",
        reply.author.name,
        ticket.id,
        ticket.url,
        reply.body.trim()
    )
}

/// Sorts a JIRA answer: `Ok(true)` for 2xx; `Ok(false)` after logging an error for 429
/// and 5xx (JIRA's trouble: the delivery succeeds, so an outage does not get the plugin
/// disabled); `Err` for any other status (401 bad credentials, 403 no permission, 400
/// invalid project or issue type, 404 unknown issue…), faults of the configuration that
/// every delivery would repeat.
fn check_response(response: &Response, action: &str, ticket: &str) -> Result<bool> {
    let status = response.status();
    if response.is_success() {
        return Ok(true);
    }
    let detail = jira_errors(response.body());
    if status == 429 || status >= 500 {
        error!("JIRA could not {action} for ticket {ticket}: HTTP {status}: {detail}");
        return Ok(false);
    }
    let hint = match status {
        401 => " (check `email` and `api_token`)",
        403 => " (the account lacks permission in the project)",
        400 => " (check `project_key` and `issue_type`)",
        _ => "",
    };
    Err(Error::msg(format!(
        "JIRA refused to {action} for ticket {ticket}: HTTP {status}: {detail}{hint}"
    )))
}

/// JIRA's error messages joined, or the start of the body when it is not JIRA's JSON.
fn jira_errors(body: &[u8]) -> String {
    let errors: JiraErrors = otai_plugin_sdk::json::from_slice(body).unwrap_or_default();
    let mut parts = errors.error_messages;
    parts.extend(
        errors
            .errors
            .into_iter()
            .map(|(field, message)| format!("{field}: {message}")),
    );
    if parts.is_empty() {
        body_excerpt(body)
    } else {
        parts.join("; ")
    }
}

/// The start of a response body for a log line.
fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        return "(empty body)".to_owned();
    }
    let mut excerpt: String = text.chars().take(200).collect();
    if excerpt.len() < text.len() {
        excerpt.push('…');
    }
    excerpt
}

/// A request the host refused fails the delivery (a fault every delivery would
/// repeat); network errors and timeouts are logged and the delivery succeeds.
fn on_http_error(err: HttpError, action: &str, ticket: &str) -> Result<()> {
    match err {
        err @ (HttpError::NotAllowed { .. } | HttpError::InvalidRequest { .. }) => Err(Error::msg(
            format!("could not {action} in JIRA for ticket {ticket}: {err}"),
        )),
        other => {
            error!("could not {action} in JIRA for ticket {ticket}: {other}");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests;
