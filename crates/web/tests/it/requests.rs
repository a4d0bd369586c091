//! Requests (issue 11) on a real database: the access table through the use cases, readiness
//! (chains, diamonds, cycles, work never ordered, skips, returns), the workflow over HTTP, and
//! the leak crawl of requests, files, linguists' names and task e-mails.

use crate::harness::{PASSWORD, Session, TestApp};
use app::App;
use app::AppError;
use app::auth::Authenticated;
use app::requests::{NewRequestsInput, RequestFilter};
use domain::attachments::{Accept, AttachmentName};
use domain::requests::{RequestState, Step, Transition};
use domain::{Actor, ProjectId, RequestId};
use reqwest::Method;
use serde_json::json;
use testkit::TestDb;

async fn who(app: &App, email: &str) -> Authenticated {
    let session = app.sign_in(email, PASSWORD, "127.0.0.1").await.unwrap();
    app.authenticate_session(&session.secret)
        .await
        .unwrap()
        .unwrap()
}

async fn script(app: &App, name: &str) -> app::files::Staged {
    let mut up = app
        .files
        .begin_upload_for(
            AttachmentName::parse_for(name, Accept::Script).unwrap(),
            Accept::Script,
        )
        .await
        .unwrap();
    up.write(b"00:00:01:00 00:00:02:00 MARTA: Hola.\n")
        .await
        .ok()
        .unwrap();
    up.finish().await.ok().unwrap()
}

/// Runs the Author and Proofread steps of `r` to QC: each assignee starts and submits a file.
async fn to_qc(app: &App, r: RequestId, author: &Authenticated, proofreader: &Authenticated) {
    for (who, step) in [(author, Step::Author), (proofreader, Step::Proofread)] {
        app.transition(who, r, Transition::Start(step), None, None)
            .await
            .unwrap();
        let file = script(app, &format!("{}.txt", step.as_str())).await;
        app.transition(who, r, Transition::Submit(step), None, Some(file))
            .await
            .unwrap();
    }
}

fn day(app: &App, n: i64) -> String {
    (app.now().date() + time::Duration::days(n)).to_string()
}

fn order(app: &App, kind: &str, languages: &[&str], episodes: &str) -> NewRequestsInput {
    NewRequestsInput {
        kind: kind.into(),
        languages: languages.iter().map(|l| l.to_string()).collect(),
        episodes: episodes.into(),
        due_date: day(app, 14),
        edd: None,
        instructions: "Follow the style guide.".into(),
    }
}

/// A series with `episodes` episodes: ko original; en scripting and ko scripting by partner A;
/// es-ES dubbing by `es_partner`; pt-BR dubbing by partner B.
async fn series_input(t: &TestApp, episodes: u32, es_partner: &str) -> app::projects::ProjectInput {
    let app = &t.app;
    let a = org(app, app::demo::PARTNER_A).await;
    let b = org(app, app::demo::PARTNER_B).await;
    let es = org(app, es_partner).await;
    let assign = |language: &str, service: &str, org_id| app::projects::AssignmentInput {
        language: language.into(),
        service: service.into(),
        org_id,
    };
    app::projects::ProjectInput {
        movie_id: "84000000".into(),
        name: "Table Series".into(),
        kind: "series".into(),
        original_language: "ko".into(),
        target_languages: vec!["en".into(), "es-ES".into(), "pt-BR".into()],
        seasons: vec![app::projects::SeasonInput {
            number: 1,
            episodes: (1..=episodes)
                .map(|n| app::projects::EpisodeInput {
                    number: n,
                    movie_id: format!("{}", 84_000_000 + n),
                    name: None,
                })
                .collect(),
        }],
        assignments: vec![
            assign("ko", "scripting", a),
            assign("en", "scripting", a),
            assign("es-ES", "dubbing", es),
            assign("pt-BR", "dubbing", b),
        ],
    }
}

/// The series of [`series_input`] with es-ES dubbing by partner A; a script viewer of A's.
async fn table_series(t: &TestApp, episodes: u32) -> ProjectId {
    let input = series_input(t, episodes, app::demo::PARTNER_A).await;
    t.app
        .create_project(Actor::Operator, &input)
        .await
        .unwrap()
        .id
}

async fn org(app: &App, name: &str) -> domain::OrgId {
    app.list_orgs(Actor::Operator)
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.name.as_str() == name)
        .unwrap()
        .id
}

async fn add_user(app: &App, org: &str, email: &str, name: &str, roles: &str) {
    app.create_user(
        Actor::Operator,
        &app::admin::NewUserInput {
            org: org.into(),
            email: email.into(),
            display_name: name.into(),
            roles: roles.into(),
            password: Some(PASSWORD.into()),
        },
    )
    .await
    .unwrap();
}

/// 'A' allowed, '-' not found, 'D' refused with a reason the person may see.
fn code<T>(r: Result<T, AppError>) -> char {
    match r {
        Ok(_) => 'A',
        Err(AppError::NotFound) => '-',
        Err(AppError::Denied(d)) if d.hides_existence() => '-',
        Err(AppError::Denied(_)) => 'D',
        Err(e) => panic!("unexpected {e:?}"),
    }
}

const ACTIONS: [&str; 11] = [
    "view", "create", "assign", "start", "submit", "approve", "return", "skip", "edd", "upload",
    "download",
];

/// The request access table of issue 11, each cell on a fresh pair of as-recorded dub scripts
/// (one of A's language, one of B's) in the state the action needs.
pub async fn request_policy_through_use_cases(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let app = &t.app;
    add_user(
        app,
        app::demo::PARTNER_A,
        "ines@iberiavoices.test",
        "Inés Mora",
        "author,proofreader",
    )
    .await;
    let project = table_series(&t, ACTIONS.len() as u32 * 8).await;
    let pm = who(app, "pm@northlight.test").await;
    let qc = who(app, "qc@northlight.test").await;
    let marta = who(app, "marta@iberiavoices.test").await;
    let lucia = who(app, "lucia@iberiavoices.test").await;
    let pablo = who(app, "pablo@iberiavoices.test").await;
    let ines = who(app, "ines@iberiavoices.test").await;
    let joao = who(app, "joao@vozdobrasil.test").await;
    let bruna = who(app, "bruna@vozdobrasil.test").await;
    let dario = who(app, "dario@iberiavoices.test").await;
    app.set_script_viewer(&marta, project, dario.user.id, true)
        .await
        .unwrap();
    let people = [
        ("studio manager", &pm),
        ("studio QC", &qc),
        ("partner A PM", &marta),
        ("A's assigned linguist", &lucia),
        ("A's unassigned linguist", &ines),
        ("partner B PM", &joao),
        ("script viewer", &dario),
    ];
    // Per person: A's request, then B's request, one letter per action of ACTIONS.
    let expected = [
        ("studio manager", "AADDDAAADAA", "AADDDAAADAA"),
        ("studio QC", "ADDDDAADDDA", "ADDDDAADDDA"),
        ("partner A PM", "ADADDDDDADA", "-D---------"),
        ("A's assigned linguist", "ADDAADDDDDA", "-D---------"),
        ("A's unassigned linguist", "-D---------", "-D---------"),
        ("partner B PM", "-D---------", "ADADDDDDADA"),
        ("script viewer", "ADDDDDDDDD-", "-D---------"),
    ];
    let mut episode = 0;
    let mut got_rows = Vec::new();
    for (name, person) in people {
        let mut row = (String::new(), String::new());
        for action in ACTIONS {
            episode += 1;
            let ep = format!("S1E{episode}");
            let ids = app
                .create_requests(
                    &pm,
                    project,
                    &order(app, "as_recorded_dub_script", &["es-ES", "pt-BR"], &ep),
                    vec![],
                )
                .await
                .unwrap();
            let (ra, rb) = (ids[0], ids[1]);
            // Staff both: A's with Lucía and Pablo, B's with Bruna; QC is Quentin.
            app.assign_step(&marta, &[ra], Step::Author, Some(lucia.user.id), None)
                .await
                .unwrap();
            app.assign_step(&marta, &[ra], Step::Proofread, Some(pablo.user.id), None)
                .await
                .unwrap();
            app.assign_step(&joao, &[rb], Step::Author, Some(bruna.user.id), None)
                .await
                .unwrap();
            app.assign_step(&joao, &[rb], Step::Proofread, Some(bruna.user.id), None)
                .await
                .unwrap();
            app.assign_step(&pm, &[ra, rb], Step::Qc, Some(qc.user.id), None)
                .await
                .unwrap();
            // The pre-recorded script was never ordered: skipped so the work can start.
            for r in [ra, rb] {
                let d = app.view_request(&pm, r).await.unwrap().dependencies[0].id;
                app.skip_dependency(&pm, r, d, "recorded from the adapter's notes")
                    .await
                    .unwrap();
            }
            let reference = app.view_request(&pm, ra).await.unwrap();
            assert!(reference.files.is_empty());
            app.add_reference_files(&pm, ra, vec![script(app, "notes.txt").await])
                .await
                .unwrap();
            app.add_reference_files(&pm, rb, vec![script(app, "notes.txt").await])
                .await
                .unwrap();
            let needs_started = action == "submit";
            let needs_qc = action == "approve" || action == "return";
            for (r, author, proof) in [(ra, &lucia, &pablo), (rb, &bruna, &bruna)] {
                if needs_qc {
                    to_qc(app, r, author, proof).await;
                } else if needs_started {
                    app.transition(author, r, Transition::Start(Step::Author), None, None)
                        .await
                        .unwrap();
                }
            }
            for (r, lang, linguist, out) in [
                (ra, "es-ES", &lucia, &mut row.0),
                (rb, "pt-BR", &bruna, &mut row.1),
            ] {
                let c = match action {
                    "view" => code(app.view_request(person, r).await),
                    "create" => code(
                        app.create_requests(
                            person,
                            project,
                            &order(app, "pre_recorded_dub_script", &[lang], &ep),
                            vec![],
                        )
                        .await,
                    ),
                    "assign" => code(
                        app.assign_step(person, &[r], Step::Author, Some(linguist.user.id), None)
                            .await,
                    ),
                    "start" => code(
                        app.transition(person, r, Transition::Start(Step::Author), None, None)
                            .await,
                    ),
                    "submit" => code(
                        app.transition(
                            person,
                            r,
                            Transition::Submit(Step::Author),
                            None,
                            Some(script(app, "s.txt").await),
                        )
                        .await,
                    ),
                    "approve" => code(
                        app.transition(person, r, Transition::Approve, None, None)
                            .await,
                    ),
                    "return" => code(
                        app.transition(
                            person,
                            r,
                            Transition::Return(Step::Author),
                            Some("retake"),
                            None,
                        )
                        .await,
                    ),
                    "skip" => {
                        let dep = app.view_request(&pm, r).await.unwrap().dependencies[0].id;
                        code(app.skip_dependency(person, r, dep, "not needed").await)
                    }
                    "edd" => code(
                        app.change_edd(
                            person,
                            &[r],
                            app.now().date() + time::Duration::days(20),
                            "late",
                        )
                        .await,
                    ),
                    "upload" => code(
                        app.add_reference_files(person, r, vec![script(app, "more.txt").await])
                            .await,
                    ),
                    "download" => {
                        let file = app.view_request(&pm, r).await.unwrap().files[0].id;
                        code(app.open_request_file(person, file).await)
                    }
                    _ => unreachable!(),
                };
                out.push(c);
            }
        }
        got_rows.push((name, row));
    }
    for ((name, got), (ename, a, b)) in got_rows.iter().zip(expected) {
        assert_eq!(*name, ename);
        assert_eq!(
            (got.0.as_str(), got.1.as_str()),
            (a, b),
            "{name}: columns {ACTIONS:?} (A's request, B's request)"
        );
    }
    // Nothing refused was half written: the refused uploads left no staged file behind.
    assert_eq!(app.files.staged_count(), 0);
}

/// Readiness: chains, diamonds, a cycle refused, work never ordered blocks until skipped, a
/// skip survives an edit and a later order, a returned dependency blocks its dependants again.
pub async fn readiness_cases(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let app = &t.app;
    let project = table_series(&t, 4).await;
    let pm = who(app, "pm@northlight.test").await;
    let qc = who(app, "qc@northlight.test").await;
    let marta = who(app, "marta@iberiavoices.test").await;
    let lucia = who(app, "lucia@iberiavoices.test").await;
    let pablo = who(app, "pablo@iberiavoices.test").await;
    let ready = |d: &app::requests::RequestDetail| d.row.readiness.is_ready();
    // The PLDL of S1E1 is ordered before its DL: "not ordered" blocks it.
    let pldl = app
        .create_requests(
            &pm,
            project,
            &order(app, "pivot_dialogue_list", &["en"], "S1E1"),
            vec![],
        )
        .await
        .unwrap()[0];
    let d = app.view_request(&pm, pldl).await.unwrap();
    assert!(!ready(&d));
    assert_eq!(d.row.readiness.label(), "blocked: 1 not ordered");
    assert_eq!(d.dependencies[0].status.label(), "not ordered");
    // Ordering the DL links it: now it waits for work in progress.
    let dl = app
        .create_requests(
            &pm,
            project,
            &order(app, "dialogue_list", &[], "S1E1"),
            vec![],
        )
        .await
        .unwrap()[0];
    let d = app.view_request(&pm, pldl).await.unwrap();
    assert_eq!(d.row.readiness.label(), "blocked: waiting for 1");
    assert_eq!(d.dependencies[0].link, Some(dl));
    // The linguist cannot start a request that is not ready.
    app.assign_step(&marta, &[dl, pldl], Step::Author, Some(lucia.user.id), None)
        .await
        .unwrap();
    app.assign_step(
        &marta,
        &[dl, pldl],
        Step::Proofread,
        Some(pablo.user.id),
        None,
    )
    .await
    .unwrap();
    app.assign_step(&pm, &[dl, pldl], Step::Qc, Some(qc.user.id), None)
        .await
        .unwrap();
    let refused = app
        .transition(&lucia, pldl, Transition::Start(Step::Author), None, None)
        .await
        .unwrap_err();
    assert!(format!("{refused:?}").contains("not ready"), "{refused:?}");
    // The DL through to QC approval makes the PLDL ready.
    let through = async |r: RequestId| {
        to_qc(app, r, &lucia, &pablo).await;
        app.transition(&qc, r, Transition::Approve, None, None)
            .await
            .unwrap();
    };
    through(dl).await;
    assert!(ready(&app.view_request(&pm, pldl).await.unwrap()));
    // QC reopens the DL: the PLDL is blocked again.
    app.transition(
        &qc,
        dl,
        Transition::Return(Step::Proofread),
        Some("timecodes drift after 20:00"),
        None,
    )
    .await
    .unwrap();
    let d = app.view_request(&pm, pldl).await.unwrap();
    assert!(!ready(&d));
    assert_eq!(
        app.view_request(&pm, dl).await.unwrap().row.record.retakes,
        1
    );

    // A chain: AR (es-ES) ← pre-recorded (es-ES) ← DL S1E2. A diamond: AD S1E2 and the
    // pre-recorded script both wait for the DL; the AR also waits for the AD.
    let dl2 = app
        .create_requests(
            &pm,
            project,
            &order(app, "dialogue_list", &[], "S1E2"),
            vec![],
        )
        .await
        .unwrap()[0];
    let pre = app
        .create_requests(
            &pm,
            project,
            &order(app, "pre_recorded_dub_script", &["es-ES"], "S1E2"),
            vec![],
        )
        .await
        .unwrap()[0];
    let ar = app
        .create_requests(
            &pm,
            project,
            &order(app, "as_recorded_dub_script", &["es-ES"], "S1E2"),
            vec![],
        )
        .await
        .unwrap()[0];
    let d = app.view_request(&pm, pre).await.unwrap();
    // The pre-recorded script waits for the DL and for a PLDL of S1E2 (never ordered).
    assert_eq!(
        d.row.readiness.label(),
        "blocked: waiting for 1, 1 not ordered"
    );
    let no_pldl = d.dependencies.iter().find(|x| x.link.is_none()).unwrap().id;
    app.skip_dependency(&pm, pre, no_pldl, "adapted straight from the Korean")
        .await
        .unwrap();
    assert_eq!(
        app.view_request(&pm, pre)
            .await
            .unwrap()
            .row
            .readiness
            .label(),
        "blocked: waiting for 1"
    );
    app.add_dependency(&pm, ar, dl2).await.unwrap();
    // A cycle is refused, directly and through the chain; nothing is written.
    for (from, to) in [(dl2, ar), (dl2, pre), (pre, ar), (ar, ar)] {
        let e = app.add_dependency(&pm, from, to).await.unwrap_err();
        assert!(
            matches!(e, AppError::Invalid(_) | AppError::Conflict(_)),
            "{e:?}"
        );
    }
    assert_eq!(
        app.view_request(&pm, dl2).await.unwrap().dependencies.len(),
        0
    );
    app.assign_step(&marta, &[dl2], Step::Author, Some(lucia.user.id), None)
        .await
        .unwrap();
    app.assign_step(&marta, &[dl2], Step::Proofread, Some(pablo.user.id), None)
        .await
        .unwrap();
    app.assign_step(&pm, &[dl2], Step::Qc, Some(qc.user.id), None)
        .await
        .unwrap();
    through(dl2).await;
    // The DL done: the pre-recorded script is ready, the AR still waits for it.
    assert!(ready(&app.view_request(&pm, pre).await.unwrap()));
    let d = app.view_request(&pm, ar).await.unwrap();
    assert_eq!(d.row.readiness.label(), "blocked: waiting for 1");
    // A skip survives an edit (a new due date) and the work being ordered later.
    app.change_due_date(&pm, &[pre], app.now().date() + time::Duration::days(30), "")
        .await
        .unwrap();
    let pldl2 = app
        .create_requests(
            &pm,
            project,
            &order(app, "pivot_dialogue_list", &["en"], "S1E2"),
            vec![],
        )
        .await
        .unwrap()[0];
    let d = app.view_request(&pm, pre).await.unwrap();
    let skipped = d.dependencies.iter().find(|x| x.id == no_pldl).unwrap();
    assert!(skipped.skip.is_some(), "the skip is kept");
    assert_eq!(skipped.link, Some(pldl2), "and the new PLDL is linked");
    assert!(
        ready(&d),
        "a skipped dependency does not block, even once ordered"
    );
    assert_eq!(
        skipped.skip.as_ref().unwrap().reason,
        "adapted straight from the Korean"
    );
    // The filters agree.
    let blocked = app
        .project_requests(
            &pm,
            project,
            &RequestFilter {
                readiness: Some("blocked".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let ids: Vec<RequestId> = blocked.rows.iter().map(|r| r.record.id).collect();
    assert!(
        ids.contains(&ar) && ids.contains(&pldl) && !ids.contains(&pre),
        "{ids:?}"
    );
    let _ = RequestState::Done;
}

/// The workflow over HTTP (API and pages), with task e-mails through the outbox, the CSV
/// export and My Projects' columns.
pub async fn workflow_over_http(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let project = table_series(&t, 3).await;
    let pm = t.sign_in("pm@northlight.test").await;
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let lucia = t.sign_in("lucia@iberiavoices.test").await;
    let qc = t.sign_in("qc@northlight.test").await;
    // A request for a language with no partner for the service is refused, saying so.
    let (status, err) = pm
        .api(
            Method::POST,
            &format!("/api/v1/projects/{project}/requests"),
            Some(json!({"kind": "audio_description_script", "languages": ["es-ES"], "due_date": day(&t.app, 7)})),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    assert!(
        err.to_string()
            .contains("no partner is assigned to audio description for es-ES"),
        "{err}"
    );
    // A DL for every episode of season 1, in bulk.
    let (status, created) = pm
        .api(
            Method::POST,
            &format!("/api/v1/projects/{project}/requests"),
            Some(json!({"kind": "dialogue_list", "episodes": "S1", "due_date": day(&t.app, 7)})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let ids: Vec<String> = created["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 3);
    // The same again is a conflict that names the episodes.
    let (status, err) = pm
        .api(
            Method::POST,
            &format!("/api/v1/projects/{project}/requests"),
            Some(json!({"kind": "dialogue_list", "episodes": "S1E2", "due_date": day(&t.app, 7)})),
        )
        .await;
    assert_eq!(status, 409, "{err}");
    assert!(err.to_string().contains("S1E2"), "{err}");
    // Marta assigns Lucía as author of the first: Lucía is e-mailed a link to her task.
    let lucia_id = t.user_id("lucia@iberiavoices.test").to_string();
    let r = &ids[0];
    let (status, body) = marta
        .api(
            Method::PUT,
            &format!("/api/v1/requests/{r}/steps/author/assignee"),
            Some(json!({"user_id": lucia_id})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["request"]["steps"][0]["assignee"], "Lucía Gómez");
    // Assigning someone without the role, or of another organisation, is refused.
    let joao_id = t.user_id("joao@vozdobrasil.test").to_string();
    let (status, _) = marta
        .api(
            Method::PUT,
            &format!("/api/v1/requests/{r}/steps/author/assignee"),
            Some(json!({"user_id": joao_id})),
        )
        .await;
    assert_eq!(status, 422);
    let outbox = t.app.outbox(Actor::Operator, None, None, 50).await.unwrap();
    let mail = outbox
        .emails
        .iter()
        .find(|e| e.to_address == "lucia@iberiavoices.test")
        .expect("a task e-mail to Lucía");
    assert!(
        mail.subject.contains("Dialogue list S1E1 (ko)"),
        "{}",
        mail.subject
    );
    let link = format!("/tasks/{r}");
    assert!(mail.body_text.contains(&link), "{}", mail.body_text);
    // She has no portal access, yet the link opens her task; the project does not.
    let (status, page) = lucia.get(&link).await;
    assert_eq!(status, 200);
    assert!(page.contains("Start Author"), "{page}");
    assert_eq!(
        lucia.get(&format!("/projects/{project}/requests")).await.0,
        403
    );
    let (_, tasks) = lucia.api(Method::GET, "/api/v1/tasks", None).await;
    assert_eq!(tasks.as_array().unwrap().len(), 1, "{tasks}");
    // Start, then submit a file through the page form (multipart, CSRF in the first field).
    let (status, _) = lucia
        .post_form(&format!("/requests/{r}/start"), &[("step", "author")])
        .await;
    assert_eq!(status, 303);
    let status = submit_page(
        &lucia,
        r,
        "S1E1_DL.srt",
        b"1\n00:00:01,000 --> 00:00:02,000\nHola\n",
    )
    .await;
    assert_eq!(status, 303);
    // A file whose content is not what its name says is refused, and nothing moves.
    let status = submit_page(&lucia, r, "evil.docx", b"MZ\x90\x00").await;
    assert_eq!(status, 422);
    assert_eq!(t.app.files.staged_count(), 0);
    let (_, d) = pm
        .api(Method::GET, &format!("/api/v1/requests/{r}"), None)
        .await;
    assert_eq!(d["request"]["state"], "proofread_todo", "{d}");
    assert_eq!(d["files"][0]["name"], "S1E1_DL.srt");
    assert_eq!(d["files"][0]["version"], 1);
    // QC (studio) takes it when it reaches QC; here the PM returns it once from the proofread
    // step being skipped is not allowed: QC cannot approve before QC.
    let (status, err) = qc
        .api(Method::POST, &format!("/api/v1/requests/{r}/approve"), None)
        .await;
    assert_eq!(status, 403, "{err}");
    // Bulk EDD by the partner, with one reason; the studio cannot.
    let body = json!({"ids": ids, "edd": day(&t.app, 10), "reason": "Episode 3 arrives late"});
    assert_eq!(
        pm.api(Method::POST, "/api/v1/requests/edd", Some(body.clone()))
            .await
            .0,
        403
    );
    let (status, changed) = marta
        .api(Method::POST, "/api/v1/requests/edd", Some(body))
        .await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["changed"], 3);
    let (_, list) = pm
        .api(
            Method::GET,
            &format!("/api/v1/projects/{project}/requests?limit=2"),
            None,
        )
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert!(list["items"][0]["at_risk"].as_bool().unwrap());
    assert!(list["next_cursor"].is_string());
    // CSV of what is shown.
    let (status, csv) = pm
        .get(&format!("/projects/{project}/requests.csv?episode=S1E2"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.contains("dialogue_list,S1E2,ko"), "{csv}");
    // Sorted by a column, either way round.
    let (_, csv) = pm
        .get(&format!("/projects/{project}/requests.csv?sort=-request"))
        .await;
    let episodes: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap())
        .collect();
    assert_eq!(episodes, ["S1E3", "S1E2", "S1E1"], "{csv}");
    let (_, page) = pm
        .get(&format!("/projects/{project}/requests?sort=request"))
        .await;
    assert!(page.contains("aria-sort=\"ascending\"") && page.contains("sort=-request"));
    // My Projects shows the open requests and the next due date for a follower.
    pm.api(
        Method::PUT,
        &format!("/api/v1/projects/{project}/follow"),
        None,
    )
    .await;
    let (_, home) = pm.get("/").await;
    assert!(
        home.contains(&format!("/projects/{project}/requests\">3</a>")),
        "{home}"
    );
    // The robot told the partner in its channel.
    let ko = marta.channel_id(&project.to_string(), Some("ko")).await;
    let (_, msgs) = marta
        .api(
            Method::GET,
            &format!("/api/v1/channels/{ko}/messages"),
            None,
        )
        .await;
    let text = msgs.to_string();
    assert!(
        text.contains("New request: Dialogue list for S1E1, S1E2, S1E3 (ko)"),
        "{text}"
    );
    assert!(text.contains("Estimated delivery moved to"), "{text}");
}

/// When a language changes hands, its requests go to the new partner, with nothing of the
/// previous partner's: no linguist's name or id, no file, no history line, no reason.
pub async fn a_handover_shows_nothing_of_the_previous_partner(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let app = &t.app;
    let project = table_series(&t, 2).await;
    let pm = who(app, "pm@northlight.test").await;
    let marta = who(app, "marta@iberiavoices.test").await;
    let lucia = who(app, "lucia@iberiavoices.test").await;
    let r = app
        .create_requests(
            &pm,
            project,
            &order(app, "pre_recorded_dub_script", &["es-ES"], "S1E1"),
            vec![],
        )
        .await
        .unwrap()[0];
    let d = app.view_request(&pm, r).await.unwrap().dependencies;
    for dep in d {
        app.skip_dependency(&pm, r, dep.id, "adapted from the Korean")
            .await
            .unwrap();
    }
    app.assign_step(&marta, &[r], Step::Author, Some(lucia.user.id), None)
        .await
        .unwrap();
    app.transition(&lucia, r, Transition::Start(Step::Author), None, None)
        .await
        .unwrap();
    let mut up = app
        .files
        .begin_upload_for(
            AttachmentName::parse_for("Iberia_secret_draft.txt", Accept::Script).unwrap(),
            Accept::Script,
        )
        .await
        .unwrap();
    up.write(b"draft\n").await.ok().unwrap();
    let draft = up.finish().await.ok().unwrap();
    app.transition(
        &lucia,
        r,
        Transition::Submit(Step::Author),
        None,
        Some(draft),
    )
    .await
    .unwrap();
    app.change_edd(
        &marta,
        &[r],
        app.now().date() + time::Duration::days(30),
        "Iberia is short of adapters",
    )
    .await
    .unwrap();
    // es-ES dubbing goes to partner B.
    let input = series_input(&t, 2, app::demo::PARTNER_B).await;
    app.update_project(Actor::Operator, project, &input)
        .await
        .unwrap();
    let joao = t.sign_in("joao@vozdobrasil.test").await;
    let (status, d) = joao
        .api(Method::GET, &format!("/api/v1/requests/{r}"), None)
        .await;
    assert_eq!(status, 200, "the request is B's now: {d}");
    let (_, page) = joao.get(&format!("/requests/{r}")).await;
    let (_, list) = joao.get(&format!("/projects/{project}/requests")).await;
    let (_, csv) = joao.get(&format!("/projects/{project}/requests.csv")).await;
    let seen = format!("{d}{page}{list}{csv}");
    assert!(
        seen.contains("Pre-recorded") || seen.contains("pre_recorded"),
        "{seen}"
    );
    for forbidden in [
        "Lucía",
        "Marta",
        "Iberia",
        "secret_draft",
        "short of adapters",
        "someone at another organisation",
        t.user_id("lucia@iberiavoices.test"),
    ] {
        assert!(!seen.contains(forbidden), "partner B sees {forbidden:?}");
    }
    // And Lucía no longer reaches her old task.
    let lucia_s = t.sign_in("lucia@iberiavoices.test").await;
    assert_eq!(
        lucia_s
            .api(Method::GET, &format!("/api/v1/requests/{r}"), None)
            .await
            .0,
        404
    );
    // The studio still sees everything.
    let pm_s = t.sign_in("pm@northlight.test").await;
    let (_, d) = pm_s
        .api(Method::GET, &format!("/api/v1/requests/{r}"), None)
        .await;
    assert!(d.to_string().contains("Iberia_secret_draft.txt"));
}

/// Two reviewers deciding at once: one approval happens, the other is refused (PostgreSQL locks
/// the title's requests; SQLite has one writer).
pub async fn concurrent_decisions_do_not_both_happen(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let app = &t.app;
    let project = table_series(&t, 1).await;
    let pm = who(app, "pm@northlight.test").await;
    let qc = who(app, "qc@northlight.test").await;
    let marta = who(app, "marta@iberiavoices.test").await;
    let lucia = who(app, "lucia@iberiavoices.test").await;
    let pablo = who(app, "pablo@iberiavoices.test").await;
    let r = app
        .create_requests(
            &pm,
            project,
            &order(app, "dialogue_list", &[], "S1E1"),
            vec![],
        )
        .await
        .unwrap()[0];
    app.assign_step(&marta, &[r], Step::Author, Some(lucia.user.id), None)
        .await
        .unwrap();
    app.assign_step(&marta, &[r], Step::Proofread, Some(pablo.user.id), None)
        .await
        .unwrap();
    app.assign_step(&pm, &[r], Step::Qc, Some(qc.user.id), None)
        .await
        .unwrap();
    to_qc(app, r, &lucia, &pablo).await;
    // Both reviewers approve at the same moment: the second finds it done.
    let (first, second) = tokio::join!(
        app.transition(&qc, r, Transition::Approve, None, None),
        app.transition(&pm, r, Transition::Approve, None, None),
    );
    assert!(
        first.is_ok() != second.is_ok(),
        "exactly one: {first:?} / {second:?}"
    );
    let refused = first.err().or(second.err()).unwrap();
    assert!(format!("{refused:?}").contains("It is done"), "{refused:?}");
    let d = app.view_request(&pm, r).await.unwrap();
    let approvals = d.history.iter().filter(|h| h.action == "approved").count();
    assert_eq!(approvals, 1);
}

/// Submits the author step from the request page: a multipart form whose first field is the
/// CSRF token, as the browser sends it.
async fn submit_page(s: &Session, request: &str, name: &str, bytes: &[u8]) -> reqwest::StatusCode {
    let boundary = "locportal-requests-test";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"step\"\r\n\r\nauthor\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n",
        s.csrf
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    s.client
        .post(s.url(&format!("/requests/{request}/submit")))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
}

/// Everything `s` can read about requests, concatenated.
async fn crawl(t: &TestApp, s: &Session, projects: &[String], requests: &[String]) -> String {
    let mut seen = String::new();
    seen.push_str(&s.get("/tasks").await.1);
    seen.push_str(
        &s.api(Method::GET, "/api/v1/tasks", None)
            .await
            .1
            .to_string(),
    );
    seen.push_str(&s.get("/").await.1);
    for p in projects {
        for path in [
            format!("/projects/{p}/requests"),
            format!("/projects/{p}/requests.csv"),
            format!("/projects/{p}/members"),
        ] {
            seen.push_str(&s.get(&path).await.1);
        }
        for path in [
            format!("/api/v1/projects/{p}/requests?limit=200"),
            format!("/api/v1/projects/{p}/members"),
        ] {
            seen.push_str(&s.api(Method::GET, &path, None).await.1.to_string());
        }
    }
    for r in requests {
        let (_, page) = s.get(&format!("/requests/{r}")).await;
        seen.push_str(&page);
        let (_, d) = s
            .api(Method::GET, &format!("/api/v1/requests/{r}"), None)
            .await;
        seen.push_str(&d.to_string());
        for f in d["files"].as_array().cloned().unwrap_or_default() {
            let resp = s
                .client
                .get(s.url(f["url"].as_str().unwrap()))
                .send()
                .await
                .unwrap();
            seen.push_str(&format!("{:?}", resp.headers()));
            seen.push_str(&resp.text().await.unwrap_or_default());
        }
    }
    let _ = t;
    seen
}

/// Partner A never sees B's requests, files, linguists or dates; a linguist reaches nothing but
/// their own tasks, and their e-mails tell only of those.
pub async fn requests_leak_crawl(db: TestDb) {
    let t = TestApp::spawn(db).await;
    t.app.seed_demo_requests().await.unwrap();
    let pm = t.sign_in("pm@northlight.test").await;
    // Every project and every request, as the studio lists them.
    let (_, all) = pm
        .api(Method::GET, "/api/v1/projects?limit=200", None)
        .await;
    let projects: Vec<String> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    let mut requests = Vec::new();
    let mut by_id = std::collections::HashMap::new();
    for p in &projects {
        let (_, list) = pm
            .api(
                Method::GET,
                &format!("/api/v1/projects/{p}/requests?limit=200"),
                None,
            )
            .await;
        for r in list["items"].as_array().unwrap() {
            requests.push(r["id"].as_str().unwrap().to_string());
            by_id.insert(r["id"].as_str().unwrap().to_string(), r.clone());
        }
    }
    assert!(requests.len() >= 10, "the demo has requests");
    // Partner A: its own requests, none of B's.
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let seen = crawl(&t, &marta, &projects, &requests).await;
    assert!(seen.contains("Lucía Gómez") && seen.contains("Ferry_to_Jeju_S1E1_DL_v2.txt"));
    for forbidden in [
        "pt-BR",
        "Bruna",
        "bruna@",
        "Voz do Brasil",
        "João",
        "Portuguese",
    ] {
        assert!(!seen.contains(forbidden), "partner A can see {forbidden:?}");
    }
    for (id, r) in &by_id {
        if r["language"] == "pt-BR" {
            assert!(
                !seen.contains(id.as_str()),
                "partner A can see B's request {id}"
            );
        }
    }
    // Partner B: none of A's requests or people.
    let joao = t.sign_in("joao@vozdobrasil.test").await;
    let seen = crawl(&t, &joao, &projects, &requests).await;
    assert!(seen.contains("Bruna Costa"));
    for forbidden in [
        "Lucía",
        "Pablo",
        "Darío",
        "Iberia Voices",
        "es-ES",
        "Ferry_to_Jeju_S1",
    ] {
        assert!(!seen.contains(forbidden), "partner B can see {forbidden:?}");
    }
    // Lucía, a linguist: her own tasks only; nobody else's name, no other request.
    let lucia = t.sign_in("lucia@iberiavoices.test").await;
    let (_, tasks) = lucia.api(Method::GET, "/api/v1/tasks", None).await;
    let mine: Vec<String> = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["request"]["id"].as_str().unwrap().to_string())
        .collect();
    assert!(!mine.is_empty());
    // Current steps first, finished ones last.
    let ranks: Vec<u8> = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            let status = x["request"]["steps"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["step"] == x["step"])
                .unwrap()["status"]
                .clone();
            if x["current"] == true {
                0
            } else if status == "done" {
                2
            } else {
                1
            }
        })
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
    assert!(ranks.contains(&0) && ranks.contains(&2), "{ranks:?}");
    let seen = crawl(&t, &lucia, &projects, &requests).await;
    // The proofreader's versions come after her step: she never gets them.
    for forbidden in [
        "proofread.txt",
        "proofread_v2.txt",
        "Pablo",
        "Quentin",
        "Bruna",
        "Paula",
        "Marta",
        "pt-BR",
        "Broadcast",
        "Welcome to",
    ] {
        assert!(
            !seen.contains(forbidden),
            "the linguist can see {forbidden:?}"
        );
    }
    for id in &requests {
        let (status, _) = lucia
            .api(Method::GET, &format!("/api/v1/requests/{id}"), None)
            .await;
        assert_eq!(status == 200, mine.contains(id), "request {id}: {status}");
    }
    // Her task e-mails tell only of her tasks.
    let outbox = t
        .app
        .outbox(Actor::Operator, None, None, 200)
        .await
        .unwrap();
    let hers: Vec<_> = outbox
        .emails
        .iter()
        .filter(|e| e.to_address == "lucia@iberiavoices.test")
        .collect();
    assert!(!hers.is_empty());
    for e in hers {
        for forbidden in ["pt-BR", "Bruna", "Pablo", "Quentin"] {
            assert!(
                !e.body_text.contains(forbidden) && !e.subject.contains(forbidden),
                "{forbidden} in {}",
                e.subject
            );
        }
    }
    // B's linguist's e-mails never name A's work.
    for e in outbox
        .emails
        .iter()
        .filter(|e| e.to_address == "bruna@vozdobrasil.test")
    {
        assert!(
            !e.body_text.contains("es-ES") && !e.body_text.contains("Lucía"),
            "{}",
            e.body_text
        );
    }
}

testkit::both_backends!(db: super => [
    request_policy_through_use_cases,
    readiness_cases,
    workflow_over_http,
    requests_leak_crawl,
    a_handover_shows_nothing_of_the_previous_partner,
    concurrent_decisions_do_not_both_happen,
]);
