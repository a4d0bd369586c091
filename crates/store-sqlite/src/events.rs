//! Live-update events.

use async_trait::async_trait;
use domain::events::{Event, EventKind, NewEvent};
use store::{EventRepo, StoreResult};
use time::OffsetDateTime;

use crate::SqliteTx;
use crate::convert::{corrupt, db_error, id, micros, uuid_text};

/// id, kind, project_id, channel_id, message_id, seq, user_id.
type EventRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    i64,
    Option<String>,
);

fn event((event_id, kind, project, channel, message, seq, user): EventRow) -> StoreResult<Event> {
    Ok(Event {
        id: event_id,
        event: NewEvent {
            kind: kind
                .parse::<EventKind>()
                .map_err(|e| corrupt("events.kind", &kind, e))?,
            project_id: id("events.project_id", &project)?,
            channel_id: id("events.channel_id", &channel)?,
            message_id: message.map(|m| id("events.message_id", &m)).transpose()?,
            seq,
            user_id: user.map(|u| id("events.user_id", &u)).transpose()?,
        },
    })
}

#[async_trait]
impl EventRepo for SqliteTx {
    async fn append_event(&mut self, e: &NewEvent, at: OffsetDateTime) -> StoreResult<i64> {
        sqlx::query_scalar(
            "INSERT INTO events (kind, project_id, channel_id, message_id, seq, user_id, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(e.kind.as_str())
        .bind(uuid_text(e.project_id))
        .bind(uuid_text(e.channel_id))
        .bind(e.message_id.map(uuid_text))
        .bind(e.seq)
        .bind(e.user_id.map(uuid_text))
        .bind(micros(at))
        .fetch_one(self.conn())
        .await
        .map_err(db_error)
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
