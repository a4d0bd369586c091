//! The API's JSON shapes. They are separate from the domain types on purpose: the wire format
//! is a promise to clients, and changes to it show up in the OpenAPI snapshot.

use app::auth::Authenticated;
use app::projects::{ProjectRow, ProjectView};
use domain::{Organisation, Role};
use serde::{Deserialize, Serialize};
use store::{ApiTokenRecord, UserWithOrg};
use time::format_description::well_known::Rfc3339;
use utoipa::ToSchema;
use uuid::Uuid;

/// A timestamp as every JSON response writes it (RFC 3339).
pub(crate) fn ts(t: time::OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// The closed sets of values the API takes and gives, as schemas (the fields stay strings;
/// the server checks them with the domain's own parsers and names the field at fault).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum OrgKindName {
    Studio,
    Partner,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ProjectKindName {
    Film,
    Series,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ServiceName {
    Dubbing,
    Subtitles,
    AudioDescription,
    Scripting,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum RoleName {
    PortalUser,
    Manager,
    Admin,
    Author,
    Proofreader,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum FrequencyName {
    Immediately,
    #[serde(rename = "every_15_minutes")]
    Every15Minutes,
    Hourly,
    Daily,
    Off,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum MailStateName {
    Pending,
    Sent,
    Failed,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum ChannelKindName {
    Broadcast,
    Vendor,
    Internal,
}

#[derive(Serialize, ToSchema)]
pub struct OrgJson {
    pub id: Uuid,
    pub name: String,
    #[schema(value_type = OrgKindName)]
    pub kind: String,
}

impl From<&Organisation> for OrgJson {
    fn from(o: &Organisation) -> Self {
        Self {
            id: o.id.as_uuid(),
            name: o.name.to_string(),
            kind: o.kind.as_str().into(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MeJson {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub organisation: OrgJson,
    #[schema(value_type = Vec<RoleName>)]
    pub roles: Vec<String>,
    /// False for accounts without `portal_user` (they only have My tasks).
    pub portal_access: bool,
}

impl From<&Authenticated> for MeJson {
    fn from(a: &Authenticated) -> Self {
        Self {
            id: a.user.id.as_uuid(),
            email: a.user.email.to_string(),
            display_name: a.user.display_name.to_string(),
            organisation: OrgJson::from(&a.org),
            roles: a
                .user
                .roles
                .iter()
                .map(|r| r.as_str().to_string())
                .collect(),
            portal_access: a.subject.has(Role::PortalUser),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ProjectRowJson {
    pub id: Uuid,
    pub movie_id: i64,
    pub name: String,
    #[schema(value_type = ProjectKindName)]
    pub kind: String,
    pub original_language: String,
    /// The target languages the caller may see.
    pub languages: Vec<String>,
    pub following: bool,
    /// My Projects only: unread messages over the channels the caller may read.
    pub unread: Option<u32>,
}

impl From<ProjectRow> for ProjectRowJson {
    fn from(r: ProjectRow) -> Self {
        Self {
            id: r.id.as_uuid(),
            movie_id: r.movie_id.get(),
            name: r.name.to_string(),
            kind: r.kind.as_str().into(),
            original_language: r.original_language.to_string(),
            languages: r.languages.iter().map(|l| l.to_string()).collect(),
            following: r.following,
            unread: None,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EpisodeJson {
    pub id: Uuid,
    pub number: u32,
    pub movie_id: i64,
    pub name: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SeasonJson {
    pub number: u32,
    pub episodes: Vec<EpisodeJson>,
}

#[derive(Serialize, ToSchema)]
pub struct OrgRefJson {
    pub id: Uuid,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct AssignmentJson {
    pub language: String,
    #[schema(value_type = ServiceName)]
    pub service: String,
    pub partner: OrgRefJson,
}

#[derive(Serialize, ToSchema)]
pub struct ProjectJson {
    pub id: Uuid,
    pub movie_id: i64,
    pub name: String,
    #[schema(value_type = ProjectKindName)]
    pub kind: String,
    pub original_language: String,
    /// The target languages the caller may see (a partner: only its own).
    pub target_languages: Vec<String>,
    pub seasons: Vec<SeasonJson>,
    /// The assignments the caller may see (a partner: only its own).
    pub assignments: Vec<AssignmentJson>,
    pub following: bool,
    pub can_edit: bool,
}

impl From<ProjectView> for ProjectJson {
    fn from(v: ProjectView) -> Self {
        let p = v.project;
        Self {
            id: p.id.as_uuid(),
            movie_id: p.movie_id.get(),
            name: p.name.to_string(),
            kind: p.kind.as_str().into(),
            original_language: p.original_language.to_string(),
            target_languages: p.target_languages.iter().map(|l| l.to_string()).collect(),
            seasons: p
                .seasons
                .iter()
                .map(|s| SeasonJson {
                    number: s.number,
                    episodes: s
                        .episodes
                        .iter()
                        .map(|e| EpisodeJson {
                            id: e.id.as_uuid(),
                            number: e.number,
                            movie_id: e.movie_id.get(),
                            name: e.name.as_ref().map(|n| n.to_string()),
                        })
                        .collect(),
                })
                .collect(),
            assignments: p
                .assignments
                .iter()
                .map(|a| AssignmentJson {
                    language: a.language.to_string(),
                    service: a.service.as_str().into(),
                    partner: OrgRefJson {
                        id: a.org_id.as_uuid(),
                        name: v.org_names.get(&a.org_id).cloned().unwrap_or_default(),
                    },
                })
                .collect(),
            following: v.following,
            can_edit: v.can_edit,
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct EpisodeInputJson {
    #[schema(minimum = 1)]
    pub number: u32,
    #[schema(minimum = 1, maximum = 999_999_999_999_i64)]
    pub movie_id: i64,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct SeasonInputJson {
    #[schema(minimum = 1)]
    pub number: u32,
    #[serde(default)]
    pub episodes: Vec<EpisodeInputJson>,
}

#[derive(Deserialize, ToSchema)]
pub struct AssignmentInputJson {
    /// BCP 47 tag; must be one of the project's target languages.
    #[schema(min_length = 2)]
    pub language: String,
    #[schema(value_type = ServiceName)]
    pub service: String,
    /// A partner organisation's id.
    pub partner_id: Uuid,
}

/// A project to create, or the complete new state of one to update.
#[derive(Deserialize, ToSchema)]
pub struct ProjectInputJson {
    /// A positive number of at most 12 digits, unique across titles and episodes.
    #[schema(minimum = 1, maximum = 999_999_999_999_i64)]
    pub movie_id: i64,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069]*[^\s\x00-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069][^\x00-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069]*$"
    )]
    pub name: String,
    #[schema(value_type = ProjectKindName)]
    pub kind: String,
    /// BCP 47 tag, e.g. `en`.
    #[schema(min_length = 2)]
    pub original_language: String,
    /// BCP 47 tags, e.g. `["es-ES", "pt-BR"]`.
    #[serde(default)]
    pub target_languages: Vec<String>,
    /// Series only.
    #[serde(default)]
    pub seasons: Vec<SeasonInputJson>,
    #[serde(default)]
    pub assignments: Vec<AssignmentInputJson>,
}

impl From<ProjectInputJson> for app::projects::ProjectInput {
    fn from(j: ProjectInputJson) -> Self {
        Self {
            movie_id: j.movie_id.to_string(),
            name: j.name,
            kind: j.kind,
            original_language: j.original_language,
            target_languages: j.target_languages,
            seasons: j
                .seasons
                .into_iter()
                .map(|s| app::projects::SeasonInput {
                    number: s.number,
                    episodes: s
                        .episodes
                        .into_iter()
                        .map(|e| app::projects::EpisodeInput {
                            number: e.number,
                            movie_id: e.movie_id.to_string(),
                            name: e.name,
                        })
                        .collect(),
                })
                .collect(),
            assignments: j
                .assignments
                .into_iter()
                .map(|a| app::projects::AssignmentInput {
                    language: a.language,
                    service: a.service,
                    org_id: a.partner_id.into(),
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TokenJson {
    pub id: Uuid,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

impl From<&ApiTokenRecord> for TokenJson {
    fn from(t: &ApiTokenRecord) -> Self {
        Self {
            id: t.id.as_uuid(),
            name: t.name.to_string(),
            created_at: ts(t.created_at),
            last_used_at: t.last_used_at.map(ts),
            revoked_at: t.revoked_at.map(ts),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct NewTokenJson {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069]*[^\s\x00-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069][^\x00-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069]*$"
    )]
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedTokenJson {
    pub token: TokenJson,
    /// The secret, shown only in this response.
    pub secret: String,
}

#[derive(Deserialize, ToSchema)]
pub struct NewOrgJson {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069]*[^\s\x00-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069][^\x00-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069]*$"
    )]
    pub name: String,
    /// There is exactly one studio (409 for a second one).
    #[schema(value_type = OrgKindName)]
    pub kind: String,
}

#[derive(Deserialize, ToSchema)]
pub struct RenameOrgJson {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069]*[^\s\x00-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069][^\x00-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069]*$"
    )]
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct UserJson {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub organisation: OrgJson,
    #[schema(value_type = Vec<RoleName>)]
    pub roles: Vec<String>,
    pub disabled: bool,
    pub created_at: String,
}

impl From<&UserWithOrg> for UserJson {
    fn from(u: &UserWithOrg) -> Self {
        Self {
            id: u.user.id.as_uuid(),
            email: u.user.email.to_string(),
            display_name: u.user.display_name.to_string(),
            organisation: OrgJson::from(&u.org),
            roles: u
                .user
                .roles
                .iter()
                .map(|r| r.as_str().to_string())
                .collect(),
            disabled: u.user.disabled,
            created_at: ts(u.user.created_at),
        }
    }
}

#[derive(Deserialize, ToSchema)]
pub struct NewUserJson {
    /// The organisation's id or exact name.
    #[schema(min_length = 1)]
    pub organisation: String,
    #[schema(min_length = 3, max_length = 254)]
    pub email: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069]*[^\s\x00-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069][^\x00-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069]*$"
    )]
    pub display_name: String,
    /// `admin` and `manager` are for studio users only.
    #[serde(default)]
    #[schema(value_type = Vec<RoleName>)]
    pub roles: Vec<String>,
    /// Optional initial password (at least 10 characters).
    #[serde(default)]
    #[schema(min_length = 10)]
    pub password: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct UpdateUserJson {
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069]*[^\s\x00-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069][^\x00-\x1f\x7f-\x9f\u061c\u202a-\u202e\u2066-\u2069]*$"
    )]
    pub display_name: Option<String>,
    /// The complete new set of roles.
    #[serde(default)]
    #[schema(value_type = Option<Vec<RoleName>>)]
    pub roles: Option<Vec<String>>,
    #[serde(default)]
    pub disabled: Option<bool>,
}

#[derive(Deserialize, ToSchema)]
pub struct PasswordJson {
    /// At least 10 characters.
    #[schema(min_length = 10)]
    pub password: String,
}
