//! Resumable uploads: large files (Moments clips, recordings, premixes) arrive in as many pieces
//! as the connection allows, each appended at the offset the server has, and are checked while
//! they arrive. The web layer speaks the tus 1.0 core protocol over these use cases.
//!
//! - An upload is created with its purpose (a fulfilment's delivery, or a clip for a project),
//!   its file name and its whole length; the name and the right to upload are checked then,
//!   before any byte.
//! - Bytes are appended to a private file under the file store's `uploads/`. The database row
//!   holds how many are stored; a piece sent at any other offset is refused, and bytes on disk
//!   beyond the recorded offset (a crash mid-write) are cut off before the next piece.
//! - A WAV delivery is measured by the audio checker on a blocking thread that follows the file
//!   as it grows ([`audio::check_arriving`]), so the verdict is ready when the last byte is. After
//!   a restart (or a long pause) a new checker starts from the bytes already on disk.
//! - When the last byte arrives, a refused file is deleted at once with its row (the answer to
//!   that last piece carries the checker's words); an accepted one waits, checked, until the
//!   action that uses it (a submission, a clip) keeps it in the same transaction that records it.

use crate::auth::Authenticated;
use crate::files::Staged;
use crate::{App, AppError, AppResult};
use bytes::Bytes;
use domain::attachments::{Accept, AttachmentName};
use domain::{FulfilmentId, ProjectId, UploadId};
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use store::{UploadRecord, UploadState};
use tokio::io::AsyncWriteExt;

/// The largest upload unless configured otherwise.
pub const DEFAULT_MAX_UPLOAD_BYTES: u64 = 8 * 1024 * 1024 * 1024;

/// Bytes gathered before each write to disk (and each step the checker may take).
const WRITE_CHUNK: usize = 1024 * 1024;

/// A piece whose bytes stop coming for this long is ended (what arrived is kept).
const STALL: Duration = Duration::from_secs(60);

/// An upload untouched this long is abandoned: its row and bytes are removed.
pub const STALE_AFTER: time::Duration = time::Duration::days(2);

/// What an upload is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "for", rename_all = "snake_case")]
pub enum Purpose {
    /// The MP4 of a Moments clip the studio is about to ask for on a project.
    Clip { project: ProjectId },
    /// A recording for a fulfilment: its delivery (`asrecord`, `mixed`, `premix`) and talent.
    Delivery {
        fulfilment: FulfilmentId,
        mix: String,
        #[serde(default)]
        talent: String,
    },
}

impl Purpose {
    /// The kind of file the purpose takes (its extension and content rules).
    fn accept(&self) -> Accept {
        match self {
            Purpose::Clip { .. } => Accept::Clip,
            Purpose::Delivery { .. } => Accept::Delivery,
        }
    }
}

/// An upload to start.
#[derive(Clone, Debug)]
pub struct NewUpload {
    pub purpose: Purpose,
    pub name: String,
    pub length: u64,
}

/// What the checker measured of a clip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClipFacts {
    pub duration: u64,
    pub timescale: u64,
}

impl App {
    /// Starts an upload: checks the purpose (who may send what where), the name and the length,
    /// then records it with nothing received.
    pub async fn create_upload(
        &self,
        who: &Authenticated,
        input: NewUpload,
    ) -> AppResult<UploadRecord> {
        self.clear_stale_uploads().await;
        let max = self.config.max_upload_bytes;
        if input.length == 0 {
            return Err(AppError::invalid("length", "the file is empty"));
        }
        if input.length > max {
            return Err(AppError::TooLarge(format!(
                "the file has {} bytes; uploads may have at most {max} bytes ({:.1} GiB)",
                input.length,
                max as f64 / (1024.0 * 1024.0 * 1024.0)
            )));
        }
        let name = upload_name(&input.name, &input.purpose)?;
        self.check_purpose(who, &input.purpose, &name).await?;
        let now = self.now();
        let rec = UploadRecord {
            id: UploadId::new(),
            user_id: who.user.id,
            purpose: serde_json::to_string(&input.purpose)
                .map_err(|e| AppError::Internal(e.to_string()))?,
            name,
            length: input.length,
            received: 0,
            state: UploadState::Receiving,
            outcome: None,
            waveform_svg: None,
            sha256: None,
            created_at: now,
            updated_at: now,
        };
        self.files
            .create_upload_file(rec.id)
            .await
            .map_err(|e| AppError::Internal(format!("creating the upload's file: {e}")))?;
        let mut tx = self.store.begin().await?;
        tx.insert_upload(&rec).await?;
        tx.commit().await?;
        Ok(rec)
    }

    /// An upload as its sender sees it (how much arrived, the verdict). Only the sender knows
    /// of it.
    pub async fn upload_status(
        &self,
        who: &Authenticated,
        id: UploadId,
    ) -> AppResult<UploadRecord> {
        let mut tx = self.store.read().await?;
        let mut rec = tx.get_upload(id).await?.ok_or(AppError::NotFound)?;
        if rec.user_id != who.user.id {
            return Err(AppError::NotFound);
        }
        // Bytes written before a piece was cut off (the connection dropped, the portal
        // stopped) may not be recorded yet; they are on disk, in order, so they count.
        if rec.state == UploadState::Receiving
            && !self.files.shares_uploads()
            && let Ok(path) = self.files.upload_path(id)
            && let Ok(meta) = tokio::fs::metadata(&path).await
        {
            rec.received = rec.received.max(meta.len().min(rec.length));
        }
        Ok(rec)
    }

    /// Appends `body` at `offset`. The offset must be what the server has (anything else is a
    /// conflict naming it); the bytes may not go past the declared length. Whatever arrived is
    /// recorded even if the connection drops halfway. When the last byte arrives the file is
    /// judged: the returned record says `Accepted` (with the report) or `Refused` (with the
    /// reason, and the bytes are gone).
    pub async fn append_upload<S, E>(
        &self,
        who: &Authenticated,
        id: UploadId,
        offset: u64,
        mut body: S,
    ) -> AppResult<UploadRecord>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin + Send,
        E: std::fmt::Display,
    {
        let rec = self.upload_status(who, id).await?;
        if rec.state != UploadState::Receiving {
            return Err(AppError::conflict(
                "offset",
                format!(
                    "this upload is complete ({}); start a new one to send another file",
                    rec.state.as_str()
                ),
            ));
        }
        if offset != rec.received {
            return Err(AppError::conflict(
                "offset",
                format!(
                    "the piece starts at byte {offset} but the server has {} bytes of this \
                     upload; ask for the offset (HEAD) and send from there",
                    rec.received
                ),
            ));
        }
        let session = self.uploads.session(id);
        let Ok(state) = session.try_lock_owned() else {
            return Err(AppError::conflict(
                "offset",
                "another request is sending this upload right now; wait for it to end",
            ));
        };
        // Read again under the lock: a piece that ended just before may have moved the offset
        // or finished the upload.
        let rec = self.upload_status(who, id).await?;
        if rec.state != UploadState::Receiving || offset != rec.received {
            return Err(AppError::conflict(
                "offset",
                format!(
                    "the upload moved on meanwhile: the server has {} bytes ({}); ask for the \
                     offset (HEAD) and send from there",
                    rec.received,
                    rec.state.as_str()
                ),
            ));
        }
        let purpose: Purpose = serde_json::from_str(&rec.purpose)
            .map_err(|e| AppError::Internal(format!("upload purpose: {e}")))?;
        let check = match &purpose {
            Purpose::Delivery { .. } => Some(
                self.delivery_check_request(who, &purpose, &rec.name)
                    .await?,
            ),
            Purpose::Clip { .. } => None,
        };
        // The bytes are written by a task of their own, fed through a channel: if this request
        // is dropped (the connection broke), the channel closes and the task still writes down
        // what arrived and records it.
        let (feed, arriving) = tokio::sync::mpsc::channel::<Result<Bytes, AppError>>(16);
        let receiver = tokio::spawn(self.clone().receive(rec, check, state, arriving));
        loop {
            let next = match tokio::time::timeout(STALL, body.next()).await {
                Ok(Some(Ok(bytes))) => Ok(bytes),
                Ok(Some(Err(e))) => Err(AppError::invalid(
                    "body",
                    format!("the connection broke: {e}; resume from the offset the server reports"),
                )),
                Ok(None) => break,
                Err(_) => Err(AppError::invalid(
                    "body",
                    format!(
                        "no bytes arrived for {} s; resume from the offset the server reports",
                        STALL.as_secs()
                    ),
                )),
            };
            let stop = next.is_err();
            if feed.send(next).await.is_err() || stop {
                break;
            }
        }
        drop(feed);
        receiver
            .await
            .map_err(|e| AppError::Internal(format!("receiving an upload: {e}")))?
    }

    /// Writes what arrives on `arriving` at the end of the upload's file, feeding the hash and
    /// the checker; records the new offset; judges the file when it is complete.
    async fn receive(
        self,
        mut rec: UploadRecord,
        check: Option<audio::CheckRequest>,
        mut state: tokio::sync::OwnedMutexGuard<SessionState>,
        mut arriving: tokio::sync::mpsc::Receiver<Result<Bytes, AppError>>,
    ) -> AppResult<UploadRecord> {
        let id = rec.id;
        let path = self
            .files
            .upload_path(id)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        // With a bucket, the pieces so far may have reached other instances: fetch them.
        if self.files.shares_uploads() {
            let here = tokio::fs::metadata(&path)
                .await
                .map(|m| m.len())
                .unwrap_or(0);
            if here < rec.received {
                self.files
                    .restore_pieces(id, rec.received)
                    .await
                    .map_err(|e| {
                        AppError::Internal(format!("fetching the upload's pieces: {e}"))
                    })?;
                state.checker = None;
                state.hashed = u64::MAX;
            }
        }
        let started_at = rec.received;
        // The checker follows the file; a new one (after a restart or a pause) starts over.
        if let Some(req) = &check {
            let running = state
                .checker
                .as_ref()
                .is_some_and(|c| !c.handle.is_finished());
            if !running {
                state.checker = Some(Checker::start(
                    path.clone(),
                    rec.length,
                    rec.received,
                    req.clone(),
                ));
            }
        }
        if state.hashed != rec.received {
            state.hasher = hash_prefix(path.clone(), rec.received).await?;
            state.hashed = rec.received;
        }
        let mut file = self
            .files
            .open_upload_at(id, rec.received)
            .await
            .map_err(|e| AppError::Internal(format!("opening the upload's file: {e}")))?;

        let mut piece = self
            .files
            .begin_piece(id, started_at)
            .await
            .map_err(|e| AppError::Internal(format!("starting a piece in the bucket: {e}")))?;
        let mut received = rec.received;
        let mut pending: Vec<u8> = Vec::with_capacity(WRITE_CHUNK);
        let mut stopped: Option<AppError> = None;
        loop {
            let last = match arriving.recv().await {
                Some(Ok(bytes)) => {
                    let would = received
                        .saturating_add(pending.len() as u64)
                        .saturating_add(bytes.len() as u64);
                    if would > rec.length {
                        stopped = Some(AppError::TooLarge(format!(
                            "the piece goes past the declared length of {} bytes",
                            rec.length
                        )));
                        true
                    } else {
                        pending.extend_from_slice(&bytes);
                        false
                    }
                }
                Some(Err(e)) => {
                    stopped = Some(e);
                    true
                }
                None => true,
            };
            if pending.len() >= WRITE_CHUNK || (last && !pending.is_empty()) {
                // A tokio file hands writes to a blocking thread: flush, so the bytes are in the
                // file before the checker is told it may read them.
                let written = match file.write_all(&pending).await {
                    Ok(()) => file.flush().await,
                    Err(e) => Err(e),
                };
                let shared = match (&written, piece.as_mut()) {
                    (Ok(()), Some(p)) => p.write(&pending).await,
                    _ => Ok(()),
                };
                if let Err(e) = written.and(shared) {
                    stopped = Some(AppError::Internal(format!("writing the upload: {e}")));
                    break;
                }
                state.hasher.update(&pending);
                received += pending.len() as u64;
                state.hashed = received;
                pending.clear();
                if let Some(c) = &state.checker {
                    c.arrival.advance(received);
                }
            }
            if last {
                break;
            }
        }
        if let Err(e) = file.flush().await {
            stopped.get_or_insert(AppError::Internal(format!("writing the upload: {e}")));
        }
        let mut complete = received == rec.length && stopped.is_none();
        let mut verdict = None;
        if complete {
            if let Err(e) = file.sync_all().await {
                return Err(AppError::Internal(format!("writing the upload: {e}")));
            }
            drop(file);
            let judged = async {
                match check {
                    Some(req) => {
                        let checker = state.checker.take();
                        judge_delivery(checker, path.clone(), req, &rec.name).await
                    }
                    None => judge_clip(path.clone()).await,
                }
            };
            // With a bucket, the piece is completed there (while the verdict is reached)
            // before it counts, so any instance can go on or keep the file.
            let saved = async {
                match piece.take() {
                    Some(p) => p.finish().await,
                    None => Ok(()),
                }
            };
            let (saved, judged) = tokio::join!(saved, judged);
            match saved {
                Ok(()) => verdict = Some(judged?),
                Err(e) => {
                    complete = false;
                    received = started_at;
                    stopped = Some(AppError::Internal(format!(
                        "storing the piece in the bucket: {e}"
                    )));
                }
            }
        } else if let Some(p) = piece.take() {
            let disk_failed = stopped
                .as_ref()
                .is_some_and(|e| matches!(e, AppError::Internal(_)));
            let saved = if disk_failed {
                // What the piece holds may not be what the file holds: drop it.
                p.abort().await;
                Err(std::io::Error::other("the disk failed"))
            } else {
                p.finish().await
            };
            if let Err(e) = saved {
                received = started_at;
                stopped.get_or_insert(AppError::Internal(format!(
                    "storing the piece in the bucket: {e}"
                )));
            }
        }
        rec.received = received;
        rec.updated_at = self.now();
        if let Some(verdict) = verdict {
            let sha = hex::encode(std::mem::take(&mut state.hasher).finalize());
            state.hashed = 0;
            match verdict {
                Verdict::Accepted { outcome, waveform } => {
                    rec.state = UploadState::Accepted;
                    rec.outcome = Some(outcome);
                    rec.waveform_svg = waveform;
                    rec.sha256 = Some(sha);
                }
                Verdict::Refused(why) => {
                    rec.state = UploadState::Refused;
                    rec.outcome = Some(why);
                    self.files.remove_upload_file(id).await;
                    self.files.remove_pieces(id).await;
                }
            }
        }
        if !complete
            && stopped.is_some()
            && let Some(c) = state.checker.take()
        {
            // Cut off: the client will take a while to come back; a later piece starts over.
            c.arrival.abandon();
        }
        drop(state);
        if complete {
            self.uploads.forget(id);
        }
        let mut tx = self.store.begin().await?;
        if rec.state == UploadState::Refused {
            // Nothing of a refused file is kept, not even its row: the answer says why.
            tx.delete_upload(id).await?;
        } else {
            tx.update_upload(&rec).await?;
        }
        tx.commit().await?;
        match stopped {
            Some(e) => Err(e),
            None => Ok(rec),
        }
    }

    /// Gives up an upload: its bytes and its row go.
    pub async fn cancel_upload(&self, who: &Authenticated, id: UploadId) -> AppResult<()> {
        let rec = self.upload_status(who, id).await?;
        self.uploads.forget(rec.id);
        let mut tx = self.store.begin().await?;
        tx.delete_upload(rec.id).await?;
        tx.commit().await?;
        self.files.remove_upload_file(rec.id).await;
        self.files.remove_pieces(rec.id).await;
        Ok(())
    }

    /// The accepted uploads `ids` of `who`, each for a purpose `fits` admits, ready to be kept by
    /// the caller's action (which deletes their rows in its transaction).
    pub(crate) async fn accepted_uploads(
        &self,
        tx: &mut Box<dyn store::Tx>,
        who: &Authenticated,
        ids: &[UploadId],
        fits: impl Fn(&Purpose) -> bool,
    ) -> AppResult<Vec<(UploadRecord, Purpose, Staged)>> {
        let mut out = Vec::with_capacity(ids.len());
        for (i, id) in ids.iter().enumerate() {
            let field = format!("uploads[{i}]");
            let rec = tx
                .get_upload(*id)
                .await?
                .filter(|r| r.user_id == who.user.id)
                .ok_or_else(|| AppError::invalid(&field, format!("no upload {id} of yours")))?;
            match rec.state {
                UploadState::Accepted => {}
                UploadState::Receiving => {
                    return Err(AppError::invalid(
                        &field,
                        format!(
                            "{} is still arriving ({} of {} bytes)",
                            rec.name, rec.received, rec.length
                        ),
                    ));
                }
                UploadState::Refused => {
                    return Err(AppError::invalid(
                        &field,
                        format!(
                            "{} was refused: {}",
                            rec.name,
                            rec.outcome.clone().unwrap_or_default()
                        ),
                    ));
                }
            }
            let purpose: Purpose = serde_json::from_str(&rec.purpose)
                .map_err(|e| AppError::Internal(format!("upload purpose: {e}")))?;
            if !fits(&purpose) {
                return Err(AppError::invalid(
                    &field,
                    format!("{} was uploaded for something else", rec.name),
                ));
            }
            let staged = Staged {
                name: AttachmentName::parse_for(&rec.name, purpose.accept())
                    .map_err(|e| AppError::invalid(&field, e.to_string()))?,
                size: rec.length,
                sha256: rec.sha256.clone().unwrap_or_default(),
                staged: self.files.staged_upload(rec.id)?,
            };
            out.push((rec, purpose, staged));
        }
        Ok(out)
    }

    /// Removes uploads nobody touched for [`STALE_AFTER`], with their bytes. Best effort.
    async fn clear_stale_uploads(&self) {
        let before = self.now() - STALE_AFTER;
        let stale = match self.store.read().await {
            Ok(mut tx) => tx.stale_uploads(before).await.unwrap_or_default(),
            Err(_) => return,
        };
        for id in stale {
            self.uploads.forget(id);
            if let Ok(mut tx) = self.store.begin().await
                && tx.delete_upload(id).await.is_ok()
                && tx.commit().await.is_ok()
            {
                self.files.remove_upload_file(id).await;
                self.files.remove_pieces(id).await;
            }
        }
    }
}

/// The name of an uploaded file: the attachment rules (a plain name without folders, controls
/// or direction overrides), with the extension its purpose takes.
fn upload_name(raw: &str, purpose: &Purpose) -> AppResult<String> {
    AttachmentName::parse_for(raw, purpose.accept())
        .map(|n| n.as_str().to_string())
        .map_err(|e| AppError::invalid("name", e.to_string()))
}

/// A checked upload's fate.
enum Verdict {
    Accepted {
        outcome: String,
        waveform: Option<String>,
    },
    Refused(String),
}

/// The words of a rejected report: every error, in order.
fn refusal_of(report: &audio::Report) -> String {
    report
        .errors
        .iter()
        .map(|f| f.message.clone())
        .collect::<Vec<_>>()
        .join("; ")
}

async fn judge_delivery(
    checker: Option<Checker>,
    path: PathBuf,
    req: audio::CheckRequest,
    name: &str,
) -> AppResult<Verdict> {
    let followed = match checker {
        Some(c) => {
            c.arrival.finish();
            c.handle.await.ok().and_then(Result::ok)
        }
        None => None,
    };
    let report = match followed {
        Some(r) => r,
        // The follower gave up (a long pause): check the whole file now.
        None => tokio::task::spawn_blocking(move || {
            let mut f = io::BufReader::with_capacity(256 * 1024, std::fs::File::open(&path)?);
            audio::check(&mut f, &req)
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(format!("checking the upload: {e}")))?,
    };
    if report.verdict == audio::Verdict::Rejected {
        return Ok(Verdict::Refused(refusal_of(&report)));
    }
    let outcome = report
        .to_json_line(name)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let waveform = report.waveform.as_ref().map(|w| w.svg(name));
    Ok(Verdict::Accepted { outcome, waveform })
}

/// Reads an MP4's own duration (its video track's, in its time scale) with `mp4parse`.
async fn judge_clip(path: PathBuf) -> AppResult<Verdict> {
    tokio::task::spawn_blocking(move || -> io::Result<Verdict> {
        let mut f = io::BufReader::with_capacity(256 * 1024, std::fs::File::open(&path)?);
        let ctx = match mp4parse::read_mp4(&mut f) {
            Ok(c) => c,
            Err(e) => {
                return Ok(Verdict::Refused(format!(
                    "not a readable MP4 video ({e:?}); export the clip as an .mp4 file"
                )));
            }
        };
        let video = ctx
            .tracks
            .iter()
            .find(|t| t.track_type == mp4parse::TrackType::Video);
        let Some(t) = video else {
            return Ok(Verdict::Refused(
                "the MP4 has no video track; a Moments clip is picture with sound".into(),
            ));
        };
        let (Some(d), Some(ts)) = (t.duration, t.timescale) else {
            return Ok(Verdict::Refused(
                "the MP4's video track gives no duration, so its length is unknown".into(),
            ));
        };
        let facts = ClipFacts {
            duration: d.0,
            timescale: ts.0,
        };
        Ok(Verdict::Accepted {
            outcome: serde_json::to_string(&facts).map_err(io::Error::other)?,
            waveform: None,
        })
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::Internal(format!("reading the clip: {e}")))
}

/// Re-reads the first `n` bytes of an upload to carry its SHA-256 on (after a restart).
async fn hash_prefix(path: PathBuf, n: u64) -> AppResult<Sha256> {
    tokio::task::spawn_blocking(move || -> io::Result<Sha256> {
        let mut f = std::fs::File::open(&path)?.take(n);
        let mut h = Sha256::new();
        let mut buf = vec![0u8; 256 * 1024];
        loop {
            let k = f.read(&mut buf)?;
            if k == 0 {
                break;
            }
            h.update(buf.get(..k).unwrap_or_default());
        }
        Ok(h)
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::Internal(format!("reading the upload: {e}")))
}

/// The uploads this instance is receiving: one lock per upload (one sender at a time), the
/// running hash, and the checker following the file.
#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<UploadId, Arc<tokio::sync::Mutex<SessionState>>>>,
}

#[derive(Default)]
pub struct SessionState {
    hasher: Sha256,
    hashed: u64,
    checker: Option<Checker>,
}

impl Sessions {
    fn session(&self, id: UploadId) -> Arc<tokio::sync::Mutex<SessionState>> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(id).or_default().clone()
    }

    fn forget(&self, id: UploadId) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = map.remove(&id)
            && let Ok(mut st) = s.try_lock()
            && let Some(c) = st.checker.take()
        {
            c.arrival.abandon();
        }
    }
}

/// The audio checker running behind an arriving file.
struct Checker {
    arrival: Arc<Arrival>,
    handle: tokio::task::JoinHandle<io::Result<audio::Report>>,
}

/// How long a checker waits for the next piece before it gives up (a later piece then starts a
/// new one, from the bytes on disk). Clients that send a file in several pieces send them back
/// to back; a client resuming after a failure takes longer, and re-reading what is on disk is
/// fast next to the network.
const CHECKER_PATIENCE: Duration = Duration::from_secs(5);

impl Checker {
    fn start(path: PathBuf, length: u64, received: u64, req: audio::CheckRequest) -> Self {
        let arrival = Arc::new(Arrival {
            progress: Mutex::new(Progress {
                written: received,
                finished: false,
                abandoned: false,
            }),
            moved: Condvar::new(),
        });
        let follow = arrival.clone();
        let handle = tokio::task::spawn_blocking(move || {
            let mut reader = Follower {
                file: std::fs::File::open(&path)?,
                pos: 0,
                length,
                arrival: follow,
            };
            audio::check_arriving(&mut reader, &req)
        });
        Self { arrival, handle }
    }
}

struct Progress {
    written: u64,
    finished: bool,
    abandoned: bool,
}

/// What the writer tells the checker: how far the file is written.
struct Arrival {
    progress: Mutex<Progress>,
    moved: Condvar,
}

impl Arrival {
    fn advance(&self, written: u64) {
        if let Ok(mut p) = self.progress.lock() {
            p.written = written;
        }
        self.moved.notify_all();
    }

    fn finish(&self) {
        if let Ok(mut p) = self.progress.lock() {
            p.finished = true;
        }
        self.moved.notify_all();
    }

    fn abandon(&self) {
        if let Ok(mut p) = self.progress.lock() {
            p.abandoned = true;
        }
        self.moved.notify_all();
    }

    /// Waits until byte `pos` is written (or the file is complete); returns how far it is.
    fn wait_for(&self, pos: u64) -> io::Result<u64> {
        let mut p = self
            .progress
            .lock()
            .map_err(|_| io::Error::other("upload progress lock poisoned"))?;
        loop {
            if p.abandoned {
                return Err(io::Error::other("the upload was abandoned"));
            }
            if p.written > pos || p.finished {
                return Ok(p.written);
            }
            let (next, timeout) = self
                .moved
                .wait_timeout(p, CHECKER_PATIENCE)
                .map_err(|_| io::Error::other("upload progress lock poisoned"))?;
            p = next;
            if timeout.timed_out() && p.written <= pos && !p.finished && !p.abandoned {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no bytes arrived for a while",
                ));
            }
        }
    }
}

/// A file that is still being written, read as if it were whole: it reports the declared
/// length and blocks until the bytes asked for are there.
struct Follower {
    file: std::fs::File,
    pos: u64,
    length: u64,
    arrival: Arc<Arrival>,
}

impl Read for Follower {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.length || buf.is_empty() {
            return Ok(0);
        }
        let written = self.arrival.wait_for(self.pos)?;
        let avail = written.min(self.length).saturating_sub(self.pos);
        if avail == 0 {
            return Ok(0);
        }
        let n = usize::try_from(avail).unwrap_or(usize::MAX).min(buf.len());
        self.file.seek(SeekFrom::Start(self.pos))?;
        let got = self.file.read(buf.get_mut(..n).unwrap_or_default())?;
        self.pos += got as u64;
        Ok(got)
    }
}

impl Seek for Follower {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let next = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.length.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = next.ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the file",
            )
        })?;
        Ok(self.pos)
    }
}
