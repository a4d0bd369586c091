//! Conversations: the channels of a project a person may read, messages, unread counts, and the
//! App Settings that decide which channels one works in. Every read, post, edit and count goes
//! through the domain policy.

use crate::auth::Authenticated;
use crate::files::Staged;
use crate::{App, AppError, AppResult, FieldErrors};
use domain::attachments::{Attachment, AttachmentRefusal, MAX_PER_MESSAGE};
use domain::events::{EventKind, NewEvent};
use domain::policy::{MessageChangeRefusal, may_change_message};
use domain::{
    Action, Assignment, Channel, ChannelId, ChannelKind, ChannelPrefs, LanguageTag, Message,
    MessageBody, MessageId, OrgKind, ProjectId, Resource, UserId, WorkLanguages, authorize,
};
use std::collections::BTreeMap;
use store::Tx;

/// A channel in the list, as one reader sees it.
#[derive(Clone, Debug)]
pub struct ChannelRow {
    pub channel: Channel,
    pub label: String,
    pub unread: u32,
    pub first_unread_seq: Option<i64>,
    /// The reader's position: messages after it are new.
    pub last_read_seq: i64,
}

/// Who wrote a message, as a reader may see it.
#[derive(Clone, Debug)]
pub struct AuthorView {
    pub name: String,
    /// "Studio", the reader's own partner's name, or "Partner" — never another partner's name.
    pub badge: String,
    pub robot: bool,
}

#[derive(Clone, Debug)]
pub struct MessageView {
    pub message: Message,
    pub author: AuthorView,
    pub mine: bool,
    /// The author may still edit or delete it.
    pub changeable: bool,
    /// Its files, in the order they were attached.
    pub attachments: Vec<Attachment>,
}

/// An open channel: its messages and where the reader had stopped reading.
#[derive(Clone, Debug)]
pub struct ChannelPage {
    pub project_id: ProjectId,
    pub channels: Vec<ChannelRow>,
    pub channel: Channel,
    pub label: String,
    pub messages: Vec<MessageView>,
    /// The reader's read position before opening: messages after it are "new".
    pub read_before: i64,
    pub can_post: bool,
    /// Why the reader cannot post, when they cannot.
    pub read_only_reason: Option<String>,
    /// There are older messages than the first one shown.
    pub has_older: bool,
}

const PAGE: u32 = 50;

/// Records who is to be told about a new message (the outbox the e-mail issue delivers): the
/// project's followers and the mentioned users, filtered by `domain::notify::recipients`.
async fn record_notifications(
    tx: &mut Box<dyn Tx>,
    author: Option<&domain::Subject>,
    channel: &Channel,
    assignments: &[Assignment],
    message: &Message,
    mentioned: &[UserId],
    coalesce: time::Duration,
) -> AppResult<()> {
    // One read for everyone to be judged, however many follow the project.
    let facts: BTreeMap<UserId, store::RecipientFacts> = tx
        .recipient_facts(channel.project_id, mentioned)
        .await?
        .into_iter()
        .filter(|f| !f.disabled)
        .map(|f| (f.user_id, f))
        .collect();
    let candidates: Vec<domain::notify::Candidate> = facts
        .values()
        .map(|f| domain::notify::Candidate {
            subject: domain::Subject {
                user_id: f.user_id,
                org_id: f.org_id,
                org_kind: f.org_kind,
                roles: f.roles,
                prefs: f.prefs.clone(),
            },
            follows: f.follows,
            mentioned: mentioned.contains(&f.user_id),
        })
        .collect();
    let rows: Vec<store::NewNotification> =
        domain::notify::recipients(author, &channel.kind, assignments, &candidates)
            .into_iter()
            .map(|(user_id, reason)| {
                let f = facts.get(&user_id);
                store::NewNotification {
                    user_id,
                    reason,
                    due_at: domain::email::send_at(
                        message.created_at,
                        reason,
                        &f.and_then(|f| f.email).unwrap_or_default(),
                        f.is_some_and(|f| f.muted),
                        coalesce,
                    ),
                }
            })
            .collect();
    tx.insert_notifications(message.id, &rows, message.created_at)
        .await?;
    Ok(())
}

/// How an author's organisation is shown to `who`: "Studio", the partner's name where the
/// policy lets `who` see that organisation, and otherwise only "Partner".
pub(crate) fn org_badge(who: &domain::Subject, org: &domain::Organisation) -> String {
    if org.kind == OrgKind::Studio {
        return "Studio".into();
    }
    let visible = authorize(
        Some(who),
        Action::ViewOrganisation,
        Resource::Organisation {
            id: org.id,
            kind: org.kind,
        },
    )
    .is_allowed();
    if visible {
        org.name.to_string()
    } else {
        "Partner".into()
    }
}

/// Someone who can be mentioned in a channel (autocomplete).
#[derive(Clone, Debug)]
pub struct Mentionable {
    pub user_id: UserId,
    pub name: String,
    pub email: String,
    /// "Studio" or the person's partner organisation (which the reader can see: it is theirs,
    /// or the reader is the studio).
    pub badge: String,
}

/// Everyone who can read the channel now (the only people who may be mentioned in it), and
/// the people `who` may know of. Only the organisations that can matter are loaded: the
/// studio, the poster's own, and those assigned to the project (a title's readers are never
/// elsewhere), so a mention costs the same with 50 users or 5,000.
async fn channel_readers(
    tx: &mut Box<dyn Tx>,
    who: &Authenticated,
    kind: &ChannelKind,
    assignments: &[Assignment],
) -> AppResult<(Vec<store::UserWithOrg>, Vec<store::UserWithOrg>)> {
    let mut orgs: Vec<domain::OrgId> = assignments.iter().map(|a| a.org_id).collect();
    orgs.push(who.org.id);
    if let Some(studio) = tx.studio_org().await? {
        orgs.push(studio.id);
    }
    orgs.sort();
    orgs.dedup();
    let mut all = tx.users_of_orgs(&orgs).await?;
    store::columns::sort_users(&mut all);
    let readers = all
        .iter()
        .filter(|u| {
            !u.user.disabled
                && authorize(
                    Some(&crate::auth::subject_of(u)),
                    Action::ReadChannel,
                    Resource::Channel { kind, assignments },
                )
                .is_allowed()
        })
        .cloned()
        .collect();
    Ok((readers, all))
}

/// The people a message mentions. A mention of someone the poster knows of but who cannot read
/// the channel is refused with a message saying so — a mention never leaks a message. Tokens
/// that match nobody the poster may know of are left as plain text (a partner learns nothing
/// about another partner's people this way).
async fn resolve_mentions(
    tx: &mut Box<dyn Tx>,
    who: &Authenticated,
    kind: &ChannelKind,
    assignments: &[Assignment],
    body: &str,
) -> AppResult<Vec<UserId>> {
    let tokens = domain::mentions::parse_mentions(body);
    if tokens.is_empty() {
        return Ok(Vec::new());
    }
    let (readers, all) = channel_readers(tx, who, kind, assignments).await?;
    let mut errors = FieldErrors::new();
    let mut out = Vec::new();
    for t in tokens {
        let hits: Vec<&store::UserWithOrg> = readers
            .iter()
            .filter(|u| t.matches(u.user.display_name.as_str(), u.user.email.as_str()))
            .collect();
        match hits.as_slice() {
            [one] => out.push(one.user.id),
            [] => {
                let knowable = |u: &&store::UserWithOrg| {
                    who.subject.is_studio()
                        || u.org.id == who.org.id
                        || u.org.kind == OrgKind::Studio
                };
                let mut known = all
                    .iter()
                    .filter(knowable)
                    .find(|u| t.matches(u.user.display_name.as_str(), u.user.email.as_str()))
                    .cloned();
                // The studio knows every account: someone typed by e-mail who works on none
                // of this title's languages is named too.
                if known.is_none()
                    && who.subject.is_studio()
                    && let Ok(address) = domain::Email::parse(t.as_typed().trim_start_matches('@'))
                {
                    known = tx.find_user_by_email(&address).await?;
                }
                if let Some(u) = known {
                    errors.add(
                        "body",
                        format!(
                            "{} ({}) cannot read this channel, so they cannot be mentioned here; write to them where they can read, or remove the mention",
                            t.as_typed(),
                            u.user.display_name
                        ),
                    );
                }
            }
            many => errors.add(
                "body",
                format!(
                    "{} matches {} people here; mention one by e-mail, e.g. @{}",
                    t.as_typed(),
                    many.len(),
                    many.first()
                        .map(|u| u.user.email.as_str())
                        .unwrap_or_default()
                ),
            ),
        }
    }
    errors.into_result()?;
    out.sort();
    out.dedup();
    Ok(out)
}

fn event(kind: EventKind, channel: &Channel, m: &Message, user: Option<UserId>) -> NewEvent {
    NewEvent {
        kind,
        project_id: channel.project_id,
        channel_id: channel.id,
        message_id: Some(m.id),
        seq: m.seq,
        user_id: user,
    }
}

fn read_event(channel: &Channel, reader: UserId, seq: i64) -> NewEvent {
    NewEvent {
        kind: EventKind::ChannelRead,
        project_id: channel.project_id,
        channel_id: channel.id,
        message_id: None,
        seq,
        user_id: Some(reader),
    }
}

async fn project_assignments(
    tx: &mut Box<dyn Tx>,
    project_id: ProjectId,
) -> AppResult<Vec<Assignment>> {
    tx.project_assignments(project_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// A channel and its project's assignments (which decide who may read it); "not found" if
/// either is gone.
async fn channel_with_assignments(
    tx: &mut Box<dyn Tx>,
    id: ChannelId,
) -> AppResult<(Channel, Vec<Assignment>)> {
    let channel = tx.get_channel(id).await?.ok_or(AppError::NotFound)?;
    let assignments = project_assignments(tx, channel.project_id).await?;
    Ok((channel, assignments))
}

fn may(
    who: &Authenticated,
    action: Action,
    kind: &ChannelKind,
    assignments: &[Assignment],
) -> domain::Decision {
    authorize(
        Some(&who.subject),
        action,
        Resource::Channel { kind, assignments },
    )
}

/// The channels of a project that `who` may read, in list order, with their unread counts.
async fn readable_channels(
    tx: &mut Box<dyn Tx>,
    who: &Authenticated,
    project_id: ProjectId,
    assignments: &[Assignment],
) -> AppResult<Vec<ChannelRow>> {
    let mut channels: Vec<Channel> = tx
        .list_channels(project_id)
        .await?
        .into_iter()
        .filter(|c| may(who, Action::ReadChannel, &c.kind, assignments).is_allowed())
        .collect();
    channels.sort_by_key(|c| c.kind.sort_key());
    let ids: Vec<ChannelId> = channels.iter().map(|c| c.id).collect();
    let unread: BTreeMap<ChannelId, store::ChannelUnread> = tx
        .unread(who.user.id, &ids)
        .await?
        .into_iter()
        .map(|u| (u.channel_id, u))
        .collect();
    Ok(channels
        .into_iter()
        .map(|c| {
            let u = unread.get(&c.id);
            ChannelRow {
                label: c.kind.label(),
                unread: u.map(|u| u.unread).unwrap_or(0),
                first_unread_seq: u.and_then(|u| u.first_unread_seq),
                last_read_seq: u.map(|u| u.last_read_seq).unwrap_or(0),
                channel: c,
            }
        })
        .collect())
}

/// A channel's name as `reader` sees it. The studio talks to several partners per language at
/// times (dubbing by one, subtitles by another; a partner replaced), so its vendor channel
/// labels name the partner (`partner_name`), and say when that partner is no longer assigned to
/// the language. A partner's labels stay as they are: every vendor channel it reads is its own.
pub(crate) fn channel_label(
    reader: &domain::Subject,
    kind: &ChannelKind,
    assignments: &[Assignment],
    partner_name: &str,
) -> String {
    let label = kind.label();
    match kind {
        ChannelKind::Vendor(language, partner) if reader.is_studio() => {
            let assigned = assignments
                .iter()
                .any(|a| a.org_id == *partner && &a.language == language);
            if assigned {
                format!("{label} · {partner_name}")
            } else {
                format!("{label} · {partner_name} (no longer assigned)")
            }
        }
        _ => label,
    }
}

/// The name of a partner organisation for the studio's labels ("Former partner" if it is gone).
pub(crate) async fn partner_name(tx: &mut Box<dyn Tx>, id: domain::OrgId) -> AppResult<String> {
    Ok(tx
        .get_org(id)
        .await?
        .map(|o| o.name.to_string())
        .unwrap_or_else(|| "Former partner".into()))
}

/// Labels the rows as `who` sees them ([`channel_label`]).
async fn name_partners(
    tx: &mut Box<dyn Tx>,
    who: &Authenticated,
    assignments: &[Assignment],
    rows: &mut [ChannelRow],
) -> AppResult<()> {
    if !who.subject.is_studio() {
        return Ok(());
    }
    let mut names: BTreeMap<domain::OrgId, String> = BTreeMap::new();
    for row in rows.iter_mut() {
        let ChannelKind::Vendor(_, partner) = &row.channel.kind else {
            continue;
        };
        if !names.contains_key(partner) {
            names.insert(*partner, partner_name(tx, *partner).await?);
        }
        let name = names.get(partner).map(String::as_str).unwrap_or_default();
        row.label = channel_label(&who.subject, &row.channel.kind, assignments, name);
    }
    Ok(())
}

/// Who wrote a message (`author`: its author's id, `None` for the robot; `user`: that account,
/// if it still exists), as `reader` may see them.
pub(crate) fn author_view(
    reader: &domain::Subject,
    author: Option<UserId>,
    user: Option<&store::UserWithOrg>,
) -> AuthorView {
    match (author, user) {
        (None, _) => AuthorView {
            name: "locportal".into(),
            badge: "Robot".into(),
            robot: true,
        },
        (Some(_), Some(u)) => AuthorView {
            name: u.user.display_name.to_string(),
            badge: org_badge(reader, &u.org),
            robot: false,
        },
        (Some(_), None) => AuthorView {
            name: "Former user".into(),
            badge: String::new(),
            robot: false,
        },
    }
}

impl App {
    /// People who can read a channel and whose name or e-mail contains `prefix`, for the
    /// composer's @-autocomplete (at most 10).
    pub async fn mentionable(
        &self,
        who: &Authenticated,
        channel_id: ChannelId,
        prefix: &str,
    ) -> AppResult<Vec<Mentionable>> {
        let mut tx = self.store.read().await?;
        let (channel, assignments) = channel_with_assignments(&mut tx, channel_id).await?;
        may(who, Action::PostInChannel, &channel.kind, &assignments).check()?;
        let (readers, _) = channel_readers(&mut tx, who, &channel.kind, &assignments).await?;
        let want = domain::search::fold(prefix.trim_start_matches('@'));
        Ok(readers
            .into_iter()
            .filter(|u| u.user.id != who.user.id)
            .filter(|u| {
                want.is_empty()
                    || domain::search::fold(u.user.display_name.as_str()).contains(&want)
                    || u.user.email.as_str().contains(&want)
            })
            .map(|u| Mentionable {
                user_id: u.user.id,
                name: u.user.display_name.to_string(),
                email: u.user.email.to_string(),
                badge: org_badge(&who.subject, &u.org),
            })
            .collect())
    }

    /// The channels of a project `who` may read; "not found" if they may not see the project.
    pub async fn project_channels(
        &self,
        who: &Authenticated,
        project_id: ProjectId,
    ) -> AppResult<Vec<ChannelRow>> {
        let mut tx = self.store.read().await?;
        let assignments = project_assignments(&mut tx, project_id).await?;
        let orgs: Vec<_> = assignments.iter().map(|a| a.org_id).collect();
        authorize(
            Some(&who.subject),
            Action::ViewProject,
            Resource::Project {
                assigned_orgs: &orgs,
            },
        )
        .check()?;
        let mut rows = readable_channels(&mut tx, who, project_id, &assignments).await?;
        name_partners(&mut tx, who, &assignments, &mut rows).await?;
        Ok(rows)
    }

    /// Unread messages per project (over the channels the reader may read), with the channel
    /// and seq of the first unread message, for the My Projects badges. Three queries however
    /// many projects: their assignments, their channels, and the counts.
    pub async fn project_unread(
        &self,
        who: &Authenticated,
        projects: &[ProjectId],
    ) -> AppResult<BTreeMap<ProjectId, (u32, Option<(ChannelId, i64)>)>> {
        let mut tx = self.store.read().await?;
        let assignments: BTreeMap<ProjectId, Vec<Assignment>> = tx
            .project_summaries(projects)
            .await?
            .into_iter()
            .map(|p| (p.id, p.assignments))
            .collect();
        unread_in(&mut tx, who, &assignments).await
    }
}

/// Unread counts and first unread messages of these projects (with their assignments), for
/// `who`, inside the caller's read transaction.
pub(crate) async fn unread_in(
    tx: &mut Box<dyn Tx>,
    who: &Authenticated,
    assignments: &BTreeMap<ProjectId, Vec<Assignment>>,
) -> AppResult<BTreeMap<ProjectId, (u32, Option<(ChannelId, i64)>)>> {
    {
        let ids: Vec<ProjectId> = assignments.keys().copied().collect();
        let mut channels: Vec<Channel> = tx
            .list_channels_of(&ids)
            .await?
            .into_iter()
            .filter(|c| {
                assignments
                    .get(&c.project_id)
                    .is_some_and(|a| may(who, Action::ReadChannel, &c.kind, a).is_allowed())
            })
            .collect();
        channels.sort_by_cached_key(|c| (c.project_id, c.kind.sort_key()));
        let channel_ids: Vec<ChannelId> = channels.iter().map(|c| c.id).collect();
        let unread: BTreeMap<ChannelId, store::ChannelUnread> = tx
            .unread(who.user.id, &channel_ids)
            .await?
            .into_iter()
            .map(|u| (u.channel_id, u))
            .collect();
        let mut out: BTreeMap<ProjectId, (u32, Option<(ChannelId, i64)>)> =
            ids.iter().map(|p| (*p, (0, None))).collect();
        for c in &channels {
            let (Some(u), Some(entry)) = (unread.get(&c.id), out.get_mut(&c.project_id)) else {
                continue;
            };
            entry.0 += u.unread;
            if entry.1.is_none()
                && let Some(seq) = u.first_unread_seq
            {
                entry.1 = Some((c.id, seq));
            }
        }
        Ok(out)
    }
}

impl App {
    /// Opens a channel: its latest messages (or those before `before`), and marks it read.
    pub async fn open_channel(
        &self,
        who: &Authenticated,
        channel_id: ChannelId,
        before: Option<i64>,
    ) -> AppResult<ChannelPage> {
        let (page, newest) = {
            let mut tx = self.store.read().await?;
            let (channel, assignments) = channel_with_assignments(&mut tx, channel_id).await?;
            may(who, Action::ReadChannel, &channel.kind, &assignments).check()?;
            let post = may(who, Action::PostInChannel, &channel.kind, &assignments);
            let mut channels =
                readable_channels(&mut tx, who, channel.project_id, &assignments).await?;
            name_partners(&mut tx, who, &assignments, &mut channels).await?;
            let label = channels
                .iter()
                .find(|r| r.channel.id == channel.id)
                .map(|r| r.label.clone())
                .unwrap_or_else(|| channel.kind.label());
            let read_before = channels
                .iter()
                .find(|r| r.channel.id == channel.id)
                .map(|r| r.last_read_seq)
                .unwrap_or(0);
            let list = tx.list_messages(channel.id, before, PAGE).await?;
            let has_older = list.first().is_some_and(|m| m.seq > 1);
            let messages = self.message_views(&mut tx, who, list).await?;
            let newest = channel.last_seq;
            let page = ChannelPage {
                project_id: channel.project_id,
                label,
                channels,
                messages,
                read_before,
                can_post: post.is_allowed(),
                read_only_reason: match post {
                    domain::Decision::Allow => None,
                    domain::Decision::Deny(r) => Some(r.explain()),
                },
                has_older,
                channel,
            };
            (page, newest)
        };
        if newest > page.read_before && before.is_none() {
            let mut tx = self.store.begin().await?;
            tx.mark_read(who.user.id, channel_id, newest).await?;
            tx.append_event(&read_event(&page.channel, who.user.id, newest), self.now())
                .await?;
            tx.commit().await?;
            self.events.kick();
        }
        Ok(page)
    }

    /// The `before` that shows message `seq` of the channel: `None` (the newest page, which
    /// marks the channel read) when it is among the newest messages, else a page around it.
    pub async fn page_holding(
        &self,
        who: &Authenticated,
        channel_id: ChannelId,
        seq: i64,
    ) -> AppResult<Option<i64>> {
        let mut tx = self.store.read().await?;
        let (channel, assignments) = channel_with_assignments(&mut tx, channel_id).await?;
        may(who, Action::ReadChannel, &channel.kind, &assignments).check()?;
        let page = i64::from(PAGE);
        Ok((seq <= channel.last_seq - page).then_some(seq + page / 2))
    }

    async fn message_views(
        &self,
        tx: &mut Box<dyn Tx>,
        who: &Authenticated,
        messages: Vec<Message>,
    ) -> AppResult<Vec<MessageView>> {
        let mut ids: Vec<UserId> = messages.iter().filter_map(|m| m.author).collect();
        ids.sort();
        ids.dedup();
        let authors: BTreeMap<UserId, store::UserWithOrg> = tx
            .get_users(&ids)
            .await?
            .into_iter()
            .map(|u| (u.user.id, u))
            .collect();
        let now = self.now();
        let ids: Vec<MessageId> = messages.iter().map(|m| m.id).collect();
        let mut files: BTreeMap<MessageId, Vec<Attachment>> = BTreeMap::new();
        for a in tx.attachments_of(&ids).await? {
            files.entry(a.message_id).or_default().push(a);
        }
        let mut out = Vec::with_capacity(messages.len());
        for m in messages {
            let author = author_view(
                &who.subject,
                m.author,
                m.author.and_then(|id| authors.get(&id)),
            );
            let changeable =
                may_change_message(&who.subject, &m, now, self.config.edit_window).is_ok();
            out.push(MessageView {
                mine: m.author == Some(who.user.id),
                changeable,
                author,
                attachments: files.remove(&m.id).unwrap_or_default(),
                message: m,
            });
        }
        Ok(out)
    }

    /// Posts a message; the author's own message never counts as unread for them.
    pub async fn post_message(
        &self,
        who: &Authenticated,
        channel_id: ChannelId,
        body: &str,
    ) -> AppResult<Message> {
        self.post_message_with_files(who, channel_id, body, Vec::new())
            .await
            .map(|(m, _)| m)
    }

    /// Whether `who` may attach files in a channel: asked before an upload is received, so a
    /// refused sender's bytes are never stored, even for a moment.
    pub async fn may_attach(&self, who: &Authenticated, channel_id: ChannelId) -> AppResult<()> {
        let mut tx = self.store.read().await?;
        let (channel, assignments) = channel_with_assignments(&mut tx, channel_id).await?;
        may(who, Action::AttachFile, &channel.kind, &assignments).check()?;
        Ok(())
    }

    /// Posts a message with files that were received and checked ([`crate::files`]). The
    /// text may be empty when there are files. The files are kept in storage just before the
    /// commit and removed again if the commit fails, so a message and its files exist together
    /// or not at all.
    pub async fn post_message_with_files(
        &self,
        who: &Authenticated,
        channel_id: ChannelId,
        body: &str,
        mut files: Vec<Staged>,
    ) -> AppResult<(Message, Vec<Attachment>)> {
        let mut tx = self.store.begin().await?;
        let (channel, assignments) = channel_with_assignments(&mut tx, channel_id).await?;
        // Who may post is decided before what was written is judged.
        may(who, Action::PostInChannel, &channel.kind, &assignments).check()?;
        if !files.is_empty() {
            may(who, Action::AttachFile, &channel.kind, &assignments).check()?;
        }
        if files.len() > MAX_PER_MESSAGE {
            return Err(AppError::invalid(
                "files",
                AttachmentRefusal::TooMany.to_string(),
            ));
        }
        let body = if files.is_empty() || !body.trim().is_empty() {
            MessageBody::parse(body)
                .map_err(|e| AppError::invalid("body", e.0))?
                .to_string()
        } else {
            String::new()
        };
        let mentioned = resolve_mentions(&mut tx, who, &channel.kind, &assignments, &body).await?;
        let m = tx
            .insert_message(
                MessageId::new(),
                channel_id,
                Some(who.user.id),
                &body,
                self.now(),
            )
            .await?;
        tx.mark_read(who.user.id, channel_id, m.seq).await?;
        tx.insert_mentions(m.id, &mentioned).await?;
        let mut records = Vec::with_capacity(files.len());
        for (position, f) in files.iter().enumerate() {
            let id = domain::AttachmentId::new();
            let a = Attachment {
                id,
                message_id: m.id,
                name: f.name.to_string(),
                file_type: f.name.file_type(),
                size: f.size,
                sha256: f.sha256.clone(),
                storage_key: format!("attachments/{id}"),
                created_at: m.created_at,
            };
            tx.insert_attachment(&a, u32::try_from(position).unwrap_or(u32::MAX))
                .await?;
            records.push(a);
        }
        record_notifications(
            &mut tx,
            Some(&who.subject),
            &channel,
            &assignments,
            &m,
            &mentioned,
            self.config.mail.coalesce,
        )
        .await?;
        tx.append_event(
            &event(EventKind::MessagePosted, &channel, &m, None),
            m.created_at,
        )
        .await?;
        let keys = records.iter().map(|a| a.storage_key.clone());
        self.keep_and_commit(tx, files.iter_mut().zip(keys).collect())
            .await?;
        self.events.kick();
        Ok((m, records))
    }

    /// Posts an automatic message as the portal's robot (no author; never editable). Later
    /// issues call this when something happens (a deliverable accepted, …).
    pub async fn post_as_robot(
        &self,
        tx: &mut Box<dyn Tx>,
        channel: &Channel,
        assignments: &[Assignment],
        body: &str,
    ) -> AppResult<Message> {
        self.post_as_robot_to(tx, channel, assignments, body, &[])
            .await
    }

    /// Posts as the robot, mentioning `mentioned`: each of them who may read the channel gets a
    /// bell entry and an e-mail by the usual mention rules.
    pub async fn post_as_robot_to(
        &self,
        tx: &mut Box<dyn Tx>,
        channel: &Channel,
        assignments: &[Assignment],
        body: &str,
        mentioned: &[UserId],
    ) -> AppResult<Message> {
        let body = MessageBody::parse(body).map_err(|e| AppError::invalid("body", e.0))?;
        let m = tx
            .insert_message(
                MessageId::new(),
                channel.id,
                None,
                body.as_str(),
                self.now(),
            )
            .await?;
        if !mentioned.is_empty() {
            tx.insert_mentions(m.id, mentioned).await?;
        }
        record_notifications(
            tx,
            None,
            channel,
            assignments,
            &m,
            mentioned,
            self.config.mail.coalesce,
        )
        .await?;
        tx.append_event(
            &event(EventKind::MessagePosted, channel, &m, None),
            m.created_at,
        )
        .await?;
        Ok(m)
    }

    /// An attached file, for download or preview, if `who` may read its message's channel; a
    /// file of a deleted message is gone.
    pub async fn open_attachment(
        &self,
        who: &Authenticated,
        id: domain::AttachmentId,
    ) -> AppResult<(Attachment, crate::files::ByteStream)> {
        let mut tx = self.store.read().await?;
        let a = tx.get_attachment(id).await?.ok_or(AppError::NotFound)?;
        let m = tx
            .get_message(a.message_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let (channel, assignments) = channel_with_assignments(&mut tx, m.channel_id).await?;
        may(who, Action::DownloadAttachment, &channel.kind, &assignments).check()?;
        if m.deleted_at.is_some() {
            return Err(AppError::NotFound);
        }
        drop(tx);
        let file = self.files.read(&a.storage_key, None).await.map_err(|e| {
            AppError::Internal(format!("attachment {} ({}): {e}", a.id, a.storage_key))
        })?;
        Ok((a, file))
    }

    /// Loads a message for changing it: the author, within the edit window, still able to read
    /// the channel.
    async fn changeable(
        &self,
        tx: &mut Box<dyn Tx>,
        who: &Authenticated,
        id: MessageId,
    ) -> AppResult<(Message, Channel, Vec<Assignment>)> {
        let m = tx.get_message(id).await?.ok_or(AppError::NotFound)?;
        let (channel, assignments) = channel_with_assignments(tx, m.channel_id).await?;
        may(who, Action::ReadChannel, &channel.kind, &assignments).check()?;
        may_change_message(&who.subject, &m, self.now(), self.config.edit_window).map_err(|r| {
            match r {
                MessageChangeRefusal::NotAuthor => AppError::Denied(domain::DenyReason::NotVisible),
                // Deleted, or past the edit window: the message's state forbids it (409).
                other => AppError::conflict("body", other.to_string()),
            }
        })?;
        Ok((m, channel, assignments))
    }

    pub async fn edit_message(
        &self,
        who: &Authenticated,
        id: MessageId,
        body: &str,
    ) -> AppResult<Message> {
        let mut tx = self.store.begin().await?;
        let (m, channel, assignments) = self.changeable(&mut tx, who, id).await?;
        let body = MessageBody::parse(body).map_err(|e| AppError::invalid("body", e.0))?;
        let at = self.now();
        tx.edit_message(id, body.as_str(), at).await?;
        let mentioned =
            resolve_mentions(&mut tx, who, &channel.kind, &assignments, body.as_str()).await?;
        tx.insert_mentions(id, &mentioned).await?;
        tx.append_event(&event(EventKind::MessageEdited, &channel, &m, None), at)
            .await?;
        tx.commit().await?;
        self.events.kick();
        Ok(Message {
            body: body.to_string(),
            edited_at: Some(at),
            ..m
        })
    }

    pub async fn delete_message(&self, who: &Authenticated, id: MessageId) -> AppResult<Message> {
        let mut tx = self.store.begin().await?;
        let (m, channel, _) = self.changeable(&mut tx, who, id).await?;
        let at = self.now();
        tx.delete_message(id, at).await?;
        let files = tx.delete_attachments_of(id).await?;
        tx.append_event(&event(EventKind::MessageDeleted, &channel, &m, None), at)
            .await?;
        tx.commit().await?;
        self.events.kick();
        for f in files {
            if let Err(err) = self.files.remove(&f.storage_key).await {
                tracing::warn!(key = f.storage_key, %err, "could not remove a deleted message's file");
            }
        }
        Ok(Message {
            body: String::new(),
            deleted_at: Some(at),
            ..m
        })
    }

    /// Marks a channel read up to `seq` (for clients that show messages themselves).
    pub async fn mark_channel_read(
        &self,
        who: &Authenticated,
        channel_id: ChannelId,
        seq: i64,
    ) -> AppResult<()> {
        let mut tx = self.store.begin().await?;
        let (channel, assignments) = channel_with_assignments(&mut tx, channel_id).await?;
        may(who, Action::ReadChannel, &channel.kind, &assignments).check()?;
        let seq = seq.clamp(0, channel.last_seq);
        tx.mark_read(who.user.id, channel_id, seq).await?;
        tx.append_event(&read_event(&channel, who.user.id, seq), self.now())
            .await?;
        tx.commit().await?;
        self.events.kick();
        Ok(())
    }

    /// Changes one's App Settings: internal messages (studio users) and the languages one works
    /// on (empty: all of one's organisation's languages).
    pub async fn update_settings(
        &self,
        who: &Authenticated,
        internal_messages: bool,
        languages: &[String],
    ) -> AppResult<ChannelPrefs> {
        crate::auth::require(who, Action::UsePortal)?;
        let mut errors = FieldErrors::new();
        // Each entry is one tag (the page splits its text field before calling).
        let mut tags: Vec<LanguageTag> = Vec::new();
        for given in languages {
            match LanguageTag::parse(given.trim()) {
                Ok(t) if tags.contains(&t) => {
                    errors.add("languages", format!("{t} is listed twice"));
                }
                Ok(t) => tags.push(t),
                Err(e) => errors.add("languages", format!("{given:?}: {}", e.0)),
            }
        }
        // A partner works only on languages its organisation is assigned somewhere.
        if who.org.kind != OrgKind::Studio && !tags.is_empty() {
            let mut tx = self.store.read().await?;
            let scope = domain::ProjectScope::for_subject(&who.subject);
            let assigned: std::collections::BTreeSet<LanguageTag> = tx
                .find_projects(scope, "", None, crate::search::MAX_PROJECTS)
                .await?
                .items
                .into_iter()
                .flat_map(|p| p.assignments)
                .filter(|a| a.org_id == who.org.id)
                .map(|a| a.language)
                .collect();
            for t in tags.iter().filter(|t| !assigned.contains(t)) {
                errors.add(
                    "languages",
                    format!("{} is not assigned {t} on any title", who.org.name),
                );
            }
        }
        if internal_messages && who.org.kind != OrgKind::Studio {
            errors.add(
                "internal_messages",
                "internal messages are for studio users",
            );
        }
        errors.into_result()?;
        let prefs = ChannelPrefs {
            internal_messages,
            languages: if tags.is_empty() {
                WorkLanguages::All
            } else {
                WorkLanguages::Only(tags)
            },
        };
        let mut tx = self.store.begin().await?;
        let mut user = tx
            .get_user(who.user.id)
            .await?
            .ok_or(AppError::NotFound)?
            .user;
        user.prefs = prefs.clone();
        tx.update_user(&user).await?;
        tx.commit().await?;
        Ok(prefs)
    }
}
