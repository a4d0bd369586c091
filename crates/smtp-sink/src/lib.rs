//! A real SMTP server on loopback that records the messages it accepts.
//!
//! Integration tests and benchmarks of the e-mail outbox send through a genuine SMTP client
//! (lettre) to this sink instead of mocking the transport, so the whole dialogue — pooling,
//! 8BITMIME, AUTH, error replies, time-outs — is exercised. Failures can be injected at the end
//! of DATA ([`Behaviour`]) to test retry paths.
//!
//! Start one with [`SmtpSink::start`] (or [`SmtpSink::start_with_auth`]), point the client at
//! `127.0.0.1:`[`SmtpSink::port`], and read back [`SmtpSink::messages`] or
//! [`SmtpSink::wait_for`]. Dropping the sink stops it.

mod received;
mod session;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};

pub use received::Received;

/// What the sink answers at the end of DATA; switchable at any time to inject failures.
///
/// Only the end of DATA is affected: the rest of the dialogue always succeeds, because that is
/// where a real relay most often fails (greylisting, quota, crash while queueing).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Behaviour {
    /// Reply 250 and record the message.
    #[default]
    Accept,
    /// Reply with this code and text; the message is not recorded. Use a 4xx code for a
    /// temporary failure, 5xx for a permanent one; 421 also closes the connection, as RFC 5321
    /// says it must.
    Reject {
        /// The SMTP reply code, e.g. 451 or 550.
        code: u16,
        /// The reply text (line breaks are turned into spaces).
        text: String,
    },
    /// Read the whole message, then never reply and never record; the connection stays open
    /// until the client gives up or the sink is dropped. Tests client time-outs.
    Hang,
    /// Close the connection without replying; the message is not recorded. Tests a relay that
    /// crashes or a network that fails after the client handed over the message.
    Drop,
}

/// The SMTP server. Dropping it stops accepting and closes every open connection.
pub struct SmtpSink {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept_task: JoinHandle<()>,
}

impl SmtpSink {
    /// Starts a sink on 127.0.0.1 with an OS-chosen port, without authentication.
    ///
    /// Must be called inside a tokio runtime: the server runs as tasks on it.
    pub async fn start() -> std::io::Result<SmtpSink> {
        Self::start_inner(None).await
    }

    /// Starts a sink that advertises `AUTH PLAIN LOGIN` and requires a successful AUTH with
    /// exactly these credentials before MAIL (wrong ones get 535), as a submission server does.
    pub async fn start_with_auth(
        user: impl Into<String>,
        pass: impl Into<String>,
    ) -> std::io::Result<SmtpSink> {
        Self::start_inner(Some(Credentials {
            user: user.into(),
            pass: pass.into(),
        }))
        .await
    }

    async fn start_inner(credentials: Option<Credentials>) -> std::io::Result<SmtpSink> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            accepted: Notify::new(),
            connections: AtomicUsize::new(0),
            credentials,
        });
        let accept_task = tokio::spawn(accept_loop(listener, Arc::clone(&shared)));
        Ok(SmtpSink {
            addr,
            shared,
            accept_task,
        })
    }

    /// The address the sink listens on (always 127.0.0.1).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port the sink listens on, for `builder_dangerous("127.0.0.1").port(..)`.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The messages accepted so far, in acceptance order.
    pub fn messages(&self) -> Vec<Received> {
        self.shared
            .state()
            .messages
            .iter()
            .map(|(_, m)| m.clone())
            .collect()
    }

    /// How many messages were accepted so far (cheaper than `messages().len()`).
    pub fn count(&self) -> usize {
        self.shared.state().messages.len()
    }

    /// Waits until at least `n` messages were accepted or `timeout` elapsed, and returns the
    /// messages accepted by then (the caller checks the length). For senders that deliver in
    /// the background, such as an outbox worker.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            // Register interest before looking, so an acceptance between the look and the
            // await is not missed.
            let notified = self.shared.accepted.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if self.count() >= n {
                return self.messages();
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.messages();
            }
        }
    }

    /// Forgets the recorded messages and command log (not the connection count), so one sink
    /// can serve several phases of a test.
    pub fn clear(&self) {
        let mut state = self.shared.state();
        state.messages.clear();
        state.commands.clear();
    }

    /// How many TCP connections were accepted so far; shows whether a client reuses
    /// connections (a pool) or opens one per message.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Every command line received so far, across connections and in arrival order, without
    /// the line ending: lets a test see the client's dialogue (e.g. a pool's NOOP before reuse).
    /// Message content is not included, and AUTH arguments are replaced by `***`.
    pub fn commands(&self) -> Vec<String> {
        self.shared.state().commands.clone()
    }

    /// Switches what the end of DATA does, from the next message on, and cancels any pending
    /// [`SmtpSink::accept_then`].
    pub fn set_behaviour(&self, behaviour: Behaviour) {
        let mut state = self.shared.state();
        state.behaviour = behaviour;
        state.then = None;
        state.generation += 1;
    }

    /// Accepts the next `n` messages, then behaves as `then`: a relay that fails part-way
    /// through a batch.
    pub fn accept_then(&self, n: usize, then: Behaviour) {
        let mut state = self.shared.state();
        state.generation += 1;
        if n == 0 {
            state.behaviour = then;
            state.then = None;
        } else {
            state.behaviour = Behaviour::Accept;
            state.then = Some((n, then));
        }
    }
}

impl std::fmt::Debug for SmtpSink {
    // Brief on purpose: the recorded messages can be large, and the password is no one's
    // business in test output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSink")
            .field("addr", &self.addr)
            .field("messages", &self.count())
            .field("connections", &self.connections())
            .field("auth", &self.shared.credentials.is_some())
            .finish()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // The accept task owns the connection tasks (a JoinSet), so aborting it aborts them and
        // closes their sockets too.
        self.accept_task.abort();
    }
}

/// The credentials `start_with_auth` requires.
struct Credentials {
    user: String,
    pass: String,
}

/// What the accept loop, the connections and the handle share.
struct Shared {
    state: Mutex<State>,
    /// Woken whenever a message is recorded, for `wait_for`.
    accepted: Notify,
    connections: AtomicUsize,
    credentials: Option<Credentials>,
}

#[derive(Default)]
struct State {
    /// Recorded messages with a serial number, so a message whose 250 could not be written can
    /// be withdrawn again.
    messages: Vec<(u64, Received)>,
    commands: Vec<String>,
    next_serial: u64,
    behaviour: Behaviour,
    /// From `accept_then`: accept this many more, then switch to the behaviour.
    then: Option<(usize, Behaviour)>,
    /// Bumped on every switch, so a withdrawn acceptance is only given back to the plan that
    /// granted it.
    generation: u64,
}

/// What the end of DATA should do, decided under the lock.
enum Verdict {
    /// The message is already recorded under this serial; write 250, or withdraw it.
    Accept {
        serial: u64,
        generation: u64,
    },
    Reject {
        code: u16,
        text: String,
    },
    Hang,
    Drop,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere while holding the lock leaves the data consistent enough for a test
        // helper; don't turn one failure into many.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn log_command(&self, line: String) {
        self.state().commands.push(line);
    }

    /// Decides the fate of a complete message. An accepted message is recorded right here,
    /// before its 250 is written, so a client that has seen the 250 always finds it in
    /// `messages()`; [`Shared::withdraw`] undoes this if the 250 cannot be written.
    fn decide(&self, message: Received) -> Verdict {
        let mut state = self.state();
        if let Some((remaining, then)) = state.then.take() {
            if remaining == 0 {
                state.behaviour = then;
            } else {
                state.then = Some((remaining - 1, then));
                return self.record(&mut state, message);
            }
        }
        match state.behaviour.clone() {
            Behaviour::Accept => self.record(&mut state, message),
            Behaviour::Reject { code, text } => Verdict::Reject { code, text },
            Behaviour::Hang => Verdict::Hang,
            Behaviour::Drop => Verdict::Drop,
        }
    }

    fn record(&self, state: &mut State, message: Received) -> Verdict {
        let serial = state.next_serial;
        state.next_serial += 1;
        state.messages.push((serial, message));
        Verdict::Accept {
            serial,
            generation: state.generation,
        }
    }

    /// The 250 for a recorded message could not be written: the client does not know it was
    /// accepted, so it is not.
    fn withdraw(&self, serial: u64, generation: u64) {
        let mut state = self.state();
        state.messages.retain(|(s, _)| *s != serial);
        if state.generation == generation
            && let Some((remaining, _)) = state.then.as_mut()
        {
            *remaining += 1;
        }
    }

    /// The 250 went out: wake `wait_for`.
    fn confirm(&self) {
        self.accepted.notify_waiters();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    // Owning the connection tasks here means aborting this task aborts them all.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _peer)) => {
                    shared.connections.fetch_add(1, Ordering::SeqCst);
                    connections.spawn(session::serve(stream, Arc::clone(&shared)));
                }
                // Out of file descriptors or an aborted handshake: back off briefly instead of
                // spinning, and keep serving.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            // Reap finished connections so the set does not grow over a long benchmark.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}
