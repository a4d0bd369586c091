//! The outbox worker: plans due notifications into e-mails, delivers pending e-mails, and
//! shows the bell. See the module above for the rounds.

use super::render::{MailItem, MailSection, render};
use super::transport::Outgoing;
use super::{Bell, BellEntry};
use crate::auth::Authenticated;
use crate::channels::AuthorView;
use crate::{App, AppError, AppResult};
use domain::email::{Pending, Planned};
use domain::notify::NotifyReason;
use domain::{
    Action, Assignment, Channel, ChannelId, ChannelKind, EmailId, Message, MessageId, OrgId,
    ProjectId, Resource, Subject, UserId, authorize,
};
use futures::StreamExt;
use std::collections::{BTreeMap, HashMap};
use store::{EmailRecord, EmailState, MessageKey, Tx, UserWithOrg};
use time::OffsetDateTime;

/// What one delivery round did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    /// Attempts that failed (retried later or failed for good).
    pub failed: usize,
}

/// Reads shared by everyone planned in one transaction (a broadcast to 5,000 followers is
/// one message, one channel and one project, loaded once).
#[derive(Default)]
struct Lookup {
    channels: HashMap<ChannelId, Option<(Channel, Vec<Assignment>)>>,
    projects: HashMap<ProjectId, String>,
    messages: HashMap<MessageId, Option<Message>>,
    users: HashMap<UserId, Option<UserWithOrg>>,
    orgs: HashMap<OrgId, String>,
    files: HashMap<MessageId, Vec<String>>,
}

impl Lookup {
    async fn channel(
        &mut self,
        tx: &mut Box<dyn Tx>,
        id: ChannelId,
    ) -> AppResult<Option<(Channel, Vec<Assignment>)>> {
        if let Some(c) = self.channels.get(&id) {
            return Ok(c.clone());
        }
        let found = match tx.get_channel(id).await? {
            Some(c) => tx.project_assignments(c.project_id).await?.map(|a| (c, a)),
            None => None,
        };
        self.channels.insert(id, found.clone());
        Ok(found)
    }

    async fn project(&mut self, tx: &mut Box<dyn Tx>, id: ProjectId) -> AppResult<String> {
        if let Some(p) = self.projects.get(&id) {
            return Ok(p.clone());
        }
        let name = tx
            .project_summaries(&[id])
            .await?
            .into_iter()
            .next()
            .map(|p| p.name.to_string())
            .unwrap_or_else(|| "A project".into());
        self.projects.insert(id, name.clone());
        Ok(name)
    }

    async fn message(&mut self, tx: &mut Box<dyn Tx>, id: MessageId) -> AppResult<Option<Message>> {
        if let Some(m) = self.messages.get(&id) {
            return Ok(m.clone());
        }
        let m = tx.get_message(id).await?;
        self.messages.insert(id, m.clone());
        Ok(m)
    }

    async fn user(&mut self, tx: &mut Box<dyn Tx>, id: UserId) -> AppResult<Option<UserWithOrg>> {
        if let Some(u) = self.users.get(&id) {
            return Ok(u.clone());
        }
        let u = tx.get_user(id).await?;
        self.users.insert(id, u.clone());
        Ok(u)
    }

    async fn org_name(&mut self, tx: &mut Box<dyn Tx>, id: OrgId) -> AppResult<String> {
        if let Some(n) = self.orgs.get(&id) {
            return Ok(n.clone());
        }
        let n = crate::channels::partner_name(tx, id).await?;
        self.orgs.insert(id, n.clone());
        Ok(n)
    }

    async fn files(&mut self, tx: &mut Box<dyn Tx>, id: MessageId) -> AppResult<Vec<String>> {
        if let Some(f) = self.files.get(&id) {
            return Ok(f.clone());
        }
        let f: Vec<String> = tx
            .attachments_of(&[id])
            .await?
            .into_iter()
            .map(|a| format!("{} ({})", a.name, domain::attachments::human_size(a.size)))
            .collect();
        self.files.insert(id, f.clone());
        Ok(f)
    }

    /// A channel's name as `reader` sees it (`channels::channel_label`).
    async fn channel_label(
        &mut self,
        tx: &mut Box<dyn Tx>,
        reader: &Subject,
        channel: &Channel,
        assignments: &[Assignment],
    ) -> AppResult<String> {
        let partner = match &channel.kind {
            ChannelKind::Vendor(_, partner) if reader.is_studio() => {
                self.org_name(tx, *partner).await?
            }
            _ => String::new(),
        };
        Ok(crate::channels::channel_label(
            reader,
            &channel.kind,
            assignments,
            &partner,
        ))
    }

    /// Who wrote a message, as `reader` may see them (`channels::author_view`).
    async fn author(
        &mut self,
        tx: &mut Box<dyn Tx>,
        reader: &Subject,
        m: &Message,
    ) -> AppResult<AuthorView> {
        let user = match m.author {
            Some(id) => self.user(tx, id).await?,
            None => None,
        };
        Ok(crate::channels::author_view(
            reader,
            m.author,
            user.as_ref(),
        ))
    }
}

/// "Ana Ruiz (Studio)", or the bare name when there is no badge to show.
fn byline(a: &AuthorView) -> String {
    if a.badge.is_empty() {
        a.name.clone()
    } else {
        format!("{} ({})", a.name, a.badge)
    }
}

fn may_read(reader: &Subject, channel: &Channel, assignments: &[Assignment]) -> bool {
    authorize(
        Some(reader),
        Action::ReadChannel,
        Resource::Channel {
            kind: &channel.kind,
            assignments,
        },
    )
    .is_allowed()
}

fn posted(t: OffsetDateTime) -> String {
    let f =
        time::macros::format_description!("[day] [month repr:short] [year], [hour]:[minute] UTC");
    t.to_offset(time::UtcOffset::UTC)
        .format(&f)
        .unwrap_or_else(|_| t.to_string())
}

/// The same-site link to a message.
pub(crate) fn message_path(channel: ChannelId, seq: i64) -> String {
    format!("/channels/{channel}?at={seq}#m{seq}")
}

/// Mail workers of one instance: `run` loops until told to stop; tests call the rounds.
pub struct MailWorker;

impl MailWorker {
    /// Plans and delivers until `stop` turns true, waking every `poll` or when woken.
    pub async fn run(app: App, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                break;
            }
            if let Err(e) = app.plan_due_emails().await {
                tracing::warn!(error = %e, "planning e-mails failed; trying again shortly");
            }
            if let Err(e) = app.deliver_due_emails().await {
                tracing::warn!(error = %e, "delivering e-mails failed; trying again shortly");
            }
            tokio::select! {
                _ = tokio::time::sleep(app.config.mail.poll) => {}
                _ = app.mail_wake.notified() => {}
                _ = stop.changed() => {}
            }
        }
    }
}

impl App {
    /// Turns due notifications into outbox e-mails. Returns how many e-mails were written.
    pub async fn plan_due_emails(&self) -> AppResult<usize> {
        let batch = self.config.mail.batch.max(1);
        let mut written = 0;
        // Bounded, so one call always ends even if another instance keeps the same people.
        for _ in 0..1000 {
            let now = self.now();
            let users = {
                let mut tx = self.store.read().await?;
                tx.users_with_due_notifications(now, batch).await?
            };
            if users.is_empty() {
                break;
            }
            let mut tx = self.store.begin().await?;
            let mut lookup = Lookup::default();
            let mut planned_someone = false;
            for user in &users {
                if !tx.lock_recipient(*user).await? {
                    continue;
                }
                planned_someone = true;
                written += self.plan_user(&mut tx, &mut lookup, *user, now).await?;
            }
            tx.commit().await?;
            if !planned_someone || users.len() < batch as usize {
                break;
            }
        }
        Ok(written)
    }

    async fn plan_user(
        &self,
        tx: &mut Box<dyn Tx>,
        lookup: &mut Lookup,
        user: UserId,
        now: OffsetDateTime,
    ) -> AppResult<usize> {
        let pending = tx.pending_notifications(user).await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let all: Vec<MessageId> = pending.iter().map(|p| p.message_id).collect();
        let recipient = match lookup.user(tx, user).await? {
            Some(u) if !u.user.disabled => u,
            // A disabled or removed account is e-mailed nothing.
            _ => {
                tx.settle_notifications(user, &all, None, now).await?;
                return Ok(0);
            }
        };
        let reader = crate::auth::subject_of(&recipient);
        let prefs = super::prefs_of(tx, user).await?;
        let mut channels: Vec<ChannelId> = pending.iter().map(|p| p.channel_id).collect();
        channels.sort();
        channels.dedup();
        let read: BTreeMap<ChannelId, i64> = tx
            .unread(user, &channels)
            .await?
            .into_iter()
            .map(|u| (u.channel_id, u.last_read_seq))
            .collect();
        let mut gone: Vec<MessageId> = Vec::new();
        let mut notes: Vec<Pending> = Vec::new();
        for p in pending {
            let readable = match lookup.channel(tx, p.channel_id).await? {
                Some((c, a)) => may_read(&reader, &c, &a),
                None => false,
            };
            let message = lookup.message(tx, p.message_id).await?;
            // The policy is asked again now: access may have ended since the message was posted.
            let live = message.filter(|m| readable && m.deleted_at.is_none());
            let Some(m) = live else {
                gone.push(p.message_id);
                continue;
            };
            notes.push(Pending {
                user_id: user,
                message_id: p.message_id,
                project_id: p.project_id,
                channel_id: p.channel_id,
                reason: p.reason,
                created_at: p.created_at,
                due_at: p.due_at,
                read: read.get(&p.channel_id).is_some_and(|r| *r >= m.seq),
                urgent: p.reason == NotifyReason::Mention && prefs.mentions_immediately,
            });
        }
        let plan = domain::email::plan(prefs.frequency, notes, now);
        gone.extend(plan.dropped);
        tx.settle_notifications(user, &gone, None, now).await?;
        let mut written = 0;
        for e in plan.emails {
            let record = self
                .compose(tx, lookup, &recipient, &reader, &e, now)
                .await?;
            tx.insert_email(&record).await?;
            let covered: Vec<MessageId> = e.notes.iter().map(|n| n.message_id).collect();
            tx.settle_notifications(user, &covered, Some(record.id), now)
                .await?;
            written += 1;
        }
        Ok(written)
    }

    #[allow(clippy::too_many_arguments)]
    async fn compose(
        &self,
        tx: &mut Box<dyn Tx>,
        lookup: &mut Lookup,
        recipient: &UserWithOrg,
        reader: &Subject,
        planned: &Planned,
        now: OffsetDateTime,
    ) -> AppResult<EmailRecord> {
        let base = &self.config.mail.public_url;
        let mut sections: Vec<(ChannelId, MailSection)> = Vec::new();
        let mut projects: Vec<String> = Vec::new();
        let mut mentioned = false;
        for n in &planned.notes {
            let Some((channel, assignments)) = lookup.channel(tx, n.channel_id).await? else {
                continue;
            };
            let Some(m) = lookup.message(tx, n.message_id).await? else {
                continue;
            };
            let author = lookup.author(tx, reader, &m).await?;
            let item = MailItem {
                author: byline(&author),
                author_name: author.name,
                posted: posted(m.created_at),
                text: m.body.clone(),
                files: lookup.files(tx, m.id).await?,
                link: format!("{base}{}", message_path(channel.id, m.seq)),
                mention: n.reason == NotifyReason::Mention,
            };
            mentioned |= item.mention;
            match sections.iter_mut().find(|(c, _)| *c == channel.id) {
                Some((_, s)) => s.items.push(item),
                None => {
                    let project = lookup.project(tx, channel.project_id).await?;
                    if !projects.contains(&project) {
                        projects.push(project.clone());
                    }
                    let label = lookup
                        .channel_label(tx, reader, &channel, &assignments)
                        .await?;
                    sections.push((
                        channel.id,
                        MailSection {
                            project,
                            channel: label,
                            items: vec![item],
                        },
                    ));
                }
            }
        }
        let sections: Vec<MailSection> = sections.into_iter().map(|(_, s)| s).collect();
        let why = match (mentioned, projects.as_slice()) {
            (true, _) if planned.notes.len() == 1 => {
                "You get this e-mail because you were mentioned.".to_string()
            }
            (_, [one]) => {
                format!("You get this e-mail because you follow {one} or were mentioned in it.")
            }
            _ => "You get this e-mail because you follow these projects or were mentioned in them."
                .to_string(),
        };
        let rendered = render(
            &sections,
            planned.channel_id.is_none(),
            &why,
            &format!("{base}/settings/app#email"),
        )
        .map_err(|e| AppError::Internal(format!("rendering an e-mail: {e}")))?;
        Ok(EmailRecord {
            id: EmailId::new(),
            user_id: recipient.user.id,
            to_address: recipient.user.email.to_string(),
            subject: rendered.subject,
            body_text: rendered.text,
            body_html: rendered.html,
            channel_id: planned.channel_id,
            message_count: u32::try_from(planned.notes.len()).unwrap_or(u32::MAX),
            state: EmailState::Pending,
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            created_at: now,
            sent_at: None,
        })
    }

    /// Delivers pending e-mails that are due, until none is left. An e-mail is marked sent
    /// only after the transport accepted it; a failure is retried with backoff.
    pub async fn deliver_due_emails(&self) -> AppResult<DeliveryReport> {
        let cfg = &self.config.mail;
        let host = cfg.host();
        let mut report = DeliveryReport::default();
        for _ in 0..10_000 {
            let now = self.now();
            let claimed = {
                let mut tx = self.store.begin().await?;
                let c = tx
                    .claim_due_emails(now, now + cfg.lease, cfg.batch.max(1))
                    .await?;
                tx.commit().await?;
                c
            };
            if claimed.is_empty() {
                break;
            }
            let send_timeout = cfg.send_timeout;
            let mut sends = futures::stream::iter(claimed.into_iter().map(|email| {
                let mailer = self.mailer.clone();
                let from = cfg.from.clone();
                let host = host.clone();
                async move {
                    let outgoing = Outgoing {
                        email: &email,
                        from: &from,
                        host: &host,
                    };
                    // The transport's own timeout does not cover every reply: a server that
                    // stops answering must not hold the e-mail (and its lease) forever.
                    let result =
                        match tokio::time::timeout(send_timeout, mailer.send(&outgoing)).await {
                            Ok(r) => r,
                            Err(_) => Err(super::SendError {
                                message: format!(
                                    "the mail server did not answer within {} seconds",
                                    send_timeout.as_secs()
                                ),
                                permanent: false,
                            }),
                        };
                    (email, result)
                }
            }))
            .buffer_unordered(cfg.concurrency.max(1));
            while let Some((email, result)) = sends.next().await {
                let mut tx = self.store.begin().await?;
                match result {
                    Ok(()) => {
                        tx.email_sent(email.id, self.now()).await?;
                        report.sent += 1;
                    }
                    Err(e) => {
                        let retry = cfg.retry_at(self.now(), email.attempts, e.permanent);
                        tracing::warn!(email = %email.id, attempt = email.attempts, retry = ?retry, error = %e, "an e-mail was not accepted");
                        tx.email_attempt_failed(email.id, &e.message, retry).await?;
                        report.failed += 1;
                    }
                }
                tx.commit().await?;
            }
        }
        Ok(report)
    }

    /// The bell: mentions and e-mailed messages the person may still read, newest first, one
    /// page of at most `limit` after the key `after`. An entry the person may no longer read is
    /// left out of the page, which may then be shorter than `limit` while `next` still
    /// continues the list. `unread` counts every unread entry they may read (up to 1000).
    pub async fn bell(
        &self,
        who: &Authenticated,
        after: Option<MessageKey>,
        limit: u32,
    ) -> AppResult<Bell> {
        crate::auth::require(who, Action::UsePortal)?;
        let mut tx = self.store.read().await?;
        let mut lookup = Lookup::default();
        let mut bell = Bell::default();
        for item in tx.bell(who.user.id, true, None, 1000).await?.items {
            if let Some((c, a)) = lookup.channel(&mut tx, item.channel_id).await?
                && may_read(&who.subject, &c, &a)
            {
                bell.unread += 1;
            }
        }
        let page = tx
            .bell(who.user.id, false, after.as_ref(), limit.clamp(1, 200))
            .await?;
        bell.next = page.next;
        for item in page.items {
            let Some((channel, assignments)) = lookup.channel(&mut tx, item.channel_id).await?
            else {
                continue;
            };
            if !may_read(&who.subject, &channel, &assignments) {
                continue;
            }
            let Some(m) = lookup.message(&mut tx, item.message_id).await? else {
                continue;
            };
            let author = byline(&lookup.author(&mut tx, &who.subject, &m).await?);
            bell.entries.push(BellEntry {
                project: lookup.project(&mut tx, item.project_id).await?,
                channel: lookup
                    .channel_label(&mut tx, &who.subject, &channel, &assignments)
                    .await?,
                author,
                excerpt: super::render::excerpt(&m.body, 120),
                link: message_path(channel.id, item.seq),
                mention: item.reason == NotifyReason::Mention,
                read: item.read,
                created_at: item.created_at,
            });
        }
        Ok(bell)
    }
}
