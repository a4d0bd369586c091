//! Casting: an audition is an audio request of kind `casting` for a character of the Show Guide,
//! one fulfilment per language (the same upload, checker and review as Moments). Partners send
//! talent samples (each a version, checked as `casting-sample`); the studio approves or rejects
//! each with feedback and casts an approved one. The casting overview is the matrix of
//! characters × languages with each cell's state.

use crate::auth::Authenticated;
use crate::{App, AppError, AppResult};
use domain::fulfilment::{AudioKind, FulfilmentState, SampleDecision, Side, casting_state};
use domain::guide::ItemKind;
use domain::policy::AudioAction;
use domain::{FulfilmentId, GuideItemId, LanguageTag, NoteId, OrgId, ProjectId, Service};
use std::collections::BTreeMap;
use store::{FulfilmentRecord, GuideItemFilter, NoteKind, NoteRecord, Tx};

/// One cell of the casting overview.
#[derive(Clone, Debug)]
pub struct CastingCell {
    pub fulfilment: FulfilmentId,
    pub state: FulfilmentState,
    pub samples: u32,
    /// The talent cast, once chosen.
    pub talent: Option<String>,
}

/// Characters × languages, as one viewer may see them.
#[derive(Clone, Debug)]
pub struct CastingMatrix {
    pub project_name: String,
    pub characters: Vec<(GuideItemId, String, String)>,
    pub languages: Vec<LanguageTag>,
    pub cells: BTreeMap<(GuideItemId, LanguageTag), CastingCell>,
    pub may_open: bool,
}

/// The decisions on an audition's samples, from its notes: the latest approval or rejection of
/// each version, and the version cast last.
pub(crate) fn sample_decisions(notes: &[NoteRecord]) -> (BTreeMap<u32, bool>, Option<u32>) {
    let mut approved = BTreeMap::new();
    let mut cast = None;
    for n in notes {
        match (n.kind, n.version) {
            (NoteKind::Approved, Some(v)) => {
                approved.insert(v, true);
            }
            (NoteKind::Rejected, Some(v)) => {
                approved.insert(v, false);
            }
            (NoteKind::Cast, Some(v)) => cast = Some(v),
            _ => {}
        }
    }
    // A cast sample rejected later is no longer cast.
    let cast = cast.filter(|v| approved.get(v).copied().unwrap_or(false));
    (approved, cast)
}

impl App {
    /// How many samples an audition has, how many are approved, and whether one is cast.
    pub(crate) async fn sample_facts(
        &self,
        tx: &mut Box<dyn Tx>,
        f: FulfilmentId,
    ) -> AppResult<(usize, usize, bool)> {
        let samples = tx.submissions_of(f).await?.len();
        let (approved, cast) = sample_decisions(&tx.notes_of(f).await?);
        Ok((
            samples,
            approved.values().filter(|a| **a).count(),
            cast.is_some(),
        ))
    }

    /// Approves or rejects (with feedback) one talent sample of an audition, or casts an
    /// approved one; the partner is told.
    pub async fn decide_sample(
        &self,
        who: &Authenticated,
        id: FulfilmentId,
        version: u32,
        decision: SampleDecision,
        body: &str,
    ) -> AppResult<FulfilmentState> {
        let mut tx = self.store.begin().await?;
        let (mut f, r, project) = self
            .load_fulfilment(&mut tx, who, id, AudioAction::Decide)
            .await?;
        if r.kind != AudioKind::Casting {
            return Err(AppError::invalid(
                "version",
                "only auditions are decided sample by sample",
            ));
        }
        let subs = tx.submissions_of(id).await?;
        let sample = subs.iter().find(|s| s.version == version).ok_or_else(|| {
            AppError::invalid("version", format!("there is no sample v{version}"))
        })?;
        let notes = tx.notes_of(id).await?;
        let (approved, _) = sample_decisions(&notes);
        let side = if who.subject.is_studio() {
            Side::Studio
        } else {
            Side::Partner
        };
        domain::fulfilment::decide_sample(
            decision,
            side,
            approved.get(&version).copied().unwrap_or(false),
        )
        .map_err(|e| AppError::conflict("decision", e.0))?;
        if decision == SampleDecision::Reject && body.trim().is_empty() {
            return Err(AppError::invalid(
                "body",
                "give the partner feedback: why this talent is not right",
            ));
        }
        let body = crate::fulfilment::note_body(body, false)?;
        let body = body.as_str();
        let now = self.now();
        let note = NoteRecord {
            id: NoteId::new(),
            fulfilment_id: id,
            version: Some(version),
            author_id: Some(who.user.id),
            kind: match decision {
                SampleDecision::Approve => NoteKind::Approved,
                SampleDecision::Reject => NoteKind::Rejected,
                SampleDecision::Cast => NoteKind::Cast,
            },
            body: body.to_string(),
            at_frame: None,
            created_at: now,
        };
        tx.insert_note(&note).await?;
        let mut all = notes;
        all.push(note);
        let (approved, cast) = sample_decisions(&all);
        f.state = casting_state(
            subs.len(),
            approved.values().filter(|a| **a).count(),
            cast.is_some(),
        );
        f.updated_at = now;
        tx.update_fulfilment(&f).await?;
        let character = r.title.trim_start_matches("Audition: ").to_string();
        let what = match decision {
            SampleDecision::Approve => format!(
                "approved the sample v{version} ({}) for {character}",
                sample.talent
            ),
            SampleDecision::Reject => format!(
                "turned down the sample v{version} ({}) for {character}",
                sample.talent
            ),
            SampleDecision::Cast => format!("cast {} as {character}", sample.talent),
        };
        let said = if body.is_empty() {
            String::new()
        } else {
            format!(": {}", crate::fulfilment::excerpt(body))
        };
        let text = format!(
            "{} {what} ({}){said}\n{}",
            who.user.display_name.as_str(),
            f.language,
            self.fulfilment_link(id)
        );
        let to = self.counterpart(&mut tx, who, &r, &f).await?;
        self.tell_and_commit(tx, &project, &f, &text, &to).await?;
        Ok(f.state)
    }

    /// The casting overview: every character × every language `who` sees, with the state of
    /// each audition and the talent cast.
    pub async fn casting_matrix(
        &self,
        who: &Authenticated,
        project_id: ProjectId,
    ) -> AppResult<CastingMatrix> {
        let mut tx = self.store.read().await?;
        let project = tx
            .get_project(project_id)
            .await?
            .ok_or(AppError::NotFound)?;
        crate::projects::may_view(who, &project)?;
        let items = tx
            .guide_items(
                project_id,
                &GuideItemFilter {
                    languages: None,
                    no_translations: true,
                },
            )
            .await?;
        let mut characters = Vec::new();
        for i in items.iter().filter(|i| i.kind == ItemKind::Character) {
            let c: crate::guide::CharacterData =
                serde_json::from_str(&i.data).map_err(|e| AppError::Internal(e.to_string()))?;
            characters.push((i.id, c.name, c.kind));
        }
        let requests: BTreeMap<_, _> = tx
            .project_audio_requests(project_id)
            .await?
            .into_iter()
            .filter(|r| r.kind == AudioKind::Casting)
            .filter_map(|r| r.character_id.map(|c| (r.id, c)))
            .collect();
        let fulfilments: Vec<FulfilmentRecord> = tx
            .project_fulfilments(project_id)
            .await?
            .into_iter()
            .filter(|f| requests.contains_key(&f.audio_request_id))
            .filter(|f| crate::fulfilment::may_see(who, &project, f))
            .collect();
        let mut cells = BTreeMap::new();
        for f in &fulfilments {
            let Some(character) = requests.get(&f.audio_request_id) else {
                continue;
            };
            let subs = tx.submissions_of(f.id).await?;
            let talent = if f.state == FulfilmentState::Cast {
                let (_, cast) = sample_decisions(&tx.notes_of(f.id).await?);
                cast.and_then(|v| subs.iter().find(|s| s.version == v))
                    .map(|s| s.talent.clone())
            } else {
                None
            };
            // The newest audition of a character and language is the one shown.
            cells.insert(
                (*character, f.language.clone()),
                CastingCell {
                    fulfilment: f.id,
                    state: f.state,
                    samples: u32::try_from(subs.len()).unwrap_or(u32::MAX),
                    talent,
                },
            );
        }
        let mut languages: Vec<LanguageTag> = if who.subject.is_studio() {
            project
                .assignments
                .iter()
                .filter(|a| a.service == Service::Dubbing)
                .map(|a| a.language.clone())
                .collect()
        } else {
            project
                .assignments
                .iter()
                .filter(|a| a.service == Service::Dubbing && a.org_id == who.org.id)
                .map(|a| a.language.clone())
                .collect()
        };
        languages.sort();
        languages.dedup();
        Ok(CastingMatrix {
            project_name: project.name.as_str().to_string(),
            characters,
            languages,
            cells,
            may_open: domain::policy::authorize_audio(
                Some(&who.subject),
                AudioAction::Create,
                None,
            )
            .is_allowed(),
        })
    }

    /// Who is cast for each character in `languages`: (character, language) → talent.
    pub(crate) async fn selection(
        &self,
        tx: &mut Box<dyn Tx>,
        project_id: ProjectId,
        languages: &[LanguageTag],
        partner: Option<OrgId>,
    ) -> AppResult<BTreeMap<(GuideItemId, LanguageTag), String>> {
        let requests: BTreeMap<_, _> = tx
            .project_audio_requests(project_id)
            .await?
            .into_iter()
            .filter(|r| r.kind == AudioKind::Casting)
            .filter_map(|r| r.character_id.map(|c| (r.id, c)))
            .collect();
        let mut out = BTreeMap::new();
        for f in tx.project_fulfilments(project_id).await? {
            let Some(character) = requests.get(&f.audio_request_id) else {
                continue;
            };
            // A partner sees only its own auditions' talents (another partner may work in the
            // same language, for subtitles, or have done before).
            if f.state != FulfilmentState::Cast
                || !languages.contains(&f.language)
                || partner.is_some_and(|p| p != f.partner_id)
            {
                continue;
            }
            let (_, cast) = sample_decisions(&tx.notes_of(f.id).await?);
            if let Some(v) = cast
                && let Some(sub) = tx
                    .submissions_of(f.id)
                    .await?
                    .into_iter()
                    .find(|x| x.version == v)
            {
                out.insert((*character, f.language.clone()), sub.talent);
            }
        }
        Ok(out)
    }

    /// The talents `partner` cast in `language` on the title (what its Moments recordings are
    /// named after).
    pub async fn cast_talent(
        &self,
        tx: &mut Box<dyn Tx>,
        project_id: ProjectId,
        language: &LanguageTag,
        partner: OrgId,
    ) -> AppResult<Vec<String>> {
        let mut out: Vec<String> = self
            .selection(
                tx,
                project_id,
                std::slice::from_ref(language),
                Some(partner),
            )
            .await?
            .into_values()
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }
}
