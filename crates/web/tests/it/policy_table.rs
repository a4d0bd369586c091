//! The communication policy as people meet it: (studio user, partner A with and without its
//! language enabled, partner B, linguist, script viewer) × (read, post, edit, delete, attach,
//! mention-target, search-hit, SSE-event, download) × (Broadcast, A's vendor channel, B's vendor
//! channel, Internal), each cell tried through the real use cases on a real database.

use crate::harness::{PASSWORD, TestApp};
use app::App;
use app::auth::Authenticated;
use domain::attachments::AttachmentName;
use domain::events::{EventKind, NewEvent};
use domain::{Actor, ChannelId, ChannelKind};
use testkit::TestDb;

async fn who(app: &App, email: &str) -> Authenticated {
    let session = app.sign_in(email, PASSWORD, "127.0.0.1").await.unwrap();
    app.authenticate_session(&session.secret)
        .await
        .unwrap()
        .unwrap()
}

async fn staged_pdf(app: &App) -> app::files::Staged {
    let mut upload = app
        .files
        .begin_upload(AttachmentName::parse("fixture.pdf").unwrap())
        .await
        .unwrap();
    upload.write(b"%PDF-1.4\n%%EOF\n").await.ok().unwrap();
    upload.finish().await.ok().unwrap()
}

const COLUMNS: [&str; 9] = [
    "read", "post", "edit", "delete", "attach", "mention", "search", "sse", "download",
];

pub async fn communication_policy_table(db: TestDb) {
    let t = TestApp::spawn(db).await;
    let app = &t.app;
    let lk = t.title("The Lighthouse Keeper").parse().unwrap();
    for (email, name, roles) in [
        ("ana@iberiavoices.test", "Ana Gil", "portal_user"),
        ("viewer@iberiavoices.test", "Dub Director", ""),
    ] {
        app.create_user(
            Actor::Operator,
            &app::admin::NewUserInput {
                org: app::demo::PARTNER_A.into(),
                email: email.into(),
                display_name: name.into(),
                roles: roles.into(),
                password: Some(PASSWORD.into()),
            },
        )
        .await
        .unwrap();
    }
    let pm = who(app, "pm@northlight.test").await;
    let qc = who(app, "qc@northlight.test").await;
    let ana = who(app, "ana@iberiavoices.test").await;
    // Partner A's second user works on another language only.
    app.update_settings(&ana, false, &["ca-ES".to_string()])
        .await
        .unwrap();
    let people = [
        ("studio PM", who(app, "pm@northlight.test").await),
        ("partner A", who(app, "marta@iberiavoices.test").await),
        (
            "partner A, es-ES off",
            who(app, "ana@iberiavoices.test").await,
        ),
        ("partner B", who(app, "joao@vozdobrasil.test").await),
        ("linguist", who(app, "lucia@iberiavoices.test").await),
        ("script viewer", who(app, "viewer@iberiavoices.test").await),
    ];

    // One message with a file from the studio in each channel.
    let mut channels: Vec<(&str, ChannelId)> = Vec::new();
    for row in app.project_channels(&pm, lk).await.unwrap() {
        let name = match &row.channel.kind {
            ChannelKind::Broadcast => "broadcast",
            ChannelKind::Internal => "internal",
            ChannelKind::Vendor(l, _) if l.as_str() == "es-ES" => "vendor es-ES (A)",
            ChannelKind::Vendor(l, _) if l.as_str() == "pt-BR" => "vendor pt-BR (B)",
            ChannelKind::Vendor(..) => continue,
        };
        channels.push((name, row.channel.id));
    }
    assert_eq!(channels.len(), 4);
    let mut fixtures = Vec::new();
    for (name, id) in &channels {
        let (m, files) = app
            .post_message_with_files(
                &pm,
                *id,
                &format!("zebrafixture {name}"),
                vec![staged_pdf(app).await],
            )
            .await
            .unwrap();
        fixtures.push((m, files[0].id));
    }

    use std::collections::BTreeMap;
    let mut got: BTreeMap<(&str, &str), [bool; 9]> = BTreeMap::new();
    for (person, u) in &people {
        let hits: Vec<domain::MessageId> = app
            .search_messages(u, "zebrafixture", None, None, 50)
            .await
            .map(|h| h.items.into_iter().map(|h| h.message.id).collect())
            .unwrap_or_default();
        for ((channel, id), (fixture, file)) in channels.iter().zip(&fixtures) {
            let read = app.open_channel(u, *id, None).await.is_ok();
            let posted = app
                .post_message(u, *id, &format!("hello from {person}"))
                .await;
            let post = posted.is_ok();
            let (edit, delete) = match &posted {
                Ok(m) => (
                    app.edit_message(u, m.id, "edited").await.is_ok(),
                    app.delete_message(u, m.id).await.is_ok(),
                ),
                // Without a message of one's own, try the studio's: never allowed.
                Err(_) => (
                    app.edit_message(u, fixture.id, "edited").await.is_ok(),
                    app.delete_message(u, fixture.id).await.is_ok(),
                ),
            };
            let attach = app.may_attach(u, *id).await.is_ok();
            let mention = app
                .post_message(&qc, *id, &format!("@{} please check", u.user.email))
                .await
                .is_ok();
            let search = hits.contains(&fixture.id);
            let event = domain::events::Event {
                id: 1,
                event: NewEvent {
                    kind: EventKind::MessagePosted,
                    project_id: lk,
                    channel_id: *id,
                    message_id: Some(fixture.id),
                    seq: fixture.seq,
                    user_id: None,
                },
            };
            let sse = app.may_receive(u, &event).await.unwrap();
            let download = app.open_attachment(u, *file).await.is_ok();
            got.insert(
                (person, channel),
                [
                    read, post, edit, delete, attach, mention, search, sse, download,
                ],
            );
        }
    }

    const ALL: [bool; 9] = [true; 9];
    const NONE: [bool; 9] = [false; 9];
    // Partners read Broadcast, are mentioned and told there, but do not write in it.
    const READ_ONLY: [bool; 9] = [true, false, false, false, false, true, true, true, true];
    #[rustfmt::skip]
    let expected: [(&str, [[bool; 9]; 4]); 6] = [
        //                         broadcast  es-ES (A)  pt-BR (B)  internal
        ("studio PM",            [ALL,       ALL,       ALL,       ALL]),
        ("partner A",            [READ_ONLY, ALL,       NONE,      NONE]),
        ("partner A, es-ES off", [READ_ONLY, NONE,      NONE,      NONE]),
        ("partner B",            [READ_ONLY, NONE,      ALL,       NONE]),
        ("linguist",             [NONE,      NONE,      NONE,      NONE]),
        ("script viewer",        [NONE,      NONE,      NONE,      NONE]),
    ];
    let mut wrong = Vec::new();
    for (person, row) in expected {
        for ((channel, _), want) in channels.iter().zip(row) {
            let have = got[&(person, *channel)];
            for (i, column) in COLUMNS.iter().enumerate() {
                if have[i] != want[i] {
                    wrong.push(format!(
                        "{person} · {column} · {channel}: expected {}, got {}",
                        want[i], have[i]
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "policy table:\n{}", wrong.join("\n"));
}

testkit::both_backends!(db: super => [communication_policy_table]);
