//! Who may see or do what. This is the only place such decisions are written; pages, API routes,
//! search and (later) events, emails and downloads all ask [`authorize`] or derive their query
//! scope from [`ProjectScope::for_subject`].
//!
//! The rule that matters most: **partners never see each other**. A partner user sees a project
//! only while their organisation is assigned to at least one of its languages, and inside it only
//! their own organisation's assignments. Anything else is reported as "not found" so that even the
//! existence of another partner's work is not revealed.

use crate::channels::{ChannelKind, ChannelPrefs};
use crate::ids::{OrgId, UserId};
use crate::org::OrgKind;
use crate::project::Assignment;
use crate::requests::{RequestKind, Step};
use crate::roles::{Role, Roles};
use std::fmt;

/// The signed-in person a decision is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subject {
    pub user_id: UserId,
    pub org_id: OrgId,
    pub org_kind: OrgKind,
    pub roles: Roles,
    /// App Settings that decide which channels the subject works in.
    pub prefs: ChannelPrefs,
}

impl Subject {
    pub fn is_studio(&self) -> bool {
        self.org_kind == OrgKind::Studio
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(role)
    }
}

/// What the subject wants to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Open any portal page or API route (everything but "My tasks" and one's own sign-out).
    UsePortal,
    /// Open "My tasks" — every signed-in user, linguists included.
    ViewOwnTasks,
    /// Create a new project.
    CreateProject,
    /// See a project (in search, My Projects, its page).
    ViewProject,
    /// Change a project: details, languages, episodes, assignments.
    EditProject,
    /// Add a project to one's My Projects.
    FollowProject,
    /// See one (language, service) → partner assignment of a project.
    ViewAssignment,
    /// See an organisation's name and kind.
    ViewOrganisation,
    /// Manage organisations, users and roles.
    Administer,
    /// Create, list and revoke one's own API tokens.
    ManageOwnApiTokens,
    /// Read a channel's messages (and count them as unread).
    ReadChannel,
    /// Post a message in a channel.
    PostInChannel,
    /// Attach a file to a message one posts in a channel.
    AttachFile,
    /// Download or preview a file attached to a message of a channel.
    DownloadAttachment,
}

/// What the action is about, with the facts the decision needs (loaded by the caller).
#[derive(Clone, Copy, Debug)]
pub enum Resource<'a> {
    /// The portal as a whole (for actions that concern no particular object).
    Portal,
    /// A project, described by the organisations assigned to any of its languages.
    Project { assigned_orgs: &'a [OrgId] },
    /// One assignment of a project the subject may already see.
    Assignment { org_id: OrgId },
    /// An organisation.
    Organisation { id: OrgId, kind: OrgKind },
    /// A channel of a project, with all of the project's assignments (they say which partner
    /// works on which language, and so who may see the project at all).
    Channel {
        kind: &'a ChannelKind,
        assignments: &'a [Assignment],
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    Deny(DenyReason),
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow)
    }

    /// `Ok(())` or the reason, for `?` in use cases.
    pub fn check(self) -> Result<(), DenyReason> {
        match self {
            Decision::Allow => Ok(()),
            Decision::Deny(r) => Err(r),
        }
    }
}

/// Why something was refused. Each reason knows whether it may be shown as such or must look like
/// "not found".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DenyReason {
    /// Nobody is signed in.
    NotSignedIn,
    /// Signed in, but the account lacks `portal_user` (e.g. a linguist).
    NoPortalAccess,
    /// Only studio users may do this.
    StudioOnly,
    /// The subject lacks a role the action needs.
    MissingRole(Role),
    /// The object is not visible to the subject; report it as not found.
    NotVisible,
    /// Partners read the Broadcast channel but do not post in it.
    ReadOnlyChannel,
    /// A vendor channel of one's own organisation for a language one has not enabled.
    LanguageNotEnabled,
    /// The Internal channel, for a studio user who has not enabled internal messages.
    InternalMessagesOff,
    /// Something the partner doing the work owns (its linguists, its EDD).
    PartnerOnly,
    /// A step of a request assigned to someone else.
    NotYourStep,
}

impl DenyReason {
    /// True when the refusal must be presented as "not found" so nothing leaks.
    pub fn hides_existence(&self) -> bool {
        matches!(self, DenyReason::NotVisible)
    }

    pub fn explain(&self) -> String {
        match self {
            DenyReason::NotSignedIn => "Sign in to continue.".to_string(),
            DenyReason::NoPortalAccess => "Your account does not have portal access (the \
                portal_user role). Linguists work from their task list under \"My tasks\"; \
                if you need the portal, ask your organisation's administrator to grant \
                portal_user."
                .to_string(),
            DenyReason::StudioOnly => {
                "Only studio users can do this. Partners can ask their studio contact.".to_string()
            }
            DenyReason::MissingRole(role) => format!(
                "This needs the {role} role ({}). Ask an administrator if you should have it.",
                role.describe()
            ),
            DenyReason::NotVisible => "Not found, or you do not have access to it.".to_string(),
            DenyReason::ReadOnlyChannel => "Broadcast is read-only for partners: write to the \
                studio in your language's channel."
                .to_string(),
            DenyReason::LanguageNotEnabled => "You have not enabled this language. Add it to \
                \"Languages I work on\" in App Settings to read and write here."
                .to_string(),
            DenyReason::InternalMessagesOff => "Internal messages are off for you. Turn on \
                \"Internal messages\" in App Settings to read and write here."
                .to_string(),
            DenyReason::PartnerOnly => "The partner doing this work decides this (its \
                linguists, its estimated delivery date). Ask them in the language's channel."
                .to_string(),
            DenyReason::NotYourStep => "This step is assigned to someone else; only its \
                assignee can work on it."
                .to_string(),
        }
    }
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.explain())
    }
}

/// The one access decision. Pure: everything it needs is in its arguments.
pub fn authorize(subject: Option<&Subject>, action: Action, resource: Resource<'_>) -> Decision {
    use Decision::{Allow, Deny};
    let Some(s) = subject else {
        return Deny(DenyReason::NotSignedIn);
    };
    if action == Action::ViewOwnTasks {
        return Allow;
    }
    if !s.has(Role::PortalUser) {
        return Deny(DenyReason::NoPortalAccess);
    }
    match (action, resource) {
        (Action::UsePortal, _) | (Action::ManageOwnApiTokens, _) => Allow,
        (Action::ViewOwnTasks, _) => Allow,
        (Action::Administer, _) => {
            if !s.is_studio() {
                Deny(DenyReason::StudioOnly)
            } else if !s.has(Role::Admin) {
                Deny(DenyReason::MissingRole(Role::Admin))
            } else {
                Allow
            }
        }
        (Action::CreateProject, _) => studio_manager(s),
        (Action::ViewProject | Action::FollowProject, Resource::Project { assigned_orgs }) => {
            if s.is_studio() || assigned_orgs.contains(&s.org_id) {
                Allow
            } else {
                Deny(DenyReason::NotVisible)
            }
        }
        (Action::EditProject, Resource::Project { assigned_orgs }) => {
            if s.is_studio() {
                studio_manager(s)
            } else if assigned_orgs.contains(&s.org_id) {
                Deny(DenyReason::StudioOnly)
            } else {
                Deny(DenyReason::NotVisible)
            }
        }
        (Action::ViewAssignment, Resource::Assignment { org_id }) => {
            if s.is_studio() || org_id == s.org_id {
                Allow
            } else {
                Deny(DenyReason::NotVisible)
            }
        }
        (Action::ViewOrganisation, Resource::Organisation { id, kind }) => {
            if knows_org(s, id, kind) {
                Allow
            } else {
                Deny(DenyReason::NotVisible)
            }
        }
        (
            Action::ReadChannel | Action::DownloadAttachment,
            Resource::Channel { kind, assignments },
        ) => read_channel(s, kind, assignments),
        (Action::PostInChannel | Action::AttachFile, Resource::Channel { kind, assignments }) => {
            match read_channel(s, kind, assignments) {
                Allow if *kind == ChannelKind::Broadcast && !s.is_studio() => {
                    Deny(DenyReason::ReadOnlyChannel)
                }
                other => other,
            }
        }
        // An action asked about the wrong kind of resource is a programming error; refuse it.
        _ => Deny(DenyReason::NotVisible),
    }
}

/// Who is acting: a signed-in person, or the operator at the server's command line (who holds
/// the database itself and so may administer, but has no account and follows nothing).
#[derive(Clone, Copy, Debug)]
pub enum Actor<'a> {
    User(&'a Subject),
    Operator,
}

/// [`authorize`] for either kind of actor.
pub fn authorize_actor(actor: Actor<'_>, action: Action, resource: Resource<'_>) -> Decision {
    match actor {
        Actor::User(s) => authorize(Some(s), action, resource),
        Actor::Operator => match action {
            Action::Administer
            | Action::CreateProject
            | Action::EditProject
            | Action::ViewProject
            | Action::ViewAssignment
            | Action::ViewOrganisation => Decision::Allow,
            Action::UsePortal
            | Action::ViewOwnTasks
            | Action::FollowProject
            | Action::ManageOwnApiTokens
            | Action::ReadChannel
            | Action::PostInChannel
            | Action::AttachFile
            | Action::DownloadAttachment => Decision::Deny(DenyReason::NotSignedIn),
        },
    }
}

/// Who reads which channel (PRODUCT.md §3): Broadcast — everyone who may see the project;
/// a vendor channel — the studio, and the users of *that channel's* partner while it is assigned
/// to the channel's language and the user works on that language; Internal — studio users with
/// internal messages on. A partner never learns that another partner's channel exists, and a
/// partner who takes over a language does not read the conversation of the one before.
fn read_channel(s: &Subject, kind: &ChannelKind, assignments: &[Assignment]) -> Decision {
    let assigned_to_project = assignments.iter().any(|a| a.org_id == s.org_id);
    if !s.is_studio() && !assigned_to_project {
        return Decision::Deny(DenyReason::NotVisible);
    }
    match kind {
        ChannelKind::Broadcast => Decision::Allow,
        ChannelKind::Vendor(language, partner) => {
            if s.is_studio() {
                Decision::Allow
            } else if *partner != s.org_id
                || !assignments
                    .iter()
                    .any(|a| a.org_id == s.org_id && &a.language == language)
            {
                Decision::Deny(DenyReason::NotVisible)
            } else if !s.prefs.languages.includes(language) {
                Decision::Deny(DenyReason::LanguageNotEnabled)
            } else {
                Decision::Allow
            }
        }
        ChannelKind::Internal => {
            if !s.is_studio() {
                Decision::Deny(DenyReason::NotVisible)
            } else if !s.prefs.internal_messages {
                Decision::Deny(DenyReason::InternalMessagesOff)
            } else {
                Decision::Allow
            }
        }
    }
}

/// Whether `subject` may edit or delete a message: only its author, only while it is not
/// deleted, and only within `window` of posting. Robot messages (no author) are never changed.
pub fn may_change_message(
    subject: &Subject,
    message: &crate::channels::Message,
    now: time::OffsetDateTime,
    window: time::Duration,
) -> Result<(), MessageChangeRefusal> {
    if message.author != Some(subject.user_id) {
        return Err(MessageChangeRefusal::NotAuthor);
    }
    if message.deleted_at.is_some() {
        return Err(MessageChangeRefusal::Deleted);
    }
    if now - message.created_at > window {
        return Err(MessageChangeRefusal::WindowClosed {
            minutes: window.whole_minutes(),
        });
    }
    Ok(())
}

/// Why a message cannot be edited or deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageChangeRefusal {
    NotAuthor,
    Deleted,
    WindowClosed { minutes: i64 },
}

impl fmt::Display for MessageChangeRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageChangeRefusal::NotAuthor => f.write_str("only its author can change a message"),
            MessageChangeRefusal::Deleted => f.write_str("this message was deleted"),
            MessageChangeRefusal::WindowClosed { minutes } => write!(
                f,
                "messages can be edited or deleted for {minutes} minutes after posting; post a correction instead"
            ),
        }
    }
}

/// What someone wants to do with a request for script work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestAction {
    /// See it: in the Requests page, as a task, or (script viewers) its as-recorded script.
    View,
    /// Order it (studio managers).
    Create,
    /// Change its due dates, instructions and reference files (studio managers).
    Manage,
    /// Skip a dependency with a reason, add or remove dependencies (studio managers).
    SkipDependency,
    /// Choose who does a step: the partner for Author and Proofread, the studio for QC.
    Assign(Step),
    /// Start the step and submit its file (the step's assignee).
    WorkOn(Step),
    /// Approve or return it (QC: its assignee or a studio manager).
    Review,
    /// Change its estimated delivery date (the partner doing the work).
    ChangeEdd,
    /// Download its files.
    Download,
}

/// The facts about one request that decide who may act on it.
#[derive(Clone, Copy, Debug)]
pub struct RequestFacts<'a> {
    pub kind: RequestKind,
    /// The partner assigned *now* to the request's (language, service); `None`: nobody is.
    pub partner: Option<OrgId>,
    /// Who is assigned to Author, Proofread and QC.
    pub assignees: &'a [Option<UserId>; 3],
    /// The subject is a script viewer of the request's project.
    pub script_viewer: bool,
}

/// The one decision about requests. A partner sees only the requests of the (language, service)
/// it is assigned to now; a linguist only the requests with a step assigned to them, and only
/// while they work for the partner doing it; a script viewer only the as-recorded dub scripts
/// of their partner. Everything else is "not found".
pub fn authorize_request(
    subject: Option<&Subject>,
    action: RequestAction,
    r: &RequestFacts<'_>,
) -> Decision {
    use Decision::{Allow, Deny};
    let Some(s) = subject else {
        return Deny(DenyReason::NotSignedIn);
    };
    let portal = s.has(Role::PortalUser);
    // Ordering concerns the title, not a request anyone may see yet: the caller checked that
    // the project is visible.
    if action == RequestAction::Create {
        return may_order_requests(s);
    }
    let ours = r.partner == Some(s.org_id) && !s.is_studio();
    let studio = s.is_studio() && portal;
    let partner_pm = ours && portal;
    // A step is one's own while one is its assignee, works for the partner doing it (the studio
    // for QC) and still holds the step's linguist role.
    let mine = |step: Step| {
        r.assignees[step.index()] == Some(s.user_id)
            && match step.linguist_role() {
                None => s.is_studio(),
                Some(role) => ours && s.has(role),
            }
    };
    let viewer = r.script_viewer && ours && r.kind == RequestKind::AsRecordedDubScript;
    let sees = studio || partner_pm || Step::ALL.into_iter().any(mine) || viewer;
    if !sees {
        return Deny(DenyReason::NotVisible);
    }
    match action {
        RequestAction::View | RequestAction::Download => Allow,
        RequestAction::WorkOn(step) => {
            if mine(step) {
                Allow
            } else {
                Deny(DenyReason::NotYourStep)
            }
        }
        _ if !portal => Deny(DenyReason::NoPortalAccess),
        RequestAction::Create | RequestAction::Manage | RequestAction::SkipDependency => {
            studio_manager(s)
        }
        RequestAction::Assign(Step::Qc) => studio_manager(s),
        RequestAction::Assign(_) | RequestAction::ChangeEdd => {
            if partner_pm {
                Allow
            } else if studio {
                Deny(DenyReason::PartnerOnly)
            } else {
                Deny(DenyReason::NotVisible)
            }
        }
        RequestAction::Review => {
            if !studio {
                Deny(DenyReason::StudioOnly)
            } else if s.has(Role::Manager) || mine(Step::Qc) {
                Allow
            } else {
                Deny(DenyReason::NotYourStep)
            }
        }
    }
}

/// Whether `s` may know of an organisation and its people: the studio knows everyone; a partner
/// (portal access or not) its own organisation and the studio, never another partner.
pub fn knows_org(s: &Subject, id: OrgId, kind: OrgKind) -> bool {
    s.is_studio() || id == s.org_id || kind == OrgKind::Studio
}

/// Whether `s` may order requests on a title they may see: studio managers. Ordering concerns
/// the title, not a request anyone may see yet.
pub fn may_order_requests(s: &Subject) -> Decision {
    if s.has(Role::PortalUser) {
        studio_manager(s)
    } else {
        Decision::Deny(DenyReason::NoPortalAccess)
    }
}

/// What decides whether someone who may download a request's files sees one of them.
#[derive(Clone, Copy, Debug)]
pub struct RequestFileFacts {
    /// The step whose version it is; `None`: a reference file.
    pub work_of: Option<Step>,
    pub version: u32,
    /// The newest Proofread version of the request (the script as approved).
    pub latest_proofread: Option<u32>,
    /// The organisation of whoever uploaded it (`None`: the operator).
    pub uploaded_by: Option<(OrgId, OrgKind)>,
    pub request_done: bool,
}

/// Which files of a request `s` sees, once [`authorize_request`] let them download at all:
/// never one uploaded by someone they may not know of (a previous partner's work); every other
/// one with portal access; a linguist the reference files and the versions of the steps up to
/// theirs; a script viewer only the approved script (the newest Proofread version of a done
/// request).
pub fn may_see_request_file(s: &Subject, r: &RequestFacts<'_>, f: &RequestFileFacts) -> bool {
    if let Some((id, kind)) = f.uploaded_by
        && !knows_org(s, id, kind)
    {
        return false;
    }
    if s.has(Role::PortalUser) {
        return true;
    }
    let mine: Vec<Step> = Step::ALL
        .into_iter()
        .filter(|step| r.assignees[step.index()] == Some(s.user_id))
        .collect();
    if !mine.is_empty() {
        return match f.work_of {
            None => true,
            Some(step) => mine.iter().any(|m| step <= *m),
        };
    }
    r.script_viewer
        && f.request_done
        && f.work_of == Some(Step::Proofread)
        && Some(f.version) == f.latest_proofread
}

/// Whether `s` may make `member` (a user of `member_org`) a script viewer of a project whose
/// assigned organisations are `assigned_orgs`: a partner's portal users for their own people, a
/// studio manager for any partner's people assigned to the project.
pub fn may_add_script_viewer(
    s: &Subject,
    assigned_orgs: &[OrgId],
    member_org: OrgId,
    member_org_kind: OrgKind,
) -> Decision {
    let project = authorize(
        Some(s),
        Action::ViewProject,
        Resource::Project { assigned_orgs },
    );
    if !project.is_allowed() {
        return project;
    }
    if member_org_kind == OrgKind::Studio {
        // Studio people read everything already.
        return Decision::Deny(DenyReason::PartnerOnly);
    }
    if s.is_studio() {
        if !assigned_orgs.contains(&member_org) {
            return Decision::Deny(DenyReason::NotVisible);
        }
        return studio_manager(s);
    }
    if member_org == s.org_id {
        Decision::Allow
    } else {
        Decision::Deny(DenyReason::NotVisible)
    }
}

/// What someone may do with audio fulfilment (Moments clips, premixes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AudioAction {
    /// Ask for a clip or a premix on a title the subject sees.
    Create,
    /// See the request (title, instructions, the clip's facts) and its fulfilment's state.
    See,
    /// Play or download the clip the studio sent.
    DownloadClip,
    /// Send a version (upload recordings).
    Upload,
    /// See a version's files, their verdict, QC and waveform, and listen to them.
    SeeSubmission,
    /// Write a comment on a fulfilment.
    Comment,
    /// Approve, ask for changes, reopen.
    Decide,
}

impl AudioAction {
    pub const ALL: [AudioAction; 7] = [
        AudioAction::Create,
        AudioAction::See,
        AudioAction::DownloadClip,
        AudioAction::Upload,
        AudioAction::SeeSubmission,
        AudioAction::Comment,
        AudioAction::Decide,
    ];
}

/// What decides access to one language's fulfilment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FulfilmentFacts {
    /// The partner doing it.
    pub partner: OrgId,
    /// That partner is assigned to dubbing the fulfilment's language on the title now.
    pub dubbing_now: bool,
}

/// The one decision about audio fulfilment. The studio's portal users see and review every
/// fulfilment and ask for new ones; a partner sees, downloads, uploads and comments on its own
/// fulfilments while it dubs their language, and nothing of any other partner's; linguists do
/// not take part (not found). `facts` is `None` only for [`AudioAction::Create`].
pub fn authorize_audio(
    subject: Option<&Subject>,
    action: AudioAction,
    facts: Option<&FulfilmentFacts>,
) -> Decision {
    use Decision::{Allow, Deny};
    let Some(s) = subject else {
        return Deny(DenyReason::NotSignedIn);
    };
    if !s.has(Role::PortalUser) {
        return Deny(DenyReason::NotVisible);
    }
    if s.is_studio() {
        return match action {
            AudioAction::Upload => Deny(DenyReason::PartnerOnly),
            _ => Allow,
        };
    }
    if action == AudioAction::Create {
        return Deny(DenyReason::StudioOnly);
    }
    let ours = facts.is_some_and(|f| f.partner == s.org_id && f.dubbing_now);
    if !ours {
        return Deny(DenyReason::NotVisible);
    }
    match action {
        AudioAction::Decide => Deny(DenyReason::StudioOnly),
        _ => Allow,
    }
}

/// What someone may do with a title's Show Guide and its casting selections.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GuideAction {
    /// Read the characters, key names, reference files and versions.
    See,
    /// Add, change or remove characters, key names and files; publish a version.
    Edit,
    /// Read one language's translations.
    SeeTranslation,
    /// Propose a translation in one language.
    ProposeTranslation,
    /// Approve or reject a translation.
    DecideTranslation,
    /// See who is cast for the characters in one language.
    SeeSelection,
}

impl GuideAction {
    pub const ALL: [GuideAction; 6] = [
        GuideAction::See,
        GuideAction::Edit,
        GuideAction::SeeTranslation,
        GuideAction::ProposeTranslation,
        GuideAction::DecideTranslation,
        GuideAction::SeeSelection,
    ];
}

/// What decides access to a Show Guide (and, for the per-language actions, one language of it).
#[derive(Clone, Copy, Debug)]
pub struct GuideFacts<'a> {
    /// Every organisation assigned on the title (any language, any service).
    pub assigned_orgs: &'a [OrgId],
    /// The organisations assigned to the language in question (any service).
    pub language_orgs: &'a [OrgId],
    /// The subject is a script viewer of the title (a partner's dub director).
    pub script_viewer: bool,
}

/// The one decision about a Show Guide. The studio's portal users read and edit it; a partner's
/// portal users read it while assigned on the title, and read and propose translations (and see
/// the cast) only in the languages they are assigned to; a partner's script viewer reads it and
/// its languages' translations and cast; linguists do not see it.
pub fn authorize_guide(
    subject: Option<&Subject>,
    action: GuideAction,
    facts: &GuideFacts<'_>,
) -> Decision {
    use Decision::{Allow, Deny};
    let Some(s) = subject else {
        return Deny(DenyReason::NotSignedIn);
    };
    let portal = s.has(Role::PortalUser);
    if s.is_studio() {
        return if portal {
            Allow
        } else {
            Deny(DenyReason::NotVisible)
        };
    }
    let on_title = facts.assigned_orgs.contains(&s.org_id);
    let reader = on_title && (portal || facts.script_viewer);
    if !reader {
        return Deny(DenyReason::NotVisible);
    }
    let ours = facts.language_orgs.contains(&s.org_id);
    match action {
        GuideAction::See => Allow,
        GuideAction::SeeTranslation | GuideAction::SeeSelection => {
            if ours {
                Allow
            } else {
                Deny(DenyReason::NotVisible)
            }
        }
        GuideAction::ProposeTranslation if !ours => Deny(DenyReason::NotVisible),
        GuideAction::ProposeTranslation if portal => Allow,
        GuideAction::ProposeTranslation => Deny(DenyReason::NoPortalAccess),
        GuideAction::Edit | GuideAction::DecideTranslation => Deny(DenyReason::StudioOnly),
    }
}

fn studio_manager(s: &Subject) -> Decision {
    if !s.is_studio() {
        Decision::Deny(DenyReason::StudioOnly)
    } else if !s.has(Role::Manager) {
        Decision::Deny(DenyReason::MissingRole(Role::Manager))
    } else {
        Decision::Allow
    }
}

/// Which projects a subject may see, expressed so a store can filter a list or a search in its
/// query. It must agree with [`authorize`] for `ViewProject`; a test checks that it does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProjectScope {
    /// Every project (studio users).
    All,
    /// Projects with at least one assignment to this organisation (partner users).
    AssignedTo(OrgId),
    /// None at all (no portal access).
    Nothing,
}

impl ProjectScope {
    pub fn for_subject(subject: &Subject) -> Self {
        if !subject.has(Role::PortalUser) {
            ProjectScope::Nothing
        } else if subject.is_studio() {
            ProjectScope::All
        } else {
            ProjectScope::AssignedTo(subject.org_id)
        }
    }

    pub fn admits(&self, assigned_orgs: &[OrgId]) -> bool {
        match self {
            ProjectScope::All => true,
            ProjectScope::AssignedTo(org) => assigned_orgs.contains(org),
            ProjectScope::Nothing => false,
        }
    }
}

/// Keeps only the items whose owning organisation the subject may see, e.g. a project's
/// assignments: a partner gets only its own.
pub fn visible_assignments<'a, T>(
    subject: &Subject,
    items: &'a [T],
    org_of: impl Fn(&T) -> OrgId,
) -> Vec<&'a T> {
    items
        .iter()
        .filter(|t| {
            authorize(
                Some(subject),
                Action::ViewAssignment,
                Resource::Assignment { org_id: org_of(t) },
            )
            .is_allowed()
        })
        .collect()
}

/// The target languages of a project that the subject may see: all of them for the studio; for a
/// partner only those its organisation is assigned to (another partner's languages are theirs).
pub fn visible_languages(
    subject: &Subject,
    targets: &[crate::values::LanguageTag],
    assignments: &[crate::project::Assignment],
) -> Vec<crate::values::LanguageTag> {
    let mine = visible_assignments(subject, assignments, |a| a.org_id);
    targets
        .iter()
        .filter(|l| subject.is_studio() || mine.iter().any(|a| &a.language == *l))
        .cloned()
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::roles::Role::*;

    struct World {
        studio: OrgId,
        partner_a: OrgId,
        partner_b: OrgId,
    }

    fn subject(org: OrgId, kind: OrgKind, roles: &[Role]) -> Subject {
        Subject {
            user_id: UserId::new(),
            org_id: org,
            org_kind: kind,
            roles: Roles::of(roles),
            prefs: ChannelPrefs {
                internal_messages: true,
                languages: crate::channels::WorkLanguages::All,
            },
        }
    }

    /// The Show Guide: every kind of person × every action × a language of A's and one of B's.
    /// A = allow, - = not found, S = studio only, N = no portal access.
    #[test]
    fn guide_policy_table() {
        let w = World {
            studio: OrgId::new(),
            partner_a: OrgId::new(),
            partner_b: OrgId::new(),
        };
        let studio = subject(w.studio, OrgKind::Studio, &[PortalUser]);
        let studio_linguist = subject(w.studio, OrgKind::Studio, &[Author]);
        let a_pm = subject(w.partner_a, OrgKind::Partner, &[PortalUser]);
        let a_linguist = subject(w.partner_a, OrgKind::Partner, &[Author]);
        let a_viewer = subject(w.partner_a, OrgKind::Partner, &[]);
        let b_pm = subject(w.partner_b, OrgKind::Partner, &[PortalUser]);
        let c_pm = subject(OrgId::new(), OrgKind::Partner, &[PortalUser]);
        // Columns: See Edit SeeTranslation ProposeTranslation DecideTranslation SeeSelection.
        let rows: [(&str, &Subject, bool, [&str; 2]); 7] = [
            ("studio", &studio, false, ["AAAAAA", "AAAAAA"]),
            (
                "studio linguist",
                &studio_linguist,
                false,
                ["------", "------"],
            ),
            ("A pm", &a_pm, false, ["ASAASA", "AS--S-"]),
            ("A linguist", &a_linguist, false, ["------", "------"]),
            ("A script viewer", &a_viewer, true, ["ASANSA", "AS--S-"]),
            ("B pm", &b_pm, false, ["AS--S-", "ASAASA"]),
            (
                "C pm (not on the title)",
                &c_pm,
                false,
                ["------", "------"],
            ),
        ];
        let code = |d: Decision| match d {
            Decision::Allow => 'A',
            Decision::Deny(DenyReason::NotVisible) => '-',
            Decision::Deny(DenyReason::StudioOnly) => 'S',
            Decision::Deny(DenyReason::NoPortalAccess) => 'N',
            Decision::Deny(_) => '?',
        };
        let assigned = [w.partner_a, w.partner_b];
        for (name, who, viewer, want) in rows {
            for (language_orgs, want) in
                [(&[w.partner_a][..], want[0]), (&[w.partner_b][..], want[1])]
            {
                let facts = GuideFacts {
                    assigned_orgs: &assigned,
                    language_orgs,
                    script_viewer: viewer,
                };
                let got: String = GuideAction::ALL
                    .iter()
                    .map(|a| code(authorize_guide(Some(who), *a, &facts)))
                    .collect();
                assert_eq!(got, want, "{name}");
            }
        }
        let nobody = GuideFacts {
            assigned_orgs: &assigned,
            language_orgs: &[],
            script_viewer: false,
        };
        assert_eq!(
            authorize_guide(None, GuideAction::See, &nobody),
            Decision::Deny(DenyReason::NotSignedIn)
        );
    }

    /// Audio fulfilment: every kind of person × every action × A's fulfilment, B's, and A's
    /// after A lost the dubbing assignment. A = allow, - = not found, S = studio only,
    /// P = partner only, X = not signed in.
    #[test]
    fn audio_policy_table() {
        let w = World {
            studio: OrgId::new(),
            partner_a: OrgId::new(),
            partner_b: OrgId::new(),
        };
        let manager = subject(w.studio, OrgKind::Studio, &[PortalUser, Manager]);
        let dub_rep = subject(w.studio, OrgKind::Studio, &[PortalUser]);
        let studio_linguist = subject(w.studio, OrgKind::Studio, &[Author]);
        let a_pm = subject(w.partner_a, OrgKind::Partner, &[PortalUser]);
        let a_linguist = subject(w.partner_a, OrgKind::Partner, &[Author, Proofreader]);
        let b_pm = subject(w.partner_b, OrgKind::Partner, &[PortalUser]);
        let a_admin_roles = subject(w.partner_a, OrgKind::Partner, &[PortalUser, Admin, Manager]);
        // Columns: Create See DownloadClip Upload SeeSubmission Comment Decide.
        let expected: [(&str, Option<&Subject>, [&str; 3]); 8] = [
            ("manager", Some(&manager), ["AAAPAAA", "AAAPAAA", "AAAPAAA"]),
            ("dub rep", Some(&dub_rep), ["AAAPAAA", "AAAPAAA", "AAAPAAA"]),
            (
                "studio linguist",
                Some(&studio_linguist),
                ["-------", "-------", "-------"],
            ),
            ("A pm", Some(&a_pm), ["SAAAAAS", "S------", "S------"]),
            (
                "A linguist",
                Some(&a_linguist),
                ["-------", "-------", "-------"],
            ),
            ("B pm", Some(&b_pm), ["S------", "SAAAAAS", "S------"]),
            (
                "A pm with studio roles",
                Some(&a_admin_roles),
                ["SAAAAAS", "S------", "S------"],
            ),
            ("nobody", None, ["XXXXXXX", "XXXXXXX", "XXXXXXX"]),
        ];
        let code = |d: Decision| match d {
            Decision::Allow => 'A',
            Decision::Deny(DenyReason::NotVisible) => '-',
            Decision::Deny(DenyReason::StudioOnly) => 'S',
            Decision::Deny(DenyReason::PartnerOnly) => 'P',
            Decision::Deny(DenyReason::NotSignedIn) => 'X',
            Decision::Deny(_) => '?',
        };
        let fulfilments = [
            FulfilmentFacts {
                partner: w.partner_a,
                dubbing_now: true,
            },
            FulfilmentFacts {
                partner: w.partner_b,
                dubbing_now: true,
            },
            FulfilmentFacts {
                partner: w.partner_a,
                dubbing_now: false,
            },
        ];
        for (name, who, row) in expected {
            for (facts, want) in fulfilments.iter().zip(row) {
                let got: String = AudioAction::ALL
                    .iter()
                    .map(|a| {
                        let f = (*a != AudioAction::Create).then_some(facts);
                        code(authorize_audio(who, *a, f))
                    })
                    .collect();
                assert_eq!(got, want, "{name} on {facts:?}");
            }
        }
    }

    /// Requests: every kind of person × every action × a request of A's language and one of
    /// B's. `A`: allowed; `-`: not found; other letters name the refusal. (Ordering concerns
    /// the title, whose visibility the caller checks, so it is refused for what it is.)
    #[test]
    fn request_policy_table() {
        use crate::requests::{RequestKind, Step};
        let w = World {
            studio: OrgId::new(),
            partner_a: OrgId::new(),
            partner_b: OrgId::new(),
        };
        let manager = subject(w.studio, OrgKind::Studio, &[PortalUser, Manager]);
        let qc = subject(w.studio, OrgKind::Studio, &[PortalUser]);
        let other_studio = subject(w.studio, OrgKind::Studio, &[PortalUser]);
        let a_pm = subject(w.partner_a, OrgKind::Partner, &[PortalUser]);
        let a_author = subject(w.partner_a, OrgKind::Partner, &[Author]);
        let a_idle = subject(w.partner_a, OrgKind::Partner, &[Author, Proofreader]);
        let b_pm = subject(w.partner_b, OrgKind::Partner, &[PortalUser]);
        let viewer = subject(w.partner_a, OrgKind::Partner, &[]);
        let people = [
            ("manager", &manager),
            ("studio qc", &qc),
            ("studio other", &other_studio),
            ("A pm", &a_pm),
            ("A assigned linguist", &a_author),
            ("A unassigned linguist", &a_idle),
            ("B pm", &b_pm),
            ("A script viewer", &viewer),
        ];
        let actions = [
            RequestAction::View,
            RequestAction::Create,
            RequestAction::Manage,
            RequestAction::SkipDependency,
            RequestAction::Assign(Step::Author),
            RequestAction::Assign(Step::Qc),
            RequestAction::WorkOn(Step::Author),
            RequestAction::WorkOn(Step::Proofread),
            RequestAction::Review,
            RequestAction::ChangeEdd,
            RequestAction::Download,
        ];
        // Rows: person; columns: the actions above, for A's request then B's request.
        // A = allow, - = not found, S = studio only, P = partner only, Y = not your step,
        // R = missing role, N = no portal access.
        let expected = [
            ("manager", "AAAAPAYYAPA", "AAAAPAYYAPA"),
            ("studio qc", "ARRRPRYYAPA", "ARRRPRYYAPA"),
            ("studio other", "ARRRPRYYYPA", "ARRRPRYYYPA"),
            ("A pm", "ASSSASYYSAA", "-S---------"),
            ("A assigned linguist", "ANNNNNAYNNA", "-N---------"),
            ("A unassigned linguist", "-N---------", "-N---------"),
            ("B pm", "-S---------", "ASSSASYYSAA"),
            ("A script viewer", "ANNNNNYYNNA", "-N---------"),
        ];
        let code = |d: Decision| match d {
            Decision::Allow => 'A',
            Decision::Deny(DenyReason::NotVisible) => '-',
            Decision::Deny(DenyReason::StudioOnly) => 'S',
            Decision::Deny(DenyReason::PartnerOnly) => 'P',
            Decision::Deny(DenyReason::NotYourStep) => 'Y',
            Decision::Deny(DenyReason::MissingRole(_)) => 'R',
            Decision::Deny(DenyReason::NoPortalAccess) => 'N',
            Decision::Deny(_) => '?',
        };
        for (name, who) in people {
            let row = expected.iter().find(|r| r.0 == name).unwrap();
            for (partner, want) in [(w.partner_a, row.1), (w.partner_b, row.2)] {
                let assignees = if partner == w.partner_a {
                    [Some(a_author.user_id), None, Some(qc.user_id)]
                } else {
                    [None, None, Some(qc.user_id)]
                };
                let facts = RequestFacts {
                    kind: RequestKind::AsRecordedDubScript,
                    partner: Some(partner),
                    assignees: &assignees,
                    script_viewer: std::ptr::eq(who, &viewer),
                };
                let got: String = actions
                    .iter()
                    .map(|a| code(authorize_request(Some(who), *a, &facts)))
                    .collect();
                assert_eq!(
                    got,
                    want,
                    "{name} on {}",
                    if partner == w.partner_a { "A" } else { "B" }
                );
            }
        }
        // A script viewer reads only as-recorded scripts; other kinds are not found.
        let assignees = [None, None, None];
        let dl = RequestFacts {
            kind: RequestKind::DialogueList,
            partner: Some(w.partner_a),
            assignees: &assignees,
            script_viewer: true,
        };
        assert_eq!(
            authorize_request(Some(&viewer), RequestAction::View, &dl),
            Decision::Deny(DenyReason::NotVisible)
        );
        // Nobody is assigned to the language: no partner sees it; the studio does.
        let orphan = RequestFacts {
            partner: None,
            ..dl
        };
        assert!(!authorize_request(Some(&a_pm), RequestAction::View, &orphan).is_allowed());
        assert!(authorize_request(Some(&manager), RequestAction::View, &orphan).is_allowed());
        // A linguist whose author role was taken away no longer works on the step.
        let mut demoted = a_author.clone();
        demoted.roles = Roles::of(&[]);
        let as_author = [Some(a_author.user_id), None, None];
        let theirs = RequestFacts {
            kind: RequestKind::DialogueList,
            partner: Some(w.partner_a),
            assignees: &as_author,
            script_viewer: false,
        };
        assert!(
            authorize_request(
                Some(&a_author),
                RequestAction::WorkOn(Step::Author),
                &theirs
            )
            .is_allowed()
        );
        assert_eq!(
            authorize_request(Some(&demoted), RequestAction::View, &theirs),
            Decision::Deny(DenyReason::NotVisible)
        );
        // A linguist who moved to another partner no longer sees the step they had.
        let moved = [Some(a_author.user_id), None, None];
        let for_b = RequestFacts {
            kind: RequestKind::DialogueList,
            partner: Some(w.partner_b),
            assignees: &moved,
            script_viewer: false,
        };
        assert_eq!(
            authorize_request(Some(&a_author), RequestAction::View, &for_b),
            Decision::Deny(DenyReason::NotVisible)
        );
        assert_eq!(
            authorize_request(None, RequestAction::View, &for_b),
            Decision::Deny(DenyReason::NotSignedIn)
        );
    }

    #[test]
    fn request_files_table() {
        use crate::requests::{RequestKind, Step};
        let w = World {
            studio: OrgId::new(),
            partner_a: OrgId::new(),
            partner_b: OrgId::new(),
        };
        let pm = subject(w.partner_a, OrgKind::Partner, &[PortalUser]);
        let studio = subject(w.studio, OrgKind::Studio, &[PortalUser]);
        let author = subject(w.partner_a, OrgKind::Partner, &[Author]);
        let viewer = subject(w.partner_a, OrgKind::Partner, &[]);
        let assignees = [Some(author.user_id), None, None];
        let facts = |script_viewer| RequestFacts {
            kind: RequestKind::AsRecordedDubScript,
            partner: Some(w.partner_a),
            assignees: &assignees,
            script_viewer,
        };
        let file = |work_of, version, by: OrgId, kind, done| RequestFileFacts {
            work_of,
            version,
            latest_proofread: Some(2),
            uploaded_by: Some((by, kind)),
            request_done: done,
        };
        let reference = file(None, 1, w.studio, OrgKind::Studio, false);
        let draft = file(Some(Step::Author), 1, w.partner_a, OrgKind::Partner, true);
        let proof_v1 = file(
            Some(Step::Proofread),
            1,
            w.partner_a,
            OrgKind::Partner,
            true,
        );
        let proof_v2 = file(
            Some(Step::Proofread),
            2,
            w.partner_a,
            OrgKind::Partner,
            true,
        );
        let proof_open = file(
            Some(Step::Proofread),
            2,
            w.partner_a,
            OrgKind::Partner,
            false,
        );
        let old_partner = file(Some(Step::Author), 1, w.partner_b, OrgKind::Partner, true);
        let cases = [
            (&pm, false, &reference, true),
            (&pm, false, &proof_v1, true),
            (&pm, false, &old_partner, false),
            (&studio, false, &old_partner, true),
            (&author, false, &reference, true),
            (&author, false, &draft, true),
            (&author, false, &proof_v2, false),
            (&viewer, true, &reference, false),
            (&viewer, true, &draft, false),
            (&viewer, true, &proof_v1, false),
            (&viewer, true, &proof_v2, true),
            (&viewer, true, &proof_open, false),
            (&viewer, false, &proof_v2, false),
        ];
        for (i, (who, sv, f, want)) in cases.iter().enumerate() {
            assert_eq!(may_see_request_file(who, &facts(*sv), f), *want, "case {i}");
        }
    }

    #[test]
    fn script_viewers_are_added_by_their_partner_or_a_studio_manager() {
        let w = World {
            studio: OrgId::new(),
            partner_a: OrgId::new(),
            partner_b: OrgId::new(),
        };
        let orgs = [w.partner_a, w.partner_b];
        let manager = subject(w.studio, OrgKind::Studio, &[PortalUser, Manager]);
        let a_pm = subject(w.partner_a, OrgKind::Partner, &[PortalUser]);
        let outsider = subject(OrgId::new(), OrgKind::Partner, &[PortalUser]);
        use Decision::*;
        assert_eq!(
            may_add_script_viewer(&a_pm, &orgs, w.partner_a, OrgKind::Partner),
            Allow
        );
        assert_eq!(
            may_add_script_viewer(&a_pm, &orgs, w.partner_b, OrgKind::Partner),
            Deny(DenyReason::NotVisible)
        );
        assert_eq!(
            may_add_script_viewer(&manager, &orgs, w.partner_b, OrgKind::Partner),
            Allow
        );
        assert_eq!(
            may_add_script_viewer(&manager, &orgs, w.studio, OrgKind::Studio),
            Deny(DenyReason::PartnerOnly)
        );
        assert_eq!(
            may_add_script_viewer(&outsider, &orgs, outsider.org_id, OrgKind::Partner),
            Deny(DenyReason::NotVisible)
        );
    }

    /// The table: every kind of user × every action × every relevant resource.
    #[test]
    fn policy_table() {
        let w = World {
            studio: OrgId::new(),
            partner_a: OrgId::new(),
            partner_b: OrgId::new(),
        };
        let admin = subject(w.studio, OrgKind::Studio, &[PortalUser, Admin]);
        let pm = subject(w.studio, OrgKind::Studio, &[PortalUser, Manager]);
        let qc = subject(w.studio, OrgKind::Studio, &[PortalUser]);
        let a_user = subject(w.partner_a, OrgKind::Partner, &[PortalUser]);
        let a_fake_admin = subject(w.partner_a, OrgKind::Partner, &[PortalUser, Admin, Manager]);
        let b_user = subject(w.partner_b, OrgKind::Partner, &[PortalUser]);
        let linguist = subject(w.partner_a, OrgKind::Partner, &[Author]);
        let studio_without_portal = subject(w.studio, OrgKind::Studio, &[Admin, Manager]);

        let only_a = [w.partner_a];
        let a_and_b = [w.partner_a, w.partner_b];
        let none: [OrgId; 0] = [];
        let p_a = Resource::Project {
            assigned_orgs: &only_a,
        };
        let p_ab = Resource::Project {
            assigned_orgs: &a_and_b,
        };
        let p_none = Resource::Project {
            assigned_orgs: &none,
        };
        let asg_a = Resource::Assignment {
            org_id: w.partner_a,
        };
        let asg_b = Resource::Assignment {
            org_id: w.partner_b,
        };
        let org_studio = Resource::Organisation {
            id: w.studio,
            kind: OrgKind::Studio,
        };
        let org_a = Resource::Organisation {
            id: w.partner_a,
            kind: OrgKind::Partner,
        };
        let org_b = Resource::Organisation {
            id: w.partner_b,
            kind: OrgKind::Partner,
        };

        use Action::*;
        use DenyReason::*;
        const A: Option<DenyReason> = None;
        let hidden = Some(NotVisible);
        let studio_only = Some(StudioOnly);
        let no_portal = Some(NoPortalAccess);

        type Row<'a> = (
            &'a str,
            Option<&'a Subject>,
            Action,
            Resource<'a>,
            Option<DenyReason>,
        );
        #[rustfmt::skip]
        let table: Vec<Row> = vec![
            // anonymous
            ("anon", None, UsePortal, Resource::Portal, Some(NotSignedIn)),
            ("anon", None, ViewOwnTasks, Resource::Portal, Some(NotSignedIn)),
            ("anon", None, ViewProject, p_a, Some(NotSignedIn)),
            // linguist: tasks only
            ("linguist", Some(&linguist), ViewOwnTasks, Resource::Portal, A),
            ("linguist", Some(&linguist), UsePortal, Resource::Portal, no_portal),
            ("linguist", Some(&linguist), ViewProject, p_a, no_portal),
            ("linguist", Some(&linguist), ManageOwnApiTokens, Resource::Portal, no_portal),
            ("studio w/o portal_user", Some(&studio_without_portal), Administer, Resource::Portal, no_portal),
            ("studio w/o portal_user", Some(&studio_without_portal), CreateProject, Resource::Portal, no_portal),
            // studio
            ("admin", Some(&admin), Administer, Resource::Portal, A),
            ("admin", Some(&admin), CreateProject, Resource::Portal, Some(MissingRole(Manager))),
            ("admin", Some(&admin), ViewProject, p_none, A),
            ("pm", Some(&pm), CreateProject, Resource::Portal, A),
            ("pm", Some(&pm), EditProject, p_ab, A),
            ("pm", Some(&pm), EditProject, p_none, A),
            ("pm", Some(&pm), Administer, Resource::Portal, Some(MissingRole(Admin))),
            ("pm", Some(&pm), ViewAssignment, asg_a, A),
            ("pm", Some(&pm), ViewAssignment, asg_b, A),
            ("pm", Some(&pm), ViewOrganisation, org_b, A),
            ("qc", Some(&qc), ViewProject, p_ab, A),
            ("qc", Some(&qc), FollowProject, p_none, A),
            ("qc", Some(&qc), EditProject, p_ab, Some(MissingRole(Manager))),
            ("qc", Some(&qc), CreateProject, Resource::Portal, Some(MissingRole(Manager))),
            // partner A
            ("a", Some(&a_user), UsePortal, Resource::Portal, A),
            ("a", Some(&a_user), ManageOwnApiTokens, Resource::Portal, A),
            ("a", Some(&a_user), ViewProject, p_a, A),
            ("a", Some(&a_user), ViewProject, p_ab, A),
            ("a", Some(&a_user), FollowProject, p_ab, A),
            ("a", Some(&a_user), ViewProject, p_none, hidden),
            ("a", Some(&a_user), FollowProject, p_none, hidden),
            ("a", Some(&a_user), EditProject, p_a, studio_only),
            ("a", Some(&a_user), EditProject, p_none, hidden),
            ("a", Some(&a_user), CreateProject, Resource::Portal, studio_only),
            ("a", Some(&a_user), Administer, Resource::Portal, studio_only),
            ("a", Some(&a_user), ViewAssignment, asg_a, A),
            ("a", Some(&a_user), ViewAssignment, asg_b, hidden),
            ("a", Some(&a_user), ViewOrganisation, org_a, A),
            ("a", Some(&a_user), ViewOrganisation, org_studio, A),
            ("a", Some(&a_user), ViewOrganisation, org_b, hidden),
            // roles that only a studio may hold do nothing for a partner
            ("a with admin+manager", Some(&a_fake_admin), Administer, Resource::Portal, studio_only),
            ("a with admin+manager", Some(&a_fake_admin), CreateProject, Resource::Portal, studio_only),
            ("a with admin+manager", Some(&a_fake_admin), EditProject, p_a, studio_only),
            ("a with admin+manager", Some(&a_fake_admin), ViewAssignment, asg_b, hidden),
            // partner B mirrors A
            ("b", Some(&b_user), ViewProject, p_a, hidden),
            ("b", Some(&b_user), ViewProject, p_ab, A),
            ("b", Some(&b_user), ViewAssignment, asg_a, hidden),
            ("b", Some(&b_user), ViewOrganisation, org_a, hidden),
            // wrong resource for an action is refused, not allowed
            ("pm", Some(&pm), ViewProject, asg_a, hidden),
            ("a", Some(&a_user), ViewAssignment, p_a, hidden),
        ];

        for (who, s, action, resource, want) in table {
            let got = match authorize(s, action, resource) {
                Decision::Allow => None,
                Decision::Deny(r) => Some(r),
            };
            assert_eq!(got, want, "{who} {action:?} {resource:?}");
        }
    }

    #[test]
    fn the_operator_administers_but_has_no_account() {
        let none: [OrgId; 0] = [];
        let p = Resource::Project {
            assigned_orgs: &none,
        };
        for (action, allowed) in [
            (Action::Administer, true),
            (Action::CreateProject, true),
            (Action::EditProject, true),
            (Action::ViewProject, true),
            (Action::FollowProject, false),
            (Action::ManageOwnApiTokens, false),
            (Action::UsePortal, false),
        ] {
            assert_eq!(
                authorize_actor(Actor::Operator, action, p).is_allowed(),
                allowed,
                "{action:?}"
            );
        }
    }

    #[test]
    fn scope_agrees_with_authorize() {
        let studio = OrgId::new();
        let a = OrgId::new();
        let b = OrgId::new();
        let subjects = [
            subject(studio, OrgKind::Studio, &[PortalUser]),
            subject(a, OrgKind::Partner, &[PortalUser]),
            subject(b, OrgKind::Partner, &[PortalUser, Admin]),
            subject(a, OrgKind::Partner, &[Author]),
        ];
        let sets: [&[OrgId]; 4] = [&[], &[a], &[b], &[a, b]];
        for s in &subjects {
            let scope = ProjectScope::for_subject(s);
            for set in sets {
                let allowed = authorize(
                    Some(s),
                    Action::ViewProject,
                    Resource::Project { assigned_orgs: set },
                )
                .is_allowed();
                assert_eq!(scope.admits(set), allowed, "{s:?} {set:?}");
            }
        }
    }

    /// Channels: (studio user, partner A with/without the language enabled, partner B, linguist,
    /// a studio user with internal messages off, the partner who took es-ES over from A) ×
    /// (read, post, attach, download) × (broadcast, vendor channel of A's language, of B's
    /// language, internal). Mention targets, search hits, SSE events and e-mails are all
    /// "read" (the app asks `ReadChannel` for each); edit and delete are "post" plus authorship
    /// (`may_change_message`, tested below).
    #[test]
    fn channel_table() {
        use crate::channels::WorkLanguages;
        use crate::project::{Assignment, Service};
        use crate::values::LanguageTag;
        let studio = OrgId::new();
        let a = OrgId::new();
        let b = OrgId::new();
        let c = OrgId::new();
        let es = LanguageTag::parse("es-ES").unwrap();
        let pt = LanguageTag::parse("pt-BR").unwrap();
        let assignments = [
            Assignment {
                language: es.clone(),
                service: Service::Dubbing,
                org_id: a,
            },
            Assignment {
                language: pt.clone(),
                service: Service::Subtitles,
                org_id: b,
            },
            // B also subtitles es-ES: it shares the language with A, never A's channel.
            Assignment {
                language: es.clone(),
                service: Service::Subtitles,
                org_id: b,
            },
            // C took over es-ES audio description from someone; it is assigned to es-ES too.
            Assignment {
                language: es.clone(),
                service: Service::AudioDescription,
                org_id: c,
            },
        ];
        let pm = subject(studio, OrgKind::Studio, &[PortalUser, Manager]);
        let mut pm_no_internal = pm.clone();
        pm_no_internal.prefs.internal_messages = false;
        let a_user = subject(a, OrgKind::Partner, &[PortalUser]);
        let mut a_other_language = a_user.clone();
        a_other_language.prefs.languages = WorkLanguages::Only(vec![pt.clone()]);
        let b_user = subject(b, OrgKind::Partner, &[PortalUser]);
        let c_user = subject(c, OrgKind::Partner, &[PortalUser]);
        let linguist = subject(a, OrgKind::Partner, &[Author]);
        let outsider = subject(OrgId::new(), OrgKind::Partner, &[PortalUser]);

        let broadcast = ChannelKind::Broadcast;
        let vendor_es_a = ChannelKind::Vendor(es.clone(), a);
        let vendor_pt_b = ChannelKind::Vendor(pt.clone(), b);
        let internal = ChannelKind::Internal;
        use DenyReason::*;
        const A: Option<DenyReason> = None;
        const HIDDEN: [Option<DenyReason>; 4] = [Some(NotVisible); 4];
        const READ_ONLY: [Option<DenyReason>; 4] =
            [A, Some(ReadOnlyChannel), Some(ReadOnlyChannel), A];
        // Each row: who, then [read, post, attach, download] for broadcast, vendor es-ES (A),
        // vendor pt-BR (B), internal.
        type Expected = [[Option<DenyReason>; 4]; 4];
        #[rustfmt::skip]
        let table: Vec<(&str, &Subject, Expected)> = vec![
            ("studio pm", &pm, [[A; 4]; 4]),
            ("studio, internal off", &pm_no_internal, [[A; 4], [A; 4], [A; 4], [Some(InternalMessagesOff); 4]]),
            ("partner A", &a_user, [READ_ONLY, [A; 4], HIDDEN, HIDDEN]),
            ("partner A, es-ES not enabled", &a_other_language, [READ_ONLY, [Some(LanguageNotEnabled); 4], HIDDEN, HIDDEN]),
            ("partner B (also on es-ES)", &b_user, [READ_ONLY, HIDDEN, [A; 4], HIDDEN]),
            ("partner C (es-ES, later)", &c_user, [READ_ONLY, HIDDEN, HIDDEN, HIDDEN]),
            ("linguist", &linguist, [[Some(NoPortalAccess); 4]; 4]),
            ("unassigned partner", &outsider, [HIDDEN; 4]),
        ];
        for (who, s, expected) in table {
            for (ch, kind) in [&broadcast, &vendor_es_a, &vendor_pt_b, &internal]
                .into_iter()
                .enumerate()
            {
                for (i, action) in [
                    Action::ReadChannel,
                    Action::PostInChannel,
                    Action::AttachFile,
                    Action::DownloadAttachment,
                ]
                .into_iter()
                .enumerate()
                {
                    let got = match authorize(
                        Some(s),
                        action,
                        Resource::Channel {
                            kind,
                            assignments: &assignments,
                        },
                    ) {
                        Decision::Allow => None,
                        Decision::Deny(r) => Some(r),
                    };
                    assert_eq!(got, expected[ch][i], "{who} {action:?} {kind:?}");
                }
            }
        }
        // Once A is unassigned from es-ES, its channel is closed to it (the studio keeps it).
        let without_a: Vec<Assignment> = assignments
            .iter()
            .filter(|x| x.org_id != a)
            .cloned()
            .collect();
        for action in [Action::ReadChannel, Action::DownloadAttachment] {
            let res = Resource::Channel {
                kind: &vendor_es_a,
                assignments: &without_a,
            };
            assert_eq!(
                authorize(Some(&a_user), action, res),
                Decision::Deny(NotVisible)
            );
            assert_eq!(authorize(Some(&pm), action, res), Decision::Allow);
        }
    }

    #[test]
    fn only_authors_change_messages_within_the_window() {
        use crate::channels::{DEFAULT_EDIT_WINDOW, Message};
        use crate::ids::{ChannelId, MessageId};
        let author = subject(OrgId::new(), OrgKind::Studio, &[PortalUser]);
        let other = subject(author.org_id, OrgKind::Studio, &[PortalUser]);
        let t0 = time::OffsetDateTime::UNIX_EPOCH;
        let m = Message {
            id: MessageId::new(),
            channel_id: ChannelId::new(),
            seq: 1,
            author: Some(author.user_id),
            body: "hi".into(),
            created_at: t0,
            edited_at: None,
            deleted_at: None,
        };
        let w = DEFAULT_EDIT_WINDOW;
        assert_eq!(
            may_change_message(&author, &m, t0 + time::Duration::minutes(15), w),
            Ok(())
        );
        assert_eq!(
            may_change_message(&author, &m, t0 + time::Duration::minutes(16), w),
            Err(MessageChangeRefusal::WindowClosed { minutes: 15 })
        );
        assert_eq!(
            may_change_message(&other, &m, t0, w),
            Err(MessageChangeRefusal::NotAuthor)
        );
        let robot = Message {
            author: None,
            ..m.clone()
        };
        assert_eq!(
            may_change_message(&author, &robot, t0, w),
            Err(MessageChangeRefusal::NotAuthor)
        );
        let gone = Message {
            deleted_at: Some(t0),
            ..m
        };
        assert_eq!(
            may_change_message(&author, &gone, t0, w),
            Err(MessageChangeRefusal::Deleted)
        );
    }

    #[test]
    fn partners_see_only_their_own_languages() {
        use crate::project::{Assignment, Service};
        use crate::values::LanguageTag;
        let a = OrgId::new();
        let b = OrgId::new();
        let lang = |s: &str| LanguageTag::parse(s).unwrap();
        let targets = [lang("es-ES"), lang("pt-BR"), lang("ja")];
        let assignments = [
            Assignment {
                language: lang("es-ES"),
                service: Service::Dubbing,
                org_id: a,
            },
            Assignment {
                language: lang("es-ES"),
                service: Service::Subtitles,
                org_id: b,
            },
            Assignment {
                language: lang("pt-BR"),
                service: Service::Dubbing,
                org_id: b,
            },
        ];
        let user_a = subject(a, OrgKind::Partner, &[PortalUser]);
        let user_b = subject(b, OrgKind::Partner, &[PortalUser]);
        let studio = subject(OrgId::new(), OrgKind::Studio, &[PortalUser]);
        assert_eq!(
            visible_languages(&user_a, &targets, &assignments),
            vec![lang("es-ES")]
        );
        assert_eq!(
            visible_languages(&user_b, &targets, &assignments),
            vec![lang("es-ES"), lang("pt-BR")]
        );
        assert_eq!(
            visible_languages(&studio, &targets, &assignments),
            targets.to_vec()
        );
    }

    #[test]
    fn partners_see_only_their_own_assignments() {
        let a = OrgId::new();
        let b = OrgId::new();
        let user = subject(a, OrgKind::Partner, &[PortalUser]);
        let items = [(1, a), (2, b), (3, a)];
        let seen: Vec<i32> = visible_assignments(&user, &items, |x| x.1)
            .into_iter()
            .map(|x| x.0)
            .collect();
        assert_eq!(seen, vec![1, 3]);
    }
}
