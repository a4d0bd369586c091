//! Searching messages: across every channel the user can read, or within one.

use crate::AppState;
use crate::auth::PortalUser;
use crate::error::PageError;
use crate::pages::Layout;
use app::AppError;
use app::search::SearchHit;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::ChannelId;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Template, WebTemplate)]
#[template(path = "search.html")]
struct SearchPage {
    layout: Layout,
    q: String,
    channel: Option<String>,
    hits: Vec<SearchHit>,
    error: Option<String>,
}

impl SearchPage {
    fn ts(&self, t: impl std::borrow::Borrow<OffsetDateTime>) -> String {
        t.borrow().format(&Rfc3339).unwrap_or_default()
    }
}

#[derive(Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    channel: Option<String>,
}

pub async fn search(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Query(query): Query<SearchQuery>,
) -> Result<Response, PageError> {
    let q = query.q.trim().to_string();
    let channel = query.channel.filter(|c| !c.is_empty());
    let channel_id: Option<ChannelId> = match &channel {
        Some(c) => Some(crate::pages::parse_id(c)?),
        None => None,
    };
    let (hits, error) = if q.is_empty() {
        (vec![], None)
    } else {
        match state
            .app
            .search_messages(&who, &q, channel_id, None, 100)
            .await
        {
            Ok(h) => (h.items, None),
            Err(AppError::Invalid(e) | AppError::Conflict(e)) => {
                (vec![], e.get("q").map(str::to_string))
            }
            Err(e) => return Err(e.into()),
        }
    };
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let layout = Layout::new(format!("Search “{q}”"), &auth);
    Ok((
        status,
        SearchPage {
            layout,
            q,
            channel,
            hits,
            error,
        },
    )
        .into_response())
}
