//! The JSON API under `/api/v1`. Every route is registered through `utoipa_axum::routes!` so the
//! OpenAPI document (`/api/openapi.json`) cannot drift from the router.
//!
//! Authentication: `Authorization: Bearer lpt_…` (tokens are created under API tokens), or the
//! browser session cookie plus the `X-CSRF-Token` header for state-changing calls.

mod admin;
mod audio;
mod channels;
pub mod contract;
mod dto;
pub mod extract;
mod guide;
mod mail;
pub mod page;
mod projects;
mod requests;
mod tokens;

pub(crate) use audio::{
    Media as AudioMedia, media as audio_media, waveform_response as audio_waveform_response,
};
pub use dto::*;
pub use extract::{ApiQuery, JsonBody};
pub(crate) use guide::{guide_file_response, parse_sample_decision};

use crate::AppState;
use crate::auth::ApiSignedIn;
use crate::error::{ApiError, ApiErrorBody};
use axum::Json;
use axum::response::IntoResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "locportal API",
        version = "1",
        description = "Everything the locportal pages do, as JSON.\n\n**Authentication**: `Authorization: Bearer <token>` (create tokens under API tokens in the portal), or the browser's session cookie, which on every change (POST, PUT, PATCH, DELETE) must come with the session's CSRF token in `X-CSRF-Token`. A request with no credentials is 401; too many unknown tokens from one address are 429 with `Retry-After`.\n\n**Errors** always have the shape `{\"error\": {\"code\", \"message\", \"fields\"}}`, whatever produced them (an unknown route is 404, a wrong method 405 with `Allow`, a body arriving slower than 30 s 408); `code` is one of `ErrorCode` and has one status.\n\n**JSON bodies** are objects; a whole-number float (`3.0`) is accepted as the integer it equals. Unknown fields are ignored.\n\n**Lists** are paged: `limit` (1–200, default 50) and `cursor` (the previous page's `next_cursor`, absent on the last page). Cursors are opaque and belong to their list."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "account", description = "The signed-in user and their API tokens"),
        (name = "projects", description = "Titles, languages, partner assignments, following"),
        (name = "communication", description = "Channels, messages, unread counts, App Settings"),
        (name = "requests", description = "Script work: requests, their steps, files, dates and dependencies; My tasks; members and script viewers"),
        (name = "guide", description = "The Show Guide (characters, key names and translations, reference files, versions) and casting (the overview, decisions on talent samples)"),
        (name = "audio", description = "Audio fulfilment: Moments clips and premixes, versions checked on arrival, comments and decisions; resumable uploads (tus 1.0)"),
        (name = "admin", description = "Organisations, users and roles, outgoing mail (studio admins)")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            contract::BEARER_SCHEME,
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The API's router and its completed OpenAPI document.
pub fn split() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = router().split_for_parts();
    contract::complete(&mut doc);
    (router, doc)
}

fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(me))
        .routes(routes!(tokens::list_tokens, tokens::create_token))
        .routes(routes!(tokens::revoke_token))
        .routes(routes!(projects::find_projects, projects::create_project))
        .routes(routes!(projects::my_projects))
        .routes(routes!(projects::get_project, projects::update_project))
        .routes(routes!(projects::follow, projects::unfollow))
        .routes(routes!(projects::partners))
        .routes(routes!(requests::list_requests, requests::create_requests))
        .routes(routes!(requests::requests_csv))
        .routes(routes!(requests::get_request))
        .routes(routes!(requests::assign))
        .routes(routes!(requests::start))
        .routes(routes!(requests::submit))
        .routes(routes!(requests::approve))
        .routes(routes!(requests::return_request))
        .routes(routes!(requests::change_edd))
        .routes(routes!(requests::change_due_date))
        .routes(routes!(requests::add_dependency))
        .routes(routes!(requests::skip_dependency))
        .routes(routes!(requests::remove_dependency))
        .routes(routes!(requests::download_file))
        .routes(routes!(requests::add_files))
        .routes(routes!(requests::tasks))
        .routes(routes!(requests::members))
        .routes(routes!(
            requests::add_script_viewer,
            requests::remove_script_viewer
        ))
        .routes(routes!(
            audio::list_audio_requests,
            audio::create_audio_request
        ))
        .routes(routes!(audio::get_fulfilment))
        .routes(routes!(audio::submit_version))
        .routes(routes!(audio::comment))
        .routes(routes!(audio::decide))
        .routes(routes!(audio::clip))
        .routes(routes!(audio::delivery_file))
        .routes(routes!(audio::waveform))
        .routes(routes!(audio::upload_options, audio::create_upload))
        .routes(routes!(
            audio::upload_offset,
            audio::get_upload,
            audio::append_upload,
            audio::delete_upload
        ))
        .routes(routes!(guide::get_guide))
        .routes(routes!(guide::save_character))
        .routes(routes!(guide::save_key_name))
        .routes(routes!(guide::remove_item))
        .routes(routes!(guide::propose_translation))
        .routes(routes!(guide::decide_translation))
        .routes(routes!(guide::publish))
        .routes(routes!(guide::diff))
        .routes(routes!(guide::csv))
        .routes(routes!(guide::guide_file))
        .routes(routes!(guide::casting))
        .routes(routes!(guide::decide_sample))
        .routes(routes!(channels::list_channels))
        .routes(routes!(channels::list_messages, channels::post_message))
        .routes(routes!(channels::edit_message, channels::delete_message))
        .routes(routes!(channels::mark_read))
        .routes(routes!(channels::download_attachment))
        .routes(routes!(channels::search))
        .routes(routes!(channels::mentionable))
        .routes(routes!(channels::get_settings, channels::put_settings))
        .routes(routes!(admin::list_orgs, admin::create_org))
        .routes(routes!(admin::rename_org))
        .routes(routes!(admin::list_users, admin::create_user))
        .routes(routes!(admin::get_user, admin::update_user))
        .routes(routes!(admin::set_password))
        .routes(routes!(mail::get_email_settings, mail::put_email_settings))
        .routes(routes!(mail::put_mute))
        .routes(routes!(mail::notifications))
        .routes(routes!(mail::list_outbox))
        .routes(routes!(mail::get_outgoing))
        .routes(routes!(mail::retry_outgoing))
        .routes(routes!(crate::live::events))
        .routes(routes!(crate::pages::session::healthz))
}

/// A path id that is not an id is simply "not found".
pub(crate) fn parse_id<T: std::str::FromStr>(s: &str) -> Result<T, ApiError> {
    s.parse().map_err(|_| ApiError(app::AppError::NotFound))
}

/// The signed-in user. Works without portal access, so a linguist can see why they are refused.
#[utoipa::path(
    get, path = "/api/v1/me", tag = "account",
    responses(
        (status = 200, description = "The signed-in user", body = MeJson),
        (status = 401, description = "Not signed in", body = ApiErrorBody)
    )
)]
async fn me(ApiSignedIn(who): ApiSignedIn) -> impl IntoResponse {
    Json(MeJson::from(&*who))
}
