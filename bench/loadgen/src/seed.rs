//! `loadgen seed`: fills an empty database with a portal of the size issue 3 asks for, directly
//! through the workspace's store and use cases (no HTTP), and writes the manifest `run` needs.
//!
//! Organisations and projects go through `app` (as the operator), so projects get exactly the
//! channels and validation a real project gets. Users, tokens, follows, messages and read
//! positions go straight through the store's repositories in large transactions: the use cases
//! would hash 5,000 passwords and record notifications for a million historic messages, which
//! is not what is being measured. All users share one argon2 hash (the password is printed).

use crate::manifest::{self, Group, Manifest};
use crate::text;
use anyhow::{Context, bail};
use app::App;
use app::projects::{AssignmentInput, EpisodeInput, ProjectInput, SeasonInput};
use domain::{
    Action, Actor, ChannelPrefs, Email, MessageId, Name, Organisation, Password, Resource, Role,
    Roles, Subject, TokenId, UserId, WorkLanguages, authorize,
};
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;
use store::{ApiTokenRecord, Store, UserRecord};

#[derive(clap::Args, Debug)]
pub struct SeedArgs {
    /// `sqlite:///tmp/loadgen-sqlite/locportal.db` or `postgres://user@host:port/db`. Must be
    /// empty (migrations are applied first).
    #[arg(long)]
    pub database_url: String,
    /// Directory for `manifest.json` (what `run` needs: ids, tokens, who reads what).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value_t = 1_000)]
    pub projects: usize,
    #[arg(long, default_value_t = 5_000)]
    pub users: usize,
    #[arg(long, default_value_t = 1_000_000)]
    pub messages: usize,
    /// Projects the benchmark user follows (the My Projects target).
    #[arg(long, default_value_t = 200)]
    pub bench_follows: usize,
    /// Messages per transaction.
    #[arg(long, default_value_t = 10_000)]
    pub batch: usize,
    /// Random seed: the same seed gives the same portal (up to ids and timestamps).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// The password of every seeded account, so a person can sign in and look around.
pub const PASSWORD: &str = "loadgen-password";

/// Target languages; partner `p` works on languages `p` and `p + 1`, so every language has two
/// partners, and each project gives each of its languages to one of them.
const LANGUAGES: [&str; 20] = [
    "es-ES", "pt-BR", "fr-FR", "de-DE", "it-IT", "ja", "ko-KR", "zh-Hans", "zh-Hant", "pl-PL",
    "tr-TR", "ru-RU", "nl-NL", "sv-SE", "da-DK", "nb-NO", "fi-FI", "ar", "hi-IN", "th-TH",
];
const PARTNERS: [(&str, &str); 20] = [
    ("Iberia Voices", "iberiavoices.test"),
    ("Voz do Brasil Estúdios", "vozdobrasil.test"),
    ("Doublage Lumière", "lumiere.test"),
    ("Synchronhaus Köln", "synchronhaus.test"),
    ("Voci di Roma", "vocidiroma.test"),
    ("Kaze Dubbing Tokyo", "kazedubbing.test"),
    ("Seoul Sound Works", "seoulsound.test"),
    ("Jade Subtitle House", "jadesubs.test"),
    ("Formosa Dubbing", "formosa.test"),
    ("Wisła Media", "wislamedia.test"),
    ("Boğaz Seslendirme", "bogaz.test"),
    ("Neva Voice", "nevavoice.test"),
    ("Grachten Audio", "grachten.test"),
    ("Nordljud", "nordljud.test"),
    ("Øresund Tekst", "oresund.test"),
    ("Fjord Lyd", "fjordlyd.test"),
    ("Sauna Subtitles", "saunasubs.test"),
    ("Nile Dubbing", "niledubbing.test"),
    ("Bollywood Voice Co", "bollyvoice.test"),
    ("Chao Phraya Studio", "chaophraya.test"),
];
const STUDIO: (&str, &str) = ("Aurora Pictures", "aurora.test");
/// Share of users who work at the studio.
const STUDIO_SHARE: f64 = 0.08;

/// Opens a store by URL scheme, as `locportal` does.
pub async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(
            store_sqlite::SqliteStore::open(url)
                .await
                .context("opening the SQLite database")?,
        ))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(
            store_postgres::PgStore::connect(url)
                .await
                .context("connecting to PostgreSQL")?,
        ))
    } else {
        bail!("use sqlite://PATH or postgres://USER@HOST:PORT/DB")
    }
}

/// The URL without its password, for the manifest and the report.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => match url[s + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
            None => url.to_string(),
        },
        _ => url.to_string(),
    }
}

/// Times each step, prints it, and keeps it for the manifest.
struct Steps {
    started: Instant,
    step: Instant,
    done: Vec<(String, f64)>,
}

impl Steps {
    fn new() -> Self {
        Self {
            started: Instant::now(),
            step: Instant::now(),
            done: Vec::new(),
        }
    }
    fn finish(&mut self, what: impl Into<String>) {
        let what = what.into();
        let secs = self.step.elapsed().as_secs_f64();
        println!("  {what}: {secs:.1} s");
        self.done.push((what, secs));
        self.step = Instant::now();
    }
}

/// One seeded user, before the manifest is written.
struct Person {
    id: UserId,
    group: u32,
    follows: Vec<u32>,
}

pub async fn seed(args: SeedArgs) -> anyhow::Result<()> {
    let mut rng = StdRng::seed_from_u64(args.seed);
    let mut steps = Steps::new();
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let store = open_store(&args.database_url).await?;
    store.migrate().await.context("applying migrations")?;
    {
        let mut tx = store.read().await?;
        if tx.studio_org().await?.is_some() {
            bail!(
                "{} already has data; seed an empty database",
                redact(&args.database_url)
            );
        }
    }
    let app = App::new(store.clone());
    println!(
        "seeding {}: {} users, {} projects, {} messages",
        redact(&args.database_url),
        args.users,
        args.projects,
        args.messages
    );
    steps.finish("migrations");

    // Organisations.
    let studio = app
        .create_org(Actor::Operator, STUDIO.0, "studio")
        .await
        .context("creating the studio")?;
    let mut partners: Vec<Organisation> = Vec::new();
    for (name, _) in PARTNERS {
        partners.push(app.create_org(Actor::Operator, name, "partner").await?);
    }
    steps.finish("organisations (1 studio, 20 partners)");

    // Groups: studio with internal messages on, studio with them off, then one per partner.
    let mut groups: Vec<Group> = vec![
        Group {
            organisation: STUDIO.0.into(),
            studio: true,
            internal_messages: true,
            members: Vec::new(),
        },
        Group {
            organisation: STUDIO.0.into(),
            studio: true,
            internal_messages: false,
            members: Vec::new(),
        },
    ];
    for (name, _) in PARTNERS {
        groups.push(Group {
            organisation: name.into(),
            studio: false,
            internal_messages: false,
            members: Vec::new(),
        });
    }
    let group_org = |g: usize| -> &Organisation { if g < 2 { &studio } else { &partners[g - 2] } };

    // Users and their API tokens. One hash for everyone: argon2id is deliberately slow.
    let hash = app::auth::hash_password(&Password::parse(PASSWORD)?).await?;
    let studio_users = ((args.users as f64 * STUDIO_SHARE).round() as usize).max(2);
    let now = time::OffsetDateTime::now_utc();
    let mut people: Vec<Person> = Vec::with_capacity(args.users);
    let mut users_out: Vec<manifest::User> = Vec::with_capacity(args.users);
    for chunk_start in (0..args.users).step_by(1_000) {
        let mut tx = store.begin().await?;
        for i in chunk_start..(chunk_start + 1_000).min(args.users) {
            let (group, domain_name) = if i < studio_users {
                // The benchmark user (0) reads Internal too.
                (if i % 2 == 0 { 0 } else { 1 }, STUDIO.1)
            } else {
                let p = (i - studio_users) % PARTNERS.len();
                (p + 2, PARTNERS[p].1)
            };
            let (first, first_ascii) = text::FIRST_NAMES[i % text::FIRST_NAMES.len()];
            let (last, last_ascii) =
                text::LAST_NAMES[(i / text::FIRST_NAMES.len() + i * 7) % text::LAST_NAMES.len()];
            let (display, email) = if i == 0 {
                (
                    "Bench Manager".to_string(),
                    format!("bench.pm@{domain_name}"),
                )
            } else {
                (
                    format!("{first} {last}"),
                    format!("{first_ascii}.{last_ascii}.{i}@{domain_name}"),
                )
            };
            let mut roles = vec![Role::PortalUser];
            if i < studio_users && i % 10 == 0 {
                roles.push(Role::Manager);
            }
            let org = group_org(group);
            let record = UserRecord {
                id: UserId::new(),
                org_id: org.id,
                email: Email::parse(&email)?,
                display_name: Name::parse(&display)?,
                roles: Roles::of(&roles),
                password_hash: Some(hash.clone()),
                disabled: false,
                created_at: now,
                prefs: ChannelPrefs {
                    internal_messages: group == 0,
                    languages: WorkLanguages::All,
                },
            };
            tx.insert_user(&record).await?;
            let secret = format!(
                "{}{}",
                app::auth::API_TOKEN_PREFIX,
                app::auth::random_secret()
            );
            tx.insert_api_token(&ApiTokenRecord {
                id: TokenId::new(),
                user_id: record.id,
                name: Name::parse("loadgen")?,
                token_hash: app::auth::sha256_hex(&secret),
                created_at: now,
                last_used_at: None,
                revoked_at: None,
            })
            .await?;
            groups[group].members.push(i as u32);
            people.push(Person {
                id: record.id,
                group: group as u32,
                follows: Vec::new(),
            });
            users_out.push(manifest::User {
                id: record.id.as_uuid(),
                email,
                name: display,
                token: secret,
                group: group as u32,
                follows: Vec::new(),
            });
        }
        tx.commit().await?;
    }
    steps.finish(format!(
        "{} users with API tokens ({studio_users} studio)",
        args.users
    ));

    // Projects, through the use case so they get their channels as a real project does.
    let mut projects: Vec<domain::Project> = Vec::with_capacity(args.projects);
    let mut projects_of_partner: Vec<Vec<u32>> = vec![Vec::new(); PARTNERS.len()];
    for i in 0..args.projects {
        let movie_id = 70_000_000 + i as i64 * 100;
        let mut langs: Vec<usize> = (0..LANGUAGES.len()).collect();
        langs.shuffle(&mut rng);
        langs.truncate(rng.random_range(3..=8));
        langs.sort_unstable();
        let mut assignments = Vec::new();
        for &l in &langs {
            // Partners l and l-1 both work on language l.
            let pair = [l, (l + PARTNERS.len() - 1) % PARTNERS.len()];
            let dub = if rng.random_bool(0.5) { 0 } else { 1 };
            assignments.push(AssignmentInput {
                language: LANGUAGES[l].into(),
                service: "dubbing".into(),
                org_id: partners[pair[dub]].id,
            });
            // Subtitles, when ordered, go to the same partner. (Two partners on one language
            // would be realistic too, but the vendor-channel-per-partner migration (0007) gives
            // a language's existing channel to one of them only, and the manifest must stay
            // valid when a later build migrates this database.)
            if rng.random_bool(0.4) {
                assignments.push(AssignmentInput {
                    language: LANGUAGES[l].into(),
                    service: "subtitles".into(),
                    org_id: partners[pair[dub]].id,
                });
            }
        }
        let series = rng.random_bool(0.25);
        let seasons = if series {
            (1..=rng.random_range(1..=2u32))
                .map(|s| SeasonInput {
                    number: s,
                    episodes: (1..=rng.random_range(6..=10u32))
                        .map(|e| EpisodeInput {
                            number: e,
                            movie_id: (movie_id + i64::from(s * 20 + e)).to_string(),
                            name: None,
                        })
                        .collect(),
                })
                .collect()
        } else {
            Vec::new()
        };
        let input = ProjectInput {
            movie_id: movie_id.to_string(),
            name: text::title(&mut rng, i),
            kind: if series { "series" } else { "film" }.into(),
            original_language: "en-US".into(),
            target_languages: langs.iter().map(|&l| LANGUAGES[l].to_string()).collect(),
            seasons,
            assignments,
        };
        let project = app
            .create_project(Actor::Operator, &input)
            .await
            .map_err(|e| anyhow::anyhow!("creating project {i}: {e:?}"))?;
        for (p, org) in partners.iter().enumerate() {
            if project.assignments.iter().any(|a| a.org_id == org.id) {
                projects_of_partner[p].push(i as u32);
            }
        }
        projects.push(project);
    }
    steps.finish(format!(
        "{} projects (through app::create_project)",
        args.projects
    ));

    // Channels, and which groups may read and post in each (asked of the domain policy).
    let subjects: Vec<Subject> = (0..groups.len())
        .map(|g| {
            let org = group_org(g);
            let someone = groups[g]
                .members
                .first()
                .map(|&u| people[u as usize].id)
                .unwrap_or_default();
            Subject {
                user_id: someone,
                org_id: org.id,
                org_kind: org.kind,
                roles: Roles::of(&[Role::PortalUser]),
                prefs: ChannelPrefs {
                    internal_messages: groups[g].internal_messages,
                    languages: WorkLanguages::All,
                },
            }
        })
        .collect();
    let mut channels: Vec<manifest::Channel> = Vec::new();
    let mut projects_out: Vec<manifest::Project> = Vec::new();
    {
        let mut tx = store.read().await?;
        for (pi, project) in projects.iter().enumerate() {
            let mut ids = Vec::new();
            for c in tx.list_channels(project.id).await? {
                let resource = Resource::Channel {
                    kind: &c.kind,
                    assignments: &project.assignments,
                };
                let may = |action| -> Vec<u32> {
                    subjects
                        .iter()
                        .enumerate()
                        .filter(|(_, s)| authorize(Some(s), action, resource).is_allowed())
                        .map(|(g, _)| g as u32)
                        .collect()
                };
                ids.push(channels.len() as u32);
                channels.push(manifest::Channel {
                    id: c.id.as_uuid(),
                    project: pi as u32,
                    kind: c.kind.as_str().into(),
                    language: c.kind.language().map(|l| l.to_string()),
                    seeded_messages: 0,
                    readers: may(Action::ReadChannel),
                    posters: may(Action::PostInChannel),
                });
            }
            projects_out.push(manifest::Project {
                id: project.id.as_uuid(),
                name: project.name.to_string(),
                channels: ids,
            });
        }
    }
    steps.finish(format!("{} channels listed and authorized", channels.len()));

    // Follows: the benchmark user follows `bench_follows` projects; other studio people follow
    // 5–25, partner people 3–10 of the projects their organisation works on.
    for (u, person) in people.iter_mut().enumerate() {
        let g = person.group as usize;
        let pool: Vec<u32> = if g < 2 {
            (0..args.projects as u32).collect()
        } else {
            projects_of_partner[g - 2].clone()
        };
        let n = if u == 0 {
            args.bench_follows
        } else if g < 2 {
            rng.random_range(5..=25)
        } else {
            rng.random_range(3..=10)
        };
        person.follows = pool.choose_multiple(&mut rng, n).copied().collect();
        person.follows.sort_unstable();
    }
    let follow_pairs: Vec<(UserId, domain::ProjectId)> = people
        .iter()
        .flat_map(|p| p.follows.iter().map(|&pi| (p.id, projects[pi as usize].id)))
        .collect();
    for chunk in follow_pairs.chunks(20_000) {
        let mut tx = store.begin().await?;
        for (u, p) in chunk {
            tx.follow(*u, *p, now).await?;
        }
        tx.commit().await?;
    }
    steps.finish(format!("{} follows", follow_pairs.len()));

    // Messages, oldest first over the last 180 days. Activity is skewed as in real portals: a
    // project's weight falls with its (random) popularity rank as rank^-0.6, and within a
    // project Broadcast and the vendor channels are busier than Internal.
    let mut rank: Vec<usize> = (0..projects.len()).collect();
    rank.shuffle(&mut rng);
    let mut cumulative: Vec<f64> = Vec::with_capacity(channels.len());
    let mut total = 0.0;
    for (pi, p) in projects_out.iter().enumerate() {
        let project_weight = (rank[pi] as f64 + 1.0).powf(-0.6);
        let kind_weight = |k: &str| match k {
            "broadcast" => 2.0,
            "vendor" => 1.5,
            _ => 1.0,
        };
        let sum: f64 = p
            .channels
            .iter()
            .map(|&c| kind_weight(&channels[c as usize].kind))
            .sum();
        for &c in &p.channels {
            // Channels of one project are consecutive in `channels`.
            total += project_weight * kind_weight(&channels[c as usize].kind) / sum;
            cumulative.push(total);
        }
    }
    // A channel's regulars: a handful of the people who may post in it write its messages.
    let participants: Vec<Vec<UserId>> = channels
        .iter()
        .map(|c| {
            let pool: Vec<u32> = c
                .posters
                .iter()
                .flat_map(|&g| groups[g as usize].members.iter().copied())
                .collect();
            (0..6)
                .filter_map(|_| pool.choose(&mut rng).map(|&u| people[u as usize].id))
                .collect()
        })
        .collect();
    let span = time::Duration::days(180);
    let start = now - span;
    let step = (span - time::Duration::hours(2)) / (args.messages.max(1) as f64);
    let mut counts = vec![0u32; channels.len()];
    let mut written = 0usize;
    let seeding = Instant::now();
    while written < args.messages {
        let n = args.batch.min(args.messages - written);
        let mut tx = store.begin().await?;
        for k in written..written + n {
            let x = rng.random::<f64>() * total;
            let c = cumulative
                .partition_point(|&w| w < x)
                .min(channels.len() - 1);
            let Some(&author) = participants[c].choose(&mut rng) else {
                continue;
            };
            let body = text::message(&mut rng, channels[c].language.as_deref());
            tx.insert_message(
                MessageId::new(),
                domain::ChannelId(channels[c].id),
                Some(author),
                &body,
                start + step * (k as f64),
            )
            .await?;
            counts[c] += 1;
        }
        tx.commit().await?;
        written += n;
        if written % 100_000 < n || written == args.messages {
            let secs = seeding.elapsed().as_secs_f64();
            println!(
                "    {written} messages, {secs:.0} s, {:.0}/s",
                written as f64 / secs.max(1e-9)
            );
        }
    }
    for (c, n) in counts.iter().enumerate() {
        channels[c].seeded_messages = *n;
    }
    let busiest = counts.iter().max().copied().unwrap_or(0);
    let mut sorted = counts.clone();
    sorted.sort_unstable();
    let median = sorted.get(sorted.len() / 2).copied().unwrap_or(0);
    steps.finish(format!(
        "{} messages (median {median} per channel, busiest {busiest})",
        args.messages
    ));

    // Read positions: people have read the channels of the projects they follow up to a few
    // messages from the end (40 % completely), as regular users of a chat have.
    let mut positions = Vec::new();
    for person in &people {
        for &pi in &person.follows {
            for &c in &projects_out[pi as usize].channels {
                let ch = &channels[c as usize];
                if !ch.readers.contains(&person.group) {
                    continue;
                }
                let behind = if rng.random_bool(0.4) {
                    0
                } else {
                    rng.random_range(1..=15)
                };
                let seq = i64::from(ch.seeded_messages) - behind;
                if seq > 0 {
                    positions.push((person.id, ch.id, seq));
                }
            }
        }
    }
    for chunk in positions.chunks(20_000) {
        let mut tx = store.begin().await?;
        for (u, c, seq) in chunk {
            tx.mark_read(*u, domain::ChannelId(*c), *seq).await?;
        }
        tx.commit().await?;
    }
    steps.finish(format!("{} read positions", positions.len()));

    for (u, person) in people.iter().enumerate() {
        users_out[u].follows = person.follows.clone();
    }
    let manifest = Manifest {
        database: redact(&args.database_url),
        groups,
        users: users_out,
        projects: projects_out,
        channels,
        bench_user: 0,
        seed_timings: steps.done.clone(),
    };
    let path = args.out.join(manifest::FILE_NAME);
    manifest.save(&path)?;
    store.close().await;
    println!(
        "seeded in {:.1} s; manifest {}; every account's password is {PASSWORD:?}",
        steps.started.elapsed().as_secs_f64(),
        path.display()
    );
    Ok(())
}
