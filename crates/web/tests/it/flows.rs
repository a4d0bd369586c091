//! What users do, end to end over HTTP: sign in and out, projects through the form and the API,
//! following, API tokens, administration.

use crate::harness::{TestApp, bearer, client};
use reqwest::Method;
use serde_json::json;
use testkit::TestDb;

pub async fn sign_in_out_and_cookies(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let anon = t.anonymous().await;
    let r = anon
        .client
        .post(t.url("/sign-in"))
        .form(&[
            ("email", "PM@Northlight.test "),
            ("password", crate::harness::PASSWORD),
            ("csrf", &anon.csrf),
            ("next", "/find?q=x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        303,
        "e-mail addresses are compared case-insensitively"
    );
    assert_eq!(r.headers()["location"], "/find?q=x");
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("lp_session="));
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http: no Secure flag");
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    // An open redirect is not followed.
    let anon = t.anonymous().await;
    let r = anon
        .client
        .post(t.url("/sign-in"))
        .form(&[
            ("email", "pm@northlight.test"),
            ("password", crate::harness::PASSWORD),
            ("csrf", &anon.csrf),
            ("next", "//evil.example/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/");

    let pm = t.sign_in("pm@northlight.test").await;
    assert_eq!(pm.get("/").await.0, 200);
    let (status, _) = pm.post_form("/sign-out", &[]).await;
    assert_eq!(status, 303);
    assert_eq!(
        pm.get("/").await.0,
        303,
        "the session is gone after signing out"
    );
}

pub async fn failed_sign_ins_are_slowed_down(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let anon = t.anonymous().await;
    let attempt =
        |password: &'static str| anon.sign_in_attempt("marta@iberiavoices.test", password);
    for _ in 0..5 {
        let r = attempt("wrong password!").await;
        assert_eq!(r.status(), 401);
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("Wrong e-mail address or password")
        );
    }
    // The sixth attempt, even with the right password, must wait.
    let r = attempt(crate::harness::PASSWORD).await;
    assert_eq!(r.status(), 429);
    assert!(r.text().await.unwrap().contains("Too many failed sign-ins"));
    // An unknown account looks exactly like a wrong password.
    let r = anon
        .client
        .post(t.url("/sign-in"))
        .form(&[
            ("email", "nobody@nowhere.test"),
            ("password", "whatever12345"),
            ("csrf", &anon.csrf),
        ])
        .send()
        .await
        .unwrap();
    assert!(r.status() == 401 || r.status() == 429, "{}", r.status());
}

pub async fn project_form_creates_and_validates(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let pm = t.sign_in("pm@northlight.test").await;
    let orgs = t.app.list_orgs(domain::Actor::Operator).await.unwrap();
    let org = |n: &str| {
        orgs.iter()
            .find(|o| o.name.as_str() == n)
            .unwrap()
            .id
            .to_string()
    };
    let a = org(app::demo::PARTNER_A);
    let b = org(app::demo::PARTNER_B);

    // Inline errors: bad language tag, episode on a film, a taken movie ID.
    let (status, html) = pm
        .post_form(
            "/projects",
            &[
                ("movie_id", "81000001"),
                ("name", "Dup"),
                ("kind", "film"),
                ("original_language", "en"),
                ("target_languages", "es-ES, english"),
                ("episodes", ""),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("is not a BCP 47 language tag"), "{html}");
    let (status, html) = pm
        .post_form(
            "/projects",
            &[
                ("movie_id", "81000001"),
                ("name", "Dup"),
                ("kind", "film"),
                ("original_language", "en"),
                ("target_languages", "fr-FR"),
                ("episodes", ""),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        html.contains("already used"),
        "a taken movie ID is named: {html}"
    );
    assert!(
        html.contains("value=\"Dup\""),
        "the form comes back as typed"
    );

    // A series with two episodes and two languages assigned to two partners.
    let (status, _) = pm
        .post_form(
            "/projects",
            &[
                ("movie_id", "82000000"),
                ("name", "Tidewater"),
                ("kind", "series"),
                ("original_language", "en"),
                ("target_languages", "es-ES, pt-BR"),
                ("episodes", "S1E1 82000001 Low Tide\nS1E2 82000002"),
                ("a_language", "es-ES"),
                ("a_service", "dubbing"),
                ("a_org", &a),
                ("a_language", "pt-BR"),
                ("a_service", "subtitles"),
                ("a_org", &b),
                ("a_language", ""),
                ("a_service", ""),
                ("a_org", ""),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let (_, found) = pm
        .api(Method::GET, "/api/v1/projects?q=82000002", None)
        .await;
    assert_eq!(
        found["items"][0]["name"], "Tidewater",
        "episode movie IDs find their series"
    );
    let id = found["items"][0]["id"].as_str().unwrap().to_string();
    let (_, p) = pm
        .api(Method::GET, &format!("/api/v1/projects/{id}"), None)
        .await;
    assert_eq!(p["seasons"][0]["episodes"].as_array().unwrap().len(), 2);
    assert_eq!(p["assignments"].as_array().unwrap().len(), 2);

    // The edit form shows what is stored, and saving it unchanged keeps episode ids.
    let (status, html) = pm.get(&format!("/projects/{id}/edit")).await;
    assert_eq!(status, 200);
    assert!(html.contains("S1E1 82000001 Low Tide"));
    let episode_id = p["seasons"][0]["episodes"][0]["id"].clone();
    let (status, _) = pm
        .post_form(
            &format!("/projects/{id}"),
            &[
                ("movie_id", "82000000"),
                ("name", "Tidewater (2026)"),
                ("kind", "series"),
                ("original_language", "en"),
                ("target_languages", "es-ES, pt-BR"),
                ("episodes", "S1E1 82000001 Low Tide\nS1E2 82000002"),
                ("a_language", "es-ES"),
                ("a_service", "dubbing"),
                ("a_org", &a),
            ],
        )
        .await;
    assert_eq!(status, 303);
    let (_, p) = pm
        .api(Method::GET, &format!("/api/v1/projects/{id}"), None)
        .await;
    assert_eq!(p["name"], "Tidewater (2026)");
    assert_eq!(p["seasons"][0]["episodes"][0]["id"], episode_id);
    assert_eq!(p["assignments"].as_array().unwrap().len(), 1);

    // Partner B lost its only assignment: the title is gone for B.
    let joao = t.sign_in("joao@vozdobrasil.test").await;
    assert_eq!(joao.get(&format!("/projects/{id}")).await.0, 404);
}

pub async fn api_projects_and_losing_access(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let pm = t.sign_in("pm@northlight.test").await;
    let (_, partners) = pm.api(Method::GET, "/api/v1/partners", None).await;
    let pid = |name: &str| {
        partners["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == name)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let body = json!({
        "movie_id": 83000000, "name": "Salt Roads", "kind": "film", "original_language": "en",
        "target_languages": ["es-ES", "ja"],
        "assignments": [
            {"language": "es-ES", "service": "dubbing", "partner_id": pid(app::demo::PARTNER_A)},
            {"language": "ja", "service": "dubbing", "partner_id": pid(app::demo::PARTNER_C)}
        ]
    });
    let (status, created) = pm
        .api(Method::POST, "/api/v1/projects", Some(body.clone()))
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_string();

    // Field errors come back per field.
    let (status, err) = pm
        .api(Method::POST, "/api/v1/projects", Some(body.clone()))
        .await;
    assert_eq!(status, 409);
    assert_eq!(err["error"]["fields"][0]["field"], "movie_id");
    let (status, err) = pm
        .api(
            Method::POST,
            "/api/v1/projects",
            Some(json!({"movie_id": "eleven"})),
        )
        .await;
    // Read but of the wrong shape: 422 naming the field (a required one missing is the same).
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["fields"][0]["field"], "movie_id", "{err}");
    let (status, err) = pm
        .api(Method::POST, "/api/v1/projects", Some(json!({"name": "x"})))
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["fields"][0]["field"], "movie_id", "{err}");
    // Nonsense in App Settings is refused, naming each problem: not a tag, a list in one
    // string, a language the partner is not assigned.
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let (status, err) = marta
        .api(
            Method::PUT,
            "/api/v1/settings",
            Some(json!({"internal_messages": false, "languages": ["AAA", "de, fr", "es-ES"]})),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    let problems: Vec<&str> = err["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(problems.len(), 2, "{err}");
    assert!(problems[0].contains("\"de, fr\""), "{err}");
    assert!(problems[1].contains("not assigned aaa"), "{err}");
    let (_, s) = marta.api(Method::GET, "/api/v1/settings", None).await;
    assert_eq!(s["languages"], json!([]), "nothing was saved");
    // Muting a title one does not follow (or cannot see) is refused, not dropped.
    let (status, err) = marta
        .api(
            Method::PUT,
            "/api/v1/settings/email",
            Some(json!({"frequency": "hourly", "mentions_immediately": true,
                        "muted_projects": ["0190a0b0-0000-7000-8000-000000000000"]})),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["error"]["fields"][0]["field"], "muted_projects");
    let (_, e) = marta.api(Method::GET, "/api/v1/settings/email", None).await;
    assert_ne!(e["frequency"], "hourly", "nothing was saved");

    // Partner A follows it, sees it on My Projects, and only its own language.
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let (status, _) = marta
        .api(Method::PUT, &format!("/api/v1/projects/{id}/follow"), None)
        .await;
    assert_eq!(status, 204);
    let (_, mine) = marta.api(Method::GET, "/api/v1/my-projects", None).await;
    let row = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(row["languages"], json!(["es-ES"]));
    let (_, seen) = marta
        .api(Method::GET, &format!("/api/v1/projects/{id}"), None)
        .await;
    assert_eq!(seen["target_languages"], json!(["es-ES"]));
    assert_eq!(seen["assignments"].as_array().unwrap().len(), 1);
    assert_eq!(seen["can_edit"], false);
    // The robot told A in its channel, and A writes there.
    let a_es = marta.channel_id(&id, Some("es-ES")).await;
    let (_, page) = marta
        .api(
            Method::GET,
            &format!("/api/v1/channels/{a_es}/messages"),
            None,
        )
        .await;
    assert_eq!(page["messages"][0]["author"]["robot"], true);
    assert_eq!(
        page["messages"][0]["body"],
        "Dubbing for Spanish (Spain) (es-ES) on Salt Roads is now assigned to Iberia Voices. This channel is private between Iberia Voices and the studio."
    );
    let (status, _) = marta
        .api(
            Method::POST,
            &format!("/api/v1/channels/{a_es}/messages"),
            Some(json!({"body": "Iberia casting shortlist: confidential rates attached"})),
        )
        .await;
    assert_eq!(status, 201);

    // The studio moves es-ES to partner B: partner A loses the title everywhere at once.
    let mut moved = body.clone();
    moved["assignments"][0]["partner_id"] = json!(pid(app::demo::PARTNER_B));
    let (status, _) = pm
        .api(Method::PUT, &format!("/api/v1/projects/{id}"), Some(moved))
        .await;
    assert_eq!(status, 200);
    let (status, _) = marta
        .api(Method::GET, &format!("/api/v1/projects/{id}"), None)
        .await;
    assert_eq!(status, 404);
    let (_, mine) = marta.api(Method::GET, "/api/v1/my-projects", None).await;
    assert!(
        mine["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["id"] != id.as_str())
    );
    let (_, found) = marta
        .api(Method::GET, "/api/v1/projects?q=Salt", None)
        .await;
    assert_eq!(found["items"], json!([]));
    let (status, _) = marta
        .api(
            Method::GET,
            &format!("/api/v1/channels/{a_es}/messages"),
            None,
        )
        .await;
    assert_eq!(status, 404);

    // B takes es-ES over in a channel of its own: it never reads A's conversation.
    let joao = t.sign_in("joao@vozdobrasil.test").await;
    let b_es = joao.channel_id(&id, Some("es-ES")).await;
    assert_ne!(b_es, a_es);
    let (status, _) = joao
        .api(
            Method::GET,
            &format!("/api/v1/channels/{a_es}/messages"),
            None,
        )
        .await;
    assert_eq!(status, 404);
    let (_, page) = joao
        .api(
            Method::GET,
            &format!("/api/v1/channels/{b_es}/messages"),
            None,
        )
        .await;
    let bodies: Vec<&str> = page["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        vec![
            "Dubbing for Spanish (Spain) (es-ES) on Salt Roads is now assigned to Voz do Brasil Estúdios. This channel is private between Voz do Brasil Estúdios and the studio."
        ]
    );
    let (_, hits) = joao
        .api(Method::GET, "/api/v1/search?q=casting%20shortlist", None)
        .await;
    assert_eq!(
        hits["items"],
        json!([]),
        "B finds nothing of A's conversation"
    );
    // The studio keeps both conversations, told apart by partner; A's was told it ended.
    let (_, channels) = pm
        .api(
            Method::GET,
            &format!("/api/v1/projects/{id}/channels"),
            None,
        )
        .await;
    let labels: Vec<&str> = channels["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert!(
        labels.contains(&"Spanish (Spain) · es-ES · Iberia Voices (no longer assigned)"),
        "{labels:?}"
    );
    assert!(
        labels.contains(&"Spanish (Spain) · es-ES · Voz do Brasil Estúdios"),
        "{labels:?}"
    );
    let (_, page) = pm
        .api(
            Method::GET,
            &format!("/api/v1/channels/{a_es}/messages"),
            None,
        )
        .await;
    let last = page["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        last["body"],
        "Dubbing for Spanish (Spain) (es-ES) on Salt Roads is no longer assigned to Iberia Voices."
    );
}

pub async fn following_fills_my_projects(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let qc = t.sign_in("qc@northlight.test").await;
    let (_, html) = qc.get("/").await;
    assert!(html.contains("You do not follow any titles yet"));
    let id = t.title("Northern Frontier");
    let (status, _) = qc
        .post_form(
            &format!("/projects/{id}/follow"),
            &[("back", "/find?q=north")],
        )
        .await;
    assert_eq!(status, 303);
    let (_, html) = qc.get("/").await;
    assert!(html.contains("Northern Frontier"));
    let (_, html) = qc.get("/find?q=north").await;
    assert!(html.contains("Unfollow"));
    qc.post_form(&format!("/projects/{id}/unfollow"), &[]).await;
    let (_, html) = qc.get("/").await;
    assert!(!html.contains("Northern Frontier"));
}

pub async fn api_tokens_work_and_can_be_revoked(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let marta = t.sign_in("marta@iberiavoices.test").await;
    let (status, created) = marta
        .api(
            Method::POST,
            "/api/v1/tokens",
            Some(json!({"name": "delivery bot"})),
        )
        .await;
    assert_eq!(status, 201);
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("lpt_"));
    let (status, me) = bearer(&t.base, &secret, Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, 200);
    assert_eq!(me["email"], "marta@iberiavoices.test");
    // Bearer calls need no CSRF token.
    let id = t.title("Harbour Lights");
    let (status, _) = bearer(
        &t.base,
        &secret,
        Method::PUT,
        &format!("/api/v1/projects/{id}/follow"),
        None,
    )
    .await;
    assert_eq!(status, 204);
    // The secret is never listed again.
    let (_, list) = marta.api(Method::GET, "/api/v1/tokens", None).await;
    assert!(!list.to_string().contains(&secret));
    let token_id = created["token"]["id"].as_str().unwrap();
    // Someone else cannot revoke it.
    let joao = t.sign_in("joao@vozdobrasil.test").await;
    let (status, _) = joao
        .api(Method::DELETE, &format!("/api/v1/tokens/{token_id}"), None)
        .await;
    assert_eq!(status, 404);
    let (status, _) = marta
        .api(Method::DELETE, &format!("/api/v1/tokens/{token_id}"), None)
        .await;
    assert_eq!(status, 204);
    let (status, err) = bearer(&t.base, &secret, Method::GET, "/api/v1/me", None).await;
    assert_eq!(status, 401);
    assert_eq!(err["error"]["code"], "invalid_token");
    // The page shows a new token once.
    let (status, html) = marta
        .post_form("/settings/tokens", &[("name", "laptop")])
        .await;
    assert_eq!(status, 200);
    assert!(html.contains("shown only once") && html.contains("lpt_"));
    let (_, html) = marta.get("/settings/tokens").await;
    assert!(!html.contains("lpt_"));
}

pub async fn admins_manage_orgs_users_and_roles(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let admin = t.sign_in("admin@northlight.test").await;
    let (status, _) = admin
        .post_form(
            "/admin/orgs",
            &[("name", "Nordic Subtitles AB"), ("kind", "partner")],
        )
        .await;
    assert_eq!(status, 303);
    let (status, html) = admin
        .post_form(
            "/admin/orgs",
            &[("name", "nordic subtitles ab"), ("kind", "partner")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("already exists"));
    let (status, html) = admin
        .post_form(
            "/admin/orgs",
            &[("name", "Second Studio"), ("kind", "studio")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("already the studio"));

    let (status, _) = admin
        .post_form(
            "/admin/users",
            &[
                ("email", "sven@nordicsubs.test"),
                ("display_name", "Sven Berg"),
                ("org", "Nordic Subtitles AB"),
                ("password", "a long enough phrase"),
                ("roles", "portal_user"),
            ],
        )
        .await;
    assert_eq!(status, 303);
    // Studio-only roles cannot be given to a partner user.
    let (status, html) = admin
        .post_form(
            "/admin/users",
            &[
                ("email", "eva@nordicsubs.test"),
                ("display_name", "Eva"),
                ("org", "Nordic Subtitles AB"),
                ("roles", "portal_user"),
                ("roles", "admin"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(html.contains("studio roles"));

    // The new partner user signs in and sees nothing: no assignment yet.
    let sven_client = client();
    let page = sven_client
        .get(t.url("/sign-in"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let pre = crate::harness::scrape_csrf(&page).unwrap();
    let r = sven_client
        .post(t.url("/sign-in"))
        .form(&[
            ("email", "sven@nordicsubs.test"),
            ("password", "a long enough phrase"),
            ("csrf", pre.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let found: serde_json::Value = sven_client
        .get(t.url("/api/v1/projects"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(found["items"], json!([]));

    // Roles through the API; an admin cannot remove their own admin role; disabling signs out.
    let (_, users) = admin.api(Method::GET, "/api/v1/users", None).await;
    let sven = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "sven@nordicsubs.test")
        .unwrap();
    let sven_id = sven["id"].as_str().unwrap();
    let (status, u) = admin
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{sven_id}"),
            Some(json!({"roles": ["author"]})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(u["roles"], json!(["author"]));
    let r = sven_client.get(t.url("/")).send().await.unwrap();
    assert_eq!(
        r.status(),
        403,
        "roles apply to the existing session at once"
    );
    let admin_id = t.user_id("admin@northlight.test");
    let (status, err) = admin
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{admin_id}"),
            Some(json!({"roles": ["portal_user"]})),
        )
        .await;
    assert_eq!(status, 422, "{err}");
    let (status, _) = admin
        .api(
            Method::PATCH,
            &format!("/api/v1/users/{sven_id}"),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(status, 200);
    let r = sven_client.get(t.url("/tasks")).send().await.unwrap();
    assert_eq!(r.status(), 303, "a disabled account is signed out");
}

pub async fn demo_data_is_idempotent(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let before = (
        t.app
            .list_orgs(domain::Actor::Operator)
            .await
            .unwrap()
            .len(),
        t.app
            .list_users(domain::Actor::Operator)
            .await
            .unwrap()
            .len(),
    );
    t.app.seed_demo().await.unwrap();
    let after = (
        t.app
            .list_orgs(domain::Actor::Operator)
            .await
            .unwrap()
            .len(),
        t.app
            .list_users(domain::Actor::Operator)
            .await
            .unwrap()
            .len(),
    );
    assert_eq!(before, after);
    assert_eq!(before, (4, 10));
    let pm = t.sign_in("pm@northlight.test").await;
    let (_, all) = pm.api(Method::GET, "/api/v1/projects", None).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 4);
}

testkit::both_backends!(db: super => [
    sign_in_out_and_cookies,
    failed_sign_ins_are_slowed_down,
    project_form_creates_and_validates,
    api_projects_and_losing_access,
    following_fills_my_projects,
    api_tokens_work_and_can_be_revoked,
    admins_manage_orgs_users_and_roles,
    demo_data_is_idempotent,
]);
