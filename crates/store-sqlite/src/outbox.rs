//! The e-mail outbox. SQLite serialises writers (one write connection, `BEGIN IMMEDIATE`), so a
//! person's notifications and an e-mail's claim are never contended here.

use async_trait::async_trait;
use domain::email::{EmailPrefs, Frequency};
use domain::{EmailId, MessageId, ProjectId, UserId};
use sqlx::{QueryBuilder, Sqlite};
use store::columns::{email_state, notify_reason};
use store::page::fetch_limit;
use store::{
    BellItem, EmailCounts, EmailKey, EmailRecord, EmailState, MessageKey, OutboxRepo, Page,
    PendingNotification, RecipientFacts, StoreResult,
};
use time::OffsetDateTime;

use crate::SqliteTx;
use crate::convert::{corrupt, db_error, id, micros, number, opt_timestamp, timestamp, uuid_text};
use crate::projects::json_ids;

macro_rules! email_columns {
    () => {
        "id, user_id, to_address, subject, body_text, body_html, channel_id, message_count, \
         state, attempts, next_attempt_at, last_error, created_at, sent_at"
    };
}

type EmailRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    i64,
    String,
    i64,
    i64,
    Option<String>,
    i64,
    Option<i64>,
);

fn email(row: EmailRow) -> StoreResult<EmailRecord> {
    let (
        id_s,
        user,
        to_address,
        subject,
        body_text,
        body_html,
        channel,
        message_count,
        state_s,
        attempts,
        next,
        last_error,
        created,
        sent,
    ) = row;
    Ok(EmailRecord {
        id: id("emails.id", &id_s)?,
        user_id: id("emails.user_id", &user)?,
        to_address,
        subject,
        body_text,
        body_html,
        channel_id: channel.map(|c| id("emails.channel_id", &c)).transpose()?,
        message_count: number("emails.message_count", message_count)?,
        state: email_state(&state_s)?,
        attempts: number("emails.attempts", attempts)?,
        next_attempt_at: timestamp("emails.next_attempt_at", next)?,
        last_error,
        created_at: timestamp("emails.created_at", created)?,
        sent_at: opt_timestamp("emails.sent_at", sent)?,
    })
}

/// user id, org id, org kind, roles, disabled, internal messages, work languages, follows,
/// frequency, mentions immediately, muted.
type FactsRow = (
    String,
    String,
    String,
    String,
    i64,
    i64,
    Option<String>,
    i64,
    Option<String>,
    Option<i64>,
    i64,
);

#[async_trait]
impl OutboxRepo for SqliteTx {
    async fn recipient_facts(
        &mut self,
        project_id: ProjectId,
        also: &[UserId],
    ) -> StoreResult<Vec<RecipientFacts>> {
        // One JSON array instead of thousands of rows: the driver hands rows over one at a
        // time, which for a large project cost more than the query itself.
        let json: Option<String> = sqlx::query_scalar(
            "SELECT json_group_array(json_array(u.id, u.org_id, o.kind, u.roles, u.disabled, \
                    u.internal_messages, u.work_languages, f.user_id IS NOT NULL, s.frequency, \
                    s.mentions_immediately, m.user_id IS NOT NULL)) \
             FROM users u JOIN organisations o ON o.id = u.org_id \
             LEFT JOIN follows f ON f.user_id = u.id AND f.project_id = $1 \
             LEFT JOIN email_settings s ON s.user_id = u.id \
             LEFT JOIN project_mutes m ON m.user_id = u.id AND m.project_id = $1 \
             WHERE u.id IN (SELECT user_id FROM follows WHERE project_id = $1) \
                OR u.id IN (SELECT value FROM json_each($2))",
        )
        .bind(uuid_text(project_id))
        .bind(json_ids(also.iter().map(|u| uuid_text(*u))))
        .fetch_one(self.conn())
        .await
        .map_err(db_error)?;
        let json = json.unwrap_or_else(|| "[]".into());
        let rows: Vec<FactsRow> = serde_json::from_str(&json).map_err(|e| {
            corrupt(
                "recipient facts",
                json.chars().take(80).collect::<String>(),
                e,
            )
        })?;
        rows.into_iter()
            .map(
                |(u, o, kind, r, disabled, internal, langs, follows, freq, mentions, muted)| {
                    store::columns::recipient_facts(store::columns::FactsColumns {
                        user_id: id("users.id", &u)?,
                        org_id: id("users.org_id", &o)?,
                        org_kind: kind,
                        roles: r,
                        disabled: disabled != 0,
                        internal_messages: internal != 0,
                        work_languages: langs,
                        follows: follows != 0,
                        frequency: freq,
                        mentions_immediately: mentions.map(|m| m != 0),
                        muted: muted != 0,
                    })
                },
            )
            .collect()
    }

    async fn email_prefs(&mut self, users: &[UserId]) -> StoreResult<Vec<(UserId, EmailPrefs)>> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let rows: Vec<(String, String, i64)> = sqlx::query_as(
            "SELECT user_id, frequency, mentions_immediately FROM email_settings \
             WHERE user_id IN (SELECT value FROM json_each($1))",
        )
        .bind(json_ids(users.iter().map(|u| uuid_text(*u))))
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        rows.into_iter()
            .map(|(u, f, m)| {
                Ok((
                    id("email_settings.user_id", &u)?,
                    EmailPrefs {
                        frequency: Frequency::parse(&f)
                            .map_err(|e| corrupt("email_settings.frequency", &f, e))?,
                        mentions_immediately: m != 0,
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
        .bind(uuid_text(user))
        .bind(prefs.frequency.as_str())
        .bind(i64::from(prefs.mentions_immediately))
        .execute(self.conn())
        .await
        .map_err(db_error)?;
        Ok(())
    }

    async fn muted_projects(&mut self, user: UserId) -> StoreResult<Vec<ProjectId>> {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT project_id FROM project_mutes WHERE user_id = $1")
                .bind(uuid_text(user))
                .fetch_all(self.conn())
                .await
                .map_err(db_error)?;
        rows.iter()
            .map(|s| id("project_mutes.project_id", s))
            .collect()
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
            .bind(uuid_text(user))
            .bind(uuid_text(project_id))
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
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT n.user_id FROM notifications n JOIN messages m ON m.id = n.message_id \
             WHERE n.settled_at IS NULL AND n.due_at IS NOT NULL AND n.due_at <= $1 \
             GROUP BY n.user_id ORDER BY min(n.due_at) LIMIT $2",
        )
        .bind(micros(now))
        .bind(i64::from(limit))
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        rows.iter()
            .map(|s| id("notifications.user_id", s))
            .collect()
    }

    async fn lock_recipient(&mut self, _user: UserId) -> StoreResult<bool> {
        Ok(true)
    }

    async fn pending_notifications(
        &mut self,
        user: UserId,
    ) -> StoreResult<Vec<PendingNotification>> {
        let rows: Vec<(String, String, String, String, i64, i64)> = sqlx::query_as(
            "SELECT n.message_id, m.channel_id, c.project_id, n.reason, m.created_at, n.due_at \
             FROM notifications n JOIN messages m ON m.id = n.message_id \
             JOIN channels c ON c.id = m.channel_id \
             WHERE n.user_id = $1 AND n.settled_at IS NULL AND n.due_at IS NOT NULL \
             ORDER BY m.created_at, n.message_id",
        )
        .bind(uuid_text(user))
        .fetch_all(self.conn())
        .await
        .map_err(db_error)?;
        rows.into_iter()
            .map(|(m, c, p, r, created, due)| {
                Ok(PendingNotification {
                    user_id: user,
                    message_id: id("notifications.message_id", &m)?,
                    channel_id: id("messages.channel_id", &c)?,
                    project_id: id("channels.project_id", &p)?,
                    reason: notify_reason(&r)?,
                    created_at: timestamp("messages.created_at", created)?,
                    due_at: timestamp("notifications.due_at", due)?,
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
        .bind(uuid_text(user))
        .bind(uuid_text(message_id))
        .bind(due_at.map(micros))
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
        sqlx::query(
            "UPDATE notifications SET settled_at = $2, email_id = $3 \
             WHERE user_id = $1 AND settled_at IS NULL \
             AND message_id IN (SELECT value FROM json_each($4))",
        )
        .bind(uuid_text(user))
        .bind(micros(at))
        .bind(email.map(uuid_text))
        .bind(json_ids(messages.iter().map(|m| uuid_text(*m))))
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
        .bind(uuid_text(e.id))
        .bind(uuid_text(e.user_id))
        .bind(&e.to_address)
        .bind(&e.subject)
        .bind(&e.body_text)
        .bind(&e.body_html)
        .bind(e.channel_id.map(uuid_text))
        .bind(i64::from(e.message_count))
        .bind(e.state.as_str())
        .bind(i64::from(e.attempts))
        .bind(micros(e.next_attempt_at))
        .bind(&e.last_error)
        .bind(micros(e.created_at))
        .bind(e.sent_at.map(micros))
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
                          ORDER BY next_attempt_at, id LIMIT $3) \
             RETURNING ",
            email_columns!(),
            ""
        ))
        .bind(micros(now))
        .bind(micros(lease_until))
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
        .bind(uuid_text(id))
        .bind(micros(at))
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
             state = CASE WHEN $3 IS NULL THEN 'failed' ELSE 'pending' END, \
             next_attempt_at = coalesce($3, next_attempt_at) \
             WHERE id = $1 AND state = 'pending'",
        )
        .bind(uuid_text(id))
        .bind(error)
        .bind(retry_at.map(micros))
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
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(concat!(
            "SELECT ",
            email_columns!(),
            " FROM emails WHERE 1 = 1"
        ));
        if let Some(state) = state_filter {
            q.push(" AND state = ");
            q.push_bind(state.as_str());
        }
        if let Some(key) = after {
            q.push(" AND (created_at, id) < (");
            q.push_bind(micros(key.created_at));
            q.push(", ");
            q.push_bind(uuid_text(key.id));
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
        .bind(uuid_text(email_id))
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
        .bind(uuid_text(email_id))
        .bind(micros(now))
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
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT n.message_id, m.channel_id, c.project_id, m.seq, n.reason, m.created_at, \
                    coalesce(r.last_read_seq, 0) >= m.seq AS seen \
             FROM notifications n JOIN messages m ON m.id = n.message_id \
             JOIN channels c ON c.id = m.channel_id \
             LEFT JOIN channel_reads r ON r.user_id = n.user_id AND r.channel_id = m.channel_id \
             WHERE m.deleted_at IS NULL AND (n.reason = 'mention' OR n.email_id IS NOT NULL) \
               AND n.user_id = ",
        );
        q.push_bind(uuid_text(user));
        if unread_only {
            q.push(" AND coalesce(r.last_read_seq, 0) < m.seq");
        }
        if let Some(key) = after {
            q.push(" AND (m.created_at, n.message_id) < (");
            q.push_bind(micros(key.created_at));
            q.push(", ");
            q.push_bind(uuid_text(key.id));
            q.push(")");
        }
        q.push(" ORDER BY m.created_at DESC, n.message_id DESC LIMIT ");
        q.push_bind(fetch_limit(limit));
        let rows: Vec<(String, String, String, i64, String, i64, i64)> = q
            .build_query_as()
            .fetch_all(self.conn())
            .await
            .map_err(db_error)?;
        let items = rows
            .into_iter()
            .map(|(m, c, p, seq, r, created, seen)| {
                Ok(BellItem {
                    message_id: id("notifications.message_id", &m)?,
                    channel_id: id("messages.channel_id", &c)?,
                    project_id: id("channels.project_id", &p)?,
                    seq,
                    reason: notify_reason(&r)?,
                    created_at: timestamp("messages.created_at", created)?,
                    read: seen != 0,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Page::from_rows(items, limit, |b| MessageKey {
            created_at: b.created_at,
            id: b.message_id,
        }))
    }
}
