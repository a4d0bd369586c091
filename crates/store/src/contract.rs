//! The behaviour every [`Store`] backend must have, as backend-agnostic test cases.
//!
//! Each case is `pub async fn case(store: &dyn Store)` on a fresh, migrated, empty store and
//! panics when the backend misbehaves. The store crate's test binary runs every case on SQLite
//! and on PostgreSQL (`testkit::both_backends!`); a new store behaviour gets a case here and a
//! line in `crates/store/tests/it/contract.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::{
    ApiTokenRecord, ChannelUnread, Conflict, DependencyRecord, FileSlot, HistoryRecord,
    MessageSearch, NewDependency, OpenRequestGroup, RequestFileRecord, RequestRecord,
    SessionRecord, Skip, Store, StoreError, StoreResult, Tx, UserRecord, UserWithOrg,
};
use domain::requests::{RequestKind, RequestState, Step};
use domain::{
    Assignment, ChannelId, ChannelKind, ChannelPrefs, Email, Episode, EpisodeId, LanguageTag,
    Message, MessageId, MovieId, Name, OrgId, OrgKind, Organisation, Project, ProjectId,
    ProjectKind, ProjectScope, RequestFileId, RequestId, Role, Roles, Season, SeasonId, Service,
    TokenId, UserId, WorkLanguages,
};
use time::macros::{date, datetime};
use time::{Date, Duration, OffsetDateTime, UtcOffset};

// ---------------------------------------------------------------------------------------------
// Fixtures

/// A fixed instant with whole microseconds, so stored values compare exactly.
fn t0() -> OffsetDateTime {
    datetime!(2026-03-01 12:00:00.123456 UTC)
}

fn at(seconds: i64) -> OffsetDateTime {
    t0() + Duration::seconds(seconds)
}

fn name(s: &str) -> Name {
    Name::parse(s).unwrap()
}

fn lang(s: &str) -> LanguageTag {
    LanguageTag::parse(s).unwrap()
}

fn mid(n: i64) -> MovieId {
    MovieId::new(n).unwrap()
}

fn email(s: &str) -> Email {
    Email::parse(s).unwrap()
}

async fn begin(store: &dyn Store) -> Box<dyn Tx> {
    store.begin().await.expect("begin")
}

async fn read(store: &dyn Store) -> Box<dyn Tx> {
    store.read().await.expect("read")
}

fn conflict<T: std::fmt::Debug>(result: StoreResult<T>, expected: Conflict) {
    match result {
        Err(StoreError::Conflict(c)) if c == expected => {}
        other => panic!("expected Conflict({expected:?}), got {other:?}"),
    }
}

fn not_found<T: std::fmt::Debug>(result: StoreResult<T>) {
    match result {
        Err(StoreError::NotFound) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

async fn add_org(store: &dyn Store, org_name: &str, kind: OrgKind) -> Organisation {
    let org = Organisation {
        id: OrgId::new(),
        name: name(org_name),
        kind,
    };
    let mut tx = begin(store).await;
    tx.insert_org(&org).await.unwrap();
    tx.commit().await.unwrap();
    org
}

fn user_in(org: &Organisation, address: &str, display: &str) -> UserRecord {
    UserRecord {
        id: UserId::new(),
        org_id: org.id,
        email: email(address),
        display_name: name(display),
        roles: Roles::of(&[Role::PortalUser]),
        password_hash: None,
        disabled: false,
        created_at: at(0),
        prefs: ChannelPrefs::default(),
    }
}

async fn add_user(store: &dyn Store, org: &Organisation, address: &str) -> UserRecord {
    let user = user_in(org, address, address);
    let mut tx = begin(store).await;
    tx.insert_user(&user).await.unwrap();
    tx.commit().await.unwrap();
    user
}

fn film(movie_id: i64, title: &str) -> Project {
    Project {
        id: ProjectId::new(),
        movie_id: mid(movie_id),
        name: name(title),
        kind: ProjectKind::Film,
        original_language: lang("en"),
        target_languages: Vec::new(),
        seasons: Vec::new(),
        assignments: Vec::new(),
    }
}

fn episode(number: u32, movie_id: i64, title: Option<&str>) -> Episode {
    Episode {
        id: EpisodeId::new(),
        number,
        movie_id: mid(movie_id),
        name: title.map(name),
    }
}

fn season(number: u32, episodes: Vec<Episode>) -> Season {
    Season {
        id: SeasonId::new(),
        number,
        episodes,
    }
}

fn series(movie_id: i64, title: &str, seasons: Vec<Season>) -> Project {
    Project {
        kind: ProjectKind::Series,
        seasons,
        ..film(movie_id, title)
    }
}

/// Adds `org` for (`language`, `service`), adding the language to the targets if needed.
fn assign(mut p: Project, language: &str, service: Service, org: &Organisation) -> Project {
    let language = lang(language);
    if !p.target_languages.contains(&language) {
        p.target_languages.push(language.clone());
    }
    p.assignments.push(Assignment {
        language,
        service,
        org_id: org.id,
    });
    p
}

async fn add_project(store: &dyn Store, p: &Project) {
    let mut tx = begin(store).await;
    tx.insert_project(p, at(0)).await.unwrap();
    tx.commit().await.unwrap();
}

async fn update_project(store: &dyn Store, p: &Project) {
    let mut tx = begin(store).await;
    tx.update_project(p, at(60)).await.unwrap();
    tx.commit().await.unwrap();
}

async fn get_project(store: &dyn Store, id: ProjectId) -> Option<Project> {
    read(store).await.get_project(id).await.unwrap()
}

async fn find(store: &dyn Store, scope: ProjectScope, query: &str, limit: u32) -> Vec<String> {
    read(store)
        .await
        .find_projects(scope, query, None, limit)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|s| s.name.to_string())
        .collect()
}

async fn followed(store: &dyn Store, user: UserId, scope: ProjectScope) -> Vec<String> {
    read(store)
        .await
        .followed_projects(user, scope)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name.to_string())
        .collect()
}

fn session(user: &UserRecord, token_hash: &str, expires_at: OffsetDateTime) -> SessionRecord {
    SessionRecord {
        token_hash: token_hash.to_string(),
        user_id: user.id,
        csrf_token: format!("csrf-{token_hash}"),
        created_at: at(0),
        expires_at,
    }
}

fn api_token(
    user: &UserRecord,
    token_name: &str,
    token_hash: &str,
    created: i64,
) -> ApiTokenRecord {
    ApiTokenRecord {
        id: TokenId::new(),
        user_id: user.id,
        name: name(token_name),
        token_hash: token_hash.to_string(),
        created_at: at(created),
        last_used_at: None,
        revoked_at: None,
    }
}

// ---------------------------------------------------------------------------------------------
// Organisations

pub async fn orgs_insert_get_list(store: &dyn Store) {
    let studio = add_org(store, "The Studio", OrgKind::Studio).await;
    let zeta = add_org(store, "zeta Dubbing", OrgKind::Partner).await;
    let nandu = add_org(store, "Ñandú Subtítulos", OrgKind::Partner).await;
    let alpha = add_org(store, "Alpha Voices", OrgKind::Partner).await;

    let mut tx = read(store).await;
    assert_eq!(tx.get_org(studio.id).await.unwrap(), Some(studio.clone()));
    assert_eq!(tx.get_org(nandu.id).await.unwrap(), Some(nandu.clone()));
    assert_eq!(tx.get_org(OrgId::new()).await.unwrap(), None);
    // By name without regard to case; code-point order beyond ASCII ("ñ" after "z").
    assert_eq!(
        tx.list_orgs().await.unwrap(),
        vec![alpha, studio.clone(), zeta, nandu]
    );
    assert_eq!(tx.studio_org().await.unwrap(), Some(studio));
}

pub async fn orgs_find_by_name_ignores_case(store: &dyn Store) {
    let dub = add_org(store, "Dub Studio Berlin", OrgKind::Partner).await;
    let nandu = add_org(store, "Ñandú Subtítulos", OrgKind::Partner).await;

    let mut tx = read(store).await;
    for query in [
        "Dub Studio Berlin",
        "dub studio berlin",
        "  DUB   STUDIO berlin ",
    ] {
        assert_eq!(
            tx.find_org_by_name(query).await.unwrap(),
            Some(dub.clone()),
            "{query:?}"
        );
    }
    assert_eq!(
        tx.find_org_by_name("ÑANDÚ SUBTÍTULOS").await.unwrap(),
        Some(nandu)
    );
    assert_eq!(tx.find_org_by_name("Dub Studio").await.unwrap(), None);
    assert_eq!(tx.find_org_by_name("").await.unwrap(), None);
}

pub async fn orgs_rename(store: &dyn Store) {
    let org = add_org(store, "Old Name", OrgKind::Partner).await;
    let mut tx = begin(store).await;
    tx.rename_org(org.id, &name("New Name")).await.unwrap();
    not_found(tx.rename_org(OrgId::new(), &name("Nobody")).await);
    tx.commit().await.unwrap();

    let mut tx = read(store).await;
    let renamed = tx.get_org(org.id).await.unwrap().unwrap();
    assert_eq!(renamed.name, name("New Name"));
    assert_eq!(renamed.kind, OrgKind::Partner);
    assert_eq!(
        tx.find_org_by_name("new name").await.unwrap(),
        Some(renamed)
    );
    assert_eq!(tx.find_org_by_name("old name").await.unwrap(), None);
}

pub async fn orgs_names_are_unique_ignoring_case(store: &dyn Store) {
    let acme = add_org(store, "Acme", OrgKind::Partner).await;
    let other = add_org(store, "Other", OrgKind::Partner).await;

    let mut tx = begin(store).await;
    let twin = Organisation {
        id: OrgId::new(),
        name: name("ACME"),
        kind: OrgKind::Studio,
    };
    conflict(tx.insert_org(&twin).await, Conflict::OrganisationName);
    drop(tx);

    let mut tx = begin(store).await;
    conflict(
        tx.rename_org(other.id, &name("acme")).await,
        Conflict::OrganisationName,
    );
    drop(tx);

    // Renaming to its own name in another case is not a conflict.
    let mut tx = begin(store).await;
    tx.rename_org(acme.id, &name("ACME")).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(read(store).await.list_orgs().await.unwrap().len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Users

pub async fn users_insert_get_find(store: &dyn Store) {
    let org = add_org(store, "The Studio", OrgKind::Studio).await;
    let mut user = user_in(&org, "Ana@Studio.com", "Ana Pérez");
    user.roles = Roles::of(&[Role::PortalUser, Role::Manager, Role::Admin]);
    user.password_hash = Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_string());
    let mut tx = begin(store).await;
    tx.insert_user(&user).await.unwrap();
    tx.commit().await.unwrap();

    let expected = UserWithOrg {
        user: user.clone(),
        org: org.clone(),
    };
    let mut tx = read(store).await;
    assert_eq!(tx.get_user(user.id).await.unwrap(), Some(expected.clone()));
    assert_eq!(
        tx.find_user_by_email(&email("ANA@studio.COM"))
            .await
            .unwrap(),
        Some(expected)
    );
    assert_eq!(tx.get_user(UserId::new()).await.unwrap(), None);
    assert_eq!(
        tx.find_user_by_email(&email("nobody@studio.com"))
            .await
            .unwrap(),
        None
    );
}

pub async fn users_update_and_set_password(store: &dyn Store) {
    let studio = add_org(store, "The Studio", OrgKind::Studio).await;
    let partner = add_org(store, "Partner", OrgKind::Partner).await;
    let original = add_user(store, &studio, "ana@studio.com").await;

    let mut changed = original.clone();
    changed.org_id = partner.id;
    changed.email = email("ana@partner.com");
    changed.display_name = name("Ana P.");
    changed.roles = Roles::of(&[Role::Author, Role::Proofreader]);
    changed.disabled = true;
    // Neither the password nor the creation time change through update_user.
    changed.password_hash = Some("ignored".to_string());
    changed.created_at = at(999);

    let mut tx = begin(store).await;
    tx.update_user(&changed).await.unwrap();
    let stranger = user_in(&studio, "x@studio.com", "X");
    not_found(tx.update_user(&stranger).await);
    not_found(tx.set_password_hash(stranger.id, "hash").await);
    tx.commit().await.unwrap();

    let got = read(store)
        .await
        .get_user(original.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.org, partner);
    assert_eq!(
        got.user,
        UserRecord {
            password_hash: None,
            created_at: original.created_at,
            ..changed.clone()
        }
    );
    let mut tx = read(store).await;
    assert_eq!(
        tx.find_user_by_email(&email("ana@studio.com"))
            .await
            .unwrap(),
        None
    );
    drop(tx);

    let mut tx = begin(store).await;
    tx.set_password_hash(original.id, "$argon2id$new")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let got = read(store)
        .await
        .get_user(original.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got.user.password_hash.as_deref(), Some("$argon2id$new"));
    assert_eq!(got.user.display_name, name("Ana P."));
}

pub async fn users_list_sorted_by_org_then_name(store: &dyn Store) {
    let zeta = add_org(store, "Zeta Partner", OrgKind::Partner).await;
    let acme = add_org(store, "acme", OrgKind::Studio).await;
    let mut tx = begin(store).await;
    for (org, address, display) in [
        (&zeta, "b@zeta.com", "bob"),
        (&acme, "e@acme.com", "Émile"),
        (&acme, "c@acme.com", "carol"),
        (&zeta, "a@zeta.com", "Alice"),
        (&acme, "b@acme.com", "Bob"),
    ] {
        tx.insert_user(&user_in(org, address, display))
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();

    let listed: Vec<(String, String)> = read(store)
        .await
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| (u.org.name.to_string(), u.user.display_name.to_string()))
        .collect();
    let expected = [
        ("acme", "Bob"),
        ("acme", "carol"),
        ("acme", "Émile"),
        ("Zeta Partner", "Alice"),
        ("Zeta Partner", "bob"),
    ]
    .map(|(o, d)| (o.to_string(), d.to_string()));
    assert_eq!(listed, expected);
}

pub async fn users_emails_are_unique(store: &dyn Store) {
    let org = add_org(store, "The Studio", OrgKind::Studio).await;
    add_user(store, &org, "ana@studio.com").await;
    let ben = add_user(store, &org, "ben@studio.com").await;

    let mut tx = begin(store).await;
    conflict(
        tx.insert_user(&user_in(&org, "ANA@studio.com", "Another Ana"))
            .await,
        Conflict::Email,
    );
    drop(tx);

    let mut tx = begin(store).await;
    let mut moved = ben.clone();
    moved.email = email("ana@studio.com");
    conflict(tx.update_user(&moved).await, Conflict::Email);
    drop(tx);

    assert_eq!(read(store).await.list_users().await.unwrap().len(), 2);
}

// ---------------------------------------------------------------------------------------------
// Sessions

pub async fn sessions_respect_expiry(store: &dyn Store) {
    let org = add_org(store, "The Studio", OrgKind::Studio).await;
    let user = add_user(store, &org, "ana@studio.com").await;
    let s = session(&user, "hash-1", at(3600));
    let mut tx = begin(store).await;
    tx.insert_session(&s).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = read(store).await;
    assert_eq!(
        tx.get_session("hash-1", at(0)).await.unwrap(),
        Some(s.clone())
    );
    assert_eq!(
        tx.get_session("hash-1", at(3600) - Duration::microseconds(1))
            .await
            .unwrap(),
        Some(s)
    );
    // Expired at the instant it expires, and after.
    assert_eq!(tx.get_session("hash-1", at(3600)).await.unwrap(), None);
    assert_eq!(tx.get_session("hash-1", at(7200)).await.unwrap(), None);
    assert_eq!(tx.get_session("other", at(0)).await.unwrap(), None);
}

pub async fn sessions_delete(store: &dyn Store) {
    let org = add_org(store, "The Studio", OrgKind::Studio).await;
    let ana = add_user(store, &org, "ana@studio.com").await;
    let ben = add_user(store, &org, "ben@studio.com").await;
    let mut tx = begin(store).await;
    for s in [
        session(&ana, "ana-1", at(100)),
        session(&ana, "ana-2", at(100)),
        session(&ana, "ana-3", at(100)),
        session(&ben, "ben-live", at(1000)),
        session(&ben, "ben-old", at(10)),
    ] {
        tx.insert_session(&s).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut tx = begin(store).await;
    tx.delete_session("ana-1").await.unwrap();
    tx.delete_session("ana-1").await.unwrap(); // idempotent
    assert_eq!(tx.delete_user_sessions(ana.id).await.unwrap(), 2);
    assert_eq!(tx.delete_user_sessions(ana.id).await.unwrap(), 0);
    // Only sessions expired at `now` go.
    assert_eq!(tx.delete_expired_sessions(at(10)).await.unwrap(), 1);
    assert_eq!(tx.delete_expired_sessions(at(10)).await.unwrap(), 0);
    tx.commit().await.unwrap();

    let mut tx = read(store).await;
    assert_eq!(tx.get_session("ana-2", at(0)).await.unwrap(), None);
    assert!(tx.get_session("ben-live", at(0)).await.unwrap().is_some());
    assert_eq!(tx.get_session("ben-old", at(0)).await.unwrap(), None);
}

// ---------------------------------------------------------------------------------------------
// API tokens

pub async fn api_tokens_insert_list_find(store: &dyn Store) {
    let org = add_org(store, "The Studio", OrgKind::Studio).await;
    let ana = add_user(store, &org, "ana@studio.com").await;
    let ben = add_user(store, &org, "ben@studio.com").await;
    let older = api_token(&ana, "laptop", "h-older", 10);
    let newer = api_token(&ana, "ci", "h-newer", 20);
    let revoked = ApiTokenRecord {
        revoked_at: Some(at(30)),
        last_used_at: Some(at(25)),
        ..api_token(&ana, "old", "h-revoked", 5)
    };
    let bens = api_token(&ben, "laptop", "h-ben", 15);
    let mut tx = begin(store).await;
    for t in [&older, &newer, &revoked, &bens] {
        tx.insert_api_token(t).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut tx = read(store).await;
    assert_eq!(
        tx.list_api_tokens(ana.id).await.unwrap(),
        vec![newer.clone(), older.clone(), revoked]
    );
    assert_eq!(tx.list_api_tokens(ben.id).await.unwrap(), vec![bens]);
    assert_eq!(tx.list_api_tokens(UserId::new()).await.unwrap(), vec![]);
    assert_eq!(tx.find_api_token("h-newer").await.unwrap(), Some(newer));
    assert_eq!(tx.find_api_token("h-revoked").await.unwrap(), None);
    assert_eq!(tx.find_api_token("h-unknown").await.unwrap(), None);
}

pub async fn api_tokens_revoke_own_only(store: &dyn Store) {
    let org = add_org(store, "The Studio", OrgKind::Studio).await;
    let ana = add_user(store, &org, "ana@studio.com").await;
    let ben = add_user(store, &org, "ben@studio.com").await;
    let token = api_token(&ana, "laptop", "h-ana", 0);
    let mut tx = begin(store).await;
    tx.insert_api_token(&token).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(store).await;
    assert!(!tx.revoke_api_token(ben.id, token.id, at(5)).await.unwrap());
    assert!(
        !tx.revoke_api_token(ana.id, TokenId::new(), at(5))
            .await
            .unwrap()
    );
    assert!(tx.find_api_token("h-ana").await.unwrap().is_some());
    assert!(tx.revoke_api_token(ana.id, token.id, at(10)).await.unwrap());
    assert!(!tx.revoke_api_token(ana.id, token.id, at(20)).await.unwrap());
    tx.commit().await.unwrap();

    let mut tx = read(store).await;
    assert_eq!(tx.find_api_token("h-ana").await.unwrap(), None);
    let listed = tx.list_api_tokens(ana.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].revoked_at, Some(at(10)));
}

pub async fn api_tokens_touch(store: &dyn Store) {
    let org = add_org(store, "The Studio", OrgKind::Studio).await;
    let ana = add_user(store, &org, "ana@studio.com").await;
    let token = api_token(&ana, "laptop", "h-ana", 0);
    let mut tx = begin(store).await;
    tx.insert_api_token(&token).await.unwrap();
    tx.touch_api_token(token.id, at(40)).await.unwrap();
    tx.touch_api_token(token.id, at(50)).await.unwrap();
    not_found(tx.touch_api_token(TokenId::new(), at(50)).await);
    tx.commit().await.unwrap();

    let found = read(store).await.find_api_token("h-ana").await.unwrap();
    assert_eq!(
        found,
        Some(ApiTokenRecord {
            last_used_at: Some(at(50)),
            ..token
        })
    );
}

pub async fn api_token_names_are_unique_per_user_among_live_tokens(store: &dyn Store) {
    let org = add_org(store, "The Studio", OrgKind::Studio).await;
    let ana = add_user(store, &org, "ana@studio.com").await;
    let ben = add_user(store, &org, "ben@studio.com").await;
    let first = api_token(&ana, "laptop", "h-1", 0);
    let mut tx = begin(store).await;
    tx.insert_api_token(&first).await.unwrap();
    tx.insert_api_token(&api_token(&ben, "laptop", "h-2", 0))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(store).await;
    conflict(
        tx.insert_api_token(&api_token(&ana, "laptop", "h-3", 1))
            .await,
        Conflict::ApiTokenName,
    );
    drop(tx);

    // Once revoked, the name is free again.
    let mut tx = begin(store).await;
    assert!(tx.revoke_api_token(ana.id, first.id, at(2)).await.unwrap());
    tx.insert_api_token(&api_token(&ana, "laptop", "h-4", 3))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        read(store)
            .await
            .list_api_tokens(ana.id)
            .await
            .unwrap()
            .len(),
        2
    );
}

// ---------------------------------------------------------------------------------------------
// Sign-in throttling

pub async fn throttle_prunes_old_failures(store: &dyn Store) {
    let mut tx = begin(store).await;
    tx.record_sign_in_failure("addr:192.0.2.7", at(0))
        .await
        .unwrap();
    tx.record_sign_in_failure("account:old@studio.com", at(1))
        .await
        .unwrap();
    tx.record_sign_in_failure("addr:192.0.2.7", at(50))
        .await
        .unwrap();
    assert_eq!(tx.prune_sign_in_failures(at(10)).await.unwrap(), 2);
    tx.commit().await.unwrap();
    let mut tx = read(store).await;
    assert_eq!(
        tx.sign_in_failures("addr:192.0.2.7", at(-100))
            .await
            .unwrap(),
        (1, Some(at(50)))
    );
    assert_eq!(
        tx.sign_in_failures("account:old@studio.com", at(-100))
            .await
            .unwrap(),
        (0, None)
    );
}

pub async fn throttle_counts_since_and_clears(store: &dyn Store) {
    let mut tx = begin(store).await;
    for s in [0, 10, 20] {
        tx.record_sign_in_failure("account:ana@studio.com", at(s))
            .await
            .unwrap();
    }
    // The same instant twice counts twice.
    tx.record_sign_in_failure("addr:192.0.2.1", at(5))
        .await
        .unwrap();
    tx.record_sign_in_failure("addr:192.0.2.1", at(5))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = read(store).await;
    assert_eq!(
        tx.sign_in_failures("account:ana@studio.com", at(-100))
            .await
            .unwrap(),
        (3, Some(at(20)))
    );
    // `since` is inclusive.
    assert_eq!(
        tx.sign_in_failures("account:ana@studio.com", at(10))
            .await
            .unwrap(),
        (2, Some(at(20)))
    );
    assert_eq!(
        tx.sign_in_failures("account:ana@studio.com", at(21))
            .await
            .unwrap(),
        (0, None)
    );
    assert_eq!(
        tx.sign_in_failures("addr:192.0.2.1", at(0)).await.unwrap(),
        (2, Some(at(5)))
    );
    drop(tx);

    let mut tx = begin(store).await;
    tx.clear_sign_in_failures("account:ana@studio.com")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = read(store).await;
    assert_eq!(
        tx.sign_in_failures("account:ana@studio.com", at(-100))
            .await
            .unwrap(),
        (0, None)
    );
    assert_eq!(
        tx.sign_in_failures("addr:192.0.2.1", at(0)).await.unwrap(),
        (2, Some(at(5)))
    );
}

// ---------------------------------------------------------------------------------------------
// Projects

pub async fn projects_round_trip(store: &dyn Store) {
    let a = add_org(store, "Partner A", OrgKind::Partner).await;
    let b = add_org(store, "Partner B", OrgKind::Partner).await;
    let mut show = series(
        5000,
        "The Long Night",
        vec![
            season(
                1,
                vec![
                    episode(1, 5001, Some("Pilot")),
                    episode(2, 5002, None),
                    episode(3, 5005, Some("東京")),
                ],
            ),
            season(2, vec![episode(1, 5003, None)]),
            season(3, vec![]),
        ],
    );
    show.original_language = lang("ko");
    // Not in alphabetical order: the stored order is the given order.
    let show = assign(show, "es-ES", Service::Dubbing, &a);
    let show = assign(show, "de", Service::Subtitles, &b);
    let show = assign(show, "es-ES", Service::Subtitles, &b);
    let mut show = assign(show, "ja", Service::Scripting, &a);
    show.target_languages.push(lang("pt-BR")); // a language nobody is assigned to yet
    let one_film = assign(film(6000, "Solo"), "fr-CA", Service::AudioDescription, &b);

    add_project(store, &show).await;
    add_project(store, &one_film).await;

    assert_eq!(get_project(store, show.id).await, Some(show.clone()));
    assert_eq!(get_project(store, one_film.id).await, Some(one_film));
    assert_eq!(get_project(store, ProjectId::new()).await, None);
}

pub async fn projects_update_replaces_everything_and_keeps_episode_ids(store: &dyn Store) {
    let a = add_org(store, "Partner A", OrgKind::Partner).await;
    let b = add_org(store, "Partner B", OrgKind::Partner).await;
    let original = assign(
        series(
            6000,
            "Before",
            vec![
                season(
                    1,
                    vec![episode(1, 6001, Some("One")), episode(2, 6002, None)],
                ),
                season(2, vec![episode(1, 6003, None)]),
            ],
        ),
        "es-ES",
        Service::Dubbing,
        &a,
    );
    add_project(store, &original).await;

    // Rename, new movie ID, drop season 2, swap two episodes' movie IDs and order, add an
    // episode, add a season whose episode reuses the movie ID the dropped episode freed, and
    // replace languages and assignments.
    let mut updated = original.clone();
    updated.name = name("After");
    updated.movie_id = mid(6010);
    updated.original_language = lang("en-GB");
    let s1 = &original.seasons[0];
    let mut first = s1.episodes[0].clone();
    let mut second = s1.episodes[1].clone();
    first.movie_id = mid(6002);
    first.name = None;
    second.movie_id = mid(6001);
    second.name = Some(name("Renamed"));
    updated.seasons = vec![
        Season {
            id: s1.id,
            number: 1,
            episodes: vec![second, first, episode(3, 6004, None)],
        },
        season(2, vec![episode(1, 6003, Some("Reused"))]),
    ];
    updated.target_languages = Vec::new();
    updated.assignments = Vec::new();
    let updated = assign(updated, "fr", Service::Subtitles, &b);
    let updated = assign(updated, "es-ES", Service::Dubbing, &b);
    update_project(store, &updated).await;

    assert_eq!(get_project(store, original.id).await, Some(updated.clone()));
    let mut tx = read(store).await;
    assert_eq!(tx.project_id_by_movie_id(mid(6000)).await.unwrap(), None);
    assert_eq!(
        tx.project_id_by_movie_id(mid(6010)).await.unwrap(),
        Some(original.id)
    );
    assert_eq!(
        tx.project_id_by_movie_id(mid(6004)).await.unwrap(),
        Some(original.id)
    );
    drop(tx);

    // The freed movie ID can be used by another project.
    add_project(store, &film(6000, "Newcomer")).await;

    // Updating back to a film without seasons removes every episode.
    let mut flat = updated.clone();
    flat.kind = ProjectKind::Film;
    flat.seasons = Vec::new();
    update_project(store, &flat).await;
    assert_eq!(get_project(store, original.id).await, Some(flat));
    assert_eq!(
        read(store)
            .await
            .project_id_by_movie_id(mid(6001))
            .await
            .unwrap(),
        None
    );

    let mut tx = begin(store).await;
    not_found(tx.update_project(&film(7777, "Ghost"), at(0)).await);
}

pub async fn projects_movie_ids_are_unique_across_projects_and_episodes(store: &dyn Store) {
    let taken = series(100, "Taken", vec![season(1, vec![episode(1, 101, None)])]);
    add_project(store, &taken).await;

    let candidates = [
        ("project vs project", film(100, "Clash")),
        ("project vs episode", film(101, "Clash")),
        (
            "episode vs project",
            series(200, "Clash", vec![season(1, vec![episode(1, 100, None)])]),
        ),
        (
            "episode vs episode",
            series(200, "Clash", vec![season(1, vec![episode(1, 101, None)])]),
        ),
        (
            "episode vs its own series",
            series(300, "Clash", vec![season(1, vec![episode(1, 300, None)])]),
        ),
        (
            "two episodes of one series",
            series(
                400,
                "Clash",
                vec![season(
                    1,
                    vec![episode(1, 401, None), episode(2, 401, None)],
                )],
            ),
        ),
    ];
    for (what, p) in candidates {
        let mut tx = begin(store).await;
        match tx.insert_project(&p, at(0)).await {
            Err(StoreError::Conflict(Conflict::MovieId)) => {}
            other => panic!("{what}: expected Conflict(MovieId), got {other:?}"),
        }
    }

    // Updates are held to the same rule.
    let other = series(500, "Other", vec![season(1, vec![episode(1, 501, None)])]);
    add_project(store, &other).await;
    let mut own_to_taken = other.clone();
    own_to_taken.movie_id = mid(101);
    let mut episode_to_taken = other.clone();
    episode_to_taken.seasons[0].episodes[0].movie_id = mid(100);
    for (what, p) in [("own", own_to_taken), ("episode", episode_to_taken)] {
        let mut tx = begin(store).await;
        match tx.update_project(&p, at(0)).await {
            Err(StoreError::Conflict(Conflict::MovieId)) => {}
            other => panic!("update {what}: expected Conflict(MovieId), got {other:?}"),
        }
    }

    // Nothing of the failed attempts was kept.
    assert_eq!(get_project(store, taken.id).await, Some(taken));
    assert_eq!(get_project(store, other.id).await, Some(other));
    let all = find(store, ProjectScope::All, "", 100).await;
    assert_eq!(all, vec!["Other", "Taken"]);
}

pub async fn projects_by_movie_id(store: &dyn Store) {
    let show = series(
        800,
        "Show",
        vec![
            season(1, vec![episode(1, 801, None)]),
            season(2, vec![episode(1, 802, None)]),
        ],
    );
    let one_film = film(900, "Film");
    add_project(store, &show).await;
    add_project(store, &one_film).await;

    let mut tx = read(store).await;
    assert_eq!(
        tx.project_id_by_movie_id(mid(800)).await.unwrap(),
        Some(show.id)
    );
    assert_eq!(
        tx.project_id_by_movie_id(mid(802)).await.unwrap(),
        Some(show.id)
    );
    assert_eq!(
        tx.project_id_by_movie_id(mid(900)).await.unwrap(),
        Some(one_film.id)
    );
    assert_eq!(tx.project_id_by_movie_id(mid(803)).await.unwrap(), None);
}

pub async fn find_projects_by_name_ignores_case_beyond_ascii(store: &dyn Store) {
    for (m, title) in [
        (7001, "Ñandú salvaje"),
        (7002, "東京物語"),
        (7003, "Straße der Nacht"),
        (7004, "100% Love"),
        (7005, "snake_case"),
        (7006, "Plain Title"),
    ] {
        add_project(store, &film(m, title)).await;
    }
    let all = ProjectScope::All;
    for (query, expected) in [
        ("ñandú", vec!["Ñandú salvaje"]),
        ("ÑANDÚ", vec!["Ñandú salvaje"]),
        ("  SALVAJE ", vec!["Ñandú salvaje"]),
        ("京物", vec!["東京物語"]),
        ("東京", vec!["東京物語"]),
        ("STRAẞE", vec!["Straße der Nacht"]),
        ("plain title", vec!["Plain Title"]),
        ("plain   TITLE", vec!["Plain Title"]),
        // LIKE wildcards are matched literally.
        ("%", vec!["100% Love"]),
        ("0% l", vec!["100% Love"]),
        ("_", vec!["snake_case"]),
        ("e_c", vec!["snake_case"]),
        ("nandu", vec![]),
        ("zzz", vec![]),
    ] {
        assert_eq!(
            find(store, all, query, 50).await,
            expected,
            "query {query:?}"
        );
    }
}

pub async fn find_projects_by_movie_id_prefix_exact_first(store: &dyn Store) {
    add_project(store, &film(812, "Zulu")).await;
    add_project(store, &film(81234, "Alpha")).await;
    add_project(store, &film(5, "Apollo 812")).await;
    add_project(
        store,
        &series(900, "Mid", vec![season(1, vec![episode(1, 81299, None)])]),
    )
    .await;
    add_project(store, &film(8, "Other")).await;
    add_project(store, &film(999_999_999_999, "Largest")).await;

    let all = ProjectScope::All;
    for (query, expected) in [
        // The exact movie ID first, then by name: prefixes of own and episode IDs, and names.
        ("812", vec!["Zulu", "Alpha", "Apollo 812", "Mid"]),
        ("8123", vec!["Alpha"]),
        // Exact through an episode.
        ("81299", vec!["Mid"]),
        ("8", vec!["Other", "Alpha", "Apollo 812", "Mid", "Zulu"]),
        (" 9 ", vec!["Largest", "Mid"]),
        ("999999999999", vec!["Largest"]),
        ("9999999999999", vec![]),
        ("7", vec![]),
    ] {
        assert_eq!(
            find(store, all, query, 50).await,
            expected,
            "query {query:?}"
        );
    }
}

pub async fn find_projects_honours_scope(store: &dyn Store) {
    let a = add_org(store, "Partner A", OrgKind::Partner).await;
    let b = add_org(store, "Partner B", OrgKind::Partner).await;
    let c = add_org(store, "Partner C", OrgKind::Partner).await;
    let one = assign(film(1001, "One"), "es-ES", Service::Dubbing, &a);
    let two = assign(film(1002, "Two"), "de", Service::Subtitles, &b);
    let three = assign(
        assign(film(1003, "Three"), "es-ES", Service::Dubbing, &a),
        "de",
        Service::Dubbing,
        &b,
    );
    let four = film(1004, "Four");
    for p in [&one, &two, &three, &four] {
        add_project(store, p).await;
    }

    let (sa, sb, sc) = (
        ProjectScope::AssignedTo(a.id),
        ProjectScope::AssignedTo(b.id),
        ProjectScope::AssignedTo(c.id),
    );
    assert_eq!(
        find(store, ProjectScope::All, "", 50).await,
        vec!["Four", "One", "Three", "Two"]
    );
    assert_eq!(find(store, sa, "", 50).await, vec!["One", "Three"]);
    assert_eq!(find(store, sb, "", 50).await, vec!["Three", "Two"]);
    assert_eq!(find(store, sc, "", 50).await, Vec::<String>::new());
    assert_eq!(
        find(store, ProjectScope::Nothing, "", 50).await,
        Vec::<String>::new()
    );
    assert_eq!(find(store, sa, "t", 50).await, vec!["Three"]);
    // Not even by its exact movie ID.
    assert_eq!(find(store, sa, "1002", 50).await, Vec::<String>::new());
    assert_eq!(find(store, sb, "1002", 50).await, vec!["Two"]);
    assert_eq!(
        find(store, ProjectScope::Nothing, "1002", 50).await,
        Vec::<String>::new()
    );

    // A summary carries the target languages and every assignment; hiding other partners'
    // assignments is the policy's job, not the store's.
    let summaries = read(store)
        .await
        .find_projects(sa, "three", None, 50)
        .await
        .unwrap()
        .items;
    assert_eq!(summaries.len(), 1);
    let s = &summaries[0];
    assert_eq!(
        (s.id, s.movie_id, &s.name, s.kind, &s.original_language),
        (
            three.id,
            three.movie_id,
            &three.name,
            three.kind,
            &three.original_language
        )
    );
    assert_eq!(s.target_languages, three.target_languages);
    assert_eq!(s.assignments, three.assignments);
    let mut both = vec![a.id, b.id];
    both.sort();
    assert_eq!(s.assigned_orgs(), both);

    // Losing its last assignment hides a project from the partner.
    let mut one_moved = one.clone();
    one_moved.assignments[0].org_id = b.id;
    update_project(store, &one_moved).await;
    assert_eq!(find(store, sa, "", 50).await, vec!["Three"]);
    assert_eq!(find(store, sb, "", 50).await, vec!["One", "Three", "Two"]);
}

pub async fn find_projects_orders_by_name_and_limits(store: &dyn Store) {
    for (m, title) in [
        (1, "gamma"),
        (2, "Alpha"),
        (3, "beta"),
        (4, "Éclair"),
        (5, "delta"),
    ] {
        add_project(store, &film(m, title)).await;
    }
    let all = ProjectScope::All;
    assert_eq!(
        find(store, all, "", 50).await,
        vec!["Alpha", "beta", "delta", "gamma", "Éclair"]
    );
    assert_eq!(find(store, all, "", 2).await, vec!["Alpha", "beta"]);
    assert_eq!(
        find(store, all, "a", 3).await,
        vec!["Alpha", "beta", "delta"]
    );
    assert_eq!(find(store, all, "", 0).await, Vec::<String>::new());
    assert_eq!(find(store, all, "   ", 50).await.len(), 5);
}

// ---------------------------------------------------------------------------------------------
// Follows

pub async fn follows_are_idempotent(store: &dyn Store) {
    let org = add_org(store, "The Studio", OrgKind::Studio).await;
    let ana = add_user(store, &org, "ana@studio.com").await;
    let ben = add_user(store, &org, "ben@studio.com").await;
    let p = film(1, "Followed");
    add_project(store, &p).await;

    let mut tx = begin(store).await;
    tx.follow(ana.id, p.id, at(0)).await.unwrap();
    tx.follow(ana.id, p.id, at(5)).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = read(store).await;
    assert!(tx.is_following(ana.id, p.id).await.unwrap());
    assert!(!tx.is_following(ben.id, p.id).await.unwrap());
    assert_eq!(
        tx.followed_projects(ana.id, ProjectScope::All)
            .await
            .unwrap()
            .len(),
        1
    );
    drop(tx);

    let mut tx = begin(store).await;
    tx.unfollow(ana.id, p.id).await.unwrap();
    tx.unfollow(ana.id, p.id).await.unwrap();
    tx.unfollow(ben.id, p.id).await.unwrap();
    tx.commit().await.unwrap();
    assert!(!read(store).await.is_following(ana.id, p.id).await.unwrap());
}

pub async fn followed_projects_honour_scope(store: &dyn Store) {
    let a = add_org(store, "Partner A", OrgKind::Partner).await;
    let b = add_org(store, "Partner B", OrgKind::Partner).await;
    let user = add_user(store, &a, "ana@partner-a.com").await;
    let other = add_user(store, &b, "ben@partner-b.com").await;
    let one = assign(film(1, "One"), "es-ES", Service::Dubbing, &a);
    let two = assign(film(2, "Two"), "de", Service::Dubbing, &b);
    let alpha = assign(film(3, "alpha"), "fr", Service::Subtitles, &a);
    let unfollowed = assign(film(4, "Also A"), "it", Service::Subtitles, &a);
    let mut tx = begin(store).await;
    for p in [&one, &two, &alpha, &unfollowed] {
        tx.insert_project(p, at(0)).await.unwrap();
    }
    for p in [&one, &two, &alpha] {
        tx.follow(user.id, p.id, at(1)).await.unwrap();
    }
    tx.follow(other.id, two.id, at(1)).await.unwrap();
    tx.commit().await.unwrap();

    let sa = ProjectScope::AssignedTo(a.id);
    assert_eq!(
        followed(store, user.id, ProjectScope::All).await,
        vec!["alpha", "One", "Two"]
    );
    assert_eq!(followed(store, user.id, sa).await, vec!["alpha", "One"]);
    assert_eq!(
        followed(store, user.id, ProjectScope::Nothing).await,
        Vec::<String>::new()
    );
    assert_eq!(
        followed(store, other.id, ProjectScope::All).await,
        vec!["Two"]
    );

    let summaries = read(store)
        .await
        .followed_projects(user.id, sa)
        .await
        .unwrap();
    assert_eq!(summaries[1].id, one.id);
    assert_eq!(summaries[1].assignments, one.assignments);
    assert_eq!(summaries[1].target_languages, one.target_languages);

    // Still followed, but no longer assigned: gone from the partner's list.
    let mut moved = one.clone();
    moved.assignments[0].org_id = b.id;
    update_project(store, &moved).await;
    assert_eq!(followed(store, user.id, sa).await, vec!["alpha"]);
    assert!(
        read(store)
            .await
            .is_following(user.id, one.id)
            .await
            .unwrap()
    );
}

// ---------------------------------------------------------------------------------------------
// Transactions and values

pub async fn dropping_a_transaction_rolls_it_back(store: &dyn Store) {
    let org = Organisation {
        id: OrgId::new(),
        name: name("Ephemeral"),
        kind: OrgKind::Partner,
    };
    let p = series(
        4242,
        "Ephemeral",
        vec![season(1, vec![episode(1, 4243, None)])],
    );
    let mut tx = begin(store).await;
    tx.insert_org(&org).await.unwrap();
    tx.insert_project(&p, at(0)).await.unwrap();
    tx.record_sign_in_failure("addr:192.0.2.9", at(0))
        .await
        .unwrap();
    drop(tx);

    let mut tx = read(store).await;
    assert_eq!(tx.get_org(org.id).await.unwrap(), None);
    assert_eq!(tx.get_project(p.id).await.unwrap(), None);
    assert_eq!(tx.project_id_by_movie_id(mid(4243)).await.unwrap(), None);
    assert_eq!(
        tx.sign_in_failures("addr:192.0.2.9", at(-1)).await.unwrap(),
        (0, None)
    );
    drop(tx);

    // The same values can be written afterwards.
    let mut tx = begin(store).await;
    tx.insert_org(&org).await.unwrap();
    tx.insert_project(&p, at(0)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(get_project(store, p.id).await, Some(p));
}

pub async fn a_failed_write_leaves_nothing_once_dropped(store: &dyn Store) {
    add_project(store, &film(10, "Existing")).await;
    let newcomer = series(20, "Newcomer", vec![season(1, vec![episode(1, 10, None)])]);
    let mut tx = begin(store).await;
    conflict(tx.insert_project(&newcomer, at(0)).await, Conflict::MovieId);
    drop(tx);
    assert_eq!(get_project(store, newcomer.id).await, None);
    assert_eq!(
        read(store)
            .await
            .project_id_by_movie_id(mid(20))
            .await
            .unwrap(),
        None
    );
}

pub async fn read_transactions_see_commits_and_refuse_writes(store: &dyn Store) {
    let org = add_org(store, "Visible", OrgKind::Partner).await;
    let mut tx = read(store).await;
    assert_eq!(tx.get_org(org.id).await.unwrap(), Some(org));
    let sneaky = Organisation {
        id: OrgId::new(),
        name: name("Sneaky"),
        kind: OrgKind::Partner,
    };
    assert!(
        tx.insert_org(&sneaky).await.is_err(),
        "a read transaction accepted a write"
    );
    drop(tx);
    assert_eq!(read(store).await.get_org(sneaky.id).await.unwrap(), None);
}

pub async fn concurrent_write_transactions_all_succeed(store: &dyn Store) {
    async fn write_one(store: &dyn Store, i: u32) {
        let org = Organisation {
            id: OrgId::new(),
            name: name(&format!("Concurrent {i}")),
            kind: OrgKind::Partner,
        };
        let mut tx = begin(store).await;
        tx.insert_org(&org).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        tx.commit().await.unwrap();
    }
    tokio::join!(
        write_one(store, 1),
        write_one(store, 2),
        write_one(store, 3),
        write_one(store, 4),
        write_one(store, 5),
        write_one(store, 6),
    );
    assert_eq!(read(store).await.list_orgs().await.unwrap().len(), 6);
}

pub async fn timestamps_round_trip_exactly_in_utc(store: &dyn Store) {
    let org = add_org(store, "The Studio", OrgKind::Studio).await;
    let offset = UtcOffset::from_hms(2, 0, 0).unwrap();
    let cases = [
        // µs precision, given in another offset.
        datetime!(2026-05-17 10:11:12.123456 UTC).to_offset(offset),
        datetime!(1999-12-31 23:59:59.999999 UTC),
        datetime!(1969-07-20 20:17:40.000001 UTC),
        datetime!(2999-12-31 23:59:59.999999 UTC),
    ];
    for (i, when) in cases.into_iter().enumerate() {
        let mut user = user_in(&org, &format!("u{i}@studio.com"), "U");
        user.created_at = when;
        let mut tx = begin(store).await;
        tx.insert_user(&user).await.unwrap();
        tx.commit().await.unwrap();
        let got = read(store).await.get_user(user.id).await.unwrap().unwrap();
        assert_eq!(got.user.created_at, when, "case {i}");
        assert_eq!(got.user.created_at.offset(), UtcOffset::UTC, "case {i}");
    }

    // Finer than µs is cut to the µs below, on every backend.
    let ns = datetime!(2026-05-17 10:11:12.123456789 UTC);
    let cut = datetime!(2026-05-17 10:11:12.123456 UTC);
    let user = add_user(store, &org, "ns@studio.com").await;
    let s = SessionRecord {
        created_at: ns,
        expires_at: ns + Duration::days(30),
        ..session(&user, "ns-session", ns)
    };
    let t = ApiTokenRecord {
        created_at: ns,
        last_used_at: Some(ns),
        revoked_at: None,
        ..api_token(&user, "ns", "ns-token", 0)
    };
    let mut tx = begin(store).await;
    tx.insert_session(&s).await.unwrap();
    tx.insert_api_token(&t).await.unwrap();
    tx.record_sign_in_failure("ns", ns).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = read(store).await;
    let got = tx.get_session("ns-session", cut).await.unwrap().unwrap();
    assert_eq!(got.created_at, cut);
    assert_eq!(got.expires_at, cut + Duration::days(30));
    let got = tx.find_api_token("ns-token").await.unwrap().unwrap();
    assert_eq!((got.created_at, got.last_used_at), (cut, Some(cut)));
    assert_eq!(
        tx.sign_in_failures("ns", cut).await.unwrap(),
        (1, Some(cut))
    );
}

// ---------------------------------------------------------------------------------------------
// Channel preferences, channels and messages

pub async fn users_prefs_round_trip(store: &dyn Store) {
    let org = add_org(store, "The Studio", OrgKind::Studio).await;
    let mut user = user_in(&org, "ana@studio.com", "Ana");
    user.prefs = ChannelPrefs {
        internal_messages: true,
        languages: WorkLanguages::Only(vec![lang("es-ES"), lang("ja")]),
    };
    let plain = add_user(store, &org, "bob@studio.com").await;
    let mut tx = begin(store).await;
    tx.insert_user(&user).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = read(store).await;
    assert_eq!(tx.get_user(user.id).await.unwrap().unwrap().user, user);
    assert_eq!(
        tx.find_user_by_email(&user.email)
            .await
            .unwrap()
            .unwrap()
            .user,
        user
    );
    let listed: Vec<UserRecord> = tx
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.user)
        .collect();
    assert_eq!(listed, vec![user.clone(), plain.clone()]);
    assert_eq!(listed[1].prefs, ChannelPrefs::default());
    drop(tx);

    // Every shape of the settings survives update_user: none of the languages, all of them,
    // internal messages off.
    for prefs in [
        ChannelPrefs {
            internal_messages: false,
            languages: WorkLanguages::Only(Vec::new()),
        },
        ChannelPrefs {
            internal_messages: true,
            languages: WorkLanguages::Only(vec![lang("pt-BR")]),
        },
        ChannelPrefs::default(),
    ] {
        user.prefs = prefs;
        let mut tx = begin(store).await;
        tx.update_user(&user).await.unwrap();
        tx.commit().await.unwrap();
        let got = read(store).await.get_user(user.id).await.unwrap().unwrap();
        assert_eq!(got.user, user);
    }
}

/// A film with `languages` as targets, each dubbed by one partner of its own, and its
/// channels.
async fn add_project_with_channels(
    store: &dyn Store,
    movie_id: i64,
    languages: &[&str],
) -> (ProjectId, Vec<domain::Channel>) {
    let partner = add_org(store, &format!("Partner of {movie_id}"), OrgKind::Partner).await;
    let mut p = film(movie_id, &format!("Film {movie_id}"));
    for l in languages {
        p = assign(p, l, Service::Dubbing, &partner);
    }
    add_project(store, &p).await;
    let mut tx = begin(store).await;
    tx.ensure_channels(p.id, &domain::channels::channel_kinds_for(&p.assignments))
        .await
        .unwrap();
    let mut channels = tx.list_channels(p.id).await.unwrap();
    tx.commit().await.unwrap();
    channels.sort_by_key(|c| c.kind.sort_key());
    (p.id, channels)
}

async fn post(
    store: &dyn Store,
    channel: ChannelId,
    author: Option<UserId>,
    body: &str,
    when: OffsetDateTime,
) -> Message {
    let mut tx = begin(store).await;
    let m = tx
        .insert_message(MessageId::new(), channel, author, body, when)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    m
}

async fn unread_of(store: &dyn Store, user: UserId, channels: &[ChannelId]) -> Vec<ChannelUnread> {
    read(store).await.unread(user, channels).await.unwrap()
}

pub async fn channels_ensure_is_idempotent_and_lists(store: &dyn Store) {
    let (project, channels) = add_project_with_channels(store, 1001, &["es-ES", "ja"]).await;
    let kinds: Vec<ChannelKind> = channels.iter().map(|c| c.kind.clone()).collect();
    let a = channels[1].kind.partner().unwrap();
    let b = add_org(store, "Second partner", OrgKind::Partner).await.id;
    let vendor = |l: &str, org: OrgId| ChannelKind::Vendor(lang(l), org);
    assert_eq!(
        kinds,
        vec![
            ChannelKind::Broadcast,
            vendor("es-ES", a),
            vendor("ja", a),
            ChannelKind::Internal,
        ]
    );
    assert!(
        channels
            .iter()
            .all(|c| c.project_id == project && c.last_seq == 0)
    );

    // Again, plus a new language: only the new channel appears; the others keep their ids.
    let mut tx = begin(store).await;
    // es-ES is now also subtitled by a second partner, who gets a channel of its own.
    let mut more = kinds.clone();
    more.push(vendor("fr", a));
    more.push(vendor("es-ES", b));
    tx.ensure_channels(project, &more).await.unwrap();
    more.retain(|k| *k != vendor("ja", a));
    tx.ensure_channels(project, &more).await.unwrap();
    tx.ensure_channels(project, &[]).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = read(store).await;
    let mut now = tx.list_channels(project).await.unwrap();
    now.sort_by_key(|c| c.kind.sort_key());
    assert_eq!(now.len(), 6);
    for c in &channels {
        assert!(now.contains(c), "{c:?} kept");
        assert_eq!(tx.get_channel(c.id).await.unwrap().as_ref(), Some(c));
    }
    let es: Vec<&ChannelKind> = now
        .iter()
        .map(|c| &c.kind)
        .filter(|k| k.language() == Some(&lang("es-ES")))
        .collect();
    assert_eq!(es.len(), 2);
    assert!(es.contains(&&vendor("es-ES", a)) && es.contains(&&vendor("es-ES", b)));
    assert!(now.iter().any(|c| c.kind == vendor("fr", a)));
    assert_eq!(tx.get_channel(ChannelId::new()).await.unwrap(), None);
    // Another project's channels are its own.
    drop(tx);
    let (other, other_channels) = add_project_with_channels(store, 1002, &[]).await;
    assert_eq!(other_channels.len(), 2);
    assert!(other_channels.iter().all(|c| c.project_id == other));
    let mut tx = read(store).await;
    assert_eq!(tx.list_channels(project).await.unwrap().len(), 6);
    assert!(tx.list_channels(ProjectId::new()).await.unwrap().is_empty());
}

fn attachment_of(message_id: MessageId, name: &str) -> domain::attachments::Attachment {
    let id = domain::AttachmentId::new();
    domain::attachments::Attachment {
        id,
        message_id,
        name: name.to_string(),
        file_type: domain::attachments::AttachmentName::parse(name)
            .unwrap()
            .file_type(),
        size: 1234,
        sha256: "ab".repeat(32),
        storage_key: format!("attachments/{id}"),
        created_at: at(7),
    }
}

pub async fn attachments_are_kept_per_message_in_order(store: &dyn Store) {
    let (_, channels) = add_project_with_channels(store, 1001, &[]).await;
    let m1 = post(store, channels[0].id, None, "two files", at(1)).await;
    let m2 = post(store, channels[0].id, None, "one file", at(2)).await;
    let m3 = post(store, channels[0].id, None, "none", at(3)).await;
    let files = [
        attachment_of(m1.id, "b-second.png"),
        attachment_of(m1.id, "a-first.wav"),
        attachment_of(m2.id, "Peña script.CSV"),
    ];
    let mut tx = begin(store).await;
    tx.insert_attachment(&files[1], 0).await.unwrap();
    tx.insert_attachment(&files[0], 1).await.unwrap();
    tx.insert_attachment(&files[2], 0).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = read(store).await;
    assert_eq!(
        tx.get_attachment(files[2].id).await.unwrap().as_ref(),
        Some(&files[2])
    );
    assert_eq!(
        tx.get_attachment(domain::AttachmentId::new())
            .await
            .unwrap(),
        None
    );
    let of_m1: Vec<_> = tx
        .attachments_of(&[m1.id])
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(of_m1, vec!["a-first.wav", "b-second.png"]);
    assert_eq!(
        tx.attachments_of(&[m1.id, m2.id, m3.id])
            .await
            .unwrap()
            .len(),
        3
    );
    assert!(tx.attachments_of(&[m3.id]).await.unwrap().is_empty());
    assert!(tx.attachments_of(&[]).await.unwrap().is_empty());
    drop(tx);

    // Deleting returns what was removed, so the caller can remove the files.
    let mut tx = begin(store).await;
    let gone = tx.delete_attachments_of(m1.id).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(gone.len(), 2);
    let mut tx = read(store).await;
    assert!(tx.attachments_of(&[m1.id]).await.unwrap().is_empty());
    assert_eq!(
        tx.attachments_of(&[m2.id]).await.unwrap(),
        vec![files[2].clone()]
    );
}

/// The batch reads behind My Projects and notifications: many ids, one query each.
pub async fn batch_reads_return_exactly_what_was_asked(store: &dyn Store) {
    let (p1, c1) = add_project_with_channels(store, 1001, &["es-ES"]).await;
    let (p2, c2) = add_project_with_channels(store, 1002, &["ja", "fr"]).await;
    let (p3, _) = add_project_with_channels(store, 1003, &[]).await;
    let org = add_org(store, "The Studio", OrgKind::Studio).await;
    let u1 = add_user(store, &org, "one@studio.test").await;
    let u2 = add_user(store, &org, "two@studio.test").await;
    let _u3 = add_user(store, &org, "three@studio.test").await;

    let mut tx = read(store).await;
    let mut got: Vec<UserId> = tx
        .get_users(&[u2.id, u1.id, UserId::new()])
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.user.id)
        .collect();
    got.sort();
    let mut want = vec![u1.id, u2.id];
    want.sort();
    assert_eq!(got, want);
    assert!(tx.get_users(&[]).await.unwrap().is_empty());
    let partner = add_org(store, "A Partner", OrgKind::Partner).await;
    drop(tx);
    let p_user = add_user(store, &partner, "p@partner.test").await;
    let mut tx = read(store).await;
    assert_eq!(tx.users_of_orgs(&[org.id]).await.unwrap().len(), 3);
    let of_partner = tx.users_of_orgs(&[partner.id]).await.unwrap();
    assert_eq!(of_partner.len(), 1);
    assert_eq!(of_partner[0].user.id, p_user.id);
    assert_eq!(
        tx.users_of_orgs(&[org.id, partner.id]).await.unwrap().len(),
        4
    );
    assert!(tx.users_of_orgs(&[]).await.unwrap().is_empty());

    let summaries = tx
        .project_summaries(&[p2, p1, ProjectId::new()])
        .await
        .unwrap();
    assert_eq!(summaries.len(), 2);
    let s2 = summaries.iter().find(|s| s.id == p2).unwrap();
    assert_eq!(s2.assignments.len(), 2);
    assert!(tx.project_summaries(&[]).await.unwrap().is_empty());
    assert_eq!(
        tx.project_assignments(p2).await.unwrap(),
        Some(s2.assignments.clone())
    );
    assert_eq!(tx.project_assignments(p3).await.unwrap(), Some(Vec::new()));
    assert_eq!(
        tx.project_assignments(ProjectId::new()).await.unwrap(),
        None
    );

    let mut channels = tx.list_channels_of(&[p1, p2]).await.unwrap();
    channels.sort_by_key(|c| (c.project_id, c.kind.sort_key()));
    let mut want: Vec<domain::Channel> = c1.into_iter().chain(c2).collect();
    want.sort_by_key(|c| (c.project_id, c.kind.sort_key()));
    assert_eq!(channels, want);
    assert!(tx.list_channels_of(&[]).await.unwrap().is_empty());
}

pub async fn messages_get_gap_free_seqs_per_channel(store: &dyn Store) {
    let org = add_org(store, "The Studio", OrgKind::Studio).await;
    let ana = add_user(store, &org, "ana@studio.com").await;
    let (_, channels) = add_project_with_channels(store, 1001, &["es-ES"]).await;
    let (broadcast, vendor) = (channels[0].id, channels[1].id);

    let first = post(store, broadcast, Some(ana.id), "one", at(1)).await;
    assert_eq!(first.seq, 1);
    assert_eq!(
        first,
        Message {
            id: first.id,
            channel_id: broadcast,
            seq: 1,
            author: Some(ana.id),
            body: "one".to_string(),
            created_at: at(1),
            edited_at: None,
            deleted_at: None,
        }
    );
    assert_eq!(post(store, vendor, None, "robot", at(2)).await.seq, 1);
    assert_eq!(post(store, broadcast, None, "two", at(3)).await.seq, 2);

    // A post that is rolled back uses up no number.
    let mut tx = begin(store).await;
    let gone = tx
        .insert_message(MessageId::new(), broadcast, Some(ana.id), "gone", at(4))
        .await
        .unwrap();
    assert_eq!(gone.seq, 3);
    drop(tx);
    assert_eq!(
        post(store, broadcast, Some(ana.id), "three", at(5))
            .await
            .seq,
        3
    );
    assert_eq!(post(store, vendor, Some(ana.id), "v2", at(6)).await.seq, 2);

    let mut tx = begin(store).await;
    not_found(
        tx.insert_message(MessageId::new(), ChannelId::new(), None, "x", at(7))
            .await,
    );
    drop(tx);

    let mut tx = read(store).await;
    assert_eq!(tx.get_message(first.id).await.unwrap(), Some(first));
    assert_eq!(tx.get_message(gone.id).await.unwrap(), None);
    assert_eq!(
        tx.get_channel(broadcast).await.unwrap().unwrap().last_seq,
        3
    );
    assert_eq!(tx.get_channel(vendor).await.unwrap().unwrap().last_seq, 2);
    let seqs: Vec<i64> = tx
        .list_messages(broadcast, None, 100)
        .await
        .unwrap()
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(seqs, vec![1, 2, 3]);
}

pub async fn messages_edit_and_delete_round_trip(store: &dyn Store) {
    let org = add_org(store, "The Studio", OrgKind::Studio).await;
    let ana = add_user(store, &org, "ana@studio.com").await;
    let (_, channels) = add_project_with_channels(store, 1001, &[]).await;
    let channel = channels[0].id;
    let m = post(store, channel, Some(ana.id), "Helo", at(1)).await;
    let other = post(store, channel, Some(ana.id), "Other", at(2)).await;

    let mut tx = begin(store).await;
    tx.edit_message(m.id, "Hello", at(10)).await.unwrap();
    not_found(tx.edit_message(MessageId::new(), "x", at(10)).await);
    not_found(tx.delete_message(MessageId::new(), at(10)).await);
    tx.commit().await.unwrap();
    let edited = read(store).await.get_message(m.id).await.unwrap().unwrap();
    assert_eq!(
        edited,
        Message {
            body: "Hello".to_string(),
            edited_at: Some(at(10)),
            ..m.clone()
        }
    );

    let mut tx = begin(store).await;
    tx.delete_message(m.id, at(20)).await.unwrap();
    tx.commit().await.unwrap();
    let tombstone = Message {
        body: String::new(),
        deleted_at: Some(at(20)),
        ..edited
    };
    let mut tx = read(store).await;
    assert_eq!(tx.get_message(m.id).await.unwrap(), Some(tombstone.clone()));
    // The tombstone keeps its place.
    assert_eq!(
        tx.list_messages(channel, None, 10).await.unwrap(),
        vec![tombstone.clone(), other.clone()]
    );
    drop(tx);

    // A tombstone cannot be edited back to life; deleting again changes nothing.
    let mut tx = begin(store).await;
    not_found(tx.edit_message(m.id, "Back", at(30)).await);
    tx.delete_message(m.id, at(40)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        read(store).await.get_message(m.id).await.unwrap(),
        Some(tombstone)
    );
    assert_eq!(
        read(store).await.get_message(other.id).await.unwrap(),
        Some(other)
    );
}

pub async fn messages_list_pages_backwards_in_ascending_order(store: &dyn Store) {
    let (_, channels) = add_project_with_channels(store, 1001, &[]).await;
    let (channel, quiet) = (channels[0].id, channels[1].id);
    for i in 1..=10 {
        post(store, channel, None, &format!("m{i}"), at(i)).await;
    }
    let mut tx = read(store).await;
    let seqs = |ms: Vec<Message>| ms.iter().map(|m| m.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(tx.list_messages(channel, None, 4).await.unwrap()),
        vec![7, 8, 9, 10]
    );
    assert_eq!(
        seqs(tx.list_messages(channel, Some(7), 4).await.unwrap()),
        vec![3, 4, 5, 6]
    );
    assert_eq!(
        seqs(tx.list_messages(channel, Some(3), 4).await.unwrap()),
        vec![1, 2]
    );
    assert!(
        tx.list_messages(channel, Some(1), 4)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(tx.list_messages(channel, None, 0).await.unwrap().is_empty());
    assert_eq!(
        seqs(tx.list_messages(channel, None, 100).await.unwrap()),
        (1..=10).collect::<Vec<_>>()
    );
    let page = tx.list_messages(channel, Some(6), 2).await.unwrap();
    assert_eq!(
        page.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        vec!["m4", "m5"]
    );
    assert!(tx.list_messages(quiet, None, 10).await.unwrap().is_empty());
    assert!(
        tx.list_messages(ChannelId::new(), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn mark_read_is_monotonic(store: &dyn Store) {
    let org = add_org(store, "The Studio", OrgKind::Studio).await;
    let ana = add_user(store, &org, "ana@studio.com").await;
    let bob = add_user(store, &org, "bob@studio.com").await;
    let (_, channels) = add_project_with_channels(store, 1001, &[]).await;
    let (channel, other) = (channels[0].id, channels[1].id);
    for i in 1..=5 {
        post(store, channel, None, "robot", at(i)).await;
    }
    let position = |u: Vec<ChannelUnread>| u.iter().map(|c| c.last_read_seq).collect::<Vec<_>>();
    assert_eq!(
        position(unread_of(store, ana.id, &[channel]).await),
        vec![0]
    );

    for (seq, expected) in [(3, 3), (2, 3), (3, 3), (5, 5), (0, 5)] {
        let mut tx = begin(store).await;
        tx.mark_read(ana.id, channel, seq).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            position(unread_of(store, ana.id, &[channel, other]).await),
            vec![expected, 0],
            "after mark_read({seq})"
        );
    }
    // Positions are per user.
    assert_eq!(
        position(unread_of(store, bob.id, &[channel]).await),
        vec![0]
    );
}

pub async fn unread_counts_others_live_messages_after_the_position(store: &dyn Store) {
    let org = add_org(store, "The Studio", OrgKind::Studio).await;
    let ana = add_user(store, &org, "ana@studio.com").await;
    let bob = add_user(store, &org, "bob@studio.com").await;
    let (_, channels) = add_project_with_channels(store, 1001, &["es-ES"]).await;
    let (broadcast, vendor, internal) = (channels[0].id, channels[1].id, channels[2].id);

    // broadcast: 1 bob, 2 ana (own), 3 robot, 4 bob (deleted), 5 bob, 6 ana (own)
    post(store, broadcast, Some(bob.id), "1", at(1)).await;
    post(store, broadcast, Some(ana.id), "2", at(2)).await;
    post(store, broadcast, None, "3", at(3)).await;
    let deleted = post(store, broadcast, Some(bob.id), "4", at(4)).await;
    post(store, broadcast, Some(bob.id), "5", at(5)).await;
    post(store, broadcast, Some(ana.id), "6", at(6)).await;
    // vendor: only ana's own messages.
    post(store, vendor, Some(ana.id), "v1", at(7)).await;
    let mut tx = begin(store).await;
    tx.delete_message(deleted.id, at(8)).await.unwrap();
    tx.commit().await.unwrap();

    let all = [broadcast, vendor, internal];
    let row = |channel_id, last_read_seq, unread, first_unread_seq| ChannelUnread {
        channel_id,
        last_read_seq,
        unread,
        first_unread_seq,
    };
    // Never read: everything of others counts, robot included, deleted and own excluded.
    assert_eq!(
        unread_of(store, ana.id, &all).await,
        vec![
            row(broadcast, 0, 3, Some(1)),
            row(vendor, 0, 0, None),
            row(internal, 0, 0, None),
        ]
    );
    assert_eq!(
        unread_of(store, bob.id, &all).await,
        vec![
            row(broadcast, 0, 3, Some(2)),
            row(vendor, 0, 1, Some(1)),
            row(internal, 0, 0, None),
        ]
    );

    let mut tx = begin(store).await;
    tx.mark_read(ana.id, broadcast, 1).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        unread_of(store, ana.id, &[broadcast]).await,
        vec![row(broadcast, 1, 2, Some(3))]
    );
    let mut tx = begin(store).await;
    tx.mark_read(ana.id, broadcast, 3).await.unwrap();
    tx.commit().await.unwrap();
    // Only 5 is left: 4 is deleted, 6 is ana's own.
    assert_eq!(
        unread_of(store, ana.id, &[broadcast]).await,
        vec![row(broadcast, 3, 1, Some(5))]
    );
    let mut tx = begin(store).await;
    tx.mark_read(ana.id, broadcast, 6).await.unwrap();
    tx.commit().await.unwrap();

    // The order asked for; unknown channels are left out; nothing asked, nothing answered.
    assert_eq!(
        unread_of(store, ana.id, &[internal, ChannelId::new(), broadcast]).await,
        vec![row(internal, 0, 0, None), row(broadcast, 6, 0, None)]
    );
    assert!(unread_of(store, ana.id, &[]).await.is_empty());
}

pub async fn concurrent_posts_in_one_channel_get_exact_seqs(store: &dyn Store) {
    const TASKS: i64 = 8;
    const POSTS: i64 = 25;
    let org = add_org(store, "The Studio", OrgKind::Studio).await;
    let mut authors = Vec::new();
    for i in 0..TASKS {
        authors.push(add_user(store, &org, &format!("poster{i}@studio.com")).await);
    }
    let reader = add_user(store, &org, "reader@studio.com").await;
    let (_, channels) = add_project_with_channels(store, 1001, &[]).await;
    let channel = channels[0].id;

    /// Posts `POSTS` messages, each in its own transaction held open a moment after the insert
    /// so that the others pile up behind it; returns the seqs it got.
    async fn poster(store: &dyn Store, channel: ChannelId, author: UserId) -> Vec<i64> {
        let mut seqs = Vec::new();
        for i in 0..POSTS {
            let mut tx = begin(store).await;
            let m = tx
                .insert_message(
                    MessageId::new(),
                    channel,
                    Some(author),
                    &format!("{i}"),
                    at(i),
                )
                .await
                .unwrap();
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            tx.commit().await.unwrap();
            seqs.push(m.seq);
        }
        seqs
    }
    let a = |i: usize| authors[i].id;
    let results = tokio::join!(
        poster(store, channel, a(0)),
        poster(store, channel, a(1)),
        poster(store, channel, a(2)),
        poster(store, channel, a(3)),
        poster(store, channel, a(4)),
        poster(store, channel, a(5)),
        poster(store, channel, a(6)),
        poster(store, channel, a(7)),
    );
    let per_task = [
        results.0, results.1, results.2, results.3, results.4, results.5, results.6, results.7,
    ];
    for seqs in &per_task {
        assert_eq!(seqs.len(), POSTS as usize);
        // One poster's messages are committed one after the other, so their seqs rise.
        assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    }
    let mut all: Vec<i64> = per_task.concat();
    all.sort_unstable();
    let total = TASKS * POSTS;
    assert_eq!(
        all,
        (1..=total).collect::<Vec<_>>(),
        "no gaps, no duplicates"
    );

    let mut tx = read(store).await;
    assert_eq!(
        tx.get_channel(channel).await.unwrap().unwrap().last_seq,
        total
    );
    let stored = tx.list_messages(channel, None, 1000).await.unwrap();
    assert_eq!(
        stored.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=total).collect::<Vec<_>>()
    );
    let unread = tx.unread(reader.id, &[channel]).await.unwrap();
    let recount = stored
        .iter()
        .filter(|m| m.deleted_at.is_none() && m.author != Some(reader.id))
        .count();
    assert_eq!(
        unread,
        vec![ChannelUnread {
            channel_id: channel,
            last_read_seq: 0,
            unread: u32::try_from(total).unwrap(),
            first_unread_seq: Some(1),
        }]
    );
    assert_eq!(recount, total as usize);
    // An author's own messages do not count for them.
    let own = tx.unread(authors[0].id, &[channel]).await.unwrap();
    assert_eq!(own[0].unread, u32::try_from(total - POSTS).unwrap());
}

// ---------------------------------------------------------------------------------------------
// Search

/// A project with Broadcast, es-ES, ja and Internal channels, two authors and a multilingual
/// corpus; the messages are returned in posting order (one second apart).
struct Corpus {
    broadcast: ChannelId,
    spanish: ChannelId,
    japanese: ChannelId,
    internal: ChannelId,
    marta: UserId,
    kenji: UserId,
    messages: Vec<Message>,
}

impl Corpus {
    fn all(&self) -> Vec<ChannelId> {
        vec![self.broadcast, self.spanish, self.japanese, self.internal]
    }

    /// The message at `i` (posting order).
    fn m(&self, i: usize) -> &Message {
        &self.messages[i]
    }
}

const CORPUS: &[(usize, bool, &str)] = &[
    // (channel: 0 broadcast, 1 es-ES, 2 ja, 3 internal; by Marta?, body)
    (0, true, "The final premix is ready for review"),
    (1, false, "Ask Peña about the premix schedule"),
    (2, false, "来週のスケジュールを確認してください"),
    (0, true, "请确认西班牙语配音的交付日期"),
    (1, true, "녹음 일정을 확인해 주세요"),
    (
        3,
        true,
        "Internal: premix budget approved, final numbers attached",
    ),
    (1, false, "Peñarol fans, the review is final"),
    (0, false, "Draft premix, not final"),
    (1, true, "ЗАПИСЬ завтра, mix v2.0"),
];

async fn corpus(store: &dyn Store) -> Corpus {
    let (_, channels) = add_project_with_channels(store, 9100, &["es-ES", "ja"]).await;
    let studio = add_org(store, "Studio", OrgKind::Studio).await;
    let marta = add_user(store, &studio, "marta@example.com").await.id;
    let kenji = add_user(store, &studio, "kenji@example.com").await.id;
    // Sorted: Broadcast, es-ES, ja, Internal.
    let ids: Vec<ChannelId> = channels.iter().map(|c| c.id).collect();
    let mut messages = Vec::new();
    for (i, (channel, by_marta, body)) in CORPUS.iter().enumerate() {
        let author = if *by_marta { marta } else { kenji };
        let when = at(i64::try_from(i).unwrap() + 1);
        messages.push(post(store, ids[*channel], Some(author), body, when).await);
    }
    Corpus {
        broadcast: ids[0],
        spanish: ids[1],
        japanese: ids[2],
        internal: ids[3],
        marta,
        kenji,
        messages,
    }
}

fn words(list: &[&str]) -> MessageSearch {
    MessageSearch {
        words: list.iter().map(|s| s.to_string()).collect(),
        ..MessageSearch::default()
    }
}

/// The ids found, in the order returned.
async fn found(
    store: &dyn Store,
    channels: &[ChannelId],
    query: &MessageSearch,
    limit: u32,
) -> Vec<MessageId> {
    read(store)
        .await
        .search_messages(channels, query, None, limit)
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|m| m.id)
        .collect()
}

/// The ids of the corpus messages at these positions, newest first.
fn ids(c: &Corpus, positions: &[usize]) -> Vec<MessageId> {
    let mut p = positions.to_vec();
    p.sort_unstable_by(|a, b| b.cmp(a));
    p.into_iter().map(|i| c.m(i).id).collect()
}

pub async fn search_words_phrases_and_exclusions(store: &dyn Store) {
    let c = corpus(store).await;
    let all = c.all();
    // Every word must match, newest first.
    assert_eq!(
        found(store, &all, &words(&["premix", "FINAL"]), 50).await,
        ids(&c, &[0, 5, 7])
    );
    // Whole words, not parts of them.
    assert!(found(store, &all, &words(&["pre"]), 50).await.is_empty());
    // A phrase is its words, adjacent and in order.
    let phrase = MessageSearch {
        phrases: vec!["final premix".into()],
        ..MessageSearch::default()
    };
    assert_eq!(found(store, &all, &phrase, 50).await, ids(&c, &[0]));
    // Exclusions: a word or a phrase.
    let mut q = words(&["premix"]);
    q.excluded = vec!["draft".into()];
    assert_eq!(found(store, &all, &q, 50).await, ids(&c, &[0, 1, 5]));
    q.excluded = vec!["not final".into(), "budget".into()];
    assert_eq!(found(store, &all, &q, 50).await, ids(&c, &[0, 1]));
    // Punctuation inside a word: its parts, in order; digits and other scripts.
    assert_eq!(
        found(store, &all, &words(&["v2.0"]), 50).await,
        ids(&c, &[8])
    );
    assert_eq!(
        found(store, &all, &words(&["запись"]), 50).await,
        ids(&c, &[8])
    );
    assert!(found(store, &all, &words(&["2.0"]), 50).await.is_empty());
    // Only exclusions: everything else.
    let only_not = MessageSearch {
        excluded: vec!["premix".into(), "final".into()],
        ..MessageSearch::default()
    };
    assert_eq!(
        found(store, &all, &only_not, 50).await,
        ids(&c, &[2, 3, 4, 8])
    );
}

pub async fn search_filters_by_channel_author_and_date(store: &dyn Store) {
    let c = corpus(store).await;
    let all = c.all();
    // Only the channels given: the internal message is never found without its channel.
    let public = [c.broadcast, c.spanish, c.japanese];
    assert_eq!(
        found(store, &public, &words(&["premix"]), 50).await,
        ids(&c, &[0, 1, 7])
    );
    assert_eq!(
        found(store, &[c.spanish], &words(&["premix"]), 50).await,
        ids(&c, &[1])
    );
    assert!(found(store, &[], &words(&["premix"]), 50).await.is_empty());
    assert!(
        found(store, &[ChannelId::new()], &words(&["premix"]), 50)
            .await
            .is_empty()
    );
    // Authors.
    let mut q = words(&["premix"]);
    q.authors = Some(vec![c.kenji]);
    assert_eq!(found(store, &all, &q, 50).await, ids(&c, &[1, 7]));
    q.authors = Some(vec![c.kenji, c.marta]);
    assert_eq!(found(store, &all, &q, 50).await, ids(&c, &[0, 1, 5, 7]));
    q.authors = Some(Vec::new());
    assert!(found(store, &all, &q, 50).await.is_empty());
    // Dates: after is inclusive, before exclusive; filters alone are a search too.
    let range = MessageSearch {
        after: Some(at(2)),
        before: Some(at(6)),
        ..MessageSearch::default()
    };
    assert_eq!(found(store, &all, &range, 50).await, ids(&c, &[1, 2, 3, 4]));
    let by_marta_before = MessageSearch {
        authors: Some(vec![c.marta]),
        before: Some(at(5)),
        ..MessageSearch::default()
    };
    assert_eq!(
        found(store, &all, &by_marta_before, 50).await,
        ids(&c, &[0, 3])
    );
    // has:attachment: nothing has one, then one premix message gets a file.
    let attached = MessageSearch {
        has_attachment: true,
        ..words(&["premix"])
    };
    assert!(found(store, &all, &attached, 50).await.is_empty());
    let target = ids(&c, &[1])[0];
    let mut tx = begin(store).await;
    tx.insert_attachment(&attachment_of(target, "premix.pdf"), 0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(found(store, &all, &attached, 50).await, vec![target]);
    let any_attached = MessageSearch {
        has_attachment: true,
        ..MessageSearch::default()
    };
    assert_eq!(found(store, &all, &any_attached, 50).await, vec![target]);
    // The robot's messages are found, unless authors are asked for.
    let robot = post(
        store,
        c.broadcast,
        None,
        "Spanish premix delivered",
        at(100),
    )
    .await;
    assert_eq!(
        found(store, &all, &words(&["spanish"]), 50).await,
        vec![robot.id]
    );
    let mut q = words(&["spanish"]);
    q.authors = Some(vec![c.marta]);
    assert!(found(store, &all, &q, 50).await.is_empty());
}

pub async fn search_folds_diacritics_and_finds_cjk(store: &dyn Store) {
    let c = corpus(store).await;
    let all = c.all();
    // Diacritics and case, both ways; not inside a longer word.
    for w in ["pena", "Peña", "PENA", "peña"] {
        assert_eq!(
            found(store, &all, &words(&[w]), 50).await,
            ids(&c, &[1]),
            "{w}"
        );
    }
    assert_eq!(
        found(store, &all, &words(&["penarol"]), 50).await,
        ids(&c, &[6])
    );
    // Japanese inside a sentence, Chinese, Korean; two-character terms too.
    assert_eq!(
        found(store, &all, &words(&["スケジュール"]), 50).await,
        ids(&c, &[2])
    );
    assert_eq!(
        found(store, &all, &words(&["確認"]), 50).await,
        ids(&c, &[2])
    );
    assert_eq!(
        found(store, &all, &words(&["西班牙语"]), 50).await,
        ids(&c, &[3])
    );
    assert_eq!(
        found(store, &all, &words(&["配音"]), 50).await,
        ids(&c, &[3])
    );
    assert_eq!(
        found(store, &all, &words(&["确认"]), 50).await,
        ids(&c, &[3])
    );
    assert_eq!(
        found(store, &all, &words(&["확인해"]), 50).await,
        ids(&c, &[4])
    );
    assert_eq!(
        found(store, &all, &words(&["일정"]), 50).await,
        ids(&c, &[4])
    );
    assert_eq!(found(store, &all, &words(&["녹"]), 50).await, ids(&c, &[4]));
    assert!(
        found(store, &all, &words(&["スケジュール表"]), 50)
            .await
            .is_empty()
    );
    // CJK combined with a Latin word and an exclusion.
    let mut q = words(&["確認", "premix"]);
    assert!(found(store, &all, &q, 50).await.is_empty());
    q.words = vec!["確認".into()];
    q.excluded = vec!["来週".into()];
    assert!(found(store, &all, &q, 50).await.is_empty());
}

pub async fn search_forgets_deleted_messages_and_follows_edits(store: &dyn Store) {
    let c = corpus(store).await;
    let all = c.all();
    let mut tx = begin(store).await;
    tx.delete_message(c.m(7).id, at(20)).await.unwrap();
    tx.edit_message(c.m(0).id, "Premix moved to Friday", at(21))
        .await
        .unwrap();
    tx.delete_message(c.m(2).id, at(22)).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(
        found(store, &all, &words(&["premix"]), 50).await,
        ids(&c, &[0, 1, 5])
    );
    assert_eq!(
        found(store, &all, &words(&["friday"]), 50).await,
        ids(&c, &[0])
    );
    let phrase = MessageSearch {
        phrases: vec!["final premix".into()],
        ..MessageSearch::default()
    };
    assert!(found(store, &all, &phrase, 50).await.is_empty());
    assert!(
        found(store, &all, &words(&["スケジュール"]), 50)
            .await
            .is_empty()
    );
    assert!(found(store, &all, &words(&["draft"]), 50).await.is_empty());
    // Filters alone never bring a tombstone back.
    let everything = MessageSearch {
        after: Some(at(0)),
        ..MessageSearch::default()
    };
    let got = found(store, &all, &everything, 50).await;
    assert_eq!(got, ids(&c, &[0, 1, 3, 4, 5, 6, 8]));
    let returned = read(store)
        .await
        .search_messages(&all, &words(&["friday"]), None, 5)
        .await
        .unwrap()
        .items;
    assert_eq!(returned[0].body, "Premix moved to Friday");
    assert!(returned[0].edited_at.is_some());
}

pub async fn search_returns_the_newest_first_up_to_the_limit(store: &dyn Store) {
    let (_, channels) = add_project_with_channels(store, 9200, &["fr-FR"]).await;
    let (a, b) = (channels[0].id, channels[1].id);
    let mut posted = Vec::new();
    // Posted out of time order, across two channels.
    for (i, seconds) in [30, 10, 50, 20, 40, 60].into_iter().enumerate() {
        let channel = if i % 2 == 0 { a } else { b };
        posted.push(
            post(
                store,
                channel,
                None,
                &format!("take {i} of the mix"),
                at(seconds),
            )
            .await,
        );
    }
    let mut newest: Vec<&Message> = posted.iter().collect();
    newest.sort_by_key(|m| std::cmp::Reverse(m.created_at));
    let expect: Vec<MessageId> = newest.iter().map(|m| m.id).collect();
    assert_eq!(found(store, &[a, b], &words(&["mix"]), 50).await, expect);
    assert_eq!(
        found(store, &[a, b], &words(&["mix"]), 3).await,
        expect[..3].to_vec()
    );
    assert!(found(store, &[a, b], &words(&["mix"]), 0).await.is_empty());
    // Many matches, one result.
    for i in 0..30 {
        post(store, a, None, &format!("bulk mix {i}"), at(100 + i)).await;
    }
    let one = read(store)
        .await
        .search_messages(&[a, b], &words(&["mix"]), None, 1)
        .await
        .unwrap()
        .items;
    assert_eq!(one.len(), 1);
    assert_eq!(one[0].body, "bulk mix 29");
}

// ---------------------------------------------------------------------------------------------
// The e-mail outbox

fn outgoing(user: &UserRecord, n: i64) -> crate::EmailRecord {
    crate::EmailRecord {
        id: domain::EmailId::new(),
        user_id: user.id,
        to_address: user.email.to_string(),
        subject: format!("Update {n}"),
        body_text: format!("Update {n} — ¿listo? 吹き替え"),
        body_html: format!("<p>Update {n}</p>"),
        channel_id: None,
        message_count: 1,
        state: crate::EmailState::Pending,
        attempts: 0,
        next_attempt_at: at(n),
        last_error: None,
        created_at: at(n),
        sent_at: None,
    }
}

/// A claim takes due e-mails once: it counts the attempt and leases them until `lease_until`;
/// sent, failed and retried e-mails move between the states only from the right one.
pub async fn outbox_claims_lease_and_settle_emails(store: &dyn Store) {
    let studio = add_org(store, "Studio", OrgKind::Studio).await;
    let ana = add_user(store, &studio, "ana@studio.test").await;
    let mut tx = begin(store).await;
    let emails: Vec<_> = (0..3).map(|n| outgoing(&ana, n)).collect();
    for e in &emails {
        tx.insert_email(e).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut tx = begin(store).await;
    let first = tx.claim_due_emails(at(10), at(100), 2).await.unwrap();
    assert_eq!(
        first.iter().map(|e| e.id).collect::<Vec<_>>(),
        vec![emails[0].id, emails[1].id],
        "oldest first"
    );
    assert!(
        first
            .iter()
            .all(|e| e.attempts == 1 && e.next_attempt_at == at(100))
    );
    assert_eq!(first[0].body_text, emails[0].body_text);
    let second = tx.claim_due_emails(at(10), at(100), 10).await.unwrap();
    assert_eq!(
        second.len(),
        1,
        "claimed ones are not due until their lease ends"
    );
    assert!(
        tx.claim_due_emails(at(99), at(200), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        tx.claim_due_emails(at(100), at(200), 10)
            .await
            .unwrap()
            .len(),
        3
    );

    assert!(tx.email_sent(emails[0].id, at(101)).await.unwrap());
    assert!(
        !tx.email_sent(emails[0].id, at(102)).await.unwrap(),
        "sent once"
    );
    tx.email_attempt_failed(emails[1].id, "SMTP: 451 try later", Some(at(300)))
        .await
        .unwrap();
    tx.email_attempt_failed(emails[2].id, "SMTP: 550 no such user", None)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut tx = begin(store).await;
    let one = tx.get_email(emails[1].id).await.unwrap().unwrap();
    assert_eq!(
        (one.state, one.attempts, one.next_attempt_at),
        (crate::EmailState::Pending, 2, at(300))
    );
    assert_eq!(one.last_error.as_deref(), Some("SMTP: 451 try later"));
    let sent = tx.get_email(emails[0].id).await.unwrap().unwrap();
    assert_eq!(
        (sent.state, sent.sent_at),
        (crate::EmailState::Sent, Some(at(101)))
    );
    assert_eq!(
        tx.email_counts().await.unwrap(),
        crate::EmailCounts {
            pending: 1,
            sent: 1,
            failed: 1
        }
    );
    let failed = tx
        .list_emails(Some(crate::EmailState::Failed), None, 10)
        .await
        .unwrap()
        .items;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].id, emails[2].id);
    assert_eq!(
        tx.list_emails(None, None, 10).await.unwrap().items[0].id,
        emails[2].id,
        "newest first"
    );
    assert!(
        !tx.retry_email(emails[1].id, at(400)).await.unwrap(),
        "only failed ones"
    );
    assert!(tx.retry_email(emails[2].id, at(400)).await.unwrap());
    let again = tx.get_email(emails[2].id).await.unwrap().unwrap();
    assert_eq!(
        (again.state, again.attempts, again.next_attempt_at),
        (crate::EmailState::Pending, 0, at(400))
    );
    tx.commit().await.unwrap();
}

/// Claims running at the same time never hand out the same e-mail.
pub async fn outbox_concurrent_claims_never_share_an_email(store: &dyn Store) {
    let studio = add_org(store, "Studio", OrgKind::Studio).await;
    let ana = add_user(store, &studio, "ana@studio.test").await;
    let mut tx = begin(store).await;
    for n in 0..60 {
        tx.insert_email(&outgoing(&ana, n)).await.unwrap();
    }
    tx.commit().await.unwrap();
    let claim = || async {
        let mut tx = store.begin().await.unwrap();
        let got = tx.claim_due_emails(at(1000), at(2000), 15).await.unwrap();
        // Hold the claim a moment, as a sender does, so the claims overlap.
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        tx.commit().await.unwrap();
        got.into_iter().map(|e| e.id).collect::<Vec<_>>()
    };
    let (a, b, c, d, e, f) = tokio::join!(claim(), claim(), claim(), claim(), claim(), claim());
    let all: Vec<domain::EmailId> = [a, b, c, d, e, f].into_iter().flatten().collect();
    let distinct: std::collections::BTreeSet<_> = all.iter().collect();
    assert_eq!(distinct.len(), all.len(), "an e-mail was claimed twice");
    assert_eq!(all.len(), 60, "every due e-mail was claimed");
}

/// E-mail preferences and muted projects round-trip; no row means the defaults.
pub async fn email_prefs_and_mutes_round_trip(store: &dyn Store) {
    use domain::email::{EmailPrefs, Frequency};
    let studio = add_org(store, "Studio", OrgKind::Studio).await;
    let ana = add_user(store, &studio, "ana@studio.test").await;
    let bo = add_user(store, &studio, "bo@studio.test").await;
    let p = film(81_000_001, "Night Train");
    add_project(store, &p).await;
    let mut tx = begin(store).await;
    assert!(tx.email_prefs(&[ana.id, bo.id]).await.unwrap().is_empty());
    let daily = EmailPrefs {
        frequency: Frequency::Daily,
        mentions_immediately: false,
    };
    tx.set_email_prefs(ana.id, &daily).await.unwrap();
    tx.set_email_prefs(ana.id, &daily).await.unwrap();
    assert_eq!(
        tx.email_prefs(&[ana.id, bo.id]).await.unwrap(),
        vec![(ana.id, daily)]
    );
    tx.set_muted(bo.id, p.id, true).await.unwrap();
    tx.set_muted(bo.id, p.id, true).await.unwrap();
    assert_eq!(tx.muted_projects(bo.id).await.unwrap(), vec![p.id]);
    assert!(tx.muted_projects(ana.id).await.unwrap().is_empty());
    // What a post reads about the people it may tell: Bo muted the title, Ana chose daily.
    let facts = tx.recipient_facts(p.id, &[ana.id, bo.id]).await.unwrap();
    let of = |u: UserId| facts.iter().find(|f| f.user_id == u).unwrap();
    assert!(of(bo.id).muted && !of(ana.id).muted);
    assert_eq!((of(ana.id).email, of(bo.id).email), (Some(daily), None));
    assert!(!of(ana.id).follows, "mentioned, not following");
    tx.set_muted(bo.id, p.id, false).await.unwrap();
    assert!(tx.muted_projects(bo.id).await.unwrap().is_empty());
    assert!(tx.lock_recipient(ana.id).await.unwrap());
    tx.commit().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Key-set pagination

/// Walks a keyed list from its start, `limit` items a page, and returns the items in the order
/// walked. Every page that has a next key must be full and its key must be `key_of` its last
/// item; the last page has no key.
async fn walk_pages<T, K, F, Fut>(limit: u32, key_of: impl Fn(&T) -> K, mut fetch: F) -> Vec<T>
where
    K: Clone + PartialEq + std::fmt::Debug,
    F: FnMut(Option<K>) -> Fut,
    Fut: Future<Output = crate::Page<T, K>>,
{
    let full = usize::try_from(limit).unwrap();
    let mut walked = Vec::new();
    let mut after: Option<K> = None;
    for _ in 0..1000 {
        let page = fetch(after.clone()).await;
        assert!(page.items.len() <= full, "a page holds at most the limit");
        let Some(next) = page.next else {
            walked.extend(page.items);
            return walked;
        };
        assert_eq!(page.items.len(), full, "a page that continues is full");
        assert_eq!(
            page.items.last().map(&key_of),
            Some(next.clone()),
            "the next key is the key of the page's last item"
        );
        walked.extend(page.items);
        after = Some(next);
    }
    panic!("the pages never end");
}

/// Checks that no two items have the same id.
fn assert_no_duplicates<T, I: Ord + std::fmt::Debug>(items: &[T], id: impl Fn(&T) -> I) {
    let ids: std::collections::BTreeSet<I> = items.iter().map(id).collect();
    assert_eq!(ids.len(), items.len(), "an item appears twice");
}

/// Projects with equal folded names and an exact movie-ID match, walked two (one, three) at a
/// time: the pages together are the unpaged list, and the exact match leads page one once.
pub async fn find_projects_pages_by_key(store: &dyn Store) {
    let zulu = film(81, "Zulu");
    let mut projects = [
        zulu.clone(),
        film(810, "Echo"),
        film(811, "ECHO"),
        film(812, "echo"),
        film(813, "eChO"),
        film(5, "Alpha 81"),
        series(900, "Bravo", vec![season(1, vec![episode(1, 8100, None)])]),
        film(7, "Other"),
        film(814, "Ñandú"),
    ];
    for p in &projects {
        add_project(store, p).await;
    }
    let all = ProjectScope::All;
    for query in ["81", "", "echo", "8"] {
        let whole = read(store)
            .await
            .find_projects(all, query, None, 1000)
            .await
            .unwrap();
        assert_eq!(whole.next, None, "{query:?}: everything fits");
        assert_no_duplicates(&whole.items, |p| p.id);
        let exact = (query == "81").then_some(zulu.id);
        if let Some(exact) = exact {
            assert_eq!(whole.items[0].id, exact, "the exact match first");
            assert_eq!(whole.items.len(), 8);
        }
        if query == "echo" {
            assert_eq!(whole.items.len(), 4);
        }
        let key_of = |p: &crate::ProjectSummary| crate::ProjectKey {
            rank: u8::from(Some(p.id) != exact),
            name_folded: crate::columns::fold(p.name.as_str()),
            id: p.id,
        };
        for limit in [1, 2, 3] {
            let walked = walk_pages(limit, key_of, |after| async move {
                read(store)
                    .await
                    .find_projects(all, query, after.as_ref(), limit)
                    .await
                    .unwrap()
            })
            .await;
            assert_eq!(walked, whole.items, "{query:?} by {limit}");
        }
        // Page one starts with the exact match; it does not come back on page two.
        if let Some(exact) = exact {
            let mut tx = read(store).await;
            let one = tx.find_projects(all, query, None, 2).await.unwrap();
            assert_eq!(one.items[0].id, exact);
            let two = tx
                .find_projects(all, query, one.next.as_ref(), 2)
                .await
                .unwrap();
            assert!(two.items.iter().all(|p| p.id != exact));
            let first = tx.find_projects(all, query, None, 1).await.unwrap();
            assert_eq!(first.next.as_ref().map(|k| k.rank), Some(0));
            let rest = tx
                .find_projects(all, query, first.next.as_ref(), 1000)
                .await
                .unwrap();
            assert_eq!(rest.items, whole.items[1..].to_vec());
        }
    }
    // Scope applies on every page.
    let partner = add_org(store, "Partner P", OrgKind::Partner).await;
    for p in projects
        .iter_mut()
        .filter(|p| [810, 812, 813].contains(&p.movie_id.get()))
    {
        *p = assign(p.clone(), "de", Service::Dubbing, &partner);
        update_project(store, p).await;
    }
    let scope = ProjectScope::AssignedTo(partner.id);
    let whole = read(store)
        .await
        .find_projects(scope, "", None, 1000)
        .await
        .unwrap()
        .items;
    assert_eq!(whole.len(), 3, "Echo, echo and eChO");
    let walked = walk_pages(
        2,
        |p: &crate::ProjectSummary| crate::ProjectKey {
            rank: 1,
            name_folded: crate::columns::fold(p.name.as_str()),
            id: p.id,
        },
        |after| async move {
            read(store)
                .await
                .find_projects(scope, "", after.as_ref(), 2)
                .await
                .unwrap()
        },
    )
    .await;
    assert_eq!(walked, whole);
}

/// Messages posted at the same instant, walked a few at a time: the pages together are the
/// unpaged result, newest first with ties broken by id.
pub async fn search_pages_by_key(store: &dyn Store) {
    let (_, channels) = add_project_with_channels(store, 9300, &["it-IT"]).await;
    let (a, b) = (channels[0].id, channels[1].id);
    for i in 0..9_i64 {
        let channel = if i % 2 == 0 { a } else { b };
        // Three instants, three messages each.
        post(
            store,
            channel,
            None,
            &format!("mix take {i}"),
            at(10 * (i % 3)),
        )
        .await;
    }
    post(store, a, None, "unrelated", at(5)).await;
    let queries = [
        words(&["mix"]),
        MessageSearch {
            after: Some(at(0)),
            ..MessageSearch::default()
        },
        MessageSearch {
            excluded: vec!["unrelated".into()],
            before: Some(at(20)),
            ..MessageSearch::default()
        },
    ];
    for query in &queries {
        let whole = read(store)
            .await
            .search_messages(&[a, b], query, None, 1000)
            .await
            .unwrap();
        assert_eq!(whole.next, None);
        assert!(whole.items.len() >= 6, "{query:?}");
        assert_no_duplicates(&whole.items, |m| m.id);
        assert!(
            whole
                .items
                .windows(2)
                .all(|w| (w[0].created_at, w[0].id) > (w[1].created_at, w[1].id)),
            "newest first, then by id"
        );
        for limit in [1, 2, 4] {
            let walked = walk_pages(
                limit,
                |m: &Message| crate::MessageKey {
                    created_at: m.created_at,
                    id: m.id,
                },
                |after| async move {
                    read(store)
                        .await
                        .search_messages(&[a, b], query, after.as_ref(), limit)
                        .await
                        .unwrap()
                },
            )
            .await;
            assert_eq!(walked, whole.items, "{query:?} by {limit}");
        }
    }
}

/// E-mails created at the same instant, walked two at a time, all or one state.
pub async fn list_emails_pages_by_key(store: &dyn Store) {
    let studio = add_org(store, "Studio", OrgKind::Studio).await;
    let ana = add_user(store, &studio, "ana@studio.test").await;
    let mut tx = begin(store).await;
    for n in 0..9_i64 {
        let mut e = outgoing(&ana, n);
        e.created_at = at(n % 3);
        if n % 4 == 0 {
            e.state = crate::EmailState::Failed;
        }
        tx.insert_email(&e).await.unwrap();
    }
    tx.commit().await.unwrap();
    for state in [
        None,
        Some(crate::EmailState::Pending),
        Some(crate::EmailState::Failed),
    ] {
        let whole = read(store)
            .await
            .list_emails(state, None, 1000)
            .await
            .unwrap();
        assert_eq!(whole.next, None);
        assert_eq!(
            whole.items.len(),
            match state {
                None => 9,
                Some(crate::EmailState::Failed) => 3,
                _ => 6,
            }
        );
        assert_no_duplicates(&whole.items, |e| e.id);
        assert!(
            whole
                .items
                .windows(2)
                .all(|w| (w[0].created_at, w[0].id) > (w[1].created_at, w[1].id)),
            "newest first, then by id"
        );
        for limit in [1, 2, 4] {
            let walked = walk_pages(
                limit,
                |e: &crate::EmailRecord| crate::EmailKey {
                    created_at: e.created_at,
                    id: e.id,
                },
                |after| async move {
                    read(store)
                        .await
                        .list_emails(state, after.as_ref(), limit)
                        .await
                        .unwrap()
                },
            )
            .await;
            assert_eq!(walked, whole.items, "{state:?} by {limit}");
        }
    }
}

/// Bell entries of messages posted at the same instant, walked two at a time, all or unread.
pub async fn bell_pages_by_key(store: &dyn Store) {
    use crate::NewNotification;
    use domain::notify::NotifyReason;
    let (_, channels) = add_project_with_channels(store, 9400, &["pt-BR"]).await;
    let (a, b) = (channels[0].id, channels[1].id);
    let studio = add_org(store, "Studio", OrgKind::Studio).await;
    let ana = add_user(store, &studio, "ana@studio.test").await;
    for i in 0..10_i64 {
        let channel = if i % 2 == 0 { a } else { b };
        let m = post(
            store,
            channel,
            None,
            &format!("@ana take {i}"),
            at(10 * (i % 3)),
        )
        .await;
        let mut tx = begin(store).await;
        tx.insert_notifications(
            m.id,
            &[NewNotification {
                user_id: ana.id,
                // A follower's notification not e-mailed is not in the bell.
                reason: if i == 9 {
                    NotifyReason::Broadcast
                } else {
                    NotifyReason::Mention
                },
                due_at: None,
            }],
            at(10 * (i % 3)),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
    }
    // Ana read channel a up to its third message.
    let mut tx = begin(store).await;
    tx.mark_read(ana.id, a, 3).await.unwrap();
    tx.commit().await.unwrap();
    for unread_only in [false, true] {
        let whole = read(store)
            .await
            .bell(ana.id, unread_only, None, 1000)
            .await
            .unwrap();
        assert_eq!(whole.next, None);
        assert_eq!(whole.items.len(), if unread_only { 6 } else { 9 });
        assert_no_duplicates(&whole.items, |i| i.message_id);
        assert!(
            whole
                .items
                .windows(2)
                .all(|w| (w[0].created_at, w[0].message_id) > (w[1].created_at, w[1].message_id)),
            "newest first, then by message id"
        );
        for limit in [1, 2, 4] {
            let walked = walk_pages(
                limit,
                |i: &crate::BellItem| crate::MessageKey {
                    created_at: i.created_at,
                    id: i.message_id,
                },
                |after| async move {
                    read(store)
                        .await
                        .bell(ana.id, unread_only, after.as_ref(), limit)
                        .await
                        .unwrap()
                },
            )
            .await;
            assert_eq!(
                walked, whole.items,
                "unread only: {unread_only}, by {limit}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Requests

/// A request of `project` waiting for its author, nobody assigned, created `created` seconds
/// after [`t0`].
fn request_in(
    project: &Project,
    kind: RequestKind,
    language: &str,
    due: Date,
    created: i64,
) -> RequestRecord {
    RequestRecord {
        id: RequestId::new(),
        project_id: project.id,
        episode_id: None,
        kind,
        language: lang(language),
        instructions: format!("{} in {language}", kind.label()),
        due_date: due,
        edd: due,
        state: RequestState::Todo(Step::Author),
        retakes: 0,
        assignees: [None; 3],
        step_due: [None; 3],
        created_by: None,
        created_at: at(created),
        updated_at: at(created),
    }
}

async fn add_request(store: &dyn Store, r: &RequestRecord) {
    let mut tx = begin(store).await;
    tx.insert_request(r).await.unwrap();
    tx.commit().await.unwrap();
}

pub async fn requests_round_trip_and_update(store: &dyn Store) {
    let studio = add_org(store, "The Studio", OrgKind::Studio).await;
    let partner = add_org(store, "Partner A", OrgKind::Partner).await;
    let sam = add_user(store, &studio, "sam@studio.test").await;
    let ana = add_user(store, &partner, "ana@partner-a.test").await;
    let ben = add_user(store, &partner, "ben@partner-a.test").await;
    let show = series(
        7000,
        "Requested",
        vec![season(
            1,
            vec![episode(1, 7001, None), episode(2, 7002, Some("Two"))],
        )],
    );
    let show = assign(show, "es-ES", Service::Dubbing, &partner);
    add_project(store, &show).await;
    let other = film(7100, "Elsewhere");
    add_project(store, &other).await;

    let mut first = request_in(
        &show,
        RequestKind::PreRecordedDubScript,
        "es-ES",
        date!(2026 - 04 - 10),
        0,
    );
    first.episode_id = Some(show.seasons[0].episodes[1].id);
    first.instructions = "Adapt for lip sync: «¡Ojo!», 東京".to_string();
    first.edd = date!(2026 - 04 - 08);
    first.assignees = [Some(ana.id), None, Some(ben.id)];
    first.step_due = [
        Some(date!(2026 - 04 - 01)),
        None,
        Some(date!(2026 - 04 - 09)),
    ];
    first.created_by = Some(sam.id);
    first.updated_at = at(5);
    add_request(store, &first).await;

    let mut tx = read(store).await;
    assert_eq!(tx.get_request(first.id).await.unwrap(), Some(first.clone()));
    assert_eq!(tx.get_request(RequestId::new()).await.unwrap(), None);
    drop(tx);

    // Every changeable column.
    let mut updated = first.clone();
    updated.instructions = "Adapt, then proofread".to_string();
    updated.due_date = date!(2026 - 04 - 15);
    updated.edd = date!(2026 - 04 - 12);
    updated.state = RequestState::InProgress(Step::Proofread);
    updated.retakes = 2;
    updated.assignees = [Some(ana.id), Some(ben.id), None];
    updated.step_due = [None, Some(date!(2026 - 04 - 11)), None];
    updated.updated_at = at(90);
    let mut tx = begin(store).await;
    tx.update_request(&updated).await.unwrap();
    tx.commit().await.unwrap();
    let got = read(store)
        .await
        .get_request(first.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, updated);
    assert_eq!(got.step_due(Step::Author), date!(2026 - 04 - 15));
    assert_eq!(got.step_due(Step::Proofread), date!(2026 - 04 - 11));
    assert_eq!(got.assignee(Step::Proofread), Some(ben.id));
    assert_eq!(got.assignee(Step::Qc), None);

    // An unknown request is not created by an update.
    let stranger = request_in(
        &show,
        RequestKind::DialogueList,
        "en",
        date!(2026 - 05 - 01),
        0,
    );
    let mut tx = begin(store).await;
    not_found(tx.update_request(&stranger).await);
    drop(tx);
    assert_eq!(
        read(store).await.get_request(stranger.id).await.unwrap(),
        None
    );

    // Created after `first` but dated before it: oldest first means by created_at.
    let mut earlier = request_in(
        &show,
        RequestKind::DialogueList,
        "en",
        date!(2026 - 03 - 20),
        -60,
    );
    earlier.assignees = [None, Some(ana.id), None];
    add_request(store, &earlier).await;
    // Ana holds two steps of this one.
    let mut both = request_in(
        &other,
        RequestKind::AudioDescriptionScript,
        "fr-FR",
        date!(2026 - 06 - 01),
        120,
    );
    both.assignees = [Some(ana.id), None, Some(ana.id)];
    both.state = RequestState::Done;
    add_request(store, &both).await;

    let mut tx = read(store).await;
    assert_eq!(
        tx.project_requests(show.id).await.unwrap(),
        vec![earlier.clone(), updated.clone()]
    );
    assert_eq!(
        tx.project_requests(other.id).await.unwrap(),
        vec![both.clone()]
    );
    assert!(
        tx.project_requests(ProjectId::new())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        tx.requests_assigned_to(ana.id).await.unwrap(),
        vec![earlier.clone(), updated.clone(), both.clone()]
    );
    assert_eq!(
        tx.requests_assigned_to(ben.id).await.unwrap(),
        vec![updated.clone()]
    );
    // Creating a request is not being assigned to it.
    assert!(tx.requests_assigned_to(sam.id).await.unwrap().is_empty());
}

fn dependency_of(
    id: i64,
    request: &RequestRecord,
    on_kind: RequestKind,
    on_language: Option<&str>,
    on_request: Option<RequestId>,
    skip: Option<Skip>,
) -> DependencyRecord {
    DependencyRecord {
        id,
        request_id: request.id,
        on_kind,
        on_language: on_language.map(lang),
        on_request,
        skip,
    }
}

async fn dependencies(store: &dyn Store, project: ProjectId) -> Vec<DependencyRecord> {
    read(store)
        .await
        .project_dependencies(project)
        .await
        .unwrap()
}

pub async fn request_dependencies_link_skip_and_delete(store: &dyn Store) {
    let studio = add_org(store, "The Studio", OrgKind::Studio).await;
    let sam = add_user(store, &studio, "sam@studio.test").await;
    let p = film(7200, "Dependent");
    add_project(store, &p).await;
    let q = film(7300, "Unrelated");
    add_project(store, &q).await;
    let dub = request_in(
        &p,
        RequestKind::PreRecordedDubScript,
        "es-ES",
        date!(2026 - 05 - 01),
        0,
    );
    let dl = request_in(
        &p,
        RequestKind::DialogueList,
        "en",
        date!(2026 - 04 - 20),
        10,
    );
    let elsewhere = request_in(
        &q,
        RequestKind::PivotDialogueList,
        "en",
        date!(2026 - 04 - 25),
        20,
    );
    for r in [&dub, &dl, &elsewhere] {
        add_request(store, r).await;
    }

    let mut tx = begin(store).await;
    let on_dl = tx
        .insert_dependency(&NewDependency {
            request_id: dub.id,
            on_kind: RequestKind::DialogueList,
            on_language: Some(lang("en")),
            on_request: None,
        })
        .await
        .unwrap();
    let on_pivot = tx
        .insert_dependency(&NewDependency {
            request_id: dub.id,
            on_kind: RequestKind::PivotDialogueList,
            on_language: None,
            on_request: None,
        })
        .await
        .unwrap();
    let other = tx
        .insert_dependency(&NewDependency {
            request_id: elsewhere.id,
            on_kind: RequestKind::DialogueList,
            on_language: None,
            on_request: None,
        })
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(on_dl < on_pivot, "{on_dl} < {on_pivot}");
    let unlinked_dl = dependency_of(
        on_dl,
        &dub,
        RequestKind::DialogueList,
        Some("en"),
        None,
        None,
    );
    let pivot = dependency_of(
        on_pivot,
        &dub,
        RequestKind::PivotDialogueList,
        None,
        None,
        None,
    );
    assert_eq!(
        dependencies(store, p.id).await,
        vec![unlinked_dl.clone(), pivot.clone()]
    );
    // A dependency belongs to its request's project.
    assert_eq!(
        dependencies(store, q.id).await,
        vec![dependency_of(
            other,
            &elsewhere,
            RequestKind::DialogueList,
            None,
            None,
            None
        )]
    );
    assert!(dependencies(store, ProjectId::new()).await.is_empty());

    // Linked to the request that does the work.
    let mut tx = begin(store).await;
    tx.set_dependency_target(on_dl, Some(dl.id)).await.unwrap();
    tx.commit().await.unwrap();
    let linked_dl = DependencyRecord {
        on_request: Some(dl.id),
        ..unlinked_dl.clone()
    };
    assert_eq!(
        dependencies(store, p.id).await,
        vec![linked_dl.clone(), pivot.clone()]
    );

    // Skipped by a manager, then by the operator, then no longer skipped.
    let by_sam = Skip {
        by: Some(sam.id),
        reason: "The original is English: no pivot needed".to_string(),
        at: at(300),
    };
    let by_operator = Skip {
        by: None,
        reason: "Delivered outside the portal".to_string(),
        at: at(301),
    };
    for skip in [Some(by_sam), Some(by_operator), None] {
        let mut tx = begin(store).await;
        tx.set_dependency_skip(on_pivot, skip.as_ref())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            dependencies(store, p.id).await,
            vec![
                linked_dl.clone(),
                DependencyRecord {
                    skip: skip.clone(),
                    ..pivot.clone()
                }
            ]
        );
    }

    // Unlinked again, then one deleted.
    let mut tx = begin(store).await;
    tx.set_dependency_target(on_dl, None).await.unwrap();
    tx.delete_dependency(on_pivot).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(dependencies(store, p.id).await, vec![unlinked_dl]);
    assert_eq!(dependencies(store, q.id).await.len(), 1);

    // A dependency of no request.
    let mut tx = begin(store).await;
    not_found(
        tx.insert_dependency(&NewDependency {
            request_id: RequestId::new(),
            on_kind: RequestKind::DialogueList,
            on_language: None,
            on_request: None,
        })
        .await,
    );
    drop(tx);
}

fn request_file(
    request: &RequestRecord,
    slot: FileSlot,
    version: u32,
    name: &str,
    created: i64,
) -> RequestFileRecord {
    let id = RequestFileId::new();
    RequestFileRecord {
        id,
        request_id: request.id,
        slot,
        version,
        name: name.to_string(),
        file_type: name
            .rsplit('.')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase(),
        size: 4096 + u64::from(version),
        sha256: "cd".repeat(32),
        storage_key: format!("requests/{id}"),
        uploaded_by: None,
        created_at: at(created),
    }
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

pub async fn request_files_history_and_script_viewers(store: &dyn Store) {
    let studio = add_org(store, "The Studio", OrgKind::Studio).await;
    let partner = add_org(store, "Partner A", OrgKind::Partner).await;
    let sam = add_user(store, &studio, "sam@studio.test").await;
    let ana = add_user(store, &partner, "ana@partner-a.test").await;
    let ben = add_user(store, &partner, "ben@partner-a.test").await;
    let p = film(7400, "Filed");
    add_project(store, &p).await;
    let q = film(7500, "Also filed");
    add_project(store, &q).await;
    let r = request_in(
        &p,
        RequestKind::PreRecordedDubScript,
        "es-ES",
        date!(2026 - 05 - 01),
        0,
    );
    let r2 = request_in(
        &p,
        RequestKind::DialogueList,
        "en",
        date!(2026 - 04 - 01),
        1,
    );
    add_request(store, &r).await;
    add_request(store, &r2).await;

    // Files: the reference is older than the author's first version although inserted after it.
    let mut reference = request_file(&r, FileSlot::Reference, 1, "Brief.PDF", 5);
    reference.uploaded_by = Some(sam.id);
    let mut author_v1 = request_file(&r, FileSlot::Work(Step::Author), 1, "Guion v1.docx", 10);
    author_v1.uploaded_by = Some(ana.id);
    let mut tx = begin(store).await;
    tx.insert_request_file(&author_v1).await.unwrap();
    tx.insert_request_file(&reference).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = read(store).await;
    assert_eq!(
        tx.request_files(r.id).await.unwrap(),
        vec![reference.clone(), author_v1.clone()]
    );
    assert!(tx.request_files(r2.id).await.unwrap().is_empty());
    assert_eq!(
        tx.get_request_file(author_v1.id).await.unwrap(),
        Some(author_v1.clone())
    );
    assert_eq!(
        tx.get_request_file(RequestFileId::new()).await.unwrap(),
        None
    );
    drop(tx);

    // One file per (request, slot, version).
    let again = request_file(&r, FileSlot::Work(Step::Author), 1, "Guion v1 (2).docx", 20);
    let mut tx = begin(store).await;
    match tx.insert_request_file(&again).await {
        Err(StoreError::Conflict(_)) => {}
        other => panic!("expected a conflict, got {other:?}"),
    }
    drop(tx);
    // The next version, the same version in another slot or request are fine.
    let author_v2 = request_file(&r, FileSlot::Work(Step::Author), 2, "Guion v2.docx", 30);
    let qc_v1 = request_file(&r, FileSlot::Work(Step::Qc), 1, "QC notes.xlsx", 40);
    let other_v1 = request_file(&r2, FileSlot::Work(Step::Author), 1, "DL.csv", 50);
    let mut tx = begin(store).await;
    for f in [&author_v2, &qc_v1, &other_v1] {
        tx.insert_request_file(f).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = read(store).await;
    assert_eq!(
        tx.request_files(r.id).await.unwrap(),
        vec![reference, author_v1, author_v2, qc_v1]
    );
    assert_eq!(tx.request_files(r2.id).await.unwrap(), vec![other_v1]);
    drop(tx);

    // History, in the order it was written (even at the same instant).
    let line = |actor: Option<UserId>, action: &str, detail: &str, reason: Option<&str>, s| {
        HistoryRecord {
            request_id: r.id,
            actor,
            action: action.to_string(),
            detail: detail.to_string(),
            reason: reason.map(str::to_string),
            at: at(s),
        }
    };
    let lines = vec![
        line(
            Some(sam.id),
            "created",
            "Dub script (pre-recorded), es-ES",
            None,
            0,
        ),
        line(
            Some(sam.id),
            "assigned",
            "Author: ana@partner-a.test",
            None,
            1,
        ),
        line(
            Some(ana.id),
            "edd_changed",
            "EDD 2026-12-10 → 2026-12-14",
            Some("Waiting for the final cut"),
            1,
        ),
        line(
            None,
            "dependency_skipped",
            "Dialogue list (en)",
            Some("Operator"),
            2,
        ),
    ];
    let mut tx = begin(store).await;
    for h in &lines {
        tx.insert_request_history(h).await.unwrap();
    }
    tx.commit().await.unwrap();
    let mut tx = read(store).await;
    assert_eq!(tx.request_history(r.id).await.unwrap(), lines);
    assert!(tx.request_history(r2.id).await.unwrap().is_empty());
    drop(tx);

    // Script viewers: on, on again, off, off again.
    let mut tx = begin(store).await;
    tx.set_script_viewer(p.id, ana.id, true, Some(sam.id), at(60))
        .await
        .unwrap();
    tx.set_script_viewer(p.id, ana.id, true, Some(sam.id), at(61))
        .await
        .unwrap();
    tx.set_script_viewer(p.id, ben.id, true, None, at(62))
        .await
        .unwrap();
    tx.set_script_viewer(q.id, ana.id, true, Some(sam.id), at(63))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = read(store).await;
    assert_eq!(
        sorted(tx.script_viewers(p.id).await.unwrap()),
        sorted(vec![ana.id, ben.id])
    );
    assert_eq!(
        sorted(tx.script_viewer_projects(ana.id).await.unwrap()),
        sorted(vec![p.id, q.id])
    );
    assert_eq!(tx.script_viewer_projects(ben.id).await.unwrap(), vec![p.id]);
    assert!(tx.script_viewer_projects(sam.id).await.unwrap().is_empty());
    drop(tx);
    let mut tx = begin(store).await;
    tx.set_script_viewer(p.id, ana.id, false, Some(sam.id), at(70))
        .await
        .unwrap();
    tx.set_script_viewer(p.id, ana.id, false, Some(sam.id), at(71))
        .await
        .unwrap();
    tx.set_script_viewer(p.id, sam.id, false, None, at(72))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = read(store).await;
    assert_eq!(tx.script_viewers(p.id).await.unwrap(), vec![ben.id]);
    assert_eq!(tx.script_viewer_projects(ana.id).await.unwrap(), vec![q.id]);
    drop(tx);

    // Followers.
    let mut tx = begin(store).await;
    tx.follow(sam.id, p.id, at(80)).await.unwrap();
    tx.follow(ana.id, p.id, at(81)).await.unwrap();
    tx.follow(ben.id, q.id, at(82)).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = read(store).await;
    assert_eq!(
        sorted(tx.project_followers(p.id).await.unwrap()),
        sorted(vec![sam.id, ana.id])
    );
    assert_eq!(tx.project_followers(q.id).await.unwrap(), vec![ben.id]);
    assert!(
        tx.project_followers(ProjectId::new())
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn open_request_groups_count_open_requests(store: &dyn Store) {
    let p1 = film(7600, "Busy");
    let p2 = film(7700, "Quiet");
    let p3 = film(7800, "Idle");
    for p in [&p1, &p2, &p3] {
        add_project(store, p).await;
    }
    let dub = RequestKind::PreRecordedDubScript;
    let ad = RequestKind::AudioDescriptionScript;
    let dl = RequestKind::DialogueList;
    // (project, language, kind, due, done)
    let rows: [(&Project, &str, RequestKind, Date, bool); 9] = [
        (&p1, "es-ES", dub, date!(2026 - 06 - 10), false),
        (&p1, "es-ES", dub, date!(2026 - 06 - 03), false),
        // Done, and due earlier than the open ones: neither counted nor the next due date.
        (&p1, "es-ES", dub, date!(2026 - 05 - 01), true),
        (&p1, "es-ES", ad, date!(2026 - 07 - 01), false),
        (&p1, "fr-FR", dub, date!(2026 - 06 - 20), false),
        (&p1, "fr-FR", dub, date!(2026 - 06 - 02), true),
        (&p2, "es-ES", dub, date!(2026 - 08 - 01), false),
        (&p2, "es-ES", dub, date!(2026 - 12 - 31), false),
        // Only done requests: no group.
        (&p2, "en", dl, date!(2026 - 04 - 01), true),
    ];
    let mut tx = begin(store).await;
    for (i, (p, language, kind, due, done)) in rows.into_iter().enumerate() {
        let mut r = request_in(p, kind, language, due, i64::try_from(i).unwrap());
        if done {
            r.state = RequestState::Done;
        }
        tx.insert_request(&r).await.unwrap();
    }
    tx.commit().await.unwrap();

    let group = |p: &Project, language: &str, kind, open, next_due| OpenRequestGroup {
        project_id: p.id,
        language: lang(language),
        kind,
        open,
        next_due,
    };
    let groups_of = |projects: Vec<ProjectId>| async move {
        let mut groups = read(store)
            .await
            .open_request_groups(&projects)
            .await
            .unwrap();
        groups.sort_by(|a, b| {
            (a.project_id, &a.language, a.kind).cmp(&(b.project_id, &b.language, b.kind))
        });
        groups
    };
    let mut expected = vec![
        group(&p1, "es-ES", dub, 2, date!(2026 - 06 - 03)),
        group(&p1, "es-ES", ad, 1, date!(2026 - 07 - 01)),
        group(&p1, "fr-FR", dub, 1, date!(2026 - 06 - 20)),
        group(&p2, "es-ES", dub, 2, date!(2026 - 08 - 01)),
    ];
    expected.sort_by(|a, b| {
        (a.project_id, &a.language, a.kind).cmp(&(b.project_id, &b.language, b.kind))
    });
    assert_eq!(groups_of(vec![p1.id, p2.id, p3.id]).await, expected);
    assert_eq!(
        groups_of(vec![p2.id]).await,
        vec![group(&p2, "es-ES", dub, 2, date!(2026 - 08 - 01))]
    );
    assert!(groups_of(vec![p3.id, ProjectId::new()]).await.is_empty());
    assert!(groups_of(Vec::new()).await.is_empty());
}

/// Audio fulfilment: a clip request with two languages' fulfilments, versions with files, notes,
/// and a resumable upload's progress — each round-trips exactly, in order, per project.
pub async fn audio_fulfilment_round_trip(store: &dyn Store) {
    use crate::{
        AudioRequestRecord, ClipRecord, FulfilmentRecord, NoteKind, NoteRecord,
        SubmissionFileRecord, SubmissionRecord, UploadRecord, UploadState,
    };
    use domain::fulfilment::{AudioKind, FulfilmentState, Mix};
    use domain::{AudioRequestId, FulfilmentId, NoteId, SubmissionFileId, SubmissionId, UploadId};
    let studio = add_org(store, "The Studio", OrgKind::Studio).await;
    let a = add_org(store, "Partner A", OrgKind::Partner).await;
    let b = add_org(store, "Partner B", OrgKind::Partner).await;
    let sam = add_user(store, &studio, "sam@studio.test").await;
    let ana = add_user(store, &a, "ana@partner-a.test").await;
    let show = assign(film(8100, "Clipped"), "es-ES", Service::Dubbing, &a);
    let show = assign(show, "pt-BR", Service::Dubbing, &b);
    add_project(store, &show).await;
    let other = film(8200, "Elsewhere");
    add_project(store, &other).await;

    let clip = AudioRequestRecord {
        id: AudioRequestId::new(),
        project_id: show.id,
        episode_id: None,
        kind: AudioKind::Moments,
        title: "Ferry goodbye «¡Adiós!» 東京".into(),
        description: "The goodbye at the pier".into(),
        instructions: "Match the breaths".into(),
        frame_rate: "23.976".into(),
        tc_in: "01:00:00:00".into(),
        tc_out: "01:00:02:00".into(),
        frames: 48,
        true_peak_limit: -6.0,
        clip: Some(ClipRecord {
            storage_key: "clips/k1".into(),
            name: "goodbye.mp4".into(),
            size: 18_574,
            sha256: "ab".repeat(32),
            duration: 48_048,
            timescale: 24_000,
        }),
        created_by: Some(sam.id),
        created_at: at(1),
        character_id: None,
    };
    let premix = AudioRequestRecord {
        id: AudioRequestId::new(),
        kind: AudioKind::Premix,
        clip: None,
        true_peak_limit: -3.5,
        created_by: None,
        created_at: at(2),
        ..clip.clone()
    };
    let elsewhere = AudioRequestRecord {
        id: AudioRequestId::new(),
        project_id: other.id,
        character_id: Some(domain::GuideItemId::new()),
        ..premix.clone()
    };
    let mut tx = begin(store).await;
    for r in [&clip, &premix, &elsewhere] {
        tx.insert_audio_request(r).await.unwrap();
    }
    let fa = FulfilmentRecord {
        id: FulfilmentId::new(),
        audio_request_id: clip.id,
        project_id: show.id,
        language: lang("es-ES"),
        partner_id: a.id,
        state: FulfilmentState::Open,
        version: 0,
        created_at: at(3),
        updated_at: at(3),
    };
    let fb = FulfilmentRecord {
        id: FulfilmentId::new(),
        language: lang("pt-BR"),
        partner_id: b.id,
        created_at: at(4),
        updated_at: at(4),
        ..fa.clone()
    };
    tx.insert_fulfilment(&fa).await.unwrap();
    tx.insert_fulfilment(&fb).await.unwrap();
    tx.commit().await.unwrap();
    // One fulfilment per language of a request.
    let twice = FulfilmentRecord {
        id: FulfilmentId::new(),
        ..fa.clone()
    };
    let mut tx = begin(store).await;
    assert!(matches!(
        tx.insert_fulfilment(&twice).await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);

    let mut tx = begin(store).await;
    let v1 = SubmissionRecord {
        id: SubmissionId::new(),
        fulfilment_id: fa.id,
        version: 1,
        mix: Mix::AsRecord,
        talent: "Lucía Pérez".into(),
        submitted_by: Some(ana.id),
        created_at: at(10),
    };
    tx.insert_submission(&v1).await.unwrap();
    let file = SubmissionFileRecord {
        id: SubmissionFileId::new(),
        submission_id: v1.id,
        fulfilment_id: fa.id,
        name: "Clipped_Lucia_Moments_AsRecord.wav".into(),
        size: 288_078,
        sha256: "cd".repeat(32),
        storage_key: "deliveries/k2".into(),
        report: "{\"verdict\":\"accepted\"}".into(),
        waveform_svg: "<svg/>".into(),
        created_at: at(10),
    };
    tx.insert_submission_file(&file).await.unwrap();
    let comment = NoteRecord {
        id: NoteId::new(),
        fulfilment_id: fa.id,
        version: Some(1),
        author_id: Some(sam.id),
        kind: NoteKind::Comment,
        body: "Breath at 01:00:01:02 is loud".into(),
        at_frame: Some(26),
        created_at: at(11),
    };
    let decided = NoteRecord {
        id: NoteId::new(),
        kind: NoteKind::ChangesRequested,
        at_frame: None,
        version: None,
        author_id: None,
        created_at: at(12),
        ..comment.clone()
    };
    tx.insert_note(&comment).await.unwrap();
    tx.insert_note(&decided).await.unwrap();
    let mut moved = fa.clone();
    moved.state = FulfilmentState::ChangesRequested;
    moved.version = 1;
    moved.updated_at = at(12);
    tx.update_fulfilment(&moved).await.unwrap();
    let ghost = FulfilmentRecord {
        id: FulfilmentId::new(),
        ..moved.clone()
    };
    not_found(tx.update_fulfilment(&ghost).await);
    tx.commit().await.unwrap();

    let mut tx = read(store).await;
    assert_eq!(
        tx.get_audio_request(clip.id).await.unwrap(),
        Some(clip.clone())
    );
    assert_eq!(
        tx.get_audio_request(AudioRequestId::new()).await.unwrap(),
        None
    );
    assert_eq!(
        tx.project_audio_requests(show.id).await.unwrap(),
        vec![clip.clone(), premix.clone()]
    );
    assert_eq!(tx.get_fulfilment(fa.id).await.unwrap(), Some(moved.clone()));
    assert_eq!(
        tx.project_fulfilments(show.id).await.unwrap(),
        vec![moved.clone(), fb.clone()]
    );
    assert!(tx.project_fulfilments(other.id).await.unwrap().is_empty());
    assert_eq!(tx.submissions_of(fa.id).await.unwrap(), vec![v1.clone()]);
    assert!(tx.submissions_of(fb.id).await.unwrap().is_empty());
    assert_eq!(
        tx.submission_files_of(fa.id).await.unwrap(),
        vec![file.clone()]
    );
    assert_eq!(
        tx.get_submission_file(file.id).await.unwrap(),
        Some(file.clone())
    );
    assert_eq!(tx.notes_of(fa.id).await.unwrap(), vec![comment, decided]);
    drop(tx);

    // A resumable upload: created, advanced, finished, found stale, deleted.
    let mut up = UploadRecord {
        id: UploadId::new(),
        user_id: ana.id,
        purpose: "{\"fulfilment\":\"x\"}".into(),
        name: "premix.wav".into(),
        length: 5_000_000_000,
        received: 0,
        state: UploadState::Receiving,
        outcome: None,
        waveform_svg: None,
        sha256: None,
        created_at: at(20),
        updated_at: at(20),
    };
    let mut tx = begin(store).await;
    tx.insert_upload(&up).await.unwrap();
    tx.commit().await.unwrap();
    up.received = 4_999_999_999;
    up.updated_at = at(30);
    let mut tx = begin(store).await;
    tx.update_upload(&up).await.unwrap();
    tx.commit().await.unwrap();
    up.received = up.length;
    up.state = UploadState::Accepted;
    up.outcome = Some("{}".into());
    up.waveform_svg = Some("<svg/>".into());
    up.sha256 = Some("ef".repeat(32));
    up.updated_at = at(40);
    let mut tx = begin(store).await;
    tx.update_upload(&up).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = read(store).await;
    assert_eq!(tx.get_upload(up.id).await.unwrap(), Some(up.clone()));
    assert_eq!(tx.stale_uploads(at(40)).await.unwrap(), vec![]);
    assert_eq!(tx.stale_uploads(at(41)).await.unwrap(), vec![up.id]);
    drop(tx);
    let mut tx = begin(store).await;
    tx.delete_upload(up.id).await.unwrap();
    tx.commit().await.unwrap();
    assert_eq!(read(store).await.get_upload(up.id).await.unwrap(), None);
}

/// The Show Guide: items with their JSON, listed live and by language, updated and removed;
/// versions (newest first) published; revisions by version range; what each reader last opened.
pub async fn show_guide_round_trip(store: &dyn Store) {
    use crate::{GuideItemFilter, GuideItemRecord, GuideVersionRecord};
    use domain::GuideItemId;
    use domain::guide::{ItemKind, Revision};
    let studio = add_org(store, "The Studio", OrgKind::Studio).await;
    let sam = add_user(store, &studio, "sam@studio.test").await;
    let show = film(8300, "Guided");
    add_project(store, &show).await;
    let other = film(8400, "Elsewhere");
    add_project(store, &other).await;
    let item = |kind: ItemKind, position: i64, data: &str| GuideItemRecord {
        id: GuideItemId::new(),
        project_id: show.id,
        kind,
        parent_id: None,
        language: None,
        position,
        data: data.into(),
        removed_at: None,
        created_at: at(position),
        updated_at: at(position),
    };
    let mina = item(ItemKind::Character, 1, "{\"name\":\"Mina «민아»\"}");
    let joon = item(ItemKind::Character, 2, "{\"name\":\"Joon\"}");
    let key = item(ItemKind::KeyName, 1, "{\"term\":\"Gull\"}");
    let es = GuideItemRecord {
        parent_id: Some(key.id),
        language: Some(lang("es-ES")),
        ..item(ItemKind::Translation, 0, "{\"text\":\"Gaviota\"}")
    };
    let pt = GuideItemRecord {
        parent_id: Some(key.id),
        language: Some(lang("pt-BR")),
        ..item(ItemKind::Translation, 0, "{\"text\":\"Gaivota\"}")
    };
    let mut tx = begin(store).await;
    for i in [&mina, &joon, &key, &es, &pt] {
        tx.insert_guide_item(i).await.unwrap();
    }
    // One translation per key name and language.
    tx.commit().await.unwrap();
    let mut tx = begin(store).await;
    let twice = GuideItemRecord {
        id: GuideItemId::new(),
        ..es.clone()
    };
    assert!(matches!(
        tx.insert_guide_item(&twice).await,
        Err(StoreError::Conflict(_))
    ));
    drop(tx);

    let mut tx = read(store).await;
    let all = tx
        .guide_items(show.id, &GuideItemFilter::default())
        .await
        .unwrap();
    assert_eq!(all.len(), 5);
    assert_eq!(
        tx.get_guide_item(mina.id).await.unwrap(),
        Some(mina.clone())
    );
    assert_eq!(
        tx.guide_translation(key.id, &lang("pt-BR")).await.unwrap(),
        Some(pt.clone())
    );
    assert_eq!(
        tx.guide_translation(key.id, &lang("ja")).await.unwrap(),
        None
    );
    let only_es = tx
        .guide_items(
            show.id,
            &GuideItemFilter {
                languages: Some(vec![lang("es-ES")]),
                no_translations: false,
            },
        )
        .await
        .unwrap();
    assert_eq!(only_es.len(), 4);
    assert!(only_es.iter().all(|i| i.language != Some(lang("pt-BR"))));
    let none = tx
        .guide_items(
            show.id,
            &GuideItemFilter {
                languages: None,
                no_translations: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(none.len(), 3);
    assert!(
        tx.guide_items(other.id, &GuideItemFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(tx.guide_version(show.id).await.unwrap(), 0);
    drop(tx);

    // Changed and removed items; versions and revisions; readers.
    let mut changed = joon.clone();
    changed.removed_at = Some(at(10));
    changed.updated_at = at(10);
    let revs = vec![
        Revision {
            version: 1,
            kind: ItemKind::Character,
            item: mina.id.to_string(),
            language: None,
            name: "Mina".into(),
            before: None,
            after: Some("Mina".into()),
        },
        Revision {
            version: 2,
            kind: ItemKind::Translation,
            item: key.id.to_string(),
            language: Some(lang("es-ES")),
            name: "Gull".into(),
            before: Some("Gaviota".into()),
            after: None,
        },
    ];
    let mut tx = begin(store).await;
    tx.update_guide_item(&changed).await.unwrap();
    for v in 1..=2 {
        tx.insert_guide_version(&GuideVersionRecord {
            project_id: show.id,
            version: v,
            actor_id: Some(sam.id),
            summary: format!("change {v}"),
            language: (v == 2).then(|| lang("es-ES")),
            published_at: None,
            created_at: at(i64::from(v)),
        })
        .await
        .unwrap();
    }
    tx.insert_guide_revisions(show.id, &revs).await.unwrap();
    tx.publish_guide_version(show.id, 2, at(20)).await.unwrap();
    tx.set_guide_read(sam.id, show.id, 1).await.unwrap();
    tx.set_guide_read(sam.id, show.id, 2).await.unwrap();
    tx.commit().await.unwrap();
    let mut tx = read(store).await;
    let live = tx
        .guide_items(show.id, &GuideItemFilter::default())
        .await
        .unwrap();
    assert!(
        live.iter().all(|i| i.id != joon.id),
        "a removed item is not listed"
    );
    assert_eq!(tx.get_guide_item(joon.id).await.unwrap(), Some(changed));
    assert_eq!(tx.guide_version(show.id).await.unwrap(), 2);
    let versions = tx.guide_versions(show.id).await.unwrap();
    assert_eq!(
        versions.iter().map(|v| v.version).collect::<Vec<_>>(),
        vec![2, 1]
    );
    assert_eq!(versions[0].published_at, Some(at(20)));
    assert_eq!(versions[1].published_at, None);
    assert_eq!(versions[0].language, Some(lang("es-ES")));
    assert_eq!(versions[1].language, None);
    assert_eq!(tx.guide_revisions(show.id, 0, 2).await.unwrap(), revs);
    assert_eq!(
        tx.guide_revisions(show.id, 1, 2).await.unwrap(),
        revs[1..].to_vec()
    );
    assert!(tx.guide_revisions(other.id, 0, 2).await.unwrap().is_empty());
    assert_eq!(tx.guide_read(sam.id, show.id).await.unwrap(), 2);
    assert_eq!(tx.guide_read(sam.id, other.id).await.unwrap(), 0);
}
