//! The Show Guide and casting (issue 13) on a real database: the access table through the use
//! cases (studio, partner A, partner B, a linguist, a script viewer × the guide's and casting's
//! actions × A's language and B's), versions and their exact differences and announcements, and
//! casting end to end over HTTP.

use crate::audio::tus_send;
use crate::harness::{PASSWORD, TestApp};
use app::App;
use app::AppError;
use app::auth::Authenticated;
use app::demo_audio::demo_wav;
use app::fulfilment::NewAudioRequestInput;
use app::guide::{CharacterInput, KeyNameInput};
use app::uploads::{NewUpload, Purpose};
use domain::fulfilment::SampleDecision;
use domain::{FulfilmentId, GuideItemId, ProjectId};
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

fn code<T>(r: Result<T, AppError>) -> char {
    match r {
        Ok(_) => 'A',
        Err(AppError::NotFound) => '-',
        Err(AppError::Denied(d)) if d.hides_existence() => '-',
        Err(AppError::Denied(_)) => 'D',
        Err(e) => panic!("unexpected {e:?}"),
    }
}

fn character(name: &str) -> CharacterInput {
    CharacterInput {
        name: name.into(),
        kind: "main".into(),
        description: "The captain of the Gull".into(),
        age_range: "40s".into(),
        notes: "Warm, tired, never shouts".into(),
        pronunciation: "MEE-nah".into(),
    }
}

/// A sample of `seconds` seconds named for the role and actor, as a partner's PM sends it.
async fn sample(app: &App, p: &Authenticated, f: FulfilmentId, actor: &str) -> domain::UploadId {
    app.demo_upload(
        p,
        Purpose::Delivery {
            fulfilment: f,
            mix: "sample".into(),
            talent: actor.into(),
        },
        &format!("Mina_{actor}.wav"),
        demo_wav(1, 24, 40 * 48_000, 0.3),
    )
    .await
    .unwrap()
}

async fn audition(
    app: &App,
    studio: &Authenticated,
    project: ProjectId,
    character: GuideItemId,
) -> (FulfilmentId, FulfilmentId) {
    app.create_audio_request(
        studio,
        project,
        &NewAudioRequestInput {
            kind: "casting".into(),
            instructions: "Read the pier scene".into(),
            languages: vec!["es-ES".into(), "pt-BR".into()],
            character: Some(character),
            ..NewAudioRequestInput::default()
        },
    )
    .await
    .unwrap();
    let m = app.casting_matrix(studio, project).await.unwrap();
    let f = |l: &str| {
        m.cells
            .iter()
            .find(|((c, lang), _)| *c == character && lang.as_str() == l)
            .unwrap()
            .1
            .fulfilment
    };
    (f("es-ES"), f("pt-BR"))
}

/// The table: studio, partner A, partner B, a linguist and A's script viewer × (see the
/// guide, propose a translation, approve it, open an audition, submit a sample, decide on a
/// sample, see the selection) × A's language (es-ES) and B's (pt-BR), on Ferry to Jeju.
pub async fn guide_policy_through_use_cases(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let app = &t.app;
    let ferry: ProjectId = t.title("Ferry to Jeju").parse().unwrap();
    let studio = who(app, "qc@northlight.test").await;
    let marta = who(app, "marta@iberiavoices.test").await;
    let joao = who(app, "joao@vozdobrasil.test").await;
    // Darío, partner A's dub director, is a script viewer of Ferry to Jeju.
    let pm_a = marta.clone();
    app.set_script_viewer(
        &pm_a,
        ferry,
        t.user_id("dario@iberiavoices.test").parse().unwrap(),
        true,
    )
    .await
    .unwrap();
    let mina = app
        .save_character(&studio, ferry, None, &character("Mina"), None)
        .await
        .unwrap();
    let gull = app
        .save_key_name(
            &studio,
            ferry,
            None,
            &KeyNameInput {
                term: "the Gull".into(),
                category: "organization".into(),
                context: "The ferry".into(),
            },
        )
        .await
        .unwrap();
    // Each language has a cast audition, for the selection column.
    let (fa, fb) = audition(app, &studio, ferry, mina).await;
    for (f, p, actor) in [(fa, &marta, "Lucia"), (fb, &joao, "Camila")] {
        let up = sample(app, p, f, actor).await;
        app.submit_delivery(p, f, &[up]).await.unwrap();
        app.decide_sample(&studio, f, 1, SampleDecision::Approve, "")
            .await
            .unwrap();
        app.decide_sample(&studio, f, 1, SampleDecision::Cast, "")
            .await
            .unwrap();
    }
    let people = [
        ("partner A", "marta@iberiavoices.test"),
        ("partner B", "joao@vozdobrasil.test"),
        ("linguist", "lucia@iberiavoices.test"),
        ("script viewer A", "dario@iberiavoices.test"),
        ("studio", "qc@northlight.test"),
    ];
    // Columns: see guide, propose translation, approve translation, open audition, submit a
    // sample, decide on a sample, see the selection.
    let expected = [
        ("partner A", "AADDADA", "A--D---"),
        ("partner B", "A--D---", "AADDADA"),
        // A linguist has no portal pages: asking for an audition says so (as for Moments).
        ("linguist", "---D---", "---D---"),
        ("script viewer A", "ADDD--A", "A--D---"),
        ("studio", "AAAADAA", "AAAADAA"),
    ];
    for (name, email) in people {
        let p = who(app, email).await;
        let row = expected.iter().find(|r| r.0 == name).unwrap();
        for (lang, f, want) in [("es-ES", fa, row.1), ("pt-BR", fb, row.2)] {
            let seen = app.view_guide(&p, ferry, None).await;
            let selection = match &seen {
                Ok(g) => {
                    if g.cast.keys().any(|(c, l)| *c == mina && l.as_str() == lang) {
                        'A'
                    } else {
                        '-'
                    }
                }
                Err(_) => '-',
            };
            let got: String = [
                code(seen),
                code(app.propose_translation(&p, gull, lang, "Gaviota").await),
                code(
                    app.decide_translation(&p, gull, lang, true, "")
                        .await
                        .or_else(|e| match e {
                            // Nothing (left) to approve for the studio is still "allowed".
                            AppError::Conflict(_) => Ok(domain::guide::TranslationStatus::Approved),
                            other => Err(other),
                        }),
                ),
                code(
                    app.create_audio_request(
                        &p,
                        ferry,
                        &NewAudioRequestInput {
                            kind: "casting".into(),
                            languages: vec![lang.into()],
                            character: Some(mina),
                            ..NewAudioRequestInput::default()
                        },
                    )
                    .await,
                ),
                code(
                    app.create_upload(
                        &p,
                        NewUpload {
                            purpose: Purpose::Delivery {
                                fulfilment: f,
                                mix: "sample".into(),
                                talent: "Ana".into(),
                            },
                            name: "Mina_Ana.wav".into(),
                            length: 1000,
                        },
                    )
                    .await
                    .or_else(|e| match e {
                        // A partner may upload, but the audition is cast already.
                        AppError::Conflict(_) => Ok(store::UploadRecord {
                            id: domain::UploadId::new(),
                            user_id: p.user.id,
                            purpose: String::new(),
                            name: String::new(),
                            length: 0,
                            received: 0,
                            state: store::UploadState::Receiving,
                            outcome: None,
                            waveform_svg: None,
                            sha256: None,
                            created_at: app.now(),
                            updated_at: app.now(),
                        }),
                        other => Err(other),
                    }),
                ),
                code(
                    app.decide_sample(&p, f, 1, SampleDecision::Approve, "Fine")
                        .await,
                ),
                selection,
            ]
            .into_iter()
            .collect();
            assert_eq!(got, want, "{name} on {lang}");
        }
    }
    // B reads nothing of A's: translations, talent names, decisions.
    let g = app.view_guide(&joao, ferry, None).await.unwrap();
    assert!(
        g.languages.iter().all(|l| l.as_str() == "pt-BR"),
        "{:?}",
        g.languages
    );
    assert!(g.cast.values().all(|t| t != "Lucia"));
    let m = app.casting_matrix(&joao, ferry).await.unwrap();
    assert!(m.cells.keys().all(|(_, l)| l.as_str() == "pt-BR"));
    assert_eq!(code(app.view_fulfilment(&joao, fa).await), '-');
}

/// Versions: each change is one; the difference between versions is exact; publishing posts the
/// counts in Broadcast with nothing of one language; a partner sees what changed since it last
/// opened the guide (without other languages' translations).
pub async fn guide_versions_diffs_and_announcements(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let app = &t.app;
    let ferry = t.title("Ferry to Jeju").to_string();
    let studio = t.sign_in("pm@northlight.test").await;
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let joao = t.sign_in("joao@vozdobrasil.test").await;
    let post = |path: String, body: Value| {
        let studio = &studio;
        async move { studio.api(Method::POST, &path, Some(body)).await }
    };
    let (s, mina) = post(
        format!("/api/v1/projects/{ferry}/guide/characters"),
        json!({"name": "Mina", "kind": "main", "notes": "Warm"}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{mina}");
    let (_, joon) = post(
        format!("/api/v1/projects/{ferry}/guide/characters"),
        json!({"name": "Joon", "kind": "secondary"}),
    )
    .await;
    let (_, gull) = post(
        format!("/api/v1/projects/{ferry}/guide/key-names"),
        json!({"term": "the Gull", "category": "organization"}),
    )
    .await;
    let gull_id = gull["id"].as_str().unwrap().to_string();
    // Partner A opens the guide at v3.
    let (_, g) = marta
        .api(
            Method::GET,
            &format!("/api/v1/projects/{ferry}/guide"),
            None,
        )
        .await;
    assert_eq!(g["version"], 3);
    // Partner A scripts English and dubs Spanish on this title: Spanish is shown first.
    assert_eq!(g["languages"], json!(["es-ES"]));
    // v4: Mina changes; v5: Joon goes; v6: a key name is added; v7 and v8: A proposes es-ES,
    // the studio approves; v9: B proposes pt-BR.
    post(
        format!("/api/v1/projects/{ferry}/guide/characters"),
        json!({"id": mina["id"], "name": "Mina", "kind": "main", "notes": "Warm, tired"}),
    )
    .await;
    let r = studio
        .client
        .delete(studio.url(&format!(
            "/api/v1/projects/{ferry}/guide/items/{}",
            joon["id"].as_str().unwrap()
        )))
        .header("x-csrf-token", &studio.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    post(
        format!("/api/v1/projects/{ferry}/guide/key-names"),
        json!({"term": "Jeju", "category": "location"}),
    )
    .await;
    let (s, st) = marta
        .api(
            Method::PUT,
            &format!("/api/v1/guide/key-names/{gull_id}/translations/es-ES"),
            Some(json!({"text": "la Gaviota"})),
        )
        .await;
    assert_eq!(
        (s, st["status"].as_str()),
        (StatusCode::OK, Some("proposed"))
    );
    let (s, st) = post(
        format!("/api/v1/guide/key-names/{gull_id}/translations/es-ES/decision"),
        json!({"approve": true}),
    )
    .await;
    assert_eq!(
        (s, st["status"].as_str()),
        (StatusCode::OK, Some("approved"))
    );
    let (s, _) = joao
        .api(
            Method::PUT,
            &format!("/api/v1/guide/key-names/{gull_id}/translations/pt-BR"),
            Some(json!({"text": "a Gaivota"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    // A may not propose in B's language, nor decide.
    let (s, _) = marta
        .api(
            Method::PUT,
            &format!("/api/v1/guide/key-names/{gull_id}/translations/pt-BR"),
            Some(json!({"text": "x"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // The exact difference, as the studio sees it (v3 → v9).
    let (_, d) = studio
        .api(
            Method::GET,
            &format!("/api/v1/projects/{ferry}/guide/diff?from=3&to=9"),
            None,
        )
        .await;
    let got: Vec<(String, String, String, Option<String>)> = d
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_string(),
                e["name"].as_str().unwrap().to_string(),
                e["change"].as_str().unwrap().to_string(),
                e["language"].as_str().map(str::to_string),
            )
        })
        .collect();
    let want = |k: &str, n: &str, c: &str, l: Option<&str>| {
        (
            k.to_string(),
            n.to_string(),
            c.to_string(),
            l.map(str::to_string),
        )
    };
    let mut expected = vec![
        want("character", "Mina", "changed", None),
        want("character", "Joon", "removed", None),
        want("key_name", "Jeju", "added", None),
        want("translation", "the Gull", "added", Some("es-ES")),
        want("translation", "the Gull", "added", Some("pt-BR")),
    ];
    let mut got_sorted = got.clone();
    got_sorted.sort();
    expected.sort();
    assert_eq!(got_sorted, expected);
    let mina_change = d
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "Mina")
        .unwrap();
    assert!(
        mina_change["before"]
            .as_str()
            .unwrap()
            .contains("notes: Warm")
    );
    assert!(
        mina_change["after"]
            .as_str()
            .unwrap()
            .contains("notes: Warm, tired")
    );
    // Partner A opens it again: what changed since v3, without pt-BR.
    let (_, g) = marta
        .api(
            Method::GET,
            &format!("/api/v1/projects/{ferry}/guide"),
            None,
        )
        .await;
    assert_eq!(
        (g["last_read"].as_u64(), g["version"].as_u64()),
        (Some(3), Some(9))
    );
    let changes = g["changes"].to_string();
    assert!(
        changes.contains("Joon") && changes.contains("es-ES"),
        "{changes}"
    );
    assert!(
        !changes.contains("pt-BR") && !changes.contains("Gaivota"),
        "{changes}"
    );

    // Publishing: counts in Broadcast, nothing of one language.
    let (s, p) = post(format!("/api/v1/projects/{ferry}/guide/publish"), json!({})).await;
    assert_eq!((s, p["version"].as_u64()), (StatusCode::OK, Some(9)));
    let broadcast = studio.channel_id(&ferry, None).await;
    let (_, msgs) = marta
        .api(
            Method::GET,
            &format!("/api/v1/channels/{broadcast}/messages"),
            None,
        )
        .await;
    let last = msgs["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap_or_default().to_string())
        .find(|b| b.starts_with("Show Guide"))
        .unwrap();
    assert_eq!(last, "Show Guide v9: 1 character added, 2 key names added");
    let (s, _) = post(format!("/api/v1/projects/{ferry}/guide/publish"), json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "v9 is published already");
    // The CSV carries the partner's column only.
    let r = marta
        .client
        .get(marta.url(&format!("/api/v1/projects/{ferry}/guide.csv")))
        .send()
        .await
        .unwrap();
    let csv = r.text().await.unwrap();
    assert!(
        csv.contains("es-ES") && csv.contains("la Gaviota (approved)"),
        "{csv}"
    );
    assert!(!csv.contains("pt-BR") && !csv.contains("Gaivota"), "{csv}");
    let _ = app;
}

/// Casting over HTTP: the studio opens an audition for two languages; partner A sends two
/// samples (a wrongly named one refused first); the studio turns one down with feedback,
/// approves the other and casts it; A hears of each decision; the overview shows the cast; B's
/// overview has its own column only.
pub async fn casting_end_to_end(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let ferry = t.title("Ferry to Jeju").to_string();
    let studio = t.sign_in("qc@northlight.test").await;
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let joao = t.sign_in("joao@vozdobrasil.test").await;
    let (_, mina) = studio
        .api(
            Method::POST,
            &format!("/api/v1/projects/{ferry}/guide/characters"),
            Some(json!({"name": "Mina", "kind": "main", "notes": "Warm, tired, never shouts"})),
        )
        .await;
    let (s, created) = studio
        .api(
            Method::POST,
            &format!("/api/v1/projects/{ferry}/audio-requests"),
            Some(json!({
                "kind": "casting", "character": mina["id"], "languages": ["es-ES", "pt-BR"],
                "instructions": "Read the pier scene"
            })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let (_, m) = marta
        .api(
            Method::GET,
            &format!("/api/v1/projects/{ferry}/casting"),
            None,
        )
        .await;
    assert_eq!(m["languages"], json!(["es-ES"]));
    let f = m["cells"][0]["fulfilment"].as_str().unwrap().to_string();
    assert_eq!(m["cells"][0]["state"], "open");
    let (_, d) = marta
        .api(Method::GET, &format!("/api/v1/fulfilments/{f}"), None)
        .await;
    assert_eq!(d["request"]["title"], "Audition: Mina");
    assert_eq!(d["mixes"], json!(["sample"]));
    let pairs = |name: &'static str, talent: &'static str| {
        vec![
            ("filename", name),
            ("for", "delivery"),
            ("fulfilment", f.as_str()),
            ("mix", "sample"),
            ("talent", talent),
        ]
    };
    // A wrong name is refused before a byte; a stereo file by the checker.
    let (s, _, _) = crate::audio::tus_create(&marta, &pairs("Lucia_Mina.wav", "Lucia"), 1000).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, body) = tus_send(
        &marta,
        &pairs("Mina_Lucia.wav", "Lucia"),
        demo_wav(2, 24, 40 * 48_000, 0.3),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // Two good samples, each a version.
    let mut ids = Vec::new();
    for talent in ["Lucia", "Pilar"] {
        let name: &'static str = if talent == "Lucia" {
            "Mina_Lucia.wav"
        } else {
            "Mina_Pilar.wav"
        };
        let (s, up) = tus_send(
            &marta,
            &pairs(name, talent),
            demo_wav(1, 24, 40 * 48_000, 0.3),
        )
        .await;
        assert_eq!(s, StatusCode::OK, "{up}");
        let (s, d) = marta
            .api(
                Method::POST,
                &format!("/api/v1/fulfilments/{f}/submissions"),
                Some(json!({"uploads": [up["id"]]})),
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{d}");
        ids.push(up["id"].clone());
    }
    let (_, m) = studio
        .api(
            Method::GET,
            &format!("/api/v1/projects/{ferry}/casting"),
            None,
        )
        .await;
    let cell = m["cells"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["language"] == "es-ES")
        .unwrap()
        .clone();
    assert_eq!(
        (cell["state"].as_str(), cell["samples"].as_u64()),
        (Some("submitted"), Some(2))
    );
    let decide = |v: u32, decision: &'static str, body: &'static str| {
        let studio = &studio;
        let f = f.clone();
        async move {
            studio
                .api(
                    Method::POST,
                    &format!("/api/v1/fulfilments/{f}/samples/{v}/decision"),
                    Some(json!({"decision": decision, "body": body})),
                )
                .await
        }
    };
    let (s, _) = decide(1, "reject", "").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "feedback is needed");
    let (s, _) = decide(2, "cast", "").await;
    assert_eq!(s, StatusCode::CONFLICT, "approve before casting");
    let (s, st) = decide(1, "reject", "Too young for Mina").await;
    assert_eq!(
        (s, st["state"].as_str()),
        (StatusCode::OK, Some("submitted"))
    );
    let (s, st) = decide(2, "approve", "Lovely warmth").await;
    assert_eq!(
        (s, st["state"].as_str()),
        (StatusCode::OK, Some("approved"))
    );
    let (s, st) = decide(2, "cast", "").await;
    assert_eq!((s, st["state"].as_str()), (StatusCode::OK, Some("cast")));
    // A partner cannot decide; the cast audition takes no more samples.
    let (s, _) = marta
        .api(
            Method::POST,
            &format!("/api/v1/fulfilments/{f}/samples/1/decision"),
            Some(json!({"decision": "approve"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = crate::audio::tus_create(&marta, &pairs("Mina_Ana.wav", "Ana"), 1000).await;
    assert_eq!(s, StatusCode::CONFLICT);
    // The overview and the guide show the cast; A heard of each decision.
    let (_, m) = marta
        .api(
            Method::GET,
            &format!("/api/v1/projects/{ferry}/casting"),
            None,
        )
        .await;
    assert_eq!(m["cells"][0]["talent"], "Pilar");
    let (_, g) = marta
        .api(
            Method::GET,
            &format!("/api/v1/projects/{ferry}/guide"),
            None,
        )
        .await;
    assert_eq!(g["characters"][0]["cast"], json!(["es-ES: Pilar"]));
    let (_, bell) = marta.api(Method::GET, "/api/v1/notifications", None).await;
    let bell = bell.to_string();
    assert!(
        bell.contains("Too young for Mina") && bell.contains("cast Pilar as Mina"),
        "{bell}"
    );
    // B sees its own column, and nothing of A's talents or decisions.
    let (_, m) = joao
        .api(
            Method::GET,
            &format!("/api/v1/projects/{ferry}/casting"),
            None,
        )
        .await;
    assert_eq!(m["languages"], json!(["pt-BR"]));
    let seen = format!(
        "{m}{}{}",
        joao.api(
            Method::GET,
            &format!("/api/v1/projects/{ferry}/guide"),
            None
        )
        .await
        .1,
        joao.api(Method::GET, "/api/v1/notifications", None).await.1
    );
    for forbidden in ["Pilar", "Lucia", "Too young", "es-ES"] {
        assert!(!seen.contains(forbidden), "B sees {forbidden}: {seen}");
    }
    let (s, _) = joao
        .api(Method::GET, &format!("/api/v1/fulfilments/{f}"), None)
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let _ = ids;
}

/// Two partners in one language (A dubs es-ES, B subtitles it): A's proposals and the studio's
/// decisions on them are told in A's channel only, and B's guide shows nothing of A's cast.
pub async fn a_language_shared_by_two_partners_keeps_them_apart(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let app = &t.app;
    let orgs = app.list_orgs(domain::Actor::Operator).await.unwrap();
    let org = |n: &str| orgs.iter().find(|o| o.name.as_str() == n).unwrap().id;
    let assign = |language: &str, service: &str, org_id| app::projects::AssignmentInput {
        language: language.into(),
        service: service.into(),
        org_id,
    };
    let project = app
        .create_project(
            domain::Actor::Operator,
            &app::projects::ProjectInput {
                movie_id: "85000000".into(),
                name: "Shared Tongue".into(),
                kind: "film".into(),
                original_language: "en".into(),
                target_languages: vec!["es-ES".into()],
                seasons: vec![],
                assignments: vec![
                    assign("es-ES", "dubbing", org(app::demo::PARTNER_A)),
                    assign("es-ES", "subtitles", org(app::demo::PARTNER_B)),
                ],
            },
        )
        .await
        .unwrap();
    let studio = who(app, "qc@northlight.test").await;
    let marta = who(app, "marta@iberiavoices.test").await;
    let mina = app
        .save_character(&studio, project.id, None, &character("Mina"), None)
        .await
        .unwrap();
    let key = app
        .save_key_name(
            &studio,
            project.id,
            None,
            &KeyNameInput {
                term: "Lantern Bay".into(),
                category: "location".into(),
                context: String::new(),
            },
        )
        .await
        .unwrap();
    app.propose_translation(&marta, key, "es-ES", "Bahía Farol")
        .await
        .unwrap();
    app.decide_translation(&studio, key, "es-ES", false, "Keep the English name")
        .await
        .unwrap();
    app.create_audio_request(
        &studio,
        project.id,
        &NewAudioRequestInput {
            kind: "casting".into(),
            character: Some(mina),
            ..NewAudioRequestInput::default()
        },
    )
    .await
    .unwrap();
    let m = app.casting_matrix(&studio, project.id).await.unwrap();
    let f = m.cells.values().next().unwrap().fulfilment;
    let up = sample(app, &marta, f, "Lucia").await;
    app.submit_delivery(&marta, f, &[up]).await.unwrap();
    app.decide_sample(&studio, f, 1, SampleDecision::Approve, "")
        .await
        .unwrap();
    app.decide_sample(&studio, f, 1, SampleDecision::Cast, "")
        .await
        .unwrap();
    // B's channel for es-ES heard nothing; A's heard the proposal and the decision.
    let joao = t.sign_in("joao@vozdobrasil.test").await;
    let b_channel = joao
        .channel_id(&project.id.to_string(), Some("es-ES"))
        .await;
    let (_, b_msgs) = joao
        .api(
            Method::GET,
            &format!("/api/v1/channels/{b_channel}/messages"),
            None,
        )
        .await;
    let b_msgs = b_msgs.to_string();
    for forbidden in ["Bahía", "Marta", "Lucia", "Keep the English"] {
        assert!(
            !b_msgs.contains(forbidden),
            "B's channel shows {forbidden}: {b_msgs}"
        );
    }
    let marta_s = t.sign_in("marta@iberiavoices.test").await;
    let a_channel = marta_s
        .channel_id(&project.id.to_string(), Some("es-ES"))
        .await;
    let (_, a_msgs) = marta_s
        .api(
            Method::GET,
            &format!("/api/v1/channels/{a_channel}/messages"),
            None,
        )
        .await;
    let a_msgs = a_msgs.to_string();
    assert!(
        a_msgs.contains("Bahía Farol") && a_msgs.contains("Keep the English name"),
        "{a_msgs}"
    );
    // B sees the es-ES translation (it subtitles es-ES), but not A's cast.
    let b = who(app, "joao@vozdobrasil.test").await;
    let g = app.view_guide(&b, project.id, None).await.unwrap();
    assert!(g.cast.is_empty(), "{:?}", g.cast);
    let a_guide = app.view_guide(&marta, project.id, None).await.unwrap();
    assert_eq!(
        a_guide.cast.values().cloned().collect::<Vec<_>>(),
        vec!["Lucia".to_string()]
    );
    let d = app.view_fulfilment(&marta, f).await.unwrap();
    assert_eq!(d.cast_talents, vec!["Lucia".to_string()]);
}

testkit::both_backends!(db: super => [
    guide_policy_through_use_cases,
    guide_versions_diffs_and_announcements,
    casting_end_to_end,
    a_language_shared_by_two_partners_keeps_them_apart,
]);
