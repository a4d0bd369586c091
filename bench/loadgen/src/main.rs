//! Load generator for locportal's communication features (issue 3, performance section).
//!
//! `loadgen seed` fills an empty database (SQLite or PostgreSQL) with 1,000 projects, 5,000
//! users and 1,000,000 messages and writes a manifest next to it; `loadgen run` drives a running
//! `locportal serve` on that database through the JSON API and SSE with a Mattermost-shaped mix
//! and prints p50/p95/p99/max and errors per action. See docs/PERFORMANCE.md ("Communication")
//! for the commands and the figures measured on the reference machine. `loadgen mail` and
//! `loadgen requests` are self-contained benchmarks (issues 4 and 11) that seed a fresh database
//! and measure in one process.

mod guide;
mod mail;
mod manifest;
mod requests;
mod run;
mod seed;
mod sse;
mod stats;
mod text;
mod upload;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "loadgen",
    about = "Seed a large locportal and drive it with a chat-shaped load"
)]
struct Cli {
    /// Worker threads of the generator. One keeps it off the second core, which the portal
    /// needs on a 2-core machine; its own CPU use is printed so it can be checked.
    #[arg(long, global = true, default_value_t = 1)]
    threads: usize,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Fill an empty database and write manifest.json for `run`.
    Seed(seed::SeedArgs),
    /// Drive a running portal on a seeded database and report latencies.
    Run(run::RunArgs),
    /// E-mail benchmark: commit of a broadcast to N followers, planning and SMTP delivery.
    Mail(mail::MailArgs),
    /// Requests benchmark: the Requests page, a bulk EDD change and My Projects, over HTTP.
    Requests(requests::RequestsArgs),
    /// Upload benchmark: a 45-minute premix sent with the resumable protocol and checked as it
    /// arrives (local disk, or an S3-compatible server with --s3).
    Upload(upload::UploadArgs),
    /// Show Guide benchmark: 300 characters, 2,000 key names × 20 languages: the page, the API
    /// and version diffs.
    Guide(guide::GuideArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    testkit::install_tls();
    let runtime = if cli.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cli.threads)
            .enable_all()
            .build()?
    };
    runtime.block_on(async move {
        match cli.command {
            Command::Seed(args) => seed::seed(args).await,
            Command::Run(args) => run::run(args).await,
            Command::Mail(args) => mail::mail(args).await,
            Command::Requests(args) => requests::requests(args).await,
            Command::Upload(args) => upload::upload(args).await,
            Command::Guide(args) => guide::guide(args).await,
        }
    })
}
