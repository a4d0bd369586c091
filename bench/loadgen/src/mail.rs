//! `loadgen mail`: the e-mail benchmark of issue 4. A project with N followers (default 5,000,
//! all able to read Broadcast) gets broadcasts; the benchmark measures
//! 1. the time to commit one broadcast with its N outbox rows (begin → post → commit);
//! 2. planning: due notifications turned into rendered outbox e-mails, per second;
//! 3. delivery to an SMTP server on loopback (`smtp-sink`, in this process), per second, with
//!    the process's resident memory sampled throughout, to show it does not grow with N.

use crate::stats::Histogram;
use anyhow::Context;
use app::App;
use app::mail::{MailConfig, SmtpMailer, SmtpSecurity, SmtpSettings};
use clap::Args;
use domain::{
    Assignment, ChannelKind, Email, LanguageTag, MovieId, Name, OrgId, OrgKind, Organisation,
    Project, ProjectId, ProjectKind, Roles, Service, UserId,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use store::{Store, UserRecord};

#[derive(Args, Debug)]
pub struct MailArgs {
    /// `sqlite://PATH` (a fresh file is best) or `postgres://…` (an empty database).
    #[arg(long, default_value = "sqlite:///tmp/locportal-mailbench/mail.db")]
    database_url: String,
    /// Followers of the project, each e-mailed about every broadcast.
    #[arg(long, default_value_t = 5000)]
    followers: usize,
    /// Broadcasts whose commit is timed.
    #[arg(long, default_value_t = 20)]
    posts: usize,
    /// E-mails handed to the SMTP server at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
}

fn rss_mib() -> f64 {
    crate::run::process_usage("self").map_or(0.0, |(_, rss)| rss)
}

/// Opens the database, starting from a fresh file on SQLite.
async fn open(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(path) = url.strip_prefix("sqlite://") {
        if let Some(dir) = std::path::Path::new(path).parent() {
            std::fs::create_dir_all(dir)?;
        }
        let _ = std::fs::remove_file(path);
    }
    crate::seed::open_store(url).await
}

/// A studio, one partner assigned to es-ES, one project, and `n` partner users following it.
async fn seed(store: &dyn Store, n: usize) -> anyhow::Result<ProjectId> {
    let now = time::OffsetDateTime::now_utc();
    let mut tx = store.begin().await?;
    let studio = Organisation {
        id: OrgId::new(),
        name: Name::parse("Studio")?,
        kind: OrgKind::Studio,
    };
    let partner = Organisation {
        id: OrgId::new(),
        name: Name::parse("Partner")?,
        kind: OrgKind::Partner,
    };
    tx.insert_org(&studio).await?;
    tx.insert_org(&partner).await?;
    let es = LanguageTag::parse("es-ES")?;
    let project = Project {
        id: ProjectId::new(),
        movie_id: MovieId::new(89_000_001)?,
        name: Name::parse("Mail Bench")?,
        kind: ProjectKind::Film,
        original_language: LanguageTag::parse("en")?,
        target_languages: vec![es.clone()],
        seasons: vec![],
        assignments: vec![Assignment {
            language: es.clone(),
            service: Service::Dubbing,
            org_id: partner.id,
        }],
    };
    tx.insert_project(&project, now).await?;
    tx.ensure_channels(
        project.id,
        &[ChannelKind::Broadcast, ChannelKind::Vendor(es, partner.id)],
    )
    .await?;
    for i in 0..n {
        let user = UserRecord {
            id: UserId::new(),
            org_id: partner.id,
            email: Email::parse(&format!("follower{i}@partner.test"))?,
            display_name: Name::parse(&format!("Follower {i}"))?,
            roles: Roles::of(&[domain::Role::PortalUser]),
            password_hash: None,
            disabled: false,
            created_at: now,
            prefs: Default::default(),
        };
        tx.insert_user(&user).await?;
        tx.follow(user.id, project.id, now).await?;
    }
    tx.commit().await?;
    Ok(project.id)
}

pub async fn mail(args: MailArgs) -> anyhow::Result<()> {
    let store = open(&args.database_url)
        .await
        .context("opening the database")?;
    store.migrate().await?;
    let seeded = Instant::now();
    let project = seed(&*store, args.followers).await?;
    println!(
        "seeded {} followers in {:.1} s ({})",
        args.followers,
        seeded.elapsed().as_secs_f64(),
        store.backend().as_str()
    );

    let sink = smtp_sink::SmtpSink::start().await?;
    let mut mail = MailConfig::new("http://bench.test");
    mail.coalesce = time::Duration::ZERO;
    mail.concurrency = args.concurrency;
    let mailer = SmtpMailer::new(&SmtpSettings {
        host: "127.0.0.1".into(),
        port: sink.port(),
        security: SmtpSecurity::None,
        credentials: None,
        timeout: Duration::from_secs(30),
        max_connections: u32::try_from(args.concurrency).unwrap_or(8),
    })
    .map_err(|e| anyhow::anyhow!(e))?;
    let app = App::new(store.clone())
        .with_config(app::AppConfig {
            mail,
            ..app::AppConfig::default()
        })
        .with_mailer(Arc::new(mailer));
    let (channel, assignments) = {
        let mut tx = store.read().await?;
        let channel = tx
            .list_channels(project)
            .await?
            .into_iter()
            .find(|c| c.kind == ChannelKind::Broadcast)
            .context("no Broadcast channel")?;
        let assignments = tx.project_assignments(project).await?.unwrap_or_default();
        (channel, assignments)
    };

    // The one read a broadcast's outbox needs (the facts about every follower), on its own.
    {
        let mut tx = store.begin().await?;
        let t = Instant::now();
        let facts = tx.recipient_facts(project, &[]).await?;
        println!(
            "reading the facts of {} followers: {:.1} ms",
            facts.len(),
            t.elapsed().as_secs_f64() * 1e3
        );
    }

    // 1. Commit of a broadcast with its outbox rows. Each post's notifications are planned and
    //    delivered before the next, so every commit starts from the same outbox size.
    let mut commit = Histogram::default();
    let mut plan_time = Duration::ZERO;
    let mut send_time = Duration::ZERO;
    let mut planned = 0usize;
    let mut sent = 0usize;
    let rss_before = rss_mib();
    let peak = Arc::new(AtomicU64::new(0));
    let sampling = {
        let peak = peak.clone();
        let sink_clear = Arc::new(sink);
        let s = sink_clear.clone();
        let handle = tokio::spawn(async move {
            loop {
                let now = (rss_mib() * 1024.0) as u64;
                peak.fetch_max(now, Ordering::Relaxed);
                // The sink keeps what it accepts; empty it so the figure is the portal's.
                s.clear();
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        (handle, sink_clear)
    };
    for i in 0..args.posts {
        let started = Instant::now();
        let mut tx = store.begin().await?;
        app.post_as_robot(
            &mut tx,
            &channel,
            &assignments,
            &format!("Broadcast {i}: the final mix of reel {i} is available."),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        tx.commit().await?;
        let committed = started.elapsed();
        commit.record(committed);

        let t = Instant::now();
        planned += app
            .plan_due_emails()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        plan_time += t.elapsed();
        let t = Instant::now();
        let report = app
            .deliver_due_emails()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        send_time += t.elapsed();
        sent += report.sent;
        if report.failed > 0 {
            anyhow::bail!("{} e-mails were refused", report.failed);
        }
        println!(
            "post {i}: commit {:.1} ms, planned {planned}, sent {sent}, RSS {:.0} MiB",
            committed.as_secs_f64() * 1000.0,
            rss_mib()
        );
    }
    sampling.0.abort();
    let counts = store.read().await?.email_counts().await?;
    println!();
    println!(
        "followers {} · posts {} · backend {}",
        args.followers,
        args.posts,
        store.backend().as_str()
    );
    println!(
        "commit of one broadcast with its {} outbox rows: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        args.followers,
        commit.quantile_ms(0.5),
        commit.quantile_ms(0.95),
        commit.max_ms()
    );
    println!(
        "planning: {planned} e-mails in {:.2} s = {:.0} e-mails/s",
        plan_time.as_secs_f64(),
        planned as f64 / plan_time.as_secs_f64().max(1e-9)
    );
    println!(
        "delivery over SMTP ({} at once): {sent} e-mails in {:.2} s = {:.0} e-mails/s",
        args.concurrency,
        send_time.as_secs_f64(),
        sent as f64 / send_time.as_secs_f64().max(1e-9)
    );
    println!(
        "end to end (plan + deliver): {:.0} e-mails/s",
        sent as f64 / (plan_time + send_time).as_secs_f64().max(1e-9)
    );
    println!(
        "outbox: {} sent, {} pending, {} failed",
        counts.sent, counts.pending, counts.failed
    );
    println!(
        "resident memory: {:.0} MiB before the posts, peak {:.0} MiB while posting, planning and sending",
        rss_before,
        peak.load(Ordering::Relaxed) as f64 / 1024.0
    );
    Ok(())
}
