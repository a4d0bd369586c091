//! `loadgen guide`: the performance targets of issue 13 (the Show Guide).
//!
//! A title with 20 target languages gets a Show Guide of 300 characters and 2,000 key names,
//! each key name translated into all 20 languages (40,000 translations). Characters and key
//! names go through the use cases (one version each); the translations are written straight
//! into the store, one version per language, as 20 rounds of proposals would leave them. The
//! real router runs in this process on a loopback port. Measured:
//! 1. the Show Guide page (`GET /projects/{id}/guide`, HTML, one language column) for the
//!    studio and for a partner's PM, and the API (`GET /api/v1/projects/{id}/guide`),
//!    p50/p95/p99 (target p99 ≤ 50 ms);
//! 2. the difference between two versions (`App::guide_diff`): across the last 100 changes,
//!    across one language round (2,000 translations), and across the whole history (42,300
//!    revisions), p50/max (target ≤ 20 ms).

use crate::stats::Histogram;
use anyhow::Context;
use app::App;
use app::guide::{CharacterInput, KeyNameInput};
use app::projects::{AssignmentInput, ProjectInput};
use clap::Args;
use domain::guide::{ItemKind, Revision};
use domain::{Actor, GuideItemId, LanguageTag};
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::{GuideItemRecord, GuideVersionRecord};

#[derive(Args, Debug)]
pub struct GuideArgs {
    /// Where the database goes (started afresh).
    #[arg(long, default_value = "/tmp/locportal-guidebench")]
    dir: std::path::PathBuf,
    #[arg(long, default_value_t = 300)]
    characters: usize,
    #[arg(long, default_value_t = 2000)]
    key_names: usize,
    /// Timed fetches of each page.
    #[arg(long, default_value_t = 200)]
    iterations: usize,
}

const LANGUAGES: [&str; 20] = [
    "es-ES", "fr-FR", "de-DE", "it-IT", "pt-BR", "ja", "pl-PL", "tr-TR", "nl-NL", "sv-SE", "da-DK",
    "nb-NO", "fi-FI", "ar", "hi-IN", "th-TH", "ko", "zh-Hans", "he", "cs-CZ",
];

fn report(label: &str, h: &Histogram, target_ms: f64) {
    let p99 = h.quantile_ms(0.99);
    println!(
        "{label}: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms (target p99 ≤ {target_ms} ms: {})",
        h.quantile_ms(0.50),
        h.quantile_ms(0.95),
        p99,
        h.max_ms(),
        if p99 <= target_ms { "met" } else { "MISSED" }
    );
}

pub async fn guide(args: GuideArgs) -> anyhow::Result<()> {
    let _ = std::fs::remove_dir_all(&args.dir);
    std::fs::create_dir_all(&args.dir)?;
    let db_url = format!("sqlite://{}", args.dir.join("guide.db").display());
    let store: Arc<dyn store::Store> = Arc::new(store_sqlite::SqliteStore::open(&db_url).await?);
    store.migrate().await?;
    let app =
        App::new(store.clone()).with_files(app::files::FileStore::new(args.dir.join("files")));
    app.seed_demo_base().await?;
    let orgs = app.list_orgs(Actor::Operator).await?;
    let org = |name: &str| {
        orgs.iter()
            .find(|o| o.name.as_str() == name)
            .map(|o| o.id)
            .context("a demo partner")
    };
    let (a, b) = (org(app::demo::PARTNER_A)?, org(app::demo::PARTNER_B)?);
    // Partner A dubs Spanish; Partner B everything else.
    let project = app
        .create_project(
            Actor::Operator,
            &ProjectInput {
                movie_id: "92000000".into(),
                name: "Twenty Tongues".into(),
                kind: "film".into(),
                original_language: "en".into(),
                target_languages: LANGUAGES.iter().map(|l| l.to_string()).collect(),
                seasons: vec![],
                assignments: LANGUAGES
                    .iter()
                    .map(|l| AssignmentInput {
                        language: l.to_string(),
                        service: "dubbing".into(),
                        org_id: if *l == "es-ES" { a } else { b },
                    })
                    .collect(),
            },
        )
        .await?;
    let who = |email: &'static str| {
        let app = app.clone();
        async move {
            let s = app
                .sign_in(email, app::demo::DEMO_PASSWORD, "127.0.0.1")
                .await?;
            app.authenticate_session(&s.secret)
                .await?
                .context("no session")
        }
    };
    let pm = who("pm@northlight.test").await?;
    let marta = who("marta@iberiavoices.test").await?;
    let seeding = Instant::now();
    for i in 0..args.characters {
        app.save_character(
            &pm,
            project.id,
            None,
            &CharacterInput {
                name: format!("Character {i:03}"),
                kind: ["main", "secondary", "walla"][i % 3].into(),
                description: format!("Character {i} of the ensemble, seen in {} scenes.", i % 40),
                age_range: format!("{}s", 20 + (i % 6) * 10),
                notes: "Dry humour; never shouts; breathes before the punchline.".into(),
                pronunciation: format!("KA-rak-ter {i}"),
            },
            None,
        )
        .await?;
    }
    let mut keys = Vec::with_capacity(args.key_names);
    for i in 0..args.key_names {
        keys.push(
            app.save_key_name(
                &pm,
                project.id,
                None,
                &KeyNameInput {
                    term: format!("Term {i:04}"),
                    category: ["person", "location", "organization", "phrase"][i % 4].into(),
                    context: format!("Said in episode {} by two characters.", i % 12),
                },
            )
            .await?,
        );
    }
    // 20 rounds of translations, one version per language, straight into the store.
    let mut version = store.read().await?.guide_version(project.id).await?;
    for l in LANGUAGES {
        let lang = LanguageTag::parse(l).map_err(|e| anyhow::anyhow!(e.0))?;
        version += 1;
        let now = app.now();
        let mut tx = store.begin().await?;
        let mut revisions = Vec::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            let text = format!("{l} term {i:04}");
            let data =
                serde_json::json!({"text": text, "status": "approved", "note": ""}).to_string();
            tx.insert_guide_item(&GuideItemRecord {
                id: GuideItemId::new(),
                project_id: project.id,
                kind: ItemKind::Translation,
                parent_id: Some(*key),
                language: Some(lang.clone()),
                position: 0,
                data,
                removed_at: None,
                created_at: now,
                updated_at: now,
            })
            .await?;
            revisions.push(Revision {
                version,
                kind: ItemKind::Translation,
                item: key.to_string(),
                language: Some(lang.clone()),
                name: format!("Term {i:04}"),
                before: None,
                after: Some(format!("{text} (approved)")),
            });
        }
        tx.insert_guide_version(&GuideVersionRecord {
            project_id: project.id,
            version,
            actor_id: Some(pm.user.id),
            summary: format!("Translations into {l}"),
            language: Some(lang.clone()),
            published_at: None,
            created_at: now,
        })
        .await?;
        tx.insert_guide_revisions(project.id, &revisions).await?;
        tx.commit().await?;
    }
    // The last 100 changes: character edits after the translations.
    for i in 0..100 {
        let g = app.view_guide(&pm, project.id, None).await?;
        let (id, c) = g
            .characters
            .get(i % g.characters.len())
            .context("a character")?;
        app.save_character(
            &pm,
            project.id,
            Some(*id),
            &CharacterInput {
                name: c.name.clone(),
                kind: c.kind.clone(),
                description: format!("{} (revised {i})", c.description),
                age_range: c.age_range.clone(),
                notes: c.notes.clone(),
                pronunciation: c.pronunciation.clone(),
            },
            None,
        )
        .await?;
    }
    let last = store.read().await?.guide_version(project.id).await?;
    println!(
        "seeded {} characters, {} key names × {} languages, {last} versions in {:.1} s",
        args.characters,
        args.key_names,
        LANGUAGES.len(),
        seeding.elapsed().as_secs_f64()
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    {
        let app = app.clone();
        let config = web::WebConfig::new(base.clone());
        tokio::spawn(
            async move { web::serve(listener, app, config, std::future::pending()).await },
        );
    }
    let client = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .build()?;
    let (_, pm_token) = app.create_api_token(&pm, "guide bench").await?;
    let (_, a_token) = app.create_api_token(&marta, "guide bench").await?;
    for (label, token, path) in [
        (
            "Show Guide page, studio (es-ES column)",
            &pm_token,
            format!("/projects/{}/guide", project.id),
        ),
        (
            "Show Guide page, partner A (es-ES)",
            &a_token,
            format!("/projects/{}/guide", project.id),
        ),
        (
            "Show Guide API, studio",
            &pm_token,
            format!("/api/v1/projects/{}/guide", project.id),
        ),
    ] {
        let mut h = Histogram::default();
        let mut bytes = 0;
        for i in 0..args.iterations + 5 {
            let started = Instant::now();
            let r = client
                .get(format!("{base}{path}"))
                .bearer_auth(token)
                .send()
                .await?;
            let status = r.status();
            let body = r.bytes().await?;
            let took = started.elapsed();
            anyhow::ensure!(status.is_success(), "{label}: {status}");
            bytes = body.len();
            if i >= 5 {
                h.record(took);
            }
        }
        report(
            &format!("{label} ({:.0} kB)", bytes as f64 / 1024.0),
            &h,
            50.0,
        );
    }
    for (label, from) in [
        ("diff of the last 100 changes", last - 100),
        (
            "diff of one language round + 100 changes (2,100 revisions)",
            last - 101,
        ),
        ("diff of the whole history", 0),
    ] {
        let mut h = Histogram::default();
        let mut entries = 0;
        for _ in 0..20 {
            let started = Instant::now();
            entries = app.guide_diff(&pm, project.id, from, last).await?.len();
            h.record(started.elapsed());
        }
        println!(
            "{label}: {entries} entries, p50 {:.1} ms, max {:.1} ms (target ≤ 20 ms)",
            h.quantile_ms(0.5),
            h.max_ms()
        );
    }
    let _ = Duration::ZERO;
    Ok(())
}
