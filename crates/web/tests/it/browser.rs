//! A real headless Chromium, driven through Debian's chromedriver: the PM creates a title with
//! two languages for two partners; a partner finds it by movie ID, follows it and sees it on
//! My Projects; a third partner cannot find it.

use crate::harness::TestApp;
use fantoccini::{Client, ClientBuilder, Locator};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use testkit::TestDb;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// A chromedriver process, killed when dropped (also when a test panics).
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_driver() -> Option<Driver> {
    for path in [CHROMEDRIVER, CHROMIUM] {
        if !std::path::Path::new(path).exists() {
            testkit::missing_service(
                "chromium/chromedriver",
                &format!("{path} not found (apt-get install chromium chromium-driver)"),
            );
            return None;
        }
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if reqwest::get(format!("{}/status", driver.url)).await.is_ok() {
            return Some(driver);
        }
        assert!(
            Instant::now() < deadline,
            "chromedriver did not start within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A fresh browser session (its own profile, so its own cookies).
async fn browser(driver: &Driver, profile: &tempfile::TempDir) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--disable-quic", "--window-size=1280,900",
                format!("--user-data-dir={}", profile.path().display()),
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("connect to chromedriver")
}

async fn sign_in(c: &Client, t: &TestApp, email: &str) {
    c.goto(&t.url("/sign-in")).await.unwrap();
    c.find(Locator::Id("email"))
        .await
        .unwrap()
        .send_keys(email)
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys(crate::harness::PASSWORD)
        .await
        .unwrap();
    c.find(Locator::Css("form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("header .who"))
        .await
        .unwrap();
}

/// Waits until the element matching `css` contains `text` (the page may be mid-navigation, so
/// failures to find or read it are retried).
async fn wait_for_text(c: &Client, css: &str, text: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(e) = c.find(Locator::Css(css)).await
            && let Ok(t) = e.text().await
            && t.contains(text)
        {
            return t;
        }
        assert!(Instant::now() < deadline, "{css} never showed {text:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn body_text(c: &Client) -> String {
    c.find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

async fn find_title(c: &Client, query: &str) {
    let finder = c.find(Locator::Id("finder-q")).await.unwrap();
    finder.clear().await.unwrap();
    finder.send_keys(&format!("{query}\u{E007}")).await.unwrap();
    // The results page repeats the query in its own search field; wait until it shows this one.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(e) = c.find(Locator::Css("form.search-again input#q")).await
            && let Ok(Some(v)) = e.prop("value").await
            && v == query
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the results for {query:?} never appeared"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn pm_creates_partner_follows(db: TestDb) {
    let Some(driver) = start_driver().await else {
        return;
    };
    let t = TestApp::spawn(db).await;
    let profiles: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();

    // The PM creates a film with es-ES (partner A, dubbing) and pt-BR (partner B, subtitles).
    let pm = browser(&driver, &profiles[0]).await;
    sign_in(&pm, &t, "pm@northlight.test").await;
    pm.goto(&t.url("/projects/new")).await.unwrap();
    pm.find(Locator::Id("movie_id"))
        .await
        .unwrap()
        .send_keys("84000000")
        .await
        .unwrap();
    pm.find(Locator::Id("name"))
        .await
        .unwrap()
        .send_keys("Glass Harbour")
        .await
        .unwrap();
    pm.find(Locator::Id("original_language"))
        .await
        .unwrap()
        .send_keys("en")
        .await
        .unwrap();
    pm.find(Locator::Id("target_languages"))
        .await
        .unwrap()
        .send_keys("es-ES, pt-BR")
        .await
        .unwrap();
    let languages = pm
        .find_all(Locator::Css("input[name=a_language]"))
        .await
        .unwrap();
    let services = pm
        .find_all(Locator::Css("select[name=a_service]"))
        .await
        .unwrap();
    let partners = pm
        .find_all(Locator::Css("select[name=a_org]"))
        .await
        .unwrap();
    languages[0].send_keys("es-ES").await.unwrap();
    services[0].select_by_label("Dubbing").await.unwrap();
    partners[0]
        .select_by_label(app::demo::PARTNER_A)
        .await
        .unwrap();
    languages[1].send_keys("pt-BR").await.unwrap();
    services[1].select_by_label("Subtitles").await.unwrap();
    partners[1]
        .select_by_label(app::demo::PARTNER_B)
        .await
        .unwrap();
    pm.find(Locator::Css("form.wide button.primary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    pm.wait()
        .for_element(Locator::Id("assignments"))
        .await
        .unwrap();
    let text = body_text(&pm).await;
    assert!(text.contains("Project created"), "{text}");
    assert!(
        text.contains("Glass Harbour")
            && text.contains(app::demo::PARTNER_A)
            && text.contains(app::demo::PARTNER_B),
        "{text}"
    );

    // Partner A, in a second browser, finds it by movie ID, follows it, sees it on My Projects.
    let marta = browser(&driver, &profiles[1]).await;
    sign_in(&marta, &t, "marta@iberiavoices.test").await;
    find_title(&marta, "84000000").await;
    let results = marta
        .find(Locator::Id("find-results"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        results.contains("Glass Harbour") && results.contains("es-ES"),
        "{results}"
    );
    assert!(
        !results.contains("pt-BR"),
        "partner A must not see partner B's language: {results}"
    );
    marta
        .find(Locator::Css("#find-results button.follow"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_text(&marta, "#find-results button.follow", "Unfollow").await;
    marta.goto(&t.url("/")).await.unwrap();
    let mine = marta
        .find(Locator::Id("my-projects"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(mine.contains("Glass Harbour"), "{mine}");

    // Partner C, in a third browser, cannot find it by movie ID or by name.
    let haruka = browser(&driver, &profiles[2]).await;
    sign_in(&haruka, &t, "haruka@kazedubbing.test").await;
    find_title(&haruka, "84000000").await;
    let text = body_text(&haruka).await;
    assert!(text.contains("No title you can see matches"), "{text}");
    find_title(&haruka, "Glass").await;
    assert!(!body_text(&haruka).await.contains("Glass Harbour"));

    for c in [pm, marta, haruka] {
        let _ = c.close().await;
    }
}

async fn badge(c: &Client, project: &str) -> String {
    match c
        .find(Locator::Css(&format!(
            "tr[data-project='{project}'] .badge-unread"
        )))
        .await
    {
        Ok(e) => e.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// The PM posts in partner A's channel: A's open My Projects badge increments and A's open
/// channel shows the message, without reloading; partner B's open page does not change.
/// The bell's count as the page shows it (0 while hidden).
async fn bell_count(c: &Client) -> u32 {
    let v = c
        .execute(
            "const b = document.getElementById('bell-count'); return b.hidden ? '0' : b.textContent;",
            vec![],
        )
        .await
        .unwrap();
    v.as_str().unwrap_or("0").parse().unwrap_or(0)
}

async fn wait_for_bell(c: &Client, want: u32) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let now = bell_count(c).await;
        if now == want {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the bell shows {now}, not {want}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub async fn badges_and_messages_update_live(db: TestDb) {
    let Some(driver) = start_driver().await else {
        return;
    };
    let t = TestApp::spawn(db).await;
    let lk = t.title("The Lighthouse Keeper").to_string();
    let pm = t.sign_in("pm@northlight.test").await;
    let es = pm.channel_id(&lk, Some("es-ES")).await;
    let profiles: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let marta = browser(&driver, &profiles[0]).await;
    sign_in(&marta, &t, "marta@iberiavoices.test").await;
    let joao = browser(&driver, &profiles[1]).await;
    sign_in(&joao, &t, "joao@vozdobrasil.test").await;
    marta.goto(&t.url("/")).await.unwrap();
    joao.goto(&t.url("/")).await.unwrap();
    let before: u32 = badge(&marta, &lk).await.parse().unwrap_or(0);
    let joao_before = badge(&joao, &lk).await;
    // Let the pages open their event streams.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let bell_before = bell_count(&marta).await;

    pm.api(
        reqwest::Method::POST,
        &format!("/api/v1/channels/{es}/messages"),
        Some(serde_json::json!({"body": "Live: @Marta the mix notes are up"})),
    )
    .await;
    let want = (before + 1).to_string();
    wait_for_text(
        &marta,
        &format!("tr[data-project='{lk}'] .badge-unread"),
        &want,
    )
    .await;
    // The mention rings the bell at once; opening the channel (below) clears it.
    wait_for_bell(&marta, bell_before + 1).await;

    marta
        .goto(&t.url(&format!("/channels/{es}")))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    pm.api(
        reqwest::Method::POST,
        &format!("/api/v1/channels/{es}/messages"),
        Some(serde_json::json!({"body": "Live: second take approved"})),
    )
    .await;
    wait_for_text(&marta, "#messages", "Live: second take approved").await;
    wait_for_bell(&marta, bell_before).await;

    // Partner B's open My Projects never changed.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(badge(&joao, &lk).await, joao_before);
    for c in [marta, joao] {
        let _ = c.close().await;
    }
}

/// Sets a form field's value the way a date picker would (typing into a date input depends on
/// the browser's locale).
async fn set_value(c: &Client, id: &str, value: &str) {
    c.execute(
        "document.getElementById(arguments[0]).value = arguments[1];",
        vec![serde_json::json!(id), serde_json::json!(value)],
    )
    .await
    .unwrap();
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Orders requests from the Requests page's form.
async fn order(c: &Client, kind: &str, language: Option<&str>, episodes: &str, due: &str) {
    click(c, "details.order summary").await;
    c.find(Locator::Id("kind"))
        .await
        .unwrap()
        .select_by_value(kind)
        .await
        .unwrap();
    if let Some(l) = language {
        click(c, &format!("input[name=languages][value='{l}']")).await;
    }
    let episodes_field = c.find(Locator::Id("episodes")).await.unwrap();
    episodes_field.clear().await.unwrap();
    episodes_field.send_keys(episodes).await.unwrap();
    set_value(c, "due_date", due).await;
    click(c, "#order-form button[type=submit]").await;
    wait_for_text(c, ".flash", "Requests created").await;
}

/// The id of the Requests page's row whose link reads `label`.
async fn row_id(c: &Client, label: &str) -> String {
    for a in c.find_all(Locator::Css("#requests a")).await.unwrap() {
        if a.text().await.unwrap() == label {
            let href = a.attr("href").await.unwrap().unwrap();
            return href.trim_start_matches("/requests/").to_string();
        }
    }
    panic!("no request {label:?} on the page");
}

/// Issue 11 end to end in a real browser: the PM orders a DL and a PLDL that depends on it;
/// partner A's PM staffs the DL; the linguist, who has no portal access, opens her task from
/// the e-mailed link, uploads and submits; the proofreader submits; QC returns it once and then
/// approves; the PLDL turns ready on the PM's open Requests page without a reload; partner B
/// sees none of it.
pub async fn a_script_request_from_order_to_approval(db: TestDb) {
    let Some(driver) = start_driver().await else {
        return;
    };
    let t = TestApp::spawn(db).await;
    let ferry = {
        let pm = t.sign_in("pm@northlight.test").await;
        let (_, found) = pm
            .api(reqwest::Method::GET, "/api/v1/projects?q=Ferry", None)
            .await;
        found["items"][0]["id"].as_str().unwrap().to_string()
    };
    let requests_page = t.url(&format!("/projects/{ferry}/requests"));
    let due = (t.app.now().date() + time::Duration::days(10)).to_string();
    let profiles: Vec<tempfile::TempDir> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();

    let pm = browser(&driver, &profiles[0]).await;
    sign_in(&pm, &t, "pm@northlight.test").await;
    pm.goto(&requests_page).await.unwrap();
    order(&pm, "dialogue_list", None, "S1E1", &due).await;
    order(&pm, "pivot_dialogue_list", Some("en"), "S1E1", &due).await;
    let dl = row_id(&pm, "DL · S1E1").await;
    let pldl = row_id(&pm, "PLDL · S1E1").await;
    wait_for_text(
        &pm,
        &format!("tr[data-request='{pldl}']"),
        "blocked: waiting for 1",
    )
    .await;

    // Partner A's PM staffs the DL from its page.
    let marta = browser(&driver, &profiles[1]).await;
    sign_in(&marta, &t, "marta@iberiavoices.test").await;
    marta
        .goto(&t.url(&format!("/requests/{dl}")))
        .await
        .unwrap();
    let lucia_id = t.user_id("lucia@iberiavoices.test").to_string();
    let pablo_id = t.user_id("pablo@iberiavoices.test").to_string();
    for (step, user) in [("author", &lucia_id), ("proofread", &pablo_id)] {
        marta
            .find(Locator::Css(&format!(
                "select[aria-label='Who does {}']",
                if step == "author" {
                    "Author"
                } else {
                    "Proofread"
                }
            )))
            .await
            .unwrap()
            .select_by_value(&format!("{step}:{user}"))
            .await
            .unwrap();
        let forms = marta.find_all(Locator::Css("form.assign")).await.unwrap();
        let form = if step == "author" {
            &forms[0]
        } else {
            &forms[1]
        };
        form.find(Locator::Css("button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        wait_for_text(&marta, ".flash", "Saved").await;
    }
    // The studio's QC reviewer is assigned through the API.
    let qc_id = t.user_id("qc@northlight.test").to_string();
    let pm_api = t.sign_in("pm@northlight.test").await;
    let (status, _) = pm_api
        .api(
            reqwest::Method::PUT,
            &format!("/api/v1/requests/{dl}/steps/qc/assignee"),
            Some(serde_json::json!({"user_id": qc_id})),
        )
        .await;
    assert_eq!(status, 200);

    // Lucía follows the link in her e-mail.
    let outbox = t
        .app
        .outbox(domain::Actor::Operator, None, None, 100)
        .await
        .unwrap();
    let mail = outbox
        .emails
        .iter()
        .find(|e| e.to_address == "lucia@iberiavoices.test")
        .expect("the task e-mail");
    let link = mail
        .body_text
        .lines()
        .find_map(|l| l.strip_prefix("Open your task: "))
        .unwrap()
        .to_string();
    assert!(link.ends_with(&format!("/tasks/{dl}")), "{link}");
    let lucia = browser(&driver, &profiles[2]).await;
    sign_in(&lucia, &t, "lucia@iberiavoices.test").await;
    // The link carries the configured public address; this test server has its own port.
    let path = &link[link.find("/tasks/").unwrap()..];
    lucia.goto(&t.url(path)).await.unwrap();
    click(&lucia, "form[action$='/start'] button").await;
    wait_for_text(&lucia, ".flash", "Step started").await;
    let work = profiles[2].path().join("Ferry_S1E1_DL.txt");
    std::fs::write(&work, "00:00:01:00 00:00:02:10 MIN-JUN: Annyeong.\n").unwrap();
    lucia
        .find(Locator::Id("work-file"))
        .await
        .unwrap()
        .send_keys(work.to_str().unwrap())
        .await
        .unwrap();
    click(&lucia, "form[action$='/submit'] button").await;
    wait_for_text(&lucia, ".flash", "Submitted").await;
    assert!(body_text(&lucia).await.contains("Ferry_S1E1_DL.txt"));

    // The proofreader submits; QC returns once, the work comes back, QC approves.
    let app = &t.app;
    let person = async |email: &str| {
        let s = app
            .sign_in(email, crate::harness::PASSWORD, "127.0.0.1")
            .await
            .unwrap();
        app.authenticate_session(&s.secret).await.unwrap().unwrap()
    };
    let (pablo, quentin, lucia_api) = (
        person("pablo@iberiavoices.test").await,
        person("qc@northlight.test").await,
        person("lucia@iberiavoices.test").await,
    );
    let dl_id: domain::RequestId = dl.parse().unwrap();
    let file = async |name: &str| {
        let mut up = app
            .files
            .begin_upload_for(
                domain::attachments::AttachmentName::parse_for(
                    name,
                    domain::attachments::Accept::Script,
                )
                .unwrap(),
                domain::attachments::Accept::Script,
            )
            .await
            .unwrap();
        up.write(b"proofread\n").await.ok().unwrap();
        up.finish().await.ok().unwrap()
    };
    use domain::requests::{Step, Transition};
    let proofread = async || {
        app.transition(
            &pablo,
            dl_id,
            Transition::Start(Step::Proofread),
            None,
            None,
        )
        .await
        .unwrap();
        app.transition(
            &pablo,
            dl_id,
            Transition::Submit(Step::Proofread),
            None,
            Some(file("proof.txt").await),
        )
        .await
        .unwrap();
    };
    proofread().await;
    app.transition(
        &quentin,
        dl_id,
        Transition::Return(Step::Author),
        Some("Attribute the speakers of events 3-5."),
        None,
    )
    .await
    .unwrap();
    app.transition(
        &lucia_api,
        dl_id,
        Transition::Start(Step::Author),
        None,
        None,
    )
    .await
    .unwrap();
    app.transition(
        &lucia_api,
        dl_id,
        Transition::Submit(Step::Author),
        None,
        Some(file("v2.txt").await),
    )
    .await
    .unwrap();
    proofread().await;
    // The PM's Requests page is open; the approval turns the PLDL ready without a reload.
    pm.goto(&requests_page).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    app.transition(&quentin, dl_id, Transition::Approve, None, None)
        .await
        .unwrap();
    wait_for_text(&pm, &format!("tr[data-request='{pldl}']"), "ready").await;
    wait_for_text(&pm, &format!("tr[data-request='{dl}']"), "Done").await;
    let row = pm
        .find(Locator::Css(&format!("tr[data-request='{dl}']")))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(row.contains("↺1"), "one retake is counted: {row}");

    // Partner B's session sees none of it.
    let joao = browser(&driver, &profiles[3]).await;
    sign_in(&joao, &t, "joao@vozdobrasil.test").await;
    joao.goto(&requests_page).await.unwrap();
    let seen = body_text(&joao).await;
    assert!(seen.contains("No requests yet"), "{seen}");
    for forbidden in ["DL", "PLDL", "Lucía", "Pablo"] {
        assert!(!seen.contains(forbidden), "partner B sees {forbidden:?}");
    }
    joao.goto(&t.url(&format!("/requests/{dl}"))).await.unwrap();
    assert!(body_text(&joao).await.contains("Not found"));
    for c in [pm, marta, lucia, joao] {
        let _ = c.close().await;
    }
}

/// Waits until `script` (a JS expression) is true in the page.
async fn wait_until(c: &Client, script: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let v = c
            .execute(&format!("return !!({script});"), vec![])
            .await
            .unwrap_or_default();
        if v.as_bool() == Some(true) {
            return;
        }
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Issue 12 end to end in a real browser: the studio asks for a Moments clip from a small MP4
/// (uploaded with the resumable protocol); partner A watches it, uploads a WAV one frame short
/// (refused with the checker's words), then the right one (accepted after a progress bar, its
/// waveform shown once sent); the studio comments at a timecode (the link seeks the player) and
/// approves; A's bell and e-mail say so; partner B sees nothing of A's.
pub async fn a_moments_clip_from_request_to_approval(db: TestDb) {
    let Some(driver) = start_driver().await else {
        return;
    };
    let mail_dir = tempfile::tempdir().unwrap();
    let mut mail = app::mail::MailConfig::new("http://portal.test");
    mail.coalesce = time::Duration::ZERO;
    let config = app::AppConfig {
        mail,
        ..app::AppConfig::default()
    };
    let mailer = std::sync::Arc::new(app::mail::FileMailer::new(mail_dir.path()));
    let t = TestApp::spawn_with(db, move |a| a.with_config(config).with_mailer(mailer)).await;
    let film = t.title("The Lighthouse Keeper").to_string();
    let profiles: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();

    // The studio asks for the clip.
    let qc = browser(&driver, &profiles[0]).await;
    sign_in(&qc, &t, "qc@northlight.test").await;
    qc.goto(&t.url(&format!("/projects/{film}/moments")))
        .await
        .unwrap();
    click(&qc, "#new-audio summary").await;
    let clip_path = profiles[0].path().join("farewell.mp4");
    std::fs::write(&clip_path, app::demo_audio::DEMO_CLIP).unwrap();
    qc.find(Locator::Id("audio-title"))
        .await
        .unwrap()
        .send_keys("The keeper's farewell")
        .await
        .unwrap();
    set_value(&qc, "audio-in", "01:00:00:00").await;
    set_value(&qc, "audio-out", "01:00:02:00").await;
    qc.find(Locator::Id("clip-file"))
        .await
        .unwrap()
        .send_keys(clip_path.to_str().unwrap())
        .await
        .unwrap();
    wait_for_text(&qc, "#clip-status", "Clip uploaded: 2.002 s").await;
    click(&qc, "#audio-submit").await;
    wait_for_text(&qc, ".flash", "Requested").await;
    let fulfilment = {
        let mut found = None;
        for a in qc
            .find_all(Locator::Css("#audio-requests a"))
            .await
            .unwrap()
        {
            if a.text().await.unwrap() == "es-ES" {
                found = a.attr("href").await.unwrap();
            }
        }
        found.unwrap()
    };

    // Partner A: the clip plays with its timecode; a file one frame short is refused.
    let marta = browser(&driver, &profiles[1]).await;
    sign_in(&marta, &t, "marta@iberiavoices.test").await;
    marta.goto(&t.url(&fulfilment)).await.unwrap();
    wait_until(
        &marta,
        "document.getElementById('clip').readyState >= 1",
        "the clip loads",
    )
    .await;
    let duration = marta
        .execute("return document.getElementById('clip').duration;", vec![])
        .await
        .unwrap();
    assert!(
        (duration.as_f64().unwrap() - 2.002).abs() < 0.01,
        "{duration}"
    );
    marta
        .execute(
            "const v = document.getElementById('clip'); v.currentTime = 1.5;",
            vec![],
        )
        .await
        .unwrap();
    wait_for_text(&marta, "#timecode", "01:00:01:11").await;
    let name = "TheLighthouseKeeper_Lucia_Moments_AsRecord.wav";
    let upload = async |c: &Client, dir: &std::path::Path, samples: u64| {
        let path = dir.join(format!("{samples}")).join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, app::demo_audio::demo_wav(1, 24, samples, 0.3)).unwrap();
        c.find(Locator::Id("talent"))
            .await
            .unwrap()
            .send_keys("Lucia")
            .await
            .unwrap();
        c.find(Locator::Id("delivery-files"))
            .await
            .unwrap()
            .send_keys(path.to_str().unwrap())
            .await
            .unwrap();
    };
    let samples = app::demo_audio::DEMO_CLIP_SAMPLES;
    upload(&marta, profiles[1].path(), samples - 2002).await;
    let refused = wait_for_text(&marta, "#delivery-uploads", "Refused").await;
    assert!(
        refused.contains("2,002 samples") && refused.contains("short"),
        "{refused}"
    );
    assert!(
        marta
            .find(Locator::Id("delivery-submit"))
            .await
            .unwrap()
            .attr("disabled")
            .await
            .unwrap()
            .is_some(),
        "nothing to send"
    );
    // The right length, on a fresh form: a progress bar that fills, then the verdict.
    marta.refresh().await.unwrap();
    upload(&marta, profiles[1].path(), samples).await;
    wait_until(
        &marta,
        "document.querySelector('#delivery-uploads progress') !== null",
        "a progress bar",
    )
    .await;
    wait_for_text(&marta, "#delivery-uploads", "Accepted").await;
    let progress = marta
        .execute(
            "return document.querySelector('#delivery-uploads progress').value;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(progress.as_f64(), Some(100.0));
    click(&marta, "#delivery-submit").await;
    wait_for_text(&marta, ".flash", "Sent").await;
    wait_until(
        &marta,
        "document.querySelector('img.waveform') && document.querySelector('img.waveform').naturalWidth > 0",
        "the waveform is drawn",
    )
    .await;
    assert!(body_text(&marta).await.contains("Version 1"));
    let bell_before = bell_count(&marta).await;

    // The studio comments at a timecode, seeks with its link, and approves.
    qc.goto(&t.url(&fulfilment)).await.unwrap();
    qc.find(Locator::Id("comment-body"))
        .await
        .unwrap()
        .send_keys("The breath at the end is too loud")
        .await
        .unwrap();
    set_value(&qc, "comment-at", "01:00:01:00").await;
    click(&qc, "#comment-form button[type=submit]").await;
    wait_for_text(&qc, ".flash", "Comment posted").await;
    click(&qc, "a.tc[data-seek]").await;
    wait_until(
        &qc,
        "Math.abs(document.getElementById('clip').currentTime - 1.001) < 0.01",
        "the comment's link seeks the player",
    )
    .await;
    wait_for_text(&qc, "#timecode", "01:00:01:00").await;
    click(&qc, "#approve").await;
    wait_for_text(&qc, "#fulfilment-state", "Approved").await;

    // Partner A hears of both: the bell (live) and e-mail.
    wait_for_bell(&marta, bell_before + 2).await;
    t.app.plan_due_emails().await.unwrap();
    t.app.deliver_due_emails().await.unwrap();
    let emls: Vec<String> = std::fs::read_dir(mail_dir.path())
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    let to_marta: Vec<&String> = emls
        .iter()
        .filter(|m| m.contains("marta@iberiavoices.test"))
        .collect();
    assert!(
        to_marta.iter().any(|m| m.contains("approved")),
        "{to_marta:?}"
    );
    assert!(
        to_marta.iter().any(|m| m.contains("breath at the end")),
        "{to_marta:?}"
    );

    // Partner B sees its own language only, and nothing of A's.
    let joao = browser(&driver, &profiles[2]).await;
    sign_in(&joao, &t, "joao@vozdobrasil.test").await;
    joao.goto(&t.url(&format!("/projects/{film}/moments")))
        .await
        .unwrap();
    let seen = body_text(&joao).await;
    assert!(seen.contains("pt-BR"), "{seen}");
    for forbidden in ["es-ES", "Iberia", "Lucia", "Approved"] {
        assert!(
            !seen.contains(forbidden),
            "partner B sees {forbidden:?}: {seen}"
        );
    }
    joao.goto(&t.url(&fulfilment)).await.unwrap();
    assert!(body_text(&joao).await.contains("Not found"));
    for c in [qc, marta, joao] {
        let _ = c.close().await;
    }
}

/// Issue 13 in a real browser: the studio opens an audition for two languages on the Casting
/// page; partner A sends two samples, the first refused by the checker; the studio approves the
/// other and casts it; partner A's open casting overview shows the cast without a reload;
/// partner B sees only its own column.
pub async fn an_audition_from_opening_to_casting(db: TestDb) {
    let Some(driver) = start_driver().await else {
        return;
    };
    let t = TestApp::spawn(db).await;
    let ferry = t.title("Ferry to Jeju").to_string();
    let pm = {
        let s = t
            .app
            .sign_in("pm@northlight.test", crate::harness::PASSWORD, "127.0.0.1")
            .await
            .unwrap();
        t.app
            .authenticate_session(&s.secret)
            .await
            .unwrap()
            .unwrap()
    };
    t.app
        .save_character(
            &pm,
            ferry.parse().unwrap(),
            None,
            &app::guide::CharacterInput {
                name: "Mina".into(),
                kind: "main".into(),
                notes: "Warm, tired, never shouts".into(),
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
    let profiles: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();

    let qc = browser(&driver, &profiles[0]).await;
    sign_in(&qc, &t, "qc@northlight.test").await;
    qc.goto(&t.url(&format!("/projects/{ferry}/casting")))
        .await
        .unwrap();
    click(&qc, "#new-audition summary").await;
    click(&qc, "input[name=languages][value='es-ES']").await;
    click(&qc, "input[name=languages][value='pt-BR']").await;
    click(&qc, "#audio-submit").await;
    wait_for_text(&qc, ".flash", "Audition opened").await;
    let matrix = wait_for_text(&qc, "#casting-matrix", "Open").await;
    assert!(
        matrix.contains("es-ES") && matrix.contains("pt-BR"),
        "{matrix}"
    );

    // Partner A: a stereo sample is refused; a mono one is accepted and sent.
    let marta = browser(&driver, &profiles[1]).await;
    sign_in(&marta, &t, "marta@iberiavoices.test").await;
    marta
        .goto(&t.url(&format!("/projects/{ferry}/casting")))
        .await
        .unwrap();
    click(&marta, "#casting-matrix a").await;
    wait_for_text(&marta, "h1", "Audition: Mina").await;
    let audition = marta.current_url().await.unwrap().to_string();
    let send = async |c: &Client, actor: &str, channels: u16| {
        let path = profiles[1]
            .path()
            .join(format!("{actor}{channels}"))
            .join(format!("Mina_{actor}.wav"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(
            &path,
            app::demo_audio::demo_wav(channels, 24, 40 * 48_000, 0.3),
        )
        .unwrap();
        let talent = c.find(Locator::Id("talent")).await.unwrap();
        talent.clear().await.unwrap();
        talent.send_keys(actor).await.unwrap();
        c.find(Locator::Id("delivery-files"))
            .await
            .unwrap()
            .send_keys(path.to_str().unwrap())
            .await
            .unwrap();
    };
    send(&marta, "Lucia", 2).await;
    let refused = wait_for_text(&marta, "#delivery-uploads", "Refused").await;
    assert!(
        refused.contains("channel") || refused.contains("mono"),
        "{refused}"
    );
    marta.refresh().await.unwrap();
    send(&marta, "Pilar", 1).await;
    wait_for_text(&marta, "#delivery-uploads", "Accepted").await;
    click(&marta, "#delivery-submit").await;
    wait_for_text(&marta, ".flash", "Sent").await;
    assert!(body_text(&marta).await.contains("Sample 1"));
    // A watches the overview while the studio decides.
    marta
        .goto(&t.url(&format!("/projects/{ferry}/casting")))
        .await
        .unwrap();
    wait_for_text(&marta, "#casting-matrix", "Samples in").await;

    qc.goto(&audition).await.unwrap();
    click(&qc, "form.sample-decision button[value=approve]").await;
    wait_for_text(&qc, ".flash", "Decision recorded").await;
    click(&qc, "form.sample-decision button[value=cast]").await;
    wait_for_text(&qc, "#fulfilment-state", "Cast").await;
    let live = wait_for_text(&marta, "#casting-matrix", "Cast").await;
    assert!(live.contains("Pilar"), "{live}");

    // Partner B: its own column only.
    let joao = browser(&driver, &profiles[2]).await;
    sign_in(&joao, &t, "joao@vozdobrasil.test").await;
    joao.goto(&t.url(&format!("/projects/{ferry}/casting")))
        .await
        .unwrap();
    let seen = body_text(&joao).await;
    assert!(seen.contains("pt-BR") && seen.contains("Mina"), "{seen}");
    for forbidden in ["es-ES", "Pilar", "Lucia"] {
        assert!(
            !seen.contains(forbidden),
            "partner B sees {forbidden:?}: {seen}"
        );
    }
    let b_matrix = joao
        .find(Locator::Id("casting-matrix"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        b_matrix.contains("Open") && !b_matrix.contains("Cast"),
        "{b_matrix}"
    );
    for c in [qc, marta, joao] {
        let _ = c.close().await;
    }
}

testkit::both_backends!(db: super => [
    pm_creates_partner_follows,
    badges_and_messages_update_live,
    a_script_request_from_order_to_approval,
    a_moments_clip_from_request_to_approval,
    an_audition_from_opening_to_casting,
]);
