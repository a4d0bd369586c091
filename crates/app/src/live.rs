//! Live updates inside one instance: a pump reads new event rows and fans them out to every
//! subscriber (the SSE connections). It wakes when this instance commits an event (`kick`), when
//! the store says another instance did (PostgreSQL LISTEN), and every two seconds regardless,
//! which also covers notifications lost while a LISTEN connection was reconnecting.
//!
//! On PostgreSQL event ids are assigned at insert, not at commit, so an event with a smaller id
//! can become visible after a larger one. The pump therefore re-reads an overlap below the
//! highest id it has delivered and drops what it has already sent.

use crate::auth::Authenticated;
use crate::{App, AppResult};
use domain::events::{Event, EventKind};
use domain::{Action, Resource, authorize};
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use store::EventWaker;
use tokio::sync::{Notify, broadcast};

/// How far below the highest delivered id the pump looks again.
pub const OVERLAP: i64 = 256;
const REMEMBERED: usize = 4096;
const POLL: Duration = Duration::from_secs(2);

pub struct EventBus {
    sender: broadcast::Sender<Arc<Event>>,
    kick: Notify,
    started: AtomicBool,
}

impl Default for EventBus {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(1024).0,
            kick: Notify::new(),
            started: AtomicBool::new(false),
        }
    }
}

impl EventBus {
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
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<Event>> {
        self.events.sender.subscribe()
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
        loop {
            tokio::select! {
                () = self.events.kick.notified() => {}
                () = wait(&mut waker) => {}
                () = tokio::time::sleep(POLL) => {}
            }
            let fresh = match self.store.read().await {
                Ok(mut tx) => tx.events_after((last - OVERLAP).max(0), 1000).await,
                Err(e) => Err(e),
            };
            let Ok(fresh) = fresh else { continue };
            for e in fresh {
                if !seen.insert(e.id) {
                    continue;
                }
                order.push_back(e.id);
                if order.len() > REMEMBERED
                    && let Some(old) = order.pop_front()
                {
                    seen.remove(&old);
                }
                last = last.max(e.id);
                // No subscriber is not an error.
                let _ = self.events.sender.send(Arc::new(e));
            }
        }
    }

    async fn latest_event_id(&self) -> AppResult<i64> {
        let mut tx = self.store.read().await?;
        Ok(tx.latest_event_id().await?)
    }

    /// Events after `after` (for `Last-Event-ID` replay), oldest first, at most 500.
    pub async fn events_since(&self, after: i64) -> AppResult<Vec<Event>> {
        let mut tx = self.store.read().await?;
        Ok(tx.events_after(after.max(0), 500).await?)
    }

    /// Whether `who` may be told about this event: they must be able to read its channel now;
    /// a read-position change goes to its reader only.
    pub async fn may_receive(&self, who: &Authenticated, event: &Event) -> AppResult<bool> {
        let e = &event.event;
        if e.kind == EventKind::ChannelRead {
            return Ok(e.user_id == Some(who.user.id));
        }
        let mut tx = self.store.read().await?;
        let Some(channel) = tx.get_channel(e.channel_id).await? else {
            return Ok(false);
        };
        let Some(project) = tx.get_project(channel.project_id).await? else {
            return Ok(false);
        };
        Ok(authorize(
            Some(&who.subject),
            Action::ReadChannel,
            Resource::Channel {
                kind: &channel.kind,
                assignments: &project.assignments,
            },
        )
        .is_allowed())
    }
}
