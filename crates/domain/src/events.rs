//! What happened, for live updates: every change a browser must see without reloading is an
//! event row written in the same transaction as the change. Events carry identifiers only; a
//! reader's client fetches what it may see through the normal, policy-checked routes.

use crate::ids::{ChannelId, MessageId, ProjectId, UserId};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    MessagePosted,
    MessageEdited,
    MessageDeleted,
    /// A reader's position moved (another tab must update its badges). Only for that reader.
    ChannelRead,
    /// A request changed (created, assigned, moved a step, dates, dependencies). Its channel is
    /// the vendor channel of the request's language and partner (the Internal channel while no
    /// partner is assigned), so exactly the people who may see the request hear of it.
    RequestChanged,
}

impl EventKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            EventKind::MessagePosted => "message_posted",
            EventKind::MessageEdited => "message_edited",
            EventKind::MessageDeleted => "message_deleted",
            EventKind::ChannelRead => "channel_read",
            EventKind::RequestChanged => "request_changed",
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EventKind {
    type Err = crate::values::ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            EventKind::MessagePosted,
            EventKind::MessageEdited,
            EventKind::MessageDeleted,
            EventKind::ChannelRead,
            EventKind::RequestChanged,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| crate::values::ValueError::new(format!("unknown event kind {s:?}")))
    }
}

/// An event to append (the store assigns the id).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewEvent {
    pub kind: EventKind,
    pub project_id: ProjectId,
    pub channel_id: ChannelId,
    pub message_id: Option<MessageId>,
    pub seq: i64,
    /// For `ChannelRead`: the reader it concerns (nobody else receives it).
    pub user_id: Option<UserId>,
}

/// An event as stored: ids increase in commit order *per instance*; consumers remember the
/// highest id they delivered and ask for everything after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub id: i64,
    pub event: NewEvent,
}
