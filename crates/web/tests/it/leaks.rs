//! Partners never see each other. Partner A crawls everything it can reach — every page, every
//! API route, every search it could type — and nothing of partners B or C may appear.

use crate::harness::{Session, TestApp};
use reqwest::Method;
use testkit::TestDb;

/// Everything partner A can read, concatenated.
async fn crawl(t: &TestApp, s: &Session) -> String {
    let mut seen = String::new();
    // The finder echoes the query, so the queries avoid the forbidden words themselves.
    let queries = [
        "", "8", "81", "810000", "8100020", "8100010", "Northern", "Frontier", "north", "Harbour",
        "Light", "Tokyo", "do", "e", "a",
    ];
    for q in queries {
        seen.push_str(&s.get(&format!("/find?q={q}")).await.1);
        seen.push_str(
            &s.api(Method::GET, &format!("/api/v1/projects?q={q}"), None)
                .await
                .1
                .to_string(),
        );
    }
    seen.push_str(&s.get("/").await.1);
    seen.push_str(
        &s.api(Method::GET, "/api/v1/my-projects", None)
            .await
            .1
            .to_string(),
    );
    seen.push_str(&s.api(Method::GET, "/api/v1/me", None).await.1.to_string());
    for id in t.titles.values() {
        seen.push_str(&s.get(&format!("/projects/{id}")).await.1);
        seen.push_str(&s.get(&format!("/projects/{id}/edit")).await.1);
        seen.push_str(
            &s.api(Method::GET, &format!("/api/v1/projects/{id}"), None)
                .await
                .1
                .to_string(),
        );
    }
    for path in [
        "/admin/users",
        "/admin/orgs",
        "/settings/tokens",
        "/settings/account",
        "/tasks",
        "/projects/new",
        "/settings/app",
    ] {
        seen.push_str(&s.get(path).await.1);
    }
    for path in [
        "/api/v1/orgs",
        "/api/v1/users",
        "/api/v1/partners",
        "/api/v1/tokens",
        "/api/v1/settings",
    ] {
        seen.push_str(&s.api(Method::GET, path, None).await.1.to_string());
    }
    // Every channel the partner can list, and every message in it.
    for id in t.titles.values() {
        let (_, list) = s
            .api(
                Method::GET,
                &format!("/api/v1/projects/{id}/channels"),
                None,
            )
            .await;
        seen.push_str(&list.to_string());
        seen.push_str(&s.get(&format!("/projects/{id}/channels")).await.1);
        for c in list["items"].as_array().cloned().unwrap_or_default() {
            let cid = c["id"].as_str().unwrap_or_default();
            let (_, messages) = s
                .api(
                    Method::GET,
                    &format!("/api/v1/channels/{cid}/messages"),
                    None,
                )
                .await;
            seen.push_str(&messages.to_string());
            seen.push_str(&s.get(&format!("/channels/{cid}")).await.1);
            // Every file it is offered, downloaded (the name comes back in the headers).
            for m in messages["messages"].as_array().cloned().unwrap_or_default() {
                for a in m["attachments"].as_array().cloned().unwrap_or_default() {
                    let r = s
                        .client
                        .get(s.url(a["url"].as_str().unwrap_or_default()))
                        .send()
                        .await
                        .unwrap();
                    assert_eq!(r.status(), 200);
                    seen.push_str(&format!("{:?}", r.headers()));
                }
            }
        }
    }
    // Requests: every title's table, CSV and members, and every request the studio lists.
    for id in t.titles.values() {
        for path in [
            format!("/projects/{id}/requests"),
            format!("/projects/{id}/requests.csv"),
            format!("/projects/{id}/members"),
        ] {
            seen.push_str(&s.get(&path).await.1);
        }
        for path in [
            format!("/api/v1/projects/{id}/requests?limit=200"),
            format!("/api/v1/projects/{id}/members"),
        ] {
            seen.push_str(&s.api(Method::GET, &path, None).await.1.to_string());
        }
    }
    for r in all_requests(t).await {
        seen.push_str(&s.get(&format!("/requests/{r}")).await.1);
        let (_, d) = s
            .api(Method::GET, &format!("/api/v1/requests/{r}"), None)
            .await;
        seen.push_str(&d.to_string());
        for f in d["files"].as_array().cloned().unwrap_or_default() {
            let resp = s
                .client
                .get(s.url(f["url"].as_str().unwrap_or_default()))
                .send()
                .await
                .unwrap();
            seen.push_str(&format!("{:?}", resp.headers()));
        }
    }
    // Audio fulfilment: every title's Moments tab, and every fulfilment the studio lists with
    // its clip, files and waveforms; the bell, where comments and decisions arrive.
    for id in t.titles.values() {
        seen.push_str(&s.get(&format!("/projects/{id}/moments")).await.1);
        seen.push_str(
            &s.api(
                Method::GET,
                &format!("/api/v1/projects/{id}/audio-requests"),
                None,
            )
            .await
            .1
            .to_string(),
        );
    }
    for (f, clip, files) in all_fulfilments(t).await {
        seen.push_str(&s.get(&format!("/fulfilments/{f}")).await.1);
        seen.push_str(
            &s.api(Method::GET, &format!("/api/v1/fulfilments/{f}"), None)
                .await
                .1
                .to_string(),
        );
        let mut paths = vec![
            format!("/audio-requests/{clip}/clip"),
            format!("/api/v1/audio-requests/{clip}/clip"),
        ];
        for x in files {
            paths.push(format!("/delivery-files/{x}"));
            paths.push(format!("/delivery-files/{x}/waveform.svg"));
            paths.push(format!("/api/v1/delivery-files/{x}"));
            paths.push(format!("/api/v1/delivery-files/{x}/waveform"));
        }
        for path in paths {
            let r = s.client.get(s.url(&path)).send().await.unwrap();
            seen.push_str(&format!("{:?}", r.headers()));
            if r.status().is_success() {
                seen.push_str(&String::from_utf8_lossy(&r.bytes().await.unwrap()));
            }
        }
    }
    // The Show Guide (every language it offers) and casting of every title, and its files.
    for id in t.titles.values() {
        for path in [
            format!("/projects/{id}/guide"),
            format!("/projects/{id}/guide.csv"),
            format!("/projects/{id}/casting"),
        ] {
            seen.push_str(&s.get(&path).await.1);
        }
        let (_, g) = s
            .api(Method::GET, &format!("/api/v1/projects/{id}/guide"), None)
            .await;
        seen.push_str(&g.to_string());
        for l in ["es-ES", "pt-BR", "ja", "en", "ko", "ca-ES"] {
            seen.push_str(&s.get(&format!("/projects/{id}/guide?language={l}")).await.1);
            seen.push_str(
                &s.api(
                    Method::GET,
                    &format!("/api/v1/projects/{id}/guide?language={l}"),
                    None,
                )
                .await
                .1
                .to_string(),
            );
        }
        for path in [
            format!("/api/v1/projects/{id}/guide/diff?from=0&to=100"),
            format!("/api/v1/projects/{id}/casting"),
        ] {
            seen.push_str(&s.api(Method::GET, &path, None).await.1.to_string());
        }
    }
    seen.push_str(&s.get("/notifications").await.1);
    seen.push_str(
        &s.api(Method::GET, "/api/v1/notifications?limit=200", None)
            .await
            .1
            .to_string(),
    );
    seen.push_str(&s.get("/tasks").await.1);
    seen.push_str(
        &s.api(Method::GET, "/api/v1/tasks", None)
            .await
            .1
            .to_string(),
    );
    for q in ["has:attachment", "casting", "team", "schedule", "file"] {
        seen.push_str(&s.get(&format!("/search?q={q}")).await.1);
        seen.push_str(
            &s.api(Method::GET, &format!("/api/v1/search?q={q}"), None)
                .await
                .1
                .to_string(),
        );
    }
    seen
}

/// Every request of every title, as the studio lists them.
async fn all_requests(t: &TestApp) -> Vec<String> {
    let pm = t.sign_in("pm@northlight.test").await;
    let mut out = Vec::new();
    for id in t.titles.values() {
        let (_, list) = pm
            .api(
                Method::GET,
                &format!("/api/v1/projects/{id}/requests?limit=200"),
                None,
            )
            .await;
        for r in list["items"].as_array().cloned().unwrap_or_default() {
            out.push(r["id"].as_str().unwrap_or_default().to_string());
        }
    }
    out
}

/// Every fulfilment of every title as the studio lists them: its id, its request's id (for the
/// clip) and its files.
async fn all_fulfilments(t: &TestApp) -> Vec<(String, String, Vec<String>)> {
    let pm = t.sign_in("pm@northlight.test").await;
    let mut out = Vec::new();
    for id in t.titles.values() {
        let (_, list) = pm
            .api(
                Method::GET,
                &format!("/api/v1/projects/{id}/audio-requests"),
                None,
            )
            .await;
        for r in list.as_array().cloned().unwrap_or_default() {
            for f in r["fulfilments"].as_array().cloned().unwrap_or_default() {
                let fid = f["id"].as_str().unwrap_or_default().to_string();
                let (_, d) = pm
                    .api(Method::GET, &format!("/api/v1/fulfilments/{fid}"), None)
                    .await;
                let files = d["versions"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .iter()
                    .flat_map(|v| v["files"].as_array().cloned().unwrap_or_default())
                    .map(|x| x["id"].as_str().unwrap_or_default().to_string())
                    .collect();
                out.push((fid, r["id"].as_str().unwrap_or_default().to_string(), files));
            }
        }
    }
    assert!(
        out.len() >= 5,
        "the demo's fulfilments are all listed: {out:?}"
    );
    out
}

/// What surrounds the first `needle` in `haystack`, to show where a leak is.
fn context<'a>(haystack: &'a str, needle: &str) -> &'a str {
    let at = haystack.find(needle).unwrap_or(0);
    let mut start = at.saturating_sub(300);
    while !haystack.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (at + needle.len() + 300).min(haystack.len());
    while !haystack.is_char_boundary(end) {
        end += 1;
    }
    &haystack[start..end]
}

/// The studio writes in every channel of every title, naming each partner only where it belongs.
async fn studio_talks_everywhere(t: &TestApp) {
    let pm = t.sign_in("pm@northlight.test").await;
    for id in t.titles.values() {
        let (_, list) = pm
            .api(
                Method::GET,
                &format!("/api/v1/projects/{id}/channels"),
                None,
            )
            .await;
        for c in list["items"].as_array().cloned().unwrap_or_default() {
            let body = match (c["kind"].as_str(), c["language"].as_str()) {
                (Some("vendor"), Some(l)) => format!("Notes for the {l} team only"),
                (Some("internal"), _) => "Internal: Voz do Brasil and Kaze are late".to_string(),
                _ => "Broadcast: the final mix is delivered".to_string(),
            };
            let cid = c["id"].as_str().unwrap_or_default();
            let (status, _) = pm
                .api(
                    Method::POST,
                    &format!("/api/v1/channels/{cid}/messages"),
                    Some(serde_json::json!({"body": body})),
                )
                .await;
            assert_eq!(status, 201);
            // …and attaches a file named after the channel's audience.
            let name = match c["language"].as_str() {
                Some(l) => format!("{l} casting.pdf"),
                None => format!("{} schedule.pdf", c["kind"].as_str().unwrap_or_default()),
            };
            let (status, _) = crate::attachments::upload(
                &pm,
                cid,
                &format!("File for {name}"),
                &[(&name, crate::attachments::PDF)],
            )
            .await;
            assert_eq!(status, 201);
        }
    }
}

pub async fn partner_a_sees_nothing_of_b_or_c(db: TestDb) {
    let t = TestApp::spawn(db).await;
    t.app.seed_demo_requests().await.unwrap();
    t.app.seed_demo_audio().await.unwrap();
    t.app.seed_demo_guide().await.unwrap();
    studio_talks_everywhere(&t).await;
    let marta = t.sign_in("marta@iberiavoices.test").await;
    // A follows everything it can see so My Projects is full.
    for id in t.titles.values() {
        marta
            .api(Method::PUT, &format!("/api/v1/projects/{id}/follow"), None)
            .await;
    }
    let seen = crawl(&t, &marta).await;
    assert!(
        seen.contains("The Lighthouse Keeper")
            && seen.contains("Harbour Lights")
            && seen.contains("Notes for the es-ES team only")
            && seen.contains("Broadcast: the final mix")
            && seen.contains("es-ES casting.pdf")
            && seen.contains("broadcast schedule.pdf")
            && seen.contains("Lucía Gómez")
            && seen.contains("Ferry_to_Jeju_S1E1_DL_v2.txt")
            && seen.contains("TheLighthouseKeeper_Lucia_Moments_Mixed.wav")
            && seen.contains("Softer delivery, please")
            && seen.contains("S1E1 dialogue premix")
            && seen.contains("el Gaviota")
            && seen.contains("es-ES: Pilar")
            && seen.contains("Too bright for Mina"),
        "A sees its own titles, messages, files, requests and fulfilments"
    );
    assert!(seen.contains(app::demo::PARTNER_A));
    for forbidden in [
        app::demo::PARTNER_B,
        app::demo::PARTNER_C,
        "Voz do Brasil",
        "Kaze",
        "Northern Frontier",
        "81000200",
        "joao@",
        "haruka@",
        "João",
        "Haruka",
        "pt-BR",
        "\"ja\"",
        "Bruna",
        "bruna@",
        "Camila",
        "Lovely and intimate",
        "o Gaivota",
        "(pt-BR)",
        ">ja<",
        "Japanese",
        "Portuguese",
        "Internal:",
        "the ja team",
        "internal schedule",
        "ja casting",
    ] {
        assert!(
            !seen.contains(forbidden),
            "partner A can see {forbidden:?}: …{}…",
            context(&seen, forbidden)
        );
    }
}

pub async fn partner_c_sees_nothing_of_a_or_b(db: TestDb) {
    let t = TestApp::spawn(db).await;
    t.app.seed_demo_requests().await.unwrap();
    t.app.seed_demo_audio().await.unwrap();
    t.app.seed_demo_guide().await.unwrap();
    studio_talks_everywhere(&t).await;
    let haruka = t.sign_in("haruka@kazedubbing.test").await;
    let seen = crawl(&t, &haruka).await;
    assert!(seen.contains("Northern Frontier") && seen.contains("The Lighthouse Keeper"));
    assert!(seen.contains("Notes for the ja team only") && seen.contains("ja casting.pdf"));
    assert!(
        seen.contains("The keeper&#x27;s farewell") || seen.contains("The keeper's farewell"),
        "C sees the clip it is asked for"
    );
    for forbidden in [
        app::demo::PARTNER_A,
        app::demo::PARTNER_B,
        "Harbour Lights",
        "81000100",
        "81000101",
        "es-ES",
        "pt-BR",
        "Spanish",
        "marta@",
        "Marta",
        "internal schedule",
        "Ferry",
        "Lucía",
        "Bruna",
        "Lucia_Moments",
        "Camila",
        "Softer",
        "Lovely and intimate",
        "S1E1 dialogue premix",
        "FerryToJeju_S1E1_premix",
        "Seogwipo",
        "Gaviota",
        "Pilar",
        "Captain Oh",
    ] {
        assert!(
            !seen.contains(forbidden),
            "partner C can see {forbidden:?}: …{}…",
            context(&seen, forbidden)
        );
    }
}

testkit::both_backends!(db: super => [partner_a_sees_nothing_of_b_or_c, partner_c_sees_nothing_of_a_or_b]);
