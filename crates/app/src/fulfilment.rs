//! Audio fulfilment: the studio asks for a Moments clip (or a premix) on a title; each language
//! gets its own fulfilment, done by the partner assigned to dubbing it; the partner sends
//! versions whose files the audio checker accepted on arrival; the studio comments (pinned to a
//! timecode or not), approves or asks for changes.
//!
//! Every use case asks `domain::policy::authorize_audio`; the workflow is
//! `domain::fulfilment::apply`. People hear of it through the one notification path: the robot
//! posts in the vendor channel of the language and partner, mentioning whom it concerns (bell
//! and e-mail by the mention rules), and open pages get a `request_changed` event there.

use crate::auth::Authenticated;
use crate::uploads::{ClipFacts, Purpose};
use crate::{App, AppError, AppResult, FieldErrors};
use domain::events::{EventKind, NewEvent};
use domain::fulfilment::{
    AudioKind, DEFAULT_TRUE_PEAK_LIMIT_DBTP, FulfilmentEvent, FulfilmentState, Mix, Side, Span,
    apply, check_clip_duration,
};
use domain::policy::{AudioAction, FulfilmentFacts, authorize_audio};
use domain::timecode::Timecode;
use domain::{
    AudioRequestId, ChannelKind, FulfilmentId, GuideItemId, LanguageTag, NoteId, OrgId, Project,
    ProjectId, Role, Service, SubmissionFileId, SubmissionId, UploadId, UserId,
};
use std::collections::{BTreeMap, BTreeSet};
use store::{
    AudioRequestRecord, ClipRecord, FulfilmentRecord, NoteKind, NoteRecord, SubmissionFileRecord,
    SubmissionRecord, Tx, UserWithOrg,
};

/// An audio request as typed in the form or sent to the API.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct NewAudioRequestInput {
    /// `moments` or `premix`.
    pub kind: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub instructions: String,
    /// "23.976", "24", "25", "29.97DF", …
    pub frame_rate: String,
    pub tc_in: String,
    pub tc_out: String,
    /// An episode ("S1E2"), or empty for the film or the series as a whole.
    #[serde(default)]
    pub episode: String,
    /// Languages; empty or "all": every language dubbed on the title.
    #[serde(default)]
    pub languages: Vec<String>,
    /// The premix limiter advice in dBTP (−6 when empty).
    #[serde(default)]
    pub true_peak_limit: Option<f64>,
    /// The clip's MP4, uploaded first (Moments).
    #[serde(default)]
    pub clip_upload: Option<UploadId>,
    /// An audition's character (a Show Guide item).
    #[serde(default)]
    pub character: Option<GuideItemId>,
}

/// One language's fulfilment, as a viewer may see it.
#[derive(Clone, Debug)]
pub struct FulfilmentRow {
    pub record: FulfilmentRecord,
    /// The partner's name, where the viewer may know it.
    pub partner: String,
}

/// An audio request with the fulfilments the viewer may see.
#[derive(Clone, Debug)]
pub struct AudioRequestView {
    pub record: AudioRequestRecord,
    pub episode: String,
    pub duration: String,
    pub fulfilments: Vec<FulfilmentRow>,
}

/// The Moments tab of a title.
#[derive(Clone, Debug)]
pub struct AudioBoard {
    pub project: Project,
    pub requests: Vec<AudioRequestView>,
    pub may_create: bool,
    /// Languages dubbed on the title now (for the form).
    pub dubbing_languages: Vec<LanguageTag>,
    /// Episode labels ("S1E1"), for the form.
    pub episodes: Vec<String>,
}

/// A file of a version, with its report.
#[derive(Clone, Debug)]
pub struct DeliveryFile {
    pub record: SubmissionFileRecord,
    /// The report as `check wav --json` prints it.
    pub report: serde_json::Value,
}

/// A version with its files.
#[derive(Clone, Debug)]
pub struct VersionView {
    pub submission: SubmissionRecord,
    pub submitted_by: String,
    pub files: Vec<DeliveryFile>,
}

/// A comment or decision as shown.
#[derive(Clone, Debug)]
pub struct NoteView {
    pub record: NoteRecord,
    pub author: String,
    pub badge: String,
    /// The timecode it is pinned to, and the seconds into the clip to seek to.
    pub timecode: Option<String>,
    pub seconds: Option<f64>,
}

/// One fulfilment, whole.
#[derive(Clone, Debug)]
pub struct FulfilmentDetail {
    pub request: AudioRequestRecord,
    pub fulfilment: FulfilmentRecord,
    pub project_id: ProjectId,
    pub project_name: String,
    pub episode: String,
    pub partner: String,
    pub duration: String,
    pub span: Span,
    pub versions: Vec<VersionView>,
    pub notes: Vec<NoteView>,
    pub may_upload: bool,
    pub may_comment: bool,
    pub may_decide: bool,
    /// What the next upload may be (empty when no upload is possible now).
    pub mixes: Vec<Mix>,
    /// The name files must have, for the form's hint.
    pub name_pattern: String,
    /// An audition: each sample's standing (`approved`, `rejected`, `cast`) by version.
    pub samples: BTreeMap<u32, &'static str>,
    /// Talents cast for this language on the title (what recordings are named after).
    pub cast_talents: Vec<String>,
    /// An audition's character, from the Show Guide.
    pub character: Option<crate::guide::CharacterData>,
}

/// A studio decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Approve,
    RequestChanges,
    Reopen,
}

impl Decision {
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "approve" => Ok(Decision::Approve),
            "changes" | "request_changes" => Ok(Decision::RequestChanges),
            "reopen" => Ok(Decision::Reopen),
            other => Err(format!(
                "unknown decision {other:?}; use approve, request_changes or reopen"
            )),
        }
    }

    fn event(self) -> FulfilmentEvent {
        match self {
            Decision::Approve => FulfilmentEvent::Approve,
            Decision::RequestChanges => FulfilmentEvent::RequestChanges,
            Decision::Reopen => FulfilmentEvent::Reopen,
        }
    }

    fn note(self) -> NoteKind {
        match self {
            Decision::Approve => NoteKind::Approved,
            Decision::RequestChanges => NoteKind::ChangesRequested,
            Decision::Reopen => NoteKind::Reopened,
        }
    }
}

/// The longest comment.
const MAX_NOTE_CHARS: usize = 4000;

fn facts(project: &Project, f: &FulfilmentRecord) -> FulfilmentFacts {
    FulfilmentFacts {
        partner: f.partner_id,
        dubbing_now: project.assignments.iter().any(|a| {
            a.service == Service::Dubbing && a.language == f.language && a.org_id == f.partner_id
        }),
    }
}

/// Whether `who` may see fulfilment `f` of `project`.
pub(crate) fn may_see(who: &Authenticated, project: &Project, f: &FulfilmentRecord) -> bool {
    may(who, AudioAction::See, project, f)
}

fn may(who: &Authenticated, action: AudioAction, project: &Project, f: &FulfilmentRecord) -> bool {
    authorize_audio(Some(&who.subject), action, Some(&facts(project, f))).is_allowed()
}

fn decide(
    who: &Authenticated,
    action: AudioAction,
    project: &Project,
    f: &FulfilmentRecord,
) -> AppResult<()> {
    authorize_audio(Some(&who.subject), action, Some(&facts(project, f))).check()?;
    Ok(())
}

fn span_of(r: &AudioRequestRecord) -> AppResult<Span> {
    Span::parse(&r.frame_rate, &r.tc_in, &r.tc_out)
        .map_err(|e| AppError::Internal(format!("stored span of {}: {e}", r.id)))
}

fn episode_label(project: &Project, r: &AudioRequestRecord) -> String {
    let Some(id) = r.episode_id else {
        return String::new();
    };
    project
        .seasons
        .iter()
        .flat_map(|s| s.episodes.iter().map(move |e| (s.number, e)))
        .find(|(_, e)| e.id == id)
        .map(|(s, e)| format!("S{s}E{}", e.number))
        .unwrap_or_default()
}

/// Whether a partner may send a version now: an audition takes samples until it is cast; a
/// clip or premix follows the workflow.
fn submit_allowed(
    kind: AudioKind,
    state: FulfilmentState,
) -> Result<(), domain::fulfilment::Refusal> {
    if kind == AudioKind::Casting {
        return if state == FulfilmentState::Cast {
            Err(domain::fulfilment::Refusal(
                "this audition is cast; the studio reopens it by casting another sample".into(),
            ))
        } else {
            Ok(())
        };
    }
    apply(state, FulfilmentEvent::Submit, Side::Partner).map(|_| ())
}

fn side(who: &Authenticated) -> Side {
    if who.subject.is_studio() {
        Side::Studio
    } else {
        Side::Partner
    }
}

/// What the name of a file for `mix` looks like.
fn name_pattern(project: &Project, mix: Mix) -> String {
    let title: String = project
        .name
        .as_str()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    match mix {
        Mix::AsRecord => format!("{title}_[Talent]_Moments_AsRecord.wav"),
        Mix::Mixed => format!("{title}_[Talent]_Moments_Mixed.wav"),
        Mix::Premix => "any name ending in .wav".into(),
        Mix::Sample => "[Role]_[Actor].wav".into(),
    }
}

impl App {
    /// Asks for a Moments clip or a premix on a title, one fulfilment per language, each told
    /// to its dubbing partner.
    pub async fn create_audio_request(
        &self,
        who: &Authenticated,
        project_id: ProjectId,
        input: &NewAudioRequestInput,
    ) -> AppResult<AudioRequestId> {
        let mut tx = self.store.begin().await?;
        let project = tx
            .get_project(project_id)
            .await?
            .ok_or(AppError::NotFound)?;
        crate::projects::may_view(who, &project)?;
        authorize_audio(Some(&who.subject), AudioAction::Create, None).check()?;
        let mut errors = FieldErrors::new();
        let kind = errors.take(
            "kind",
            AudioKind::parse(&input.kind).map_err(domain::ValueError),
        );
        // An audition is for a character of the title's Show Guide.
        let character = match (kind, input.character) {
            (Some(AudioKind::Casting), Some(c)) => {
                let item = tx.get_guide_item(c).await?.filter(|i| {
                    i.project_id == project_id
                        && i.kind == domain::guide::ItemKind::Character
                        && i.removed_at.is_none()
                });
                match item {
                    Some(i) => {
                        let data: crate::guide::CharacterData = serde_json::from_str(&i.data)
                            .map_err(|e| AppError::Internal(e.to_string()))?;
                        Some((c, data))
                    }
                    None => {
                        errors.add("character", "no such character in this title's Show Guide");
                        None
                    }
                }
            }
            (Some(AudioKind::Casting), None) => {
                errors.add("character", "choose the character the audition is for");
                None
            }
            _ => None,
        };
        let default_title = character
            .as_ref()
            .map(|(_, c)| format!("Audition: {}", c.name))
            .unwrap_or_default();
        let title = match input.title.trim() {
            "" => default_title.as_str(),
            t => t,
        };
        if title.is_empty() {
            errors.add("title", "give the clip a title");
        } else if title.chars().count() > 200 {
            errors.add("title", "the title has more than 200 characters");
        }
        // An audition without a VTK clip has no picture: its samples are not held to a length.
        // It keeps a nominal span (one minute, the longest a sample should last).
        let no_picture = kind == Some(AudioKind::Casting)
            && input.clip_upload.is_none()
            && input.tc_in.trim().is_empty()
            && input.tc_out.trim().is_empty();
        let span = if no_picture {
            Span::parse("24", "00:00:00:00", "00:01:00:00").ok()
        } else {
            errors.take(
                "tc_out",
                Span::parse(&input.frame_rate, &input.tc_in, &input.tc_out)
                    .map_err(|e| domain::ValueError(e.0)),
            )
        };
        let episode_id = match input.episode.trim() {
            "" => None,
            label => {
                let found = project
                    .seasons
                    .iter()
                    .flat_map(|s| s.episodes.iter().map(move |e| (s.number, e)))
                    .find(|(s, e)| format!("S{s}E{}", e.number).eq_ignore_ascii_case(label));
                match found {
                    Some((_, e)) => Some(e.id),
                    None => {
                        errors.add(
                            "episode",
                            format!("{label:?} is not an episode of this title (write S1E2)"),
                        );
                        None
                    }
                }
            }
        };
        if kind == Some(AudioKind::Premix) && episode_id.is_none() && !project.seasons.is_empty() {
            errors.add("episode", "a premix is for one episode: name it (S1E2)");
        }
        let dubbed: Vec<(LanguageTag, OrgId)> = project
            .assignments
            .iter()
            .filter(|a| a.service == Service::Dubbing)
            .map(|a| (a.language.clone(), a.org_id))
            .collect();
        let wanted: Vec<&str> = input
            .languages
            .iter()
            .flat_map(|l| l.split(','))
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let mut targets: Vec<(LanguageTag, OrgId)> = Vec::new();
        if wanted.is_empty() || wanted.iter().any(|l| l.eq_ignore_ascii_case("all")) {
            targets = dubbed.clone();
            if targets.is_empty() {
                errors.add(
                    "languages",
                    "no partner is assigned to dubbing on this title; assign one on the project first",
                );
            }
        } else {
            for raw in wanted {
                match LanguageTag::parse(raw) {
                    Err(e) => errors.add("languages", format!("{raw:?}: {e}")),
                    Ok(l) => match dubbed.iter().find(|(d, _)| *d == l) {
                        Some(t) if !targets.contains(t) => targets.push(t.clone()),
                        Some(_) => {}
                        None => errors.add(
                            "languages",
                            format!(
                                "no partner is assigned to dubbing for {l} on this title; assign one or leave {l} out"
                            ),
                        ),
                    },
                }
            }
        }
        let limit = input
            .true_peak_limit
            .unwrap_or(DEFAULT_TRUE_PEAK_LIMIT_DBTP);
        if !(-60.0..=0.0).contains(&limit) {
            errors.add(
                "true_peak_limit",
                "the limiter advice is a level in dBTP between −60 and 0 (usually −6)",
            );
        }
        // The clip: uploaded first, its own duration against the in and out points.
        let mut clip = None;
        if kind == Some(AudioKind::Moments) || (kind == Some(AudioKind::Casting) && !no_picture) {
            match input.clip_upload {
                None => errors.add("clip", "choose the clip's MP4 file"),
                Some(upload) => {
                    let taken = self
                        .accepted_uploads(
                            &mut tx,
                            who,
                            &[upload],
                            |p| matches!(p, Purpose::Clip { project } if *project == project_id),
                        )
                        .await;
                    match taken {
                        Err(AppError::Invalid(e)) => {
                            for (_, m) in e.0 {
                                errors.add("clip", m);
                            }
                        }
                        Err(e) => return Err(e),
                        Ok(mut found) => {
                            if let Some((rec, _, staged)) = found.pop() {
                                let facts: Option<ClipFacts> = rec
                                    .outcome
                                    .as_deref()
                                    .and_then(|o| serde_json::from_str(o).ok());
                                match (facts, span) {
                                    (Some(f), Some(s)) => {
                                        if let Err(m) =
                                            check_clip_duration(&s, f.duration, f.timescale)
                                        {
                                            errors.add("clip", m);
                                        }
                                        clip = Some((rec, f, staged));
                                    }
                                    (None, _) => errors.add("clip", "the clip's length is unknown"),
                                    (Some(f), None) => clip = Some((rec, f, staged)),
                                }
                            }
                        }
                    }
                }
            }
        }
        errors.into_result()?;
        let (Some(kind), Some(span)) = (kind, span) else {
            return Err(AppError::Internal("validated fields missing".into()));
        };
        let now = self.now();
        let id = AudioRequestId::new();
        let clip_key = format!("clips/{}", uuid_key());
        let record = AudioRequestRecord {
            id,
            project_id,
            episode_id,
            kind,
            title: title.to_string(),
            description: input.description.trim().to_string(),
            instructions: input.instructions.trim().to_string(),
            frame_rate: span.rate.label().to_string(),
            tc_in: span.tc_in.to_string(),
            tc_out: span.tc_out.to_string(),
            frames: span.frames(),
            true_peak_limit: limit,
            clip: clip.as_ref().map(|(rec, f, _)| ClipRecord {
                storage_key: clip_key.clone(),
                name: rec.name.clone(),
                size: rec.length,
                sha256: rec.sha256.clone().unwrap_or_default(),
                duration: f.duration,
                timescale: f.timescale,
            }),
            created_by: Some(who.user.id),
            created_at: now,
            character_id: character.as_ref().map(|(c, _)| *c),
        };
        tx.insert_audio_request(&record).await?;
        let episode = episode_label(&project, &record);
        let partners: Vec<OrgId> = targets.iter().map(|(_, o)| *o).collect();
        let people = partner_people(&mut tx, &partners).await?;
        for (language, partner) in &targets {
            let f = FulfilmentRecord {
                id: FulfilmentId::new(),
                audio_request_id: id,
                project_id,
                language: language.clone(),
                partner_id: *partner,
                state: FulfilmentState::Open,
                version: 0,
                created_at: now,
                updated_at: now,
            };
            tx.insert_fulfilment(&f).await?;
            let what = if episode.is_empty() {
                kind.label().to_string()
            } else {
                format!("{} {episode}", kind.label())
            };
            let text = format!(
                "New {what} for {language}: «{}» ({} at {} fps). Record it and upload the WAV on {}",
                record.title,
                span.duration_label(),
                span.rate.label(),
                self.fulfilment_link(f.id)
            );
            let mention: Vec<UserId> = people
                .get(partner)
                .map(|v| v.iter().map(|u| u.user.id).collect())
                .unwrap_or_default();
            self.tell(&mut tx, &project, &f, &text, &mention).await?;
        }
        match clip {
            Some((rec, _, mut staged)) => {
                tx.delete_upload(rec.id).await?;
                self.keep_and_commit(tx, vec![(&mut staged, clip_key)])
                    .await?;
            }
            None => tx.commit().await?,
        }
        self.events.kick();
        self.mail_wake.notify_one();
        Ok(id)
    }

    /// The Moments tab: a title's audio requests with the fulfilments `who` may see. A partner
    /// sees only the requests with a fulfilment of its own, and only that fulfilment.
    pub async fn audio_board(
        &self,
        who: &Authenticated,
        project_id: ProjectId,
    ) -> AppResult<AudioBoard> {
        let mut tx = self.store.read().await?;
        let project = tx
            .get_project(project_id)
            .await?
            .ok_or(AppError::NotFound)?;
        crate::projects::may_view(who, &project)?;
        if !who.subject.has(Role::PortalUser) {
            return Err(AppError::NotFound);
        }
        let requests = tx.project_audio_requests(project_id).await?;
        let fulfilments = tx.project_fulfilments(project_id).await?;
        let names = org_names(&mut tx, who, &fulfilments).await?;
        let mut out = Vec::new();
        for r in requests {
            let rows: Vec<FulfilmentRow> = fulfilments
                .iter()
                .filter(|f| f.audio_request_id == r.id && may(who, AudioAction::See, &project, f))
                .map(|f| FulfilmentRow {
                    record: f.clone(),
                    partner: names.get(&f.partner_id).cloned().unwrap_or_default(),
                })
                .collect();
            if rows.is_empty() && !who.subject.is_studio() {
                continue;
            }
            let duration = span_of(&r)?.duration_label();
            out.push(AudioRequestView {
                episode: episode_label(&project, &r),
                duration,
                record: r,
                fulfilments: rows,
            });
        }
        out.reverse();
        let may_create =
            authorize_audio(Some(&who.subject), AudioAction::Create, None).is_allowed();
        let mut dubbing_languages: Vec<LanguageTag> = project
            .assignments
            .iter()
            .filter(|a| a.service == Service::Dubbing && who.subject.is_studio())
            .map(|a| a.language.clone())
            .collect();
        dubbing_languages.sort();
        dubbing_languages.dedup();
        let episodes = project
            .seasons
            .iter()
            .flat_map(|s| {
                s.episodes
                    .iter()
                    .map(move |e| format!("S{}E{}", s.number, e.number))
            })
            .collect();
        let mut project = project;
        if !who.subject.is_studio() {
            project.assignments.retain(|a| a.org_id == who.org.id);
        }
        Ok(AudioBoard {
            project,
            requests: out,
            may_create,
            dubbing_languages,
            episodes,
        })
    }

    /// Loads a fulfilment with its request and project, if `who` may see it.
    pub(crate) async fn load_fulfilment(
        &self,
        tx: &mut Box<dyn Tx>,
        who: &Authenticated,
        id: FulfilmentId,
        action: AudioAction,
    ) -> AppResult<(FulfilmentRecord, AudioRequestRecord, Project)> {
        let f = tx.get_fulfilment(id).await?.ok_or(AppError::NotFound)?;
        let project = tx
            .get_project(f.project_id)
            .await?
            .ok_or(AppError::NotFound)?;
        decide(who, AudioAction::See, &project, &f)?;
        decide(who, action, &project, &f)?;
        let r = tx
            .get_audio_request(f.audio_request_id)
            .await?
            .ok_or(AppError::NotFound)?;
        Ok((f, r, project))
    }

    /// One fulfilment with its versions, files, reports, comments and decisions.
    pub async fn view_fulfilment(
        &self,
        who: &Authenticated,
        id: FulfilmentId,
    ) -> AppResult<FulfilmentDetail> {
        let mut tx = self.store.read().await?;
        let (f, r, project) = self
            .load_fulfilment(&mut tx, who, id, AudioAction::See)
            .await?;
        let span = span_of(&r)?;
        let subs = tx.submissions_of(id).await?;
        let files = tx.submission_files_of(id).await?;
        let notes = tx.notes_of(id).await?;
        let mut ids: Vec<UserId> = subs.iter().filter_map(|s| s.submitted_by).collect();
        ids.extend(notes.iter().filter_map(|n| n.author_id));
        ids.sort();
        ids.dedup();
        let people: BTreeMap<UserId, UserWithOrg> = tx
            .get_users(&ids)
            .await?
            .into_iter()
            .map(|u| (u.user.id, u))
            .collect();
        let names = org_names(&mut tx, who, std::slice::from_ref(&f)).await?;
        let label = |u: Option<UserId>| -> (String, String) {
            match u.and_then(|u| people.get(&u)) {
                Some(p) => (
                    p.user.display_name.as_str().to_string(),
                    crate::channels::org_badge(&who.subject, &p.org),
                ),
                None => ("Portal".to_string(), "Robot".to_string()),
            }
        };
        let versions = subs
            .into_iter()
            .rev()
            .map(|s| VersionView {
                submitted_by: label(s.submitted_by).0,
                files: files
                    .iter()
                    .filter(|x| x.submission_id == s.id)
                    .map(|x| DeliveryFile {
                        report: serde_json::from_str(&x.report).unwrap_or(serde_json::Value::Null),
                        record: x.clone(),
                    })
                    .collect(),
                submission: s,
            })
            .collect();
        let start = span.rate.frames_of(&span.tc_in).unwrap_or(0);
        let notes: Vec<NoteView> = notes
            .into_iter()
            .map(|n| {
                let (author, badge) = label(n.author_id);
                let tc = n.at_frame.map(|fr| span.rate.label_of(start + fr));
                NoteView {
                    timecode: tc.map(|t| t.to_string()),
                    seconds: tc.and_then(|t| span.seconds_of(&t)),
                    author,
                    badge,
                    record: n,
                }
            })
            .collect();
        let may_upload =
            may(who, AudioAction::Upload, &project, &f) && submit_allowed(r.kind, f.state).is_ok();
        let mixes: Vec<Mix> = if may_upload {
            r.kind.mixes().to_vec()
        } else {
            Vec::new()
        };
        let name_pattern = r
            .kind
            .mixes()
            .iter()
            .map(|m| name_pattern(&project, *m))
            .collect::<Vec<_>>()
            .join(" or ");
        let mut samples = BTreeMap::new();
        if r.kind == AudioKind::Casting {
            let (decided, cast) = crate::casting::sample_decisions(
                &notes.iter().map(|n| n.record.clone()).collect::<Vec<_>>(),
            );
            for (v, ok) in decided {
                samples.insert(v, if ok { "approved" } else { "rejected" });
            }
            if let Some(v) = cast {
                samples.insert(v, "cast");
            }
        }
        // (The read transaction of the whole view is reused: one reader per page.)
        let cast_talents = self
            .cast_talent(&mut tx, project.id, &f.language, f.partner_id)
            .await?;
        let character = match r.character_id {
            Some(c) => tx
                .get_guide_item(c)
                .await?
                .and_then(|i| serde_json::from_str(&i.data).ok()),
            None => None,
        };
        drop(tx);
        Ok(FulfilmentDetail {
            samples,
            cast_talents,
            character,
            episode: episode_label(&project, &r),
            duration: span.duration_label(),
            partner: names.get(&f.partner_id).cloned().unwrap_or_default(),
            project_id: project.id,
            project_name: project.name.as_str().to_string(),
            may_comment: may(who, AudioAction::Comment, &project, &f),
            may_decide: may(who, AudioAction::Decide, &project, &f),
            may_upload,
            mixes,
            name_pattern,
            span,
            versions,
            notes,
            request: r,
            fulfilment: f,
        })
    }

    /// Checks an upload's purpose before any byte arrives: who may send it, and (for a
    /// recording) that its name and delivery fit the request.
    pub(crate) async fn check_purpose(
        &self,
        who: &Authenticated,
        purpose: &Purpose,
        name: &str,
    ) -> AppResult<()> {
        match purpose {
            Purpose::Clip { project } => {
                let mut tx = self.store.read().await?;
                let p = tx.get_project(*project).await?.ok_or(AppError::NotFound)?;
                crate::projects::may_view(who, &p)?;
                authorize_audio(Some(&who.subject), AudioAction::Create, None).check()?;
                Ok(())
            }
            Purpose::Delivery { .. } => {
                let req = self.delivery_check_request(who, purpose, name).await?;
                // The name is known now: refuse a wrong one before a single byte is sent.
                let findings = match req.profile {
                    audio::Profile::MomentsAsRecord | audio::Profile::MomentsMixed => {
                        audio::rules::check_moments_name(
                            name,
                            None,
                            Some(if req.profile == audio::Profile::MomentsMixed {
                                audio::rules::MomentsKind::Mixed
                            } else {
                                audio::rules::MomentsKind::AsRecord
                            }),
                            req.title.as_deref(),
                            req.talent.as_deref(),
                        )
                    }
                    audio::Profile::CastingSample => {
                        audio::rules::check_casting_name(name, req.talent.as_deref())
                    }
                    _ => Vec::new(),
                };
                let errors: Vec<String> = findings
                    .iter()
                    .filter(|f| f.is_error())
                    .map(|f| f.message.clone())
                    .collect();
                if errors.is_empty() {
                    Ok(())
                } else {
                    Err(AppError::invalid("name", errors.join("; ")))
                }
            }
        }
    }

    /// What the audio checker must hold a recording for `purpose` to: the profile of its
    /// delivery, the exact length of the clip (or programme), the naming rule with the title and
    /// talent, QC with a waveform, and the premix's limiter advice. Refused when `who` may not
    /// upload there now.
    pub(crate) async fn delivery_check_request(
        &self,
        who: &Authenticated,
        purpose: &Purpose,
        name: &str,
    ) -> AppResult<audio::CheckRequest> {
        let Purpose::Delivery {
            fulfilment,
            mix,
            talent,
        } = purpose
        else {
            return Err(AppError::Internal("not a delivery".into()));
        };
        let mut tx = self.store.read().await?;
        let (f, r, project) = self
            .load_fulfilment(&mut tx, who, *fulfilment, AudioAction::Upload)
            .await?;
        submit_allowed(r.kind, f.state).map_err(|e| AppError::conflict("fulfilment", e.0))?;
        let mix = Mix::parse(mix).map_err(|e| AppError::invalid("mix", e))?;
        if !r.kind.mixes().contains(&mix) {
            return Err(AppError::invalid(
                "mix",
                format!(
                    "a {} is delivered as {}",
                    r.kind.label(),
                    r.kind
                        .mixes()
                        .iter()
                        .map(|m| m.as_str())
                        .collect::<Vec<_>>()
                        .join(" or ")
                ),
            ));
        }
        let talent = talent.trim();
        if mix.needs_talent() && talent.is_empty() {
            return Err(AppError::invalid(
                "talent",
                "name the talent (the voice actor) of the recording",
            ));
        }
        let span = span_of(&r)?;
        Ok(audio::CheckRequest {
            profile: match mix {
                Mix::AsRecord => audio::Profile::MomentsAsRecord,
                Mix::Mixed => audio::Profile::MomentsMixed,
                Mix::Premix => audio::Profile::Premix,
                Mix::Sample => audio::Profile::CastingSample,
            },
            fps: Some(span.rate),
            // A talent sample has no set length (30–60 s is the checker's advice).
            expected: (r.kind != AudioKind::Casting)
                .then(|| audio::ExpectedLength::Frames(span.frames())),
            name: Some(name.to_string()),
            title: Some(project.name.as_str().to_string()),
            talent: mix.needs_talent().then(|| talent.to_string()),
            qc: true,
            waveform_columns: audio::DEFAULT_WAVEFORM_COLUMNS,
            threads: 0,
            true_peak_limit: Some(r.true_peak_limit),
        })
    }

    /// Sends a version: the accepted uploads `uploads` (one or more mono files, or one stereo
    /// or premix file) become version n+1, kept in the same transaction that records them.
    pub async fn submit_delivery(
        &self,
        who: &Authenticated,
        id: FulfilmentId,
        uploads: &[UploadId],
    ) -> AppResult<u32> {
        let mut tx = self.store.begin().await?;
        let (mut f, r, project) = self
            .load_fulfilment(&mut tx, who, id, AudioAction::Upload)
            .await?;
        if side(who) == Side::Studio {
            return Err(AppError::Denied(domain::DenyReason::PartnerOnly));
        }
        submit_allowed(r.kind, f.state).map_err(|e| AppError::conflict("fulfilment", e.0))?;
        let next = if r.kind == AudioKind::Casting {
            // One more sample: the audition has samples in, or keeps its approval.
            let (samples, approved, cast) = self.sample_facts(&mut tx, f.id).await?;
            domain::fulfilment::casting_state(samples + 1, approved, cast)
        } else {
            apply(f.state, FulfilmentEvent::Submit, Side::Partner)
                .map_err(|e| AppError::conflict("fulfilment", e.0))?
        };
        if uploads.is_empty() {
            return Err(AppError::invalid("uploads", "upload at least one WAV file"));
        }
        let mut taken = self
            .accepted_uploads(
                &mut tx,
                who,
                uploads,
                |p| matches!(p, Purpose::Delivery { fulfilment, .. } if *fulfilment == id),
            )
            .await?;
        let mut kinds: BTreeSet<(String, String)> = BTreeSet::new();
        for (_, p, _) in &taken {
            if let Purpose::Delivery { mix, talent, .. } = p {
                kinds.insert((mix.clone(), talent.trim().to_string()));
            }
        }
        let Some((mix_s, talent)) = kinds.iter().next().cloned() else {
            return Err(AppError::Internal("no delivery purpose".into()));
        };
        if kinds.len() > 1 {
            return Err(AppError::invalid(
                "uploads",
                "the files of one version share one delivery and one talent; send them as separate versions",
            ));
        }
        let mix = Mix::parse(&mix_s).map_err(|e| AppError::invalid("mix", e))?;
        if taken.len() > mix.max_files() {
            return Err(AppError::invalid(
                "uploads",
                format!(
                    "{} takes at most {} file(s); this version has {}",
                    mix.label(),
                    mix.max_files(),
                    taken.len()
                ),
            ));
        }
        let mut names = BTreeSet::new();
        for (rec, _, _) in &taken {
            if !names.insert(rec.name.to_ascii_lowercase()) {
                return Err(AppError::invalid(
                    "uploads",
                    format!("{} is in this version twice", rec.name),
                ));
            }
        }
        let now = self.now();
        f.version += 1;
        f.state = next;
        f.updated_at = now;
        tx.update_fulfilment(&f).await?;
        let sub = SubmissionRecord {
            id: SubmissionId::new(),
            fulfilment_id: id,
            version: f.version,
            mix,
            talent: talent.clone(),
            submitted_by: Some(who.user.id),
            created_at: now,
        };
        tx.insert_submission(&sub).await?;
        let mut keys = Vec::with_capacity(taken.len());
        let mut warnings = 0usize;
        for (rec, _, _) in &taken {
            let key = format!("deliveries/{}", uuid_key());
            let report = rec.outcome.clone().unwrap_or_default();
            warnings += serde_json::from_str::<serde_json::Value>(&report)
                .ok()
                .and_then(|v| v.get("warnings").and_then(|w| w.as_array()).map(Vec::len))
                .unwrap_or(0);
            tx.insert_submission_file(&SubmissionFileRecord {
                id: SubmissionFileId::new(),
                submission_id: sub.id,
                fulfilment_id: id,
                name: rec.name.clone(),
                size: rec.length,
                sha256: rec.sha256.clone().unwrap_or_default(),
                storage_key: key.clone(),
                report,
                waveform_svg: rec.waveform_svg.clone().unwrap_or_default(),
                created_at: now,
            })
            .await?;
            tx.delete_upload(rec.id).await?;
            keys.push(key);
        }
        tx.insert_note(&NoteRecord {
            id: NoteId::new(),
            fulfilment_id: id,
            version: Some(f.version),
            author_id: Some(who.user.id),
            kind: NoteKind::Submitted,
            body: String::new(),
            at_frame: None,
            created_at: now,
        })
        .await?;
        let warned = if warnings == 0 {
            String::new()
        } else {
            format!(" with {warnings} QC warning(s)")
        };
        let text = format!(
            "{} sent version {} of «{}» ({}){warned}: {}",
            who.user.display_name.as_str(),
            f.version,
            r.title,
            f.language,
            self.fulfilment_link(id)
        );
        let studio: Vec<UserId> = r.created_by.into_iter().collect();
        self.tell(&mut tx, &project, &f, &text, &studio).await?;
        let files: Vec<_> = taken
            .iter_mut()
            .zip(keys)
            .map(|((_, _, staged), key)| (staged, key))
            .collect();
        self.keep_and_commit(tx, files).await?;
        self.events.kick();
        self.mail_wake.notify_one();
        Ok(f.version)
    }

    /// A comment on a fulfilment, optionally pinned to a timecode of the clip.
    pub async fn comment_fulfilment(
        &self,
        who: &Authenticated,
        id: FulfilmentId,
        body: &str,
        at: Option<&str>,
    ) -> AppResult<NoteId> {
        let mut tx = self.store.begin().await?;
        let (f, r, project) = self
            .load_fulfilment(&mut tx, who, id, AudioAction::Comment)
            .await?;
        let body = note_body(body, true)?;
        let span = span_of(&r)?;
        let at_frame = match at.map(str::trim).filter(|s| !s.is_empty()) {
            None => None,
            Some(raw) => Some(frame_in_span(&span, raw)?),
        };
        let now = self.now();
        let note = NoteRecord {
            id: NoteId::new(),
            fulfilment_id: id,
            version: (f.version > 0).then_some(f.version),
            author_id: Some(who.user.id),
            kind: NoteKind::Comment,
            body: body.clone(),
            at_frame,
            created_at: now,
        };
        tx.insert_note(&note).await?;
        let pin = at_frame
            .map(|fr| {
                let start = span.rate.frames_of(&span.tc_in).unwrap_or(0);
                format!(" at {}", span.rate.label_of(start + fr))
            })
            .unwrap_or_default();
        let text = format!(
            "{} commented on «{}» ({}){pin}: {}\n{}",
            who.user.display_name.as_str(),
            r.title,
            f.language,
            excerpt(&body),
            self.fulfilment_link(id)
        );
        let to = self.counterpart(&mut tx, who, &r, &f).await?;
        self.tell_and_commit(tx, &project, &f, &text, &to).await?;
        Ok(note.id)
    }

    /// Approves the version in review, asks for changes (with what to change), or reopens an
    /// approval.
    pub async fn decide_fulfilment(
        &self,
        who: &Authenticated,
        id: FulfilmentId,
        decision: Decision,
        body: &str,
    ) -> AppResult<FulfilmentState> {
        let mut tx = self.store.begin().await?;
        let (mut f, r, project) = self
            .load_fulfilment(&mut tx, who, id, AudioAction::Decide)
            .await?;
        if r.kind == AudioKind::Casting {
            return Err(AppError::invalid(
                "decision",
                "an audition is decided sample by sample: approve, reject or cast a sample",
            ));
        }
        let next = apply(f.state, decision.event(), side(who))
            .map_err(|e| AppError::conflict("decision", e.0))?;
        let body = note_body(body, decision != Decision::Approve)?;
        let now = self.now();
        f.state = next;
        f.updated_at = now;
        tx.update_fulfilment(&f).await?;
        tx.insert_note(&NoteRecord {
            id: NoteId::new(),
            fulfilment_id: id,
            version: (f.version > 0).then_some(f.version),
            author_id: Some(who.user.id),
            kind: decision.note(),
            body: body.clone(),
            at_frame: None,
            created_at: now,
        })
        .await?;
        let verb = match decision {
            Decision::Approve => "approved",
            Decision::RequestChanges => "asked for changes to",
            Decision::Reopen => "reopened",
        };
        let said = if body.is_empty() {
            String::new()
        } else {
            format!(": {}", excerpt(&body))
        };
        let text = format!(
            "{} {verb} version {} of «{}» ({}){said}\n{}",
            who.user.display_name.as_str(),
            f.version,
            r.title,
            f.language,
            self.fulfilment_link(id)
        );
        let to = self.counterpart(&mut tx, who, &r, &f).await?;
        self.tell_and_commit(tx, &project, &f, &text, &to).await?;
        Ok(next)
    }

    /// The clip of an audio request, for playing or saving (the part a `Range` header asks
    /// for), if `who` may see a fulfilment of it.
    pub async fn open_clip(
        &self,
        who: &Authenticated,
        id: AudioRequestId,
        range: Option<&str>,
    ) -> AppResult<crate::files::Served> {
        let mut tx = self.store.read().await?;
        let r = tx.get_audio_request(id).await?.ok_or(AppError::NotFound)?;
        let project = tx
            .get_project(r.project_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let fulfilments = tx.project_fulfilments(r.project_id).await?;
        drop(tx);
        let allowed = fulfilments
            .iter()
            .filter(|f| f.audio_request_id == id)
            .any(|f| may(who, AudioAction::DownloadClip, &project, f))
            || (who.subject.is_studio()
                && authorize_audio(Some(&who.subject), AudioAction::Create, None).is_allowed());
        if !allowed {
            return Err(AppError::NotFound);
        }
        let clip = r.clip.ok_or(AppError::NotFound)?;
        self.serve(
            &clip.storage_key,
            &clip.name,
            clip.size,
            &clip.sha256,
            range,
        )
        .await
    }

    /// A delivered file, for listening or saving (the part a `Range` header asks for), if
    /// `who` may see its version.
    pub async fn open_delivery(
        &self,
        who: &Authenticated,
        id: SubmissionFileId,
        range: Option<&str>,
    ) -> AppResult<crate::files::Served> {
        let mut tx = self.store.read().await?;
        let x = tx
            .get_submission_file(id)
            .await?
            .ok_or(AppError::NotFound)?;
        self.load_fulfilment(&mut tx, who, x.fulfilment_id, AudioAction::SeeSubmission)
            .await?;
        drop(tx);
        self.serve(&x.storage_key, &x.name, x.size, &x.sha256, range)
            .await
    }

    /// A delivered file's waveform picture (SVG), if `who` may see its version.
    pub async fn delivery_waveform(
        &self,
        who: &Authenticated,
        id: SubmissionFileId,
    ) -> AppResult<String> {
        let mut tx = self.store.read().await?;
        let x = tx
            .get_submission_file(id)
            .await?
            .ok_or(AppError::NotFound)?;
        self.load_fulfilment(&mut tx, who, x.fulfilment_id, AudioAction::SeeSubmission)
            .await?;
        Ok(x.waveform_svg)
    }

    pub(crate) fn fulfilment_link(&self, id: FulfilmentId) -> String {
        format!(
            "{}/fulfilments/{id}",
            self.config.mail.public_url.trim_end_matches('/')
        )
    }

    /// Whom a note from `who` concerns: the partner's people for the studio's words, the
    /// studio user who asked (and whoever reviewed) for the partner's.
    pub(crate) async fn counterpart(
        &self,
        tx: &mut Box<dyn Tx>,
        who: &Authenticated,
        r: &AudioRequestRecord,
        f: &FulfilmentRecord,
    ) -> AppResult<Vec<UserId>> {
        if who.subject.is_studio() {
            let people = partner_people(tx, &[f.partner_id]).await?;
            Ok(people
                .get(&f.partner_id)
                .map(|v| v.iter().map(|u| u.user.id).collect())
                .unwrap_or_default())
        } else {
            let mut to: BTreeSet<UserId> = r.created_by.into_iter().collect();
            for n in tx.notes_of(f.id).await? {
                if matches!(
                    n.kind,
                    NoteKind::Approved | NoteKind::ChangesRequested | NoteKind::Comment
                ) && let Some(a) = n.author_id
                    && a != who.user.id
                {
                    to.insert(a);
                }
            }
            let ids: Vec<UserId> = to.into_iter().collect();
            Ok(tx
                .get_users(&ids)
                .await?
                .into_iter()
                .filter(|u| u.org.kind == domain::OrgKind::Studio && !u.user.disabled)
                .map(|u| u.user.id)
                .collect())
        }
    }

    /// Tells (as [`App::tell`]), commits, and wakes the live pages and the mail worker.
    pub(crate) async fn tell_and_commit(
        &self,
        mut tx: Box<dyn Tx>,
        project: &Project,
        f: &FulfilmentRecord,
        text: &str,
        to: &[UserId],
    ) -> AppResult<()> {
        self.tell(&mut tx, project, f, text, to).await?;
        tx.commit().await?;
        self.events.kick();
        self.mail_wake.notify_one();
        Ok(())
    }

    /// The robot's words in the fulfilment's vendor channel, mentioning `to`, and a live event
    /// there; inside the caller's transaction.
    pub(crate) async fn tell(
        &self,
        tx: &mut Box<dyn Tx>,
        project: &Project,
        f: &FulfilmentRecord,
        text: &str,
        to: &[UserId],
    ) -> AppResult<()> {
        let kind = ChannelKind::Vendor(f.language.clone(), f.partner_id);
        let channels = tx.list_channels(project.id).await?;
        let Some(channel) = channels.into_iter().find(|c| c.kind == kind) else {
            return Ok(());
        };
        self.post_as_robot_to(tx, &channel, &project.assignments, text, to)
            .await?;
        tx.append_event(
            &NewEvent {
                kind: EventKind::RequestChanged,
                project_id: channel.project_id,
                channel_id: channel.id,
                message_id: None,
                seq: 0,
                user_id: None,
            },
            self.now(),
        )
        .await?;
        Ok(())
    }
}

/// The active portal users of each partner: whom a new request or the studio's words concern.
async fn partner_people(
    tx: &mut Box<dyn Tx>,
    orgs: &[OrgId],
) -> AppResult<BTreeMap<OrgId, Vec<UserWithOrg>>> {
    let mut out: BTreeMap<OrgId, Vec<UserWithOrg>> = BTreeMap::new();
    for u in tx.users_of_orgs(orgs).await? {
        if u.user.roles.contains(Role::PortalUser) && !u.user.disabled {
            out.entry(u.org.id).or_default().push(u);
        }
    }
    Ok(out)
}

/// Partner names `who` may know, by id (a partner knows only its own).
async fn org_names(
    tx: &mut Box<dyn Tx>,
    who: &Authenticated,
    fulfilments: &[FulfilmentRecord],
) -> AppResult<BTreeMap<OrgId, String>> {
    let mut out = BTreeMap::new();
    let ids: BTreeSet<OrgId> = fulfilments.iter().map(|f| f.partner_id).collect();
    for id in ids {
        if !who.subject.is_studio() && id != who.org.id {
            continue;
        }
        if let Some(o) = tx.get_org(id).await? {
            out.insert(id, o.name.as_str().to_string());
        }
    }
    Ok(out)
}

pub(crate) fn note_body(body: &str, required: bool) -> AppResult<String> {
    let body = body.trim();
    if required && body.is_empty() {
        return Err(AppError::invalid("body", "write what to change or say"));
    }
    if body.chars().count() > MAX_NOTE_CHARS {
        return Err(AppError::invalid(
            "body",
            format!("at most {MAX_NOTE_CHARS} characters"),
        ));
    }
    if body
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(AppError::invalid(
            "body",
            "remove the control characters from the text",
        ));
    }
    Ok(body.to_string())
}

pub(crate) fn excerpt(s: &str) -> String {
    let one_line = s.replace(['\n', '\r'], " ");
    if one_line.chars().count() > 300 {
        let cut: String = one_line.chars().take(299).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

/// The frame (from the clip's in point) of a timecode typed for a comment: a timecode within
/// the clip, or seconds into it ("12.5").
fn frame_in_span(span: &Span, raw: &str) -> AppResult<u64> {
    let start = span.rate.frames_of(&span.tc_in).unwrap_or(0);
    let frame = if let Ok(secs) = raw.parse::<f64>() {
        if !secs.is_finite() || secs < 0.0 {
            return Err(AppError::invalid("at", "a position is 0 or more seconds"));
        }
        let tc = span
            .timecode_at(secs)
            .ok_or_else(|| AppError::invalid("at", "not a position in the clip"))?;
        span.rate.frames_of(&tc).unwrap_or(start)
    } else {
        let tc = Timecode::parse(raw).map_err(|e| AppError::invalid("at", e.0))?;
        span.rate
            .frames_of(&tc)
            .map_err(|e| AppError::invalid("at", e.0))?
    };
    let rel = frame
        .checked_sub(start)
        .filter(|f| *f < span.frames().max(1));
    rel.ok_or_else(|| {
        AppError::invalid(
            "at",
            format!(
                "{raw} is outside the clip ({} to {})",
                span.tc_in, span.tc_out
            ),
        )
    })
}

fn uuid_key() -> String {
    domain::AttachmentId::new().to_string()
}
