//! Demo data: a studio, three partners, their people and three titles. Running it again adds
//! nothing that is already there (each item is looked up by its unique name, e-mail or movie ID).

use crate::AppError;
use crate::admin::NewUserInput;
use crate::auth::{Authenticated, Credential};
use crate::files::Staged;
use crate::projects::{AssignmentInput, EpisodeInput, ProjectInput, SeasonInput};
use crate::requests::NewRequestsInput;
use crate::{App, AppResult};
use domain::attachments::{Accept, AttachmentName};
use domain::requests::{Step, Transition};
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
/// The series whose requests show every state of the workflow.
pub const FERRY_TO_JEJU: &str = "81000300";

pub const ACCOUNTS: [(&str, &str, &str, &str, &str); 10] = [
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
    (
        "pablo@iberiavoices.test",
        "Pablo Ortega",
        PARTNER_A,
        "proofreader",
        "linguist (proofreader: no portal access)",
    ),
    (
        "dario@iberiavoices.test",
        "Darío Vega",
        PARTNER_A,
        "",
        "dub director (script viewer of Ferry to Jeju)",
    ),
    (
        "bruna@vozdobrasil.test",
        "Bruna Costa",
        PARTNER_B,
        "author,proofreader",
        "partner B linguist (no portal access)",
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

    /// A demo person acting through the use cases (as if signed in).
    pub(crate) async fn demo_person(&self, email: &str) -> AppResult<Option<Authenticated>> {
        let Ok(e) = Email::parse(email) else {
            return Ok(None);
        };
        let mut tx = self.store.read().await?;
        Ok(tx.find_user_by_email(&e).await?.map(|u| Authenticated {
            subject: crate::auth::subject_of(&u),
            user: u.user,
            org: u.org,
            via: Credential::Session {
                token_hash: String::new(),
                csrf_token: String::new(),
            },
        }))
    }

    /// A small text file of script work, received through the upload path.
    async fn demo_file(&self, name: &str, text: &str) -> AppResult<Staged> {
        let fail = |e: String| AppError::Internal(format!("demo file {name}: {e}"));
        let parsed =
            AttachmentName::parse_for(name, Accept::Script).map_err(|e| fail(e.to_string()))?;
        let mut up = self
            .files
            .begin_upload_for(parsed, Accept::Script)
            .await
            .map_err(|e| fail(e.to_string()))?;
        up.write(text.as_bytes())
            .await
            .map_err(|e| fail(format!("{e:?}")))?;
        up.finish().await.map_err(|e| fail(format!("{e:?}")))
    }

    /// Requests of Ferry to Jeju in every state: done, in QC, in proofreading, authoring, returned
    /// once, blocked by work in progress, blocked by work never ordered, skipped, at risk and
    /// overdue; a script viewer on the partner's side.
    async fn seed_requests(&self, project: &domain::Project) -> AppResult<()> {
        let (
            Some(pm),
            Some(qc),
            Some(marta),
            Some(lucia),
            Some(pablo),
            Some(dario),
            Some(joao),
            Some(bruna),
        ) = (
            self.demo_person("pm@northlight.test").await?,
            self.demo_person("qc@northlight.test").await?,
            self.demo_person("marta@iberiavoices.test").await?,
            self.demo_person("lucia@iberiavoices.test").await?,
            self.demo_person("pablo@iberiavoices.test").await?,
            self.demo_person("dario@iberiavoices.test").await?,
            self.demo_person("joao@vozdobrasil.test").await?,
            self.demo_person("bruna@vozdobrasil.test").await?,
        )
        else {
            return Ok(());
        };
        let today = self.now().date();
        let day = |n: i64| (today + time::Duration::days(n)).to_string();
        let order =
            |kind: &str, languages: &[&str], episodes: &str, due: i64, instructions: &str| {
                NewRequestsInput {
                    kind: kind.into(),
                    languages: languages.iter().map(|l| l.to_string()).collect(),
                    episodes: episodes.into(),
                    due_date: day(due),
                    edd: None,
                    instructions: instructions.into(),
                }
            };
        let reference = vec![
            self.demo_file(
                "Ferry_to_Jeju_S1_style_notes.txt",
                "Ferry to Jeju, season 1: style notes\nHonorifics: keep -nim as a title, not a name.\nThe ferry is always \"the Gull\".\n",
            )
            .await?,
        ];
        let dls = self
            .create_requests(
                &pm,
                project.id,
                &order(
                    "dialogue_list",
                    &[],
                    "S1",
                    10,
                    "Transcribe to the locked cut (v3). Mark songs and on-screen text.",
                ),
                reference,
            )
            .await?;
        let pldls = self
            .create_requests(
                &pm,
                project.id,
                &order(
                    "pivot_dialogue_list",
                    &["en"],
                    "S1E1-S1E2",
                    18,
                    "English pivot; do not adapt for lip sync.",
                ),
                vec![],
            )
            .await?;
        let scripts = self
            .create_requests(
                &pm,
                project.id,
                &order(
                    "pre_recorded_dub_script",
                    &["es-ES", "pt-BR"],
                    "S1E1",
                    25,
                    "",
                ),
                vec![],
            )
            .await?;
        let skipped = self
            .create_requests(
                &pm,
                project.id,
                &order("pre_recorded_dub_script", &["es-ES"], "S1E3", 30, ""),
                vec![],
            )
            .await?;
        let ad = self
            .create_requests(
                &pm,
                project.id,
                &order(
                    "audio_description_script",
                    &["es-ES"],
                    "S1E1",
                    20,
                    "Leave at least one second before the first description.",
                ),
                vec![],
            )
            .await?;
        let as_recorded = self
            .create_requests(
                &pm,
                project.id,
                &order(
                    "as_recorded_dub_script",
                    &["es-ES", "pt-BR"],
                    "S1E2",
                    40,
                    "",
                ),
                vec![],
            )
            .await?;
        // Partner A's PM staffs the dialogue lists and the first PLDL.
        for (ids, step, who) in [
            (&dls, Step::Author, &lucia),
            (&dls, Step::Proofread, &pablo),
            (&pldls, Step::Author, &lucia),
            (&pldls, Step::Proofread, &pablo),
            (&ad, Step::Author, &lucia),
        ] {
            self.assign_step(&marta, ids, step, Some(who.user.id), None)
                .await?;
        }
        self.assign_step(&pm, &dls, Step::Qc, Some(qc.user.id), None)
            .await?;
        self.assign_step(&pm, &pldls, Step::Qc, Some(qc.user.id), None)
            .await?;
        self.assign_step(
            &joao,
            &scripts[1..],
            Step::Author,
            Some(bruna.user.id),
            None,
        )
        .await?;
        let work = |name: &str| format!("{name}\n00:00:01:00 00:00:03:12 MIN-JUN: 어서 와.\n");
        // S1E1: done. S1E2: waiting for QC. S1E3: in proofreading. S1E4: authoring, overdue.
        for (i, id) in dls.iter().enumerate() {
            if i < 3 {
                self.transition(&lucia, *id, Transition::Start(Step::Author), None, None)
                    .await?;
                let f = self
                    .demo_file(
                        &format!("Ferry_to_Jeju_S1E{}_DL_v1.txt", i + 1),
                        &work("DL"),
                    )
                    .await?;
                self.transition(&lucia, *id, Transition::Submit(Step::Author), None, Some(f))
                    .await?;
            }
            if i < 2 {
                self.transition(&pablo, *id, Transition::Start(Step::Proofread), None, None)
                    .await?;
                let f = self
                    .demo_file(
                        &format!("Ferry_to_Jeju_S1E{}_DL_proofread.txt", i + 1),
                        &work("DL proofread"),
                    )
                    .await?;
                self.transition(
                    &pablo,
                    *id,
                    Transition::Submit(Step::Proofread),
                    None,
                    Some(f),
                )
                .await?;
            }
            if i == 2 {
                self.transition(&pablo, *id, Transition::Start(Step::Proofread), None, None)
                    .await?;
            }
            if i == 0 {
                self.transition(
                    &qc,
                    *id,
                    Transition::Return(Step::Author),
                    Some("Speaker names are missing on events 12-18; please attribute them."),
                    None,
                )
                .await?;
                self.transition(&lucia, *id, Transition::Start(Step::Author), None, None)
                    .await?;
                let f = self
                    .demo_file("Ferry_to_Jeju_S1E1_DL_v2.txt", &work("DL v2"))
                    .await?;
                self.transition(&lucia, *id, Transition::Submit(Step::Author), None, Some(f))
                    .await?;
                self.transition(&pablo, *id, Transition::Start(Step::Proofread), None, None)
                    .await?;
                let f = self
                    .demo_file(
                        "Ferry_to_Jeju_S1E1_DL_proofread_v2.txt",
                        &work("DL proofread v2"),
                    )
                    .await?;
                self.transition(
                    &pablo,
                    *id,
                    Transition::Submit(Step::Proofread),
                    None,
                    Some(f),
                )
                .await?;
                self.transition(&qc, *id, Transition::Approve, None, None)
                    .await?;
            }
        }
        // The PLDL of S1E1 is being written (its DL is done); S1E2's waits for its DL.
        if let Some(first) = pldls.first() {
            self.transition(&lucia, *first, Transition::Start(Step::Author), None, None)
                .await?;
        }
        // The AD script is ready but the partner expects it late: at risk.
        self.change_edd(
            &marta,
            &ad,
            today + time::Duration::days(24),
            "Describer booked from the 20th; we deliver four days late.",
        )
        .await?;
        // The dub director reads the as-recorded scripts once approved.
        self.set_script_viewer(&marta, project.id, dario.user.id, true)
            .await?;
        // A dub script adapted straight from the Korean: the PLDL will never be ordered.
        if let Some(id) = skipped.first() {
            let mut tx = self.store.read().await?;
            let deps = tx.project_dependencies(project.id).await?;
            drop(tx);
            if let Some(d) = deps
                .iter()
                .find(|d| d.request_id == *id && d.on_request.is_none())
            {
                self.skip_dependency(
                    &pm,
                    *id,
                    d.id,
                    "Adapted directly from the Korean by a bilingual adapter; no PLDL for S1E3.",
                )
                .await?;
            }
        }
        // The last DL is overdue: due yesterday (dates in the past cannot be typed in).
        if let Some(last) = dls.last() {
            let mut tx = self.store.begin().await?;
            if let Some(mut r) = tx.get_request(*last).await? {
                r.due_date = today - time::Duration::days(1);
                r.edd = today + time::Duration::days(2);
                tx.update_request(&r).await?;
            }
            tx.commit().await?;
        }
        let _ = as_recorded;
        Ok(())
    }

    /// Seeds the demo data, with Ferry to Jeju' requests in every state, and returns the sign-in
    /// accounts.
    pub async fn seed_demo(&self) -> AppResult<Vec<DemoAccount>> {
        let accounts = self.seed_demo_base().await?;
        self.seed_demo_requests().await?;
        self.seed_demo_audio().await?;
        self.seed_demo_guide().await?;
        Ok(accounts)
    }

    /// The requests of Ferry to Jeju (once: nothing is added when it has requests already).
    pub async fn seed_demo_requests(&self) -> AppResult<()> {
        let project = {
            let mut tx = self.store.read().await?;
            let Ok(m) = MovieId::parse(FERRY_TO_JEJU) else {
                return Ok(());
            };
            let Some(id) = tx.project_id_by_movie_id(m).await? else {
                return Ok(());
            };
            if !tx.project_requests(id).await?.is_empty() {
                return Ok(());
            }
            tx.get_project(id).await?
        };
        match project {
            Some(p) => self.seed_requests(&p).await,
            None => Ok(()),
        }
    }

    /// The demo's organisations, people, titles and conversations, without requests (tests
    /// start from this and order what they need).
    pub async fn seed_demo_base(&self) -> AppResult<Vec<DemoAccount>> {
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
                movie_id: FERRY_TO_JEJU.into(),
                name: "Ferry to Jeju".into(),
                kind: "series".into(),
                original_language: "ko".into(),
                target_languages: vec!["en".into(), "es-ES".into(), "pt-BR".into()],
                seasons: vec![SeasonInput {
                    number: 1,
                    episodes: (1..=4)
                        .map(|n| EpisodeInput {
                            number: n,
                            movie_id: format!("8100030{n}"),
                            name: None,
                        })
                        .collect(),
                }],
                assignments: vec![
                    assign("ko", "scripting", a),
                    assign("en", "scripting", a),
                    assign("es-ES", "dubbing", a),
                    assign("es-ES", "audio_description", a),
                    assign("pt-BR", "dubbing", b),
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
