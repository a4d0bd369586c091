//! Organisations, users and roles (studio admins).

use super::page::{self, Order, PageParams, page_of};
use super::{
    ApiQuery, JsonBody, NewOrgJson, NewUserJson, OrgJson, PasswordJson, RenameOrgJson,
    UpdateUserJson, UserJson, parse_id,
};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ApiErrorBody};
use app::admin::{NewUserInput, UserUpdate};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::{Actor, OrgId, UserId};

page_of!(OrgPageJson, OrgJson, "organisations");
page_of!(UserPageJson, UserJson, "users");

/// All organisations, by name.
#[utoipa::path(
    get, path = "/api/v1/orgs", tag = "admin", params(PageParams),
    responses((status = 200, description = "Organisations by name", body = OrgPageJson))
)]
pub async fn list_orgs(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<OrgPageJson>, ApiError> {
    let (limit, after) = page::read("orgs", p.limit, p.cursor.as_deref())?;
    let orgs = state.app.list_orgs(Actor::User(&who.subject)).await?;
    Ok(Json(orgs_page(orgs, after, limit)))
}

/// Organisations in name order, paged.
pub(crate) fn orgs_page(
    orgs: Vec<domain::Organisation>,
    after: Option<(String, uuid::Uuid)>,
    limit: u32,
) -> OrgPageJson {
    let (items, next) = page::in_memory(
        orgs,
        |o| (domain::search::fold(o.name.as_str()), o.id.as_uuid()),
        Order::Ascending,
        after,
        limit,
    );
    OrgPageJson {
        items: items.iter().map(OrgJson::from).collect(),
        next_cursor: next.map(|k| page::encode("orgs", &k)),
    }
}

/// Creates an organisation (there is exactly one studio).
#[utoipa::path(
    post, path = "/api/v1/orgs", tag = "admin", request_body = NewOrgJson,
    responses((status = 201, description = "Created", body = OrgJson), (status = 409, description = "The name is taken, or a second studio", body = ApiErrorBody))
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
    responses((status = 200, description = "Renamed", body = OrgJson), (status = 409, description = "The name is taken", body = ApiErrorBody))
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

/// All users with their organisations and roles, by e-mail address.
#[utoipa::path(
    get, path = "/api/v1/users", tag = "admin", params(PageParams),
    responses((status = 200, description = "Users by e-mail address", body = UserPageJson))
)]
pub async fn list_users(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<UserPageJson>, ApiError> {
    let (limit, after) = page::read("users", p.limit, p.cursor.as_deref())?;
    let users = state.app.list_users(Actor::User(&who.subject)).await?;
    let (items, next) = page::in_memory(
        users,
        |u| u.user.email.to_string(),
        Order::Ascending,
        after,
        limit,
    );
    Ok(Json(UserPageJson {
        items: items.iter().map(UserJson::from).collect(),
        next_cursor: next.map(|k| page::encode("users", &k)),
    }))
}

/// Creates a user.
#[utoipa::path(
    post, path = "/api/v1/users", tag = "admin", request_body = NewUserJson,
    responses((status = 201, description = "Created", body = UserJson), (status = 409, description = "The e-mail address is taken", body = ApiErrorBody))
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
    responses((status = 200, description = "The user", body = UserJson))
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
    responses((status = 200, description = "The user as changed", body = UserJson))
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
    responses((status = 204, description = "Password set"))
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
