//! Projects in the API: find, My Projects, create, read, update, follow.

use super::page::{self, Order, PageParams, page_of};
use super::{ApiQuery, JsonBody, ProjectInputJson, ProjectJson, ProjectRowJson, parse_id};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ApiErrorBody};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use domain::{Actor, ProjectId};
use serde::Deserialize;
use utoipa::IntoParams;

page_of!(ProjectPageJson, ProjectRowJson, "titles");

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FindParams {
    /// Part of a title's name, or the first digits of its (or an episode's) movie ID. Empty
    /// lists every title the caller may see.
    #[serde(default)]
    q: String,
    /// At most this many results (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[param(pattern = "^[A-Za-z0-9_-]+$")]
    cursor: Option<String>,
}

/// Titles the caller may see, by name or movie ID: a title whose (or whose episode's) movie ID
/// is exactly `q` first, then by name.
#[utoipa::path(
    get, path = "/api/v1/projects", tag = "projects", params(FindParams),
    responses((status = 200, description = "Matching titles", body = ProjectPageJson))
)]
pub async fn find_projects(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    ApiQuery(p): ApiQuery<FindParams>,
) -> Result<Json<ProjectPageJson>, ApiError> {
    let (limit, after) = page::read("projects", p.limit, p.cursor.as_deref())?;
    let found = state.app.find_projects(&who, &p.q, after, limit).await?;
    Ok(Json(ProjectPageJson {
        items: found.items.into_iter().map(Into::into).collect(),
        next_cursor: found.next.map(|k| page::encode("projects", &k)),
    }))
}

/// The projects the caller follows (My Projects), by name, with unread counts.
#[utoipa::path(
    get, path = "/api/v1/my-projects", tag = "projects", params(PageParams),
    responses((status = 200, description = "Followed titles", body = ProjectPageJson))
)]
pub async fn my_projects(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<ProjectPageJson>, ApiError> {
    let (limit, after) = page::read("my-projects", p.limit, p.cursor.as_deref())?;
    let rows = state.app.my_projects(&who).await?;
    let (rows, next) = page::in_memory(
        rows,
        |r| (domain::search::fold(r.name.as_str()), r.id.as_uuid()),
        Order::Ascending,
        after,
        limit,
    );
    let ids: Vec<ProjectId> = rows.iter().map(|r| r.id).collect();
    let unread = state.app.project_unread(&who, &ids).await?;
    Ok(Json(ProjectPageJson {
        items: rows
            .into_iter()
            .map(|r| {
                let count = unread.get(&r.id).map(|u| u.0).unwrap_or(0);
                ProjectRowJson {
                    unread: Some(count),
                    ..r.into()
                }
            })
            .collect(),
        next_cursor: next.map(|k| page::encode("my-projects", &k)),
    }))
}

/// Creates a project (studio users with the `manager` role).
#[utoipa::path(
    post, path = "/api/v1/projects", tag = "projects", request_body = ProjectInputJson,
    responses(
        (status = 201, description = "Created", body = ProjectJson),
        (status = 409, description = "A movie ID is already used by another title or episode", body = ApiErrorBody)
    )
)]
pub async fn create_project(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    JsonBody(input): JsonBody<ProjectInputJson>,
) -> Result<(StatusCode, Json<ProjectJson>), ApiError> {
    let project = state
        .app
        .create_project(Actor::User(&who.subject), &input.into())
        .await?;
    let view = state.app.view_project(&who, project.id).await?;
    Ok((StatusCode::CREATED, Json(view.into())))
}

/// One project, as the caller may see it.
#[utoipa::path(
    get, path = "/api/v1/projects/{id}", tag = "projects",
    params(("id" = uuid::Uuid, Path, description = "Project id")),
    responses((status = 200, description = "The title", body = ProjectJson))
)]
pub async fn get_project(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<ProjectJson>, ApiError> {
    let id: ProjectId = parse_id(&id)?;
    Ok(Json(state.app.view_project(&who, id).await?.into()))
}

/// Replaces a project's details, languages, episodes and assignments.
#[utoipa::path(
    put, path = "/api/v1/projects/{id}", tag = "projects", request_body = ProjectInputJson,
    params(("id" = uuid::Uuid, Path, description = "Project id")),
    responses((status = 200, description = "The title as saved", body = ProjectJson), (status = 409, description = "A movie ID is already used by another title or episode", body = ApiErrorBody))
)]
pub async fn update_project(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    JsonBody(input): JsonBody<ProjectInputJson>,
) -> Result<Json<ProjectJson>, ApiError> {
    let id: ProjectId = parse_id(&id)?;
    state
        .app
        .update_project(Actor::User(&who.subject), id, &input.into())
        .await?;
    Ok(Json(state.app.view_project(&who, id).await?.into()))
}

/// Follows a project (adds it to My Projects). Idempotent.
#[utoipa::path(
    put, path = "/api/v1/projects/{id}/follow", tag = "projects",
    params(("id" = uuid::Uuid, Path, description = "Project id")),
    responses((status = 204, description = "Following"))
)]
pub async fn follow(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: ProjectId = parse_id(&id)?;
    state.app.follow(&who, id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stops following a project. Idempotent.
#[utoipa::path(
    delete, path = "/api/v1/projects/{id}/follow", tag = "projects",
    params(("id" = uuid::Uuid, Path, description = "Project id")),
    responses((status = 204, description = "Not following"))
)]
pub async fn unfollow(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: ProjectId = parse_id(&id)?;
    state.app.follow(&who, id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Partner organisations that can be assigned to a project's languages (project editors), by
/// name.
#[utoipa::path(
    get, path = "/api/v1/partners", tag = "projects", params(PageParams),
    responses((status = 200, description = "Partners by name", body = super::admin::OrgPageJson))
)]
pub async fn partners(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<super::admin::OrgPageJson>, ApiError> {
    let (limit, after) = page::read("orgs", p.limit, p.cursor.as_deref())?;
    let orgs = state.app.assignable_partners(&who).await?;
    Ok(Json(super::admin::orgs_page(orgs, after, limit)))
}
