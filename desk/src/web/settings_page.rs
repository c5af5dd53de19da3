//! `/settings`: the administrator's health settings (when a failing plugin is
//! disabled), saved in the desk and applied to the next delivery. A refused form is
//! shown again as typed, each problem beside its field.

use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Serialize;

use super::WebState;
use super::pages::{desk_do, page, with_desk};
use super::render::{form_refused, ser};
use crate::error::DeskError;
use crate::settings::{HealthSettings, SETTINGS, SettingProblem};

#[derive(Serialize)]
struct SettingView {
    key: &'static str,
    label: &'static str,
    unit: &'static str,
    help: &'static str,
    value: String,
    error: Option<String>,
}

fn label_and_unit(key: &str) -> (&'static str, &'static str) {
    match key {
        "failure_percent" => ("Failure threshold", "% of the window's deliveries"),
        "min_deliveries" => ("Minimum deliveries", "deliveries"),
        _ => ("Window", "minutes"),
    }
}

/// The form: `typed` values where given (after a refusal), else the settings in force.
fn views(
    current: &HealthSettings,
    typed: Option<&[(String, String)]>,
    problems: &[SettingProblem],
) -> Vec<SettingView> {
    SETTINGS
        .iter()
        .map(|&(key, help)| {
            let (label, unit) = label_and_unit(key);
            let value = match typed.and_then(|t| t.iter().rev().find(|(k, _)| k == key)) {
                Some((_, text)) => text.clone(),
                None => match key {
                    "failure_percent" => format_percent(current.failure_percent),
                    "min_deliveries" => current.min_deliveries.to_string(),
                    _ => current.window_minutes.to_string(),
                },
            };
            SettingView {
                key,
                label,
                unit,
                help,
                value,
                error: problems
                    .iter()
                    .find(|p| p.key == key)
                    .map(|p| p.message.clone()),
            }
        })
        .collect()
}

/// `50`, not `50.0`; `33.3` as it was saved.
fn format_percent(p: f64) -> String {
    if p.fract() == 0.0 {
        format!("{p:.0}")
    } else {
        p.to_string()
    }
}

async fn settings_page(
    state: &Arc<WebState>,
    saved: bool,
    typed: Option<Vec<(String, String)>>,
    problems: Vec<SettingProblem>,
) -> Response {
    let current = match with_desk(state, |d| d.health_settings()).await {
        Ok(current) => current,
        Err(r) => return r,
    };
    let unknown: Vec<String> = problems
        .iter()
        .filter(|p| !SETTINGS.iter().any(|(k, _)| *k == p.key))
        .map(ToString::to_string)
        .collect();
    let refused = !problems.is_empty();
    let count = problems.len();
    let mut response = page(
        state,
        "settings.html",
        context! {
            fields => ser(&views(&current, typed.as_deref(), &problems)),
            errors => count,
            unknown => unknown,
            saved => saved,
        },
    )
    .await;
    if refused && response.status() == StatusCode::OK {
        *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    response
}

#[derive(serde::Deserialize)]
pub(super) struct SettingsQuery {
    #[serde(default)]
    saved: Option<String>,
}

pub(super) async fn settings(
    State(state): State<Arc<WebState>>,
    Query(query): Query<SettingsQuery>,
) -> Response {
    settings_page(&state, query.saved.is_some(), None, Vec::new()).await
}

/// Saves the settings and redirects to the page (303); a refusal shows the form as
/// typed with each problem beside its field (422), nothing saved.
pub(super) async fn save(
    State(state): State<Arc<WebState>>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let typed = match form {
        Ok(Form(pairs)) => pairs,
        Err(rejection) => return form_refused(&rejection),
    };
    let pairs = typed.clone();
    let saved = desk_do(&state, move |d| {
        let changed = d
            .health_settings()
            .with_text(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        Ok(match changed {
            Ok(settings) => match d.set_health_settings(settings) {
                Ok(()) => Ok(()),
                Err(DeskError::InvalidSettings { problems }) => Err(problems),
                Err(e) => return Err(e),
            },
            Err(problems) => Err(problems),
        })
    })
    .await;
    match saved {
        Ok(Ok(())) => Redirect::to("/settings?saved=1").into_response(),
        Ok(Err(problems)) => settings_page(&state, false, Some(typed), problems).await,
        Err(r) => r,
    }
}
