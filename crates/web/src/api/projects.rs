//! Projects in the API: find, My Projects, create, read, update, follow.

use super::{JsonBody, OrgJson, ProjectInputJson, ProjectJson, ProjectRowJson, parse_id};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::{ApiError, ApiErrorBody};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use domain::{Actor, ProjectId};
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
pub struct FindParams {
    /// Part of a title's name, or the first digits of its (or an episode's) movie ID. Empty
    /// lists every title the caller may see.
    #[serde(default)]
    q: String,
    /// At most this many results (1–200, default 50).
    #[serde(default)]
    limit: Option<u32>,
}

/// Titles the caller may see, by name or movie ID.
#[utoipa::path(
    get, path = "/api/v1/projects", tag = "projects", params(FindParams),
    responses(
        (status = 200, body = Vec<ProjectRowJson>),
        (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody)
    )
)]
pub async fn find_projects(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Query(p): Query<FindParams>,
) -> Result<Json<Vec<ProjectRowJson>>, ApiError> {
    let rows = state
        .app
        .find_projects(&who, &p.q, p.limit.unwrap_or(50))
        .await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// The projects the caller follows (My Projects).
#[utoipa::path(
    get, path = "/api/v1/my-projects", tag = "projects",
    responses((status = 200, body = Vec<ProjectRowJson>), (status = 401, body = ApiErrorBody), (status = 403, body = ApiErrorBody))
)]
pub async fn my_projects(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
) -> Result<Json<Vec<ProjectRowJson>>, ApiError> {
    let rows = state.app.my_projects(&who).await?;
    let ids: Vec<ProjectId> = rows.iter().map(|r| r.id).collect();
    let unread = state.app.project_unread(&who, &ids).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| {
                let count = unread.get(&r.id).map(|u| u.0).unwrap_or(0);
                ProjectRowJson {
                    unread: Some(count),
                    ..r.into()
                }
            })
            .collect(),
    ))
}

/// Creates a project (studio users with the `manager` role).
#[utoipa::path(
    post, path = "/api/v1/projects", tag = "projects", request_body = ProjectInputJson,
    responses(
        (status = 201, body = ProjectJson),
        (status = 400, description = "Unreadable body", body = ApiErrorBody),
        (status = 403, body = ApiErrorBody),
        (status = 422, description = "Invalid fields, e.g. a movie ID already in use", body = ApiErrorBody)
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
    responses((status = 200, body = ProjectJson), (status = 404, description = "No such project, or not visible to the caller", body = ApiErrorBody))
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
    responses((status = 200, body = ProjectJson), (status = 403, body = ApiErrorBody), (status = 404, body = ApiErrorBody), (status = 422, body = ApiErrorBody))
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
    responses((status = 204, description = "Following"), (status = 404, body = ApiErrorBody))
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
    responses((status = 204, description = "Not following"), (status = 404, body = ApiErrorBody))
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

/// Partner organisations that can be assigned to a project's languages (project editors).
#[utoipa::path(
    get, path = "/api/v1/partners", tag = "projects",
    responses((status = 200, body = Vec<OrgJson>), (status = 403, body = ApiErrorBody))
)]
pub async fn partners(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
) -> Result<Json<Vec<OrgJson>>, ApiError> {
    let orgs = state.app.assignable_partners(&who).await?;
    Ok(Json(orgs.iter().map(OrgJson::from).collect()))
}
