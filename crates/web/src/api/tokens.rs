//! The caller's own API tokens.

use super::{CreatedTokenJson, JsonBody, NewTokenJson, TokenJson, parse_id};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ApiErrorBody};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::TokenId;

/// The caller's API tokens, newest first (secrets are never shown again).
#[utoipa::path(
    get, path = "/api/v1/tokens", tag = "account",
    responses((status = 200, body = Vec<TokenJson>), (status = 401, body = ApiErrorBody))
)]
pub async fn list_tokens(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
) -> Result<Json<Vec<TokenJson>>, ApiError> {
    let tokens = state.app.list_api_tokens(&who).await?;
    Ok(Json(tokens.iter().map(TokenJson::from).collect()))
}

/// Creates an API token; the secret is in this response only.
#[utoipa::path(
    post, path = "/api/v1/tokens", tag = "account", request_body = NewTokenJson,
    responses((status = 201, body = CreatedTokenJson), (status = 422, body = ApiErrorBody))
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
    responses((status = 204, description = "Revoked"), (status = 404, body = ApiErrorBody))
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
