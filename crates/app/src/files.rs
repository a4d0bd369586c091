//! File storage for attachments (and, later, deliverables): a directory on the local disk.
//!
//! An upload is written to a staging file while it arrives — counted, hashed and with its first
//! bytes kept for the content check — so memory does not grow with the file. Only a file that
//! passed every check is *kept*: renamed into the store under a name the server chose, in the
//! same file system, so keeping is atomic. A refused or abandoned upload's staging file is
//! removed when it is dropped; nothing of it stays behind.

use domain::attachments::{Accept, AttachmentName, AttachmentRefusal, FileType, HEAD_BYTES};
use sha2::{Digest, Sha256};
use std::io;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// Where kept files and staging files live.
#[derive(Clone, Debug)]
pub struct FileStore {
    root: PathBuf,
}

impl FileStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn staging(&self) -> PathBuf {
        self.root.join("staging")
    }

    /// The path of a kept file. Keys are made by the server (`attachments/<uuid>`); anything
    /// else is refused rather than joined into a path.
    fn path_of(&self, key: &str) -> io::Result<PathBuf> {
        let valid = !key.is_empty()
            && key.split('/').all(|part| {
                !part.is_empty()
                    && part != "."
                    && part != ".."
                    && part
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
            });
        if valid {
            Ok(self.root.join(key))
        } else {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("not a storage key: {key:?}"),
            ))
        }
    }

    /// Starts receiving a file called `name` (already checked by the caller).
    pub async fn begin_upload(&self, name: AttachmentName) -> io::Result<Upload> {
        self.begin_upload_for(name, Accept::Message).await
    }

    /// Starts receiving a file of `accept`'s class (its size limit applies as it streams).
    pub async fn begin_upload_for(
        &self,
        name: AttachmentName,
        accept: Accept,
    ) -> io::Result<Upload> {
        let dir = self.staging();
        private_dir(&dir).await?;
        let path = dir.join(format!("{}.part", domain::AttachmentId::new()));
        let file = private_file(&path).await?;
        Ok(Upload {
            name,
            staged: StagedPath(Some(path), true),
            file: tokio::io::BufWriter::with_capacity(64 * 1024, file),
            size: 0,
            max_bytes: accept.max_bytes(),
            head: Vec::new(),
            hash: Sha256::new(),
        })
    }

    /// Moves a checked file into the store under `key`.
    pub async fn keep(&self, staged: &mut StagedPath, key: &str) -> io::Result<()> {
        let target = self.path_of(key)?;
        if let Some(parent) = target.parent() {
            private_dir(parent).await?;
        }
        let Some(from) = staged.0.as_ref() else {
            return Err(io::Error::other("this upload was already kept"));
        };
        tokio::fs::rename(from, &target).await?;
        staged.0 = None;
        Ok(())
    }

    /// Opens a kept file for reading.
    pub async fn open(&self, key: &str) -> io::Result<tokio::fs::File> {
        tokio::fs::File::open(self.path_of(key)?).await
    }

    /// Removes a kept file; a file already gone is not an error.
    pub async fn remove(&self, key: &str) -> io::Result<()> {
        match tokio::fs::remove_file(self.path_of(key)?).await {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Where the bytes of a resumable upload gather.
    pub fn upload_path(&self, id: domain::UploadId) -> io::Result<PathBuf> {
        Ok(self.root.join("uploads").join(format!("{id}.part")))
    }

    /// Creates the (empty, private) file of a new resumable upload.
    pub async fn create_upload_file(&self, id: domain::UploadId) -> io::Result<()> {
        private_dir(&self.root.join("uploads")).await?;
        private_file(&self.upload_path(id)?).await?;
        Ok(())
    }

    /// Opens an upload's file to append at `at`: anything beyond it (bytes written but never
    /// recorded, as when the portal stopped mid-write) is cut off first.
    pub async fn open_upload_at(
        &self,
        id: domain::UploadId,
        at: u64,
    ) -> io::Result<tokio::fs::File> {
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .open(self.upload_path(id)?)
            .await?;
        file.set_len(at).await?;
        tokio::io::AsyncSeekExt::seek(&mut file, io::SeekFrom::Start(at)).await?;
        Ok(file)
    }

    /// Removes an upload's bytes; best effort (a leftover file is unreachable).
    pub async fn remove_upload_file(&self, id: domain::UploadId) {
        if let Ok(p) = self.upload_path(id) {
            let _ = tokio::fs::remove_file(p).await;
        }
    }

    /// A complete, checked upload as a staged file, to be kept by an action.
    pub(crate) fn staged_upload(&self, id: domain::UploadId) -> crate::AppResult<StagedPath> {
        self.upload_path(id)
            .map(|p| StagedPath(Some(p), false))
            .map_err(|e| crate::AppError::Internal(e.to_string()))
    }

    /// The number of resumable uploads with bytes on disk (tests).
    pub fn upload_count(&self) -> usize {
        std::fs::read_dir(self.root.join("uploads"))
            .map(|d| d.filter_map(Result::ok).count())
            .unwrap_or(0)
    }

    /// The number of kept files under `dir` ("clips", "deliveries"; tests).
    pub fn kept_in(&self, dir: &str) -> usize {
        std::fs::read_dir(self.root.join(dir))
            .map(|d| d.filter_map(Result::ok).count())
            .unwrap_or(0)
    }

    /// The number of files in staging (tests check that refusals leave nothing there).
    pub fn staged_count(&self) -> usize {
        std::fs::read_dir(self.staging())
            .map(|d| d.filter_map(Result::ok).count())
            .unwrap_or(0)
    }

    /// The number of kept files (tests).
    pub fn kept_count(&self) -> usize {
        fn count(dir: &Path) -> usize {
            std::fs::read_dir(dir)
                .map(|d| {
                    d.filter_map(Result::ok)
                        .map(|e| {
                            let p = e.path();
                            if p.is_dir() { count(&p) } else { 1 }
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        count(&self.root.join("attachments"))
    }
}

/// A staging file, removed when dropped unless it was kept. A resumable upload's file is not
/// removed (`false`): an action refused for another reason leaves it for the next try, and the
/// upload's own life (cancel, staleness) removes it.
#[derive(Debug)]
pub struct StagedPath(Option<PathBuf>, bool);

impl StagedPath {
    pub fn path(&self) -> Option<&Path> {
        self.0.as_deref()
    }
}

impl Drop for StagedPath {
    fn drop(&mut self) {
        if let Some(p) = self.0.take().filter(|_| self.1) {
            // Best effort: a leftover .part file holds nothing anyone can reach.
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A file being received.
pub struct Upload {
    name: AttachmentName,
    staged: StagedPath,
    file: tokio::io::BufWriter<tokio::fs::File>,
    size: u64,
    max_bytes: u64,
    head: Vec<u8>,
    hash: Sha256,
}

/// Why an upload stopped: a rule it broke, or the disk.
#[derive(Debug)]
pub enum UploadError {
    Refused(AttachmentRefusal),
    Io(io::Error),
}

impl From<io::Error> for UploadError {
    fn from(e: io::Error) -> Self {
        UploadError::Io(e)
    }
}

impl Upload {
    /// Appends the next piece. Refuses as soon as the file grows past the limit.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), UploadError> {
        let len = u64::try_from(chunk.len()).unwrap_or(u64::MAX);
        self.size = self.size.saturating_add(len);
        if self.size > self.max_bytes {
            return Err(UploadError::Refused(AttachmentRefusal::TooLarge {
                size_at_least: self.size,
                limit: self.max_bytes,
            }));
        }
        if self.head.len() < HEAD_BYTES {
            let take = (HEAD_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
        self.hash.update(chunk);
        self.file.write_all(chunk).await?;
        Ok(())
    }

    /// Ends the upload and checks the content against the name's extension (a WAV is parsed by
    /// the audio checker). The result can be kept; dropping it removes the staging file.
    pub async fn finish(mut self) -> Result<Staged, UploadError> {
        self.file.flush().await?;
        self.file.get_mut().sync_all().await?;
        let file_type = self.name.file_type();
        file_type
            .check_content(&self.head)
            .map_err(UploadError::Refused)?;
        if file_type == FileType::Wav
            && let Some(path) = self.staged.path().map(Path::to_path_buf)
        {
            let verdict = tokio::task::spawn_blocking(move || check_wav(&path))
                .await
                .map_err(|e| io::Error::other(e.to_string()))??;
            if let Some(why) = verdict {
                return Err(UploadError::Refused(AttachmentRefusal::BrokenWav(why)));
            }
        }
        Ok(Staged {
            name: self.name,
            size: self.size,
            sha256: hex::encode(self.hash.finalize()),
            staged: self.staged,
        })
    }
}

/// The structural check of the audio deliverable checker: headers and chunks, never the audio.
/// `Some(reason)` when the file is not a readable WAV.
fn check_wav(path: &Path) -> io::Result<Option<String>> {
    let mut file = std::io::BufReader::new(std::fs::File::open(path)?);
    let inspection = audio::inspect(&mut file)?;
    Ok(inspection
        .findings
        .iter()
        .find(|f| f.is_error())
        .map(|f| f.message.clone()))
}

/// A received file that passed every check, waiting to be kept with its message.
#[derive(Debug)]
pub struct Staged {
    pub name: AttachmentName,
    pub size: u64,
    pub sha256: String,
    pub staged: StagedPath,
}

/// Creates `dir` (and its parents) readable by the portal's own user only (0700), as every
/// directory of files and e-mails is: other accounts on the machine have no business there.
pub(crate) async fn private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = tokio::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    builder.mode(0o700);
    builder.create(dir).await
}

/// Creates (or truncates) a file readable and writable by the portal's own user only (0600).
pub(crate) async fn private_file(path: &Path) -> io::Result<tokio::fs::File> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path).await
}

impl crate::App {
    /// The last step of every action that keeps uploaded files: moves each staged file to its
    /// key, then commits `tx`. If a file cannot be kept or the commit fails, the files kept so
    /// far are removed again and nothing of the action is left. The rows naming the keys must
    /// already be written in `tx`.
    pub(crate) async fn keep_and_commit(
        &self,
        tx: Box<dyn store::Tx>,
        files: Vec<(&mut Staged, String)>,
    ) -> crate::AppResult<()> {
        let mut kept: Vec<String> = Vec::with_capacity(files.len());
        let mut outcome = Ok(());
        for (f, key) in files {
            if let Err(e) = self.files.keep(&mut f.staged, &key).await {
                outcome = Err(crate::AppError::Internal(format!(
                    "keeping {} as {key}: {e}",
                    f.name
                )));
                break;
            }
            kept.push(key);
        }
        if outcome.is_ok() {
            outcome = tx.commit().await.map_err(crate::AppError::from);
        }
        if outcome.is_err() {
            for key in kept {
                if let Err(err) = self.files.remove(&key).await {
                    tracing::warn!(key, %err, "could not remove a file whose action did not happen");
                }
            }
        }
        outcome
    }
}
