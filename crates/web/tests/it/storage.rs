//! The file store's contract (`app::files_contract`) on the local disk and on a real
//! S3-compatible server started here (`s3s-fs`; required under `CI=true`), and the portal
//! itself running on a bucket: a recording sent over the resumable protocol, checked, kept as a
//! multipart upload, played back by range; an attachment posted and downloaded.

use crate::audio::{tus_create, tus_patch};
use crate::harness::TestApp;
use app::demo_audio::{DEMO_CLIP, DEMO_CLIP_SAMPLES, demo_wav};
use app::files::{BucketSettings, FileStore};
use reqwest::{Method, StatusCode};
use serde_json::json;
use testkit::TestDb;

fn bucket_store(s3: &testkit::S3Server, staging: &std::path::Path) -> FileStore {
    FileStore::s3(
        staging,
        &BucketSettings {
            url: format!("s3://{}/portal/{}", s3.bucket, domain::AttachmentId::new()),
            endpoint: Some(s3.endpoint.clone()),
            region: Some("us-east-1".into()),
            access_key_id: Some(s3.access_key.clone()),
            secret_access_key: Some(s3.secret_key.clone()),
        },
    )
    .unwrap()
}

macro_rules! storage_cases {
    ($($case:ident),* $(,)?) => {
        mod local {
            $(
                #[test]
                fn $case() {
                    testkit::block_on(async {
                        let dir = tempfile::tempdir().unwrap();
                        let files = app::files::FileStore::new(dir.path());
                        app::files_contract::$case(&files).await;
                    });
                }
            )*
        }
        mod s3 {
            $(
                #[test]
                fn $case() {
                    testkit::block_on(async {
                        let Some(server) = testkit::s3_server().await else { return };
                        let dir = tempfile::tempdir().unwrap();
                        let files = super::bucket_store(&server, dir.path());
                        files.ping().await.unwrap();
                        app::files_contract::$case(&files).await;
                    });
                }
            )*
        }
    };
}

storage_cases!(
    keeps_reads_by_range_and_removes,
    large_files_go_in_parts,
    refuses_keys_it_did_not_make,
    a_dropped_upload_leaves_nothing,
);

/// The portal with its files in a bucket: a Moments clip and a recording go through the
/// resumable protocol and the checker, are kept in the bucket, and play back by range; an
/// attachment too. Nothing stays on the local disk but the (empty) staging directories.
pub async fn the_portal_runs_on_a_bucket(db: TestDb) {
    let Some(server) = testkit::s3_server().await else {
        return;
    };
    let staging = tempfile::tempdir().unwrap();
    let files = bucket_store(&server, staging.path());
    let t = TestApp::spawn_with(db, move |a| a.with_files(files)).await;
    let studio = t.sign_in("qc@northlight.test").await;
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let film = t.title("The Lighthouse Keeper");
    let (status, clip) = crate::audio::tus_send(
        &studio,
        &[("filename", "clip.mp4"), ("for", "clip"), ("project", film)],
        DEMO_CLIP.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{clip}");
    let (status, created) = studio
        .api(
            Method::POST,
            &format!("/api/v1/projects/{film}/audio-requests"),
            Some(json!({
                "kind": "moments", "title": "Bucket clip", "frame_rate": "23.976",
                "tc_in": "01:00:00:00", "tc_out": "01:00:02:00", "languages": ["es-ES"],
                "clip_upload": clip["id"],
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (_, list) = marta
        .api(
            Method::GET,
            &format!("/api/v1/projects/{film}/audio-requests"),
            None,
        )
        .await;
    let f = list[0]["fulfilments"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let request = list[0]["id"].as_str().unwrap().to_string();
    // The clip streams from the bucket, by range too.
    let r = marta
        .client
        .get(marta.url(&format!("/api/v1/audio-requests/{request}/clip")))
        .header("range", "bytes=4-11")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes().await.unwrap().to_vec(), DEMO_CLIP[4..12].to_vec());

    // A recording in two pieces.
    let wav = demo_wav(1, 24, DEMO_CLIP_SAMPLES, 0.3);
    let pairs = [
        ("filename", "TheLighthouseKeeper_Lucia_Moments_AsRecord.wav"),
        ("for", "delivery"),
        ("fulfilment", f.as_str()),
        ("mix", "asrecord"),
        ("talent", "Lucia"),
    ];
    let (status, location, _) = tus_create(&marta, &pairs, wav.len()).await;
    assert_eq!(status, StatusCode::CREATED);
    let location = location.unwrap();
    let half = wav.len() / 2;
    let (status, _, _) = tus_patch(&marta, &t.base, &location, 0, wav[..half].to_vec()).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, up) = tus_patch(&marta, &t.base, &location, half, wav[half..].to_vec()).await;
    assert_eq!(status, StatusCode::OK, "{up}");
    let (status, d) = marta
        .api(
            Method::POST,
            &format!("/api/v1/fulfilments/{f}/submissions"),
            Some(json!({"uploads": [up["id"]]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{d}");
    let href = d["versions"][0]["files"][0]["download"].as_str().unwrap();
    let r = marta.client.get(marta.url(href)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.bytes().await.unwrap().to_vec() == wav,
        "the recording reads back whole"
    );
    let kept = t.app.files.kept_keys("deliveries").await.unwrap();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(t.app.files.kept_keys("clips").await.unwrap().len(), 1);

    // An attachment, posted and downloaded.
    let lk = t.title("The Lighthouse Keeper").to_string();
    let es = marta.channel_id(&lk, Some("es-ES")).await;
    let (status, _) = crate::attachments::upload(
        &marta,
        &es,
        "The cue sheet",
        &[("cues.pdf", crate::attachments::PDF)],
    )
    .await;
    assert_eq!(status, 201);
    let (_, messages) = marta
        .api(
            Method::GET,
            &format!("/api/v1/channels/{es}/messages"),
            None,
        )
        .await;
    let url = messages["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["attachments"].as_array().cloned().unwrap_or_default())
        .find(|a| a["name"] == "cues.pdf")
        .unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    let r = marta.client.get(marta.url(&url)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.bytes().await.unwrap().to_vec(),
        crate::attachments::PDF.to_vec()
    );
    // Only staging directories (empty) remain on this instance's disk.
    assert_eq!(t.app.files.staged_count(), 0);
    assert_eq!(t.app.files.upload_count(), 0);
    assert!(!staging.path().join("attachments").exists());
    assert!(!staging.path().join("deliveries").exists());
}

/// Two instances sharing the database and one bucket, each with its own disk: an upload begun
/// on one is finished on the other, checked, then kept by the first, and read back by the
/// second; nothing of it stays in the bucket's upload area.
pub async fn instances_share_uploads_through_the_bucket(db: TestDb) {
    let Some(server) = testkit::s3_server().await else {
        return;
    };
    let (disk_a, disk_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let url = format!("s3://{}/shared", server.bucket);
    let settings = BucketSettings {
        url,
        endpoint: Some(server.endpoint.clone()),
        region: Some("us-east-1".into()),
        access_key_id: Some(server.access_key.clone()),
        secret_access_key: Some(server.secret_key.clone()),
    };
    let files_a = FileStore::s3(disk_a.path(), &settings).unwrap();
    let files_b = FileStore::s3(disk_b.path(), &settings).unwrap();
    let t = TestApp::spawn_with(db, move |a| a.with_files(files_a)).await;
    let (other, _stop) = t.second_instance_with(files_b).await;
    let studio = t.sign_in("qc@northlight.test").await;
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let ferry = t.title("Ferry to Jeju");
    let (status, _) = studio
        .api(
            Method::POST,
            &format!("/api/v1/projects/{ferry}/audio-requests"),
            Some(json!({
                "kind": "premix", "title": "Shared premix", "frame_rate": "24",
                "tc_in": "00:00:00:00", "tc_out": "00:00:02:00", "episode": "S1E1",
                "languages": ["es-ES"]
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, list) = marta
        .api(
            Method::GET,
            &format!("/api/v1/projects/{ferry}/audio-requests"),
            None,
        )
        .await;
    let f = list[0]["fulfilments"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let wav = demo_wav(1, 24, 96_000, 0.3);
    let pairs = [
        ("filename", "premix.wav"),
        ("for", "delivery"),
        ("fulfilment", f.as_str()),
        ("mix", "premix"),
    ];
    let (status, location, _) = tus_create(&marta, &pairs, wav.len()).await;
    assert_eq!(status, StatusCode::CREATED);
    let location = location.unwrap();
    let third = wav.len() / 3;
    // A third on A, a third on B, the rest on A again.
    let (status, _, _) = tus_patch(&marta, &t.base, &location, 0, wav[..third].to_vec()).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, at, _) = tus_patch(
        &marta,
        &other,
        &location,
        third,
        wav[third..2 * third].to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(at, Some(2 * third as u64));
    let (status, _, up) = tus_patch(
        &marta,
        &t.base,
        &location,
        2 * third,
        wav[2 * third..].to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{up}");
    assert_eq!(up["report"]["length"]["samples"], 96_000);
    // Kept through B, which never saw the first and last pieces.
    // (Cookies are per host, not per port: the same browser is signed in on both.)
    let on_b = crate::harness::Session {
        base: other.clone(),
        client: marta.client.clone(),
        csrf: marta.csrf.clone(),
        email: marta.email.clone(),
    };
    let (status, d) = on_b
        .api(
            Method::POST,
            &format!("/api/v1/fulfilments/{f}/submissions"),
            Some(json!({"uploads": [up["id"]]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{d}");
    let href = d["versions"][0]["files"][0]["download"].as_str().unwrap();
    let r = marta.client.get(marta.url(href)).send().await.unwrap();
    assert!(
        r.bytes().await.unwrap().to_vec() == wav,
        "A reads back what B kept"
    );
    assert!(
        t.app.files.kept_keys("uploads").await.unwrap().is_empty(),
        "no pieces left in the bucket"
    );
}

testkit::both_backends!(db: super => [
    the_portal_runs_on_a_bucket,
    instances_share_uploads_through_the_bucket,
]);
