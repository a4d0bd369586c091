//! Attachments over HTTP: what is accepted, what is refused and why, that a refusal leaves
//! nothing behind, and that a download is allowed exactly when reading the message is.

use crate::harness::{Session, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use testkit::TestDb;

/// A multipart body built by hand, so a test can send any file name and any bytes.
pub fn multipart(body: &str, files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "locportal-test-boundary-7d1f";
    let mut out = Vec::new();
    out.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\n{body}\r\n")
            .as_bytes(),
    );
    for (name, bytes) in files {
        out.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        out.extend_from_slice(bytes);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), out)
}

/// Posts a message with files through the API (session cookie + CSRF header).
pub async fn upload(
    s: &Session,
    channel: &str,
    body: &str,
    files: &[(&str, &[u8])],
) -> (StatusCode, Value) {
    let (content_type, bytes) = multipart(body, files);
    let r = s
        .client
        .post(s.url(&format!("/api/v1/channels/{channel}/messages")))
        .header("x-csrf-token", &s.csrf)
        .header("content-type", content_type)
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn download(s: &Session, path: &str) -> (StatusCode, reqwest::header::HeaderMap, Vec<u8>) {
    let r = s.client.get(s.url(path)).send().await.unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    (status, headers, r.bytes().await.unwrap().to_vec())
}

/// A short, valid 16-bit 48 kHz mono WAV.
pub fn wav(frames: u32) -> Vec<u8> {
    let data = frames * 2;
    let mut w = Vec::new();
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(36 + data).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes());
    w.extend_from_slice(&48_000u32.to_le_bytes());
    w.extend_from_slice(&96_000u32.to_le_bytes());
    w.extend_from_slice(&2u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data.to_le_bytes());
    w.extend(std::iter::repeat_n(0u8, data as usize));
    w
}

pub const PDF: &[u8] =
    b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
pub const PNG: &[u8] =
    b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";

async fn last_seq(t: &TestApp, channel: &str) -> i64 {
    let mut tx = t.app.store.read().await.unwrap();
    tx.get_channel(channel.parse().unwrap())
        .await
        .unwrap()
        .unwrap()
        .last_seq
}

pub async fn files_are_attached_downloaded_and_removed(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let lk = t.title("The Lighthouse Keeper").to_string();
    let pm = t.sign_in("pm@northlight.test").await;
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let joao = t.sign_in("joao@vozdobrasil.test").await;
    let es = marta.channel_id(&lk, Some("es-ES")).await;
    let take = wav(4_800);
    let (status, m) = upload(
        &pm,
        &es,
        "Revised script and the temp line, @marta@iberiavoices.test",
        &[
            ("Script v2 — Peña.pdf", PDF),
            ("still.PNG", PNG),
            ("line 12.wav", &take),
        ],
    )
    .await;
    assert_eq!(status, 201, "{m}");
    let files = m["attachments"].as_array().unwrap().clone();
    let names: Vec<&str> = files.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Script v2 — Peña.pdf", "still.PNG", "line 12.wav"]);
    assert_eq!(files[2]["size"], take.len());
    assert_eq!(files[1]["media_type"], "image/png");
    assert_eq!(t.app.files.kept_count(), 3);
    assert_eq!(t.app.files.staged_count(), 0);
    // Kept files are the portal user's alone: 0600 in 0700 directories.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut stack = vec![t.files.path().to_path_buf()];
        let mut seen = 0;
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
                if path.is_dir() {
                    assert_eq!(mode, 0o700, "{}", path.display());
                    stack.push(path);
                } else {
                    assert_eq!(mode, 0o600, "{}", path.display());
                    seen += 1;
                }
            }
        }
        assert!(seen >= 3);
    }

    // The partner of the channel downloads each file byte for byte; PDFs and images open in
    // the browser, a recording is saved; the sender's name is only the suggested name.
    for (f, bytes, inline) in [
        (&files[0], PDF, true),
        (&files[1], PNG, true),
        (&files[2], &take[..], false),
    ] {
        let url = f["url"].as_str().unwrap();
        let (status, headers, got) = download(&marta, url).await;
        assert_eq!(status, 200, "{url}");
        assert_eq!(got, bytes);
        let disposition = headers["content-disposition"].to_str().unwrap();
        assert_eq!(disposition.starts_with("inline"), inline, "{disposition}");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'none'")
        );
    }
    let (_, headers, _) = download(
        &marta,
        &format!("{}?download=1", files[0]["url"].as_str().unwrap()),
    )
    .await;
    assert_eq!(
        headers["content-disposition"],
        "attachment; filename=\"Script v2 _ Pe_a.pdf\"; filename*=UTF-8''Script%20v2%20%E2%80%94%20Pe%C3%B1a.pdf"
    );
    // The page shows them, with the image previewed.
    let id1 = files[1]["id"].as_str().unwrap();
    let (_, html) = marta.get(&format!("/channels/{es}")).await;
    assert!(
        html.contains(&format!("<img src=\"/attachments/{id1}\"")),
        "{html}"
    );
    assert!(html.contains("line 12.wav"));
    let (status, _, got) = download(&marta, &format!("/attachments/{id1}")).await;
    assert_eq!((status, got.as_slice()), (StatusCode::OK, PNG));
    // has:attachment finds it for readers only.
    let (_, hits) = marta
        .api(Method::GET, "/api/v1/search?q=has%3Aattachment", None)
        .await;
    assert_eq!(hits["items"].as_array().unwrap().len(), 1, "{hits}");
    let (_, hits) = joao
        .api(Method::GET, "/api/v1/search?q=has%3Aattachment", None)
        .await;
    assert_eq!(hits["items"], json!([]));

    // Another partner, a linguist and a stranger learn nothing; a made-up id is not found.
    for url in [
        files[0]["url"].as_str().unwrap().to_string(),
        format!("/attachments/{id1}"),
    ] {
        let (status, _, body) = download(&joao, &url).await;
        assert_eq!(status, 404, "{url}");
        assert!(!body.windows(4).any(|w| w == b"%PDF" || w == b"\x89PNG"));
    }
    let lucia = t.sign_in("lucia@iberiavoices.test").await;
    assert_eq!(
        download(&lucia, &format!("/attachments/{id1}")).await.0,
        403
    );
    let anon = t.anonymous().await;
    assert_eq!(
        download(&anon, files[0]["url"].as_str().unwrap()).await.0,
        401
    );
    assert_eq!(
        download(
            &marta,
            "/api/v1/attachments/01900000-0000-7000-8000-000000000000"
        )
        .await
        .0,
        404
    );

    // The composer form (no JavaScript) attaches too, with the token in the form's first
    // field, as a browser sends it; in the address it is not accepted.
    let (content_type, bytes) = multipart(
        "",
        &[("cue sheet.csv", b"cue;in;out\n1;00:00:01:00;00:00:02:00\n")],
    );
    let boundary = content_type.rsplit('=').next().unwrap().to_string();
    let r = marta
        .client
        .post(marta.url(&format!("/channels/{es}/messages?csrf={}", marta.csrf)))
        .header("content-type", content_type.clone())
        .body(bytes.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "a token in the URL is not a token");
    let mut with_token = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n",
        marta.csrf
    )
    .into_bytes();
    with_token.extend_from_slice(&bytes);
    let r = marta
        .client
        .post(marta.url(&format!("/channels/{es}/messages")))
        .header("content-type", content_type)
        .body(with_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(t.app.files.kept_count(), 4);

    // Deleting the message takes its files with it.
    let (status, _) = pm
        .api(
            Method::DELETE,
            &format!("/api/v1/messages/{}", m["id"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(
        download(&marta, files[0]["url"].as_str().unwrap()).await.0,
        404
    );
    assert_eq!(t.app.files.kept_count(), 1);
}

pub async fn refused_files_leave_nothing_behind(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let lk = t.title("The Lighthouse Keeper").to_string();
    let pm = t.sign_in("pm@northlight.test").await;
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let es = marta.channel_id(&lk, Some("es-ES")).await;
    let broadcast = marta.channel_id(&lk, None).await;

    let mut too_big = PNG.to_vec();
    too_big.resize(10 * 1024 * 1024 + 1, 0);
    let mut exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".to_vec();
    exe.resize(4096, 0x90);
    let mut broken_wav = wav(48).to_vec();
    broken_wav.truncate(30);
    let cases: [(&str, &[u8], &str); 6] = [
        (
            "poster.png",
            &too_big,
            "larger than 10 MB (10,485,761 bytes or more; at most 10,485,760 bytes)",
        ),
        (
            "setup.exe",
            &exe,
            "\"setup.exe\" is not a file type the portal accepts; accepted: .ai .bmp",
        ),
        (
            "invoice.pdf",
            &exe,
            "named .pdf but its content is not a PDF document (it looks like a Windows program)",
        ),
        ("../../../etc/cron.d/x.png", PNG, "contains a folder path"),
        ("C:\\Users\\marta\\x.png", PNG, "contains a folder path"),
        (
            "take 3.wav",
            &broken_wav,
            "named .wav but is not a readable WAV recording",
        ),
    ];
    for (name, bytes, why) in cases {
        let before = last_seq(&t, &es).await;
        // A good file first, so a refusal must also undo what was already received.
        let (status, err) = upload(
            &marta,
            &es,
            "should not arrive",
            &[("ok.pdf", PDF), (name, bytes)],
        )
        .await;
        assert_eq!(status, 422, "{name}: {err}");
        let msg = err["error"]["fields"][0]["message"].as_str().unwrap();
        assert!(msg.contains(why), "{name}: {msg}");
        assert!(msg.starts_with(name.trim()), "names the file: {msg}");
        assert_eq!(t.app.files.staged_count(), 0, "{name}: staging is empty");
        assert_eq!(t.app.files.kept_count(), 0, "{name}: nothing kept");
        assert_eq!(last_seq(&t, &es).await, before, "{name}: no message");
    }
    // Exactly 10 MB is accepted.
    let mut limit = PNG.to_vec();
    limit.resize(10 * 1024 * 1024, 0);
    let (status, m) = upload(&pm, &es, "", &[("poster.png", &limit)]).await;
    assert_eq!(status, 201, "{m}");
    assert_eq!(m["attachments"][0]["size"], 10 * 1024 * 1024);
    assert_eq!(m["body"], "");

    // A partner cannot attach in Broadcast: refused before a byte is written.
    let (status, _) = upload(&marta, &broadcast, "x", &[("ok.pdf", PDF)]).await;
    assert_eq!(status, 403);
    assert_eq!(t.app.files.staged_count(), 0);
    // A message needs text or a file; eleven files are too many.
    let (status, err) = upload(&marta, &es, "  ", &[]).await;
    assert_eq!(status, 422, "{err}");
    let many: Vec<(&str, &[u8])> = (0..11).map(|_| ("p.pdf", PDF)).collect();
    let (status, err) = upload(&marta, &es, "x", &many).await;
    assert_eq!(status, 422);
    assert!(err.to_string().contains("at most 10 attachments"), "{err}");
    assert_eq!(t.app.files.staged_count(), 0);
    assert_eq!(t.app.files.kept_count(), 1);
}

testkit::both_backends!(db: super => [
    files_are_attached_downloaded_and_removed,
    refused_files_leave_nothing_behind,
]);
