//! Live updates inside one instance: a pump reads new event rows and fans them out to every
//! subscriber (the SSE connections). It wakes when this instance commits an event (`kick`), when
//! the store says another instance did (PostgreSQL LISTEN), and every two seconds regardless,
//! which also covers notifications lost while a LISTEN connection was reconnecting.
//!
//! On PostgreSQL event ids are assigned at insert, not at commit, so an event with a smaller id
//! can become visible after a larger one. The pump therefore re-reads an overlap below the
//! highest id it has delivered and drops what it has already sent.

use crate::auth::{Authenticated, Credential};
use crate::{App, AppResult};
use domain::events::{Event, EventKind};
use domain::{Action, Assignment, ChannelId, ChannelKind, Resource, UserId, authorize};
use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use store::EventWaker;
use tokio::sync::{Notify, broadcast};

/// How far below the highest delivered id the pump looks again on PostgreSQL.
pub const OVERLAP: i64 = 256;
const REMEMBERED: usize = 4096;
const POLL: Duration = Duration::from_secs(2);

/// Who may read an event's channel: its kind and the project's assignments when the event was
/// pumped. Loaded once per event, so each open connection decides with the policy alone
/// instead of asking the database (with 2,000 open tabs, that is 2,000 lookups less per post).
#[derive(Debug)]
pub struct Audience {
    pub kind: ChannelKind,
    pub assignments: Vec<Assignment>,
}

/// An event as the bus carries it.
#[derive(Debug)]
pub struct LiveEvent {
    pub event: Event,
    /// `None` when the channel is gone (nobody is told).
    pub audience: Option<Arc<Audience>>,
}

impl LiveEvent {
    /// Whether `who` may be told: they can read the channel (as of the event); a read-position
    /// change goes to its reader only.
    pub fn may_reach(&self, who: &Authenticated) -> bool {
        let e = &self.event.event;
        if e.kind == EventKind::ChannelRead {
            return e.user_id == Some(who.user.id);
        }
        self.audience.as_ref().is_some_and(|a| {
            authorize(
                Some(&who.subject),
                Action::ReadChannel,
                Resource::Channel {
                    kind: &a.kind,
                    assignments: &a.assignments,
                },
            )
            .is_allowed()
        })
    }
}

/// A way of being signed in that just ended: open live streams that rely on it end at once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Revocation {
    /// One browser session (by the hash of its secret): signed out.
    Session(String),
    /// One API token: revoked.
    Token(domain::TokenId),
    /// Every session and token of the account: password changed or reset, account disabled.
    User(UserId),
}

impl Revocation {
    /// Whether a stream opened by `who` must end.
    pub fn ends(&self, who: &Authenticated) -> bool {
        match (self, &who.via) {
            (Revocation::User(id), _) => *id == who.user.id,
            (Revocation::Session(hash), Credential::Session { token_hash, .. }) => {
                hash == token_hash
            }
            (Revocation::Token(id), Credential::ApiToken { id: mine }) => id == mine,
            _ => false,
        }
    }
}

pub struct EventBus {
    /// Credentials ended in this instance. Another instance's revocations reach its streams at
    /// their next periodic re-check (`live_recheck`).
    revoked: broadcast::Sender<Revocation>,
    /// Message events: every connection hears them and asks the policy.
    sender: broadcast::Sender<Arc<LiveEvent>>,
    /// Read-position events concern one person: they go only to that person's connections,
    /// instead of waking every open connection for each channel view.
    personal:
        std::sync::Mutex<std::collections::HashMap<UserId, broadcast::Sender<Arc<LiveEvent>>>>,
    kick: Notify,
    started: AtomicBool,
}

impl Default for EventBus {
    fn default() -> Self {
        Self {
            revoked: broadcast::channel(256).0,
            sender: broadcast::channel(1024).0,
            personal: std::sync::Mutex::new(std::collections::HashMap::new()),
            kick: Notify::new(),
            started: AtomicBool::new(false),
        }
    }
}

impl EventBus {
    /// Announces an ended credential to this instance's open streams.
    pub fn revoke(&self, r: Revocation) {
        // No open stream is not an error.
        let _ = self.revoked.send(r);
    }

    /// Hears every credential ended from now on.
    pub fn revocations(&self) -> broadcast::Receiver<Revocation> {
        self.revoked.subscribe()
    }

    /// Tells the pump that this instance committed events.
    pub fn kick(&self) {
        self.kick.notify_one();
    }
}

async fn wait(waker: &mut Option<Box<dyn EventWaker>>) {
    match waker {
        Some(w) => {
            if w.wait().await.is_err() {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        None => std::future::pending::<()>().await,
    }
}

impl App {
    /// The events one person's connection hears: everyone's message events (to be checked
    /// against the policy) and that person's own read-position events.
    pub fn subscribe(
        &self,
        user: UserId,
    ) -> (
        broadcast::Receiver<Arc<LiveEvent>>,
        broadcast::Receiver<Arc<LiveEvent>>,
    ) {
        let personal = match self.events.personal.lock() {
            Ok(mut map) => map
                .entry(user)
                .or_insert_with(|| broadcast::channel(64).0)
                .subscribe(),
            // A poisoned map only loses read-position echoes; a fresh channel keeps going.
            Err(_) => broadcast::channel(1).1,
        };
        (self.events.sender.subscribe(), personal)
    }

    fn publish(&self, e: LiveEvent) {
        let e = Arc::new(e);
        let ev = &e.event.event;
        if ev.kind == EventKind::ChannelRead {
            if let (Some(user), Ok(mut map)) = (ev.user_id, self.events.personal.lock())
                && let Some(tx) = map.get(&user)
            {
                // No subscriber is not an error.
                let _ = tx.send(e);
                if tx.receiver_count() == 0 {
                    map.remove(&user);
                }
            }
        } else {
            // No subscriber is not an error.
            let _ = self.events.sender.send(e);
        }
    }

    /// Starts the pump once per `App` (later calls do nothing). Needs a Tokio runtime.
    pub fn start_event_pump(&self) {
        if self.events.started.swap(true, Ordering::SeqCst) {
            return;
        }
        let app = self.clone();
        tokio::spawn(async move { app.pump().await });
    }

    async fn pump(self) {
        let mut last = loop {
            match self.latest_event_id().await {
                Ok(id) => break id,
                Err(e) => {
                    tracing::warn!(error = %e, "live updates: cannot read events yet");
                    tokio::time::sleep(POLL).await;
                }
            }
        };
        let mut waker = match self.store.event_waker().await {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(error = %e, "live updates: no LISTEN connection; polling only");
                None
            }
        };
        let mut seen: HashSet<i64> = HashSet::new();
        let mut order: VecDeque<i64> = VecDeque::new();
        // What is already committed at start was before this instance's time: remember it as
        // sent, so the first re-read of the overlap does not replay it to fresh connections.
        if let Ok(mut tx) = self.store.read().await
            && let Ok(old) = tx
                .events_after((last - self.event_overlap()).max(0), 1000)
                .await
        {
            for e in old {
                seen.insert(e.id);
                order.push_back(e.id);
            }
        }
        loop {
            tokio::select! {
                () = self.events.kick.notified() => {}
                () = wait(&mut waker) => {}
                () = tokio::time::sleep(POLL) => {}
            }
            let fresh = match self.store.read().await {
                Ok(mut tx) => {
                    tx.events_after((last - self.event_overlap()).max(0), 1000)
                        .await
                }
                Err(e) => Err(e),
            };
            let Ok(fresh) = fresh else { continue };
            let fresh: Vec<Event> = fresh
                .into_iter()
                .filter(|e| !seen.contains(&e.id))
                .collect();
            let Ok(fresh) = self.with_audiences(fresh).await else {
                continue;
            };
            for e in fresh {
                if !seen.insert(e.event.id) {
                    continue;
                }
                order.push_back(e.event.id);
                if order.len() > REMEMBERED
                    && let Some(old) = order.pop_front()
                {
                    seen.remove(&old);
                }
                last = last.max(e.event.id);
                self.publish(e);
            }
        }
    }

    /// How far below a delivered id events may still appear: on PostgreSQL ids are taken at
    /// insert and can commit out of order; SQLite serialises writers, so ids commit in order
    /// and re-reading would only cost time (the pump runs after every commit).
    pub fn event_overlap(&self) -> i64 {
        match self.store.backend() {
            store::Backend::Postgres => OVERLAP,
            store::Backend::Sqlite => 0,
        }
    }

    async fn latest_event_id(&self) -> AppResult<i64> {
        let mut tx = self.store.read().await?;
        Ok(tx.latest_event_id().await?)
    }

    /// Attaches to each event who may read its channel, reading each channel and project once.
    async fn with_audiences(&self, events: Vec<Event>) -> AppResult<Vec<LiveEvent>> {
        let mut tx = self.store.read().await?;
        let mut cache: BTreeMap<ChannelId, Option<Arc<Audience>>> = BTreeMap::new();
        let mut out = Vec::with_capacity(events.len());
        for event in events {
            let id = event.event.channel_id;
            let audience = match cache.get(&id) {
                Some(known) => known.clone(),
                None => {
                    let loaded =
                        match tx.get_channel(id).await? {
                            Some(channel) => tx.project_assignments(channel.project_id).await?.map(
                                |assignments| {
                                    Arc::new(Audience {
                                        kind: channel.kind,
                                        assignments,
                                    })
                                },
                            ),
                            None => None,
                        };
                    cache.insert(id, loaded.clone());
                    loaded
                }
            };
            out.push(LiveEvent { event, audience });
        }
        Ok(out)
    }

    /// Events after `after` (for `Last-Event-ID` replay), oldest first, at most 500.
    pub async fn events_since(&self, after: i64) -> AppResult<Vec<LiveEvent>> {
        let events = {
            let mut tx = self.store.read().await?;
            tx.events_after(after.max(0), 500).await?
        };
        self.with_audiences(events).await
    }

    /// Whether `who` may be told about this event, judged now.
    pub async fn may_receive(&self, who: &Authenticated, event: &Event) -> AppResult<bool> {
        let live = self.with_audiences(vec![event.clone()]).await?;
        Ok(live.first().is_some_and(|e| e.may_reach(who)))
    }

    /// `who` as the store knows them now, for a long-lived connection: `None` once the session
    /// or token is gone or the account disabled, and otherwise with current roles and App
    /// Settings.
    pub async fn recheck(&self, who: &Authenticated) -> AppResult<Option<Authenticated>> {
        let mut tx = self.store.read().await?;
        let live = match &who.via {
            Credential::Session { token_hash, .. } => tx
                .get_session(token_hash, self.now())
                .await?
                .is_some_and(|s| s.user_id == who.user.id),
            Credential::ApiToken { id } => tx
                .list_api_tokens(who.user.id)
                .await?
                .iter()
                .any(|t| t.id == *id && t.revoked_at.is_none()),
        };
        if !live {
            return Ok(None);
        }
        Ok(tx
            .get_user(who.user.id)
            .await?
            .filter(|u| !u.user.disabled)
            .map(|u| Authenticated {
                subject: crate::auth::subject_of(&u),
                user: u.user,
                org: u.org,
                via: who.via.clone(),
            }))
    }
}
