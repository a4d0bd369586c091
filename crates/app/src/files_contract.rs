//! The file store's contract, run by the tests on the local disk and on a real S3-compatible
//! server: what is kept reads back whole and by byte range, large files go in parts, removal is
//! final and idempotent, keys the server did not make are refused, and staging is left empty.
//! Each case takes a store nobody else uses.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::files::{FileStore, Staged};
use domain::attachments::{Accept, AttachmentName};
use futures::StreamExt;

async fn stage(files: &FileStore, name: &str, bytes: &[u8]) -> Staged {
    let mut up = files
        .begin_upload_for(
            AttachmentName::parse_for(name, Accept::Script).unwrap(),
            Accept::Script,
        )
        .await
        .unwrap();
    for chunk in bytes.chunks(64 * 1024) {
        up.write(chunk).await.ok().unwrap();
    }
    up.finish().await.ok().unwrap()
}

async fn read_all(files: &FileStore, key: &str, range: Option<(u64, u64)>) -> Vec<u8> {
    let mut s = files.read(key, range).await.unwrap();
    let mut out = Vec::new();
    while let Some(b) = s.next().await {
        out.extend_from_slice(&b.unwrap());
    }
    out
}

/// Text a script upload accepts, `n` bytes long and different at every position.
fn text(n: usize) -> Vec<u8> {
    let line = b"00:00:01:00 00:00:02:00 MARTA: Hola, buenos dias. 0123456789\n";
    line.iter().cycle().take(n).copied().collect()
}

pub async fn keeps_reads_by_range_and_removes(files: &FileStore) {
    let bytes = text(300_000);
    let mut staged = stage(files, "script.txt", &bytes).await;
    assert_eq!(files.staged_count(), 1);
    let key = format!("requests/{}", domain::AttachmentId::new());
    files.keep(&mut staged.staged, &key).await.unwrap();
    drop(staged);
    assert_eq!(files.staged_count(), 0, "kept: nothing left in staging");
    assert_eq!(
        files.kept_keys("requests").await.unwrap(),
        vec![key.clone()]
    );
    assert_eq!(read_all(files, &key, None).await, bytes);
    assert_eq!(
        read_all(files, &key, Some((10, 19))).await,
        bytes[10..20].to_vec()
    );
    assert_eq!(
        read_all(files, &key, Some((299_990, 299_999))).await,
        bytes[299_990..].to_vec()
    );
    files.remove(&key).await.unwrap();
    files.remove(&key).await.unwrap();
    let gone = files.read(&key, None).await;
    let missing = match gone {
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
        Ok(mut s) => s.next().await.is_some_and(|r| r.is_err()),
    };
    assert!(missing, "a removed file cannot be read");
    assert!(files.kept_keys("requests").await.unwrap().is_empty());
}

pub async fn large_files_go_in_parts(files: &FileStore) {
    // Larger than two parts of a multipart upload.
    let bytes = text(19 * 1024 * 1024 + 123);
    let mut staged = stage(files, "big.txt", &bytes).await;
    let key = format!("deliveries/{}", domain::AttachmentId::new());
    files.keep(&mut staged.staged, &key).await.unwrap();
    let back = read_all(files, &key, None).await;
    assert_eq!(back.len(), bytes.len());
    assert!(back == bytes, "the bytes read back are the bytes kept");
    let from = 8 * 1024 * 1024 - 5;
    assert_eq!(
        read_all(files, &key, Some((from as u64, from as u64 + 9))).await,
        bytes[from..from + 10].to_vec(),
        "a range across two parts"
    );
    assert_eq!(files.staged_count(), 0);
}

pub async fn refuses_keys_it_did_not_make(files: &FileStore) {
    let mut staged = stage(files, "x.txt", &text(100)).await;
    for bad in [
        "",
        "../etc/passwd",
        "a//b",
        "a/./b",
        "attachments/x y",
        "/abs",
    ] {
        assert!(
            files.keep(&mut staged.staged, bad).await.is_err(),
            "{bad:?}"
        );
        assert!(files.read(bad, None).await.is_err(), "{bad:?}");
    }
    drop(staged);
    assert_eq!(
        files.staged_count(),
        0,
        "a refused keep leaves nothing once dropped"
    );
}

pub async fn a_dropped_upload_leaves_nothing(files: &FileStore) {
    let staged = stage(files, "gone.txt", &text(5000)).await;
    assert_eq!(files.staged_count(), 1);
    drop(staged);
    assert_eq!(files.staged_count(), 0);
    assert!(files.kept_keys("attachments").await.unwrap().is_empty());
}
