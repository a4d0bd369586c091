//! `GET /events`: Server-Sent Events for everything the signed-in user may see change. Each
//! event carries its id; a reconnecting browser sends `Last-Event-ID` and gets what it missed
//! (with an overlap, because PostgreSQL ids can commit out of order; repeats are harmless since
//! clients only refetch). Every event passes the read policy for its channel before it is sent;
//! the connection re-reads its user every `live_recheck` (roles, App Settings), and ends when the
//! session or token is gone or the account disabled: at once when that happens in this instance
//! (sign-out, password change, disable, token revoked), at the next re-check otherwise. One user
//! holds at most `WebConfig::max_streams_per_user` streams.

use crate::AppState;
use crate::auth::ApiUser;
use crate::error::ApiError;
use app::AppError;
use app::live::{LiveEvent, Revocation};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio_stream::wrappers::{BroadcastStream, IntervalStream};

fn to_sse(e: &LiveEvent) -> SseEvent {
    let ev = &e.event.event;
    let data = serde_json::json!({
        "project_id": ev.project_id,
        "channel_id": ev.channel_id,
        "message_id": ev.message_id,
        "seq": ev.seq,
    });
    SseEvent::default()
        .id(e.event.id.to_string())
        .event(ev.kind.as_str())
        .data(data.to_string())
}

/// The data of every event on `/events` (the event's name says what happened). Events carry
/// identifiers only: a client refetches what it shows.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct LiveEventJson {
    pub project_id: uuid::Uuid,
    pub channel_id: uuid::Uuid,
    /// The message concerned (absent for `channel_read` and `request_changed`).
    pub message_id: Option<uuid::Uuid>,
    /// The message's sequence number, or for `channel_read` the new read position.
    pub seq: i64,
}

enum Step {
    Send(SseEvent),
    Skip,
    End,
}

/// What wakes a stream: an event, a credential ending in this instance, the clock, or a
/// revocation missed because the stream fell behind.
enum Input {
    Event(Result<Arc<LiveEvent>, ()>),
    Revoked(Revocation),
    Tick,
    MissedRevocation,
}

/// Live updates as Server-Sent Events, for everything the caller may see change. Event names:
/// `message_posted`, `message_edited`, `message_deleted` (in a channel the caller may read),
/// `request_changed` (a request of the project changed; `channel_id` is the vendor channel of
/// its language and partner, so only those who may see the request hear of it; `seq` is 0),
/// `channel_read` (the caller's own read position moved, in another tab or device; only to that
/// caller), and `reload` (data `{}`: this connection fell behind; refetch everything). Every
/// event has an `id`; reconnect with `Last-Event-ID` to get what was missed. A comment is sent
/// every 15 s to keep the connection open. The stream ends when the session or token ends or
/// the account is disabled. Bearer tokens work as well as the session cookie.
#[utoipa::path(
    get, path = "/events", tag = "live",
    params(("Last-Event-ID" = Option<i64>, Header, description = "The id of the last event received; the events after it are sent first.")),
    responses(
        (status = 200, description = "An endless `text/event-stream`; each event's `data` is a `LiveEventJson` (or `{}` for `reload`).",
         content_type = "text/event-stream", body = LiveEventJson)
    )
)]
pub async fn events(
    State(state): State<AppState>,
    ApiUser(who): ApiUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(slot) = state.streams.acquire(who.user.id) else {
        return Err(ApiError(AppError::Throttled {
            retry_after_secs: 30,
        }));
    };
    // Subscribe before reading the backlog so nothing falls between the two.
    let revoked = state.app.events.revocations();
    let (everyone, personal) = state.app.subscribe(who.user.id);
    let live = futures::stream::select(
        BroadcastStream::new(everyone),
        BroadcastStream::new(personal),
    );
    let last: Option<i64> = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse().ok());
    let backlog = match last {
        Some(id) => state
            .app
            .events_since(id - state.app.event_overlap())
            .await
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let app = state.app.clone();
    let recheck = state.app.config.live_recheck;
    let events = futures::stream::iter(backlog.into_iter().map(|e| Ok(Arc::new(e))))
        .chain(live.map(|r| r.map_err(|_lagged| ())))
        .map(Input::Event);
    // A lagging revocation receiver cannot know which credential ended: re-check at once.
    let revocations = BroadcastStream::new(revoked).map(|r| match r {
        Ok(r) => Input::Revoked(r),
        Err(_lagged) => Input::MissedRevocation,
    });
    // Wake even when nothing happens, so a sign-out in another instance ends the stream within
    // `live_recheck`. The credential was just checked: the first tick is one period away.
    let period = recheck.max(Duration::from_secs(1));
    let ticks = IntervalStream::new(tokio::time::interval_at(
        tokio::time::Instant::now() + period,
        period,
    ))
    .map(|_| Input::Tick);
    let inputs = futures::stream::select(events, futures::stream::select(revocations, ticks));
    let mut stopping = state.stopping.clone();
    let me = Arc::new(tokio::sync::Mutex::new((who, tokio::time::Instant::now())));
    let stream = inputs
        .then(move |input| {
            let app = app.clone();
            let me = me.clone();
            async move {
                let mut guard = me.lock().await;
                let due = match &input {
                    Input::Revoked(r) if r.ends(&guard.0) => return Step::End,
                    Input::Revoked(_) => return Step::Skip,
                    Input::MissedRevocation => true,
                    Input::Tick | Input::Event(_) => guard.1.elapsed() >= recheck,
                };
                if due {
                    match app.recheck(&guard.0).await {
                        Ok(Some(fresh)) => *guard = (Arc::new(fresh), tokio::time::Instant::now()),
                        // Signed out, token revoked or account disabled: the stream ends.
                        Ok(None) => return Step::End,
                        // The database is unavailable for a moment: keep what we know.
                        Err(_) => guard.1 = tokio::time::Instant::now(),
                    }
                }
                match input {
                    Input::Event(Ok(e)) if e.may_reach(&guard.0) => Step::Send(to_sse(&e)),
                    // This connection fell behind the bus: tell the page to refresh everything.
                    Input::Event(Err(())) => {
                        Step::Send(SseEvent::default().event("reload").data("{}"))
                    }
                    _ => Step::Skip,
                }
            }
        })
        .take_while(|step| std::future::ready(!matches!(step, Step::End)))
        // The server is stopping: end the stream so the shutdown does not wait for it.
        .take_until(async move {
            let _ = stopping.wait_for(|stop| *stop).await;
        })
        .filter_map(move |step| {
            // The stream holds its slot in the per-user cap until it ends.
            let _held = &slot;
            async move {
                match step {
                    Step::Send(e) => Some(Ok::<_, Infallible>(e)),
                    _ => None,
                }
            }
        });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}
