//! Audio fulfilment (issue 12) on a real database: the access table through the use cases,
//! every upload verdict end to end over the resumable upload API (nothing kept of a refused
//! file), resuming an interrupted upload (also on another instance, as after a restart), the
//! clip's own length against its in and out points, and who is told what.

use crate::harness::{PASSWORD, Session, TestApp};
use app::App;
use app::AppError;
use app::auth::Authenticated;
use app::demo_audio::{DEMO_CLIP, DEMO_CLIP_SAMPLES, demo_wav};
use app::fulfilment::{Decision, NewAudioRequestInput};
use app::uploads::{NewUpload, Purpose};
use base64::Engine;
use domain::{FulfilmentId, ProjectId, SubmissionFileId};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::TestDb;

async fn who(app: &App, email: &str) -> Authenticated {
    let session = app.sign_in(email, PASSWORD, "127.0.0.1").await.unwrap();
    app.authenticate_session(&session.secret)
        .await
        .unwrap()
        .unwrap()
}

const TITLE: &str = "The keeper's farewell";

/// Two Moments clips on The Lighthouse Keeper asked for by the studio's QC reviewer through
/// the use cases: one for es-ES (partner A), one for pt-BR (partner B). Their fulfilments.
async fn moments(t: &TestApp) -> (FulfilmentId, FulfilmentId) {
    let app = &t.app;
    let qc = who(app, "qc@northlight.test").await;
    let film: ProjectId = t.title("The Lighthouse Keeper").parse().unwrap();
    for language in ["es-ES", "pt-BR"] {
        let clip = app
            .demo_upload(
                &qc,
                Purpose::Clip { project: film },
                "clip.mp4",
                DEMO_CLIP.to_vec(),
            )
            .await
            .unwrap();
        let mut input = moments_input(Some(clip));
        input.languages = vec![language.into()];
        app.create_audio_request(&qc, film, &input).await.unwrap();
    }
    let board = app.audio_board(&qc, film).await.unwrap();
    let f = |l: &str| {
        board
            .requests
            .iter()
            .flat_map(|r| r.fulfilments.iter())
            .find(|f| f.record.language.as_str() == l)
            .unwrap()
            .record
            .id
    };
    (f("es-ES"), f("pt-BR"))
}

fn moments_input(clip: Option<domain::UploadId>) -> NewAudioRequestInput {
    NewAudioRequestInput {
        kind: "moments".into(),
        title: TITLE.into(),
        description: "The goodbye".into(),
        instructions: "Whisper".into(),
        frame_rate: "23.976".into(),
        tc_in: "01:00:00:00".into(),
        tc_out: "01:00:02:00".into(),
        episode: String::new(),
        languages: Vec::new(),
        true_peak_limit: None,
        clip_upload: clip,
        character: None,
    }
}

fn delivery(f: FulfilmentId, mix: &str, talent: &str) -> Purpose {
    Purpose::Delivery {
        fulfilment: f,
        mix: mix.into(),
        talent: talent.into(),
    }
}

/// 'A' allowed, '-' not found, 'D' refused with a reason the person may see.
fn code<T>(r: Result<T, AppError>) -> char {
    match r {
        Ok(_) => 'A',
        Err(AppError::NotFound) => '-',
        Err(AppError::Denied(d)) if d.hides_existence() => '-',
        Err(AppError::Denied(_)) => 'D',
        Err(e) => panic!("unexpected {e:?}"),
    }
}

/// The access table of issue 12: studio, partner A, partner B and a linguist × (see, download
/// the clip, upload, see the verdict and QC, comment, approve) × (A's language, B's).
pub async fn audio_policy_through_use_cases(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let app = &t.app;
    let (fa, fb) = moments(&t).await;
    let marta = who(app, "marta@iberiavoices.test").await;
    let joao = who(app, "joao@vozdobrasil.test").await;
    // One version in each, so there is a verdict to see and something to approve.
    let mut files: Vec<(FulfilmentId, SubmissionFileId)> = Vec::new();
    for (f, person, name) in [
        (fa, &marta, "TheLighthouseKeeper_Lucia_Moments_Mixed.wav"),
        (fb, &joao, "TheLighthouseKeeper_Camila_Moments_Mixed.wav"),
    ] {
        let talent = if f == fa { "Lucia" } else { "Camila" };
        let up = app
            .demo_upload(
                person,
                delivery(f, "mixed", talent),
                name,
                demo_wav(2, 24, DEMO_CLIP_SAMPLES, 0.3),
            )
            .await
            .unwrap();
        app.submit_delivery(person, f, &[up]).await.unwrap();
        let d = app.view_fulfilment(person, f).await.unwrap();
        files.push((f, d.versions[0].files[0].record.id));
    }
    // The studio comes last: its approval ends what the partners may still upload to.
    let people = [
        ("partner A", "marta@iberiavoices.test"),
        ("partner B", "joao@vozdobrasil.test"),
        ("linguist", "lucia@iberiavoices.test"),
        ("studio", "qc@northlight.test"),
    ];
    // Columns: see, download clip, upload, see verdict, comment, approve.
    let expected = [
        ("studio", "AADAAA", "AADAAA"),
        ("partner A", "AAAAAD", "------"),
        ("partner B", "------", "AAAAAD"),
        ("linguist", "------", "------"),
    ];
    for (name, email) in people {
        let p = who(app, email).await;
        let row = expected.iter().find(|r| r.0 == name).unwrap();
        for (f, want) in [(fa, row.1), (fb, row.2)] {
            let file = files.iter().find(|x| x.0 == f).unwrap().1;
            let request = app
                .view_fulfilment(&who(app, "qc@northlight.test").await, f)
                .await;
            let audio_request = request.unwrap().request.id;
            let talent = if f == fa { "Lucia" } else { "Camila" };
            let got: String = [
                code(app.view_fulfilment(&p, f).await),
                code(app.open_clip(&p, audio_request, None).await),
                code(
                    app.create_upload(
                        &p,
                        NewUpload {
                            purpose: delivery(f, "mixed", talent),
                            name: format!("TheLighthouseKeeper_{talent}_Moments_Mixed.wav"),
                            length: 1000,
                        },
                    )
                    .await,
                ),
                code(app.open_delivery(&p, file, None).await),
                code(app.comment_fulfilment(&p, f, "A note", None).await),
                code(app.decide_fulfilment(&p, f, Decision::Approve, "").await),
            ]
            .into_iter()
            .collect();
            assert_eq!(
                got,
                want,
                "{name} on {}",
                if f == fa { "A's" } else { "B's" }
            );
        }
    }
    // The partner's list holds only its own fulfilment; a linguist has no portal pages (the
    // refusal says so, as on every project page).
    let film: ProjectId = t.title("The Lighthouse Keeper").parse().unwrap();
    let board = app.audio_board(&marta, film).await.unwrap();
    let langs: Vec<String> = board
        .requests
        .iter()
        .flat_map(|r| r.fulfilments.iter())
        .map(|f| f.record.language.to_string())
        .collect();
    assert_eq!(langs, vec!["es-ES"]);
    let lucia = who(app, "lucia@iberiavoices.test").await;
    assert_eq!(code(app.audio_board(&lucia, film).await), 'D');
    // Asking for clips is the studio's.
    assert_eq!(
        code(
            app.create_upload(
                &marta,
                NewUpload {
                    purpose: Purpose::Clip { project: film },
                    name: "clip.mp4".into(),
                    length: 10,
                },
            )
            .await
        ),
        'D'
    );
}

/// `Upload-Metadata` of a tus upload.
fn meta(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k} {}",
                base64::engine::general_purpose::STANDARD.encode(v.as_bytes())
            )
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Creates a tus upload: the status, its address, and the JSON answer.
pub async fn tus_create(
    s: &Session,
    pairs: &[(&str, &str)],
    length: usize,
) -> (StatusCode, Option<String>, Value) {
    let r = s
        .client
        .post(s.url("/api/v1/uploads"))
        .header("tus-resumable", "1.0.0")
        .header("upload-length", length.to_string())
        .header("upload-metadata", meta(pairs))
        .header("x-csrf-token", &s.csrf)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let location = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let text = r.text().await.unwrap();
    (
        status,
        location,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// Sends `bytes` at `offset`: the status, the server's new offset, and the JSON answer.
pub async fn tus_patch(
    s: &Session,
    base: &str,
    location: &str,
    offset: usize,
    bytes: Vec<u8>,
) -> (StatusCode, Option<u64>, Value) {
    let r = s
        .client
        .patch(format!("{base}{location}"))
        .header("tus-resumable", "1.0.0")
        .header("upload-offset", offset.to_string())
        .header("content-type", "application/offset+octet-stream")
        .header("x-csrf-token", &s.csrf)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let at = r
        .headers()
        .get("upload-offset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let text = r.text().await.unwrap();
    (
        status,
        at,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

async fn tus_offset(s: &Session, base: &str, location: &str) -> (StatusCode, Option<u64>) {
    let r = s
        .client
        .head(format!("{base}{location}"))
        .header("tus-resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    let at = r
        .headers()
        .get("upload-offset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (r.status(), at)
}

/// Sends a whole file in one piece: the last PATCH's status and answer.
pub async fn tus_send(s: &Session, pairs: &[(&str, &str)], bytes: Vec<u8>) -> (StatusCode, Value) {
    let (status, location, body) = tus_create(s, pairs, bytes.len()).await;
    if status != StatusCode::CREATED {
        return (status, body);
    }
    let (status, _, body) = tus_patch(s, &s.base, &location.unwrap(), 0, bytes).await;
    (status, body)
}

fn error_text(v: &Value) -> String {
    let e = &v["error"];
    let fields: Vec<String> = e["fields"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|f| f["message"].as_str().map(str::to_string))
        .collect();
    format!(
        "{} {}",
        e["message"].as_str().unwrap_or_default(),
        fields.join(" ")
    )
}

/// A Moments clip asked for over HTTP (the clip sent as a resumable upload first): A's
/// fulfilment id.
async fn moments_over_http(t: &TestApp, studio: &Session) -> String {
    let film = t.title("The Lighthouse Keeper");
    let (status, up) = tus_send(
        studio,
        &[("filename", "clip.mp4"), ("for", "clip"), ("project", film)],
        DEMO_CLIP.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{up}");
    assert_eq!(up["state"], "accepted");
    assert_eq!(up["report"]["timescale"], 24000);
    assert_eq!(up["report"]["duration"], 48048);
    let body = |tc_out: &str| {
        json!({
            "kind": "moments", "title": TITLE, "description": "The goodbye",
            "instructions": "Whisper", "frame_rate": "23.976", "tc_in": "01:00:00:00",
            "tc_out": tc_out, "clip_upload": up["id"],
        })
    };
    // The clip's own length decides: three seconds typed for a two-second clip is refused.
    let (status, refused) = studio
        .api(
            Method::POST,
            &format!("/api/v1/projects/{film}/audio-requests"),
            Some(body("01:00:03:00")),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = error_text(&refused);
    assert!(text.contains("24.0 frames shorter"), "{text}");
    let (status, created) = studio
        .api(
            Method::POST,
            &format!("/api/v1/projects/{film}/audio-requests"),
            Some(body("01:00:02:00")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (_, list) = studio
        .api(
            Method::GET,
            &format!("/api/v1/projects/{film}/audio-requests"),
            None,
        )
        .await;
    let fulfilments = list[0]["fulfilments"].as_array().unwrap().clone();
    assert_eq!(fulfilments.len(), 3, "one per dubbed language: {list}");
    fulfilments
        .iter()
        .find(|f| f["language"] == "es-ES")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Every verdict of the issue, over HTTP as the partner's browser sends files.
pub async fn upload_verdicts_end_to_end(db: TestDb) {
    let mail_dir = tempfile::tempdir().unwrap();
    let mut mail = app::mail::MailConfig::new("http://portal.test");
    mail.coalesce = time::Duration::ZERO;
    let config = app::AppConfig {
        mail,
        ..app::AppConfig::default()
    };
    let mailer = std::sync::Arc::new(app::mail::FileMailer::new(mail_dir.path()));
    let t = TestApp::spawn_with(db, move |a| a.with_config(config).with_mailer(mailer)).await;
    let studio = t.sign_in("qc@northlight.test").await;
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let joao = t.sign_in("joao@vozdobrasil.test").await;
    let fa = moments_over_http(&t, &studio).await;

    // Everyone dubbing the title was told: A in its channel (and by mention, so by e-mail).
    let (_, bell) = marta.api(Method::GET, "/api/v1/notifications", None).await;
    assert!(
        bell.to_string().contains("New Moments clip for es-ES"),
        "{bell}"
    );
    let (_, bell_b) = joao.api(Method::GET, "/api/v1/notifications", None).await;
    assert!(bell_b.to_string().contains("for pt-BR"), "{bell_b}");
    assert!(!bell_b.to_string().contains("es-ES"), "{bell_b}");

    let name = "TheLighthouseKeeper_Lucia_Moments_AsRecord.wav";
    let send = |pairs: Vec<(&'static str, String)>, bytes: Vec<u8>| {
        let marta = &marta;
        async move {
            let p: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            tus_send(marta, &p, bytes).await
        }
    };
    let fields = |name: &str, mix: &str| -> Vec<(&'static str, String)> {
        vec![
            ("filename", name.to_string()),
            ("for", "delivery".to_string()),
            ("fulfilment", fa.clone()),
            ("mix", mix.to_string()),
            ("talent", "Lucia".to_string()),
        ]
    };
    let nothing_kept = |why: &str| {
        assert_eq!(t.app.files.upload_count(), 0, "{why}: bytes left behind");
        assert_eq!(t.app.files.kept_in("deliveries"), 0, "{why}: a file kept");
    };
    let marta_id: domain::UserId = t.user_id("marta@iberiavoices.test").parse().unwrap();
    let no_rows = |why: &'static str| {
        let store = t.app.store.clone();
        async move {
            let mut tx = store.read().await.unwrap();
            let stale = tx
                .stale_uploads(time::OffsetDateTime::now_utc() + time::Duration::days(1))
                .await
                .unwrap();
            let mut mine = Vec::new();
            for id in stale {
                if tx
                    .get_upload(id)
                    .await
                    .unwrap()
                    .is_some_and(|u| u.user_id == marta_id)
                {
                    mine.push(id);
                }
            }
            assert!(mine.is_empty(), "{why}: upload rows left: {mine:?}");
        }
    };

    // One frame short: refused with the checker's words, nothing kept.
    let short = demo_wav(1, 24, DEMO_CLIP_SAMPLES - 2002, 0.3);
    let (status, body) = send(fields(name, "asrecord"), short).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let text = error_text(&body);
    assert!(
        text.contains("2,002 samples") && text.contains("1 frame") && text.contains("short"),
        "{text}"
    );
    nothing_kept("one frame short");
    no_rows("one frame short").await;

    // Wrong channels, bits, rate; not a WAV; truncated.
    let mut rate = demo_wav(1, 24, DEMO_CLIP_SAMPLES, 0.3);
    rate[24..28].copy_from_slice(&44_100u32.to_le_bytes());
    rate[28..32].copy_from_slice(&(44_100u32 * 3).to_le_bytes());
    let mut truncated = demo_wav(1, 24, DEMO_CLIP_SAMPLES, 0.3);
    truncated.truncate(truncated.len() - 3000);
    let mut not_wav = b"ID3\x04\0\0\0\0\0\0".to_vec();
    not_wav.resize(4000, 7);
    for (why, bytes, expect) in [
        (
            "stereo as-recorded",
            demo_wav(2, 24, DEMO_CLIP_SAMPLES, 0.3),
            "channel",
        ),
        ("8-bit", demo_wav(1, 8, DEMO_CLIP_SAMPLES, 0.3), "bit"),
        ("44.1 kHz", rate, "44"),
        ("not a WAV", not_wav, "not a WAV"),
        ("truncated", truncated, "truncated"),
    ] {
        let (status, body) = send(fields(name, "asrecord"), bytes).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{why}: {body}");
        let text = error_text(&body);
        assert!(text.contains(expect), "{why}: {text}");
        nothing_kept(why);
        no_rows(why).await;
    }
    // A wrong name is refused before a single byte is sent.
    let (status, _, body) = tus_create(
        &marta,
        &[
            ("filename", "take3_final.wav"),
            ("for", "delivery"),
            ("fulfilment", &fa),
            ("mix", "asrecord"),
            ("talent", "Lucia"),
        ],
        1000,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        error_text(&body).contains("[Title]_[Talent]_Moments_[AsRecord|Mixed].wav"),
        "{body}"
    );
    let (status, _, body) = tus_create(
        &marta,
        &[
            ("filename", "TheLighthouseKeeper_Pedro_Moments_AsRecord.wav"),
            ("for", "delivery"),
            ("fulfilment", &fa),
            ("mix", "asrecord"),
            ("talent", "Lucia"),
        ],
        1000,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_text(&body).contains("talent"), "{body}");
    nothing_kept("wrong name");
    let (_, d) = marta
        .api(Method::GET, &format!("/api/v1/fulfilments/{fa}"), None)
        .await;
    assert_eq!(
        d["versions"].as_array().unwrap().len(),
        0,
        "no version from refusals"
    );

    // The exact length: accepted, with its report (the JSON of `check wav --json`).
    let (status, up) = send(
        fields(name, "asrecord"),
        demo_wav(1, 24, DEMO_CLIP_SAMPLES, 0.3),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{up}");
    assert_eq!(up["report"]["verdict"], "accepted");
    assert_eq!(up["report"]["length"]["samples"], DEMO_CLIP_SAMPLES);
    assert_eq!(up["report"]["length"]["difference"], 0);
    assert!(up["report"]["qc"]["integrated_lufs"].is_number());
    let (status, d) = marta
        .api(
            Method::POST,
            &format!("/api/v1/fulfilments/{fa}/submissions"),
            Some(json!({"uploads": [up["id"]]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(d["fulfilment"]["state"], "submitted");
    assert_eq!(d["versions"][0]["version"], 1);
    let file = &d["versions"][0]["files"][0];
    assert_eq!(file["report"], up["report"]);
    assert_eq!(t.app.files.kept_in("deliveries"), 1);
    assert_eq!(t.app.files.upload_count(), 0);
    // The file plays (Range) and its waveform draws.
    let href = file["download"].as_str().unwrap();
    let r = marta
        .client
        .get(marta.url(href))
        .header("range", "bytes=0-11")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(&r.bytes().await.unwrap()[..4], b"RIFF");
    let r = marta
        .client
        .get(marta.url(file["waveform"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert!(r.text().await.unwrap().contains("<svg"));
    // Partner B reaches none of it.
    for path in [
        format!("/api/v1/fulfilments/{fa}"),
        href.to_string(),
        file["waveform"].as_str().unwrap().to_string(),
    ] {
        let (status, _) = joao.api(Method::GET, &path, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
    let (status, _) = joao.get(&format!("/fulfilments/{fa}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The studio comments at a timecode and asks for changes; the partner hears of both.
    let (status, d) = studio
        .api(
            Method::POST,
            &format!("/api/v1/fulfilments/{fa}/comments"),
            Some(json!({"body": "Breath too loud here", "at": "01:00:01:00"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{d}");
    let note = d["notes"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(note["timecode"], "01:00:01:00");
    assert!((note["seconds"].as_f64().unwrap() - 1.001).abs() < 1e-6);
    let (status, bad) = studio
        .api(
            Method::POST,
            &format!("/api/v1/fulfilments/{fa}/comments"),
            Some(json!({"body": "After the end", "at": "01:00:05:00"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_text(&bad).contains("outside the clip"), "{bad}");
    let (status, d) = studio
        .api(
            Method::POST,
            &format!("/api/v1/fulfilments/{fa}/decision"),
            Some(json!({"decision": "request_changes", "body": "Softer, please"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{d}");
    assert_eq!(d["fulfilment"]["state"], "changes_requested");
    let (_, bell) = marta.api(Method::GET, "/api/v1/notifications", None).await;
    let bell = bell.to_string();
    assert!(
        bell.contains("Breath too loud here") && bell.contains("Softer, please"),
        "{bell}"
    );
    let (_, bell_b) = joao.api(Method::GET, "/api/v1/notifications", None).await;
    assert!(!bell_b.to_string().contains("Softer"), "{bell_b}");
    // …and by e-mail, through the outbox: to A, never to B.
    t.app.plan_due_emails().await.unwrap();
    t.app.deliver_due_emails().await.unwrap();
    let emls: Vec<String> = std::fs::read_dir(mail_dir.path())
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(
        emls.iter()
            .any(|m| m.contains("marta@iberiavoices.test") && m.contains("Softer")),
        "{emls:?}"
    );
    assert!(
        !emls
            .iter()
            .any(|m| m.contains("joao@vozdobrasil.test") && m.contains("es-ES")),
        "{emls:?}"
    );

    // Version 2 after the changes; the history keeps version 1.
    let (status, up) = send(
        fields("TheLighthouseKeeper_Lucia_Moments_Mixed.wav", "mixed"),
        demo_wav(2, 24, DEMO_CLIP_SAMPLES, 0.2),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{up}");
    let (_, d) = marta
        .api(
            Method::POST,
            &format!("/api/v1/fulfilments/{fa}/submissions"),
            Some(json!({"uploads": [up["id"]]})),
        )
        .await;
    assert_eq!(d["versions"].as_array().unwrap().len(), 2);
    assert_eq!(d["versions"][0]["version"], 2);
    let (status, d) = studio
        .api(
            Method::POST,
            &format!("/api/v1/fulfilments/{fa}/decision"),
            Some(json!({"decision": "approve"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(d["fulfilment"]["state"], "approved");
    // An approved delivery takes no new upload until reopened.
    let (status, _, body) = tus_create(
        &marta,
        &[
            ("filename", "TheLighthouseKeeper_Lucia_Moments_Mixed.wav"),
            ("for", "delivery"),
            ("fulfilment", &fa),
            ("mix", "mixed"),
            ("talent", "Lucia"),
        ],
        1000,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");

    // A premix over the limiter advice is warned about, not refused.
    let ferry = t.title("Ferry to Jeju");
    let (status, _) = studio
        .api(
            Method::POST,
            &format!("/api/v1/projects/{ferry}/audio-requests"),
            Some(json!({
                "kind": "premix", "title": "S1E1 premix", "frame_rate": "24",
                "tc_in": "00:00:00:00", "tc_out": "00:00:30:00", "episode": "S1E1",
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
    let fp = list[0]["fulfilments"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    // 30 s (4.3 MB), so the checker runs well behind the writer.
    let premix = demo_wav(1, 24, 30 * 48_000, 0.95);
    let (status, up) = tus_send(
        &marta,
        &[
            ("filename", "premix.wav"),
            ("for", "delivery"),
            ("fulfilment", &fp),
            ("mix", "premix"),
        ],
        premix.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{up}");
    let warnings = up["report"]["warnings"].to_string();
    assert!(
        warnings.contains("qc_true_peak_limit") && warnings.contains("−6.0 dBTP"),
        "{warnings}"
    );
    // Checked as it arrived, the report is the one the checker gives for the finished file.
    let whole = audio::check(
        &mut std::io::Cursor::new(&premix),
        &audio::CheckRequest {
            profile: audio::Profile::Premix,
            fps: Some(domain::timecode::FrameRate::parse("24").unwrap()),
            expected: Some(audio::ExpectedLength::Frames(720)),
            name: Some("premix.wav".into()),
            title: Some("Ferry to Jeju".into()),
            talent: None,
            qc: true,
            waveform_columns: audio::DEFAULT_WAVEFORM_COLUMNS,
            threads: 0,
            true_peak_limit: Some(-6.0),
        },
    )
    .unwrap();
    let whole: Value = serde_json::from_str(&whole.to_json_line("premix.wav").unwrap()).unwrap();
    assert_eq!(up["report"], whole);
}

/// An upload cut off halfway and resumed — on this instance, then on another one as after a
/// restart — gives the same file and the same report as one sent whole; a piece at the wrong
/// offset is refused.
pub async fn resumable_uploads_resume(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let studio = t.sign_in("qc@northlight.test").await;
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let fa = moments_over_http(&t, &studio).await;
    let wav = demo_wav(1, 24, DEMO_CLIP_SAMPLES, 0.3);
    let pairs = [
        ("filename", "TheLighthouseKeeper_Lucia_Moments_AsRecord.wav"),
        ("for", "delivery"),
        ("fulfilment", fa.as_str()),
        ("mix", "asrecord"),
        ("talent", "Lucia"),
    ];
    // Whole, for comparison.
    let (status, whole) = tus_send(&marta, &pairs, wav.clone()).await;
    assert_eq!(status, StatusCode::OK, "{whole}");

    let (status, location, _) = tus_create(&marta, &pairs, wav.len()).await;
    assert_eq!(status, StatusCode::CREATED);
    let location = location.unwrap();
    let third = wav.len() / 3;
    // A connection that drops after a third (a raw socket, cut mid-body, authenticated with an
    // API token as a delivery script would be): what arrived is kept.
    let (status, token) = marta
        .api(
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "uploader"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let secret = token["secret"].as_str().unwrap();
    {
        use tokio::io::AsyncWriteExt;
        let addr = t.base.trim_start_matches("http://");
        let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
        let head = format!(
            "PATCH {location} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {secret}\r\n\
             Tus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n\
             Content-Type: application/offset+octet-stream\r\nContent-Length: {}\r\n\r\n",
            wav.len()
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        socket.write_all(&wav[..third]).await.unwrap();
        socket.flush().await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        drop(socket);
    }
    let mut at = None;
    for _ in 0..50 {
        at = tus_offset(&marta, &t.base, &location).await.1;
        if at == Some(third as u64) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(at, Some(third as u64), "the bytes before the drop are kept");
    // A piece at the wrong offset is refused and changes nothing.
    let (status, _, body) = tus_patch(
        &marta,
        &t.base,
        &location,
        third + 10,
        wav[third + 10..].to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        error_text(&body).contains(&format!("server has {third} bytes")),
        "{body}"
    );
    // The second third on this instance.
    let (status, offset, _) = tus_patch(
        &marta,
        &t.base,
        &location,
        third,
        wav[third..2 * third].to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(offset, Some(2 * third as u64));
    // The rest on another instance (nothing of this upload in its memory: a restart).
    let (other, _stop) = t.second_instance().await;
    assert_eq!(
        tus_offset(&marta, &other, &location).await,
        (StatusCode::OK, Some(2 * third as u64))
    );
    let (status, _, resumed) = tus_patch(
        &marta,
        &other,
        &location,
        2 * third,
        wav[2 * third..].to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{resumed}");
    assert_eq!(resumed["report"], whole["report"], "same verdict and QC");
    // Both are kept as the same bytes.
    let (status, d) = marta
        .api(
            Method::POST,
            &format!("/api/v1/fulfilments/{fa}/submissions"),
            Some(json!({"uploads": [resumed["id"]]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{d}");
    let (status, d2) = marta
        .api(Method::GET, &format!("/api/v1/fulfilments/{fa}"), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let sha = d2["versions"][0]["files"][0]["sha256"].as_str().unwrap();
    use sha2::Digest;
    assert_eq!(sha, hex::encode(sha2::Sha256::digest(&wav)));
    let r = marta
        .client
        .get(marta.url(d2["versions"][0]["files"][0]["download"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.bytes().await.unwrap().to_vec(), wav);
    // The unused whole upload is given up; a piece to it then finds nothing.
    let whole_url = format!("/api/v1/uploads/{}", whole["id"].as_str().unwrap());
    let r = marta
        .client
        .delete(marta.url(&whole_url))
        .header("x-csrf-token", &marta.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        tus_offset(&marta, &t.base, &whole_url).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(t.app.files.upload_count(), 0);
    // Someone else's upload is not found.
    let (status, location, _) = tus_create(&marta, &pairs, wav.len()).await;
    assert_eq!(status, StatusCode::CREATED);
    let joao = t.sign_in("joao@vozdobrasil.test").await;
    assert_eq!(
        tus_offset(&joao, &t.base, &location.unwrap()).await.0,
        StatusCode::NOT_FOUND
    );
}

testkit::both_backends!(db: super => [
    audio_policy_through_use_cases,
    upload_verdicts_end_to_end,
    resumable_uploads_resume,
]);
