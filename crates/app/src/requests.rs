//! Requests for script work: order them (one by one or in bulk), assign the steps, run the
//! Author → Proofread → QC workflow with versioned files, track dependencies and readiness,
//! and the dates. Every use case asks `domain::policy::authorize_request`; the workflow is
//! `domain::requests::apply`; this module only runs them, one transaction per action.
//!
//! Nothing here has a path of its own for telling people: the robot posts in the vendor
//! channel (which notifies followers through the outbox rules), assignees get a task e-mail
//! in the same outbox, and open pages hear a `request_changed` event on the vendor channel.

use crate::auth::Authenticated;
use crate::files::Staged;
use crate::{App, AppError, AppResult, FieldErrors};
use domain::events::{EventKind, NewEvent};
use domain::notify::{RequestHappening, task_recipient};
use domain::policy::{RequestAction, RequestFacts, authorize_request};
use domain::requests::{
    Capacity, DependencyFacts, DependencyStatus, Readiness, Reason, RequestKind, RequestState,
    Step, Transition, apply, creates_cycle, is_at_risk, is_overdue, parse_instructions,
};
use domain::{
    Actor, Channel, ChannelKind, EpisodeId, LanguageTag, OrgId, Project, ProjectId, RequestFileId,
    RequestId, Role, UserId,
};
use std::collections::{BTreeMap, BTreeSet};
use store::{
    DependencyRecord, FileSlot, HistoryRecord, NewDependency, RequestFileRecord, RequestRecord,
    Skip, Tx, UserWithOrg,
};
use time::{Date, OffsetDateTime};

/// The most requests one bulk order may create.
pub const MAX_BULK: usize = 2000;

/// Requests to order, as typed in the form or sent to the API.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct NewRequestsInput {
    pub kind: String,
    /// Target languages; ignored for a dialogue list (written in the original language).
    #[serde(default)]
    pub languages: Vec<String>,
    /// Which episodes: "" (the film, or the series as a whole), "all", "S1", "S1E1-S1E4",
    /// "S1E2, S1E5", combined with commas.
    #[serde(default)]
    pub episodes: String,
    pub due_date: String,
    #[serde(default)]
    pub edd: Option<String>,
    #[serde(default)]
    pub instructions: String,
}

/// Which requests a Requests page shows.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct RequestFilter {
    pub kind: Option<String>,
    pub language: Option<String>,
    pub episode: Option<String>,
    /// `author`, `proofread`, `qc` or `done`.
    pub step: Option<String>,
    /// `ready` or `blocked`.
    pub readiness: Option<String>,
    /// An assignee's user id, or `me`, or `none`.
    pub assignee: Option<String>,
    pub overdue: Option<bool>,
    /// `due`, `edd`, `request`, `language` or `status` (ascending; `-` in front: descending).
    /// Default: the order requests were made in.
    #[serde(default)]
    pub sort: Option<String>,
}

/// The sort keys of the Requests table.
pub const SORT_KEYS: [&str; 5] = ["request", "language", "status", "due", "edd"];

/// The state's place in the workflow, for sorting by status.
fn state_rank(s: RequestState) -> usize {
    RequestState::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

/// Sorts rows by `key` (see [`RequestFilter::sort`]); ties keep the order requests were made in.
fn sort_rows(rows: &mut [RequestRow], key: &str) {
    let (desc, key) = match key.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, key),
    };
    match key {
        "due" => rows.sort_by_key(|r| r.record.due_date),
        "edd" => rows.sort_by_key(|r| r.record.edd),
        "language" => {
            rows.sort_by(|a, b| a.record.language.as_str().cmp(b.record.language.as_str()))
        }
        "status" => rows.sort_by_key(|r| state_rank(r.record.state)),
        "request" => {
            rows.sort_by(|a, b| (a.record.kind, &a.episode).cmp(&(b.record.kind, &b.episode)))
        }
        _ => return,
    }
    if desc {
        rows.reverse();
    }
}

/// A dependency as a viewer sees it.
#[derive(Clone, Debug)]
pub struct DependencyView {
    pub id: i64,
    pub kind: RequestKind,
    pub language: Option<LanguageTag>,
    pub status: DependencyStatus,
    /// The request doing that work, when the viewer may open it.
    pub link: Option<RequestId>,
    pub skip: Option<SkipView>,
}

#[derive(Clone, Debug)]
pub struct SkipView {
    pub by: String,
    pub reason: String,
    pub at: OffsetDateTime,
}

/// What the viewer may do with one request.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Can {
    pub assign_linguists: bool,
    pub assign_qc: bool,
    pub manage: bool,
    pub skip: bool,
    pub change_edd: bool,
    pub review: bool,
    /// Steps the viewer may start or submit now.
    pub start: Option<Step>,
    pub submit: Option<Step>,
}

/// One request as one viewer may see it.
#[derive(Clone, Debug)]
pub struct RequestRow {
    pub record: RequestRecord,
    pub project_name: String,
    /// "S1E2", or "" for the film / series as a whole.
    pub episode: String,
    /// The partner doing it, named only to the studio and to that partner.
    pub partner: Option<String>,
    pub assignees: [Option<String>; 3],
    pub readiness: Readiness,
    pub overdue: bool,
    pub at_risk: bool,
    pub can: Can,
}

impl RequestRow {
    /// "Dialogue list · S1E2 · ko".
    pub fn title(&self) -> String {
        let mut s = self.record.kind.label().to_string();
        if !self.episode.is_empty() {
            s.push_str(" · ");
            s.push_str(&self.episode);
        }
        s.push_str(" · ");
        s.push_str(self.record.language.as_str());
        s
    }
}

/// A person who may be given a step.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub id: UserId,
    pub name: String,
    pub step: Step,
}

/// The Requests page of a project.
#[derive(Clone, Debug)]
pub struct RequestsPage {
    pub project: Project,
    pub rows: Vec<RequestRow>,
    /// How many the viewer may see before filtering.
    pub total: usize,
    /// Languages the viewer may order or filter by.
    pub languages: Vec<LanguageTag>,
    /// "S1E1" … in order.
    pub episodes: Vec<(EpisodeId, String)>,
    pub candidates: Vec<Candidate>,
    pub can_create: bool,
    pub can_bulk_edd: bool,
    pub today: Date,
}

/// One request with everything its page shows.
#[derive(Clone, Debug)]
pub struct RequestDetail {
    pub row: RequestRow,
    pub dependencies: Vec<DependencyView>,
    pub files: Vec<RequestFileRecord>,
    pub history: Vec<HistoryLine>,
    pub candidates: Vec<Candidate>,
    /// Other requests of the project this one could depend on (studio managers).
    pub dependency_options: Vec<(RequestId, String)>,
    /// The viewer works on it only as a linguist (no portal access): the task view.
    pub task_only: bool,
}

#[derive(Clone, Debug)]
pub struct HistoryLine {
    pub who: String,
    pub action: String,
    pub detail: String,
    pub reason: Option<String>,
    pub at: OffsetDateTime,
}

/// A step of a request assigned to the viewer: a row of My tasks.
#[derive(Clone, Debug)]
pub struct TaskRow {
    pub row: RequestRow,
    pub step: Step,
    pub due: Date,
    /// It is this step's turn now.
    pub current: bool,
}

/// Open requests of a followed project, as My Projects shows them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OpenRequests {
    pub open: u32,
    pub next_due: Option<Date>,
}

/// A row of My Projects with everything it shows.
#[derive(Clone, Debug)]
pub struct MyProject {
    pub row: crate::projects::ProjectRow,
    pub unread: u32,
    /// The channel and sequence number of the first unread message.
    pub first_unread: Option<(domain::ChannelId, i64)>,
    pub open: OpenRequests,
}

/// The Members page of a project.
#[derive(Clone, Debug)]
pub struct MembersPage {
    pub project: Project,
    /// (name, organisation, follower, script viewer, user id), the viewer's view only.
    pub members: Vec<Member>,
    /// People the viewer may make script viewers.
    pub addable: Vec<(UserId, String)>,
    pub can_manage: bool,
}

#[derive(Clone, Debug)]
pub struct Member {
    pub id: UserId,
    pub name: String,
    pub organisation: String,
    pub follower: bool,
    pub script_viewer: bool,
    pub can_remove: bool,
}

/// A date typed in a form or sent to the API: `YYYY-MM-DD`.
pub fn parse_date(field: &str, s: &str) -> AppResult<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(s.trim(), format).map_err(|_| {
        AppError::invalid(
            field,
            format!("{s:?} is not a date; write it as YYYY-MM-DD, for example 2026-12-18"),
        )
    })
}

/// The partner doing `kind` in `language` on `project` ([`domain::requests::partner_for`]).
fn partner_of(project: &Project, language: &LanguageTag, kind: RequestKind) -> Option<OrgId> {
    domain::requests::partner_for(&project.assignments, language, kind)
}

fn episode_labels(project: &Project) -> Vec<(EpisodeId, String)> {
    project
        .seasons
        .iter()
        .flat_map(|s| {
            s.episodes
                .iter()
                .map(move |e| (e.id, format!("S{}E{}", s.number, e.number)))
        })
        .collect()
}

/// Parses an episode selection ("", "all", "S1", "S1E1-S1E4", "S1E2, S1E5").
pub fn parse_episodes(project: &Project, spec: &str) -> Result<Vec<Option<EpisodeId>>, String> {
    let spec = spec.trim();
    if spec.is_empty() {
        return Ok(vec![None]);
    }
    let labels = episode_labels(project);
    if labels.is_empty() {
        return Err("this title has no episodes; leave the episodes empty".into());
    }
    let position = |code: &str| -> Result<usize, String> {
        labels
            .iter()
            .position(|(_, l)| l.eq_ignore_ascii_case(code.trim()))
            .ok_or_else(|| format!("{:?} is not an episode of this title", code.trim()))
    };
    let mut chosen: Vec<usize> = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if part.eq_ignore_ascii_case("all") {
            chosen.extend(0..labels.len());
        } else if let Some((a, b)) = part.split_once('-') {
            let (a, b) = (position(a)?, position(b)?);
            if a > b {
                return Err(format!("{part:?}: the range goes backwards"));
            }
            chosen.extend(a..=b);
        } else if let Some(season) = part
            .strip_prefix(['S', 's'])
            .and_then(|n| n.parse::<u32>().ok())
        {
            let prefix = format!("S{season}E");
            let before = chosen.len();
            chosen.extend(
                labels
                    .iter()
                    .enumerate()
                    .filter(|(_, (_, l))| l.starts_with(&prefix))
                    .map(|(i, _)| i),
            );
            if chosen.len() == before {
                return Err(format!("season {season} has no episodes"));
            }
        } else {
            chosen.push(position(part)?);
        }
    }
    let mut seen = BTreeSet::new();
    Ok(chosen
        .into_iter()
        .filter(|i| seen.insert(*i))
        .map(|i| Some(labels[i].0))
        .collect())
}

/// Everything a decision about a project's requests needs, loaded once per action.
struct Scope {
    project: Project,
    script_viewer: bool,
    episodes: BTreeMap<EpisodeId, String>,
}

impl Scope {
    async fn load(tx: &mut Box<dyn Tx>, who: &Authenticated, id: ProjectId) -> AppResult<Self> {
        let project = tx.get_project(id).await?.ok_or(AppError::NotFound)?;
        let script_viewer = !who.subject.is_studio()
            && tx
                .script_viewer_projects(who.user.id)
                .await?
                .contains(&project.id);
        let episodes = episode_labels(&project).into_iter().collect();
        Ok(Self {
            project,
            script_viewer,
            episodes,
        })
    }

    fn partner(&self, r: &RequestRecord) -> Option<OrgId> {
        partner_of(&self.project, &r.language, r.kind)
    }

    fn decide(
        &self,
        who: &Authenticated,
        action: RequestAction,
        r: &RequestRecord,
    ) -> domain::Decision {
        authorize_request(
            Some(&who.subject),
            action,
            &RequestFacts {
                kind: r.kind,
                partner: self.partner(r),
                assignees: &r.assignees,
                script_viewer: self.script_viewer,
            },
        )
    }

    /// The facts the request policy needs about `r`.
    fn facts<'a>(&self, r: &'a RequestRecord) -> RequestFacts<'a> {
        RequestFacts {
            kind: r.kind,
            partner: self.partner(r),
            assignees: &r.assignees,
            script_viewer: false,
        }
    }

    fn may(&self, who: &Authenticated, action: RequestAction, r: &RequestRecord) -> bool {
        self.decide(who, action, r).is_allowed()
    }

    fn episode(&self, r: &RequestRecord) -> String {
        r.episode_id
            .and_then(|e| self.episodes.get(&e).cloned())
            .unwrap_or_default()
    }

    /// The channel where the robot speaks about a request and its live events go: the vendor
    /// channel of its language and partner, or Internal while nobody is assigned.
    fn channel_kind(&self, r: &RequestRecord) -> ChannelKind {
        match self.partner(r) {
            Some(p) => ChannelKind::Vendor(r.language.clone(), p),
            None => ChannelKind::Internal,
        }
    }
}

fn capacity(who: &Authenticated, r: &RequestRecord) -> Capacity {
    let s = &who.subject;
    Capacity {
        assigned: Step::ALL.map(|step| r.assignee(step) == Some(s.user_id)),
        studio_manager: s.is_studio() && s.has(Role::PortalUser) && s.has(Role::Manager),
    }
}

fn readiness_of(
    r: &RequestRecord,
    deps: &[DependencyRecord],
    states: &BTreeMap<RequestId, RequestState>,
) -> Readiness {
    let facts: Vec<DependencyFacts> = deps
        .iter()
        .filter(|d| d.request_id == r.id)
        .map(|d| dependency_facts(d, states))
        .collect();
    Readiness::of(&facts)
}

fn dependency_facts(
    d: &DependencyRecord,
    states: &BTreeMap<RequestId, RequestState>,
) -> DependencyFacts {
    let on = d.on_request.filter(|id| states.contains_key(id));
    DependencyFacts {
        on,
        on_done: on
            .and_then(|id| states.get(&id))
            .is_some_and(|s| s.is_done()),
        skipped: d.skip.is_some(),
    }
}

async fn names_of(
    tx: &mut Box<dyn Tx>,
    ids: &[UserId],
) -> AppResult<BTreeMap<UserId, UserWithOrg>> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    Ok(tx
        .get_users(&ids)
        .await?
        .into_iter()
        .map(|u| (u.user.id, u))
        .collect())
}

/// Whether `viewer` may know of `u` ([`domain::policy::knows_org`]): never another partner's
/// people, not even a previous partner's on the same language.
fn knows(viewer: &Authenticated, u: &UserWithOrg) -> bool {
    domain::policy::knows_org(&viewer.subject, u.org.id, u.org.kind)
}

/// A person's name as the viewer may see it: a partner never sees another partner's people.
fn person(viewer: &Authenticated, u: Option<&UserWithOrg>) -> String {
    match u {
        None => "someone".into(),
        Some(u) if knows(viewer, u) => u.user.display_name.to_string(),
        Some(_) => "someone at another organisation".into(),
    }
}

impl App {
    fn today(&self) -> Date {
        self.now().date()
    }

    #[allow(clippy::too_many_arguments)]
    fn row(
        &self,
        who: &Authenticated,
        scope: &Scope,
        r: &RequestRecord,
        deps: &[DependencyRecord],
        states: &BTreeMap<RequestId, RequestState>,
        people: &BTreeMap<UserId, UserWithOrg>,
        orgs: &BTreeMap<OrgId, String>,
    ) -> RequestRow {
        let today = self.today();
        let partner = scope.partner(r);
        let readiness = readiness_of(r, deps, states);
        let cap = capacity(who, r);
        let step = r.state.step();
        let may_work = |s: Step| scope.may(who, RequestAction::WorkOn(s), r);
        let start = step.filter(|s| {
            *s != Step::Qc
                && r.state == RequestState::Todo(*s)
                && may_work(*s)
                && (*s != Step::Author || readiness.is_ready())
        });
        let submit = step
            .filter(|s| *s != Step::Qc && r.state == RequestState::InProgress(*s) && may_work(*s));
        let review = scope.may(who, RequestAction::Review, r) && cap.reviews();
        // Assignees the viewer may not know of (a previous partner's linguists, after the
        // language changed hands) are not shown at all, neither name nor id.
        let known = |u: &UserId| people.get(u).is_some_and(|p| knows(who, p));
        let mut record = r.clone();
        for a in record.assignees.iter_mut() {
            if a.is_some_and(|u| !known(&u)) {
                *a = None;
            }
        }
        RequestRow {
            assignees: Step::ALL.map(|s| record.assignee(s).map(|u| person(who, people.get(&u)))),
            record,
            project_name: scope.project.name.to_string(),
            episode: scope.episode(r),
            partner: partner
                .filter(|p| domain::policy::knows_org(&who.subject, *p, domain::OrgKind::Partner))
                .and_then(|p| orgs.get(&p).cloned()),
            readiness,
            overdue: is_overdue(r.state, r.due_date, today),
            at_risk: is_at_risk(r.state, r.due_date, r.edd),
            can: Can {
                assign_linguists: scope.may(who, RequestAction::Assign(Step::Author), r)
                    && !r.state.is_done(),
                assign_qc: scope.may(who, RequestAction::Assign(Step::Qc), r) && !r.state.is_done(),
                manage: scope.may(who, RequestAction::Manage, r),
                skip: scope.may(who, RequestAction::SkipDependency, r),
                change_edd: scope.may(who, RequestAction::ChangeEdd, r) && !r.state.is_done(),
                review,
                start,
                submit,
            },
        }
    }

    async fn org_names(
        &self,
        tx: &mut Box<dyn Tx>,
        project: &Project,
    ) -> AppResult<BTreeMap<OrgId, String>> {
        let mut out = BTreeMap::new();
        for org in project.assigned_orgs() {
            if let Some(o) = tx.get_org(org).await? {
                out.insert(org, o.name.to_string());
            }
        }
        Ok(out)
    }

    /// Rows of the project's requests that `who` may see.
    async fn visible_rows(
        &self,
        tx: &mut Box<dyn Tx>,
        who: &Authenticated,
        scope: &Scope,
    ) -> AppResult<(
        Vec<RequestRow>,
        Vec<DependencyRecord>,
        BTreeMap<RequestId, RequestState>,
    )> {
        let all = tx.project_requests(scope.project.id).await?;
        let deps = tx.project_dependencies(scope.project.id).await?;
        let states: BTreeMap<RequestId, RequestState> =
            all.iter().map(|r| (r.id, r.state)).collect();
        let visible: Vec<&RequestRecord> = all
            .iter()
            .filter(|r| scope.may(who, RequestAction::View, r))
            .collect();
        let ids: Vec<UserId> = visible
            .iter()
            .flat_map(|r| r.assignees.iter().flatten().copied())
            .collect();
        let people = names_of(tx, &ids).await?;
        let orgs = self.org_names(tx, &scope.project).await?;
        let rows = visible
            .into_iter()
            .map(|r| self.row(who, scope, r, &deps, &states, &people, &orgs))
            .collect();
        Ok((rows, deps, states))
    }

    /// The Requests page of a project: the requests `who` may see, filtered.
    pub async fn project_requests(
        &self,
        who: &Authenticated,
        project_id: ProjectId,
        filter: &RequestFilter,
    ) -> AppResult<RequestsPage> {
        who.subject
            .has(Role::PortalUser)
            .then_some(())
            .ok_or(AppError::Denied(domain::DenyReason::NoPortalAccess))?;
        let mut tx = self.store.read().await?;
        let scope = Scope::load(&mut tx, who, project_id).await?;
        crate::projects::may_view(who, &scope.project)?;
        let (rows, _, _) = self.visible_rows(&mut tx, who, &scope).await?;
        let total = rows.len();
        let rows = apply_filter(who, rows, filter);
        let languages = languages_for(who, &scope.project);
        let candidates = self.candidates(&mut tx, who, &scope.project).await?;
        let can_create = domain::policy::may_order_requests(&who.subject).is_allowed();
        let can_bulk_edd = rows.iter().any(|r| r.can.change_edd);
        let episodes = episode_labels(&scope.project);
        Ok(RequestsPage {
            project: scope.project,
            rows,
            total,
            languages,
            episodes,
            candidates,
            can_create,
            can_bulk_edd,
            today: self.today(),
        })
    }

    /// People `who` may give steps to on this project: a partner's own linguists (by role);
    /// for the studio, its QC reviewers (studio portal users).
    async fn candidates(
        &self,
        tx: &mut Box<dyn Tx>,
        who: &Authenticated,
        project: &Project,
    ) -> AppResult<Vec<Candidate>> {
        let s = &who.subject;
        if !s.has(Role::PortalUser) {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        if s.is_studio() {
            if s.has(Role::Manager) {
                for u in tx.users_of_orgs(&[who.org.id]).await? {
                    if !u.user.disabled && u.user.roles.contains(Role::PortalUser) {
                        out.push(Candidate {
                            id: u.user.id,
                            name: u.user.display_name.to_string(),
                            step: Step::Qc,
                        });
                    }
                }
            }
        } else if project.assigned_orgs().contains(&who.org.id) {
            for u in tx.users_of_orgs(&[who.org.id]).await? {
                if u.user.disabled {
                    continue;
                }
                for step in [Step::Author, Step::Proofread] {
                    if step
                        .linguist_role()
                        .is_some_and(|r| u.user.roles.contains(r))
                    {
                        out.push(Candidate {
                            id: u.user.id,
                            name: u.user.display_name.to_string(),
                            step,
                        });
                    }
                }
            }
        }
        out.sort_by(|a, b| (a.step, &a.name).cmp(&(b.step, &b.name)));
        Ok(out)
    }

    /// Orders requests: one per (episode, language) of the selection. Refused as a whole when
    /// any language has no partner for the kind's service, or the same work is already open.
    pub async fn create_requests(
        &self,
        who: &Authenticated,
        project_id: ProjectId,
        input: &NewRequestsInput,
        reference: Vec<Staged>,
    ) -> AppResult<Vec<RequestId>> {
        let mut tx = self.store.begin().await?;
        tx.lock_project_requests(project_id).await?;
        let scope = Scope::load(&mut tx, who, project_id).await?;
        crate::projects::may_view(who, &scope.project)?;
        domain::policy::may_order_requests(&who.subject).check()?;
        let project = &scope.project;
        let mut errors = FieldErrors::new();
        let kind = errors.take("kind", input.kind.parse::<RequestKind>());
        let today = self.today();
        let due = match parse_date("due_date", &input.due_date) {
            Ok(d) if d < today => {
                errors.add(
                    "due_date",
                    format!("{d} is in the past; choose today or later"),
                );
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                if let Some(f) = e.field_errors() {
                    errors.0.extend(f.0.clone());
                }
                None
            }
        };
        let edd = match input
            .edd
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => due,
            Some(s) => match parse_date("edd", s) {
                Ok(d) => Some(d),
                Err(e) => {
                    if let Some(f) = e.field_errors() {
                        errors.0.extend(f.0.clone());
                    }
                    None
                }
            },
        };
        let instructions = errors
            .take("instructions", parse_instructions(&input.instructions))
            .unwrap_or_default();
        let episodes = match parse_episodes(project, &input.episodes) {
            Ok(e) => e,
            Err(m) => {
                errors.add("episodes", m);
                Vec::new()
            }
        };
        let mut languages: Vec<LanguageTag> = Vec::new();
        if let Some(kind) = kind {
            if kind.in_original_language() {
                languages.push(project.original_language.clone());
            } else {
                for l in &input.languages {
                    if l.trim().eq_ignore_ascii_case("all") {
                        for t in &project.target_languages {
                            if partner_of(project, t, kind).is_some() && !languages.contains(t) {
                                languages.push(t.clone());
                            }
                        }
                        continue;
                    }
                    match LanguageTag::parse(l) {
                        Ok(t) if !project.target_languages.contains(&t) => errors.add(
                            "languages",
                            format!("{t} is not a target language of this title"),
                        ),
                        Ok(t) => {
                            if !languages.contains(&t) {
                                languages.push(t);
                            }
                        }
                        Err(e) => errors.add("languages", e.0),
                    }
                }
                if languages.is_empty() && errors.get("languages").is_none() {
                    errors.add("languages", "choose at least one target language");
                }
            }
            let orphans: Vec<String> = languages
                .iter()
                .filter(|l| partner_of(project, l, kind).is_none())
                .map(|l| l.to_string())
                .collect();
            if !orphans.is_empty() {
                errors.add(
                    "languages",
                    format!(
                        "no partner is assigned to {} for {} on this title; assign one on the project's edit page first",
                        kind.service().label().to_lowercase(),
                        orphans.join(", ")
                    ),
                );
            }
        }
        errors.into_result()?;
        let (Some(kind), Some(due), Some(edd)) = (kind, due, edd) else {
            return Err(AppError::invalid("kind", "choose what to request"));
        };
        if episodes.len() * languages.len() > MAX_BULK {
            return Err(AppError::invalid(
                "episodes",
                format!("at most {MAX_BULK} requests at once; order fewer episodes or languages"),
            ));
        }
        let mut existing = tx.project_requests(project_id).await?;
        let mut deps = tx.project_dependencies(project_id).await?;
        let mut clashes = Vec::new();
        for e in &episodes {
            for l in &languages {
                if let Some(r) = existing.iter().find(|r| {
                    r.kind == kind && r.episode_id == *e && &r.language == l && !r.state.is_done()
                }) {
                    clashes.push(format!("{} {}", scope.episode(r), l).trim().to_string());
                }
            }
        }
        if !clashes.is_empty() {
            return Err(AppError::conflict(
                "kind",
                format!(
                    "{} is already requested and not done for: {}",
                    kind.label(),
                    clashes.join(", ")
                ),
            ));
        }
        let now = self.now();
        let original_is_english = project.original_language.as_str().starts_with("en");
        let mut created = Vec::new();
        let mut per_channel: BTreeMap<String, (ChannelKind, Vec<String>)> = BTreeMap::new();
        for e in &episodes {
            for l in &languages {
                let r = RequestRecord {
                    id: RequestId::new(),
                    project_id,
                    episode_id: *e,
                    kind,
                    language: l.clone(),
                    instructions: instructions.clone(),
                    due_date: due,
                    edd,
                    state: RequestState::Todo(Step::Author),
                    retakes: 0,
                    assignees: [None; 3],
                    step_due: [None; 3],
                    created_by: Some(who.user.id),
                    created_at: now,
                    updated_at: now,
                };
                tx.insert_request(&r).await?;
                // What this request waits for.
                for target in kind.default_dependencies(original_is_english) {
                    let on = existing
                        .iter()
                        .filter(|o| {
                            o.episode_id == r.episode_id
                                && target.matches(
                                    o.kind,
                                    &o.language,
                                    &r.language,
                                    &project.original_language,
                                )
                        })
                        .max_by_key(|o| o.created_at)
                        .map(|o| o.id);
                    let on_language = match target.language {
                        domain::requests::LanguageRule::Original => {
                            Some(project.original_language.clone())
                        }
                        domain::requests::LanguageRule::Same => Some(r.language.clone()),
                        domain::requests::LanguageRule::Any => None,
                    };
                    tx.insert_dependency(&NewDependency {
                        request_id: r.id,
                        on_kind: target.kind,
                        on_language,
                        on_request: on,
                    })
                    .await?;
                }
                // Work that others were waiting for, never ordered until now.
                let dependant_episode: BTreeMap<RequestId, Option<EpisodeId>> =
                    existing.iter().map(|o| (o.id, o.episode_id)).collect();
                for d in deps.iter_mut() {
                    let same_episode = dependant_episode.get(&d.request_id) == Some(&r.episode_id);
                    if d.on_request.is_none()
                        && same_episode
                        && d.on_kind == r.kind
                        && d.on_language.as_ref().is_none_or(|l| *l == r.language)
                    {
                        tx.set_dependency_target(d.id, Some(r.id)).await?;
                        d.on_request = Some(r.id);
                    }
                }
                tx.insert_request_history(&HistoryRecord {
                    request_id: r.id,
                    actor: Some(who.user.id),
                    action: "created".into(),
                    detail: format!("ordered, due {due}"),
                    reason: None,
                    at: now,
                })
                .await?;
                let ck = scope.channel_kind(&r);
                per_channel
                    .entry(format!("{ck:?}"))
                    .or_insert_with(|| (ck, Vec::new()))
                    .1
                    .push(scope.episode(&r));
                existing.push(r.clone());
                created.push(r);
            }
        }
        // Reference files: kept once, listed on every request of the order.
        let mut reference = reference;
        let mut keys = Vec::with_capacity(reference.len());
        for (i, f) in reference.iter().enumerate() {
            let key = format!("requests/{}", RequestFileId::new());
            for r in &created {
                tx.insert_request_file(&RequestFileRecord {
                    id: RequestFileId::new(),
                    request_id: r.id,
                    slot: FileSlot::Reference,
                    version: u32::try_from(i + 1).unwrap_or(u32::MAX),
                    name: f.name.to_string(),
                    file_type: f.name.file_type().extension().to_string(),
                    size: f.size,
                    sha256: f.sha256.clone(),
                    storage_key: key.clone(),
                    uploaded_by: Some(who.user.id),
                    created_at: now,
                })
                .await?;
            }
            keys.push(key);
        }
        for (_, (ck, episodes)) in per_channel {
            let what = describe_batch(kind, &episodes);
            let text = format!(
                "New request: {what} ({}), due {due}.{}",
                match &ck {
                    ChannelKind::Vendor(l, _) => l.to_string(),
                    _ => project.original_language.to_string(),
                },
                if instructions.is_empty() {
                    String::new()
                } else {
                    " Instructions are on the request.".into()
                }
            );
            self.robot_and_event(&mut tx, project, &ck, Some(&text))
                .await?;
        }
        self.keep_and_commit(tx, reference.iter_mut().zip(keys).collect())
            .await?;
        self.events.kick();
        Ok(created.into_iter().map(|r| r.id).collect())
    }

    /// Posts the robot's words (if any) in the request's channel and records a
    /// `request_changed` event there, inside the caller's transaction.
    async fn robot_and_event(
        &self,
        tx: &mut Box<dyn Tx>,
        project: &Project,
        kind: &ChannelKind,
        text: Option<&str>,
    ) -> AppResult<()> {
        let channels = tx.list_channels(project.id).await?;
        let Some(channel) = channels.into_iter().find(|c| &c.kind == kind) else {
            return Ok(());
        };
        if let Some(text) = text {
            self.post_as_robot(tx, &channel, &project.assignments, text)
                .await?;
        }
        tx.append_event(&request_event(&channel), self.now())
            .await?;
        Ok(())
    }

    /// One request with its dependencies, files and history, as `who` may see it.
    pub async fn view_request(
        &self,
        who: &Authenticated,
        id: RequestId,
    ) -> AppResult<RequestDetail> {
        let mut tx = self.store.read().await?;
        let r = tx.get_request(id).await?.ok_or(AppError::NotFound)?;
        let scope = Scope::load(&mut tx, who, r.project_id).await?;
        scope.decide(who, RequestAction::View, &r).check()?;
        let (rows, deps, states) = self.visible_rows(&mut tx, who, &scope).await?;
        let row = rows
            .iter()
            .find(|x| x.record.id == id)
            .cloned()
            .ok_or(AppError::NotFound)?;
        let visible: BTreeSet<RequestId> = rows.iter().map(|x| x.record.id).collect();
        let task_only = !who.subject.has(Role::PortalUser);
        let mut row = row;
        if task_only {
            only_own_steps(&mut row, who.user.id);
        }
        let mut people_ids: Vec<UserId> = Vec::new();
        let history = tx.request_history(id).await?;
        people_ids.extend(history.iter().filter_map(|h| h.actor));
        let my_deps: Vec<&DependencyRecord> = deps.iter().filter(|d| d.request_id == id).collect();
        people_ids.extend(
            my_deps
                .iter()
                .filter_map(|d| d.skip.as_ref().and_then(|s| s.by)),
        );
        let files = tx.request_files(id).await?;
        people_ids.extend(files.iter().filter_map(|f| f.uploaded_by));
        let people = names_of(&mut tx, &people_ids).await?;
        let dependencies = my_deps
            .iter()
            .map(|d| DependencyView {
                id: d.id,
                kind: d.on_kind,
                language: d.on_language.clone(),
                status: DependencyStatus::of(&dependency_facts(d, &states)),
                link: d.on_request.filter(|o| visible.contains(o) && !task_only),
                skip: d.skip.as_ref().map(|s| SkipView {
                    by: s
                        .by
                        .map_or("the operator".into(), |u| person(who, people.get(&u))),
                    reason: s.reason.clone(),
                    at: s.at,
                }),
            })
            .collect();
        // A linguist sees the reference files and the work handed to them; a script viewer
        // only the approved as-recorded script; nobody a previous partner's files.
        let latest = latest_proofread(&files);
        let files = files
            .into_iter()
            .filter(|f| {
                let uploader = f.uploaded_by.and_then(|u| people.get(&u));
                file_visible(who, &scope, &r, f, uploader, latest)
            })
            .collect();
        let history = if task_only {
            Vec::new()
        } else {
            history
                .into_iter()
                // Lines written by people the viewer may not know of (a previous partner's) are
                // theirs: left out.
                .filter(|h| {
                    h.actor
                        .is_none_or(|u| people.get(&u).is_some_and(|p| knows(who, p)))
                })
                .map(|h| HistoryLine {
                    who: h
                        .actor
                        .map_or("locportal".into(), |u| person(who, people.get(&u))),
                    action: h.action,
                    detail: h.detail,
                    reason: h.reason,
                    at: h.at,
                })
                .collect()
        };
        let candidates = self.candidates(&mut tx, who, &scope.project).await?;
        let dependency_options = if row.can.skip {
            rows.iter()
                .filter(|x| {
                    x.record.id != id && !my_deps.iter().any(|d| d.on_request == Some(x.record.id))
                })
                .map(|x| (x.record.id, x.title()))
                .collect()
        } else {
            Vec::new()
        };
        Ok(RequestDetail {
            row,
            dependencies,
            files,
            history,
            candidates,
            dependency_options,
            task_only,
        })
    }

    /// Loads a request for a change in one write transaction, with the decision already made.
    async fn load_for(
        &self,
        tx: &mut Box<dyn Tx>,
        who: &Authenticated,
        id: RequestId,
        action: RequestAction,
    ) -> AppResult<(RequestRecord, Scope)> {
        let project = tx
            .get_request(id)
            .await?
            .ok_or(AppError::NotFound)?
            .project_id;
        tx.lock_project_requests(project).await?;
        // Read again under the lock: what is decided on is what is written over.
        let r = tx.get_request(id).await?.ok_or(AppError::NotFound)?;
        let scope = Scope::load(tx, who, r.project_id).await?;
        scope.decide(who, action, &r).check()?;
        Ok((r, scope))
    }

    /// Gives a step to someone (or nobody), with an optional due date for the step. Partners
    /// give Author and Proofread to their own linguists; the studio gives QC to its reviewers.
    pub async fn assign_step(
        &self,
        who: &Authenticated,
        ids: &[RequestId],
        step: Step,
        assignee: Option<UserId>,
        due: Option<Date>,
    ) -> AppResult<u32> {
        let ids = distinct(ids)?;
        let mut tx = self.store.begin().await?;
        // Looked up now, judged only once the caller may assign (so nothing about a person is
        // told to someone who may not assign at all).
        let assignee_user = match assignee {
            Some(u) => tx.get_user(u).await?,
            None => None,
        };
        let now = self.now();
        let mut mails = Vec::new();
        let mut touched: BTreeMap<String, (Project, ChannelKind)> = BTreeMap::new();
        for id in &ids {
            let (mut r, scope) = self
                .load_for(&mut tx, who, *id, RequestAction::Assign(step))
                .await?;
            if assignee.is_some() && assignee_user.is_none() {
                return Err(AppError::invalid("assignee", "pick a person from the list"));
            }
            if r.state.is_done() {
                return Err(AppError::conflict(
                    "requests",
                    format!(
                        "{} is done; return it before reassigning",
                        scope.episode(&r)
                    ),
                ));
            }
            if let Some(u) = &assignee_user {
                check_assignee(&scope, &r, step, u)?;
            }
            let before = r.assignee(step);
            r.assignees[step.index()] = assignee;
            if due.is_some() {
                r.step_due[step.index()] = due;
            }
            r.updated_at = now;
            tx.update_request(&r).await?;
            let name = assignee_user
                .as_ref()
                .map_or("nobody".to_string(), |u| u.user.display_name.to_string());
            tx.insert_request_history(&HistoryRecord {
                request_id: r.id,
                actor: Some(who.user.id),
                action: "assigned".into(),
                detail: format!("{} → {name}", step.label()),
                reason: None,
                at: now,
            })
            .await?;
            if let Some(u) = &assignee_user
                && before != assignee
                && task_recipient(
                    RequestHappening::Assigned(step),
                    who.user.id,
                    Some(&crate::auth::subject_of(u)),
                    &scope.facts(&r),
                )
                .is_some()
            {
                mails.push((
                    u.clone(),
                    r.clone(),
                    step,
                    scope.project.clone(),
                    scope.episode(&r),
                    false,
                ));
            }
            let ck = scope.channel_kind(&r);
            touched.insert(
                format!("{}{ck:?}", scope.project.id),
                (scope.project.clone(), ck),
            );
        }
        for (u, r, step, project, episode, _) in &mails {
            self.queue_task_mail(
                &mut tx,
                u,
                r,
                *step,
                project,
                episode,
                "A task was assigned to you",
                "",
            )
            .await?;
        }
        for (_, (project, ck)) in touched {
            self.robot_and_event(&mut tx, &project, &ck, None).await?;
        }
        tx.commit().await?;
        self.events.kick();
        if !mails.is_empty() {
            self.mail_wake.notify_one();
        }
        Ok(u32::try_from(ids.len()).unwrap_or(u32::MAX))
    }

    /// Writes a task e-mail into the outbox, in the caller's transaction.
    #[allow(clippy::too_many_arguments)]
    async fn queue_task_mail(
        &self,
        tx: &mut Box<dyn Tx>,
        to: &UserWithOrg,
        r: &RequestRecord,
        step: Step,
        project: &Project,
        episode: &str,
        headline: &str,
        note: &str,
    ) -> AppResult<()> {
        if to.user.disabled {
            return Ok(());
        }
        let base = self.config.mail.public_url.trim_end_matches('/');
        let mut what = r.kind.label().to_string();
        if !episode.is_empty() {
            what.push(' ');
            what.push_str(episode);
        }
        what.push_str(&format!(" ({})", r.language));
        let rendered = crate::mail::render::render_task(
            headline,
            project.name.as_str(),
            &what,
            step.label(),
            &r.step_due(step).to_string(),
            note,
            &format!("{base}/tasks/{}", r.id),
            &format!("{base}/tasks"),
        )
        .map_err(|e| AppError::Internal(format!("rendering a task e-mail: {e}")))?;
        let now = self.now();
        tx.insert_email(&store::EmailRecord {
            id: domain::EmailId::new(),
            user_id: to.user.id,
            to_address: to.user.email.to_string(),
            subject: rendered.subject,
            body_text: rendered.text,
            body_html: rendered.html,
            channel_id: None,
            message_count: 0,
            state: store::EmailState::Pending,
            attempts: 0,
            next_attempt_at: now,
            last_error: None,
            created_at: now,
            sent_at: None,
        })
        .await?;
        Ok(())
    }

    /// Runs one workflow transition: start, submit (with the step's file), approve, return
    /// (with a reason).
    pub async fn transition(
        &self,
        who: &Authenticated,
        id: RequestId,
        transition: Transition,
        reason: Option<&str>,
        file: Option<Staged>,
    ) -> AppResult<RequestRecord> {
        let action = match transition {
            Transition::Start(Step::Qc) | Transition::Approve | Transition::Return(_) => {
                RequestAction::Review
            }
            Transition::Start(s) | Transition::Submit(s) => RequestAction::WorkOn(s),
        };
        let mut tx = self.store.begin().await?;
        let (mut r, scope) = self.load_for(&mut tx, who, id, action).await?;
        let reason = match transition {
            Transition::Return(_) => Some(
                Reason::parse(reason.unwrap_or_default())
                    .map_err(|e| AppError::invalid("reason", e.0))?,
            ),
            _ => None,
        };
        if transition == Transition::Start(Step::Author) {
            let deps = tx.project_dependencies(r.project_id).await?;
            let states: BTreeMap<RequestId, RequestState> = tx
                .project_requests(r.project_id)
                .await?
                .iter()
                .map(|x| (x.id, x.state))
                .collect();
            let readiness = readiness_of(&r, &deps, &states);
            if !readiness.is_ready() {
                return Err(AppError::conflict(
                    "state",
                    format!(
                        "this request is not ready ({}): what it depends on must be done or skipped by the studio first",
                        readiness.label()
                    ),
                ));
            }
        }
        let next = apply(r.state, transition, &capacity(who, &r))
            .map_err(|e| AppError::conflict("state", e.to_string()))?;
        if matches!(transition, Transition::Submit(_)) && file.is_none() {
            return Err(AppError::invalid(
                "file",
                "attach your work (DOCX, XLSX, PDF, TXT, SRT, TTML, CSV or TTAL) to submit the step",
            ));
        }
        let now = self.now();
        let before = r.state;
        r.state = next;
        if matches!(transition, Transition::Return(_)) {
            r.retakes += 1;
        }
        r.updated_at = now;
        tx.update_request(&r).await?;
        let mut detail = format!("{} → {}", before.label(), next.label());
        let mut kept: Option<(String, Staged)> = None;
        if let (Transition::Submit(step), Some(f)) = (transition, file) {
            let files = tx.request_files(id).await?;
            let version = 1 + u32::try_from(
                files
                    .iter()
                    .filter(|x| x.slot == FileSlot::Work(step))
                    .count(),
            )
            .unwrap_or(u32::MAX - 1);
            let file_id = RequestFileId::new();
            let key = format!("requests/{file_id}");
            tx.insert_request_file(&RequestFileRecord {
                id: file_id,
                request_id: id,
                slot: FileSlot::Work(step),
                version,
                name: f.name.to_string(),
                file_type: f.name.file_type().extension().to_string(),
                size: f.size,
                sha256: f.sha256.clone(),
                storage_key: key.clone(),
                uploaded_by: Some(who.user.id),
                created_at: now,
            })
            .await?;
            detail.push_str(&format!(" · {} v{version}", f.name));
            kept = Some((key, f));
        }
        tx.insert_request_history(&HistoryRecord {
            request_id: id,
            actor: Some(who.user.id),
            action: match transition {
                Transition::Start(_) => "started",
                Transition::Submit(_) => "submitted",
                Transition::Approve => "approved",
                Transition::Return(_) => "returned",
            }
            .into(),
            detail,
            reason: reason.as_ref().map(|r| r.as_str().to_string()),
            at: now,
        })
        .await?;
        let label = format!(
            "{}{} ({})",
            r.kind.label(),
            if scope.episode(&r).is_empty() {
                String::new()
            } else {
                format!(" {}", scope.episode(&r))
            },
            r.language
        );
        let robot = match (transition, &reason) {
            (Transition::Approve, _) => Some(format!("Approved by QC: {label}.")),
            (Transition::Return(to), Some(why)) => Some(format!(
                "Returned to {}: {label} (retake {}). Reason: {}",
                to.label(),
                r.retakes,
                why.as_str()
            )),
            _ => None,
        };
        // Tell whoever's turn it is now.
        let mut mailed = false;
        let happening = |step| match transition {
            Transition::Return(_) => RequestHappening::Returned(step),
            _ => RequestHappening::StepReady(step),
        };
        if let RequestState::Todo(step) = next
            && let Some(u) = r.assignee(step)
            && let Some(user) = tx.get_user(u).await?
            && !user.user.disabled
            && task_recipient(
                happening(step),
                who.user.id,
                Some(&crate::auth::subject_of(&user)),
                &scope.facts(&r),
            )
            .is_some()
        {
            let (headline, note) = match (&reason, step) {
                (Some(why), _) => (
                    "A task came back to you",
                    format!("Reason: {}", why.as_str()),
                ),
                (None, Step::Qc) => ("Ready for QC", String::new()),
                (None, _) => ("Your step is ready", String::new()),
            };
            self.queue_task_mail(
                &mut tx,
                &user,
                &r,
                step,
                &scope.project,
                &scope.episode(&r),
                headline,
                &note,
            )
            .await?;
            mailed = true;
        }
        let ck = scope.channel_kind(&r);
        self.robot_and_event(&mut tx, &scope.project, &ck, robot.as_deref())
            .await?;
        // Dependants in other channels change readiness when this one is done or reopened.
        if next.is_done() != before.is_done() {
            self.announce_dependants(&mut tx, &scope, id, &ck).await?;
        }
        let files = kept
            .as_mut()
            .map(|(key, f)| vec![(f, key.clone())])
            .unwrap_or_default();
        self.keep_and_commit(tx, files).await?;
        self.events.kick();
        if mailed {
            self.mail_wake.notify_one();
        }
        Ok(r)
    }

    /// Live events for the channels of requests that depend on `id` (their readiness moved).
    async fn announce_dependants(
        &self,
        tx: &mut Box<dyn Tx>,
        scope: &Scope,
        id: RequestId,
        already: &ChannelKind,
    ) -> AppResult<()> {
        let deps = tx.project_dependencies(scope.project.id).await?;
        let dependants: BTreeSet<RequestId> = deps
            .iter()
            .filter(|d| d.on_request == Some(id))
            .map(|d| d.request_id)
            .collect();
        if dependants.is_empty() {
            return Ok(());
        }
        let mut kinds: Vec<ChannelKind> = Vec::new();
        for r in tx.project_requests(scope.project.id).await? {
            if dependants.contains(&r.id) {
                let k = scope.channel_kind(&r);
                if &k != already && !kinds.contains(&k) {
                    kinds.push(k);
                }
            }
        }
        for k in kinds {
            self.robot_and_event(tx, &scope.project, &k, None).await?;
        }
        Ok(())
    }

    /// Changes the estimated delivery date of requests (the partner's), with one reason for all.
    pub async fn change_edd(
        &self,
        who: &Authenticated,
        ids: &[RequestId],
        edd: Date,
        reason: &str,
    ) -> AppResult<u32> {
        let reason = Reason::parse(reason).map_err(|e| AppError::invalid("reason", e.0))?;
        self.change_dates(who, ids, RequestAction::ChangeEdd, edd, Some(reason))
            .await
    }

    /// Changes the due date of requests (the studio's); a reason is optional.
    pub async fn change_due_date(
        &self,
        who: &Authenticated,
        ids: &[RequestId],
        due: Date,
        reason: &str,
    ) -> AppResult<u32> {
        let reason = (!reason.trim().is_empty())
            .then(|| Reason::parse(reason))
            .transpose()
            .map_err(|e| AppError::invalid("reason", e.0))?;
        self.change_dates(who, ids, RequestAction::Manage, due, reason)
            .await
    }

    async fn change_dates(
        &self,
        who: &Authenticated,
        ids: &[RequestId],
        action: RequestAction,
        date: Date,
        reason: Option<Reason>,
    ) -> AppResult<u32> {
        let ids = distinct(ids)?;
        let edd = action == RequestAction::ChangeEdd;
        if date < self.today() {
            return Err(AppError::invalid(
                if edd { "edd" } else { "due_date" },
                format!("{date} is in the past; choose today or later"),
            ));
        }
        let mut tx = self.store.begin().await?;
        let now = self.now();
        let mut scopes: BTreeMap<ProjectId, Scope> = BTreeMap::new();
        let mut by_channel: BTreeMap<(ProjectId, String), (ChannelKind, Vec<String>)> =
            BTreeMap::new();
        let mut changed = 0;
        for id in &ids {
            let project = tx
                .get_request(*id)
                .await?
                .ok_or(AppError::NotFound)?
                .project_id;
            if let std::collections::btree_map::Entry::Vacant(e) = scopes.entry(project) {
                tx.lock_project_requests(project).await?;
                e.insert(Scope::load(&mut tx, who, project).await?);
            }
            let r = tx.get_request(*id).await?.ok_or(AppError::NotFound)?;
            let Some(scope) = scopes.get(&r.project_id) else {
                return Err(AppError::NotFound);
            };
            scope.decide(who, action, &r).check()?;
            let mut r = r;
            if edd && r.state.is_done() {
                return Err(AppError::conflict(
                    "requests",
                    format!(
                        "{} is done: its delivery date no longer changes",
                        r.kind.label()
                    ),
                ));
            }
            let old = if edd { r.edd } else { r.due_date };
            if old == date {
                continue;
            }
            if edd {
                r.edd = date;
            } else {
                r.due_date = date;
            }
            r.updated_at = now;
            tx.update_request(&r).await?;
            tx.insert_request_history(&HistoryRecord {
                request_id: r.id,
                actor: Some(who.user.id),
                action: if edd { "edd_changed" } else { "due_changed" }.into(),
                detail: format!("{} {old} → {date}", if edd { "EDD" } else { "Due date" }),
                reason: reason.as_ref().map(|x| x.as_str().to_string()),
                at: now,
            })
            .await?;
            let ck = scope.channel_kind(&r);
            by_channel
                .entry((r.project_id, format!("{ck:?}")))
                .or_insert_with(|| (ck, Vec::new()))
                .1
                .push(format!("{}{}", r.kind.short(), {
                    let e = scope.episode(&r);
                    if e.is_empty() {
                        String::new()
                    } else {
                        format!(" {e}")
                    }
                }));
            changed += 1;
        }
        for ((project_id, _), (ck, items)) in by_channel {
            let Some(scope) = scopes.get(&project_id) else {
                continue;
            };
            let list = if items.len() > 6 {
                format!("{} and {} more", items[..5].join(", "), items.len() - 5)
            } else {
                items.join(", ")
            };
            let text = if edd {
                format!(
                    "Estimated delivery moved to {date} for {} request(s): {list}. Reason: {}",
                    items.len(),
                    reason.as_ref().map_or("", |r| r.as_str())
                )
            } else {
                format!(
                    "Due date moved to {date} for {} request(s): {list}.",
                    items.len()
                )
            };
            self.robot_and_event(&mut tx, &scope.project, &ck, Some(&text))
                .await?;
        }
        tx.commit().await?;
        self.events.kick();
        Ok(changed)
    }

    /// Skips a dependency with a reason (studio managers); the skip is kept and shown.
    pub async fn skip_dependency(
        &self,
        who: &Authenticated,
        request: RequestId,
        dependency: i64,
        reason: &str,
    ) -> AppResult<()> {
        let reason = Reason::parse(reason).map_err(|e| AppError::invalid("reason", e.0))?;
        let mut tx = self.store.begin().await?;
        let (r, scope) = self
            .load_for(&mut tx, who, request, RequestAction::SkipDependency)
            .await?;
        let deps = tx.project_dependencies(r.project_id).await?;
        let d = deps
            .iter()
            .find(|d| d.id == dependency && d.request_id == request)
            .ok_or(AppError::NotFound)?;
        let now = self.now();
        tx.set_dependency_skip(
            d.id,
            Some(&Skip {
                by: Some(who.user.id),
                reason: reason.as_str().to_string(),
                at: now,
            }),
        )
        .await?;
        let detail = format!(
            "{}{} skipped",
            d.on_kind.label(),
            d.on_language
                .as_ref()
                .map_or(String::new(), |l| format!(" ({l})"))
        );
        self.record_quietly(
            tx,
            who,
            &r,
            &scope,
            "dependency_skipped",
            detail,
            Some(reason.as_str().to_string()),
        )
        .await
    }

    /// Ends a change that the channel hears of without words from the robot: a history line,
    /// the live event, the commit.
    #[allow(clippy::too_many_arguments)]
    async fn record_quietly(
        &self,
        mut tx: Box<dyn Tx>,
        who: &Authenticated,
        r: &RequestRecord,
        scope: &Scope,
        action: &str,
        detail: String,
        reason: Option<String>,
    ) -> AppResult<()> {
        tx.insert_request_history(&HistoryRecord {
            request_id: r.id,
            actor: Some(who.user.id),
            action: action.into(),
            detail,
            reason,
            at: self.now(),
        })
        .await?;
        let ck = scope.channel_kind(r);
        self.robot_and_event(&mut tx, &scope.project, &ck, None)
            .await?;
        tx.commit().await?;
        self.events.kick();
        Ok(())
    }

    /// Adds "`request` depends on `on`" (studio managers); a cycle is refused.
    pub async fn add_dependency(
        &self,
        who: &Authenticated,
        request: RequestId,
        on: RequestId,
    ) -> AppResult<()> {
        let mut tx = self.store.begin().await?;
        let (r, scope) = self
            .load_for(&mut tx, who, request, RequestAction::SkipDependency)
            .await?;
        let target = tx
            .get_request(on)
            .await?
            .ok_or_else(|| AppError::invalid("on", "no such request"))?;
        if target.project_id != r.project_id {
            return Err(AppError::invalid(
                "on",
                "a request depends only on work of the same title",
            ));
        }
        let deps = tx.project_dependencies(r.project_id).await?;
        if deps
            .iter()
            .any(|d| d.request_id == request && d.on_request == Some(on))
        {
            return Err(AppError::conflict("on", "this dependency exists already"));
        }
        let edges: Vec<(RequestId, RequestId)> = deps
            .iter()
            .filter_map(|d| d.on_request.map(|o| (d.request_id, o)))
            .collect();
        if creates_cycle(&edges, request, on) {
            return Err(AppError::invalid(
                "on",
                format!(
                    "{} already waits for this request (directly or through others); a request cannot wait for itself",
                    target.kind.label()
                ),
            ));
        }
        tx.insert_dependency(&NewDependency {
            request_id: request,
            on_kind: target.kind,
            on_language: Some(target.language.clone()),
            on_request: Some(on),
        })
        .await?;
        let detail = format!(
            "waits for {} ({}) {}",
            target.kind.label(),
            target.language,
            scope.episode(&target)
        );
        self.record_quietly(tx, who, &r, &scope, "dependency_added", detail, None)
            .await
    }

    /// Removes a dependency (studio managers).
    pub async fn remove_dependency(
        &self,
        who: &Authenticated,
        request: RequestId,
        dependency: i64,
    ) -> AppResult<()> {
        let mut tx = self.store.begin().await?;
        let (r, scope) = self
            .load_for(&mut tx, who, request, RequestAction::SkipDependency)
            .await?;
        let deps = tx.project_dependencies(r.project_id).await?;
        let d = deps
            .iter()
            .find(|d| d.id == dependency && d.request_id == request)
            .ok_or(AppError::NotFound)?;
        tx.delete_dependency(d.id).await?;
        let detail = format!("no longer waits for {}", d.on_kind.label());
        self.record_quietly(tx, who, &r, &scope, "dependency_removed", detail, None)
            .await
    }

    /// Whether `who` may do `action` on the request now, in a read transaction of its own: asked
    /// before an upload is received, so a refused caller's file is never written.
    async fn may_now(
        &self,
        who: &Authenticated,
        id: RequestId,
        action: RequestAction,
    ) -> AppResult<()> {
        let mut tx = self.store.read().await?;
        let r = tx.get_request(id).await?.ok_or(AppError::NotFound)?;
        let scope = Scope::load(&mut tx, who, r.project_id).await?;
        scope.decide(who, action, &r).check()?;
        Ok(())
    }

    /// Whether `who` may submit `step` of the request now.
    pub async fn may_submit(
        &self,
        who: &Authenticated,
        id: RequestId,
        step: Step,
    ) -> AppResult<()> {
        self.may_now(who, id, RequestAction::WorkOn(step)).await
    }

    /// Whether `who` may manage the request (add reference files).
    pub async fn may_manage(&self, who: &Authenticated, id: RequestId) -> AppResult<()> {
        self.may_now(who, id, RequestAction::Manage).await
    }

    /// Whether `who` may submit some step of the request (a form that does not say which).
    pub async fn may_submit_any(&self, who: &Authenticated, id: RequestId) -> AppResult<()> {
        for step in [Step::Author, Step::Proofread] {
            if self.may_submit(who, id, step).await.is_ok() {
                return Ok(());
            }
        }
        self.may_submit(who, id, Step::Author).await
    }

    /// Whether `who` may order requests on the project (asked before reference files arrive).
    pub async fn may_order(&self, who: &Authenticated, project_id: ProjectId) -> AppResult<()> {
        let mut tx = self.store.read().await?;
        let project = tx
            .get_project(project_id)
            .await?
            .ok_or(AppError::NotFound)?;
        crate::projects::may_view(who, &project)?;
        domain::policy::may_order_requests(&who.subject).check()?;
        Ok(())
    }

    /// Adds reference files to a request (studio managers).
    pub async fn add_reference_files(
        &self,
        who: &Authenticated,
        id: RequestId,
        mut files: Vec<Staged>,
    ) -> AppResult<()> {
        if files.is_empty() {
            return Err(AppError::invalid("file", "attach at least one file"));
        }
        let mut tx = self.store.begin().await?;
        let (r, scope) = self
            .load_for(&mut tx, who, id, RequestAction::Manage)
            .await?;
        let existing = tx.request_files(id).await?;
        let before = existing
            .iter()
            .filter(|f| f.slot == FileSlot::Reference)
            .count();
        let now = self.now();
        let mut keys = Vec::new();
        for (i, f) in files.iter().enumerate() {
            let version = u32::try_from(before + i + 1).unwrap_or(u32::MAX);
            let file_id = RequestFileId::new();
            let key = format!("requests/{file_id}");
            tx.insert_request_file(&RequestFileRecord {
                id: file_id,
                request_id: id,
                slot: FileSlot::Reference,
                version,
                name: f.name.to_string(),
                file_type: f.name.file_type().extension().to_string(),
                size: f.size,
                sha256: f.sha256.clone(),
                storage_key: key.clone(),
                uploaded_by: Some(who.user.id),
                created_at: now,
            })
            .await?;
            keys.push(key);
        }
        tx.insert_request_history(&HistoryRecord {
            request_id: id,
            actor: Some(who.user.id),
            action: "files_added".into(),
            detail: files
                .iter()
                .map(|f| f.name.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            reason: None,
            at: now,
        })
        .await?;
        let ck = scope.channel_kind(&r);
        self.robot_and_event(&mut tx, &scope.project, &ck, None)
            .await?;
        self.keep_and_commit(tx, files.iter_mut().zip(keys).collect())
            .await?;
        self.events.kick();
        Ok(())
    }

    /// A request's file for download, if `who` may see it.
    pub async fn open_request_file(
        &self,
        who: &Authenticated,
        id: RequestFileId,
    ) -> AppResult<(RequestFileRecord, crate::files::ByteStream)> {
        let mut tx = self.store.read().await?;
        let f = tx.get_request_file(id).await?.ok_or(AppError::NotFound)?;
        let r = tx
            .get_request(f.request_id)
            .await?
            .ok_or(AppError::NotFound)?;
        let scope = Scope::load(&mut tx, who, r.project_id).await?;
        scope.decide(who, RequestAction::Download, &r).check()?;
        let latest = latest_proofread(&tx.request_files(r.id).await?);
        let uploader = match f.uploaded_by {
            Some(u) => tx.get_user(u).await?,
            None => None,
        };
        if !file_visible(who, &scope, &r, &f, uploader.as_ref(), latest) {
            return Err(AppError::NotFound);
        }
        drop(tx);
        let file = self.files.read(&f.storage_key, None).await.map_err(|e| {
            AppError::Internal(format!("request file {} ({}): {e}", f.id, f.storage_key))
        })?;
        Ok((f, file))
    }

    /// My tasks: every step assigned to `who` on requests they may still see: the current ones
    /// first, then those to come, then the finished ones, each by due date.
    pub async fn my_tasks(&self, who: &Authenticated) -> AppResult<Vec<TaskRow>> {
        let mut tx = self.store.read().await?;
        let mine = tx.requests_assigned_to(who.user.id).await?;
        let everyone: Vec<UserId> = mine
            .iter()
            .flat_map(|r| r.assignees.iter().flatten().copied())
            .collect();
        let people = names_of(&mut tx, &everyone).await?;
        // What each title's rows need, read once per title.
        type TitleFacts = (
            Scope,
            Vec<DependencyRecord>,
            BTreeMap<RequestId, RequestState>,
            BTreeMap<OrgId, String>,
        );
        let mut titles: BTreeMap<ProjectId, TitleFacts> = BTreeMap::new();
        let mut out = Vec::new();
        for r in mine {
            if let std::collections::btree_map::Entry::Vacant(e) = titles.entry(r.project_id) {
                let scope = Scope::load(&mut tx, who, r.project_id).await?;
                let deps = tx.project_dependencies(r.project_id).await?;
                let states = tx
                    .project_requests(r.project_id)
                    .await?
                    .iter()
                    .map(|x| (x.id, x.state))
                    .collect();
                let orgs = self.org_names(&mut tx, &scope.project).await?;
                e.insert((scope, deps, states, orgs));
            }
            let Some((scope, deps, states, orgs)) = titles.get(&r.project_id) else {
                continue;
            };
            if !scope.may(who, RequestAction::View, &r) {
                continue;
            }
            let mut row = self.row(who, scope, &r, deps, states, &people, orgs);
            if !who.subject.has(Role::PortalUser) {
                only_own_steps(&mut row, who.user.id);
            }
            for step in Step::ALL {
                if r.assignee(step) == Some(who.user.id)
                    && scope.may(who, RequestAction::WorkOn(step), &r)
                        | (step == Step::Qc && row.can.review)
                {
                    out.push(TaskRow {
                        row: row.clone(),
                        step,
                        due: r.step_due(step),
                        current: r.state.step() == Some(step),
                    });
                }
            }
        }
        // Current steps first, then the ones still to come, then the finished ones; each by
        // due date.
        let rank = |t: &TaskRow| {
            if t.current {
                0
            } else if t.row.record.state.step_status(t.step) == domain::requests::StepStatus::Done {
                2
            } else {
                1
            }
        };
        out.sort_by(|a, b| {
            (rank(a), a.due, a.row.record.created_at).cmp(&(
                rank(b),
                b.due,
                b.row.record.created_at,
            ))
        });
        Ok(out)
    }

    /// The as-recorded dub scripts a script viewer may read (their partner's languages of the
    /// projects they were added to).
    pub async fn my_scripts(&self, who: &Authenticated) -> AppResult<Vec<RequestRow>> {
        if who.subject.is_studio() {
            return Ok(Vec::new());
        }
        let mut tx = self.store.read().await?;
        let mut out = Vec::new();
        for project_id in tx.script_viewer_projects(who.user.id).await? {
            let scope = Scope::load(&mut tx, who, project_id).await?;
            let (rows, _, _) = self.visible_rows(&mut tx, who, &scope).await?;
            out.extend(
                rows.into_iter()
                    .filter(|r| r.record.kind == RequestKind::AsRecordedDubScript),
            );
        }
        Ok(out)
    }

    /// For My Projects: per project, the open requests `who` may see and the next due date.
    pub async fn open_requests(
        &self,
        who: &Authenticated,
        ids: &[ProjectId],
    ) -> AppResult<BTreeMap<ProjectId, OpenRequests>> {
        let mut tx = self.store.read().await?;
        let groups = tx.open_request_groups(ids).await?;
        if groups.is_empty() {
            return Ok(BTreeMap::new());
        }
        let assignments: BTreeMap<ProjectId, Vec<domain::Assignment>> = tx
            .project_summaries(ids)
            .await?
            .into_iter()
            .map(|p| (p.id, p.assignments))
            .collect();
        Ok(open_in(who, groups, &assignments))
    }

    /// My Projects in one read: the followed titles the viewer may see, each with its unread
    /// count, its first unread message, its open requests and their next due date.
    pub async fn my_projects_overview(&self, who: &Authenticated) -> AppResult<Vec<MyProject>> {
        crate::auth::require(who, domain::Action::UsePortal)?;
        let scope = domain::ProjectScope::for_subject(&who.subject);
        let mut tx = self.store.read().await?;
        let followed = tx.followed_projects(who.user.id, scope).await?;
        let assignments: BTreeMap<ProjectId, Vec<domain::Assignment>> = followed
            .iter()
            .map(|p| (p.id, p.assignments.clone()))
            .collect();
        let ids: Vec<ProjectId> = assignments.keys().copied().collect();
        let unread = crate::channels::unread_in(&mut tx, who, &assignments).await?;
        let groups = tx.open_request_groups(&ids).await?;
        let open = open_in(who, groups, &assignments);
        let idset: BTreeSet<ProjectId> = ids.iter().copied().collect();
        Ok(crate::projects::rows_for(&who.subject, followed, &idset)
            .into_iter()
            .map(|row| {
                let (unread, first_unread) = unread.get(&row.id).cloned().unwrap_or((0, None));
                MyProject {
                    open: open.get(&row.id).copied().unwrap_or_default(),
                    unread,
                    first_unread,
                    row,
                }
            })
            .collect())
    }

    /// The project's requests as CSV (what the Requests page shows, with its filter), for a
    /// user, or for the operator at the command line (everything).
    pub async fn requests_csv(
        &self,
        actor: Actor<'_>,
        who: Option<&Authenticated>,
        project_id: ProjectId,
        filter: &RequestFilter,
    ) -> AppResult<String> {
        let rows = match (actor, who) {
            (Actor::User(_), Some(who)) => {
                self.project_requests(who, project_id, filter).await?.rows
            }
            (Actor::Operator, _) => {
                let mut tx = self.store.read().await?;
                let project = tx
                    .get_project(project_id)
                    .await?
                    .ok_or(AppError::NotFound)?;
                let episodes: BTreeMap<EpisodeId, String> =
                    episode_labels(&project).into_iter().collect();
                let all = tx.project_requests(project_id).await?;
                let deps = tx.project_dependencies(project_id).await?;
                let states: BTreeMap<RequestId, RequestState> =
                    all.iter().map(|r| (r.id, r.state)).collect();
                let ids: Vec<UserId> = all
                    .iter()
                    .flat_map(|r| r.assignees.iter().flatten().copied())
                    .collect();
                let people = names_of(&mut tx, &ids).await?;
                let orgs = self.org_names(&mut tx, &project).await?;
                let today = self.today();
                all.iter()
                    .map(|r| RequestRow {
                        record: r.clone(),
                        project_name: project.name.to_string(),
                        episode: r
                            .episode_id
                            .and_then(|e| episodes.get(&e).cloned())
                            .unwrap_or_default(),
                        partner: partner_of(&project, &r.language, r.kind)
                            .and_then(|p| orgs.get(&p).cloned()),
                        assignees: Step::ALL.map(|s| {
                            r.assignee(s).map(|u| {
                                people
                                    .get(&u)
                                    .map_or("someone".into(), |p| p.user.display_name.to_string())
                            })
                        }),
                        readiness: readiness_of(r, &deps, &states),
                        overdue: is_overdue(r.state, r.due_date, today),
                        at_risk: is_at_risk(r.state, r.due_date, r.edd),
                        can: Can::default(),
                    })
                    .collect()
            }
            (Actor::User(_), None) => {
                return Err(AppError::Denied(domain::DenyReason::NotSignedIn));
            }
        };
        Ok(to_csv(&rows))
    }

    /// A project named at the command line by its id or its (or an episode's) movie ID.
    pub async fn resolve_project(&self, reference: &str) -> AppResult<ProjectId> {
        let reference = reference.trim();
        if let Ok(id) = reference.parse::<ProjectId>() {
            return Ok(id);
        }
        let movie_id = reference
            .parse::<i64>()
            .ok()
            .and_then(|n| domain::MovieId::new(n).ok())
            .ok_or_else(|| {
                AppError::invalid(
                    "project",
                    format!("{reference:?} is neither a project id nor a movie ID"),
                )
            })?;
        let mut tx = self.store.read().await?;
        tx.project_id_by_movie_id(movie_id)
            .await?
            .ok_or(AppError::NotFound)
    }

    /// The Members page: followers and script viewers, as `who` may see them.
    pub async fn project_members(
        &self,
        who: &Authenticated,
        project_id: ProjectId,
    ) -> AppResult<MembersPage> {
        let mut tx = self.store.read().await?;
        let project = tx
            .get_project(project_id)
            .await?
            .ok_or(AppError::NotFound)?;
        crate::projects::may_view(who, &project)?;
        let followers = tx.project_followers(project_id).await?;
        let viewers = tx.script_viewers(project_id).await?;
        let mut ids = followers.clone();
        ids.extend(viewers.iter().copied());
        let people = names_of(&mut tx, &ids).await?;
        let orgs: Vec<OrgId> = project.assigned_orgs().into_iter().collect();
        let mut members: Vec<Member> = people
            .values()
            .filter(|u| knows(who, u))
            .map(|u| {
                let script_viewer = viewers.contains(&u.user.id);
                Member {
                    id: u.user.id,
                    name: u.user.display_name.to_string(),
                    organisation: u.org.name.to_string(),
                    follower: followers.contains(&u.user.id),
                    script_viewer,
                    can_remove: script_viewer
                        && domain::policy::may_add_script_viewer(
                            &who.subject,
                            &orgs,
                            u.org.id,
                            u.org.kind,
                        )
                        .is_allowed(),
                }
            })
            .collect();
        members.sort_by(|a, b| (&a.organisation, &a.name).cmp(&(&b.organisation, &b.name)));
        let pool: Vec<OrgId> = if who.subject.is_studio() {
            orgs.clone()
        } else {
            vec![who.org.id]
        };
        let mut addable = Vec::new();
        for u in tx.users_of_orgs(&pool).await? {
            if !u.user.disabled
                && !viewers.contains(&u.user.id)
                && domain::policy::may_add_script_viewer(&who.subject, &orgs, u.org.id, u.org.kind)
                    .is_allowed()
            {
                addable.push((
                    u.user.id,
                    format!("{} ({})", u.user.display_name, u.org.name),
                ));
            }
        }
        addable.sort_by(|a, b| a.1.cmp(&b.1));
        let can_manage = !addable.is_empty() || members.iter().any(|m| m.can_remove);
        Ok(MembersPage {
            project,
            members,
            addable,
            can_manage,
        })
    }

    /// Makes someone a script viewer of a project, or stops it.
    pub async fn set_script_viewer(
        &self,
        who: &Authenticated,
        project_id: ProjectId,
        user: UserId,
        on: bool,
    ) -> AppResult<()> {
        let mut tx = self.store.begin().await?;
        let project = tx
            .get_project(project_id)
            .await?
            .ok_or(AppError::NotFound)?;
        crate::projects::may_view(who, &project)?;
        let member = tx.get_user(user).await?.ok_or(AppError::NotFound)?;
        let orgs: Vec<OrgId> = project.assigned_orgs().into_iter().collect();
        match domain::policy::may_add_script_viewer(
            &who.subject,
            &orgs,
            member.org.id,
            member.org.kind,
        ) {
            domain::Decision::Allow => {}
            domain::Decision::Deny(r) => return Err(AppError::Denied(r)),
        }
        tx.set_script_viewer(project_id, user, on, Some(who.user.id), self.now())
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Open requests per project that `who` may see, from the (project, language, kind) groups.
fn open_in(
    who: &Authenticated,
    groups: Vec<store::OpenRequestGroup>,
    assignments: &BTreeMap<ProjectId, Vec<domain::Assignment>>,
) -> BTreeMap<ProjectId, OpenRequests> {
    let mut out: BTreeMap<ProjectId, OpenRequests> = BTreeMap::new();
    let none = [None; 3];
    for g in groups {
        let Some(a) = assignments.get(&g.project_id) else {
            continue;
        };
        let partner = domain::requests::partner_for(a, &g.language, g.kind);
        let facts = RequestFacts {
            kind: g.kind,
            partner,
            assignees: &none,
            script_viewer: false,
        };
        if !authorize_request(Some(&who.subject), RequestAction::View, &facts).is_allowed() {
            continue;
        }
        let e = out.entry(g.project_id).or_default();
        e.open += g.open;
        e.next_due = Some(e.next_due.map_or(g.next_due, |d| d.min(g.next_due)));
    }
    out
}

/// Whether `who`, who may download the request's files, sees `f`
/// ([`domain::policy::may_see_request_file`]).
fn file_visible(
    who: &Authenticated,
    scope: &Scope,
    r: &RequestRecord,
    f: &RequestFileRecord,
    uploader: Option<&UserWithOrg>,
    latest_proofread: Option<u32>,
) -> bool {
    let facts = RequestFacts {
        script_viewer: scope.script_viewer,
        ..scope.facts(r)
    };
    domain::policy::may_see_request_file(
        &who.subject,
        &facts,
        &domain::RequestFileFacts {
            work_of: match f.slot {
                FileSlot::Reference => None,
                FileSlot::Work(step) => Some(step),
            },
            version: f.version,
            latest_proofread,
            uploaded_by: uploader.map(|u| (u.org.id, u.org.kind)),
            request_done: r.state.is_done(),
        },
    )
}

/// The newest Proofread version: the script as approved.
fn latest_proofread(files: &[RequestFileRecord]) -> Option<u32> {
    files
        .iter()
        .filter(|f| f.slot == FileSlot::Work(Step::Proofread))
        .map(|f| f.version)
        .max()
}

/// The ids of a bulk action, each once, at most [`MAX_BULK`].
fn distinct(ids: &[RequestId]) -> AppResult<Vec<RequestId>> {
    if ids.is_empty() {
        return Err(AppError::invalid("requests", "choose at least one request"));
    }
    let mut seen = BTreeSet::new();
    let out: Vec<RequestId> = ids.iter().copied().filter(|i| seen.insert(*i)).collect();
    if out.len() > MAX_BULK {
        return Err(AppError::invalid(
            "requests",
            format!("at most {MAX_BULK} requests at once"),
        ));
    }
    Ok(out)
}

/// What a person without portal access (a linguist, a script viewer) sees of the steps: their
/// own only, never who does the others.
fn only_own_steps(row: &mut RequestRow, me: UserId) {
    for step in Step::ALL {
        if row.record.assignee(step) != Some(me) {
            row.record.assignees[step.index()] = None;
            row.assignees[step.index()] = None;
        }
    }
}

fn request_event(channel: &Channel) -> NewEvent {
    NewEvent {
        kind: EventKind::RequestChanged,
        project_id: channel.project_id,
        channel_id: channel.id,
        message_id: None,
        seq: 0,
        user_id: None,
    }
}

fn check_assignee(scope: &Scope, r: &RequestRecord, step: Step, u: &UserWithOrg) -> AppResult<()> {
    domain::requests::check_assignee(
        step,
        scope.partner(r),
        &domain::requests::AssigneeFacts {
            name: u.user.display_name.as_str(),
            org_id: u.org.id,
            org_kind: u.org.kind,
            roles: u.user.roles,
            disabled: u.user.disabled,
        },
    )
    .map_err(|e| AppError::invalid("assignee", e))
}

fn languages_for(who: &Authenticated, project: &Project) -> Vec<LanguageTag> {
    let mut langs = domain::policy::visible_languages(
        &who.subject,
        &project.target_languages,
        &project.assignments,
    );
    if (who.subject.is_studio()
        || project
            .assignments
            .iter()
            .any(|a| a.org_id == who.org.id && a.language == project.original_language))
        && !langs.contains(&project.original_language)
    {
        langs.insert(0, project.original_language.clone());
    }
    langs
}

fn apply_filter(who: &Authenticated, rows: Vec<RequestRow>, f: &RequestFilter) -> Vec<RequestRow> {
    let some = |o: &Option<String>| {
        o.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let kind = some(&f.kind).and_then(|k| k.parse::<RequestKind>().ok());
    let language = some(&f.language);
    let episode = some(&f.episode);
    let step = some(&f.step);
    let readiness = some(&f.readiness);
    let assignee = some(&f.assignee);
    let mut rows = rows
        .into_iter()
        .filter(|r| kind.is_none_or(|k| r.record.kind == k))
        .filter(|r| {
            language
                .as_ref()
                .is_none_or(|l| r.record.language.as_str().eq_ignore_ascii_case(l))
        })
        .filter(|r| {
            episode
                .as_ref()
                .is_none_or(|e| r.episode.eq_ignore_ascii_case(e))
        })
        .filter(|r| match step.as_deref() {
            None => true,
            Some("done") => r.record.state.is_done(),
            Some(s) => r.record.state.step().is_some_and(|x| x.as_str() == s),
        })
        .filter(|r| match readiness.as_deref() {
            Some("ready") => r.readiness.is_ready(),
            Some("blocked") => !r.readiness.is_ready(),
            _ => true,
        })
        .filter(|r| match assignee.as_deref() {
            None => true,
            Some("me") => r.record.assignees.contains(&Some(who.user.id)),
            Some("none") => r
                .record
                .state
                .step()
                .is_some_and(|s| r.record.assignee(s).is_none()),
            Some(id) => id
                .parse::<UserId>()
                .is_ok_and(|u| r.record.assignees.contains(&Some(u))),
        })
        .filter(|r| f.overdue != Some(true) || r.overdue)
        .collect::<Vec<_>>();
    if let Some(k) = f.sort.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        sort_rows(&mut rows, k);
    }
    rows
}

fn describe_batch(kind: RequestKind, episodes: &[String]) -> String {
    let eps: Vec<&String> = episodes.iter().filter(|e| !e.is_empty()).collect();
    match eps.len() {
        0 => kind.label().to_string(),
        1 => format!("{} {}", kind.label(), eps[0]),
        n if n <= 4 => format!(
            "{} for {}",
            kind.label(),
            eps.iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        n => format!(
            "{} for {n} episodes ({}–{})",
            kind.label(),
            eps[0],
            eps[n - 1]
        ),
    }
}

/// Quotes a CSV field when it needs it; a leading `=`, `+`, `-` or `@` is prefixed with `'` so
/// a spreadsheet does not run it as a formula.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The rows as CSV with a header line.
pub fn to_csv(rows: &[RequestRow]) -> String {
    let mut out = String::from(
        "request_id,title,type,episode,language,partner,state,ready,author,proofreader,qc,due_date,edd,overdue,at_risk,retakes\n",
    );
    for r in rows {
        let fields = [
            r.record.id.to_string(),
            r.project_name.clone(),
            r.record.kind.as_str().to_string(),
            r.episode.clone(),
            r.record.language.to_string(),
            r.partner.clone().unwrap_or_default(),
            r.record.state.as_str().to_string(),
            r.readiness.label(),
            r.assignees[0].clone().unwrap_or_default(),
            r.assignees[1].clone().unwrap_or_default(),
            r.assignees[2].clone().unwrap_or_default(),
            r.record.due_date.to_string(),
            r.record.edd.to_string(),
            r.overdue.to_string(),
            r.at_risk.to_string(),
            r.record.retakes.to_string(),
        ];
        out.push_str(
            &fields
                .iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(csv_field("\t=1+1"), "'\t=1+1");
    }

    #[test]
    fn batches_read_well() {
        let eps: Vec<String> = (1..=10).map(|n| format!("S1E{n}")).collect();
        assert_eq!(
            describe_batch(RequestKind::DialogueList, &eps),
            "Dialogue list for 10 episodes (S1E1–S1E10)"
        );
        assert_eq!(
            describe_batch(RequestKind::DialogueList, &[String::new()]),
            "Dialogue list"
        );
    }
}
