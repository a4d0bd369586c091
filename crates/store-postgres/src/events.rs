//! Live-update events, and the LISTEN side that wakes other instances.

use async_trait::async_trait;
use domain::events::{Event, EventKind, NewEvent};
use sqlx::postgres::PgListener;
use store::{EventRepo, EventWaker, StoreResult};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::PgTx;
use crate::convert::{corrupt, db_error};

/// The notification channel every instance listens on. The payload is the event id (a hint).
pub(crate) const NOTIFY_CHANNEL: &str = "locportal_events";

/// id, kind, project_id, channel_id, message_id, seq, user_id.
type EventRow = (i64, String, Uuid, Uuid, Option<Uuid>, i64, Option<Uuid>);

fn event((event_id, kind, project, channel, message, seq, user): EventRow) -> StoreResult<Event> {
    Ok(Event {
        id: event_id,
        event: NewEvent {
            kind: kind
                .parse::<EventKind>()
                .map_err(|e| corrupt("events.kind", &kind, e))?,
            project_id: project.into(),
            channel_id: channel.into(),
            message_id: message.map(Into::into),
            seq,
            user_id: user.map(Into::into),
        },
    })
}

#[async_trait]
impl EventRepo for PgTx {
    async fn append_event(&mut self, e: &NewEvent, at: OffsetDateTime) -> StoreResult<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO events (kind, project_id, channel_id, message_id, seq, user_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(e.kind.as_str())
        .bind(e.project_id.as_uuid())
        .bind(e.channel_id.as_uuid())
        .bind(e.message_id.map(|m| m.as_uuid()))
        .bind(e.seq)
        .bind(e.user_id.map(|u| u.as_uuid()))
        .bind(at)
        .fetch_one(self.conn())
        .await
        .map_err(db_error)?;
        // Delivered to listeners only when this transaction commits.
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(NOTIFY_CHANNEL)
            .bind(id.to_string())
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        Ok(id)
    }

    async fn events_after(&mut self, after: i64, limit: u32) -> StoreResult<Vec<Event>> {
        let rows: Vec<EventRow> = sqlx::query_as(
            "SELECT id, kind, project_id, channel_id, message_id, seq, user_id FROM events \
             WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        rows.into_iter().map(event).collect()
    }

    async fn latest_event_id(&mut self) -> StoreResult<i64> {
        let id: Option<i64> = sqlx::query_scalar("SELECT max(id) FROM events")
            .fetch_one(self.conn())
            .await
            .map_err(db_error)?;
        Ok(id.unwrap_or(0))
    }
}

/// A LISTEN connection. sqlx reconnects it by itself; notifications sent while it was away are
/// lost, which is why a wake only prompts the consumer to re-read the events table.
pub(crate) struct PgWaker(pub(crate) PgListener);

#[async_trait]
impl EventWaker for PgWaker {
    async fn wait(&mut self) -> StoreResult<()> {
        self.0.recv().await.map(|_| ()).map_err(db_error)
    }
}
