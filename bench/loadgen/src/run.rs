//! `loadgen run`: drives a running portal through its JSON API and SSE with a Mattermost-shaped
//! mix, open loop, and reports latencies per action.
//!
//! Open loop matters: requests are scheduled at Poisson arrival times whatever the server does,
//! and each latency is measured from the *scheduled* time. A server that falls behind therefore
//! shows its queueing in the figures instead of silently slowing the generator down
//! (coordinated omission). If more than `--max-in-flight` requests are outstanding, new ones are
//! not sent and are counted as errors (`not sent`).

use crate::manifest::{self, Manifest};
use crate::sse::{Deliveries, DeliveryReport};
use crate::stats::{ActionStats, Histogram};
use crate::text;
use anyhow::{Context, bail};
use rand::rngs::StdRng;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;
use uuid::Uuid;

#[derive(clap::Args, Debug, Clone)]
pub struct RunArgs {
    /// The portal to drive.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// The manifest written by `loadgen seed` (the file or its directory).
    #[arg(long)]
    pub manifest: PathBuf,
    /// Posts per second. Several comma-separated rates run one phase each, in order, on the same
    /// SSE connections (e.g. `65,100,150` to find where it breaks).
    #[arg(long, value_delimiter = ',', default_value = "65")]
    pub rate: Vec<f64>,
    /// Measured seconds per phase.
    #[arg(long, default_value_t = 60)]
    pub duration: u64,
    /// Unmeasured seconds at the start of each phase.
    #[arg(long, default_value_t = 10)]
    pub warmup: u64,
    /// Users who act (post, view, check unread, search), drawn at random.
    #[arg(long, default_value_t = 2_000)]
    pub active: usize,
    /// Open SSE connections, one per active user (the first `sse` of them).
    #[arg(long, default_value_t = 2_000)]
    pub sse: usize,
    /// Channel views (latest 50, which also marks the channel read) per post.
    #[arg(long, default_value_t = 6.5)]
    pub views_per_post: f64,
    /// Unread checks (`GET /api/v1/my-projects` of an active user) per post.
    #[arg(long, default_value_t = 1.0)]
    pub unread_per_post: f64,
    /// Searches across all readable channels per post.
    #[arg(long, default_value_t = 0.02)]
    pub searches_per_post: f64,
    /// Share of posts that @mention someone who reads the channel.
    #[arg(long, default_value_t = 0.18)]
    pub mention_share: f64,
    /// My Projects requests per second by the user who follows 200 projects (outside the mix).
    #[arg(long, default_value_t = 2.0)]
    pub my_projects_rate: f64,
    /// Additional searches per second, outside the mix (more samples for the percentiles).
    #[arg(long, default_value_t = 0.0)]
    pub extra_search_rate: f64,
    #[arg(long, default_value_t = 1_000)]
    pub max_in_flight: usize,
    /// SSE connections being opened at once.
    #[arg(long, default_value_t = 50)]
    pub connect_concurrency: usize,
    /// The portal's process id: its CPU time and memory are then reported too.
    #[arg(long)]
    pub server_pid: Option<u32>,
    /// Instead of the open-loop mix: send N requests of each action one after another (100 ms
    /// apart), so each is served alone. This gives the service time without queueing.
    #[arg(long)]
    pub sequential: Option<usize>,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    pub json: Option<PathBuf>,
    #[arg(long, default_value_t = 2)]
    pub seed: u64,
}

/// The actions of the mix, in report order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    Post,
    PostWithMention,
    View,
    Unread,
    MyProjects200,
    SearchStudio,
    SearchPartner,
}

impl Action {
    fn label(self) -> &'static str {
        match self {
            Action::Post => "post (all)",
            Action::PostWithMention => "  of which with @mention",
            Action::View => "channel view, latest 50",
            Action::Unread => "unread check (my-projects of an active user)",
            Action::MyProjects200 => "My Projects, 200 followed",
            Action::SearchStudio => "search, studio user (all channels)",
            Action::SearchPartner => "search, partner user",
        }
    }
}

/// What the driver knows about the portal, derived once from the manifest.
struct World {
    m: Manifest,
    active: Vec<u32>,
    /// Active users per group.
    active_in_group: Vec<Vec<u32>>,
    /// Per user (active ones only): readable channels of the projects they follow.
    readable: Vec<Vec<u32>>,
    /// Cumulative posting weights over channels (by seeded activity).
    weights: Vec<f64>,
}

impl World {
    fn new(m: Manifest, args: &RunArgs, rng: &mut StdRng) -> anyhow::Result<World> {
        let mut everyone: Vec<u32> = (0..m.users.len() as u32)
            .filter(|&u| u != m.bench_user)
            .collect();
        everyone.shuffle(rng);
        everyone.truncate(args.active.max(args.sse));
        let active = everyone;
        let mut active_in_group = vec![Vec::new(); m.groups.len()];
        let mut readable = vec![Vec::new(); m.users.len()];
        for &u in &active {
            let user = &m.users[u as usize];
            active_in_group[user.group as usize].push(u);
            readable[u as usize] = user
                .follows
                .iter()
                .flat_map(|&p| m.projects[p as usize].channels.iter().copied())
                .filter(|&c| m.channels[c as usize].readers.contains(&user.group))
                .collect();
        }
        let mut total = 0.0;
        let weights = m
            .channels
            .iter()
            .map(|c| {
                total += f64::from(c.seeded_messages) + 1.0;
                total
            })
            .collect();
        if active.is_empty() {
            bail!("no active users");
        }
        Ok(World {
            m,
            active,
            active_in_group,
            readable,
            weights,
        })
    }

    fn weighted_channel(&self, rng: &mut StdRng) -> u32 {
        let total = self.weights.last().copied().unwrap_or(0.0);
        let x = rng.random::<f64>() * total;
        self.weights
            .partition_point(|&w| w < x)
            .min(self.weights.len().saturating_sub(1)) as u32
    }

    /// A random member of `groups` among `pool` (members per group).
    fn member_of(pool: &[Vec<u32>], groups: &[u32], rng: &mut StdRng) -> Option<u32> {
        let total: usize = groups.iter().map(|&g| pool[g as usize].len()).sum();
        if total == 0 {
            return None;
        }
        let mut i = rng.random_range(0..total);
        for &g in groups {
            let members = &pool[g as usize];
            if i < members.len() {
                return members.get(i).copied();
            }
            i -= members.len();
        }
        None
    }

    fn all_members(&self) -> Vec<Vec<u32>> {
        self.m.groups.iter().map(|g| g.members.clone()).collect()
    }
}

/// Everything the request tasks share.
struct Shared {
    client: reqwest::Client,
    base: String,
    tokens: Vec<String>,
    stats: Mutex<BTreeMap<Action, ActionStats>>,
    deliveries: Deliveries,
    /// Open SSE streams per group.
    connected: Vec<AtomicU32>,
    /// Channels posted in recently: readers open them (views "reacting" to a post).
    recent: Mutex<VecDeque<u32>>,
    /// Posts that completed (201) inside the measured window.
    posts_completed: AtomicU64,
    window: Mutex<(Instant, Instant)>,
}

impl Shared {
    fn record(&self, action: Action, measured: bool, outcome: Result<Duration, String>) {
        if !measured {
            return;
        }
        if let Ok(mut s) = self.stats.lock() {
            let entry = s.entry(action).or_default();
            match outcome {
                Ok(d) => entry.ok.record(d),
                Err(cause) => entry.error(cause),
            }
        }
    }

    fn in_window(&self, t: Instant) -> bool {
        self.window
            .lock()
            .map(|w| t >= w.0 && t < w.1)
            .unwrap_or(false)
    }
}

/// One request's outcome: the status and body, or why there was none.
async fn send(req: reqwest::RequestBuilder) -> Result<(u16, Vec<u8>), String> {
    let cause = |e: reqwest::Error| {
        if e.is_timeout() {
            "timeout"
        } else if e.is_connect() {
            "connect"
        } else {
            "transport"
        }
        .to_string()
    };
    let resp = req
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .map_err(cause)?;
    let status = resp.status().as_u16();
    let body = resp.bytes().await.map_err(cause)?;
    Ok((status, body.to_vec()))
}

/// Which request to send; chosen by the scheduler (one RNG, so a run is repeatable).
enum Job {
    Post {
        user: u32,
        channel: u32,
        body: String,
        mention: bool,
        expected: u32,
    },
    View {
        user: u32,
        channel: u32,
    },
    Unread {
        user: u32,
    },
    MyProjects {
        user: u32,
    },
    Search {
        user: u32,
        studio: bool,
        q: String,
    },
}

async fn perform(shared: Arc<Shared>, world: Arc<World>, job: Job, scheduled: Instant) {
    let measured = shared.in_window(scheduled);
    let m = &world.m;
    let auth = |u: u32| format!("Bearer {}", shared.tokens[u as usize]);
    match job {
        Job::Post {
            user,
            channel,
            body,
            mention,
            expected,
        } => {
            let url = format!(
                "{}/api/v1/channels/{}/messages",
                shared.base, m.channels[channel as usize].id
            );
            let sent = Instant::now();
            let req = shared
                .client
                .post(url)
                .header("authorization", auth(user))
                .header("content-type", "application/json")
                .body(serde_json::json!({ "body": body }).to_string());
            let outcome = match send(req).await {
                Ok((201, body)) => {
                    let done = Instant::now();
                    let id = serde_json::from_slice::<serde_json::Value>(&body)
                        .ok()
                        .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_string))
                        .and_then(|s| Uuid::parse_str(&s).ok());
                    if let Some(id) = id {
                        shared.deliveries.posted(id, sent, expected, measured);
                    }
                    if let Ok(mut r) = shared.recent.lock() {
                        r.push_back(channel);
                        if r.len() > 256 {
                            r.pop_front();
                        }
                    }
                    if shared.in_window(done) {
                        shared.posts_completed.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(done - scheduled)
                }
                Ok((status, _)) => Err(status.to_string()),
                Err(cause) => Err(cause),
            };
            if mention {
                shared.record(Action::PostWithMention, measured, outcome.clone());
            }
            shared.record(Action::Post, measured, outcome);
        }
        Job::View { user, channel } => {
            let url = format!(
                "{}/api/v1/channels/{}/messages",
                shared.base, m.channels[channel as usize].id
            );
            let req = shared.client.get(url).header("authorization", auth(user));
            let outcome = status_outcome(send(req).await, scheduled);
            shared.record(Action::View, measured, outcome);
        }
        Job::Unread { user } => {
            let url = format!("{}/api/v1/my-projects", shared.base);
            let req = shared.client.get(url).header("authorization", auth(user));
            let outcome = status_outcome(send(req).await, scheduled);
            shared.record(Action::Unread, measured, outcome);
        }
        Job::MyProjects { user } => {
            // The whole list in one page, as the page shows it (the API's largest page).
            let url = format!("{}/api/v1/my-projects?limit=200", shared.base);
            let req = shared.client.get(url).header("authorization", auth(user));
            let outcome = status_outcome(send(req).await, scheduled);
            shared.record(Action::MyProjects200, measured, outcome);
        }
        Job::Search { user, studio, q } => {
            let url = format!("{}/api/v1/search", shared.base);
            let req = shared
                .client
                .get(url)
                .header("authorization", auth(user))
                .query(&[("q", q.as_str()), ("limit", "50")]);
            let outcome = status_outcome(send(req).await, scheduled);
            let action = if studio {
                Action::SearchStudio
            } else {
                Action::SearchPartner
            };
            shared.record(action, measured, outcome);
        }
    }
}

fn status_outcome(
    r: Result<(u16, Vec<u8>), String>,
    scheduled: Instant,
) -> Result<Duration, String> {
    match r {
        Ok((s, _)) if (200..300).contains(&s) => Ok(scheduled.elapsed()),
        Ok((s, _)) => Err(s.to_string()),
        Err(cause) => Err(cause),
    }
}

/// An open-loop arrival stream.
struct Stream {
    kind: StreamKind,
    rate: f64,
    next: Instant,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum StreamKind {
    Post,
    View,
    Unread,
    /// By a random active user.
    Search,
    /// By a random active studio (`true`) or partner (`false`) user.
    SearchAs(bool),
    MyProjects,
}

fn exp_gap(rng: &mut StdRng, rate: f64) -> Duration {
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    Duration::from_secs_f64(-u.ln() / rate)
}

/// Chooses the details of one request of `kind`.
fn choose(
    kind: StreamKind,
    world: &World,
    shared: &Shared,
    everyone: &[Vec<u32>],
    args: &RunArgs,
    rng: &mut StdRng,
) -> Option<Job> {
    let m = &world.m;
    let random_active = |rng: &mut StdRng| world.active.choose(rng).copied();
    match kind {
        StreamKind::Post => {
            // A channel by its activity, then one of its active posters.
            for _ in 0..50 {
                let c = world.weighted_channel(rng);
                let ch = &m.channels[c as usize];
                let Some(user) = World::member_of(&world.active_in_group, &ch.posters, rng) else {
                    continue;
                };
                let mut body = text::message(rng, ch.language.as_deref());
                let mention = rng.random_bool(args.mention_share);
                if mention {
                    // Someone who reads the channel, by e-mail (unambiguous).
                    if let Some(other) =
                        World::member_of(everyone, &ch.readers, rng).filter(|&o| o != user)
                    {
                        body = format!("@{} {body}", m.users[other as usize].email);
                    }
                }
                let expected = ch
                    .readers
                    .iter()
                    .map(|&g| shared.connected[g as usize].load(Ordering::Relaxed))
                    .sum();
                return Some(Job::Post {
                    user,
                    channel: c,
                    body,
                    mention,
                    expected,
                });
            }
            None
        }
        StreamKind::View => {
            // Half of the views react to a recent post (a reader opens that channel), half
            // open some channel of a project the user follows.
            let recent = shared
                .recent
                .lock()
                .ok()
                .and_then(|r| (!r.is_empty()).then(|| r[rng.random_range(0..r.len())]));
            if let Some(c) = recent.filter(|_| rng.random_bool(0.5))
                && let Some(user) =
                    World::member_of(&world.active_in_group, &m.channels[c as usize].readers, rng)
            {
                return Some(Job::View { user, channel: c });
            }
            for _ in 0..50 {
                let user = random_active(rng)?;
                if let Some(&c) = world.readable[user as usize].choose(rng) {
                    return Some(Job::View { user, channel: c });
                }
            }
            None
        }
        StreamKind::Unread => random_active(rng).map(|user| Job::Unread { user }),
        StreamKind::MyProjects => Some(Job::MyProjects { user: m.bench_user }),
        StreamKind::Search | StreamKind::SearchAs(_) => {
            let is_studio = |u: u32| m.groups[m.users[u as usize].group as usize].studio;
            let user = match kind {
                StreamKind::SearchAs(want) => (0..10_000)
                    .filter_map(|_| random_active(rng))
                    .find(|&u| is_studio(u) == want)?,
                _ => random_active(rng)?,
            };
            let studio = is_studio(user);
            Some(Job::Search {
                user,
                studio,
                q: text::search_query(rng),
            })
        }
    }
}

/// CPU seconds used so far by a process (utime + stime), and its resident memory in MiB.
pub(crate) fn process_usage(pid: &str) -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss_kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    // USER_HZ is 100 on every Linux this runs on.
    Some((ticks / 100.0, rss_kb / 1024.0))
}

/// Opens the SSE streams of the first `n` active users.
async fn open_streams(shared: &Arc<Shared>, world: &Arc<World>, n: usize, concurrency: usize) {
    let started = Instant::now();
    let users: Vec<u32> = world.active.iter().take(n).copied().collect();
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let failed = Arc::new(AtomicU64::new(0));
    let mut handles = Vec::new();
    for u in users {
        let shared = shared.clone();
        let world = world.clone();
        let gate = gate.clone();
        let failed = failed.clone();
        handles.push(tokio::spawn(async move {
            let Ok(_permit) = gate.acquire().await else {
                return;
            };
            let group = world.m.users[u as usize].group as usize;
            let resp = shared
                .client
                .get(format!("{}/events", shared.base))
                .header(
                    "authorization",
                    format!("Bearer {}", shared.tokens[u as usize]),
                )
                .header("accept", "text/event-stream")
                .send()
                .await;
            match resp {
                Ok(r) if r.status().is_success() => {
                    shared.connected[group].fetch_add(1, Ordering::Relaxed);
                    let shared = shared.clone();
                    tokio::spawn(async move {
                        crate::sse::read_stream(r, &shared.deliveries).await;
                        shared.connected[group].fetch_sub(1, Ordering::Relaxed);
                    });
                }
                _ => {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for h in handles {
        let _ = h.await;
    }
    let open: u32 = shared
        .connected
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .sum();
    println!(
        "SSE: {open} streams open ({} failed) in {:.1} s",
        failed.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
}

/// Figures of one phase.
struct PhaseReport {
    /// 0 in sequential mode.
    rate: f64,
    sequential: bool,
    actions: BTreeMap<Action, ActionStats>,
    deliveries: DeliveryReport,
    open_streams: u32,
    posts_completed_per_s: f64,
    server_cpu: Option<f64>,
    server_rss_mib: Option<f64>,
    client_cpu: Option<f64>,
}

async fn run_phase(
    shared: &Arc<Shared>,
    world: &Arc<World>,
    args: &RunArgs,
    rate: f64,
    rng: &mut StdRng,
) -> anyhow::Result<PhaseReport> {
    let everyone = world.all_members();
    let start = Instant::now();
    let measure_from = start + Duration::from_secs(args.warmup);
    let end = measure_from + Duration::from_secs(args.duration);
    if let Ok(mut w) = shared.window.lock() {
        *w = (measure_from, end);
    }
    let mut streams: Vec<Stream> = [
        (StreamKind::Post, rate),
        (StreamKind::View, rate * args.views_per_post),
        (StreamKind::Unread, rate * args.unread_per_post),
        (
            StreamKind::Search,
            rate * args.searches_per_post + args.extra_search_rate,
        ),
        (StreamKind::MyProjects, args.my_projects_rate),
    ]
    .into_iter()
    .filter(|(_, r)| *r > 0.0)
    .map(|(kind, r)| Stream {
        kind,
        rate: r,
        next: start + exp_gap(rng, r),
    })
    .collect();
    let gate = Arc::new(Semaphore::new(args.max_in_flight));
    let server = args.server_pid.map(|p| p.to_string());
    let mut usage_at_start = None;
    let mut measuring = false;
    while let Some(s) = streams.iter_mut().min_by_key(|s| s.next) {
        if s.next >= end {
            break;
        }
        let at = s.next;
        s.next += exp_gap(rng, s.rate);
        let kind = s.kind;
        tokio::time::sleep_until(at.into()).await;
        if !measuring && at >= measure_from {
            measuring = true;
            usage_at_start = Some((
                Instant::now(),
                server.as_deref().and_then(process_usage),
                process_usage("self"),
            ));
        }
        let Some(job) = choose(kind, world, shared, &everyone, args, rng) else {
            continue;
        };
        match gate.clone().try_acquire_owned() {
            Ok(permit) => {
                let shared = shared.clone();
                let world = world.clone();
                tokio::spawn(async move {
                    perform(shared, world, job, at).await;
                    drop(permit);
                });
            }
            Err(_) => {
                let action = match job {
                    Job::Post { .. } => Action::Post,
                    Job::View { .. } => Action::View,
                    Job::Unread { .. } => Action::Unread,
                    Job::MyProjects { .. } => Action::MyProjects200,
                    Job::Search { studio: true, .. } => Action::SearchStudio,
                    Job::Search { .. } => Action::SearchPartner,
                };
                shared.record(action, at >= measure_from, Err("not sent".into()));
            }
        }
    }
    tokio::time::sleep_until(end.into()).await;
    let usage_at_end = (
        Instant::now(),
        server.as_deref().and_then(process_usage),
        process_usage("self"),
    );
    // Let outstanding requests finish (they count: they were scheduled in the window), then
    // give the streams a moment for the last deliveries.
    let drained = tokio::time::timeout(
        Duration::from_secs(60),
        gate.acquire_many(args.max_in_flight as u32),
    )
    .await;
    if drained.is_err() {
        println!("  (some requests still outstanding after 60 s)");
    }
    tokio::time::sleep(Duration::from_secs(3)).await;

    let cpu = |a: Option<(f64, f64)>, b: Option<(f64, f64)>, wall: f64| match (a, b) {
        (Some(a), Some(b)) if wall > 0.0 => Some((b.0 - a.0) / wall),
        _ => None,
    };
    let (server_cpu, client_cpu, server_rss_mib) = match usage_at_start {
        Some((t0, s0, c0)) => {
            let wall = (usage_at_end.0 - t0).as_secs_f64();
            (
                cpu(s0, usage_at_end.1, wall),
                cpu(c0, usage_at_end.2, wall),
                usage_at_end.1.map(|u| u.1),
            )
        }
        None => (None, None, None),
    };
    let actions = shared
        .stats
        .lock()
        .map(|mut s| std::mem::take(&mut *s))
        .unwrap_or_default();
    Ok(PhaseReport {
        rate,
        sequential: false,
        actions,
        deliveries: shared.deliveries.take(),
        open_streams: shared
            .connected
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum(),
        posts_completed_per_s: shared.posts_completed.swap(0, Ordering::Relaxed) as f64
            / args.duration.max(1) as f64,
        server_cpu,
        server_rss_mib,
        client_cpu,
    })
}

/// Sends `n` requests of each action one after another: service times without queueing.
async fn run_sequential(
    shared: &Arc<Shared>,
    world: &Arc<World>,
    args: &RunArgs,
    n: usize,
    rng: &mut StdRng,
) -> PhaseReport {
    let everyone = world.all_members();
    let start = Instant::now();
    if let Ok(mut w) = shared.window.lock() {
        *w = (start, start + Duration::from_secs(86_400));
    }
    let server = args.server_pid.map(|p| p.to_string());
    let usage0 = (
        server.as_deref().and_then(process_usage),
        process_usage("self"),
    );
    for kind in [
        StreamKind::Post,
        StreamKind::View,
        StreamKind::Unread,
        StreamKind::MyProjects,
        StreamKind::SearchAs(true),
        StreamKind::SearchAs(false),
    ] {
        for _ in 0..n {
            if let Some(job) = choose(kind, world, shared, &everyone, args, rng) {
                perform(shared.clone(), world.clone(), job, Instant::now()).await;
            }
            // Lets the events and SSE fan-out a request causes finish before the next one.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let wall = start.elapsed().as_secs_f64();
    let usage1 = (
        server.as_deref().and_then(process_usage),
        process_usage("self"),
    );
    let cpu = |a: Option<(f64, f64)>, b: Option<(f64, f64)>| match (a, b) {
        (Some(a), Some(b)) => Some((b.0 - a.0) / wall),
        _ => None,
    };
    PhaseReport {
        rate: 0.0,
        sequential: true,
        actions: shared
            .stats
            .lock()
            .map(|mut s| std::mem::take(&mut *s))
            .unwrap_or_default(),
        deliveries: shared.deliveries.take(),
        open_streams: shared
            .connected
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .sum(),
        posts_completed_per_s: 0.0,
        server_cpu: cpu(usage0.0, usage1.0),
        server_rss_mib: usage1.0.map(|u| u.1),
        client_cpu: cpu(usage0.1, usage1.1),
    }
}

fn row(label: &str, h: &Histogram, errors: &str) -> String {
    format!(
        "| {label} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {errors} |",
        h.count(),
        h.quantile_ms(0.50),
        h.quantile_ms(0.95),
        h.quantile_ms(0.99),
        h.max_ms()
    )
}

/// A target and whether a figure meets it.
fn verdict(name: &str, got: f64, limit: f64, lower_is_better: bool, unit: &str) -> String {
    let met = if lower_is_better {
        got <= limit
    } else {
        got >= limit
    };
    if met {
        format!("- {name}: {got:.1} {unit} (target {limit} {unit}): met")
    } else {
        let factor = if lower_is_better {
            got / limit
        } else {
            limit / got.max(1e-9)
        };
        format!(
            "- {name}: {got:.1} {unit} (target {limit} {unit}): MISSED by {:.1} {unit} ({factor:.1}×)",
            (got - limit).abs()
        )
    }
}

fn print_phase(r: &PhaseReport, args: &RunArgs) -> serde_json::Value {
    let d = &r.deliveries;
    println!();
    if r.sequential {
        println!(
            "## sequential: {} requests of each action, one at a time, {} SSE streams open",
            args.sequential.unwrap_or(0),
            r.open_streams
        );
    } else {
        println!(
            "## phase: {} posts/s offered, {} s measured after {} s warm-up, {} SSE streams open",
            r.rate, args.duration, args.warmup, r.open_streams
        );
    }
    println!();
    println!("| action | ok | p50 ms | p95 ms | p99 ms | max ms | errors |");
    println!("|---|---:|---:|---:|---:|---:|---|");
    let mut json_rows = Vec::new();
    let mut search_all = Histogram::default();
    let mut search_errors = 0;
    for (action, s) in &r.actions {
        println!("{}", row(action.label(), &s.ok, &s.errors_text()));
        if matches!(action, Action::SearchStudio | Action::SearchPartner) {
            search_all = merge(&search_all, &s.ok);
            search_errors += s.error_count();
        }
        json_rows.push(serde_json::json!({
            "action": action.label().trim(),
            "ok": s.ok.count(),
            "p50_ms": s.ok.quantile_ms(0.5),
            "p95_ms": s.ok.quantile_ms(0.95),
            "p99_ms": s.ok.quantile_ms(0.99),
            "max_ms": s.ok.max_ms(),
            "errors": s.errors,
        }));
    }
    if search_all.count() > 0 {
        println!(
            "{}",
            row("search, all users", &search_all, &search_errors.to_string())
        );
    }
    let missing = d.expected.saturating_sub(d.received);
    println!(
        "{}",
        row(
            "post → SSE delivery (every reader's stream)",
            &d.latency,
            &format!(
                "{missing} of {} expected deliveries missing, {} reloads, {} streams lost, {} unmatched",
                d.expected, d.reloads, d.streams_lost, d.unmatched
            )
        )
    );
    let posts_ok = r
        .actions
        .get(&Action::Post)
        .map(|s| s.ok.count())
        .unwrap_or(0);
    let post_rate = posts_ok as f64 / args.duration.max(1) as f64;
    println!();
    if !r.sequential {
        println!(
            "posts: {post_rate:.1}/s succeeded (scheduled in the window), {:.1}/s completed inside it",
            r.posts_completed_per_s
        );
    }
    if let Some(c) = r.server_cpu {
        println!(
            "server: {:.0} % CPU (of 200 %), {:.0} MiB RSS at the end",
            c * 100.0,
            r.server_rss_mib.unwrap_or(0.0)
        );
    }
    if let Some(c) = r.client_cpu {
        println!("loadgen: {:.0} % CPU", c * 100.0);
    }

    // The targets.
    let p = |a: Action, q: f64| r.actions.get(&a).map(|s| s.ok.quantile_ms(q));
    println!();
    println!("targets:");
    if let Some(v) = p(Action::Post, 0.99) {
        println!("{}", verdict("post p99", v, 20.0, true, "ms"));
    }
    if let Some(v) = p(Action::View, 0.99) {
        println!("{}", verdict("channel view p99", v, 20.0, true, "ms"));
    }
    if let Some(v) = p(Action::MyProjects200, 0.99) {
        println!(
            "{}",
            verdict("My Projects (200 followed) p99", v, 20.0, true, "ms")
        );
    }
    if search_all.count() > 0 {
        println!(
            "{}",
            verdict("search p95", search_all.quantile_ms(0.95), 50.0, true, "ms")
        );
    }
    if d.latency.count() > 0 {
        println!(
            "{}",
            verdict(
                &format!("post→SSE p99 with {} streams", r.open_streams),
                d.latency.quantile_ms(0.99),
                100.0,
                true,
                "ms"
            )
        );
    }
    if !r.sequential {
        println!(
            "{}",
            verdict(
                "sustained posts",
                r.posts_completed_per_s,
                65.0,
                false,
                "posts/s"
            )
        );
    }

    serde_json::json!({
        "sequential": r.sequential,
        "offered_posts_per_s": r.rate,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "open_streams": r.open_streams,
        "actions": json_rows,
        "search_all": {"ok": search_all.count(), "p50_ms": search_all.quantile_ms(0.5), "p95_ms": search_all.quantile_ms(0.95), "p99_ms": search_all.quantile_ms(0.99)},
        "sse": {
            "deliveries": d.latency.count(),
            "p50_ms": d.latency.quantile_ms(0.5),
            "p95_ms": d.latency.quantile_ms(0.95),
            "p99_ms": d.latency.quantile_ms(0.99),
            "max_ms": d.latency.max_ms(),
            "messages": d.messages,
            "expected": d.expected,
            "received": d.received,
            "reloads": d.reloads,
            "streams_lost": d.streams_lost,
            "unmatched": d.unmatched,
        },
        "posts_succeeded_per_s": post_rate,
        "posts_completed_per_s": r.posts_completed_per_s,
        "server_cpu": r.server_cpu,
        "server_rss_mib": r.server_rss_mib,
        "client_cpu": r.client_cpu,
    })
}

/// Adds two histograms (for the combined search row).
fn merge(a: &Histogram, b: &Histogram) -> Histogram {
    let mut out = a.clone();
    out.add(b);
    out
}

pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let path = if args.manifest.is_dir() {
        args.manifest.join(manifest::FILE_NAME)
    } else {
        args.manifest.clone()
    };
    let m = Manifest::load(&path)?;
    let mut rng = StdRng::seed_from_u64(args.seed);
    let tokens = m.users.iter().map(|u| u.token.clone()).collect();
    let groups = m.groups.len();
    println!(
        "{}: {} users, {} projects, {} channels; driving {}",
        m.database,
        m.users.len(),
        m.projects.len(),
        m.channels.len(),
        args.url
    );
    let world = Arc::new(World::new(m, &args, &mut rng)?);
    let client = reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(10))
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
        .context("building the HTTP client")?;
    let base = args.url.trim_end_matches('/').to_string();
    // Fail early and clearly if the portal is not there.
    let probe = client
        .get(format!("{base}/api/v1/me"))
        .header(
            "authorization",
            format!(
                "Bearer {}",
                world.m.users[world.m.bench_user as usize].token
            ),
        )
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .with_context(|| format!("no portal answers at {base}"))?;
    if !probe.status().is_success() {
        bail!(
            "{base}/api/v1/me answered {} with the benchmark user's token: is this the seeded database?",
            probe.status()
        );
    }
    let now = Instant::now();
    let shared = Arc::new(Shared {
        client,
        base,
        tokens,
        stats: Mutex::new(BTreeMap::new()),
        deliveries: Deliveries::default(),
        connected: (0..groups).map(|_| AtomicU32::new(0)).collect(),
        recent: Mutex::new(VecDeque::new()),
        posts_completed: AtomicU64::new(0),
        window: Mutex::new((now, now)),
    });
    if args.sse > 0 {
        open_streams(&shared, &world, args.sse, args.connect_concurrency).await;
    }
    if args.sequential.is_none() {
        println!(
            "mix per post: {} views, {} unread checks, {} searches, {:.0} % with a mention; plus {} My Projects/s (200 followed) and {} extra searches/s",
            args.views_per_post,
            args.unread_per_post,
            args.searches_per_post,
            args.mention_share * 100.0,
            args.my_projects_rate,
            args.extra_search_rate
        );
    }
    let mut phases = Vec::new();
    if let Some(n) = args.sequential {
        let report = run_sequential(&shared, &world, &args, n, &mut rng).await;
        phases.push(print_phase(&report, &args));
    } else {
        for &rate in &args.rate {
            let report = run_phase(&shared, &world, &args, rate, &mut rng).await?;
            phases.push(print_phase(&report, &args));
        }
    }
    if let Some(path) = &args.json {
        let doc = serde_json::json!({
            "database": world.m.database,
            "url": args.url,
            "active_users": args.active,
            "sse_requested": args.sse,
            "views_per_post": args.views_per_post,
            "unread_per_post": args.unread_per_post,
            "searches_per_post": args.searches_per_post,
            "mention_share": args.mention_share,
            "my_projects_rate": args.my_projects_rate,
            "extra_search_rate": args.extra_search_rate,
            "phases": phases,
        });
        std::fs::write(path, serde_json::to_string_pretty(&doc)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrivals_have_the_asked_rate() {
        let mut rng = StdRng::seed_from_u64(2);
        let secs: f64 = (0..100_000)
            .map(|_| exp_gap(&mut rng, 65.0).as_secs_f64())
            .sum();
        let rate = 100_000.0 / secs;
        assert!((rate - 65.0).abs() < 1.0, "{rate}");
    }
}
