//! `loadgen requests`: the performance targets of issue 11 (requests for script work).
//!
//! It seeds a fresh database through the use cases (as the operator, the studio manager and the
//! partners' PMs would), starts the real router in this process on a loopback port (as the web
//! tests do), and measures:
//! 1. the Requests page of a series with 50 episodes × 10 target languages × 5 request kinds
//!    (2,500 requests) for the studio manager, who sees them all, and for a partner PM who sees
//!    one language's: `GET /projects/{id}/requests` (HTML) and
//!    `GET /api/v1/projects/{id}/requests?limit=200` (JSON), p50/p95/p99 (target p99 ≤ 50 ms);
//! 2. a bulk change of the estimated delivery date of 500 requests with one reason
//!    (`App::change_edd`, the partner PM's), p50/max (target ≤ 1 s);
//! 3. My Projects (`GET /`) of a studio manager following 200 projects, each with open
//!    requests and a next due date, p50/p95/p99 (target p99 ≤ 20 ms).
//!
//! Requests are measured one at a time (closed loop): these are service times, not throughput.

use crate::stats::Histogram;
use anyhow::{Context, bail};
use app::App;
use app::admin::NewUserInput;
use app::auth::Authenticated;
use app::projects::{AssignmentInput, EpisodeInput, ProjectInput, SeasonInput};
use app::requests::{NewRequestsInput, RequestFilter};
use clap::Args;
use domain::requests::{RequestKind, RequestState, Step};
use domain::{Actor, OrgId, ProjectId, RequestId, Service, UserId};
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::Store;
use time::{Date, OffsetDateTime};

#[derive(Args, Debug)]
pub struct RequestsArgs {
    /// `sqlite://PATH` (the file is started afresh) or `postgres://…` (an empty database).
    #[arg(long, default_value = "sqlite:///tmp/locportal-reqbench/requests.db")]
    database_url: String,
    /// Episodes of the measured series.
    #[arg(long, default_value_t = 50)]
    episodes: usize,
    /// Target languages of the measured series (at most 16).
    #[arg(long, default_value_t = 10)]
    languages: usize,
    /// Timed GETs of each page.
    #[arg(long, default_value_t = 200)]
    iterations: usize,
    /// Projects the studio manager follows (the series and small films), for My Projects.
    #[arg(long, default_value_t = 200)]
    projects: usize,
    /// Requests whose estimated delivery date one bulk change moves.
    #[arg(long, default_value_t = 500)]
    bulk: usize,
    /// Timed bulk changes (alternating between two dates, so each one changes every request).
    #[arg(long, default_value_t = 10)]
    edd_runs: usize,
}

/// The password of the people who sign in (the studio manager and the partners' PMs).
const PASSWORD: &str = crate::seed::PASSWORD;
/// The series is Korean, so its dubs need a pivot-language dialogue list too.
const ORIGINAL: &str = "ko";
const LANGUAGES: [&str; 16] = [
    "es-ES", "fr-FR", "de-DE", "it-IT", "pt-BR", "ja", "pl-PL", "tr-TR", "nl-NL", "sv-SE", "da-DK",
    "nb-NO", "fi-FI", "ar", "hi-IN", "th-TH",
];
/// Every service a request kind needs in a target language.
const SERVICES: [Service; 3] = [
    Service::Scripting,
    Service::Dubbing,
    Service::AudioDescription,
];
/// The series' movie ID; its episodes follow it (90000001 …).
const SERIES_MOVIE_ID: i64 = 90_000_000;
/// The small films' movie IDs start after it (91000001 …).
const FILM_MOVIE_ID: i64 = 91_000_000;
/// Untimed GETs before each timed series (connection set up, caches warm).
const WARMUP: usize = 5;
/// Requests per bulk step assignment.
const ASSIGN_CHUNK: usize = 500;
const EDD_REASON: &str = "The recording studio moved our sessions by two weeks.";

/// The partners, by index in the list `seed` returns.
const TRANSCRIPTS: usize = 0;
const ONE: usize = 1;
const FIVE: usize = 2;
const REST: usize = 3;
const PARTNERS: [(&str, &str); 4] = [
    ("Hangul Transcripts", "hangul.test"),
    ("Iberia Voices", "iberiavoices.test"),
    ("Five Tongues Studio", "fivetongues.test"),
    ("Polyglot Dubbing", "polyglot.test"),
];

/// Which partner does target language `i` (every service): the first language goes to
/// "Iberia Voices" (the PM who sees one language), the next five to "Five Tongues Studio" (whose
/// PM changes the delivery dates in bulk), the others to "Polyglot Dubbing".
fn partner_of_language(i: usize) -> usize {
    match i {
        0 => ONE,
        1..=5 => FIVE,
        _ => REST,
    }
}

/// A partner organisation with its PM (signed in) and one linguist per step.
struct Partner {
    org: OrgId,
    pm: Authenticated,
    /// The PM's browser session secret.
    session: String,
    author: UserId,
    proofreader: UserId,
}

/// Opens the database, starting from a fresh file on SQLite.
async fn open(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(rest) = url.strip_prefix("sqlite://") {
        let path = rest.split('?').next().unwrap_or(rest);
        if let Some(dir) = std::path::Path::new(path).parent() {
            std::fs::create_dir_all(dir)?;
        }
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{path}{suffix}"));
        }
    }
    crate::seed::open_store(url).await
}

/// A fresh, empty directory under the system's temporary directory.
fn fresh_dir(name: &str) -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

fn days_after(day: Date, days: i64) -> anyhow::Result<Date> {
    day.checked_add(time::Duration::days(days))
        .context("a date out of range")
}

async fn create_user(
    app: &App,
    org: &str,
    email: &str,
    name: &str,
    roles: &str,
    password: bool,
) -> anyhow::Result<UserId> {
    let created = app
        .create_user(
            Actor::Operator,
            &NewUserInput {
                org: org.to_string(),
                email: email.to_string(),
                display_name: name.to_string(),
                roles: roles.to_string(),
                password: password.then(|| PASSWORD.to_string()),
            },
        )
        .await
        .with_context(|| format!("creating {email}"))?;
    Ok(created.user.id)
}

/// Signs `email` in as a browser does: the session secret (the cookie) and who it is.
async fn sign_in(app: &App, email: &str) -> anyhow::Result<(String, Authenticated)> {
    let session = app
        .sign_in(email, PASSWORD, "127.0.0.1")
        .await
        .with_context(|| format!("signing {email} in"))?;
    let who = app
        .authenticate_session(&session.secret)
        .await
        .with_context(|| format!("reading the session of {email}"))?
        .with_context(|| format!("the new session of {email} is not found"))?;
    Ok((session.secret, who))
}

async fn create_partner(app: &App, name: &str, mail_domain: &str) -> anyhow::Result<Partner> {
    let org = app
        .create_org(Actor::Operator, name, "partner")
        .await
        .with_context(|| format!("creating {name}"))?;
    let pm_email = format!("pm@{mail_domain}");
    create_user(
        app,
        name,
        &pm_email,
        &format!("{name} PM"),
        "portal_user",
        true,
    )
    .await?;
    let author = create_user(
        app,
        name,
        &format!("author@{mail_domain}"),
        &format!("{name} Author"),
        "author",
        false,
    )
    .await?;
    let proofreader = create_user(
        app,
        name,
        &format!("proofreader@{mail_domain}"),
        &format!("{name} Proofreader"),
        "proofreader",
        false,
    )
    .await?;
    let (session, pm) = sign_in(app, &pm_email).await?;
    Ok(Partner {
        org: org.id,
        pm,
        session,
        author,
        proofreader,
    })
}

/// An order of `kind` for every episode in `episodes` ("all", or "" for a film) and every
/// target language with a partner for the kind's service.
fn order(kind: RequestKind, episodes: &str, due: Date) -> NewRequestsInput {
    NewRequestsInput {
        kind: kind.as_str().to_string(),
        languages: vec!["all".to_string()],
        episodes: episodes.to_string(),
        due_date: due.to_string(),
        edd: None,
        instructions: String::new(),
    }
}

/// Marks requests done directly in the store (the workflow itself is not what is measured).
async fn mark_done(
    store: &dyn Store,
    ids: &[RequestId],
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    let mut tx = store.begin().await?;
    for id in ids {
        let mut r = tx
            .get_request(*id)
            .await?
            .context("a request just ordered is missing")?;
        r.state = RequestState::Done;
        r.updated_at = now;
        tx.update_request(&r).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The open requests of a project that `who` sees on its Requests page.
async fn open_ids(
    app: &App,
    who: &Authenticated,
    project: ProjectId,
) -> anyhow::Result<Vec<RequestId>> {
    let page = app
        .project_requests(who, project, &RequestFilter::default())
        .await
        .context("reading the Requests page")?;
    Ok(page
        .rows
        .into_iter()
        .filter(|r| !r.record.state.is_done())
        .map(|r| r.record.id)
        .collect())
}

/// Gives `step` of every request in `ids` to `to`, in bulk; returns how many.
async fn assign(
    app: &App,
    who: &Authenticated,
    ids: &[RequestId],
    step: Step,
    to: UserId,
) -> anyhow::Result<usize> {
    for chunk in ids.chunks(ASSIGN_CHUNK) {
        app.assign_step(who, chunk, step, Some(to), None)
            .await
            .with_context(|| format!("assigning {} of {} requests", step.label(), chunk.len()))?;
    }
    Ok(ids.len())
}

/// Prints how long a seeding step took and starts the next one.
fn step_done(step: &mut Instant, what: &str) {
    println!("  {what}: {:.1} s", step.elapsed().as_secs_f64());
    *step = Instant::now();
}

fn cookie(secret: &str) -> (&'static str, String) {
    ("cookie", format!("{}={secret}", web::auth::SESSION_COOKIE))
}

fn bearer(token: &str) -> (&'static str, String) {
    ("authorization", format!("Bearer {token}"))
}

/// One GET, timed from sending it to the last byte of the answer; anything but a 2xx fails.
async fn timed_get(
    client: &reqwest::Client,
    url: &str,
    auth: &(&'static str, String),
) -> anyhow::Result<(Duration, Vec<u8>)> {
    let started = Instant::now();
    let resp = client
        .get(url)
        .header(auth.0, auth.1.as_str())
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .with_context(|| format!("GET {url}"))?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .with_context(|| format!("reading the answer to GET {url}"))?;
    let took = started.elapsed();
    if !status.is_success() {
        bail!(
            "GET {url} answered {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(500)])
        );
    }
    Ok((took, body.to_vec()))
}

/// `WARMUP` untimed GETs, then `iterations` timed ones; the histogram and the last warm-up
/// answer (to check what the page shows).
async fn measure(
    client: &reqwest::Client,
    url: &str,
    auth: &(&'static str, String),
    iterations: usize,
) -> anyhow::Result<(Histogram, Vec<u8>)> {
    let mut body = Vec::new();
    for _ in 0..WARMUP {
        body = timed_get(client, url, auth).await?.1;
    }
    let mut h = Histogram::default();
    for _ in 0..iterations {
        let (took, _) = timed_get(client, url, auth).await?;
        h.record(took);
    }
    Ok((h, body))
}

fn occurrences(body: &[u8], needle: &str) -> usize {
    String::from_utf8_lossy(body).matches(needle).count()
}

fn api_items(body: &[u8]) -> anyhow::Result<usize> {
    let v: serde_json::Value =
        serde_json::from_slice(body).context("the API's answer is not JSON")?;
    Ok(v.get("items")
        .and_then(|i| i.as_array())
        .map_or(0, Vec::len))
}

fn report(label: &str, h: &Histogram, shows: &str, target_p99_ms: Option<f64>) {
    let verdict = match target_p99_ms {
        Some(t) if h.quantile_ms(0.99) <= t => format!(" · target p99 ≤ {t} ms: met"),
        Some(t) => format!(" · target p99 ≤ {t} ms: MISSED"),
        None => String::new(),
    };
    println!(
        "{label} ({shows}): n {} · p50 {:.1} · p95 {:.1} · p99 {:.1} · max {:.1} ms{verdict}",
        h.count(),
        h.quantile_ms(0.5),
        h.quantile_ms(0.95),
        h.quantile_ms(0.99),
        h.max_ms()
    );
}

pub async fn requests(args: RequestsArgs) -> anyhow::Result<()> {
    if args.languages == 0 || args.languages > LANGUAGES.len() {
        bail!("--languages is 1 to {}", LANGUAGES.len());
    }
    if args.episodes == 0 {
        bail!("--episodes is at least 1");
    }
    if args.projects == 0 {
        bail!("--projects is at least 1 (the series)");
    }
    let store = open(&args.database_url)
        .await
        .context("opening the database")?;
    store.migrate().await.context("applying migrations")?;
    {
        let mut tx = store.read().await?;
        if tx.studio_org().await?.is_some() {
            bail!("the database already has data; give an empty one");
        }
    }
    let files = fresh_dir("locportal-reqbench-files")?;
    let mail = fresh_dir("locportal-reqbench-mail")?;
    // Task e-mails of the assignments stay in the outbox: no mail worker runs.
    let app = App::new(store.clone())
        .with_files(app::files::FileStore::new(files))
        .with_mailer(Arc::new(app::mail::FileMailer::new(mail)));
    let today = app.now().date();

    println!(
        "seeding ({}): a series of {} episodes × {} target languages, {} followed projects",
        store.backend().as_str(),
        args.episodes,
        args.languages,
        args.projects
    );
    let seeding = Instant::now();
    let mut step = Instant::now();

    // People: the studio manager, a studio QC reviewer, and four partners.
    app.create_org(Actor::Operator, "Aurora Pictures", "studio")
        .await
        .context("creating the studio")?;
    create_user(
        &app,
        "Aurora Pictures",
        "manager@aurora.test",
        "Studio Manager",
        "portal_user,manager",
        true,
    )
    .await?;
    let qc = create_user(
        &app,
        "Aurora Pictures",
        "qc@aurora.test",
        "Studio QC",
        "portal_user",
        false,
    )
    .await?;
    let (manager_session, manager) = sign_in(&app, "manager@aurora.test").await?;
    let mut partners = Vec::new();
    for (name, mail_domain) in PARTNERS {
        partners.push(create_partner(&app, name, mail_domain).await?);
    }
    step_done(&mut step, "organisations and people (5 password hashes)");

    // The series: the dialogue list (original language, scripting) goes to Hangul Transcripts;
    // every target language gets scripting, dubbing and audio description from one partner.
    let languages = &LANGUAGES[..args.languages];
    let mut seasons: Vec<SeasonInput> = Vec::new();
    for e in 0..args.episodes {
        let season = u32::try_from(e / 10 + 1)?;
        let number = u32::try_from(e % 10 + 1)?;
        if seasons.last().is_none_or(|s| s.number != season) {
            seasons.push(SeasonInput {
                number: season,
                episodes: Vec::new(),
            });
        }
        if let Some(s) = seasons.last_mut() {
            s.episodes.push(EpisodeInput {
                number,
                movie_id: (SERIES_MOVIE_ID + 1 + i64::try_from(e)?).to_string(),
                name: None,
            });
        }
    }
    let mut assignments = vec![AssignmentInput {
        language: ORIGINAL.to_string(),
        service: Service::Scripting.as_str().to_string(),
        org_id: partners[TRANSCRIPTS].org,
    }];
    for (i, l) in languages.iter().enumerate() {
        for service in SERVICES {
            assignments.push(AssignmentInput {
                language: (*l).to_string(),
                service: service.as_str().to_string(),
                org_id: partners[partner_of_language(i)].org,
            });
        }
    }
    let series = app
        .create_project(
            Actor::Operator,
            &ProjectInput {
                movie_id: SERIES_MOVIE_ID.to_string(),
                name: "Requests Bench Series".to_string(),
                kind: "series".to_string(),
                original_language: ORIGINAL.to_string(),
                target_languages: languages.iter().map(|l| (*l).to_string()).collect(),
                seasons,
                assignments,
            },
        )
        .await
        .context("creating the series")?;

    // Its requests, ordered by the studio manager through the use case. "50 episodes × 10
    // languages × 5 kinds" is approximated, since a dialogue list exists only in the original
    // language: the four other kinds are ordered for every episode in every target language
    // (4 × episodes × languages = 2,000), and the dialogue list once per episode in `languages`
    // rounds, each round but the last marked done before the next is ordered (a re-ordered,
    // re-delivered dialogue list: 50 open + 450 done). In all episodes × languages × 5 = 2,500
    // requests, 2,050 of them open; 3 steps each (7,500).
    let due = days_after(today, 30)?;
    let rounds = args.languages;
    for round in 0..rounds {
        let ids = app
            .create_requests(
                &manager,
                series.id,
                &order(RequestKind::DialogueList, "all", due),
                Vec::new(),
            )
            .await
            .with_context(|| format!("ordering the dialogue lists, round {}", round + 1))?;
        if round + 1 < rounds {
            mark_done(&*store, &ids, app.now()).await?;
        }
    }
    for kind in [
        RequestKind::PivotDialogueList,
        RequestKind::PreRecordedDubScript,
        RequestKind::AsRecordedDubScript,
        RequestKind::AudioDescriptionScript,
    ] {
        app.create_requests(&manager, series.id, &order(kind, "all", due), Vec::new())
            .await
            .with_context(|| format!("ordering {}", kind.label()))?;
    }
    let (total, done) = {
        let mut tx = store.read().await?;
        let all = tx.project_requests(series.id).await?;
        let done = all.iter().filter(|r| r.state.is_done()).count();
        (all.len(), done)
    };
    step_done(
        &mut step,
        &format!(
            "{total} requests on the series ({} open, {done} done dialogue lists of earlier rounds)",
            total - done
        ),
    );

    // Every open request's steps: Author and Proofread by the partner's PM, QC by the manager.
    let mut steps = 0;
    for p in &partners {
        if !series.assignments.iter().any(|a| a.org_id == p.org) {
            continue;
        }
        let ids = open_ids(&app, &p.pm, series.id).await?;
        steps += assign(&app, &p.pm, &ids, Step::Author, p.author).await?;
        steps += assign(&app, &p.pm, &ids, Step::Proofread, p.proofreader).await?;
    }
    let ids = open_ids(&app, &manager, series.id).await?;
    steps += assign(&app, &manager, &ids, Step::Qc, qc).await?;
    step_done(
        &mut step,
        &format!("{steps} steps assigned (Author, Proofread and QC of every open request)"),
    );

    // Small films for My Projects: one target language (scripting and dubbing by Iberia
    // Voices), three open requests each, due dates spread over two months.
    let mut followed = vec![series.id];
    for i in 1..args.projects {
        let film = app
            .create_project(
                Actor::Operator,
                &ProjectInput {
                    movie_id: (FILM_MOVIE_ID + i64::try_from(i)?).to_string(),
                    name: format!("Requests Bench Film {i}"),
                    kind: "film".to_string(),
                    original_language: "en-US".to_string(),
                    target_languages: vec![LANGUAGES[0].to_string()],
                    seasons: Vec::new(),
                    assignments: [Service::Scripting, Service::Dubbing]
                        .iter()
                        .map(|s| AssignmentInput {
                            language: LANGUAGES[0].to_string(),
                            service: s.as_str().to_string(),
                            org_id: partners[ONE].org,
                        })
                        .collect(),
                },
            )
            .await
            .with_context(|| format!("creating film {i}"))?;
        let due = days_after(today, 7 + i64::try_from(i % 60)?)?;
        for kind in [
            RequestKind::PivotDialogueList,
            RequestKind::PreRecordedDubScript,
            RequestKind::AsRecordedDubScript,
        ] {
            app.create_requests(&manager, film.id, &order(kind, "", due), Vec::new())
                .await
                .with_context(|| format!("ordering {} on film {i}", kind.label()))?;
        }
        followed.push(film.id);
    }
    {
        let now = app.now();
        let mut tx = store.begin().await?;
        for id in &followed {
            tx.follow(manager.user.id, *id, now).await?;
        }
        tx.commit().await?;
    }
    step_done(
        &mut step,
        &format!(
            "{} films with 3 requests each, {} projects followed by the manager",
            args.projects - 1,
            followed.len()
        ),
    );
    let seeded_secs = seeding.elapsed().as_secs_f64();
    println!(
        "seeded in {seeded_secs:.1} s ({})",
        store.backend().as_str()
    );

    // The real router on a loopback port, in this process, as the web tests start it.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .context("binding a loopback port")?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = {
        let app = app.clone();
        let config = web::WebConfig::new(base.clone());
        tokio::spawn(async move {
            web::serve(listener, app, config, async {
                let _ = stopped.await;
            })
            .await
        })
    };
    let client = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(10))
        .build()
        .context("building the HTTP client")?;
    let one = &partners[ONE];
    let (_, manager_token) = app
        .create_api_token(&manager, "requests bench")
        .await
        .context("creating the manager's API token")?;
    let (_, pm_token) = app
        .create_api_token(&one.pm, "requests bench")
        .await
        .context("creating the PM's API token")?;
    println!();
    println!(
        "{} · {} iterations per page, one at a time, after {WARMUP} untimed",
        store.backend().as_str(),
        args.iterations
    );

    // 1. The Requests page.
    let page_url = format!("{base}/projects/{}/requests", series.id);
    let api_url = format!("{base}/api/v1/projects/{}/requests?limit=200", series.id);
    let mut figures: Vec<(String, Histogram)> = Vec::new();
    for (label, session, token) in [
        (
            "studio manager",
            manager_session.as_str(),
            manager_token.as_str(),
        ),
        (
            "partner PM, one language",
            one.session.as_str(),
            pm_token.as_str(),
        ),
    ] {
        let (h, body) = measure(&client, &page_url, &cookie(session), args.iterations).await?;
        report(
            &format!("Requests page, {label}"),
            &h,
            &format!(
                "{} rows, {} KiB",
                occurrences(&body, "data-request=\""),
                body.len() / 1024
            ),
            Some(50.0),
        );
        figures.push((format!("Requests page, {label}"), h));
        let (h, body) = measure(&client, &api_url, &bearer(token), args.iterations).await?;
        report(
            &format!("API list ?limit=200, {label}"),
            &h,
            &format!("{} items, {} KiB", api_items(&body)?, body.len() / 1024),
            None,
        );
        figures.push((format!("API list ?limit=200, {label}"), h));
    }

    // 2. Bulk change of the estimated delivery date, by the PM of Five Tongues Studio.
    let five = &partners[FIVE];
    let page = app
        .project_requests(&five.pm, series.id, &RequestFilter::default())
        .await
        .context("reading the Requests page of the bulk-changing PM")?;
    let ids: Vec<RequestId> = page
        .rows
        .iter()
        .filter(|r| r.can.change_edd && !r.record.state.is_done())
        .take(args.bulk)
        .map(|r| r.record.id)
        .collect();
    if ids.len() < args.bulk {
        bail!(
            "the PM sees only {} requests whose EDD they may change; use more languages or episodes",
            ids.len()
        );
    }
    let mut edd = Histogram::default();
    for run in 0..args.edd_runs {
        let date = days_after(today, if run % 2 == 0 { 45 } else { 46 })?;
        let started = Instant::now();
        let changed = app
            .change_edd(&five.pm, &ids, date, EDD_REASON)
            .await
            .context("changing the EDD in bulk")?;
        let took = started.elapsed();
        if usize::try_from(changed)? != ids.len() {
            bail!(
                "the bulk change changed {changed} of {} requests",
                ids.len()
            );
        }
        edd.record(took);
    }
    println!(
        "bulk EDD change of {} requests with one reason: n {} · p50 {:.1} · max {:.1} ms · target ≤ 1000 ms: {}",
        ids.len(),
        edd.count(),
        edd.quantile_ms(0.5),
        edd.max_ms(),
        if edd.max_ms() <= 1000.0 {
            "met"
        } else {
            "MISSED"
        }
    );

    // 3. My Projects with every followed project's open requests and next due date.
    let listed = app
        .my_projects(&manager)
        .await
        .context("reading My Projects")?;
    let listed_ids: Vec<ProjectId> = listed.iter().map(|p| p.id).collect();
    let open = app
        .open_requests(&manager, &listed_ids)
        .await
        .context("reading the open requests")?;
    let with_due = open.values().filter(|o| o.next_due.is_some()).count();
    let (h, body) = measure(
        &client,
        &format!("{base}/"),
        &cookie(&manager_session),
        args.iterations,
    )
    .await?;
    report(
        "My Projects, studio manager",
        &h,
        &format!(
            "{} projects listed, {with_due} with open requests and a next due date, {} KiB",
            occurrences(&body, "data-project=\""),
            body.len() / 1024
        ),
        Some(20.0),
    );
    figures.push(("My Projects, studio manager".to_string(), h));

    println!();
    println!("| measure | p50 / p95 / p99 / max ms |");
    println!("|---|---|");
    for (label, h) in &figures {
        println!(
            "| {label} | {:.1} / {:.1} / {:.1} / {:.1} |",
            h.quantile_ms(0.5),
            h.quantile_ms(0.95),
            h.quantile_ms(0.99),
            h.max_ms()
        );
    }
    println!(
        "| bulk EDD change of {} requests (p50 / max) | {:.0} / {:.0} |",
        ids.len(),
        edd.quantile_ms(0.5),
        edd.max_ms()
    );
    println!("| seeding | {seeded_secs:.1} s |");

    // Close the client's kept-alive connections so the server stops at once.
    drop(client);
    let _ = stop.send(());
    server
        .await
        .context("the server task failed")?
        .context("serving")?;
    Ok(())
}
