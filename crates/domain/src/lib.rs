//! The pure heart of locportal: identifiers, validated values ("parse, don't validate"),
//! roles, the access policy and the maths that later features share (timecode).
//!
//! Nothing in this crate performs I/O, awaits, or knows about SQL or HTTP.

pub mod attachments;
pub mod channels;
pub mod email;
pub mod events;
pub mod fulfilment;
pub mod guide;
pub mod ids;
pub mod mentions;
pub mod notify;
pub mod org;
pub mod policy;
pub mod project;
pub mod requests;
pub mod roles;
pub mod search;
pub mod throttle;
pub mod timecode;
pub mod values;

pub use channels::{Channel, ChannelKind, ChannelPrefs, Message, MessageBody, WorkLanguages};
pub use ids::{
    AttachmentId, AudioRequestId, ChannelId, EmailId, EpisodeId, FulfilmentId, GuideItemId,
    MessageId, NoteId, OrgId, ProjectId, RequestFileId, RequestId, SeasonId, SubmissionFileId,
    SubmissionId, TokenId, UploadId, UserId,
};
pub use org::{OrgKind, Organisation};
pub use policy::{
    Action, Actor, AudioAction, Decision, DenyReason, FulfilmentFacts, ProjectScope, RequestAction,
    RequestFacts, RequestFileFacts, Resource, Subject, authorize, authorize_actor, authorize_audio,
    authorize_request,
};
pub use project::{Assignment, Episode, Project, ProjectKind, Season, Service};
pub use roles::{Role, Roles};
pub use values::{Email, LanguageTag, MovieId, Name, Password, ValueError};
