//! The caller's own API tokens.

use super::page::{self, Order, PageParams, page_of};
use super::{ApiQuery, CreatedTokenJson, JsonBody, NewTokenJson, TokenJson, parse_id};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ApiErrorBody};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::TokenId;

page_of!(TokenPageJson, TokenJson, "the caller's API tokens");

/// The caller's API tokens, newest first (secrets are never shown again).
#[utoipa::path(
    get, path = "/api/v1/tokens", tag = "account", params(PageParams),
    responses((status = 200, description = "The caller's tokens", body = TokenPageJson))
)]
pub async fn list_tokens(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<TokenPageJson>, ApiError> {
    let (limit, after) = page::read("tokens", p.limit, p.cursor.as_deref())?;
    let tokens = state.app.list_api_tokens(&who).await?;
    let (items, next) = page::in_memory(
        tokens,
        |t| (t.created_at, t.id.as_uuid()),
        Order::Descending,
        after,
        limit,
    );
    Ok(Json(TokenPageJson {
        items: items.iter().map(TokenJson::from).collect(),
        next_cursor: next.map(|k| page::encode("tokens", &k)),
    }))
}

/// Creates an API token; the secret is in this response only.
#[utoipa::path(
    post, path = "/api/v1/tokens", tag = "account", request_body = NewTokenJson,
    responses((status = 201, description = "The token and its secret", body = CreatedTokenJson), (status = 409, description = "The caller already has a token with this name", body = ApiErrorBody))
)]
pub async fn create_token(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    JsonBody(body): JsonBody<NewTokenJson>,
) -> Result<(StatusCode, Json<CreatedTokenJson>), ApiError> {
    let (record, secret) = state.app.create_api_token(&who, &body.name).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedTokenJson {
            token: TokenJson::from(&record),
            secret,
        }),
    ))
}

/// Revokes one of the caller's tokens.
#[utoipa::path(
    delete, path = "/api/v1/tokens/{id}", tag = "account",
    params(("id" = uuid::Uuid, Path, description = "Token id")),
    responses((status = 204, description = "Revoked"))
)]
pub async fn revoke_token(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: TokenId = parse_id(&id)?;
    state.app.revoke_api_token(&who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
