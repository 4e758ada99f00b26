//! One app's page in a developer's portal (docs/developer-accounts.md#apps): its credentials,
//! the edit form (name, redirect URIs, under the registration rules), rotating its client secret
//! (docs/developer-accounts.md#rotating-a-client-secret) and deleting it
//! (docs/developer-accounts.md#deleting-an-app). Another developer's app, or one that does not
//! exist, is 404 alike: its existence is never revealed.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::Deserialize;

use super::AccountPortalPage;
use super::account::{self, not_found, posted_signed_in};
use crate::developers::SignedIn;
use crate::http::form;
use crate::http::pages::{error_page, render};
use crate::http::request_context::Now;
use crate::oauth::apps::{App, AppChangeError, AppEdit, split_redirect_list};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "developer_app.html")]
struct AppPage<'a> {
    email: &'a str,
    csrf: &'a str,
    app: &'a App,
    /// A secret just made by a rotation: shown this once.
    new_secret: Option<&'a str>,
    /// Until when the rotated-away secret works, while it does.
    previous_until: Option<String>,
    notice: Option<&'a str>,
    error: Option<String>,
    form_name: &'a str,
    form_redirects: &'a str,
}

#[derive(Deserialize)]
struct EditForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    redirect_uris: String,
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf_token: String,
}

/// What one app's page shows besides the app.
#[derive(Default)]
struct Shown<'a> {
    new_secret: Option<&'a str>,
    notice: Option<&'a str>,
    error: Option<String>,
    /// The edit form as it was sent, when it was refused.
    form: Option<(&'a str, &'a str)>,
}

fn app_page(
    status: StatusCode,
    signed_in: &SignedIn,
    app: &App,
    now: crate::clock::UnixTime,
    shown: Shown<'_>,
) -> Response {
    let redirects = app.redirect_uris.join("\n");
    let (form_name, form_redirects) = shown.form.unwrap_or((&app.name, &redirects));
    let previous_until = app
        .previous_secret_until
        .filter(|until| now < *until && app.previous_secret.is_some())
        .map(form::rfc3339);
    render(
        status,
        &AppPage {
            email: &signed_in.developer.email,
            csrf: signed_in.session.csrf.expose(),
            app,
            new_secret: shown.new_secret,
            previous_until,
            notice: shown.notice,
            error: shown.error,
            form_name,
            form_redirects,
        },
    )
}

/// The answer to an owner's change that was not made.
fn refused(error: AppChangeError) -> Response {
    match error {
        AppChangeError::NotFound => not_found(),
        AppChangeError::Unsaved => error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Not saved",
            &error.to_string(),
            None,
        ),
        AppChangeError::Invalid(e) => error_page(StatusCode::BAD_REQUEST, "Not changed", &e, None),
        AppChangeError::NoSecret => error_page(
            StatusCode::BAD_REQUEST,
            "No secret to rotate",
            &error.to_string(),
            None,
        ),
    }
}

pub async fn page(
    State(state): State<AppState>,
    Now(now): Now,
    Path(client_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let signed_in = match account::require(&state, &headers, now).await {
        Ok(signed_in) => signed_in,
        Err(response) => return response,
    };
    match state.oauth.apps.owned(&client_id, &signed_in.developer.id) {
        Ok(app) => app_page(StatusCode::OK, &signed_in, &app, now, Shown::default()),
        Err(e) => refused(e),
    }
}

pub async fn edit(
    State(state): State<AppState>,
    Now(now): Now,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let posted = posted_signed_in(&state, &headers, &body, now, |f: &EditForm| &f.csrf_token);
    let (accounts, signed_in, f) = match posted.await {
        Ok(found) => found,
        Err(response) => return response,
    };
    let owner = &signed_in.developer.id;
    let edit = AppEdit {
        name: f.name.clone(),
        redirect_uris: split_redirect_list(&f.redirect_uris),
    };
    match accounts.edit_app(&client_id, owner, edit).await {
        Ok(app) => app_page(
            StatusCode::OK,
            &signed_in,
            &app,
            now,
            Shown {
                notice: Some("Saved."),
                ..Shown::default()
            },
        ),
        // The rules' message on the page, with the form as it was filled in.
        Err(AppChangeError::Invalid(problem)) => match state.oauth.apps.owned(&client_id, owner) {
            Ok(app) => app_page(
                StatusCode::BAD_REQUEST,
                &signed_in,
                &app,
                now,
                Shown {
                    error: Some(problem),
                    form: Some((&f.name, &f.redirect_uris)),
                    ..Shown::default()
                },
            ),
            Err(e) => refused(e),
        },
        Err(e) => refused(e),
    }
}

pub async fn rotate(
    State(state): State<AppState>,
    Now(now): Now,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let posted = posted_signed_in(&state, &headers, &body, now, |f: &ActionForm| &f.csrf_token);
    let (accounts, signed_in, _) = match posted.await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match accounts
        .rotate_secret(&client_id, &signed_in.developer.id, now)
        .await
    {
        Ok(app) => {
            let secret = app.client_secret.clone().unwrap_or_default();
            app_page(
                StatusCode::OK,
                &signed_in,
                &app,
                now,
                Shown {
                    new_secret: Some(secret.expose()),
                    ..Shown::default()
                },
            )
        }
        Err(e) => refused(e),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    Now(now): Now,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let posted = posted_signed_in(&state, &headers, &body, now, |f: &ActionForm| &f.csrf_token);
    let (accounts, signed_in, _) = match posted.await {
        Ok(found) => found,
        Err(response) => return response,
    };
    match accounts
        .delete_app(&client_id, &signed_in.developer.id)
        .await
    {
        Ok(app) => {
            let notice = format!(
                "{} ({}) is deleted: it no longer signs members in, and its tokens no longer work.",
                app.name, app.client_id
            );
            render(
                StatusCode::OK,
                &AccountPortalPage {
                    notice: Some(notice),
                    ..AccountPortalPage::of(&state, &signed_in)
                },
            )
        }
        Err(e) => refused(e),
    }
}
