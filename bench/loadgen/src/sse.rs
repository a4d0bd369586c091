//! The SSE side of a run: thousands of open `GET /events` streams, and the bookkeeping that
//! turns "a post was sent at t0" and "its `message_posted` event arrived on a reader's stream at
//! t1" into delivery latencies.
//!
//! An event can arrive before the POST's response has told the driver the message's id, so
//! arrivals for unknown ids wait in `early` until the post is registered.

use crate::stats::Histogram;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;
use uuid::Uuid;

struct Posted {
    sent: Instant,
    /// Readers with an open stream when it was posted.
    expected: u32,
    received: u32,
    measured: bool,
}

#[derive(Default)]
struct State {
    posted: HashMap<Uuid, Posted>,
    early: HashMap<Uuid, Vec<Instant>>,
    latency: Histogram,
}

/// Delivery figures of one phase.
#[derive(Clone, Debug, Default)]
pub struct DeliveryReport {
    pub latency: Histogram,
    pub messages: u64,
    pub expected: u64,
    pub received: u64,
    /// Events for messages the driver never registered (their POST failed or timed out after
    /// the server had committed them).
    pub unmatched: u64,
    /// `reload` events: the server dropped events for a connection that fell behind its bus.
    pub reloads: u64,
    /// Streams that ended or failed during the phase.
    pub streams_lost: u64,
}

#[derive(Default)]
pub struct Deliveries {
    state: Mutex<State>,
    reloads: AtomicU64,
    streams_lost: AtomicU64,
}

impl Deliveries {
    /// A `message_posted` event for `id` arrived at `at`.
    pub fn arrived(&self, id: Uuid, at: Instant) {
        let Ok(mut s) = self.state.lock() else { return };
        let s = &mut *s;
        match s.posted.get_mut(&id) {
            Some(p) => {
                p.received += 1;
                if p.measured {
                    s.latency.record(at.saturating_duration_since(p.sent));
                }
            }
            None => s.early.entry(id).or_default().push(at),
        }
    }

    /// The driver's POST for `id`, sent at `sent`, succeeded.
    pub fn posted(&self, id: Uuid, sent: Instant, expected: u32, measured: bool) {
        let Ok(mut s) = self.state.lock() else { return };
        let s = &mut *s;
        let mut p = Posted {
            sent,
            expected,
            received: 0,
            measured,
        };
        for at in s.early.remove(&id).unwrap_or_default() {
            p.received += 1;
            if measured {
                s.latency.record(at.saturating_duration_since(sent));
            }
        }
        s.posted.insert(id, p);
    }

    pub fn reload(&self) {
        self.reloads.fetch_add(1, Ordering::Relaxed);
    }

    pub fn stream_lost(&self) {
        self.streams_lost.fetch_add(1, Ordering::Relaxed);
    }

    /// The phase's figures; forgets everything for the next phase.
    pub fn take(&self) -> DeliveryReport {
        let mut r = DeliveryReport {
            reloads: self.reloads.swap(0, Ordering::Relaxed),
            streams_lost: self.streams_lost.swap(0, Ordering::Relaxed),
            ..DeliveryReport::default()
        };
        if let Ok(mut s) = self.state.lock() {
            let s = std::mem::take(&mut *s);
            for p in s.posted.values().filter(|p| p.measured) {
                r.messages += 1;
                r.expected += u64::from(p.expected);
                r.received += u64::from(p.received);
            }
            r.unmatched = s.early.values().map(|v| v.len() as u64).sum();
            r.latency = s.latency;
        }
        r
    }
}

/// What one SSE block means to the driver.
pub enum SseEvent {
    Posted(Uuid),
    Reload,
    Other,
}

/// Parses one block (the text between blank lines). Only the event name and the message id are
/// needed, so this looks for them instead of parsing the JSON: at 2,000 streams the client must
/// stay cheap.
pub fn parse_block(block: &str) -> SseEvent {
    let mut name = "";
    let mut data = "";
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("event:") {
            name = v.trim();
        } else if let Some(v) = line.strip_prefix("data:") {
            data = v.trim();
        }
    }
    match name {
        "message_posted" => {
            const KEY: &str = "\"message_id\":\"";
            data.find(KEY)
                .and_then(|i| data.get(i + KEY.len()..i + KEY.len() + 36))
                .and_then(|s| Uuid::parse_str(s).ok())
                .map_or(SseEvent::Other, SseEvent::Posted)
        }
        "reload" => SseEvent::Reload,
        _ => SseEvent::Other,
    }
}

/// Reads one stream until it ends, reporting arrivals.
pub async fn read_stream(mut resp: reqwest::Response, deliveries: &Deliveries) {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let at = Instant::now();
                buf.extend_from_slice(&chunk);
                while let Some(end) = buf.windows(2).position(|w| w == b"\n\n") {
                    let block: Vec<u8> = buf.drain(..end + 2).collect();
                    match parse_block(&String::from_utf8_lossy(&block)) {
                        SseEvent::Posted(id) => deliveries.arrived(id, at),
                        SseEvent::Reload => deliveries.reload(),
                        SseEvent::Other => {}
                    }
                }
            }
            Ok(None) | Err(_) => {
                deliveries.stream_lost();
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_message_id_of_a_posted_event() {
        let id = Uuid::now_v7();
        let block = format!(
            "id: 7\nevent: message_posted\ndata: {{\"project_id\":\"x\",\"channel_id\":\"y\",\"message_id\":\"{id}\",\"seq\":3}}\n\n"
        );
        assert!(matches!(parse_block(&block), SseEvent::Posted(got) if got == id));
        assert!(matches!(
            parse_block("event: reload\ndata: {}\n\n"),
            SseEvent::Reload
        ));
        assert!(matches!(parse_block(":\n\n"), SseEvent::Other));
    }

    #[test]
    fn early_arrivals_are_matched_when_the_post_returns() {
        let d = Deliveries::default();
        let id = Uuid::now_v7();
        let t0 = Instant::now();
        d.arrived(id, t0 + std::time::Duration::from_millis(5));
        d.posted(id, t0, 2, true);
        d.arrived(id, t0 + std::time::Duration::from_millis(9));
        let r = d.take();
        assert_eq!(
            (r.messages, r.expected, r.received, r.unmatched),
            (1, 2, 2, 0)
        );
        assert_eq!(r.latency.count(), 2);
    }
}
