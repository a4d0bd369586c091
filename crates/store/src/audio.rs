//! Audio fulfilment as stored: audio requests (a Moments clip or a premix), each language's
//! fulfilment, the versions a partner submitted with their checked files, the comments and
//! decisions on them, and resumable uploads in progress.
//!
//! Every backend selects the columns in the orders given here and decodes them through the
//! functions of this module, so a backend holds only its SQL.

use crate::StoreResult;
use crate::columns::{corrupt, language};
use async_trait::async_trait;
use domain::fulfilment::{AudioKind, FulfilmentState, Mix};
use domain::{
    AudioRequestId, EpisodeId, FulfilmentId, GuideItemId, LanguageTag, NoteId, OrgId, ProjectId,
    SubmissionFileId, SubmissionId, UploadId, UserId,
};
use time::OffsetDateTime;

/// A clip the studio sent with a Moments request.
#[derive(Clone, Debug, PartialEq)]
pub struct ClipRecord {
    pub storage_key: String,
    pub name: String,
    pub size: u64,
    pub sha256: String,
    /// Its duration as its MP4 header gives it: `duration` units of `1 / timescale` s.
    pub duration: u64,
    pub timescale: u64,
}

/// What the studio asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct AudioRequestRecord {
    pub id: AudioRequestId,
    pub project_id: ProjectId,
    pub episode_id: Option<EpisodeId>,
    pub kind: AudioKind,
    pub title: String,
    pub description: String,
    pub instructions: String,
    /// As typed and checked: "23.976", "01:00:00:00", "01:00:30:00".
    pub frame_rate: String,
    pub tc_in: String,
    pub tc_out: String,
    pub frames: u64,
    /// The limiter advice for a premix, in dBTP.
    pub true_peak_limit: f64,
    pub clip: Option<ClipRecord>,
    pub created_by: Option<UserId>,
    pub created_at: OffsetDateTime,
    /// An audition's character (a Show Guide item).
    pub character_id: Option<GuideItemId>,
}

/// One language's fulfilment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FulfilmentRecord {
    pub id: FulfilmentId,
    pub audio_request_id: AudioRequestId,
    pub project_id: ProjectId,
    pub language: LanguageTag,
    /// The partner doing it (assigned to dubbing the language when it was asked for).
    pub partner_id: OrgId,
    pub state: FulfilmentState,
    /// The latest version submitted; 0 for none.
    pub version: u32,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A version the partner sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubmissionRecord {
    pub id: SubmissionId,
    pub fulfilment_id: FulfilmentId,
    pub version: u32,
    pub mix: Mix,
    pub talent: String,
    pub submitted_by: Option<UserId>,
    pub created_at: OffsetDateTime,
}

/// A file of a version, with the checker's report (the JSON of `check wav --json`) and its
/// waveform picture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubmissionFileRecord {
    pub id: SubmissionFileId,
    pub submission_id: SubmissionId,
    pub fulfilment_id: FulfilmentId,
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub storage_key: String,
    pub report: String,
    pub waveform_svg: String,
    pub created_at: OffsetDateTime,
}

/// What a note on a fulfilment is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NoteKind {
    Comment,
    Submitted,
    Approved,
    ChangesRequested,
    Reopened,
    /// An audition's sample turned down (with the feedback).
    Rejected,
    /// An audition's sample chosen: its talent is cast.
    Cast,
}

impl NoteKind {
    pub const ALL: [NoteKind; 7] = [
        NoteKind::Comment,
        NoteKind::Submitted,
        NoteKind::Approved,
        NoteKind::ChangesRequested,
        NoteKind::Reopened,
        NoteKind::Rejected,
        NoteKind::Cast,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NoteKind::Comment => "comment",
            NoteKind::Submitted => "submitted",
            NoteKind::Approved => "approved",
            NoteKind::ChangesRequested => "changes_requested",
            NoteKind::Reopened => "reopened",
            NoteKind::Rejected => "rejected",
            NoteKind::Cast => "cast",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A comment or a decision, in the fulfilment's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteRecord {
    pub id: NoteId,
    pub fulfilment_id: FulfilmentId,
    /// The version it is about.
    pub version: Option<u32>,
    pub author_id: Option<UserId>,
    pub kind: NoteKind,
    pub body: String,
    /// A frame of the clip (from its in point) the comment is pinned to.
    pub at_frame: Option<u64>,
    pub created_at: OffsetDateTime,
}

/// Where a resumable upload stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UploadState {
    /// Bytes are still expected.
    Receiving,
    /// Every byte arrived and passed; the file waits in staging to be used.
    Accepted,
    /// The check refused it; nothing of the file is kept.
    Refused,
}

impl UploadState {
    pub fn as_str(self) -> &'static str {
        match self {
            UploadState::Receiving => "receiving",
            UploadState::Accepted => "accepted",
            UploadState::Refused => "refused",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            UploadState::Receiving,
            UploadState::Accepted,
            UploadState::Refused,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// A resumable upload (the tus protocol's "upload resource").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadRecord {
    pub id: UploadId,
    pub user_id: UserId,
    /// What the file is for, as JSON the app reads (a fulfilment and its delivery, or a clip).
    pub purpose: String,
    pub name: String,
    /// The whole file's size, declared when the upload was created.
    pub length: u64,
    /// Bytes received and stored so far.
    pub received: u64,
    pub state: UploadState,
    /// The checker's report (JSON) once complete, or the refusal's words.
    pub outcome: Option<String>,
    pub waveform_svg: Option<String>,
    pub sha256: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[async_trait]
pub trait AudioRepo {
    async fn insert_audio_request(&mut self, r: &AudioRequestRecord) -> StoreResult<()>;
    async fn get_audio_request(
        &mut self,
        id: AudioRequestId,
    ) -> StoreResult<Option<AudioRequestRecord>>;
    /// A project's audio requests, oldest first.
    async fn project_audio_requests(
        &mut self,
        project: ProjectId,
    ) -> StoreResult<Vec<AudioRequestRecord>>;

    async fn insert_fulfilment(&mut self, f: &FulfilmentRecord) -> StoreResult<()>;
    /// Saves a fulfilment's state, version and time.
    async fn update_fulfilment(&mut self, f: &FulfilmentRecord) -> StoreResult<()>;
    async fn get_fulfilment(&mut self, id: FulfilmentId) -> StoreResult<Option<FulfilmentRecord>>;
    /// Every fulfilment of a project's audio requests, oldest first.
    async fn project_fulfilments(
        &mut self,
        project: ProjectId,
    ) -> StoreResult<Vec<FulfilmentRecord>>;

    async fn insert_submission(&mut self, s: &SubmissionRecord) -> StoreResult<()>;
    /// A fulfilment's versions, oldest first.
    async fn submissions_of(&mut self, f: FulfilmentId) -> StoreResult<Vec<SubmissionRecord>>;
    async fn insert_submission_file(&mut self, f: &SubmissionFileRecord) -> StoreResult<()>;
    /// The files of every version of a fulfilment, oldest first.
    async fn submission_files_of(
        &mut self,
        f: FulfilmentId,
    ) -> StoreResult<Vec<SubmissionFileRecord>>;
    async fn get_submission_file(
        &mut self,
        id: SubmissionFileId,
    ) -> StoreResult<Option<SubmissionFileRecord>>;

    async fn insert_note(&mut self, n: &NoteRecord) -> StoreResult<()>;
    /// A fulfilment's comments and decisions, oldest first.
    async fn notes_of(&mut self, f: FulfilmentId) -> StoreResult<Vec<NoteRecord>>;

    async fn insert_upload(&mut self, u: &UploadRecord) -> StoreResult<()>;
    /// Saves an upload's progress and outcome.
    async fn update_upload(&mut self, u: &UploadRecord) -> StoreResult<()>;
    async fn get_upload(&mut self, id: UploadId) -> StoreResult<Option<UploadRecord>>;
    async fn delete_upload(&mut self, id: UploadId) -> StoreResult<()>;
    /// Uploads untouched since `before` (abandoned), to clear away.
    async fn stale_uploads(&mut self, before: OffsetDateTime) -> StoreResult<Vec<UploadId>>;
}

/// The columns of `audio_requests` in the order every backend selects them.
pub const AUDIO_REQUEST_COLUMNS: &str = "id, project_id, episode_id, kind, title, description, \
    instructions, frame_rate, tc_in, tc_out, frames, true_peak_limit, clip_key, clip_name, \
    clip_size, clip_sha256, clip_duration, clip_timescale, created_by, created_at, character_id";
pub const FULFILMENT_COLUMNS: &str = "id, audio_request_id, project_id, language, partner_id, \
    state, version, created_at, updated_at";
pub const SUBMISSION_COLUMNS: &str =
    "id, fulfilment_id, version, mix, talent, submitted_by, created_at";
pub const SUBMISSION_FILE_COLUMNS: &str = "id, submission_id, fulfilment_id, name, size, sha256, \
    storage_key, report, waveform_svg, created_at";
pub const NOTE_COLUMNS: &str =
    "id, fulfilment_id, version, author_id, kind, body, at_frame, created_at";
pub const UPLOAD_COLUMNS: &str = "id, user_id, purpose, name, length, received, state, outcome, \
    waveform_svg, sha256, created_at, updated_at";

/// A stored count (sizes, frames, versions) back to unsigned.
pub fn count(column: &str, n: i64) -> StoreResult<u64> {
    u64::try_from(n).map_err(|e| corrupt(column, n, e))
}

/// An unsigned count to store.
pub fn stored(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The columns of `audio_requests`, ids and timestamps decoded by the backend.
pub struct AudioRequestColumns {
    pub id: AudioRequestId,
    pub project_id: ProjectId,
    pub episode_id: Option<EpisodeId>,
    pub kind: String,
    pub title: String,
    pub description: String,
    pub instructions: String,
    pub frame_rate: String,
    pub tc_in: String,
    pub tc_out: String,
    pub frames: i64,
    pub true_peak_limit: f64,
    pub clip_key: Option<String>,
    pub clip_name: Option<String>,
    pub clip_size: Option<i64>,
    pub clip_sha256: Option<String>,
    pub clip_duration: Option<i64>,
    pub clip_timescale: Option<i64>,
    pub created_by: Option<UserId>,
    pub created_at: OffsetDateTime,
    pub character_id: Option<GuideItemId>,
}

pub fn audio_request(c: AudioRequestColumns) -> StoreResult<AudioRequestRecord> {
    let clip = match (
        c.clip_key,
        c.clip_name,
        c.clip_size,
        c.clip_sha256,
        c.clip_duration,
        c.clip_timescale,
    ) {
        (Some(storage_key), Some(name), Some(size), Some(sha256), Some(d), Some(ts)) => {
            Some(ClipRecord {
                storage_key,
                name,
                size: count("audio_requests.clip_size", size)?,
                sha256,
                duration: count("audio_requests.clip_duration", d)?,
                timescale: count("audio_requests.clip_timescale", ts)?,
            })
        }
        _ => None,
    };
    Ok(AudioRequestRecord {
        id: c.id,
        project_id: c.project_id,
        episode_id: c.episode_id,
        kind: AudioKind::parse(&c.kind).map_err(|e| corrupt("audio_requests.kind", &c.kind, e))?,
        title: c.title,
        description: c.description,
        instructions: c.instructions,
        frame_rate: c.frame_rate,
        tc_in: c.tc_in,
        tc_out: c.tc_out,
        frames: count("audio_requests.frames", c.frames)?,
        true_peak_limit: c.true_peak_limit,
        clip,
        created_by: c.created_by,
        created_at: c.created_at,
        character_id: c.character_id,
    })
}

/// The columns of `fulfilments`, decoded by the backend where typed.
pub struct FulfilmentColumns {
    pub id: FulfilmentId,
    pub audio_request_id: AudioRequestId,
    pub project_id: ProjectId,
    pub language: String,
    pub partner_id: OrgId,
    pub state: String,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

pub fn fulfilment(c: FulfilmentColumns) -> StoreResult<FulfilmentRecord> {
    Ok(FulfilmentRecord {
        id: c.id,
        audio_request_id: c.audio_request_id,
        project_id: c.project_id,
        language: language("fulfilments.language", &c.language)?,
        partner_id: c.partner_id,
        state: FulfilmentState::parse(&c.state)
            .ok_or_else(|| corrupt("fulfilments.state", &c.state, "unknown state"))?,
        version: version("fulfilments.version", c.version)?,
        created_at: c.created_at,
        updated_at: c.updated_at,
    })
}

fn version(column: &str, n: i64) -> StoreResult<u32> {
    u32::try_from(n).map_err(|e| corrupt(column, n, e))
}

#[allow(clippy::too_many_arguments)]
pub fn submission(
    id: SubmissionId,
    fulfilment_id: FulfilmentId,
    v: i64,
    mix: &str,
    talent: String,
    submitted_by: Option<UserId>,
    created_at: OffsetDateTime,
) -> StoreResult<SubmissionRecord> {
    Ok(SubmissionRecord {
        id,
        fulfilment_id,
        version: version("submissions.version", v)?,
        mix: Mix::parse(mix).map_err(|e| corrupt("submissions.mix", mix, e))?,
        talent,
        submitted_by,
        created_at,
    })
}

#[allow(clippy::too_many_arguments)]
pub fn note(
    id: NoteId,
    fulfilment_id: FulfilmentId,
    v: Option<i64>,
    author_id: Option<UserId>,
    kind: &str,
    body: String,
    at_frame: Option<i64>,
    created_at: OffsetDateTime,
) -> StoreResult<NoteRecord> {
    Ok(NoteRecord {
        id,
        fulfilment_id,
        version: v
            .map(|v| version("fulfilment_notes.version", v))
            .transpose()?,
        author_id,
        kind: NoteKind::parse(kind)
            .ok_or_else(|| corrupt("fulfilment_notes.kind", kind, "unknown kind"))?,
        body,
        at_frame: at_frame
            .map(|f| count("fulfilment_notes.at_frame", f))
            .transpose()?,
        created_at,
    })
}

pub fn upload_state(s: &str) -> StoreResult<UploadState> {
    UploadState::parse(s).ok_or_else(|| corrupt("uploads.state", s, "unknown state"))
}
