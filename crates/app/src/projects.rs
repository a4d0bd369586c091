//! Projects: create, edit, view, find, follow, My Projects — each filtered through the policy so
//! a partner only ever sees its own assignments and languages.

use crate::auth::Authenticated;
use crate::{App, AppError, AppResult, FieldErrors};
use domain::policy::{visible_assignments, visible_languages};
use domain::{
    Action, Actor, Assignment, Episode, EpisodeId, LanguageTag, MovieId, Name, OrgId, OrgKind,
    Project, ProjectId, ProjectKind, ProjectScope, Resource, Season, SeasonId, Service, Subject,
    authorize, authorize_actor,
};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use store::{Page, ProjectKey, ProjectSummary, Tx};

async fn org_name(tx: &mut Box<dyn Tx>, id: OrgId) -> AppResult<String> {
    Ok(tx
        .get_org(id)
        .await?
        .map(|o| o.name.to_string())
        .unwrap_or_else(|| "a former partner".into()))
}

/// A project as typed into a form or sent to the API, before validation.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct ProjectInput {
    pub movie_id: String,
    pub name: String,
    pub kind: String,
    pub original_language: String,
    pub target_languages: Vec<String>,
    pub seasons: Vec<SeasonInput>,
    pub assignments: Vec<AssignmentInput>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct SeasonInput {
    pub number: u32,
    pub episodes: Vec<EpisodeInput>,
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct EpisodeInput {
    pub number: u32,
    pub movie_id: String,
    pub name: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct AssignmentInput {
    pub language: String,
    pub service: String,
    pub org_id: OrgId,
}

/// A project as one viewer may see it.
#[derive(Clone, Debug)]
pub struct ProjectView {
    /// Assignments and target languages already reduced to what the viewer may see.
    pub project: Project,
    /// Names of the organisations in the visible assignments.
    pub org_names: BTreeMap<OrgId, String>,
    pub following: bool,
    pub can_edit: bool,
}

/// A row of a project list (search results, My Projects).
#[derive(Clone, Debug)]
pub struct ProjectRow {
    pub id: ProjectId,
    pub movie_id: MovieId,
    pub name: Name,
    pub kind: ProjectKind,
    pub original_language: LanguageTag,
    /// Only the languages the viewer may see.
    pub languages: Vec<LanguageTag>,
    pub following: bool,
}

/// Parses the episode list as typed in the project form: one episode per line,
/// `S<season>E<episode> <movie id> [name]`, e.g. `S1E2 81234570 The Crossing`.
pub fn parse_episode_lines(text: &str) -> Result<Vec<SeasonInput>, String> {
    let mut seasons: BTreeMap<u32, Vec<EpisodeInput>> = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let n = i + 1;
        let mut parts = line.splitn(3, char::is_whitespace);
        let code = parts.next().unwrap_or_default().to_ascii_uppercase();
        let movie_id = parts.next().unwrap_or_default().trim().to_string();
        let name = parts
            .next()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty());
        let parsed = code
            .strip_prefix('S')
            .and_then(|rest| rest.split_once('E'))
            .and_then(|(s, e)| Some((s.parse::<u32>().ok()?, e.parse::<u32>().ok()?)));
        let Some((season, episode)) = parsed else {
            return Err(format!(
                "line {n}: start with the season and episode, as in \"S1E2 81234570 Title\""
            ));
        };
        if movie_id.is_empty() {
            return Err(format!(
                "line {n}: give the episode's movie ID after {code}, as in \"{code} 81234570\""
            ));
        }
        seasons.entry(season).or_default().push(EpisodeInput {
            number: episode,
            movie_id,
            name,
        });
    }
    Ok(seasons
        .into_iter()
        .map(|(number, episodes)| SeasonInput { number, episodes })
        .collect())
}

/// Writes seasons back in the form's one-line-per-episode format.
pub fn episode_lines(seasons: &[Season]) -> String {
    let mut out = String::new();
    for s in seasons {
        for e in &s.episodes {
            out.push_str(&format!("S{}E{} {}", s.number, e.number, e.movie_id));
            if let Some(n) = &e.name {
                out.push(' ');
                out.push_str(n.as_str());
            }
            out.push('\n');
        }
    }
    out
}

fn parse_language_list(
    field: &str,
    items: &[String],
    errors: &mut FieldErrors,
) -> Vec<LanguageTag> {
    items
        .iter()
        .flat_map(|s| s.split([',', ' ', ';', '\n']))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .filter_map(|s| errors.take(field, LanguageTag::parse(s)))
        .collect()
}

impl App {
    /// Validates input into a project. `existing` supplies ids to keep for seasons and episodes.
    async fn build_project(
        &self,
        tx: &mut Box<dyn Tx>,
        id: ProjectId,
        input: &ProjectInput,
        existing: Option<&Project>,
    ) -> AppResult<Project> {
        let mut errors = FieldErrors::new();
        let movie_id = errors.take("movie_id", MovieId::parse(&input.movie_id));
        let name = errors.take("name", Name::parse(&input.name));
        let kind = errors.take("kind", input.kind.parse::<ProjectKind>());
        let original_language = errors.take(
            "original_language",
            LanguageTag::parse(&input.original_language),
        );
        let target_languages =
            parse_language_list("target_languages", &input.target_languages, &mut errors);
        if target_languages.is_empty() && errors.get("target_languages").is_none() {
            errors.add(
                "target_languages",
                "add at least one target language, e.g. es-ES",
            );
        }

        let old_ids: BTreeMap<(u32, u32), EpisodeId> = existing
            .map(|p| {
                p.seasons
                    .iter()
                    .flat_map(|s| s.episodes.iter().map(move |e| ((s.number, e.number), e.id)))
                    .collect()
            })
            .unwrap_or_default();
        let old_seasons: BTreeMap<u32, SeasonId> = existing
            .map(|p| p.seasons.iter().map(|s| (s.number, s.id)).collect())
            .unwrap_or_default();
        let mut seasons = Vec::new();
        for s in &input.seasons {
            let mut episodes = Vec::new();
            for e in &s.episodes {
                let m = MovieId::parse(&e.movie_id).map_err(|err| {
                    domain::ValueError::new(format!("S{}E{}: {}", s.number, e.number, err.0))
                });
                let episode_name = match e.name.as_deref().map(str::trim) {
                    Some(n) if !n.is_empty() => errors.take("seasons", Name::parse(n)),
                    _ => None,
                };
                if let Some(m) = errors.take("seasons", m) {
                    episodes.push(Episode {
                        id: old_ids
                            .get(&(s.number, e.number))
                            .copied()
                            .unwrap_or_default(),
                        number: e.number,
                        movie_id: m,
                        name: episode_name,
                    });
                }
            }
            seasons.push(Season {
                id: old_seasons.get(&s.number).copied().unwrap_or_default(),
                number: s.number,
                episodes,
            });
        }

        let mut assignments = Vec::new();
        for a in &input.assignments {
            let language = errors.take("assignments", LanguageTag::parse(&a.language));
            let service = errors.take("assignments", a.service.parse::<Service>());
            match tx.get_org(a.org_id).await? {
                Some(org) if org.kind == OrgKind::Partner => {
                    if let (Some(language), Some(service)) = (language, service) {
                        assignments.push(Assignment {
                            language,
                            service,
                            org_id: org.id,
                        });
                    }
                }
                Some(org) => errors.add(
                    "assignments",
                    format!(
                        "{} is not a partner organisation; assign partners only",
                        org.name
                    ),
                ),
                None => errors.add("assignments", "no such partner organisation"),
            }
        }

        let (Some(movie_id), Some(name), Some(kind), Some(original_language)) =
            (movie_id, name, kind, original_language)
        else {
            return Err(AppError::Invalid(errors));
        };
        let project = Project {
            id,
            movie_id,
            name,
            kind,
            original_language,
            target_languages,
            seasons,
            assignments,
        };
        if let Err(problems) = project.check() {
            for (field, msg) in problems {
                errors.add(field, msg);
            }
        }
        errors.into_result()?;
        // Say which movie ID is taken, not only that one is.
        for m in project.all_movie_ids() {
            if let Some(owner) = tx.project_id_by_movie_id(m).await?
                && owner != id
            {
                let field = if m == project.movie_id {
                    "movie_id"
                } else {
                    "seasons"
                };
                return Err(AppError::conflict(
                    field,
                    format!("movie ID {m} is already used by another title or episode"),
                ));
            }
        }
        Ok(project)
    }

    /// The robot tells each side when a (language, service) changes hands, in the vendor
    /// channel of the partner concerned (the studio reads every vendor channel). Not in
    /// Broadcast: every partner on the title reads Broadcast, and "Spanish dubbing moved to
    /// Partner C" would show the other partners a language and a partner they must never see
    /// (PRODUCT.md §1). A partner that loses the work is not told who gets it.
    async fn announce_assignments(
        &self,
        tx: &mut Box<dyn Tx>,
        project: &Project,
        before: &[Assignment],
    ) -> AppResult<()> {
        let key = |a: &Assignment| (a.language.clone(), a.service);
        let old: BTreeMap<(LanguageTag, Service), OrgId> =
            before.iter().map(|a| (key(a), a.org_id)).collect();
        let new: BTreeMap<(LanguageTag, Service), OrgId> = project
            .assignments
            .iter()
            .map(|a| (key(a), a.org_id))
            .collect();
        let mut notes: Vec<(domain::ChannelKind, String)> = Vec::new();
        let keys: BTreeSet<&(LanguageTag, Service)> = old.keys().chain(new.keys()).collect();
        for k in keys {
            let (language, service) = k;
            let (was, is) = (old.get(k), new.get(k));
            if was == is {
                continue;
            }
            let what = format!(
                "{} for {} ({language})",
                service.label(),
                language.display_name()
            );
            if let Some(org) = was {
                let name = org_name(tx, *org).await?;
                notes.push((
                    domain::ChannelKind::Vendor(language.clone(), *org),
                    format!(
                        "{what} on {} is no longer assigned to {name}.",
                        project.name
                    ),
                ));
            }
            if let Some(org) = is {
                let name = org_name(tx, *org).await?;
                notes.push((
                    domain::ChannelKind::Vendor(language.clone(), *org),
                    format!(
                        "{what} on {} is now assigned to {name}. This channel is private between {name} and the studio.",
                        project.name
                    ),
                ));
            }
        }
        if notes.is_empty() {
            return Ok(());
        }
        let channels = tx.list_channels(project.id).await?;
        for (kind, text) in notes {
            if let Some(channel) = channels.iter().find(|c| c.kind == kind) {
                self.post_as_robot(tx, channel, &project.assignments, &text)
                    .await?;
            }
        }
        Ok(())
    }

    pub async fn create_project(
        &self,
        actor: Actor<'_>,
        input: &ProjectInput,
    ) -> AppResult<Project> {
        authorize_actor(actor, Action::CreateProject, Resource::Portal).check()?;
        let mut tx = self.store.begin().await?;
        let project = self
            .build_project(&mut tx, ProjectId::new(), input, None)
            .await?;
        tx.insert_project(&project, self.now()).await?;
        tx.ensure_channels(
            project.id,
            &domain::channels::channel_kinds_for(&project.assignments),
        )
        .await?;
        self.announce_assignments(&mut tx, &project, &[]).await?;
        tx.commit().await?;
        self.events.kick();
        tracing::info!(project = %project.id, movie_id = %project.movie_id, "project created");
        Ok(project)
    }

    pub async fn update_project(
        &self,
        actor: Actor<'_>,
        id: ProjectId,
        input: &ProjectInput,
    ) -> AppResult<Project> {
        let mut tx = self.store.begin().await?;
        let existing = tx.get_project(id).await?.ok_or(AppError::NotFound)?;
        let orgs: Vec<OrgId> = existing.assigned_orgs().into_iter().collect();
        authorize_actor(
            actor,
            Action::EditProject,
            Resource::Project {
                assigned_orgs: &orgs,
            },
        )
        .check()?;
        let project = self
            .build_project(&mut tx, id, input, Some(&existing))
            .await?;
        tx.update_project(&project, self.now()).await?;
        tx.ensure_channels(
            project.id,
            &domain::channels::channel_kinds_for(&project.assignments),
        )
        .await?;
        self.announce_assignments(&mut tx, &project, &existing.assignments)
            .await?;
        tx.commit().await?;
        self.events.kick();
        Ok(project)
    }

    /// The project as `who` may see it; "not found" when they may not see it at all.
    pub async fn view_project(&self, who: &Authenticated, id: ProjectId) -> AppResult<ProjectView> {
        let mut tx = self.store.read().await?;
        let project = tx.get_project(id).await?.ok_or(AppError::NotFound)?;
        let orgs: Vec<OrgId> = project.assigned_orgs().into_iter().collect();
        let resource = Resource::Project {
            assigned_orgs: &orgs,
        };
        authorize(Some(&who.subject), Action::ViewProject, resource).check()?;
        let can_edit = authorize(Some(&who.subject), Action::EditProject, resource).is_allowed();
        let following = tx.is_following(who.user.id, id).await?;
        let assignments: Vec<Assignment> =
            visible_assignments(&who.subject, &project.assignments, |a| a.org_id)
                .into_iter()
                .cloned()
                .collect();
        let target_languages = visible_languages(
            &who.subject,
            &project.target_languages,
            &project.assignments,
        );
        let mut org_names = BTreeMap::new();
        for org_id in assignments
            .iter()
            .map(|a| a.org_id)
            .collect::<BTreeSet<_>>()
        {
            if let Some(org) = tx.get_org(org_id).await? {
                org_names.insert(org_id, org.name.to_string());
            }
        }
        Ok(ProjectView {
            project: Project {
                assignments,
                target_languages,
                ..project
            },
            org_names,
            following,
            can_edit,
        })
    }

    /// The unfiltered project, for the edit form of someone allowed to edit it.
    pub async fn project_for_edit(&self, who: &Authenticated, id: ProjectId) -> AppResult<Project> {
        let mut tx = self.store.read().await?;
        let project = tx.get_project(id).await?.ok_or(AppError::NotFound)?;
        let orgs: Vec<OrgId> = project.assigned_orgs().into_iter().collect();
        authorize(
            Some(&who.subject),
            Action::EditProject,
            Resource::Project {
                assigned_orgs: &orgs,
            },
        )
        .check()?;
        Ok(project)
    }

    /// Titles `who` may see whose name contains `query` or whose movie ID starts with it: exact
    /// movie-ID matches first, then by name; one page of at most `limit`, after the key `after`.
    /// A row the policy refuses is left out of the page, which may then be shorter than `limit`
    /// while `next` still continues the list.
    pub async fn find_projects(
        &self,
        who: &Authenticated,
        query: &str,
        after: Option<ProjectKey>,
        limit: u32,
    ) -> AppResult<Page<ProjectRow, ProjectKey>> {
        crate::auth::require(who, Action::UsePortal)?;
        let scope = ProjectScope::for_subject(&who.subject);
        let mut tx = self.store.read().await?;
        let found = tx
            .find_projects(scope, query.trim(), after.as_ref(), limit.clamp(1, 200))
            .await?;
        let followed: BTreeSet<ProjectId> = tx
            .followed_projects(who.user.id, scope)
            .await?
            .into_iter()
            .map(|p| p.id)
            .collect();
        Ok(Page {
            items: rows_for(&who.subject, found.items, &followed),
            next: found.next,
        })
    }

    /// My Projects: the projects `who` follows and may still see.
    pub async fn my_projects(&self, who: &Authenticated) -> AppResult<Vec<ProjectRow>> {
        crate::auth::require(who, Action::UsePortal)?;
        let scope = ProjectScope::for_subject(&who.subject);
        let mut tx = self.store.read().await?;
        let followed = tx.followed_projects(who.user.id, scope).await?;
        let ids: BTreeSet<ProjectId> = followed.iter().map(|p| p.id).collect();
        Ok(rows_for(&who.subject, followed, &ids))
    }

    pub async fn follow(&self, who: &Authenticated, id: ProjectId, follow: bool) -> AppResult<()> {
        let mut tx = self.store.begin().await?;
        let project = tx.get_project(id).await?.ok_or(AppError::NotFound)?;
        let orgs: Vec<OrgId> = project.assigned_orgs().into_iter().collect();
        authorize(
            Some(&who.subject),
            Action::FollowProject,
            Resource::Project {
                assigned_orgs: &orgs,
            },
        )
        .check()?;
        if follow {
            tx.follow(who.user.id, id, self.now()).await?;
        } else {
            tx.unfollow(who.user.id, id).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Partner organisations a project editor can assign.
    pub async fn assignable_partners(
        &self,
        who: &Authenticated,
    ) -> AppResult<Vec<domain::Organisation>> {
        authorize(Some(&who.subject), Action::CreateProject, Resource::Portal).check()?;
        let mut tx = self.store.read().await?;
        Ok(tx
            .list_orgs()
            .await?
            .into_iter()
            .filter(|o| o.kind == OrgKind::Partner)
            .collect())
    }
}

/// Turns store rows into what this subject may see, re-checking each row against the policy
/// (the store already filtered by scope; this is the second lock on the door).
pub(crate) fn rows_for(
    subject: &Subject,
    found: Vec<ProjectSummary>,
    followed: &BTreeSet<ProjectId>,
) -> Vec<ProjectRow> {
    found
        .into_iter()
        .filter(|p| {
            let orgs = p.assigned_orgs();
            authorize(
                Some(subject),
                Action::ViewProject,
                Resource::Project {
                    assigned_orgs: &orgs,
                },
            )
            .is_allowed()
        })
        .map(|p| ProjectRow {
            languages: visible_languages(subject, &p.target_languages, &p.assignments),
            following: followed.contains(&p.id),
            id: p.id,
            movie_id: p.movie_id,
            name: p.name,
            kind: p.kind,
            original_language: p.original_language,
        })
        .collect()
}

/// "Not found" unless `who` may see the project (a partner only while assigned to it).
pub(crate) fn may_view(who: &Authenticated, project: &Project) -> AppResult<()> {
    let orgs: Vec<OrgId> = project.assigned_orgs().into_iter().collect();
    authorize(
        Some(&who.subject),
        Action::ViewProject,
        Resource::Project {
            assigned_orgs: &orgs,
        },
    )
    .check()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn episode_lines_round_trip() {
        let parsed =
            parse_episode_lines("s1e1 81000001 Pilot\n\nS1E2 81000002\nS2E1 81000010 New Dawn")
                .unwrap_or_default();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[0].episodes.len(), 2);
        assert_eq!(parsed[0].episodes[0].name.as_deref(), Some("Pilot"));
        assert_eq!(parsed[1].number, 2);
        assert!(parse_episode_lines("E1 81000001").is_err());
        assert!(parse_episode_lines("S1E1").is_err());
    }
}
