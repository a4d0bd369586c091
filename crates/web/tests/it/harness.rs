//! `TestApp`: boots the real router on an ephemeral port over a fresh database and signs demo
//! users in, the way a browser would (cookie + CSRF token scraped from the page).

use app::App;
use reqwest::StatusCode;
use reqwest::redirect::Policy;
use std::collections::HashMap;
use testkit::TestDb;
use tokio::sync::oneshot;

pub const PASSWORD: &str = app::demo::DEMO_PASSWORD;

pub struct TestApp {
    pub base: String,
    pub app: App,
    pub _db: TestDb,
    /// Demo title name → project id.
    pub titles: HashMap<&'static str, String>,
    /// Demo e-mail → user id.
    pub users: HashMap<String, String>,
    /// Where this instance keeps attached files.
    pub files: tempfile::TempDir,
    _stop: oneshot::Sender<()>,
}

impl TestApp {
    /// Boots the server on `db` with the demo data loaded.
    pub async fn spawn(db: TestDb) -> TestApp {
        Self::spawn_with(db, |a| a).await
    }

    pub async fn spawn_with(db: TestDb, configure: impl FnOnce(App) -> App) -> TestApp {
        Self::spawn_configured(db, configure, |_| {}).await
    }

    /// Boots the server with the HTTP layer's settings changed by `web`.
    pub async fn spawn_web(db: TestDb, web: impl FnOnce(&mut web::WebConfig)) -> TestApp {
        Self::spawn_configured(db, |a| a, web).await
    }

    pub async fn spawn_configured(
        db: TestDb,
        configure: impl FnOnce(App) -> App,
        web: impl FnOnce(&mut web::WebConfig),
    ) -> TestApp {
        let files = tempfile::tempdir().unwrap();
        let app = configure(
            App::new(db.store.clone()).with_files(app::files::FileStore::new(files.path())),
        );
        app.seed_demo_base().await.expect("demo data");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let served = app.clone();
        let mut config = web::WebConfig::new(base.clone());
        web(&mut config);
        tokio::spawn(async move {
            let _ = web::serve(listener, served, config, async {
                let _ = stopped.await;
            })
            .await;
        });
        let mut titles = HashMap::new();
        {
            let mut tx = app.store.read().await.unwrap();
            for (name, movie_id) in [
                ("The Lighthouse Keeper", 81000001),
                ("Harbour Lights", 81000100),
                ("Northern Frontier", 81000200),
                ("Ferry to Jeju", 81000300),
            ] {
                let id = tx
                    .project_id_by_movie_id(domain::MovieId::new(movie_id).unwrap())
                    .await
                    .unwrap()
                    .unwrap();
                titles.insert(name, id.to_string());
            }
        }
        let users = app
            .list_users(domain::Actor::Operator)
            .await
            .unwrap()
            .into_iter()
            .map(|u| (u.user.email.to_string(), u.user.id.to_string()))
            .collect();
        TestApp {
            base,
            app,
            _db: db,
            titles,
            users,
            files,
            _stop: stop,
        }
    }

    /// A second portal instance on the same database (as a scale-out deployment runs it).
    /// Returns its base URL; it stops when the returned sender is dropped.
    pub async fn second_instance(&self) -> (String, oneshot::Sender<()>) {
        self.second_instance_with(app::files::FileStore::new(self.files.path()))
            .await
    }

    /// A second portal instance on the same database with its own file store (e.g. its own
    /// disk and a shared bucket).
    pub async fn second_instance_with(
        &self,
        files: app::files::FileStore,
    ) -> (String, oneshot::Sender<()>) {
        let store = self._db.open_another().await;
        let app = App::new(store).with_files(files);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (stop, stopped) = oneshot::channel::<()>();
        let config = web::WebConfig::new(base.clone());
        tokio::spawn(async move {
            let _ = web::serve(listener, app, config, async {
                let _ = stopped.await;
            })
            .await;
        });
        (base, stop)
    }

    pub fn title(&self, name: &str) -> &str {
        self.titles.get(name).map(String::as_str).unwrap()
    }

    pub fn user_id(&self, email: &str) -> &str {
        self.users.get(email).map(String::as_str).unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// A browser-like client that has not signed in (it has fetched the sign-in page, so it
    /// holds the pre-session CSRF cookie).
    pub async fn anonymous(&self) -> Session {
        self.anonymous_with(client()).await
    }

    /// [`Self::anonymous`] from another loopback address (`127.0.0.2` …), as a second machine.
    pub async fn anonymous_from(&self, address: &str) -> Session {
        self.anonymous_with(client_from(address)).await
    }

    async fn anonymous_with(&self, client: reqwest::Client) -> Session {
        let page = client.get(self.url("/sign-in")).send().await.unwrap();
        let html = page.text().await.unwrap();
        Session {
            base: self.base.clone(),
            client,
            csrf: scrape_csrf(&html).unwrap_or_default(),
            email: None,
        }
    }

    /// Signs `email` in with the demo password.
    pub async fn sign_in(&self, email: &str) -> Session {
        let mut s = self.anonymous().await;
        let resp = s
            .client
            .post(self.url("/sign-in"))
            .form(&[
                ("email", email),
                ("password", PASSWORD),
                ("csrf", &s.csrf),
                ("next", "/tasks"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER, "sign-in of {email}");
        let html = s
            .client
            .get(self.url("/tasks"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        s.csrf = scrape_csrf(&html).expect("signed-in page carries a CSRF token");
        s.email = Some(email.to_string());
        s
    }
}

pub fn client() -> reqwest::Client {
    testkit::install_tls();
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// [`client`] whose connections come from `address` (any 127.x.y.z works on Linux loopback).
pub fn client_from(address: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .local_address(address.parse::<std::net::IpAddr>().unwrap())
        .build()
        .unwrap()
}

pub fn scrape_csrf(html: &str) -> Option<String> {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_string())
}

/// One browser (cookie jar) with its CSRF token.
pub struct Session {
    pub base: String,
    pub client: reqwest::Client,
    pub csrf: String,
    pub email: Option<String>,
}

impl Session {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Posts the sign-in form once, as this browser, and returns the raw answer.
    pub async fn sign_in_attempt(&self, email: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/sign-in"))
            .form(&[
                ("email", email),
                ("password", password),
                ("csrf", &self.csrf),
            ])
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str) -> (StatusCode, String) {
        let r = self.client.get(self.url(path)).send().await.unwrap();
        let status = r.status();
        (status, r.text().await.unwrap())
    }

    /// Posts a form with this session's CSRF token.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> (StatusCode, String) {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf", &self.csrf));
        let r = self
            .client
            .post(self.url(path))
            .form(&all)
            .send()
            .await
            .unwrap();
        let status = r.status();
        (status, r.text().await.unwrap())
    }

    /// The id of a project's channel this session can list: a language's vendor channel, or
    /// Broadcast for `None`.
    pub async fn channel_id(&self, project: &str, language: Option<&str>) -> String {
        let (_, list) = self
            .api(
                reqwest::Method::GET,
                &format!("/api/v1/projects/{project}/channels"),
                None,
            )
            .await;
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| match language {
                Some(l) => c["language"] == l,
                None => c["kind"] == "broadcast",
            })
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Calls the JSON API with the session cookie and the CSRF header, as the pages' scripts do.
    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> (StatusCode, serde_json::Value) {
        let mut req = self
            .client
            .request(method, self.url(path))
            .header("x-csrf-token", &self.csrf);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        )
    }
}

/// An open SSE connection: events arrive as (event name, data) on the receiver.
pub async fn sse(
    client: &reqwest::Client,
    url: &str,
    last_event_id: Option<&str>,
) -> tokio::sync::mpsc::UnboundedReceiver<(String, String)> {
    let mut req = client.get(url).header("accept", "text/event-stream");
    if let Some(id) = last_event_id {
        req = req.header("last-event-id", id);
    }
    let mut resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200, "SSE at {url}");
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut buf = String::new();
        while let Ok(Some(chunk)) = resp.chunk().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                let mut name = String::from("message");
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim());
                    }
                }
                if !data.is_empty() && tx.send((name, data)).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

/// The next event named `name` within `wait`, skipping others; None if none came.
pub async fn next_named(
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<(String, String)>,
    name: &str,
    wait: std::time::Duration,
) -> Option<serde_json::Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let left = deadline.checked_duration_since(tokio::time::Instant::now())?;
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some((n, data))) if n == name => return serde_json::from_str(&data).ok(),
            Ok(Some(_)) => continue,
            _ => return None,
        }
    }
}

/// Calls the API with a bearer token.
pub async fn bearer(
    base: &str,
    token: &str,
    method: reqwest::Method,
    path: &str,
    body: Option<serde_json::Value>,
) -> (StatusCode, serde_json::Value) {
    let mut req = client()
        .request(method, format!("{base}{path}"))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let r = req.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}
