//! The Show Guide and casting in the API: the guide as a viewer sees it, characters, key names,
//! translations, publishing, the difference between versions, the casting overview and the
//! decisions on talent samples. Auditions are opened with `POST …/audio-requests` (kind
//! `casting`) and fulfilled like Moments clips. Everything goes through the same use cases as
//! the pages.

use super::{ApiQuery, JsonBody, parse_id};
use crate::AppState;
use crate::auth::ApiUser;
use crate::error::ApiError;
use app::AppError;
use app::guide::{CharacterInput, KeyNameInput};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::fulfilment::SampleDecision;
use domain::{FulfilmentId, GuideItemId, ProjectId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Serialize, ToSchema)]
pub struct CharacterJson {
    pub id: uuid::Uuid,
    pub name: String,
    /// `main`, `secondary` or `walla`.
    pub kind: String,
    pub description: String,
    pub age_range: String,
    pub notes: String,
    pub pronunciation: String,
    /// The pronunciation recording, at this address.
    pub pronunciation_file: Option<String>,
    /// Who is cast, per language the caller may see ("es-ES: Lucia").
    pub cast: Vec<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TranslationJson {
    pub language: String,
    pub text: Option<String>,
    /// `proposed`, `approved` or `rejected`; absent: no translation yet.
    pub status: Option<String>,
    pub note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct KeyNameJson {
    pub id: uuid::Uuid,
    pub term: String,
    /// `person`, `location`, `organization` or `phrase`.
    pub category: String,
    pub context: String,
    /// One per language the caller sees (the studio: the one asked for).
    pub translations: Vec<TranslationJson>,
}

#[derive(Serialize, ToSchema)]
pub struct ReferenceJson {
    pub id: uuid::Uuid,
    pub name: String,
    pub size: u64,
    pub url: String,
}

#[derive(Serialize, ToSchema)]
pub struct ChangeJson {
    /// `character`, `key_name`, `translation` or `reference`.
    pub kind: String,
    pub item: String,
    pub language: Option<String>,
    pub name: String,
    /// `added`, `changed` or `removed`.
    pub change: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl From<&domain::guide::DiffEntry> for ChangeJson {
    fn from(e: &domain::guide::DiffEntry) -> Self {
        Self {
            kind: e.kind.as_str().into(),
            item: e.item.clone(),
            language: e.language.as_ref().map(|l| l.to_string()),
            name: e.name.clone(),
            change: e.change.as_str().into(),
            before: e.before.clone(),
            after: e.after.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct GuideVersionJson {
    pub version: u32,
    pub summary: String,
    pub published: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
}

/// A title's Show Guide as the caller sees it.
#[derive(Serialize, ToSchema)]
pub struct GuideJson {
    pub version: u32,
    /// The newest published version (0: none).
    pub published: u32,
    /// The version the caller had opened before this call (it is now the newest).
    pub last_read: u32,
    /// What changed since then.
    pub changes: Vec<ChangeJson>,
    pub characters: Vec<CharacterJson>,
    pub key_names: Vec<KeyNameJson>,
    pub references: Vec<ReferenceJson>,
    pub languages: Vec<String>,
    pub may_edit: bool,
    pub may_propose: Vec<String>,
    /// Newest first (the last 20).
    pub versions: Vec<GuideVersionJson>,
}

impl From<&app::guide::GuideView> for GuideJson {
    fn from(g: &app::guide::GuideView) -> Self {
        Self {
            version: g.version,
            published: g.published,
            last_read: g.last_read,
            changes: g.changes.iter().map(ChangeJson::from).collect(),
            characters: g
                .characters
                .iter()
                .map(|(id, c)| CharacterJson {
                    id: id.as_uuid(),
                    name: c.name.clone(),
                    kind: c.kind.clone(),
                    description: c.description.clone(),
                    age_range: c.age_range.clone(),
                    notes: c.notes.clone(),
                    pronunciation: c.pronunciation.clone(),
                    pronunciation_file: c
                        .pronunciation_file
                        .as_ref()
                        .map(|_| format!("/api/v1/guide-files/{id}")),
                    cast: g.cast_of(id),
                })
                .collect(),
            key_names: g
                .key_names
                .iter()
                .map(|k| KeyNameJson {
                    id: k.id.as_uuid(),
                    term: k.data.term.clone(),
                    category: k.data.category.clone(),
                    context: k.data.context.clone(),
                    translations: k
                        .translations
                        .iter()
                        .map(|(l, t)| TranslationJson {
                            language: l.to_string(),
                            text: t.as_ref().map(|t| t.text.clone()),
                            status: t.as_ref().map(|t| t.status.clone()),
                            note: t.as_ref().map(|t| t.note.clone()),
                        })
                        .collect(),
                })
                .collect(),
            references: g
                .references
                .iter()
                .map(|(id, r)| ReferenceJson {
                    id: id.as_uuid(),
                    name: r.file.name.clone(),
                    size: r.file.size,
                    url: format!("/api/v1/guide-files/{id}"),
                })
                .collect(),
            languages: g.languages.iter().map(|l| l.to_string()).collect(),
            may_edit: g.may_edit,
            may_propose: g.may_propose.iter().map(|l| l.to_string()).collect(),
            versions: g
                .versions
                .iter()
                .map(|v| GuideVersionJson {
                    version: v.version,
                    summary: v.summary.clone(),
                    published: v.published_at.is_some(),
                    created_at: super::dto::ts(v.created_at),
                })
                .collect(),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GuideParams {
    /// The studio's translation column (a target language); partners always get their own.
    pub language: Option<String>,
}

/// A title's Show Guide. Opening it records its newest version as read by the caller.
#[utoipa::path(
    get, path = "/api/v1/projects/{id}/guide", tag = "guide",
    params(("id" = uuid::Uuid, Path, description = "Project id"), GuideParams),
    responses((status = 200, description = "The guide", body = GuideJson))
)]
pub async fn get_guide(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<GuideParams>,
) -> Result<Json<GuideJson>, ApiError> {
    let id: ProjectId = parse_id(&id)?;
    let g = state
        .app
        .view_guide(&who, id, p.language.as_deref())
        .await?;
    Ok(Json((&g).into()))
}

/// A character to add (no `id`) or change.
#[derive(Deserialize, ToSchema)]
pub struct CharacterBody {
    pub id: Option<uuid::Uuid>,
    #[schema(min_length = 1, max_length = 120)]
    pub name: String,
    /// `main`, `secondary` or `walla`.
    #[serde(default)]
    #[schema(pattern = r"^(main|secondary|walla)?$")]
    pub kind: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub age_range: String,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub pronunciation: String,
}

#[derive(Serialize, ToSchema)]
pub struct ItemJson {
    pub id: uuid::Uuid,
}

/// Adds or changes a character (studio): a new version of the guide.
#[utoipa::path(
    post, path = "/api/v1/projects/{id}/guide/characters", tag = "guide",
    request_body = CharacterBody,
    params(("id" = uuid::Uuid, Path, description = "Project id")),
    responses((status = 200, description = "Saved", body = ItemJson))
)]
pub async fn save_character(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<CharacterBody>,
) -> Result<Json<ItemJson>, ApiError> {
    let id: ProjectId = parse_id(&id)?;
    let input = CharacterInput {
        name: b.name,
        kind: b.kind,
        description: b.description,
        age_range: b.age_range,
        notes: b.notes,
        pronunciation: b.pronunciation,
    };
    let saved = state
        .app
        .save_character(&who, id, b.id.map(GuideItemId::from), &input, None)
        .await?;
    Ok(Json(ItemJson {
        id: saved.as_uuid(),
    }))
}

/// A key name to add (no `id`) or change.
#[derive(Deserialize, ToSchema)]
pub struct KeyNameBody {
    pub id: Option<uuid::Uuid>,
    #[schema(min_length = 1, max_length = 200)]
    pub term: String,
    /// `person`, `location`, `organization` or `phrase`.
    #[serde(default)]
    #[schema(pattern = r"^(person|location|organization|phrase)?$")]
    pub category: String,
    #[serde(default)]
    pub context: String,
}

/// Adds or changes a key name (studio): a new version of the guide.
#[utoipa::path(
    post, path = "/api/v1/projects/{id}/guide/key-names", tag = "guide",
    request_body = KeyNameBody,
    params(("id" = uuid::Uuid, Path, description = "Project id")),
    responses((status = 200, description = "Saved", body = ItemJson))
)]
pub async fn save_key_name(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<KeyNameBody>,
) -> Result<Json<ItemJson>, ApiError> {
    let id: ProjectId = parse_id(&id)?;
    let input = KeyNameInput {
        term: b.term,
        category: b.category,
        context: b.context,
    };
    let saved = state
        .app
        .save_key_name(&who, id, b.id.map(GuideItemId::from), &input)
        .await?;
    Ok(Json(ItemJson {
        id: saved.as_uuid(),
    }))
}

/// Removes a character, key name (with its translations) or reference file (studio).
#[utoipa::path(
    delete, path = "/api/v1/projects/{id}/guide/items/{item}", tag = "guide",
    params(("id" = uuid::Uuid, Path, description = "Project id"), ("item" = uuid::Uuid, Path, description = "Item id")),
    responses((status = 204, description = "Removed"))
)]
pub async fn remove_item(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path((id, item)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let id: ProjectId = parse_id(&id)?;
    let item: GuideItemId = parse_id(&item)?;
    state.app.remove_guide_item(&who, id, item).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct TranslationBody {
    #[schema(min_length = 1, max_length = 500)]
    pub text: String,
}

#[derive(Serialize, ToSchema)]
pub struct TranslationStateJson {
    /// `proposed`, `approved` or `rejected`.
    pub status: String,
}

/// Proposes a translation (a partner of that language; the studio's is approved at once).
#[utoipa::path(
    put, path = "/api/v1/guide/key-names/{id}/translations/{language}", tag = "guide",
    request_body = TranslationBody,
    params(("id" = uuid::Uuid, Path, description = "Key name id"), ("language" = String, Path, description = "Target language")),
    responses((status = 200, description = "Its status", body = TranslationStateJson))
)]
pub async fn propose_translation(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path((id, language)): Path<(String, String)>,
    JsonBody(b): JsonBody<TranslationBody>,
) -> Result<Json<TranslationStateJson>, ApiError> {
    let id: GuideItemId = parse_id(&id)?;
    let status = state
        .app
        .propose_translation(&who, id, &language, &b.text)
        .await?;
    Ok(Json(TranslationStateJson {
        status: status.as_str().into(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct TranslationDecisionBody {
    pub approve: bool,
    /// Why it is rejected (needed to reject).
    #[serde(default)]
    pub note: String,
}

/// Approves or rejects a translation (studio).
#[utoipa::path(
    post, path = "/api/v1/guide/key-names/{id}/translations/{language}/decision", tag = "guide",
    request_body = TranslationDecisionBody,
    params(("id" = uuid::Uuid, Path, description = "Key name id"), ("language" = String, Path, description = "Target language")),
    responses((status = 200, description = "Its status", body = TranslationStateJson), (status = 409, description = "Already approved or rejected, or nothing to decide on", body = crate::error::ApiErrorBody))
)]
pub async fn decide_translation(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path((id, language)): Path<(String, String)>,
    JsonBody(b): JsonBody<TranslationDecisionBody>,
) -> Result<Json<TranslationStateJson>, ApiError> {
    let id: GuideItemId = parse_id(&id)?;
    let status = state
        .app
        .decide_translation(&who, id, &language, b.approve, &b.note)
        .await?;
    Ok(Json(TranslationStateJson {
        status: status.as_str().into(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct PublishedJson {
    pub version: u32,
}

/// Publishes the newest version (studio): the robot announces it in Broadcast.
#[utoipa::path(
    post, path = "/api/v1/projects/{id}/guide/publish", tag = "guide",
    params(("id" = uuid::Uuid, Path, description = "Project id")),
    responses((status = 200, description = "Published", body = PublishedJson), (status = 409, description = "Nothing to publish: the newest version is published already, or the guide is empty", body = crate::error::ApiErrorBody))
)]
pub async fn publish(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<PublishedJson>, ApiError> {
    let id: ProjectId = parse_id(&id)?;
    let version = state.app.publish_guide(&who, id).await?;
    Ok(Json(PublishedJson { version }))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffParams {
    /// The older version (exclusive).
    pub from: u32,
    /// The newer version (inclusive).
    pub to: u32,
}

/// What changed between two versions (translations only of the caller's languages).
#[utoipa::path(
    get, path = "/api/v1/projects/{id}/guide/diff", tag = "guide",
    params(("id" = uuid::Uuid, Path, description = "Project id"), DiffParams),
    responses((status = 200, description = "The changes", body = Vec<ChangeJson>))
)]
pub async fn diff(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<DiffParams>,
) -> Result<Json<Vec<ChangeJson>>, ApiError> {
    let id: ProjectId = parse_id(&id)?;
    let entries = state.app.guide_diff(&who, id, p.from, p.to).await?;
    Ok(Json(entries.iter().map(ChangeJson::from).collect()))
}

/// The guide as CSV for the recording studio (characters, then key names with a column per
/// language the caller sees).
#[utoipa::path(
    get, path = "/api/v1/projects/{id}/guide.csv", tag = "guide",
    params(("id" = uuid::Uuid, Path, description = "Project id")),
    responses((status = 200, description = "CSV with a header line", content_type = "text/csv"))
)]
pub async fn csv(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: ProjectId = parse_id(&id)?;
    let body = state.app.guide_csv(&who, id).await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response())
}

/// A pronunciation recording or reference file of a guide (Range requests supported).
#[utoipa::path(
    get, path = "/api/v1/guide-files/{id}", tag = "guide",
    params(("id" = uuid::Uuid, Path, description = "Item id")),
    responses((status = 200, description = "The file", content_type = "*/*"))
)]
pub async fn guide_file(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
    headers: axum::http::HeaderMap,
) -> Result<Response, ApiError> {
    let id: GuideItemId = parse_id(&id)?;
    Ok(guide_file_response(&state, &who, id, &headers).await?)
}

pub(crate) async fn guide_file_response(
    state: &AppState,
    who: &app::auth::Authenticated,
    id: GuideItemId,
    headers: &axum::http::HeaderMap,
) -> Result<Response, AppError> {
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let served = state.app.open_guide_file(who, id, range).await?;
    let media = domain::attachments::FileType::from_extension(
        served.name.rsplit('.').next().unwrap_or_default(),
    )
    .map_or("application/octet-stream", |t| t.media_type());
    Ok(crate::download::media_response(served, media, false))
}

#[derive(Serialize, ToSchema)]
pub struct CastingCellJson {
    pub character: uuid::Uuid,
    pub language: String,
    pub fulfilment: uuid::Uuid,
    /// `open`, `submitted` (samples in), `approved`, `cast`.
    pub state: String,
    pub samples: u32,
    pub talent: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CastingCharacterJson {
    pub id: uuid::Uuid,
    pub name: String,
    pub kind: String,
}

/// The casting overview: characters × the languages the caller sees.
#[derive(Serialize, ToSchema)]
pub struct CastingJson {
    pub characters: Vec<CastingCharacterJson>,
    pub languages: Vec<String>,
    /// Only the cells with an audition.
    pub cells: Vec<CastingCellJson>,
}

/// The casting overview of a title.
#[utoipa::path(
    get, path = "/api/v1/projects/{id}/casting", tag = "guide",
    params(("id" = uuid::Uuid, Path, description = "Project id")),
    responses((status = 200, description = "The overview", body = CastingJson))
)]
pub async fn casting(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path(id): Path<String>,
) -> Result<Json<CastingJson>, ApiError> {
    let id: ProjectId = parse_id(&id)?;
    let m = state.app.casting_matrix(&who, id).await?;
    Ok(Json(CastingJson {
        characters: m
            .characters
            .iter()
            .map(|(id, name, kind)| CastingCharacterJson {
                id: id.as_uuid(),
                name: name.clone(),
                kind: kind.clone(),
            })
            .collect(),
        languages: m.languages.iter().map(|l| l.to_string()).collect(),
        cells: m
            .cells
            .iter()
            .map(|((c, l), cell)| CastingCellJson {
                character: c.as_uuid(),
                language: l.to_string(),
                fulfilment: cell.fulfilment.as_uuid(),
                state: cell.state.as_str().into(),
                samples: cell.samples,
                talent: cell.talent.clone(),
            })
            .collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct SampleDecisionBody {
    /// `approve`, `reject` or `cast`.
    #[schema(pattern = r"^(approve|reject|cast)$")]
    pub decision: String,
    /// Feedback for the partner (needed to reject).
    #[serde(default)]
    pub body: String,
}

#[derive(Serialize, ToSchema)]
pub struct AuditionStateJson {
    /// `open`, `submitted`, `approved` or `cast`.
    pub state: String,
}

/// Approves, rejects (with feedback) or casts one talent sample of an audition (studio).
#[utoipa::path(
    post, path = "/api/v1/fulfilments/{id}/samples/{version}/decision", tag = "guide",
    request_body = SampleDecisionBody,
    params(("id" = uuid::Uuid, Path, description = "Audition (fulfilment) id"), ("version" = u32, Path, description = "The sample's version")),
    responses((status = 200, description = "The audition's state", body = AuditionStateJson), (status = 409, description = "Not allowed now (cast a sample only once approved)", body = crate::error::ApiErrorBody))
)]
pub async fn decide_sample(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    Path((id, version)): Path<(String, String)>,
    JsonBody(b): JsonBody<SampleDecisionBody>,
) -> Result<Json<AuditionStateJson>, ApiError> {
    let id: FulfilmentId = parse_id(&id)?;
    let version: u32 = parse_id(&version)?;
    let decision = parse_sample_decision(&b.decision)?;
    let s = state
        .app
        .decide_sample(&who, id, version, decision, &b.body)
        .await?;
    Ok(Json(AuditionStateJson {
        state: s.as_str().into(),
    }))
}

pub(crate) fn parse_sample_decision(s: &str) -> Result<SampleDecision, AppError> {
    match s.trim() {
        "approve" => Ok(SampleDecision::Approve),
        "reject" => Ok(SampleDecision::Reject),
        "cast" => Ok(SampleDecision::Cast),
        other => Err(AppError::invalid(
            "decision",
            format!("unknown decision {other:?}; use approve, reject or cast"),
        )),
    }
}
