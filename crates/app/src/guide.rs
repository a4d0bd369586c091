//! The Show Guide of a title: characters, key names and phrases with a translation per target
//! language, and reference files. Every change is one transaction that makes a new version and
//! records a revision per item it touched (`domain::guide::Revision`), so the difference between
//! any two versions is exact; publishing announces the difference since the last published
//! version in Broadcast, in counts only (`domain::guide::announcement`). Every use case asks
//! `domain::policy::authorize_guide`.

use crate::auth::Authenticated;
use crate::files::Staged;
use crate::{App, AppError, AppResult, FieldErrors};
use domain::guide::{
    CharacterKind, DiffEntry, ItemKind, KeyCategory, Revision, TranslationEvent, TranslationStatus,
    diff, translation_apply,
};
use domain::policy::{GuideAction, GuideFacts, authorize_guide};
use domain::{ChannelKind, GuideItemId, LanguageTag, OrgId, Project, ProjectId, UserId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use store::{GuideItemFilter, GuideItemRecord, GuideVersionRecord, Tx};

/// A file kept with the guide (a pronunciation recording, a reference file).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    pub key: String,
    pub name: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CharacterData {
    pub name: String,
    /// `main`, `secondary` or `walla`.
    pub kind: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub age_range: String,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub pronunciation: String,
    #[serde(default)]
    pub pronunciation_file: Option<FileRef>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyNameData {
    pub term: String,
    /// `person`, `location`, `organization` or `phrase`.
    pub category: String,
    #[serde(default)]
    pub context: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TranslationData {
    pub text: String,
    pub status: String,
    #[serde(default)]
    pub proposed_by: Option<UserId>,
    #[serde(default)]
    pub decided_by: Option<UserId>,
    /// Why it was rejected, or a note with the proposal.
    #[serde(default)]
    pub note: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReferenceData {
    pub file: FileRef,
}

/// A character, as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CharacterInput {
    pub name: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub age_range: String,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub pronunciation: String,
}

/// A key name, as typed.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct KeyNameInput {
    pub term: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub context: String,
}

/// A key name with the translations the viewer may see.
#[derive(Clone, Debug)]
pub struct KeyRow {
    pub id: GuideItemId,
    pub data: KeyNameData,
    /// Per visible language: its translation, if any.
    pub translations: Vec<(LanguageTag, Option<TranslationData>)>,
}

/// The Show Guide as one viewer sees it.
#[derive(Clone, Debug)]
pub struct GuideView {
    pub project: Project,
    pub version: u32,
    pub published: u32,
    /// The version the viewer had opened before this visit.
    pub last_read: u32,
    /// What changed since then (translations only of the viewer's languages).
    pub changes: Vec<DiffEntry>,
    pub characters: Vec<(GuideItemId, CharacterData)>,
    pub key_names: Vec<KeyRow>,
    pub references: Vec<(GuideItemId, ReferenceData)>,
    /// The languages whose translations the viewer sees (the studio: the chosen one).
    pub languages: Vec<LanguageTag>,
    /// Every target language the viewer may pick (the studio: all of them).
    pub language_choices: Vec<LanguageTag>,
    pub may_edit: bool,
    /// Languages the viewer may propose translations in.
    pub may_propose: Vec<LanguageTag>,
    pub versions: Vec<GuideVersionRecord>,
    /// Who is cast for each character, in the languages the viewer may see the selection of.
    pub cast: BTreeMap<(GuideItemId, LanguageTag), String>,
}

impl GuideView {
    /// The talents cast for a character, as "es-ES: Lucia".
    pub fn cast_of(&self, character: &GuideItemId) -> Vec<String> {
        self.cast
            .iter()
            .filter(|((c, _), _)| c == character)
            .map(|((_, l), t)| format!("{l}: {t}"))
            .collect()
    }
}

/// Everything a decision about a title's guide needs.
struct Scope {
    project: Project,
    orgs: Vec<OrgId>,
    script_viewer: bool,
}

impl Scope {
    async fn load(tx: &mut Box<dyn Tx>, who: &Authenticated, id: ProjectId) -> AppResult<Self> {
        let project = tx.get_project(id).await?.ok_or(AppError::NotFound)?;
        let script_viewer = !who.subject.is_studio()
            && tx
                .script_viewer_projects(who.user.id)
                .await?
                .contains(&project.id);
        let orgs = project.assigned_orgs().into_iter().collect();
        Ok(Self {
            project,
            orgs,
            script_viewer,
        })
    }

    fn language_orgs(&self, language: Option<&LanguageTag>) -> Vec<OrgId> {
        self.project
            .assignments
            .iter()
            .filter(|a| Some(&a.language) == language)
            .map(|a| a.org_id)
            .collect()
    }

    fn decide(
        &self,
        who: &Authenticated,
        action: GuideAction,
        language: Option<&LanguageTag>,
    ) -> domain::Decision {
        let language_orgs = self.language_orgs(language);
        authorize_guide(
            Some(&who.subject),
            action,
            &GuideFacts {
                assigned_orgs: &self.orgs,
                language_orgs: &language_orgs,
                script_viewer: self.script_viewer,
            },
        )
    }

    fn may(
        &self,
        who: &Authenticated,
        action: GuideAction,
        language: Option<&LanguageTag>,
    ) -> bool {
        self.decide(who, action, language).is_allowed()
    }

    fn check(
        &self,
        who: &Authenticated,
        action: GuideAction,
        language: Option<&LanguageTag>,
    ) -> AppResult<()> {
        self.decide(who, action, language).check()?;
        Ok(())
    }

    /// The target languages whose translations `who` may see.
    fn visible_languages(&self, who: &Authenticated) -> Vec<LanguageTag> {
        self.project
            .target_languages
            .iter()
            .filter(|l| self.may(who, GuideAction::SeeTranslation, Some(l)))
            .cloned()
            .collect()
    }
}

fn json<T: Serialize>(v: &T) -> AppResult<String> {
    serde_json::to_string(v).map_err(|e| AppError::Internal(e.to_string()))
}

fn parse<T: for<'de> Deserialize<'de>>(item: &GuideItemRecord) -> AppResult<T> {
    serde_json::from_str(&item.data)
        .map_err(|e| AppError::Internal(format!("guide item {}: {e}", item.id)))
}

/// An item as one line of text, for the revisions (what a diff shows before and after).
fn shown(kind: ItemKind, data: &str) -> String {
    let text = match kind {
        ItemKind::Character => serde_json::from_str::<CharacterData>(data).ok().map(|c| {
            let mut parts = vec![format!("{} ({})", c.name, c.kind)];
            for (label, v) in [
                ("", &c.description),
                ("age ", &c.age_range),
                ("notes: ", &c.notes),
                ("says ", &c.pronunciation),
            ] {
                if !v.is_empty() {
                    parts.push(format!("{label}{v}"));
                }
            }
            if let Some(f) = &c.pronunciation_file {
                parts.push(format!("recording {}", f.name));
            }
            parts.join(" · ")
        }),
        ItemKind::KeyName => serde_json::from_str::<KeyNameData>(data).ok().map(|k| {
            if k.context.is_empty() {
                format!("{} ({})", k.term, k.category)
            } else {
                format!("{} ({}) · {}", k.term, k.category, k.context)
            }
        }),
        ItemKind::Translation => serde_json::from_str::<TranslationData>(data)
            .ok()
            .map(|t| format!("{} ({})", t.text, t.status)),
        ItemKind::Reference => serde_json::from_str::<ReferenceData>(data)
            .ok()
            .map(|r| r.file.name),
    };
    text.unwrap_or_else(|| data.to_string())
}

fn one_line(field: &str, s: &str, max: usize, errors: &mut FieldErrors) -> String {
    let t = s.trim();
    if t.chars().count() > max {
        errors.add(field, format!("at most {max} characters"));
    }
    if t.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        errors.add(field, "remove the control characters");
    }
    t.to_string()
}

impl App {
    /// Writes a change: the next version of the title's guide with its revisions, inside the
    /// caller's transaction. The version's summary says what happened in words.
    async fn guide_change(
        &self,
        tx: &mut Box<dyn Tx>,
        who: &Authenticated,
        project: ProjectId,
        summary: String,
        mut revisions: Vec<Revision>,
    ) -> AppResult<u32> {
        tx.lock_project_requests(project).await?;
        let version = tx.guide_version(project).await? + 1;
        for r in &mut revisions {
            r.version = version;
        }
        // A change to one language's translations only is that language's business.
        let first_language = revisions.first().and_then(|r| r.language.clone());
        let language = first_language.filter(|l| {
            revisions
                .iter()
                .all(|r| r.kind == ItemKind::Translation && r.language.as_ref() == Some(l))
        });
        tx.insert_guide_version(&GuideVersionRecord {
            project_id: project,
            version,
            actor_id: Some(who.user.id),
            summary,
            language,
            published_at: None,
            created_at: self.now(),
        })
        .await?;
        tx.insert_guide_revisions(project, &revisions).await?;
        Ok(version)
    }

    /// The guide as `who` sees it; `language` picks the studio's translation column. Opening it
    /// records the version as read (what changed since is shown first).
    pub async fn view_guide(
        &self,
        who: &Authenticated,
        project_id: ProjectId,
        language: Option<&str>,
    ) -> AppResult<GuideView> {
        let mut tx = self.store.read().await?;
        let scope = Scope::load(&mut tx, who, project_id).await?;
        scope.check(who, GuideAction::See, None)?;
        let visible = scope.visible_languages(who);
        let chosen = match language.map(str::trim).filter(|l| !l.is_empty()) {
            Some(l) => {
                let tag = LanguageTag::parse(l).map_err(|e| AppError::invalid("language", e.0))?;
                if !visible.contains(&tag) {
                    // Said the same way for every language, so it tells nothing of others.
                    return Err(AppError::invalid(
                        "language",
                        "that is not one of the languages you may see on this title",
                    ));
                }
                vec![tag]
            }
            // One language at a time (a title may have twenty): first one dubbed (by the
            // viewer's organisation, for a partner), else the first the viewer sees.
            None => {
                let dubbed = |l: &LanguageTag| {
                    scope.project.assignments.iter().any(|a| {
                        &a.language == l
                            && a.service == domain::Service::Dubbing
                            && (who.subject.is_studio() || a.org_id == who.org.id)
                    })
                };
                visible
                    .iter()
                    .find(|l| dubbed(l))
                    .or(visible.first())
                    .cloned()
                    .into_iter()
                    .collect()
            }
        };
        let items = tx
            .guide_items(
                project_id,
                &GuideItemFilter {
                    languages: Some(chosen.clone()),
                    no_translations: false,
                },
            )
            .await?;
        let version = tx.guide_version(project_id).await?;
        let versions = tx.guide_versions(project_id).await?;
        let published = versions
            .iter()
            .find(|v| v.published_at.is_some())
            .map_or(0, |v| v.version);
        let last_read = tx.guide_read(who.user.id, project_id).await?;
        let selection_languages: Vec<LanguageTag> = scope
            .project
            .target_languages
            .iter()
            .filter(|l| scope.may(who, GuideAction::SeeSelection, Some(l)))
            .cloned()
            .collect();
        let partner = (!who.subject.is_studio()).then_some(who.org.id);
        let cast = self
            .selection(&mut tx, project_id, &selection_languages, partner)
            .await?;
        let changes = if last_read < version && last_read > 0 {
            let revs = tx.guide_revisions(project_id, last_read, version).await?;
            diff(&revs, last_read, version)
                .into_iter()
                .filter(|e| e.language.as_ref().is_none_or(|l| visible.contains(l)))
                .collect()
        } else {
            Vec::new()
        };
        // A version that only touched other languages' translations is not the viewer's
        // business: it is left out of the list (its number stays a gap).
        let versions: Vec<GuideVersionRecord> = versions
            .into_iter()
            .filter(|v| v.language.as_ref().is_none_or(|l| visible.contains(l)))
            .collect();
        drop(tx);
        let mut characters = Vec::new();
        let mut keys: Vec<(GuideItemId, KeyNameData)> = Vec::new();
        let mut references = Vec::new();
        let mut translations: BTreeMap<(GuideItemId, LanguageTag), TranslationData> =
            BTreeMap::new();
        for item in &items {
            match item.kind {
                ItemKind::Character => characters.push((item.id, parse(item)?)),
                ItemKind::KeyName => keys.push((item.id, parse(item)?)),
                ItemKind::Reference => references.push((item.id, parse(item)?)),
                ItemKind::Translation => {
                    if let (Some(parent), Some(l)) = (item.parent_id, item.language.clone()) {
                        translations.insert((parent, l), parse(item)?);
                    }
                }
            }
        }
        let key_names = keys
            .into_iter()
            .map(|(id, data)| KeyRow {
                id,
                translations: chosen
                    .iter()
                    .map(|l| (l.clone(), translations.get(&(id, l.clone())).cloned()))
                    .collect(),
                data,
            })
            .collect();
        if last_read != version {
            let mut tx = self.store.begin().await?;
            tx.set_guide_read(who.user.id, project_id, version).await?;
            tx.commit().await?;
        }
        let may_propose = visible
            .iter()
            .filter(|l| scope.may(who, GuideAction::ProposeTranslation, Some(l)))
            .cloned()
            .collect();
        let mut project = scope.project.clone();
        if !who.subject.is_studio() {
            project.assignments.retain(|a| a.org_id == who.org.id);
        }
        Ok(GuideView {
            may_edit: scope.may(who, GuideAction::Edit, None),
            project,
            version,
            published,
            last_read,
            changes,
            characters,
            key_names,
            references,
            languages: chosen,
            language_choices: visible,
            may_propose,
            versions: versions.into_iter().take(20).collect(),
            cast,
        })
    }

    /// Adds a character (`id` none) or changes one, with an optional pronunciation recording.
    pub async fn save_character(
        &self,
        who: &Authenticated,
        project_id: ProjectId,
        id: Option<GuideItemId>,
        input: &CharacterInput,
        mut recording: Option<Staged>,
    ) -> AppResult<GuideItemId> {
        let mut errors = FieldErrors::new();
        let name = one_line("name", &input.name, 120, &mut errors);
        if name.is_empty() {
            errors.add("name", "give the character a name");
        }
        let kind = errors.take(
            "kind",
            CharacterKind::parse(if input.kind.trim().is_empty() {
                "main"
            } else {
                &input.kind
            })
            .map_err(domain::ValueError),
        );
        let data = CharacterData {
            name,
            kind: kind.map(|k| k.as_str().to_string()).unwrap_or_default(),
            description: one_line("description", &input.description, 2000, &mut errors),
            age_range: one_line("age_range", &input.age_range, 40, &mut errors),
            notes: one_line("notes", &input.notes, 4000, &mut errors),
            pronunciation: one_line("pronunciation", &input.pronunciation, 200, &mut errors),
            pronunciation_file: None,
        };
        errors.into_result()?;
        self.save_item(
            who,
            project_id,
            id,
            ItemKind::Character,
            data,
            recording.as_mut(),
        )
        .await
    }

    /// Adds a key name (`id` none) or changes one.
    pub async fn save_key_name(
        &self,
        who: &Authenticated,
        project_id: ProjectId,
        id: Option<GuideItemId>,
        input: &KeyNameInput,
    ) -> AppResult<GuideItemId> {
        let mut errors = FieldErrors::new();
        let term = one_line("term", &input.term, 200, &mut errors);
        if term.is_empty() {
            errors.add("term", "write the term as it is in the original");
        }
        let category = errors.take(
            "category",
            KeyCategory::parse(if input.category.trim().is_empty() {
                "person"
            } else {
                &input.category
            })
            .map_err(domain::ValueError),
        );
        let data = KeyNameData {
            term,
            category: category.map(|c| c.as_str().to_string()).unwrap_or_default(),
            context: one_line("context", &input.context, 2000, &mut errors),
        };
        errors.into_result()?;
        self.save_item(who, project_id, id, ItemKind::KeyName, data, None)
            .await
    }

    /// Adds a reference file.
    pub async fn add_reference(
        &self,
        who: &Authenticated,
        project_id: ProjectId,
        mut file: Staged,
    ) -> AppResult<GuideItemId> {
        let data = ReferenceData {
            file: FileRef {
                key: String::new(),
                name: file.name.to_string(),
                size: file.size,
                sha256: file.sha256.clone(),
            },
        };
        self.save_item(
            who,
            project_id,
            None,
            ItemKind::Reference,
            data,
            Some(&mut file),
        )
        .await
    }

    /// Whether `who` may edit `project`'s guide (asked before an upload's first byte).
    pub async fn may_edit_guide(
        &self,
        who: &Authenticated,
        project_id: ProjectId,
    ) -> AppResult<()> {
        let mut tx = self.store.read().await?;
        let scope = Scope::load(&mut tx, who, project_id).await?;
        scope.check(who, GuideAction::See, None)?;
        scope.check(who, GuideAction::Edit, None)
    }

    async fn save_item<T: Serialize + for<'de> Deserialize<'de> + GuideData>(
        &self,
        who: &Authenticated,
        project_id: ProjectId,
        id: Option<GuideItemId>,
        kind: ItemKind,
        mut data: T,
        file: Option<&mut Staged>,
    ) -> AppResult<GuideItemId> {
        let mut tx = self.store.begin().await?;
        let scope = Scope::load(&mut tx, who, project_id).await?;
        scope.check(who, GuideAction::See, None)?;
        scope.check(who, GuideAction::Edit, None)?;
        let now = self.now();
        let key = file
            .as_ref()
            .map(|_| format!("guide/{}", GuideItemId::new()));
        let before = match id {
            Some(id) => {
                let item = tx
                    .get_guide_item(id)
                    .await?
                    .filter(|i| {
                        i.project_id == project_id && i.kind == kind && i.removed_at.is_none()
                    })
                    .ok_or(AppError::NotFound)?;
                let old: T = parse(&item)?;
                data.keep_file_from(&old);
                Some(item)
            }
            None => None,
        };
        if let (Some(f), Some(k)) = (&file, &key) {
            data.set_file(FileRef {
                key: k.clone(),
                name: f.name.to_string(),
                size: f.size,
                sha256: f.sha256.clone(),
            });
        }
        let body = json(&data)?;
        let item = match &before {
            Some(b) => GuideItemRecord {
                data: body.clone(),
                updated_at: now,
                ..b.clone()
            },
            None => GuideItemRecord {
                id: GuideItemId::new(),
                project_id,
                kind,
                parent_id: None,
                language: None,
                position: now.unix_timestamp(),
                data: body.clone(),
                removed_at: None,
                created_at: now,
                updated_at: now,
            },
        };
        let old_text = before.as_ref().map(|b| shown(kind, &b.data));
        let new_text = shown(kind, &body);
        if old_text.as_deref() == Some(new_text.as_str()) && file.is_none() {
            return Ok(item.id);
        }
        match &before {
            Some(_) => tx.update_guide_item(&item).await?,
            None => tx.insert_guide_item(&item).await?,
        }
        let verb = if before.is_some() { "Changed" } else { "Added" };
        self.guide_change(
            &mut tx,
            who,
            project_id,
            format!("{verb} {} {}", kind_word(kind), data.name()),
            vec![Revision {
                version: 0,
                kind,
                item: item.id.to_string(),
                language: None,
                name: data.name(),
                before: old_text,
                after: Some(new_text),
            }],
        )
        .await?;
        match (file, key) {
            (Some(f), Some(k)) => self.keep_and_commit(tx, vec![(f, k)]).await?,
            _ => tx.commit().await?,
        }
        Ok(item.id)
    }

    /// Removes a character, key name (with its translations) or reference file.
    pub async fn remove_guide_item(
        &self,
        who: &Authenticated,
        project_id: ProjectId,
        id: GuideItemId,
    ) -> AppResult<()> {
        let mut tx = self.store.begin().await?;
        let scope = Scope::load(&mut tx, who, project_id).await?;
        scope.check(who, GuideAction::See, None)?;
        scope.check(who, GuideAction::Edit, None)?;
        let item = tx
            .get_guide_item(id)
            .await?
            .filter(|i| {
                i.project_id == project_id
                    && i.removed_at.is_none()
                    && i.kind != ItemKind::Translation
            })
            .ok_or(AppError::NotFound)?;
        let now = self.now();
        let name = item_name(&item);
        let mut revisions = vec![Revision {
            version: 0,
            kind: item.kind,
            item: item.id.to_string(),
            language: None,
            name: name.clone(),
            before: Some(shown(item.kind, &item.data)),
            after: None,
        }];
        tx.update_guide_item(&GuideItemRecord {
            removed_at: Some(now),
            updated_at: now,
            ..item.clone()
        })
        .await?;
        if item.kind == ItemKind::KeyName {
            for t in tx
                .guide_items(project_id, &GuideItemFilter::default())
                .await?
                .into_iter()
                .filter(|t| t.parent_id == Some(id))
            {
                revisions.push(Revision {
                    version: 0,
                    kind: ItemKind::Translation,
                    item: id.to_string(),
                    language: t.language.clone(),
                    name: name.clone(),
                    before: Some(shown(ItemKind::Translation, &t.data)),
                    after: None,
                });
                tx.update_guide_item(&GuideItemRecord {
                    removed_at: Some(now),
                    updated_at: now,
                    ..t
                })
                .await?;
            }
        }
        self.guide_change(
            &mut tx,
            who,
            project_id,
            format!("Removed {} {name}", kind_word(item.kind)),
            revisions,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Proposes (a partner) or sets (the studio: approved at once) a key name's translation.
    pub async fn propose_translation(
        &self,
        who: &Authenticated,
        key: GuideItemId,
        language: &str,
        text: &str,
    ) -> AppResult<TranslationStatus> {
        let mut errors = FieldErrors::new();
        let text = one_line("text", text, 500, &mut errors);
        if text.is_empty() {
            errors.add("text", "write the translation");
        }
        errors.into_result()?;
        self.translation_event(who, key, language, TranslationEvent::Propose, &text, "")
            .await
    }

    /// Approves or rejects (with a reason) a key name's translation (the studio).
    pub async fn decide_translation(
        &self,
        who: &Authenticated,
        key: GuideItemId,
        language: &str,
        approve: bool,
        note: &str,
    ) -> AppResult<TranslationStatus> {
        let event = if approve {
            TranslationEvent::Approve
        } else {
            TranslationEvent::Reject
        };
        let mut errors = FieldErrors::new();
        let note = one_line("note", note, 1000, &mut errors);
        if !approve && note.is_empty() {
            errors.add("note", "say why the translation is rejected");
        }
        errors.into_result()?;
        self.translation_event(who, key, language, event, "", &note)
            .await
    }

    async fn translation_event(
        &self,
        who: &Authenticated,
        key: GuideItemId,
        language: &str,
        event: TranslationEvent,
        text: &str,
        note: &str,
    ) -> AppResult<TranslationStatus> {
        let language =
            LanguageTag::parse(language).map_err(|e| AppError::invalid("language", e.0))?;
        let mut tx = self.store.begin().await?;
        let key_item = tx
            .get_guide_item(key)
            .await?
            .filter(|i| i.kind == ItemKind::KeyName && i.removed_at.is_none())
            .ok_or(AppError::NotFound)?;
        let scope = Scope::load(&mut tx, who, key_item.project_id).await?;
        scope.check(who, GuideAction::See, None)?;
        scope.check(who, GuideAction::SeeTranslation, Some(&language))?;
        let action = match event {
            TranslationEvent::Propose => GuideAction::ProposeTranslation,
            _ => GuideAction::DecideTranslation,
        };
        scope.check(who, action, Some(&language))?;
        if !scope.project.target_languages.contains(&language) {
            return Err(AppError::invalid(
                "language",
                format!("{language} is not a target language of this title"),
            ));
        }
        let existing = tx
            .guide_translation(key, &language)
            .await?
            .filter(|t| t.removed_at.is_none());
        let old: Option<TranslationData> = existing.as_ref().map(parse).transpose()?;
        let old_proposer = old.as_ref().and_then(|t| t.proposed_by);
        let status = old
            .as_ref()
            .and_then(|t| TranslationStatus::parse(&t.status));
        let next = translation_apply(status, event, who.subject.is_studio())
            .map_err(|e| AppError::conflict("status", e))?;
        let data = match (event, old.clone()) {
            (TranslationEvent::Propose, _) => TranslationData {
                text: text.to_string(),
                status: next.as_str().into(),
                proposed_by: Some(who.user.id),
                decided_by: who.subject.is_studio().then_some(who.user.id),
                note: String::new(),
            },
            (_, Some(t)) => TranslationData {
                status: next.as_str().into(),
                decided_by: Some(who.user.id),
                note: note.to_string(),
                ..t
            },
            (_, None) => return Err(AppError::NotFound),
        };
        let body = json(&data)?;
        let now = self.now();
        match tx.guide_translation(key, &language).await? {
            Some(row) => {
                tx.update_guide_item(&GuideItemRecord {
                    data: body.clone(),
                    removed_at: None,
                    updated_at: now,
                    ..row
                })
                .await?
            }
            None => {
                tx.insert_guide_item(&GuideItemRecord {
                    id: GuideItemId::new(),
                    project_id: key_item.project_id,
                    kind: ItemKind::Translation,
                    parent_id: Some(key),
                    language: Some(language.clone()),
                    position: 0,
                    data: body.clone(),
                    removed_at: None,
                    created_at: now,
                    updated_at: now,
                })
                .await?
            }
        }
        let term = item_name(&key_item);
        self.guide_change(
            &mut tx,
            who,
            key_item.project_id,
            format!("Translation of {term} ({language}): {}", next.as_str()),
            vec![Revision {
                version: 0,
                kind: ItemKind::Translation,
                item: key.to_string(),
                language: Some(language.clone()),
                name: term.clone(),
                before: old.map(|o| shown(ItemKind::Translation, &json(&o).unwrap_or_default())),
                after: Some(shown(ItemKind::Translation, &body)),
            }],
        )
        .await?;
        // A proposal tells the studio, a decision the partner: in the language's channels.
        let text = match event {
            TranslationEvent::Propose if !who.subject.is_studio() => Some(format!(
                "{} proposed «{}» for the key name {term} ({language}) in the Show Guide",
                who.user.display_name.as_str(),
                data.text
            )),
            TranslationEvent::Approve | TranslationEvent::Reject => Some(format!(
                "The studio {} «{}» for the key name {term} ({language}){}",
                if next == TranslationStatus::Approved {
                    "approved"
                } else {
                    "rejected"
                },
                data.text,
                if note.is_empty() {
                    String::new()
                } else {
                    format!(": {note}")
                }
            )),
            _ => None,
        };
        // Told only in the channel of the partner who proposed (another partner may work in
        // the same language, for other services: it hears nothing of this).
        let partner = match event {
            TranslationEvent::Propose if !who.subject.is_studio() => Some(who.org.id),
            TranslationEvent::Propose => None,
            _ => match old_proposer {
                Some(u) => tx
                    .get_user(u)
                    .await?
                    .filter(|u| u.org.kind == domain::OrgKind::Partner)
                    .map(|u| u.org.id),
                None => None,
            },
        };
        if let (Some(text), Some(partner)) = (text, partner) {
            let kind = ChannelKind::Vendor(language.clone(), partner);
            if let Some(c) = tx
                .list_channels(key_item.project_id)
                .await?
                .into_iter()
                .find(|c| c.kind == kind)
            {
                self.post_as_robot(&mut tx, &c, &scope.project.assignments, &text)
                    .await?;
            }
        }
        tx.commit().await?;
        self.events.kick();
        Ok(next)
    }

    /// Publishes the newest version: the robot announces in Broadcast what changed since the
    /// last published version, in counts (never one language's translations).
    pub async fn publish_guide(
        &self,
        who: &Authenticated,
        project_id: ProjectId,
    ) -> AppResult<u32> {
        let mut tx = self.store.begin().await?;
        let scope = Scope::load(&mut tx, who, project_id).await?;
        scope.check(who, GuideAction::See, None)?;
        scope.check(who, GuideAction::Edit, None)?;
        tx.lock_project_requests(project_id).await?;
        let version = tx.guide_version(project_id).await?;
        if version == 0 {
            return Err(AppError::conflict(
                "version",
                "the Show Guide is empty: add characters or key names first",
            ));
        }
        let versions = tx.guide_versions(project_id).await?;
        let last = versions
            .iter()
            .find(|v| v.published_at.is_some())
            .map_or(0, |v| v.version);
        if last == version {
            return Err(AppError::conflict(
                "version",
                format!("v{version} is already published"),
            ));
        }
        let revs = tx.guide_revisions(project_id, last, version).await?;
        let text = domain::guide::announcement(version, &diff(&revs, last, version));
        tx.publish_guide_version(project_id, version, self.now())
            .await?;
        if let Some(broadcast) = tx
            .list_channels(project_id)
            .await?
            .into_iter()
            .find(|c| c.kind == ChannelKind::Broadcast)
        {
            self.post_as_robot(&mut tx, &broadcast, &scope.project.assignments, &text)
                .await?;
        }
        tx.commit().await?;
        self.events.kick();
        Ok(version)
    }

    /// What changed between two versions, as `who` may see it.
    pub async fn guide_diff(
        &self,
        who: &Authenticated,
        project_id: ProjectId,
        from: u32,
        to: u32,
    ) -> AppResult<Vec<DiffEntry>> {
        let mut tx = self.store.read().await?;
        let scope = Scope::load(&mut tx, who, project_id).await?;
        scope.check(who, GuideAction::See, None)?;
        let visible = scope.visible_languages(who);
        let revs = tx.guide_revisions(project_id, from, to).await?;
        Ok(diff(&revs, from, to)
            .into_iter()
            .filter(|e| e.language.as_ref().is_none_or(|l| visible.contains(l)))
            .collect())
    }

    /// The guide as CSV for the recording studio: characters, then key names with a column per
    /// language `who` may see.
    pub async fn guide_csv(&self, who: &Authenticated, project_id: ProjectId) -> AppResult<String> {
        let mut tx = self.store.read().await?;
        let scope = Scope::load(&mut tx, who, project_id).await?;
        scope.check(who, GuideAction::See, None)?;
        let visible = scope.visible_languages(who);
        let items = tx
            .guide_items(
                project_id,
                &GuideItemFilter {
                    languages: Some(visible.clone()),
                    no_translations: false,
                },
            )
            .await?;
        let mut out = String::from(
            "type,name,part or category,description or context,age,notes,pronunciation",
        );
        for l in &visible {
            out.push(',');
            out.push_str(&csv_cell(l.as_str()));
        }
        out.push('\n');
        let mut translations: BTreeMap<(GuideItemId, LanguageTag), TranslationData> =
            BTreeMap::new();
        for t in items.iter().filter(|i| i.kind == ItemKind::Translation) {
            if let (Some(p), Some(l)) = (t.parent_id, t.language.clone()) {
                translations.insert((p, l), parse(t)?);
            }
        }
        for item in &items {
            match item.kind {
                ItemKind::Character => {
                    let c: CharacterData = parse(item)?;
                    let cells = [
                        "character",
                        &c.name,
                        &c.kind,
                        &c.description,
                        &c.age_range,
                        &c.notes,
                        &c.pronunciation,
                    ];
                    out.push_str(&cells.map(csv_cell).join(","));
                    out.push_str(&",".repeat(visible.len()));
                }
                ItemKind::KeyName => {
                    let k: KeyNameData = parse(item)?;
                    let cells = ["key name", &k.term, &k.category, &k.context, "", "", ""];
                    out.push_str(&cells.map(csv_cell).join(","));
                    for l in &visible {
                        out.push(',');
                        if let Some(t) = translations.get(&(item.id, l.clone())) {
                            out.push_str(&csv_cell(&format!("{} ({})", t.text, t.status)));
                        }
                    }
                }
                _ => continue,
            }
            out.push('\n');
        }
        Ok(out)
    }

    /// A pronunciation recording or reference file of the guide, if `who` may see the guide.
    pub async fn open_guide_file(
        &self,
        who: &Authenticated,
        id: GuideItemId,
        range: Option<&str>,
    ) -> AppResult<crate::files::Served> {
        let mut tx = self.store.read().await?;
        let item = tx
            .get_guide_item(id)
            .await?
            .filter(|i| i.removed_at.is_none())
            .ok_or(AppError::NotFound)?;
        let scope = Scope::load(&mut tx, who, item.project_id).await?;
        scope.check(who, GuideAction::See, None)?;
        drop(tx);
        let file = match item.kind {
            ItemKind::Character => parse::<CharacterData>(&item)?.pronunciation_file,
            ItemKind::Reference => Some(parse::<ReferenceData>(&item)?.file),
            _ => None,
        }
        .ok_or(AppError::NotFound)?;
        self.serve(&file.key, &file.name, file.size, &file.sha256, range)
            .await
    }
}

/// What a kind of item holds in common: a name, and maybe a file.
pub trait GuideData {
    fn name(&self) -> String;
    fn set_file(&mut self, _file: FileRef) {}
    /// Keeps the file the item had when an edit sends none.
    fn keep_file_from(&mut self, _old: &Self) {}
}

impl GuideData for CharacterData {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn set_file(&mut self, file: FileRef) {
        self.pronunciation_file = Some(file);
    }
    fn keep_file_from(&mut self, old: &Self) {
        self.pronunciation_file = old.pronunciation_file.clone();
    }
}

impl GuideData for KeyNameData {
    fn name(&self) -> String {
        self.term.clone()
    }
}

impl GuideData for ReferenceData {
    fn name(&self) -> String {
        self.file.name.clone()
    }
    fn set_file(&mut self, file: FileRef) {
        self.file = file;
    }
}

fn kind_word(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Character => "the character",
        ItemKind::KeyName => "the key name",
        ItemKind::Translation => "the translation of",
        ItemKind::Reference => "the reference file",
    }
}

/// An item's name, from its data.
fn item_name(item: &GuideItemRecord) -> String {
    let v: serde_json::Value = serde_json::from_str(&item.data).unwrap_or_default();
    ["name", "term"]
        .iter()
        .find_map(|k| v.get(k).and_then(|x| x.as_str()).map(str::to_string))
        .or_else(|| {
            v.get("file")
                .and_then(|f| f.get("name"))
                .and_then(|x| x.as_str())
                .map(str::to_string)
        })
        .unwrap_or_default()
}

/// One CSV cell, quoted when needed; a leading `=`, `+`, `-` or `@` is made inert.
fn csv_cell(s: &str) -> String {
    let mut v = s.to_string();
    if v.starts_with(['=', '+', '-', '@']) {
        v.insert(0, '\'');
    }
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v
    }
}
