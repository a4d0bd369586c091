//! File storage for attachments, script work, clips and recordings: a directory on the local
//! disk (the default) or an S3-compatible bucket.
//!
//! An upload is written to a local staging file while it arrives — counted, hashed and with its
//! first bytes kept for the content check — so memory does not grow with the file. Only a file
//! that passed every check is *kept*: on disk, renamed into the store under a name the server
//! chose, in the same file system, so keeping is atomic; in a bucket, streamed from the staging
//! file as a multipart upload, which the bucket makes visible only once it is complete. A
//! refused or abandoned upload's staging file is removed when it is dropped; nothing of it stays
//! behind. Kept files are read back as streams, whole or a byte range.

use domain::attachments::{Accept, AttachmentName, AttachmentRefusal, FileType, HEAD_BYTES};
use futures::StreamExt;
use object_store::{ObjectStore, ObjectStoreExt};
use sha2::{Digest, Sha256};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

/// The bytes of a kept file, as they are read.
pub type ByteStream = futures::stream::BoxStream<'static, io::Result<bytes::Bytes>>;

/// Where kept files live: `root` on the local disk, or a bucket (then `root` holds only the
/// staging files and resumable uploads of this instance).
#[derive(Clone)]
pub struct FileStore {
    root: PathBuf,
    bucket: Option<Bucket>,
}

/// An S3-compatible bucket and the prefix under which the portal's keys go.
#[derive(Clone)]
struct Bucket {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    url: String,
}

impl std::fmt::Debug for FileStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileStore")
            .field("root", &self.root)
            .field("bucket", &self.bucket.as_ref().map(|b| &b.url))
            .finish()
    }
}

/// How to reach an S3-compatible bucket: `s3://bucket/prefix`, plus the endpoint, region and
/// credentials (otherwise taken from the usual `AWS_*` environment variables).
#[derive(Clone, Debug, Default)]
pub struct BucketSettings {
    pub url: String,
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
}

/// Bytes sent per part of a multipart upload to a bucket (S3's minimum is 5 MiB).
const PART_BYTES: usize = 8 * 1024 * 1024;

impl FileStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            bucket: None,
        }
    }

    /// Kept files in an S3-compatible bucket; `staging_root` is this instance's local directory
    /// for files still arriving.
    pub fn s3(staging_root: impl Into<PathBuf>, settings: &BucketSettings) -> Result<Self, String> {
        let rest = settings.url.strip_prefix("s3://").ok_or_else(|| {
            format!(
                "{:?} is not an S3 address; write s3://bucket or s3://bucket/prefix",
                settings.url
            )
        })?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err("the S3 address names no bucket: write s3://bucket/prefix".into());
        }
        // HTTPS through rustls with the ring provider, installed once per process.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut b = object_store::aws::AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(e) = &settings.endpoint {
            b = b
                .with_endpoint(e)
                .with_allow_http(e.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        if let Some(r) = &settings.region {
            b = b.with_region(r);
        }
        if let Some(k) = &settings.access_key_id {
            b = b.with_access_key_id(k);
        }
        if let Some(k) = &settings.secret_access_key {
            b = b.with_secret_access_key(k);
        }
        let store = b.build().map_err(|e| format!("S3 settings: {e}"))?;
        Ok(Self {
            root: staging_root.into(),
            bucket: Some(Bucket {
                store: Arc::new(store),
                prefix: prefix.trim_matches('/').to_string(),
                url: settings.url.clone(),
            }),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where kept files go, for the start-up message.
    pub fn describe(&self) -> String {
        match &self.bucket {
            Some(b) => b.url.clone(),
            None => self.root.display().to_string(),
        }
    }

    /// Checks that the bucket answers (listing one key); the local disk always does.
    pub async fn ping(&self) -> io::Result<()> {
        if let Some(b) = &self.bucket {
            let prefix = object_store::path::Path::from(b.prefix.as_str());
            let mut list = b.store.list(Some(&prefix));
            if let Some(Err(e)) = list.next().await {
                return Err(io::Error::other(format!(
                    "the bucket {} does not answer: {e}",
                    b.url
                )));
            }
        }
        Ok(())
    }

    fn object_path(&self, b: &Bucket, key: &str) -> io::Result<object_store::path::Path> {
        self.path_of(key)?;
        let full = if b.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", b.prefix)
        };
        object_store::path::Path::parse(&full)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))
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
            staged: StagedPath(Some(path), None),
            file: tokio::io::BufWriter::with_capacity(64 * 1024, file),
            size: 0,
            max_bytes: accept.max_bytes(),
            head: Vec::new(),
            hash: Sha256::new(),
        })
    }

    /// Moves a checked file into the store under `key`: renamed on disk, or sent to the bucket
    /// as a multipart upload (then the staging file goes).
    pub async fn keep(&self, staged: &mut StagedPath, key: &str) -> io::Result<()> {
        let Some(from) = staged.0.clone() else {
            return Err(io::Error::other("this upload was already kept"));
        };
        match &self.bucket {
            None => {
                let target = self.path_of(key)?;
                if let Some(parent) = target.parent() {
                    private_dir(parent).await?;
                }
                tokio::fs::rename(&from, &target).await?;
            }
            Some(b) => {
                let path = self.object_path(b, key)?;
                if let Some(id) = staged.1 {
                    // A resumable upload is in the bucket already, in pieces. One piece (the
                    // usual case) becomes the file by a copy inside the bucket (S3 copies up
                    // to 5 GiB so); otherwise the pieces are put together here and sent.
                    let pieces = self.pieces(b, id).await?;
                    if let [(0, piece, size)] = pieces.as_slice()
                        && *size <= 5 * 1024 * 1024 * 1024
                    {
                        b.store
                            .rename(piece, &path)
                            .await
                            .map_err(io::Error::other)?;
                        let _ = tokio::fs::remove_file(&from).await;
                        staged.0 = None;
                        return Ok(());
                    }
                    let total = pieces.last().map_or(0, |(start, _, size)| start + size);
                    let here = tokio::fs::metadata(&from)
                        .await
                        .map(|m| m.len())
                        .unwrap_or(0);
                    if here != total {
                        self.restore_pieces(id, total).await?;
                    }
                }
                let upload = b
                    .store
                    .put_multipart(&path)
                    .await
                    .map_err(io::Error::other)?;
                let mut writer =
                    object_store::WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
                let mut file = tokio::fs::File::open(&from).await?;
                let mut buf = vec![0u8; 1024 * 1024];
                let sent = async {
                    loop {
                        let n = file.read(&mut buf).await?;
                        if n == 0 {
                            break;
                        }
                        writer
                            .wait_for_capacity(4)
                            .await
                            .map_err(io::Error::other)?;
                        writer.write(buf.get(..n).unwrap_or_default());
                    }
                    Ok::<(), io::Error>(())
                }
                .await;
                match sent {
                    Ok(()) => {
                        writer.finish().await.map_err(io::Error::other)?;
                    }
                    Err(e) => {
                        let _ = writer.abort().await;
                        return Err(e);
                    }
                }
                // Now in the bucket: the local copy (and an upload's pieces) have served.
                let _ = tokio::fs::remove_file(&from).await;
                if let Some(id) = staged.1 {
                    self.remove_pieces(id).await;
                }
            }
        }
        staged.0 = None;
        Ok(())
    }

    /// Puts a kept upload back as upload `id`'s bytes (its action did not happen).
    pub async fn unkeep_upload(&self, key: &str, id: domain::UploadId) -> io::Result<()> {
        match &self.bucket {
            None => {
                private_dir(&self.root.join("uploads")).await?;
                tokio::fs::rename(self.path_of(key)?, self.upload_path(id)?).await
            }
            Some(b) => {
                let piece = self.object_path(b, &format!("uploads/{id}/{:020}", 0))?;
                b.store
                    .rename(&self.object_path(b, key)?, &piece)
                    .await
                    .map_err(io::Error::other)
            }
        }
    }

    /// Reads a kept file: all of it, or the bytes `from..=to`.
    pub async fn read(&self, key: &str, range: Option<(u64, u64)>) -> io::Result<ByteStream> {
        match &self.bucket {
            None => {
                let mut file = tokio::fs::File::open(self.path_of(key)?).await?;
                Ok(match range {
                    None => tokio_util::io::ReaderStream::new(file).boxed(),
                    Some((from, to)) => {
                        file.seek(io::SeekFrom::Start(from)).await?;
                        tokio_util::io::ReaderStream::new(file.take(to - from + 1)).boxed()
                    }
                })
            }
            Some(b) => {
                let path = self.object_path(b, key)?;
                let options = object_store::GetOptions {
                    range: range.map(|(from, to)| object_store::GetRange::Bounded(from..to + 1)),
                    ..Default::default()
                };
                let got = b
                    .store
                    .get_opts(&path, options)
                    .await
                    .map_err(|e| match e {
                        object_store::Error::NotFound { .. } => {
                            io::Error::new(io::ErrorKind::NotFound, e.to_string())
                        }
                        other => io::Error::other(other),
                    })?;
                Ok(got
                    .into_stream()
                    .map(|r| r.map_err(io::Error::other))
                    .boxed())
            }
        }
    }

    /// Removes a kept file; a file already gone is not an error.
    pub async fn remove(&self, key: &str) -> io::Result<()> {
        match &self.bucket {
            None => match tokio::fs::remove_file(self.path_of(key)?).await {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
            Some(b) => match b.store.delete(&self.object_path(b, key)?).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(io::Error::other(e)),
            },
        }
    }

    /// The keys kept under `dir` ("attachments", "deliveries", …), for tests and checks.
    pub async fn kept_keys(&self, dir: &str) -> io::Result<Vec<String>> {
        match &self.bucket {
            None => {
                let mut out = Vec::new();
                let base = self.root.join(dir);
                let mut stack = vec![base.clone()];
                while let Some(d) = stack.pop() {
                    let Ok(mut entries) = tokio::fs::read_dir(&d).await else {
                        continue;
                    };
                    while let Some(e) = entries.next_entry().await? {
                        let p = e.path();
                        if e.file_type().await?.is_dir() {
                            stack.push(p);
                        } else if let Ok(rel) = p.strip_prefix(&self.root) {
                            out.push(rel.to_string_lossy().replace('\\', "/"));
                        }
                    }
                }
                out.sort();
                Ok(out)
            }
            Some(b) => {
                let under = self.object_path(b, dir)?;
                let mut list = b.store.list(Some(&under));
                let mut out = Vec::new();
                while let Some(meta) = list.next().await {
                    let meta = meta.map_err(io::Error::other)?;
                    let full = meta.location.to_string();
                    let key = if b.prefix.is_empty() {
                        full
                    } else {
                        full.strip_prefix(&format!("{}/", b.prefix))
                            .unwrap_or(&full)
                            .to_string()
                    };
                    out.push(key);
                }
                out.sort();
                Ok(out)
            }
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

    /// A complete, checked upload as a staged file, to be kept by an action (with a bucket, from
    /// its pieces there, whichever instance received them).
    pub(crate) fn staged_upload(&self, id: domain::UploadId) -> crate::AppResult<StagedPath> {
        let path = self
            .upload_path(id)
            .map_err(|e| crate::AppError::Internal(e.to_string()))?;
        Ok(StagedPath(Some(path), Some(id)))
    }

    /// Whether resumable uploads are shared between instances (through the bucket).
    pub fn shares_uploads(&self) -> bool {
        self.bucket.is_some()
    }

    fn piece_prefix(
        &self,
        b: &Bucket,
        id: domain::UploadId,
    ) -> io::Result<object_store::path::Path> {
        self.object_path(b, &format!("uploads/{id}"))
    }

    /// Starts the piece of upload `id` that begins at byte `from`: the bytes written to it go to
    /// the bucket as they arrive (a multipart upload, at most two parts in flight), so another
    /// instance can carry the upload on. `None` without a bucket.
    pub async fn begin_piece(
        &self,
        id: domain::UploadId,
        from: u64,
    ) -> io::Result<Option<PieceWriter>> {
        let Some(b) = &self.bucket else {
            return Ok(None);
        };
        let path = self.object_path(b, &format!("uploads/{id}/{from:020}"))?;
        let upload = b
            .store
            .put_multipart(&path)
            .await
            .map_err(io::Error::other)?;
        Ok(Some(PieceWriter {
            writer: object_store::WriteMultipart::new_with_chunk_size(upload, PART_BYTES),
            bytes: 0,
        }))
    }

    /// The pieces of upload `id` in the bucket, by the offset they start at.
    async fn pieces(
        &self,
        b: &Bucket,
        id: domain::UploadId,
    ) -> io::Result<Vec<(u64, object_store::path::Path, u64)>> {
        let under = self.piece_prefix(b, id)?;
        let mut list = b.store.list(Some(&under));
        let mut out = Vec::new();
        while let Some(meta) = list.next().await {
            let meta = meta.map_err(io::Error::other)?;
            let start = meta
                .location
                .filename()
                .and_then(|f| f.parse::<u64>().ok())
                .ok_or_else(|| io::Error::other(format!("not a piece: {}", meta.location)))?;
            out.push((start, meta.location, meta.size));
        }
        out.sort_by_key(|p| p.0);
        Ok(out)
    }

    /// Rebuilds upload `id`'s file on this instance's disk from its pieces in the bucket, up to
    /// byte `upto` (the offset the database records).
    pub async fn restore_pieces(&self, id: domain::UploadId, upto: u64) -> io::Result<()> {
        let Some(b) = &self.bucket else {
            return Ok(());
        };
        private_dir(&self.root.join("uploads")).await?;
        let mut file = private_file(&self.upload_path(id)?).await?;
        let mut at = 0u64;
        for (start, path, size) in self.pieces(b, id).await? {
            if at >= upto {
                break;
            }
            if start != at {
                return Err(io::Error::other(format!(
                    "upload {id}: the bucket has no bytes from {at} (next piece at {start})"
                )));
            }
            let mut stream = b
                .store
                .get(&path)
                .await
                .map_err(io::Error::other)?
                .into_stream();
            while let Some(chunk) = stream.next().await {
                file.write_all(&chunk.map_err(io::Error::other)?).await?;
            }
            at = start + size;
        }
        file.flush().await?;
        if at < upto {
            return Err(io::Error::other(format!(
                "upload {id}: the bucket holds {at} of its {upto} bytes"
            )));
        }
        file.set_len(upto).await?;
        Ok(())
    }

    /// Removes upload `id`'s pieces from the bucket; best effort.
    pub async fn remove_pieces(&self, id: domain::UploadId) {
        let Some(b) = &self.bucket else {
            return;
        };
        if let Ok(pieces) = self.pieces(b, id).await {
            for (_, path, _) in pieces {
                if let Err(e) = b.store.delete(&path).await {
                    tracing::warn!(%id, %e, "could not remove an upload's piece");
                }
            }
        }
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

/// A piece of a resumable upload on its way to the bucket.
pub struct PieceWriter {
    writer: object_store::WriteMultipart,
    bytes: u64,
}

impl PieceWriter {
    pub async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.writer
            .wait_for_capacity(2)
            .await
            .map_err(io::Error::other)?;
        self.writer.write(bytes);
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    /// Completes the piece (an empty one is dropped: it holds nothing).
    pub async fn finish(self) -> io::Result<()> {
        if self.bytes == 0 {
            let _ = self.writer.abort().await;
            return Ok(());
        }
        self.writer
            .finish()
            .await
            .map(|_| ())
            .map_err(io::Error::other)
    }

    pub async fn abort(self) {
        let _ = self.writer.abort().await;
    }
}

/// Which bytes of a file a download sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Whole,
    /// `from..=to`.
    Range(u64, u64),
    /// Nothing of the range asked for is in the file (HTTP 416).
    Unsatisfiable,
}

/// The part of a file of `size` bytes a `Range` header asks for. Only one `bytes=` range is
/// honoured; several ranges, or a header that cannot be read, get the whole file.
pub fn byte_range(header: Option<&str>, size: u64) -> Part {
    let Some(spec) = header.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return Part::Whole;
    };
    if spec.contains(',') {
        return Part::Whole;
    }
    let Some((a, b)) = spec.split_once('-') else {
        return Part::Whole;
    };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        // The last `b` bytes.
        return match b.parse::<u64>() {
            Ok(0) => Part::Unsatisfiable,
            Ok(_) if size == 0 => Part::Unsatisfiable,
            Ok(n) => Part::Range(size.saturating_sub(n), size - 1),
            Err(_) => Part::Whole,
        };
    }
    let Ok(start) = a.parse::<u64>() else {
        return Part::Whole;
    };
    let end = if b.is_empty() {
        size.saturating_sub(1)
    } else {
        match b.parse::<u64>() {
            Ok(e) => e,
            Err(_) => return Part::Whole,
        }
    };
    if start >= size || end < start {
        return Part::Unsatisfiable;
    }
    Part::Range(start, end.min(size - 1))
}

/// A kept file on its way out: what it is, which part is sent, and the bytes.
pub struct Served {
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub part: Part,
    /// `None` for [`Part::Unsatisfiable`].
    pub body: Option<ByteStream>,
}

impl crate::App {
    /// Opens the part of the kept file `key` that `range` (a `Range` header) asks for.
    pub(crate) async fn serve(
        &self,
        key: &str,
        name: &str,
        size: u64,
        sha256: &str,
        range: Option<&str>,
    ) -> crate::AppResult<Served> {
        let part = byte_range(range, size);
        let body = match part {
            Part::Unsatisfiable => None,
            Part::Whole => Some(self.files.read(key, None).await),
            Part::Range(from, to) => Some(self.files.read(key, Some((from, to))).await),
        }
        .transpose()
        .map_err(|e| crate::AppError::Internal(format!("opening {key}: {e}")))?;
        Ok(Served {
            name: name.to_string(),
            size,
            sha256: sha256.to_string(),
            part,
            body,
        })
    }
}

#[cfg(test)]
mod range_tests {
    use super::{Part, byte_range};

    #[test]
    fn byte_ranges() {
        let r = |h: &str| byte_range(Some(h), 1000);
        assert_eq!(r("bytes=0-99"), Part::Range(0, 99));
        assert_eq!(r("bytes=900-"), Part::Range(900, 999));
        assert_eq!(r("bytes=-100"), Part::Range(900, 999));
        assert_eq!(r("bytes=990-5000"), Part::Range(990, 999));
        assert_eq!(r("bytes=1000-"), Part::Unsatisfiable);
        assert_eq!(r("bytes=5-2"), Part::Unsatisfiable);
        assert_eq!(r("bytes=0-1,5-6"), Part::Whole);
        assert_eq!(r("items=0-1"), Part::Whole);
        assert_eq!(r("bytes=x-1"), Part::Whole);
        assert_eq!(byte_range(None, 10), Part::Whole);
    }
}

/// A staging file, removed when dropped unless it was kept. A resumable upload's file (its id
/// given) is not removed: an action refused for another reason leaves it for the next try, and
/// the upload's own life (cancel, staleness) removes it.
#[derive(Debug)]
pub struct StagedPath(Option<PathBuf>, Option<domain::UploadId>);

impl StagedPath {
    pub fn path(&self) -> Option<&Path> {
        self.0.as_deref()
    }
}

impl Drop for StagedPath {
    fn drop(&mut self) {
        if let Some(p) = self.0.take().filter(|_| self.1.is_none()) {
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
        let mut kept: Vec<(String, Option<domain::UploadId>)> = Vec::with_capacity(files.len());
        let mut outcome = Ok(());
        for (f, key) in files {
            let upload = f.staged.1;
            if let Err(e) = self.files.keep(&mut f.staged, &key).await {
                outcome = Err(crate::AppError::Internal(format!(
                    "keeping {} as {key}: {e}",
                    f.name
                )));
                break;
            }
            kept.push((key, upload));
        }
        if outcome.is_ok() {
            outcome = tx.commit().await.map_err(crate::AppError::from);
        }
        if outcome.is_err() {
            for (key, upload) in kept {
                // A resumable upload's bytes go back where they were, for the next try; any
                // other file is simply removed.
                let undone = match upload {
                    Some(id) => self.files.unkeep_upload(&key, id).await,
                    None => self.files.remove(&key).await,
                };
                if let Err(err) = undone {
                    tracing::warn!(key, %err, "could not undo keeping a file whose action did not happen");
                }
            }
        }
        outcome
    }
}
