//! The `locportal` binary: the server, the operator's command line, and the deliverable checker.
//!
//! Configuration is flags ⇄ `LOCPORTAL_*` environment variables; with none at all, `serve` runs
//! a working single-node portal on SQLite under `./data`.

mod admin_cli;
mod check_wav;
mod config;

use anyhow::Context;
use clap::{Parser, Subcommand};
use config::{DatabaseArgs, ServeArgs};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "locportal",
    version,
    about = "Content Localization Portal",
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the portal (applies pending migrations first).
    Serve(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate(DatabaseArgs),
    /// Add the demo organisations, accounts and titles (idempotent) and print the accounts.
    Demo(config::DemoArgs),
    /// Manage organisations.
    Org {
        #[command(subcommand)]
        command: admin_cli::OrgCommand,
    },
    /// Manage users, passwords and roles.
    User {
        #[command(subcommand)]
        command: admin_cli::UserCommand,
    },
    /// See and retry outgoing e-mail (the outbox).
    Mail {
        #[command(subcommand)]
        command: admin_cli::MailCommand,
    },
    /// Script requests: export a title's requests.
    Requests {
        #[command(subcommand)]
        command: admin_cli::RequestsCommand,
    },
    /// Ask a running portal whether it and its database are healthy (exit 0 if so).
    Healthcheck(config::HealthcheckArgs),
    /// Print the OpenAPI description of the JSON API.
    Openapi,
    /// Check deliverables from the command line.
    Check {
        #[command(subcommand)]
        what: CheckCommand,
    },
}

#[derive(Subcommand, Debug)]
enum CheckCommand {
    /// Check WAV/BWF/RF64 files against a delivery profile.
    Wav(check_wav::CheckWavArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Check {
        what: CheckCommand::Wav(args),
    } = &cli.command
    {
        return check_wav::run(args);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("locportal: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("locportal: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Serve(args) => config::serve(args).await,
        Command::Migrate(db) => {
            config::init_tracing("warn");
            let store = db.open().await?;
            store.migrate().await.context("applying migrations")?;
            let applied = store.applied_migrations().await?;
            println!(
                "{} database is up to date: {} migrations applied (latest {}).",
                store.backend().as_str(),
                applied.len(),
                applied.last().copied().unwrap_or_default()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(args) => {
            config::init_tracing("warn");
            let app = args
                .db
                .open_app()
                .await?
                .with_files(args.files.store().await?);
            let accounts = app.seed_demo().await.map_err(admin_cli::describe)?;
            config::print_demo_accounts(&accounts);
            Ok(ExitCode::SUCCESS)
        }
        Command::Org { command } => admin_cli::org(command).await,
        Command::User { command } => admin_cli::user(command).await,
        Command::Mail { command } => admin_cli::mail(command).await,
        Command::Requests { command } => admin_cli::requests(command).await,
        Command::Healthcheck(args) => config::healthcheck(args).await,
        Command::Openapi => {
            println!("{}", serde_json::to_string_pretty(&web::openapi())?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Check { .. } => Ok(ExitCode::from(2)),
    }
}
