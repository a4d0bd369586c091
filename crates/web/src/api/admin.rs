//! Organisations, users and roles (studio admins).

use super::{
    JsonBody, NewOrgJson, NewUserJson, OrgJson, PasswordJson, RenameOrgJson, UpdateUserJson,
    UserJson, parse_id,
};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ApiErrorBody};
use app::admin::{NewUserInput, UserUpdate};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::{Actor, OrgId, UserId};

/// All organisations.
#[utoipa::path(
    get, path = "/api/v1/orgs", tag = "admin",
    responses((status = 200, body = Vec<OrgJson>), (status = 403, body = ApiErrorBody))
)]
pub async fn list_orgs(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
) -> Result<Json<Vec<OrgJson>>, ApiError> {
    let orgs = state.app.list_orgs(Actor::User(&who.subject)).await?;
    Ok(Json(orgs.iter().map(OrgJson::from).collect()))
}

/// Creates an organisation (there is exactly one studio).
#[utoipa::path(
    post, path = "/api/v1/orgs", tag = "admin", request_body = NewOrgJson,
    responses((status = 201, body = OrgJson), (status = 403, body = ApiErrorBody), (status = 422, body = ApiErrorBody))
)]
pub async fn create_org(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    JsonBody(body): JsonBody<NewOrgJson>,
) -> Result<(StatusCode, Json<OrgJson>), ApiError> {
    let org = state
        .app
        .create_org(Actor::User(&who.subject), &body.name, &body.kind)
        .await?;
    Ok((StatusCode::CREATED, Json(OrgJson::from(&org))))
}

/// Renames an organisation.
#[utoipa::path(
    patch, path = "/api/v1/orgs/{id}", tag = "admin", request_body = RenameOrgJson,
    params(("id" = uuid::Uuid, Path, description = "Organisation id")),
    responses((status = 200, body = OrgJson), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody))
)]
pub async fn rename_org(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RenameOrgJson>,
) -> Result<Json<OrgJson>, ApiError> {
    let id: OrgId = parse_id(&id)?;
    let org = state
        .app
        .rename_org(Actor::User(&who.subject), id, &body.name)
        .await?;
    Ok(Json(OrgJson::from(&org)))
}

/// All users with their organisations and roles.
#[utoipa::path(
    get, path = "/api/v1/users", tag = "admin",
    responses((status = 200, body = Vec<UserJson>), (status = 403, body = ApiErrorBody))
)]
pub async fn list_users(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
) -> Result<Json<Vec<UserJson>>, ApiError> {
    let users = state.app.list_users(Actor::User(&who.subject)).await?;
    Ok(Json(users.iter().map(UserJson::from).collect()))
}

/// Creates a user.
#[utoipa::path(
    post, path = "/api/v1/users", tag = "admin", request_body = NewUserJson,
    responses((status = 201, body = UserJson), (status = 403, body = ApiErrorBody), (status = 422, body = ApiErrorBody))
)]
pub async fn create_user(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    JsonBody(body): JsonBody<NewUserJson>,
) -> Result<(StatusCode, Json<UserJson>), ApiError> {
    let input = NewUserInput {
        org: body.organisation,
        email: body.email,
        display_name: body.display_name,
        roles: body.roles.join(","),
        password: body.password,
    };
    let user = state
        .app
        .create_user(Actor::User(&who.subject), &input)
        .await?;
    Ok((StatusCode::CREATED, Json(UserJson::from(&user))))
}

/// One user.
#[utoipa::path(
    get, path = "/api/v1/users/{id}", tag = "admin",
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses((status = 200, body = UserJson), (status = 404, body = ApiErrorBody))
)]
pub async fn get_user(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<UserJson>, ApiError> {
    let id: UserId = parse_id(&id)?;
    let user = state
        .app
        .get_user_admin(Actor::User(&who.subject), id)
        .await?;
    Ok(Json(UserJson::from(&user)))
}

/// Changes a user's display name, roles or disabled flag.
#[utoipa::path(
    patch, path = "/api/v1/users/{id}", tag = "admin", request_body = UpdateUserJson,
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses((status = 200, body = UserJson), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody))
)]
pub async fn update_user(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<UpdateUserJson>,
) -> Result<Json<UserJson>, ApiError> {
    let id: UserId = parse_id(&id)?;
    let change = UserUpdate {
        display_name: body.display_name,
        roles: body.roles.map(|r| r.join(",")),
        disabled: body.disabled,
    };
    let user = state
        .app
        .update_user(Actor::User(&who.subject), id, &change)
        .await?;
    Ok(Json(UserJson::from(&user)))
}

/// Sets a user's password; the user is signed out everywhere.
#[utoipa::path(
    put, path = "/api/v1/users/{id}/password", tag = "admin", request_body = PasswordJson,
    params(("id" = uuid::Uuid, Path, description = "User id")),
    responses((status = 204, description = "Password set"), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody))
)]
pub async fn set_password(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PasswordJson>,
) -> Result<StatusCode, ApiError> {
    let id: UserId = parse_id(&id)?;
    state
        .app
        .set_user_password(Actor::User(&who.subject), id, &body.password)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
