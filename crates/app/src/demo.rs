//! Demo data: a studio, three partners, their people and three titles. Running it again adds
//! nothing that is already there (each item is looked up by its unique name, e-mail or movie ID).

use crate::admin::NewUserInput;
use crate::projects::{AssignmentInput, EpisodeInput, ProjectInput, SeasonInput};
use crate::{App, AppResult};
use domain::{Actor, Email, MovieId, OrgKind, Organisation};

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "locportal-demo";

/// One demo account, for printing.
#[derive(Clone, Debug)]
pub struct DemoAccount {
    pub email: &'static str,
    pub organisation: &'static str,
    pub what: &'static str,
}

pub const STUDIO: &str = "Northlight Pictures";
pub const PARTNER_A: &str = "Iberia Voices";
pub const PARTNER_B: &str = "Voz do Brasil Estúdios";
pub const PARTNER_C: &str = "Kaze Dubbing Tokyo";

pub const ACCOUNTS: [(&str, &str, &str, &str, &str); 7] = [
    // email, display name, organisation, roles, what
    (
        "admin@northlight.test",
        "Alex Admin",
        STUDIO,
        "portal_user,admin",
        "studio admin",
    ),
    (
        "pm@northlight.test",
        "Paula Moreno",
        STUDIO,
        "portal_user,manager",
        "studio localization PM",
    ),
    (
        "qc@northlight.test",
        "Quentin Chu",
        STUDIO,
        "portal_user",
        "studio QC reviewer",
    ),
    (
        "marta@iberiavoices.test",
        "Marta Ruiz",
        PARTNER_A,
        "portal_user",
        "partner A (es-ES) vendor PM",
    ),
    (
        "joao@vozdobrasil.test",
        "João Silva",
        PARTNER_B,
        "portal_user",
        "partner B (pt-BR) vendor PM",
    ),
    (
        "haruka@kazedubbing.test",
        "Haruka Sato",
        PARTNER_C,
        "portal_user",
        "partner C (ja) vendor PM",
    ),
    (
        "lucia@iberiavoices.test",
        "Lucía Gómez",
        PARTNER_A,
        "author",
        "linguist (author only: no portal access)",
    ),
];

impl App {
    /// A few messages so the demo shows channels and unread badges: the PM welcomes everyone in
    /// Broadcast and each partner in its language's channel; partner A answers on the film.
    async fn seed_conversations(&self, project: &domain::Project) -> AppResult<()> {
        let mut tx = self.store.begin().await?;
        let user = |email: &str| Email::parse(email).ok();
        let (Some(pm_email), Some(marta_email)) =
            (user("pm@northlight.test"), user("marta@iberiavoices.test"))
        else {
            return Ok(());
        };
        let (Some(pm), Some(marta)) = (
            tx.find_user_by_email(&pm_email).await?,
            tx.find_user_by_email(&marta_email).await?,
        ) else {
            return Ok(());
        };
        let now = self.now();
        for channel in tx.list_channels(project.id).await? {
            let body = match &channel.kind {
                domain::ChannelKind::Broadcast => format!(
                    "Welcome to {}. Final scripts and the reference video are ready; please confirm your schedules in your language channel.",
                    project.name
                ),
                domain::ChannelKind::Vendor(l, _) => format!(
                    "Hi team, this is your channel for {} ({l}). Please send casting suggestions for the lead roles by Friday.",
                    l.display_name()
                ),
                domain::ChannelKind::Internal => continue,
            };
            let m = tx
                .insert_message(
                    domain::MessageId::new(),
                    channel.id,
                    Some(pm.user.id),
                    &body,
                    now,
                )
                .await?;
            tx.mark_read(pm.user.id, channel.id, m.seq).await?;
            if project.movie_id.get() == 81_000_001
                && channel
                    .kind
                    .language()
                    .is_some_and(|l| l.as_str() == "es-ES")
            {
                let reply = tx
                    .insert_message(
                        domain::MessageId::new(),
                        channel.id,
                        Some(marta.user.id),
                        "Thanks! We will send three options per lead role. Could you share the pronunciation of \"Aldous\"?",
                        now,
                    )
                    .await?;
                tx.mark_read(marta.user.id, channel.id, reply.seq).await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Seeds the demo data and returns the sign-in accounts.
    pub async fn seed_demo(&self) -> AppResult<Vec<DemoAccount>> {
        let op = Actor::Operator;
        let mut orgs: Vec<Organisation> = self.list_orgs(op).await?;
        for (name, kind) in [
            (STUDIO, "studio"),
            (PARTNER_A, "partner"),
            (PARTNER_B, "partner"),
            (PARTNER_C, "partner"),
        ] {
            if !orgs
                .iter()
                .any(|o| o.name.as_str().eq_ignore_ascii_case(name))
            {
                if kind == "studio" && orgs.iter().any(|o| o.kind == OrgKind::Studio) {
                    continue;
                }
                orgs.push(self.create_org(op, name, kind).await?);
            }
        }
        let org_id = |name: &str| orgs.iter().find(|o| o.name.as_str() == name).map(|o| o.id);

        let mut accounts = Vec::new();
        for (email, display_name, org, roles, what) in ACCOUNTS {
            let exists = {
                let mut tx = self.store.read().await?;
                match Email::parse(email) {
                    Ok(e) => tx.find_user_by_email(&e).await?.is_some(),
                    Err(_) => true,
                }
            };
            if !exists {
                self.create_user(
                    op,
                    &NewUserInput {
                        org: org.to_string(),
                        email: email.to_string(),
                        display_name: display_name.to_string(),
                        roles: roles.to_string(),
                        password: Some(DEMO_PASSWORD.to_string()),
                    },
                )
                .await?;
            }
            accounts.push(DemoAccount {
                email,
                organisation: org,
                what,
            });
        }

        let (Some(a), Some(b), Some(c)) = (org_id(PARTNER_A), org_id(PARTNER_B), org_id(PARTNER_C))
        else {
            return Ok(accounts);
        };
        let assign = |language: &str, service: &str, org_id| AssignmentInput {
            language: language.to_string(),
            service: service.to_string(),
            org_id,
        };
        let titles = [
            ProjectInput {
                movie_id: "81000001".into(),
                name: "The Lighthouse Keeper".into(),
                kind: "film".into(),
                original_language: "en".into(),
                target_languages: vec!["es-ES".into(), "pt-BR".into(), "ja".into()],
                seasons: vec![],
                assignments: vec![
                    assign("es-ES", "dubbing", a),
                    assign("es-ES", "subtitles", a),
                    assign("pt-BR", "dubbing", b),
                    assign("ja", "dubbing", c),
                ],
            },
            ProjectInput {
                movie_id: "81000100".into(),
                name: "Harbour Lights".into(),
                kind: "series".into(),
                original_language: "en".into(),
                target_languages: vec!["es-ES".into(), "pt-BR".into(), "ca-ES".into()],
                seasons: vec![SeasonInput {
                    number: 1,
                    episodes: (1..=3)
                        .map(|n| EpisodeInput {
                            number: n,
                            movie_id: format!("8100010{n}"),
                            name: None,
                        })
                        .collect(),
                }],
                assignments: vec![
                    assign("es-ES", "dubbing", a),
                    assign("pt-BR", "subtitles", b),
                    assign("ca-ES", "subtitles", a),
                ],
            },
            ProjectInput {
                movie_id: "81000200".into(),
                name: "Northern Frontier".into(),
                kind: "film".into(),
                original_language: "en".into(),
                target_languages: vec!["ja".into()],
                seasons: vec![],
                assignments: vec![assign("ja", "dubbing", c)],
            },
        ];
        for t in &titles {
            let exists = match MovieId::parse(&t.movie_id) {
                Ok(m) => self
                    .store
                    .read()
                    .await?
                    .project_id_by_movie_id(m)
                    .await?
                    .is_some(),
                Err(_) => true,
            };
            if !exists {
                let project = self.create_project(op, t).await?;
                let mut tx = self.store.begin().await?;
                for follower in [
                    "pm@northlight.test",
                    "marta@iberiavoices.test",
                    "joao@vozdobrasil.test",
                    "haruka@kazedubbing.test",
                ] {
                    let Ok(e) = Email::parse(follower) else {
                        continue;
                    };
                    let Some(u) = tx.find_user_by_email(&e).await? else {
                        continue;
                    };
                    let visible = u.org.kind == OrgKind::Studio
                        || project.assignments.iter().any(|x| x.org_id == u.org.id);
                    if visible {
                        tx.follow(u.user.id, project.id, self.now()).await?;
                    }
                }
                tx.commit().await?;
                self.seed_conversations(&project).await?;
            }
        }
        Ok(accounts)
    }
}
