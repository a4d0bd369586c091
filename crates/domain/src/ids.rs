//! Public identifiers. All are UUIDv7 so they sort by creation time and never reveal counts.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered identifier.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }
    };
}

id_type!(
    /// A user account.
    UserId
);
id_type!(
    /// A file attached to a message.
    AttachmentId
);
id_type!(
    /// An organisation: the studio or a partner.
    OrgId
);
id_type!(
    /// A project (title).
    ProjectId
);
id_type!(
    /// A season of a series.
    SeasonId
);
id_type!(
    /// An episode of a season.
    EpisodeId
);
id_type!(
    /// An API token (the id, not the secret).
    TokenId
);
id_type!(
    /// A channel of a project.
    ChannelId
);
id_type!(
    /// A message in a channel.
    MessageId
);
id_type!(
    /// An e-mail in the outbox (its Message-ID header derives from it).
    EmailId
);
id_type!(
    /// A request for script work (dialogue list, dub script, …).
    RequestId
);
id_type!(
    /// An audio request: a Moments clip or a premix, for one or more languages.
    AudioRequestId
);
id_type!(
    /// One language's fulfilment of an audio request, done by one partner.
    FulfilmentId
);
id_type!(
    /// A version a partner sent for a fulfilment.
    SubmissionId
);
id_type!(
    /// A file of a submission, as the checker accepted it.
    SubmissionFileId
);
id_type!(
    /// A comment or decision on a fulfilment.
    NoteId
);
id_type!(
    /// A resumable upload in progress.
    UploadId
);
id_type!(
    /// An item of a Show Guide: a character, a key name, a translation, a reference file.
    GuideItemId
);
id_type!(
    /// A file of a request: a reference file or one version of a step's work.
    RequestFileId
);
