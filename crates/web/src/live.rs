//! `GET /events`: Server-Sent Events for everything the signed-in user may see change. Each
//! event carries its id; a reconnecting browser sends `Last-Event-ID` and gets what it missed
//! (with an overlap, because PostgreSQL ids can commit out of order; repeats are harmless since
//! clients only refetch). Every event passes the read policy for its channel before it is sent.

use crate::AppState;
use crate::auth::ApiUser;
use app::live::OVERLAP;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use domain::events::Event;
use futures::{Stream, StreamExt};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio_stream::wrappers::BroadcastStream;

fn to_sse(e: &Event) -> SseEvent {
    let ev = &e.event;
    let data = serde_json::json!({
        "project_id": ev.project_id,
        "channel_id": ev.channel_id,
        "message_id": ev.message_id,
        "seq": ev.seq,
    });
    SseEvent::default()
        .id(e.id.to_string())
        .event(ev.kind.as_str())
        .data(data.to_string())
}

pub async fn events(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    headers: HeaderMap,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    // Subscribe before reading the backlog so nothing falls between the two.
    let live = BroadcastStream::new(state.app.subscribe());
    let last: Option<i64> = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse().ok());
    let backlog = match last {
        Some(id) => state
            .app
            .events_since(id - OVERLAP)
            .await
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let app = state.app.clone();
    let items = futures::stream::iter(backlog.into_iter().map(|e| Ok(Arc::new(e))))
        .chain(live.map(|r| r.map_err(|_lagged| ())));
    let stream = items
        .then(move |item| {
            let app = app.clone();
            let who = who.clone();
            async move {
                match item {
                    Ok(e) => match app.may_receive(&who, &e).await {
                        Ok(true) => Some(to_sse(&e)),
                        _ => None,
                    },
                    // This connection fell behind the bus: tell the page to refresh everything.
                    Err(()) => Some(SseEvent::default().event("reload").data("{}")),
                }
            }
        })
        .filter_map(|x| async move { x.map(Ok) });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
