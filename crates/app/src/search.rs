//! Keyword search over the messages a person may read: in one channel, or across every channel
//! of every project they see. The readable channels are worked out on every call with the
//! domain policy, so someone who loses access (a partner unassigned from a language) stops
//! finding that channel's messages at once.

use crate::auth::Authenticated;
use crate::{App, AppError, AppResult};
use domain::search::{SearchQuery, fold, highlight};
use domain::{
    Action, Assignment, Channel, ChannelId, Message, ProjectId, ProjectScope, Resource, UserId,
    authorize,
};
use std::collections::BTreeMap;
use store::{MessageKey, MessageSearch, Page, Tx};

/// One message found, with what a result list shows about it.
#[derive(Clone, Debug)]
pub struct SearchHit {
    pub message: Message,
    pub project_id: ProjectId,
    pub project_name: String,
    pub channel_label: String,
    pub author_name: String,
    /// The body cut into segments, `true` where it matches the query.
    pub segments: Vec<(String, bool)>,
}

/// Results per search, at most.
const MAX_LIMIT: u32 = 200;
/// Projects considered in a search across everything (more than anyone follows).
pub(crate) const MAX_PROJECTS: u32 = 100_000;

/// Where a readable channel belongs.
struct Place {
    project_id: ProjectId,
    project_name: String,
    label: String,
}

fn readable(who: &Authenticated, channel: &Channel, assignments: &[Assignment]) -> bool {
    authorize(
        Some(&who.subject),
        Action::ReadChannel,
        Resource::Channel {
            kind: &channel.kind,
            assignments,
        },
    )
    .is_allowed()
}

impl App {
    /// Searches messages `who` may read: in `channel` ("not found" if they may not read it), or
    /// else in every channel they may read, narrowed by `in:`. Newest first, one page of at
    /// most `limit` (capped at 200) after the key `after`. A query that does not parse is an
    /// error on the field `q`.
    pub async fn search_messages(
        &self,
        who: &Authenticated,
        text: &str,
        channel: Option<ChannelId>,
        after: Option<MessageKey>,
        limit: u32,
    ) -> AppResult<Page<SearchHit, MessageKey>> {
        if text.is_empty() {
            return Err(AppError::invalid(
                "q",
                "type a word to search for, or a filter such as from:, in:, before: or on:",
            ));
        }
        // Punctuation, spaces or symbols alone hold nothing to search for: nothing matches.
        if !SearchQuery::has_terms(text) {
            return Ok(Page::default());
        }
        let query = SearchQuery::parse(text).map_err(|e| AppError::invalid("q", e.0))?;
        let mut tx = self.store.read().await?;
        let places = match channel {
            Some(id) => one_channel(&mut tx, who, id).await?,
            None => every_channel(&mut tx, who).await?,
        };
        let channels: Vec<ChannelId> = places
            .iter()
            .filter(|(_, (kind, _))| query.wants_channel(kind))
            .map(|(id, _)| *id)
            .collect();
        if channels.is_empty() {
            return Ok(Page::default());
        }
        let authors = if query.from.is_empty() {
            None
        } else {
            Some(matching_users(&mut tx, &query.from).await?)
        };
        let search = MessageSearch {
            words: query.words.clone(),
            phrases: query.phrases.clone(),
            excluded: query.excluded.clone(),
            authors,
            after: query.since,
            before: query.until,
            has_attachment: query.has_attachment,
        };
        let found = tx
            .search_messages(
                &channels,
                &search,
                after.as_ref(),
                limit.clamp(1, MAX_LIMIT),
            )
            .await?;
        let mut names: BTreeMap<UserId, String> = BTreeMap::new();
        let mut hits = Vec::with_capacity(found.items.len());
        for message in found.items {
            // The store returns only messages of the channels asked for.
            let Some((_, place)) = places.get(&message.channel_id) else {
                continue;
            };
            let author_name = match message.author {
                None => "locportal".to_string(),
                Some(id) => match names.get(&id) {
                    Some(n) => n.clone(),
                    None => {
                        let n = tx
                            .get_user(id)
                            .await?
                            .map(|u| u.user.display_name.to_string())
                            .unwrap_or_else(|| "Former user".to_string());
                        names.insert(id, n.clone());
                        n
                    }
                },
            };
            hits.push(SearchHit {
                segments: highlight(&message.body, &query),
                project_id: place.project_id,
                project_name: place.project_name.clone(),
                channel_label: place.label.clone(),
                author_name,
                message,
            });
        }
        Ok(Page {
            items: hits,
            next: found.next,
        })
    }
}

type Places = BTreeMap<ChannelId, (domain::ChannelKind, Place)>;

/// The one channel asked for, if `who` may read it.
async fn one_channel(
    tx: &mut Box<dyn Tx>,
    who: &Authenticated,
    id: ChannelId,
) -> AppResult<Places> {
    let channel = tx.get_channel(id).await?.ok_or(AppError::NotFound)?;
    let project = tx
        .get_project(channel.project_id)
        .await?
        .ok_or(AppError::NotFound)?;
    authorize(
        Some(&who.subject),
        Action::ReadChannel,
        Resource::Channel {
            kind: &channel.kind,
            assignments: &project.assignments,
        },
    )
    .check()?;
    let place = Place {
        project_id: project.id,
        project_name: project.name.to_string(),
        label: channel.kind.label(),
    };
    Ok(BTreeMap::from([(channel.id, (channel.kind, place))]))
}

/// Every channel of every project `who` sees that they may read.
async fn every_channel(tx: &mut Box<dyn Tx>, who: &Authenticated) -> AppResult<Places> {
    let scope = ProjectScope::for_subject(&who.subject);
    let mut places = BTreeMap::new();
    let projects: BTreeMap<ProjectId, store::ProjectSummary> = tx
        .find_projects(scope, "", None, MAX_PROJECTS)
        .await?
        .items
        .into_iter()
        .map(|p| (p.id, p))
        .collect();
    let ids: Vec<ProjectId> = projects.keys().copied().collect();
    // One query for the channels of every project, however many there are.
    for channel in tx.list_channels_of(&ids).await? {
        let Some(project) = projects.get(&channel.project_id) else {
            continue;
        };
        if readable(who, &channel, &project.assignments) {
            let place = Place {
                project_id: project.id,
                project_name: project.name.to_string(),
                label: channel.kind.label(),
            };
            places.insert(channel.id, (channel.kind, place));
        }
    }
    Ok(places)
}

/// Users whose display name or e-mail address contains one of `fragments`, ignoring case and
/// diacritics.
async fn matching_users(tx: &mut Box<dyn Tx>, fragments: &[String]) -> AppResult<Vec<UserId>> {
    let wanted: Vec<String> = fragments.iter().map(|f| fold(f.trim())).collect();
    Ok(tx
        .list_users()
        .await?
        .into_iter()
        .filter(|u| {
            let name = fold(u.user.display_name.as_str());
            let email = fold(u.user.email.as_str());
            wanted
                .iter()
                .any(|w| name.contains(w.as_str()) || email.contains(w.as_str()))
        })
        .map(|u| u.user.id)
        .collect())
}
