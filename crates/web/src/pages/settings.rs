//! API tokens and one's own account.

use crate::AppState;
use crate::auth::{PortalUser, SignedIn};
use crate::error::PageError;
use crate::pages::{Layout, parse_id};
use app::{AppError, FieldErrors};
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use domain::TokenId;
use serde::Deserialize;
use time::format_description::well_known::Rfc3339;

pub struct TokenRow {
    id: String,
    name: String,
    created: String,
    last_used: Option<String>,
    revoked: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "tokens.html")]
struct TokensPage {
    layout: Layout,
    tokens: Vec<TokenRow>,
    new_secret: Option<String>,
    name: String,
    errors: FieldErrors,
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

async fn tokens_page(
    state: &AppState,
    who: &app::auth::Authenticated,
    auth: &crate::auth::RequestAuth,
    new_secret: Option<String>,
    name: String,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let tokens = state
        .app
        .list_api_tokens(who)
        .await?
        .into_iter()
        .map(|t| TokenRow {
            id: t.id.to_string(),
            name: t.name.to_string(),
            created: rfc3339(t.created_at),
            last_used: t.last_used_at.map(rfc3339),
            revoked: t.revoked_at.is_some(),
        })
        .collect();
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        TokensPage {
            layout: Layout::new("API tokens", auth),
            tokens,
            new_secret,
            name,
            errors,
        },
    )
        .into_response())
}

pub async fn tokens(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
) -> Result<Response, PageError> {
    tokens_page(&state, &who, &auth, None, String::new(), FieldErrors::new()).await
}

#[derive(Deserialize)]
pub struct NewTokenForm {
    #[serde(default)]
    name: String,
}

pub async fn create_token(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Form(form): Form<NewTokenForm>,
) -> Result<Response, PageError> {
    match state.app.create_api_token(&who, &form.name).await {
        Ok((_, secret)) => {
            tokens_page(
                &state,
                &who,
                &auth,
                Some(secret),
                String::new(),
                FieldErrors::new(),
            )
            .await
        }
        Err(AppError::Invalid(errors) | AppError::Conflict(errors)) => {
            tokens_page(&state, &who, &auth, None, form.name, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn revoke_token(
    State(state): State<AppState>,
    PortalUser(who, _): PortalUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id: TokenId = parse_id(&id)?;
    state.app.revoke_api_token(&who, id).await?;
    Ok(Redirect::to("/settings/tokens").into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    email: String,
    org: String,
    errors: FieldErrors,
}

fn account_page(
    who: &app::auth::Authenticated,
    auth: &crate::auth::RequestAuth,
    errors: FieldErrors,
) -> Response {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    (
        status,
        AccountPage {
            layout: Layout::new("Account", auth),
            email: who.user.email.to_string(),
            org: who.org.name.to_string(),
            errors,
        },
    )
        .into_response()
}

/// Every signed-in user may change their own password, linguists included.
pub async fn account(SignedIn(who, auth): SignedIn) -> Response {
    account_page(&who, &auth, FieldErrors::new())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    SignedIn(who, auth): SignedIn,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    match state
        .app
        .change_own_password(&who, &form.current_password, &form.new_password)
        .await
    {
        Ok(()) => Ok(Redirect::to("/sign-in").into_response()),
        Err(AppError::Invalid(errors) | AppError::Conflict(errors)) => {
            Ok(account_page(&who, &auth, errors))
        }
        Err(e) => Err(e.into()),
    }
}
