//! Conversations: the channels every project has, messages, and the settings that decide which
//! channels a person works in. Who may read or post is decided in [`crate::policy`].

use crate::ids::{ChannelId, MessageId, OrgId, ProjectId, UserId};
use crate::project::Assignment;
use crate::values::{LanguageTag, ValueError};
use serde::{Deserialize, Serialize};
use std::fmt;
use time::{Duration, OffsetDateTime};

/// The three kinds of channel of a project (PRODUCT.md §3).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChannelKind {
    /// The studio and the robot post; everyone with access to the project reads.
    Broadcast,
    /// Private between the studio and one partner assigned to this language. A vendor channel
    /// belongs to a (language, partner) pair, not to the language alone: when the language is
    /// reassigned, the new partner gets a channel of its own and never reads the previous
    /// partner's conversation; when dubbing and subtitles of one language go to two partners,
    /// each talks to the studio privately.
    Vendor(LanguageTag, OrgId),
    /// Studio users who enabled internal messages.
    Internal,
}

impl ChannelKind {
    /// The stored name of the kind: `broadcast`, `vendor`, `internal`.
    pub fn as_str(&self) -> &'static str {
        match self {
            ChannelKind::Broadcast => "broadcast",
            ChannelKind::Vendor(..) => "vendor",
            ChannelKind::Internal => "internal",
        }
    }

    pub fn language(&self) -> Option<&LanguageTag> {
        match self {
            ChannelKind::Vendor(l, _) => Some(l),
            _ => None,
        }
    }

    /// The partner of a vendor channel.
    pub fn partner(&self) -> Option<OrgId> {
        match self {
            ChannelKind::Vendor(_, org) => Some(*org),
            _ => None,
        }
    }

    /// Rebuilds a kind from its stored parts.
    pub fn from_parts(
        kind: &str,
        language: Option<&str>,
        partner: Option<&str>,
    ) -> Result<Self, ValueError> {
        match (kind, language, partner) {
            ("broadcast", None, None) => Ok(ChannelKind::Broadcast),
            ("internal", None, None) => Ok(ChannelKind::Internal),
            ("vendor", Some(l), Some(p)) => Ok(ChannelKind::Vendor(
                LanguageTag::parse(l)?,
                p.parse()
                    .map_err(|_| ValueError::new(format!("{p:?} is not an organisation id")))?,
            )),
            _ => Err(ValueError::new(format!(
                "unknown channel kind {kind:?} with language {language:?} and partner {partner:?}"
            ))),
        }
    }

    /// What people see in the channel list: "Broadcast", "Spanish (Spain) · es-ES", "Internal".
    /// The studio also sees the partner's name next to a vendor channel (added by the caller,
    /// which knows the name and may show it).
    pub fn label(&self) -> String {
        match self {
            ChannelKind::Broadcast => "Broadcast".to_string(),
            ChannelKind::Vendor(l, _) => format!("{} · {l}", l.display_name()),
            ChannelKind::Internal => "Internal".to_string(),
        }
    }

    /// Order in the channel list: Broadcast, then languages alphabetically, then Internal.
    pub fn sort_key(&self) -> (u8, String, Option<OrgId>) {
        match self {
            ChannelKind::Broadcast => (0, String::new(), None),
            ChannelKind::Vendor(l, org) => (1, l.to_string(), Some(*org)),
            ChannelKind::Internal => (2, String::new(), None),
        }
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.label())
    }
}

/// A channel of a project. `last_seq` is the sequence number of its newest message (0: none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    pub id: ChannelId,
    pub project_id: ProjectId,
    pub kind: ChannelKind,
    pub last_seq: i64,
}

/// The channels a project with these assignments has: Broadcast, one vendor channel per
/// (language, partner) assigned, Internal. (A language with no partner yet has no vendor
/// channel: there is nobody to talk to.)
pub fn channel_kinds_for(assignments: &[Assignment]) -> Vec<ChannelKind> {
    let mut kinds = vec![ChannelKind::Broadcast];
    for a in assignments {
        let kind = ChannelKind::Vendor(a.language.clone(), a.org_id);
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds.push(ChannelKind::Internal);
    kinds
}

/// The languages a person works on (App Settings). Vendor channels of other languages are
/// hidden from them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WorkLanguages {
    /// Every language their organisation is assigned to (the default).
    #[default]
    All,
    /// Only these.
    Only(Vec<LanguageTag>),
}

impl WorkLanguages {
    pub fn includes(&self, language: &LanguageTag) -> bool {
        match self {
            WorkLanguages::All => true,
            WorkLanguages::Only(list) => list.contains(language),
        }
    }

    /// Stored as NULL (all) or a comma-separated list.
    pub fn to_stored(&self) -> Option<String> {
        match self {
            WorkLanguages::All => None,
            WorkLanguages::Only(list) => Some(
                list.iter()
                    .map(|l| l.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
            ),
        }
    }

    pub fn from_stored(stored: Option<&str>) -> Result<Self, ValueError> {
        match stored {
            None => Ok(WorkLanguages::All),
            Some(s) => Ok(WorkLanguages::Only(
                s.split(',')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(LanguageTag::parse)
                    .collect::<Result<_, _>>()?,
            )),
        }
    }
}

/// A person's settings that decide which channels they read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChannelPrefs {
    /// Studio users only: read and post in the Internal channel.
    pub internal_messages: bool,
    pub languages: WorkLanguages,
}

/// A message's text: trimmed, not empty, at most [`MessageBody::MAX_CHARS`] characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MessageBody(String);

impl MessageBody {
    pub const MAX_CHARS: usize = 20_000;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = input.trim_end().trim_start_matches(['\n', '\r']);
        if s.trim().is_empty() {
            return Err(ValueError::new("write a message first"));
        }
        if s.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(ValueError::new(
                "a message cannot contain control characters such as NUL; paste it as plain text",
            ));
        }
        let n = s.chars().count();
        if n > Self::MAX_CHARS {
            return Err(ValueError::new(format!(
                "a message has at most {} characters (this one has {n}); attach a file for longer texts",
                Self::MAX_CHARS
            )));
        }
        Ok(Self(s.replace("\r\n", "\n")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MessageBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for MessageBody {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<MessageBody> for String {
    fn from(b: MessageBody) -> Self {
        b.0
    }
}

/// A message as stored. `author` is `None` for the portal's robot. A deleted message keeps its
/// place as a tombstone: its body is emptied and `deleted_at` set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub id: MessageId,
    pub channel_id: ChannelId,
    pub seq: i64,
    pub author: Option<UserId>,
    pub body: String,
    pub created_at: OffsetDateTime,
    pub edited_at: Option<OffsetDateTime>,
    pub deleted_at: Option<OffsetDateTime>,
}

/// How long after posting an author may still edit or delete a message, by default.
pub const DEFAULT_EDIT_WINDOW: Duration = Duration::minutes(15);

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_order() {
        use crate::project::Service;
        let es = LanguageTag::parse("es-ES").unwrap();
        let (a, b) = (OrgId::new(), OrgId::new());
        for k in [
            ChannelKind::Broadcast,
            ChannelKind::Vendor(es.clone(), a),
            ChannelKind::Internal,
        ] {
            let partner = k.partner().map(|p| p.to_string());
            let back = ChannelKind::from_parts(
                k.as_str(),
                k.language().map(|l| l.as_str()),
                partner.as_deref(),
            );
            assert_eq!(back.unwrap(), k);
        }
        assert!(ChannelKind::from_parts("vendor", Some("es-ES"), None).is_err());
        let assign = |service, org_id| Assignment {
            language: es.clone(),
            service,
            org_id,
        };
        // Dubbing and subtitles by one partner: one channel; by two partners: one each.
        let kinds =
            channel_kinds_for(&[assign(Service::Dubbing, a), assign(Service::Subtitles, a)]);
        assert_eq!(
            kinds,
            vec![
                ChannelKind::Broadcast,
                ChannelKind::Vendor(es.clone(), a),
                ChannelKind::Internal
            ]
        );
        let kinds =
            channel_kinds_for(&[assign(Service::Dubbing, a), assign(Service::Subtitles, b)]);
        assert_eq!(kinds.len(), 4);
        assert!(kinds.contains(&ChannelKind::Vendor(es, b)));
    }

    #[test]
    fn work_languages_round_trip() {
        let w = WorkLanguages::from_stored(Some("es-ES, ja")).unwrap();
        assert!(w.includes(&LanguageTag::parse("ja").unwrap()));
        assert!(!w.includes(&LanguageTag::parse("pt-BR").unwrap()));
        assert_eq!(w.to_stored().as_deref(), Some("es-ES,ja"));
        assert_eq!(
            WorkLanguages::from_stored(None).unwrap(),
            WorkLanguages::All
        );
    }

    #[test]
    fn message_bodies() {
        assert!(MessageBody::parse("  \n ").is_err());
        assert_eq!(
            MessageBody::parse("\n  Hi\r\nthere \n").unwrap().as_str(),
            "  Hi\nthere"
        );
        assert!(MessageBody::parse(&"x".repeat(20_001)).is_err());
        // NUL and other controls are refused; tabs and line breaks are text.
        assert!(MessageBody::parse("take\u{0}two").is_err());
        assert!(MessageBody::parse("bell\u{7}").is_err());
        assert!(MessageBody::parse("col1\tcol2\r\nrow2").is_ok());
    }
}
