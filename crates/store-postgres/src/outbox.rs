//! The e-mail outbox. Several instances may share the database: a person's notifications are
//! planned under a transaction-scoped advisory lock, and e-mails are claimed with
//! `FOR UPDATE SKIP LOCKED`, so two instances never take the same row.

use async_trait::async_trait;
use domain::email::{EmailPrefs, Frequency};
use domain::{EmailId, MessageId, ProjectId, UserId};
use sqlx::{Postgres, QueryBuilder};
use store::columns::{email_state, notify_reason};
use store::page::fetch_limit;
use store::{
    BellItem, EmailCounts, EmailKey, EmailRecord, EmailState, MessageKey, OutboxRepo, Page,
    PendingNotification, RecipientFacts, StoreResult,
};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::PgTx;
use crate::convert::{at as stored, corrupt, db_error, number};

macro_rules! email_columns {
    () => {
        "id, user_id, to_address, subject, body_text, body_html, channel_id, message_count, \
         state, attempts, next_attempt_at, last_error, created_at, sent_at"
    };
}

type EmailRow = (
    Uuid,
    Uuid,
    String,
    String,
    String,
    String,
    Option<Uuid>,
    i32,
    String,
    i32,
    OffsetDateTime,
    Option<String>,
    OffsetDateTime,
    Option<OffsetDateTime>,
);

fn email(row: EmailRow) -> StoreResult<EmailRecord> {
    let (
        id,
        user,
        to_address,
        subject,
        body_text,
        body_html,
        channel,
        message_count,
        state_s,
        attempts,
        next_attempt_at,
        last_error,
        created_at,
        sent_at,
    ) = row;
    Ok(EmailRecord {
        id: id.into(),
        user_id: user.into(),
        to_address,
        subject,
        body_text,
        body_html,
        channel_id: channel.map(Into::into),
        message_count: number("emails.message_count", i64::from(message_count))?,
        state: email_state(&state_s)?,
        attempts: number("emails.attempts", i64::from(attempts))?,
        next_attempt_at,
        last_error,
        created_at,
        sent_at,
    })
}

fn int(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// user id, org id, org kind, roles, disabled, internal messages, work languages, follows,
/// frequency, mentions immediately, muted.
type FactsRow = (
    Uuid,
    Uuid,
    String,
    String,
    bool,
    bool,
    Option<String>,
    bool,
    Option<String>,
    Option<bool>,
    bool,
);

#[async_trait]
impl OutboxRepo for PgTx {
    async fn recipient_facts(
        &mut self,
        project_id: ProjectId,
        also: &[UserId],
    ) -> StoreResult<Vec<RecipientFacts>> {
        let also: Vec<Uuid> = also.iter().map(|u| u.as_uuid()).collect();
        let rows: Vec<FactsRow> = sqlx::query_as(
            "SELECT u.id, u.org_id, o.kind, u.roles, u.disabled, u.internal_messages, \
                    u.work_languages, f.user_id IS NOT NULL, s.frequency, s.mentions_immediately, \
                    m.user_id IS NOT NULL \
             FROM users u JOIN organisations o ON o.id = u.org_id \
             LEFT JOIN follows f ON f.user_id = u.id AND f.project_id = $1 \
             LEFT JOIN email_settings s ON s.user_id = u.id \
             LEFT JOIN project_mutes m ON m.user_id = u.id AND m.project_id = $1 \
             WHERE u.id IN (SELECT user_id FROM follows WHERE project_id = $1) \
                OR u.id = ANY($2)",
        )
        .bind(project_id.as_uuid())
        .bind(also)
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        rows.into_iter()
            .map(
                |(u, o, kind, r, disabled, internal, langs, follows, freq, mentions, muted)| {
                    store::columns::recipient_facts(store::columns::FactsColumns {
                        user_id: u.into(),
                        org_id: o.into(),
                        org_kind: kind,
                        roles: r,
                        disabled,
                        internal_messages: internal,
                        work_languages: langs,
                        follows,
                        frequency: freq,
                        mentions_immediately: mentions,
                        muted,
                    })
                },
            )
            .collect()
    }

    async fn email_prefs(&mut self, users: &[UserId]) -> StoreResult<Vec<(UserId, EmailPrefs)>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = users.iter().map(|u| u.as_uuid()).collect();
        let rows: Vec<(Uuid, String, bool)> = sqlx::query_as(
            "SELECT user_id, frequency, mentions_immediately FROM email_settings \
             WHERE user_id = ANY($1)",
        )
        .bind(ids)
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        rows.into_iter()
            .map(|(u, f, m)| {
                Ok((
                    u.into(),
                    EmailPrefs {
                        frequency: Frequency::parse(&f)
                            .map_err(|e| corrupt("email_settings.frequency", &f, e))?,
                        mentions_immediately: m,
                    },
                ))
            })
            .collect()
    }

    async fn set_email_prefs(&mut self, user: UserId, prefs: &EmailPrefs) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO email_settings (user_id, frequency, mentions_immediately) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET frequency = excluded.frequency, \
             mentions_immediately = excluded.mentions_immediately",
        )
        .bind(user.as_uuid())
        .bind(prefs.frequency.as_str())
        .bind(prefs.mentions_immediately)
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn muted_projects(&mut self, user: UserId) -> StoreResult<Vec<ProjectId>> {
        let rows: Vec<Uuid> =
            sqlx::query_scalar("SELECT project_id FROM project_mutes WHERE user_id = $1")
                .bind(user.as_uuid())
                .fetch_all(self.conn())
                .await
                .map_err(db_error)?;
        Ok(rows.into_iter().map(ProjectId::from).collect())
    }

    async fn set_muted(
        &mut self,
        user: UserId,
        project_id: ProjectId,
        muted: bool,
    ) -> StoreResult<()> {
        let sql = if muted {
            "INSERT INTO project_mutes (user_id, project_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"
        } else {
            "DELETE FROM project_mutes WHERE user_id = $1 AND project_id = $2"
        };
        sqlx::query(sql)
            .bind(user.as_uuid())
            .bind(project_id.as_uuid())
            .execute(self.conn())
            .await
            .map_err(db_error)?;
        Ok(())
    }

    async fn users_with_due_notifications(
        &mut self,
        now: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<UserId>> {
        let rows: Vec<Uuid> = sqlx::query_scalar(
            "SELECT n.user_id FROM notifications n JOIN messages m ON m.id = n.message_id \
             WHERE n.settled_at IS NULL AND n.due_at IS NOT NULL AND n.due_at <= $1 \
             GROUP BY n.user_id ORDER BY min(n.due_at) LIMIT $2",
        )
        .bind(stored(now))
        .bind(i64::from(limit))
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        Ok(rows.into_iter().map(UserId::from).collect())
    }

    async fn lock_recipient(&mut self, user: UserId) -> StoreResult<bool> {
        // Held until the transaction ends; another instance planning the same person skips
        // them rather than waiting (they will be planned on a later round if anything is left).
        sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtextextended($1::text, 4))")
            .bind(user.as_uuid())
            .fetch_one(self.conn())
            .await
            .map_err(db_error)
    }

    async fn pending_notifications(
        &mut self,
        user: UserId,
    ) -> StoreResult<Vec<PendingNotification>> {
        let rows: Vec<(Uuid, Uuid, Uuid, String, OffsetDateTime, OffsetDateTime)> = sqlx::query_as(
            "SELECT n.message_id, m.channel_id, c.project_id, n.reason, m.created_at, n.due_at \
             FROM notifications n JOIN messages m ON m.id = n.message_id \
             JOIN channels c ON c.id = m.channel_id \
             WHERE n.user_id = $1 AND n.settled_at IS NULL AND n.due_at IS NOT NULL \
             ORDER BY m.created_at, n.message_id",
        )
        .bind(user.as_uuid())
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        rows.into_iter()
            .map(|(m, c, p, r, created_at, due_at)| {
                Ok(PendingNotification {
                    user_id: user,
                    message_id: m.into(),
                    channel_id: c.into(),
                    project_id: p.into(),
                    reason: notify_reason(&r)?,
                    created_at,
                    due_at,
                })
            })
            .collect()
    }

    async fn reschedule_notification(
        &mut self,
        user: UserId,
        message_id: MessageId,
        due_at: Option<OffsetDateTime>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE notifications SET due_at = $3 \
             WHERE user_id = $1 AND message_id = $2 AND settled_at IS NULL",
        )
        .bind(user.as_uuid())
        .bind(message_id.as_uuid())
        .bind(due_at.map(stored))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn settle_notifications(
        &mut self,
        user: UserId,
        messages: &[MessageId],
        email: Option<EmailId>,
        at: OffsetDateTime,
    ) -> StoreResult<()> {
        if messages.is_empty() {
            return Ok(());
        }
        let ids: Vec<Uuid> = messages.iter().map(|m| m.as_uuid()).collect();
        sqlx::query(
            "UPDATE notifications SET settled_at = $2, email_id = $3 \
             WHERE user_id = $1 AND settled_at IS NULL AND message_id = ANY($4)",
        )
        .bind(user.as_uuid())
        .bind(stored(at))
        .bind(email.map(|e| e.as_uuid()))
        .bind(ids)
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn insert_email(&mut self, e: &EmailRecord) -> StoreResult<()> {
        sqlx::query(concat!(
            "INSERT INTO emails (",
            email_columns!(),
            ") \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(e.id.as_uuid())
        .bind(e.user_id.as_uuid())
        .bind(&e.to_address)
        .bind(&e.subject)
        .bind(&e.body_text)
        .bind(&e.body_html)
        .bind(e.channel_id.map(|c| c.as_uuid()))
        .bind(int(e.message_count))
        .bind(e.state.as_str())
        .bind(int(e.attempts))
        .bind(stored(e.next_attempt_at))
        .bind(&e.last_error)
        .bind(stored(e.created_at))
        .bind(e.sent_at.map(stored))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn claim_due_emails(
        &mut self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> StoreResult<Vec<EmailRecord>> {
        let rows: Vec<EmailRow> = sqlx::query_as(concat!(
            "UPDATE emails SET attempts = attempts + 1, next_attempt_at = $2 \
             WHERE id IN (SELECT id FROM emails WHERE state = 'pending' AND next_attempt_at <= $1 \
                          ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) \
             RETURNING ",
            email_columns!(),
            ""
        ))
        .bind(stored(now))
        .bind(stored(lease_until))
        .bind(i64::from(limit))
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        let mut out = rows
            .into_iter()
            .map(email)
            .collect::<StoreResult<Vec<_>>>()?;
        out.sort_by_key(|e| (e.created_at, e.id));
        Ok(out)
    }

    async fn email_sent(&mut self, id: EmailId, at: OffsetDateTime) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE emails SET state = 'sent', sent_at = $2, last_error = NULL \
             WHERE id = $1 AND state = 'pending'",
        )
        .bind(id.as_uuid())
        .bind(stored(at))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn email_attempt_failed(
        &mut self,
        id: EmailId,
        error: &str,
        retry_at: Option<OffsetDateTime>,
    ) -> StoreResult<()> {
        sqlx::query(
            "UPDATE emails SET last_error = $2, \
             state = CASE WHEN $3::timestamptz IS NULL THEN 'failed' ELSE 'pending' END, \
             next_attempt_at = coalesce($3::timestamptz, next_attempt_at) \
             WHERE id = $1 AND state = 'pending'",
        )
        .bind(id.as_uuid())
        .bind(error)
        .bind(retry_at.map(stored))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn list_emails(
        &mut self,
        state_filter: Option<EmailState>,
        after: Option<&EmailKey>,
        limit: u32,
    ) -> StoreResult<Page<EmailRecord, EmailKey>> {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(concat!(
            "SELECT ",
            email_columns!(),
            " FROM emails WHERE true"
        ));
        if let Some(state) = state_filter {
            q.push(" AND state = ");
            q.push_bind(state.as_str());
        }
        if let Some(key) = after {
            q.push(" AND (created_at, id) < (");
            q.push_bind(stored(key.created_at));
            q.push(", ");
            q.push_bind(key.id.as_uuid());
            q.push(")");
        }
        q.push(" ORDER BY created_at DESC, id DESC LIMIT ");
        q.push_bind(fetch_limit(limit));
        let rows: Vec<EmailRow> = q
            .build_query_as()
            .fetch_all(self.conn())
            .await
            .map_err(db_error)?;
        let emails = rows
            .into_iter()
            .map(email)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_rows(emails, limit, |e| EmailKey {
            created_at: e.created_at,
            id: e.id,
        }))
    }

    async fn get_email(&mut self, email_id: EmailId) -> StoreResult<Option<EmailRecord>> {
        let row: Option<EmailRow> = sqlx::query_as(concat!(
            "SELECT ",
            email_columns!(),
            " FROM emails WHERE id = $1"
        ))
        .bind(email_id.as_uuid())
        .fetch_optional(self.conn())
        .await
        .map_err(db_error)?;
        row.map(email).transpose()
    }

    async fn retry_email(&mut self, email_id: EmailId, now: OffsetDateTime) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE emails SET state = 'pending', attempts = 0, next_attempt_at = $2 \
             WHERE id = $1 AND state = 'failed'",
        )
        .bind(email_id.as_uuid())
        .bind(stored(now))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn email_counts(&mut self) -> StoreResult<EmailCounts> {
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT state, count(*) FROM emails GROUP BY state")
                .fetch_all(self.conn())
                .await
                .map_err(db_error)?;
        store::columns::email_counts(rows)
    }

    async fn bell(
        &mut self,
        user: UserId,
        unread_only: bool,
        after: Option<&MessageKey>,
        limit: u32,
    ) -> StoreResult<Page<BellItem, MessageKey>> {
        let mut q: QueryBuilder<Postgres> = QueryBuilder::new(
            "SELECT n.message_id, m.channel_id, c.project_id, m.seq, n.reason, m.created_at, \
                    coalesce(r.last_read_seq, 0) >= m.seq AS seen \
             FROM notifications n JOIN messages m ON m.id = n.message_id \
             JOIN channels c ON c.id = m.channel_id \
             LEFT JOIN channel_reads r ON r.user_id = n.user_id AND r.channel_id = m.channel_id \
             WHERE m.deleted_at IS NULL AND (n.reason = 'mention' OR n.email_id IS NOT NULL) \
               AND n.user_id = ",
        );
        q.push_bind(user.as_uuid());
        if unread_only {
            q.push(" AND coalesce(r.last_read_seq, 0) < m.seq");
        }
        if let Some(key) = after {
            q.push(" AND (m.created_at, n.message_id) < (");
            q.push_bind(stored(key.created_at));
            q.push(", ");
            q.push_bind(key.id.as_uuid());
            q.push(")");
        }
        q.push(" ORDER BY m.created_at DESC, n.message_id DESC LIMIT ");
        q.push_bind(fetch_limit(limit));
        let rows: Vec<(Uuid, Uuid, Uuid, i64, String, OffsetDateTime, bool)> = q
            .build_query_as()
            .fetch_all(self.conn())
            .await
            .map_err(db_error)?;
        let items = rows
            .into_iter()
            .map(|(m, c, p, seq, r, created_at, seen)| {
                Ok(BellItem {
                    message_id: m.into(),
                    channel_id: c.into(),
                    project_id: p.into(),
                    seq,
                    reason: notify_reason(&r)?,
                    created_at,
                    read: seen,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_rows(items, limit, |b| MessageKey {
            created_at: b.created_at,
            id: b.message_id,
        }))
    }
}
