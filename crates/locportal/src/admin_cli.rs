//! `locportal org …` and `locportal user …`: the operator's administration commands. They act
//! as the operator (who holds the database) through the same use cases as the admin pages.

use crate::config::DatabaseArgs;
use anyhow::anyhow;
use app::AppError;
use app::admin::{NewUserInput, UserUpdate};
use clap::{Args, Subcommand};
use domain::{Actor, Role, Roles};
use std::io::BufRead;
use std::process::ExitCode;

/// Turns a use-case error into a message for the terminal.
pub fn describe(e: AppError) -> anyhow::Error {
    match e {
        AppError::Invalid(fields) | AppError::Conflict(fields) => anyhow!(
            "{}",
            fields
                .0
                .iter()
                .map(|(f, m)| if f.is_empty() {
                    m.clone()
                } else {
                    format!("{f}: {m}")
                })
                .collect::<Vec<_>>()
                .join("\n")
        ),
        other => anyhow!("{other}"),
    }
}

#[derive(Subcommand, Debug)]
pub enum OrgCommand {
    /// Add an organisation.
    Add {
        /// Its name, e.g. "Iberia Voices".
        name: String,
        /// `partner` (a vendor) or `studio` (the content owner; there is exactly one).
        #[arg(long, default_value = "partner")]
        kind: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// List organisations.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

#[derive(Args, Debug)]
pub struct PasswordSource {
    /// Read the password from the first line of standard input (keeps it out of shell history).
    #[arg(long, conflicts_with = "password")]
    password_stdin: bool,
    /// The password (visible to other local users in the process list; prefer --password-stdin).
    #[arg(long)]
    password: Option<String>,
}

impl PasswordSource {
    fn read(&self) -> anyhow::Result<Option<String>> {
        if self.password_stdin {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            let p = line.trim_end_matches(['\r', '\n']).to_string();
            return Ok(Some(p));
        }
        Ok(self.password.clone())
    }
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a user.
    Add {
        /// E-mail address (also the sign-in name).
        email: String,
        /// Display name, e.g. "Marta Ruiz".
        #[arg(long)]
        name: String,
        /// The organisation's name or id.
        #[arg(long)]
        org: String,
        /// Comma-separated roles: portal_user, manager, admin, author, proofreader.
        #[arg(long, default_value = "portal_user")]
        roles: String,
        #[command(flatten)]
        password: PasswordSource,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Set a user's password (signs them out everywhere).
    SetPassword {
        email: String,
        #[command(flatten)]
        password: PasswordSource,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Show a user's roles, or change them with --set, --add or --remove.
    Roles {
        email: String,
        /// Replace all roles with this comma-separated list.
        #[arg(long, conflicts_with_all = ["add", "remove"])]
        set: Option<String>,
        /// Roles to add (comma-separated).
        #[arg(long)]
        add: Option<String>,
        /// Roles to remove (comma-separated).
        #[arg(long)]
        remove: Option<String>,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// List users.
    List {
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

pub async fn org(command: OrgCommand) -> anyhow::Result<ExitCode> {
    crate::config::init_tracing("warn");
    match command {
        OrgCommand::Add { name, kind, db } => {
            let app = db.open_app().await?;
            let org = app
                .create_org(Actor::Operator, &name, &kind)
                .await
                .map_err(describe)?;
            println!("Added {} organisation {} ({}).", org.kind, org.name, org.id);
        }
        OrgCommand::List { db } => {
            let app = db.open_app().await?;
            for o in app.list_orgs(Actor::Operator).await.map_err(describe)? {
                println!("{}  {:<8} {}", o.id, o.kind, o.name);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn user(command: UserCommand) -> anyhow::Result<ExitCode> {
    crate::config::init_tracing("warn");
    match command {
        UserCommand::Add {
            email,
            name,
            org,
            roles,
            password,
            db,
        } => {
            let app = db.open_app().await?;
            let input = NewUserInput {
                org,
                email,
                display_name: name,
                roles,
                password: password.read()?,
            };
            let u = app
                .create_user(Actor::Operator, &input)
                .await
                .map_err(describe)?;
            println!(
                "Added {} <{}> to {} with roles [{}]{}.",
                u.user.display_name,
                u.user.email,
                u.org.name,
                u.user.roles.to_csv(),
                if u.user.password_hash.is_some() {
                    ""
                } else {
                    "; set a password with `locportal user set-password` before they can sign in"
                }
            );
        }
        UserCommand::SetPassword {
            email,
            password,
            db,
        } => {
            let app = db.open_app().await?;
            let Some(p) = password.read()? else {
                return Err(anyhow!(
                    "give the new password with --password-stdin (or --password)"
                ));
            };
            let u = app
                .user_by_email(Actor::Operator, &email)
                .await
                .map_err(describe)?;
            app.set_user_password(Actor::Operator, u.user.id, &p)
                .await
                .map_err(describe)?;
            println!(
                "Password set for {}; their sessions were signed out.",
                u.user.email
            );
        }
        UserCommand::Roles {
            email,
            set,
            add,
            remove,
            db,
        } => {
            let app = db.open_app().await?;
            let u = app
                .user_by_email(Actor::Operator, &email)
                .await
                .map_err(describe)?;
            let mut roles = u.user.roles;
            if let Some(s) = set {
                roles = Roles::parse_csv(&s).map_err(|e| anyhow!("{e}"))?;
            }
            if let Some(a) = add {
                for r in Roles::parse_csv(&a).map_err(|e| anyhow!("{e}"))?.iter() {
                    roles = roles.with(r);
                }
            }
            if let Some(r) = remove {
                let gone = Roles::parse_csv(&r).map_err(|e| anyhow!("{e}"))?;
                let kept: Vec<Role> = roles.iter().filter(|x| !gone.contains(*x)).collect();
                roles = Roles::of(&kept);
            }
            if roles != u.user.roles {
                let change = UserUpdate {
                    roles: Some(roles.to_csv()),
                    ..Default::default()
                };
                app.update_user(Actor::Operator, u.user.id, &change)
                    .await
                    .map_err(describe)?;
            }
            println!("{}: [{}]", u.user.email, roles.to_csv());
        }
        UserCommand::List { db } => {
            let app = db.open_app().await?;
            for u in app.list_users(Actor::Operator).await.map_err(describe)? {
                println!(
                    "{:<32} {:<24} {:<26} [{}]{}",
                    u.user.email,
                    u.user.display_name,
                    u.org.name,
                    u.user.roles.to_csv(),
                    if u.user.disabled { " (disabled)" } else { "" }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(clap::Subcommand, Debug)]
pub enum MailCommand {
    /// List the outbox, newest first: state, attempts, recipient, subject, last error.
    List {
        /// Only e-mails in this state: pending, sent or failed.
        #[arg(long)]
        state: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[command(flatten)]
        db: DatabaseArgs,
    },
    /// Put a failed e-mail back in the queue (a running portal sends it within seconds).
    Retry {
        /// The e-mail's id (from `mail list` or the admin page "Outgoing mail").
        id: String,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

pub async fn mail(command: MailCommand) -> anyhow::Result<ExitCode> {
    crate::config::init_tracing("warn");
    match command {
        MailCommand::List { state, limit, db } => {
            let filter = match state.as_deref() {
                None => None,
                Some(s) => Some(store::EmailState::parse(s).ok_or_else(|| {
                    anyhow::anyhow!("--state must be pending, sent or failed (not {s:?})")
                })?),
            };
            let app = db.open_app().await?;
            let outbox = app
                .outbox(Actor::Operator, filter, None, limit)
                .await
                .map_err(describe)?;
            println!(
                "{} pending, {} sent, {} failed. {}.",
                outbox.counts.pending, outbox.counts.sent, outbox.counts.failed, outbox.transport
            );
            for e in &outbox.emails {
                println!(
                    "{}  {:<7} {:>2} attempt(s)  {:<32} {}",
                    e.id,
                    e.state.as_str(),
                    e.attempts,
                    e.to_address,
                    e.subject
                );
                if let Some(err) = &e.last_error {
                    println!("    last error: {err}");
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        MailCommand::Retry { id, db } => {
            let id: domain::EmailId = id.parse().map_err(|_| {
                anyhow::anyhow!("{id:?} is not an e-mail id; copy one from `locportal mail list`")
            })?;
            let app = db.open_app().await?;
            app.retry_outgoing_mail(Actor::Operator, id)
                .await
                .map_err(describe)?;
            println!("E-mail {id} is queued again.");
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum RequestsCommand {
    /// Print a title's requests as CSV (every request; the columns of the Requests page).
    Export {
        /// The title: its movie ID (or an episode's) or its project id.
        project: String,
        /// CSV output (the only format so far; accepted so scripts can say what they expect).
        #[arg(long)]
        csv: bool,
        #[command(flatten)]
        db: DatabaseArgs,
    },
}

pub async fn requests(command: RequestsCommand) -> anyhow::Result<ExitCode> {
    crate::config::init_tracing("warn");
    match command {
        RequestsCommand::Export {
            project,
            csv: _,
            db,
        } => {
            let app = db.open_app().await?;
            let id = app.resolve_project(&project).await.map_err(describe)?;
            let out = app
                .requests_csv(
                    Actor::Operator,
                    None,
                    id,
                    &app::requests::RequestFilter::default(),
                )
                .await
                .map_err(describe)?;
            print!("{out}");
            Ok(ExitCode::SUCCESS)
        }
    }
}
