//! "Install from registry" (feature `registry`): a form takes an `oci://` reference, the
//! desk pulls it (the tag resolved to a digest) and shows what it would install, its
//! permissions and signatures, before anything is installed; the Install button posts
//! the reference pinned to that digest, so that what is installed is the module that
//! was reviewed, whatever the tag points to by then.
//!
//! A module without a valid signature from a key the desk trusts (or, for an upgrade,
//! from a key that signed the installed version) is installed only with the review
//! page's "install anyway" box ticked, whether or not the desk trusts any key: on a
//! page, nothing else says who built what is about to run. The same-signer rule is not
//! lifted by the box: a page that breaks it has no Install button, and a post is
//! refused as `desk upgrade` refuses it.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;
use serde::Serialize;

use super::WebState;
use super::pages::{desk_error, page, with_desk};
use super::render::{form_refused, ser};
use crate::error::DeskError;
use crate::lifecycle::Review;
use crate::registry::{
    Credentials, Pulled, Reference, RegistryClient, RegistryError, RegistryOptions,
};
use crate::trust::InstallOptions;

/// A registry error as the page shows it: the client's words, and for a plain-HTTP
/// registry elsewhere, why the desk did not speak plain HTTP to it.
fn registry_message(reference: &Reference, e: &RegistryError) -> String {
    match e {
        RegistryError::Unreachable { .. } if !reference.is_loopback() => format!(
            "{e}. The desk speaks HTTPS, and only HTTPS, to a registry that is not on this \
             machine (127.0.0.1, [::1] or localhost); a registry elsewhere that answers only \
             plain HTTP is refused here (`cargo otai-plugin desk install --insecure` takes \
             one on the command line)"
        ),
        _ => e.to_string(),
    }
}

/// Pulls `text` (a reference; with `pinned`, one that must name a digest), with the
/// desk user's registry credentials from docker's config when it has some.
fn pull(
    text: &str,
    pinned: bool,
    docker_config: Option<&std::path::Path>,
) -> Result<Pulled, (StatusCode, String)> {
    let unprocessable = |message: String| (StatusCode::UNPROCESSABLE_ENTITY, message);
    let reference = Reference::parse(text.trim()).map_err(|e| unprocessable(e.to_string()))?;
    if pinned && reference.digest().is_none() {
        return Err(unprocessable(format!(
            "`{reference}` names no digest: the Install button posts the reference pinned to \
             the digest of the module reviewed; review it first"
        )));
    }
    let bad_gateway =
        |e: RegistryError| (StatusCode::BAD_GATEWAY, registry_message(&reference, &e));
    let credentials = match docker_config {
        Some(path) => {
            Credentials::from_docker_config_at(path, reference.registry()).map_err(bad_gateway)?
        }
        None => None,
    };
    let client = RegistryClient::new(RegistryOptions {
        credentials,
        ..RegistryOptions::default()
    });
    client.pull(&reference).map_err(bad_gateway)
}

#[derive(Serialize)]
struct SignatureView {
    key: String,
    state: &'static str,
}

#[derive(Serialize)]
struct ReviewView {
    id: String,
    name: String,
    version: String,
    description: String,
    events: Vec<String>,
    hosts: Vec<String>,
    panel: Option<String>,
    reference: String,
    digest: String,
    module_size: usize,
    signatures: Vec<SignatureView>,
    trusted_keys: usize,
    signers: Vec<String>,
    signature_refusal: Option<String>,
    /// No valid signature from a trusted key or an installed version's signer: the
    /// page asks for the "install anyway" box.
    needs_consent: bool,
    installed_version: Option<String>,
    diff: Option<String>,
    diff_grows: bool,
    installed_signers: Vec<String>,
    signer_refusal: Option<String>,
    warnings: Vec<String>,
}

fn needs_consent(review: &Review) -> bool {
    review.signers.is_empty() || review.signature_refusal.is_some()
}

fn review_view(pulled: &Pulled, review: &Review) -> ReviewView {
    let m = &review.manifest;
    ReviewView {
        id: m.id.clone(),
        name: m.name.clone(),
        version: m.version.clone(),
        description: m.description.clone(),
        events: m.events.iter().map(ToString::to_string).collect(),
        hosts: m.allowed_hosts().to_vec(),
        panel: m
            .ui_panel
            .as_ref()
            .map(|p| format!("\u{201c}{}\u{201d}, {} px high", p.title, p.height)),
        reference: pulled.reference.to_string(),
        digest: pulled.digest.clone(),
        module_size: pulled.module.len(),
        signatures: review
            .signatures
            .signatures
            .iter()
            .map(|s| SignatureView {
                key: match (&s.key, &s.key_id) {
                    (Some(fingerprint), _) => fingerprint.to_string(),
                    (None, Some(id)) => format!("key id {id}"),
                    (None, None) => "a key without a key id".to_owned(),
                },
                state: s.state.as_str(),
            })
            .collect(),
        trusted_keys: review.trusted_keys,
        signers: review.signers.clone(),
        signature_refusal: review.signature_refusal.clone(),
        needs_consent: needs_consent(review),
        installed_version: review.installed_version.clone(),
        diff: review.diff.as_ref().map(ToString::to_string),
        diff_grows: review.diff.as_ref().is_some_and(|d| d.grows()),
        installed_signers: review.installed_signers.clone(),
        signer_refusal: review.signer_refusal.clone(),
        warnings: review.warnings.clone(),
    }
}

/// The form, with what was typed and why it did not go through.
async fn form_page(
    state: &Arc<WebState>,
    status: StatusCode,
    reference: &str,
    error: Option<&str>,
) -> Response {
    let mut response = page(
        state,
        "install.html",
        context! { reference => reference, error => error },
    )
    .await;
    if response.status() == StatusCode::OK {
        *response.status_mut() = status;
    }
    response
}

async fn review_page(
    state: &Arc<WebState>,
    status: StatusCode,
    pulled: &Pulled,
    review: &Review,
    error: Option<&str>,
) -> Response {
    let mut response = page(
        state,
        "review.html",
        context! {
            review => ser(&review_view(pulled, review)),
            error => error,
        },
    )
    .await;
    if response.status() == StatusCode::OK {
        *response.status_mut() = status;
    }
    response
}

pub(super) async fn form(State(state): State<Arc<WebState>>) -> Response {
    form_page(&state, StatusCode::OK, "", None).await
}

/// Pulls and reviews `text` on a blocking thread (the pull and the module's compile
/// are synchronous).
async fn pull_and_review(
    state: &Arc<WebState>,
    text: String,
    pinned: bool,
) -> Result<Result<(Pulled, Review), (StatusCode, String)>, Response> {
    let docker_config = state.docker_config.clone();
    with_desk(state, move |d| {
        let pulled = pull(&text, pinned, docker_config.as_deref())?;
        let review = d
            .review(&pulled.module)
            .map_err(|e| (StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
        Ok((pulled, review))
    })
    .await
}

pub(super) async fn review(
    State(state): State<Arc<WebState>>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let form: BTreeMap<String, String> = match form {
        Ok(Form(pairs)) => pairs.into_iter().collect(),
        Err(rejection) => return form_refused(&rejection),
    };
    let text = form.get("reference").cloned().unwrap_or_default();
    match pull_and_review(&state, text.clone(), false).await {
        Ok(Ok((pulled, review))) => {
            review_page(&state, StatusCode::OK, &pulled, &review, None).await
        }
        Ok(Err((status, message))) => form_page(&state, status, &text, Some(&message)).await,
        Err(r) => r,
    }
}

pub(super) async fn install(
    State(state): State<Arc<WebState>>,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let form: BTreeMap<String, String> = match form {
        Ok(Form(pairs)) => pairs.into_iter().collect(),
        Err(rejection) => return form_refused(&rejection),
    };
    let text = form.get("reference").cloned().unwrap_or_default();
    let consent = form.get("allow_unsigned").is_some_and(|v| v == "true");
    let (pulled, review) = match pull_and_review(&state, text.clone(), true).await {
        Ok(Ok(reviewed)) => reviewed,
        Ok(Err((status, message))) => {
            return form_page(&state, status, &text, Some(&message)).await;
        }
        Err(r) => return r,
    };
    if needs_consent(&review) && !consent {
        return review_page(
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            &pulled,
            &review,
            Some(
                "nothing was installed: this module is not signed by a key the desk trusts; \
                 tick \u{201c}install anyway\u{201d} to install it all the same",
            ),
        )
        .await;
    }
    let id = review.manifest.id.clone();
    let upgrade = review.installed_version.is_some();
    let options = InstallOptions {
        allow_unsigned: consent,
    };
    let (done, shown) = (pulled.clone(), pulled);
    // The review page showed the permission diff: its Upgrade button approves it.
    let installed = with_desk(&state, move |d| {
        if upgrade {
            d.upgrade_pulled(&done, true, options).map(drop)
        } else {
            d.install_pulled(&done, options).map(drop)
        }
    })
    .await;
    match installed {
        Ok(Ok(())) => {
            // A `dev` upgrade held for approval is of the module that was replaced.
            if upgrade {
                state.take_pending(&id);
            }
            Redirect::to(&format!("/plugins/{id}")).into_response()
        }
        Ok(Err(
            e @ (DeskError::Signature { .. }
            | DeskError::SignerChanged { .. }
            | DeskError::Downgrade { .. }
            | DeskError::AlreadyInstalled { .. }
            | DeskError::NotInstalled { .. }
            | DeskError::Load(_)),
        )) => {
            review_page(
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                &shown,
                &review,
                Some(&format!("nothing was installed: {e}")),
            )
            .await
        }
        Ok(Err(e)) => desk_error(&e),
        Err(r) => r,
    }
}
