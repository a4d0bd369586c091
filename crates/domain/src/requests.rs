//! Requests for script work (PRODUCT.md §4): the kinds, the Author → Proofread → QC workflow as a
//! state machine, dependencies and readiness, and the dates (due date, EDD).
//!
//! Who may *see* a request and act on it at all is [`crate::policy::authorize_request`]; this
//! module decides which transition is possible in which state and in which capacity.

use crate::ids::RequestId;
use crate::project::Service;
use crate::values::{LanguageTag, ValueError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// What is requested.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// Transcription of the original language, timed to the picture.
    DialogueList,
    /// Original transcription plus an English translation, the pivot for every dub.
    PivotDialogueList,
    /// The adapted script the dub is recorded from.
    PreRecordedDubScript,
    /// The script as it was actually recorded.
    AsRecordedDubScript,
    /// The audio description script.
    AudioDescriptionScript,
}

impl RequestKind {
    pub const ALL: [RequestKind; 5] = [
        RequestKind::DialogueList,
        RequestKind::PivotDialogueList,
        RequestKind::PreRecordedDubScript,
        RequestKind::AsRecordedDubScript,
        RequestKind::AudioDescriptionScript,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::DialogueList => "dialogue_list",
            RequestKind::PivotDialogueList => "pivot_dialogue_list",
            RequestKind::PreRecordedDubScript => "pre_recorded_dub_script",
            RequestKind::AsRecordedDubScript => "as_recorded_dub_script",
            RequestKind::AudioDescriptionScript => "audio_description_script",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            RequestKind::DialogueList => "Dialogue list",
            RequestKind::PivotDialogueList => "Pivot-language dialogue list",
            RequestKind::PreRecordedDubScript => "Dub script (pre-recorded)",
            RequestKind::AsRecordedDubScript => "As-recorded dub script",
            RequestKind::AudioDescriptionScript => "Audio description script",
        }
    }

    /// The short form used in dense tables.
    pub fn short(self) -> &'static str {
        match self {
            RequestKind::DialogueList => "DL",
            RequestKind::PivotDialogueList => "PLDL",
            RequestKind::PreRecordedDubScript => "Dub script",
            RequestKind::AsRecordedDubScript => "AR dub script",
            RequestKind::AudioDescriptionScript => "AD script",
        }
    }

    /// The service whose partner fulfils this kind of request for a language.
    pub fn service(self) -> Service {
        match self {
            RequestKind::DialogueList | RequestKind::PivotDialogueList => Service::Scripting,
            RequestKind::PreRecordedDubScript | RequestKind::AsRecordedDubScript => {
                Service::Dubbing
            }
            RequestKind::AudioDescriptionScript => Service::AudioDescription,
        }
    }

    /// A dialogue list is written in the title's original language; every other kind in a
    /// target language.
    pub fn in_original_language(self) -> bool {
        self == RequestKind::DialogueList
    }

    /// What this kind needs before it can start, unless a studio manager changes it.
    /// `original_is_english`: a PLDL is commissioned only when the original is not English.
    pub fn default_dependencies(self, original_is_english: bool) -> Vec<DependencyTarget> {
        let dl = DependencyTarget {
            kind: RequestKind::DialogueList,
            language: LanguageRule::Original,
        };
        match self {
            RequestKind::DialogueList => vec![],
            RequestKind::PivotDialogueList => vec![dl],
            RequestKind::PreRecordedDubScript => {
                let mut v = vec![dl];
                if !original_is_english {
                    v.push(DependencyTarget {
                        kind: RequestKind::PivotDialogueList,
                        language: LanguageRule::Any,
                    });
                }
                v
            }
            RequestKind::AsRecordedDubScript => vec![DependencyTarget {
                kind: RequestKind::PreRecordedDubScript,
                language: LanguageRule::Same,
            }],
            RequestKind::AudioDescriptionScript => vec![dl],
        }
    }
}

impl fmt::Display for RequestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RequestKind {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        let short = |k: RequestKind| k.short().to_ascii_lowercase().replace(' ', "_");
        RequestKind::ALL
            .into_iter()
            .find(|k| k.as_str() == wanted || short(*k) == wanted)
            .ok_or_else(|| {
                ValueError::new(format!(
                    "unknown request type {s:?}: use one of {}",
                    RequestKind::ALL.map(|k| k.as_str()).join(", ")
                ))
            })
    }
}

/// The partner who does requests of `kind` in `language`: the one assigned now to that
/// (language, service). A request has no partner of its own; it follows the assignment.
pub fn partner_for(
    assignments: &[crate::project::Assignment],
    language: &LanguageTag,
    kind: RequestKind,
) -> Option<crate::ids::OrgId> {
    assignments
        .iter()
        .find(|a| &a.language == language && a.service == kind.service())
        .map(|a| a.org_id)
}

/// Which language a dependency's request must be in, relative to the dependant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LanguageRule {
    /// The title's original language (a dialogue list).
    Original,
    /// The dependant's own language (pre-recorded → as-recorded script).
    Same,
    /// Whichever language it was ordered in (the one pivot-language list of an episode).
    Any,
}

/// A kind of work a request needs, in the same episode (or the film).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DependencyTarget {
    pub kind: RequestKind,
    pub language: LanguageRule,
}

impl DependencyTarget {
    /// Whether a request of `kind` in `language` fulfils this target for a dependant in
    /// `own_language` of a title whose original language is `original`.
    pub fn matches(
        &self,
        kind: RequestKind,
        language: &LanguageTag,
        own_language: &LanguageTag,
        original: &LanguageTag,
    ) -> bool {
        kind == self.kind
            && match self.language {
                LanguageRule::Original => language == original,
                LanguageRule::Same => language == own_language,
                LanguageRule::Any => true,
            }
    }
}

/// The three steps of every request, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Author,
    Proofread,
    Qc,
}

impl Step {
    pub const ALL: [Step; 3] = [Step::Author, Step::Proofread, Step::Qc];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Author => "author",
            Step::Proofread => "proofread",
            Step::Qc => "qc",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Step::Author => "Author",
            Step::Proofread => "Proofread",
            Step::Qc => "QC",
        }
    }

    pub fn index(self) -> usize {
        match self {
            Step::Author => 0,
            Step::Proofread => 1,
            Step::Qc => 2,
        }
    }

    /// The linguist role a partner user needs to be given this step (`None` for QC, which is
    /// the studio's).
    pub fn linguist_role(self) -> Option<crate::roles::Role> {
        match self {
            Step::Author => Some(crate::roles::Role::Author),
            Step::Proofread => Some(crate::roles::Role::Proofreader),
            Step::Qc => None,
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Step {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Step::ALL
            .into_iter()
            .find(|k| k.as_str() == wanted)
            .ok_or_else(|| {
                ValueError::new(format!("unknown step {s:?}: use author, proofread or qc"))
            })
    }
}

/// Where a request stands. Stored as one word (`author_todo`, …, `done`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequestState {
    /// The step is waiting for its assignee to start it.
    Todo(Step),
    /// The assignee started the step (QC: the reviewer opened the review).
    InProgress(Step),
    /// QC approved the work.
    Done,
}

impl RequestState {
    pub const ALL: [RequestState; 7] = [
        RequestState::Todo(Step::Author),
        RequestState::InProgress(Step::Author),
        RequestState::Todo(Step::Proofread),
        RequestState::InProgress(Step::Proofread),
        RequestState::Todo(Step::Qc),
        RequestState::InProgress(Step::Qc),
        RequestState::Done,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RequestState::Todo(Step::Author) => "author_todo",
            RequestState::InProgress(Step::Author) => "author_in_progress",
            RequestState::Todo(Step::Proofread) => "proofread_todo",
            RequestState::InProgress(Step::Proofread) => "proofread_in_progress",
            RequestState::Todo(Step::Qc) => "qc_todo",
            RequestState::InProgress(Step::Qc) => "qc_in_progress",
            RequestState::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The current step (`None` once done).
    pub fn step(self) -> Option<Step> {
        match self {
            RequestState::Todo(s) | RequestState::InProgress(s) => Some(s),
            RequestState::Done => None,
        }
    }

    pub fn is_done(self) -> bool {
        self == RequestState::Done
    }

    /// The status of one step, as a table shows it.
    pub fn step_status(self, step: Step) -> StepStatus {
        match self.step() {
            None => StepStatus::Done,
            Some(current) if step < current => StepStatus::Done,
            Some(current) if step > current => StepStatus::Waiting,
            Some(_) => match self {
                RequestState::InProgress(_) => StepStatus::InProgress,
                _ => StepStatus::Todo,
            },
        }
    }

    /// What a reader sees: "Author: to do", "QC: in review", "Done".
    pub fn label(self) -> String {
        match self {
            RequestState::Done => "Done".into(),
            RequestState::Todo(Step::Qc) => "QC: to review".into(),
            RequestState::InProgress(Step::Qc) => "QC: in review".into(),
            RequestState::Todo(s) => format!("{}: to do", s.label()),
            RequestState::InProgress(s) => format!("{}: in progress", s.label()),
        }
    }
}

impl fmt::Display for RequestState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One step's status, derived from the request's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepStatus {
    /// An earlier step is not finished.
    Waiting,
    Todo,
    InProgress,
    Done,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Waiting => "waiting",
            StepStatus::Todo => "to_do",
            StepStatus::InProgress => "in_progress",
            StepStatus::Done => "done",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            StepStatus::Waiting => "waiting",
            StepStatus::Todo => "to do",
            StepStatus::InProgress => "in progress",
            StepStatus::Done => "done",
        }
    }
}

/// Something that can happen to a request's workflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transition {
    /// The step's assignee begins (QC: opens the review).
    Start(Step),
    /// The step's assignee hands in the work (Author, Proofread), with a file.
    Submit(Step),
    /// QC accepts the work: the request is done.
    Approve,
    /// QC sends the work back to a step, with a reason (a retake). Also possible after approval,
    /// when a problem turns up later.
    Return(Step),
}

impl Transition {
    pub const ALL: [Transition; 9] = [
        Transition::Start(Step::Author),
        Transition::Start(Step::Proofread),
        Transition::Start(Step::Qc),
        Transition::Submit(Step::Author),
        Transition::Submit(Step::Proofread),
        Transition::Submit(Step::Qc),
        Transition::Approve,
        Transition::Return(Step::Author),
        Transition::Return(Step::Proofread),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Start(_) => "start",
            Transition::Submit(_) => "submit",
            Transition::Approve => "approve",
            Transition::Return(_) => "return",
        }
    }
}

/// In which capacity someone acts on a request: the facts the state machine needs, already
/// established by the policy (who may see the request at all).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capacity {
    /// The steps this person is assigned to.
    pub assigned: [bool; 3],
    /// A studio user with the `manager` role (may review in place of the QC assignee).
    pub studio_manager: bool,
}

impl Capacity {
    pub fn assigned_to(&self, step: Step) -> bool {
        self.assigned[step.index()]
    }

    /// Who may approve or return: the QC assignee, or a studio manager.
    pub fn reviews(&self) -> bool {
        self.studio_manager || self.assigned_to(Step::Qc)
    }
}

/// Why a transition is not possible.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WorkflowError {
    /// The request is not at that step (or not in that phase of it).
    WrongState {
        state: RequestState,
        transition: Transition,
    },
    /// Only the step's assignee may do this.
    NotAssignee(Step),
    /// Only QC (its assignee or a studio manager) may approve or return.
    NotReviewer,
    /// QC has no file to submit: it approves or returns.
    NothingToSubmit,
}

impl fmt::Display for WorkflowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WorkflowError::WrongState { state, transition } => {
                let what = match transition {
                    Transition::Start(s) => format!("start {}", s.label()),
                    Transition::Submit(s) => format!("submit {}", s.label()),
                    Transition::Approve => "approve".into(),
                    Transition::Return(s) => format!("return it to {}", s.label()),
                };
                let hint = match (transition, state) {
                    (Transition::Submit(_), RequestState::Todo(_)) => {
                        " Start the step first, then submit your file."
                    }
                    (_, RequestState::Done) => " It is done.",
                    _ => "",
                };
                write!(
                    f,
                    "You cannot {what} now: the request is at \"{}\".{hint}",
                    state.label()
                )
            }
            WorkflowError::NotAssignee(s) => write!(
                f,
                "The {} step is assigned to someone else; only its assignee can do this.",
                s.label()
            ),
            WorkflowError::NotReviewer => f.write_str(
                "Only the QC reviewer of this request or a studio manager can approve or return it.",
            ),
            WorkflowError::NothingToSubmit => {
                f.write_str("QC does not submit a file: approve the request or return it.")
            }
        }
    }
}

/// The state machine: the state after `transition`, or why it cannot happen.
pub fn apply(
    state: RequestState,
    transition: Transition,
    who: &Capacity,
) -> Result<RequestState, WorkflowError> {
    use RequestState::{Done, InProgress, Todo};
    let wrong = WorkflowError::WrongState { state, transition };
    match transition {
        Transition::Start(step) => {
            if step == Step::Qc {
                if !who.reviews() {
                    return Err(WorkflowError::NotReviewer);
                }
            } else if !who.assigned_to(step) {
                return Err(WorkflowError::NotAssignee(step));
            }
            match state {
                Todo(s) if s == step => Ok(InProgress(step)),
                _ => Err(wrong),
            }
        }
        Transition::Submit(Step::Qc) => Err(WorkflowError::NothingToSubmit),
        Transition::Submit(step) => {
            if !who.assigned_to(step) {
                return Err(WorkflowError::NotAssignee(step));
            }
            match (state, step) {
                (InProgress(Step::Author), Step::Author) => Ok(Todo(Step::Proofread)),
                (InProgress(Step::Proofread), Step::Proofread) => Ok(Todo(Step::Qc)),
                _ => Err(wrong),
            }
        }
        Transition::Approve => {
            if !who.reviews() {
                return Err(WorkflowError::NotReviewer);
            }
            match state {
                Todo(Step::Qc) | InProgress(Step::Qc) => Ok(Done),
                _ => Err(wrong),
            }
        }
        Transition::Return(Step::Qc) => Err(wrong),
        Transition::Return(to) => {
            if !who.reviews() {
                return Err(WorkflowError::NotReviewer);
            }
            match state {
                Todo(Step::Qc) | InProgress(Step::Qc) | Done => Ok(Todo(to)),
                _ => Err(wrong),
            }
        }
    }
}

/// A dependency of a request as stored: what it needs, the request that fulfils it (if that
/// work was ordered), and a skip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DependencyFacts {
    /// The request it waits for; `None`: that work was never ordered.
    pub on: Option<RequestId>,
    /// Whether `on` is done.
    pub on_done: bool,
    /// A studio manager skipped it (with a reason, recorded elsewhere).
    pub skipped: bool,
}

/// How one dependency stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DependencyStatus {
    Done,
    Skipped,
    /// Ordered, not done yet.
    Waiting,
    /// Never ordered: blocks until it is ordered and done, or skipped.
    NotOrdered,
}

impl DependencyStatus {
    pub fn of(d: &DependencyFacts) -> Self {
        if d.skipped {
            DependencyStatus::Skipped
        } else if d.on.is_none() {
            DependencyStatus::NotOrdered
        } else if d.on_done {
            DependencyStatus::Done
        } else {
            DependencyStatus::Waiting
        }
    }

    pub fn satisfied(self) -> bool {
        matches!(self, DependencyStatus::Done | DependencyStatus::Skipped)
    }

    pub fn label(self) -> &'static str {
        match self {
            DependencyStatus::Done => "done",
            DependencyStatus::Skipped => "skipped",
            DependencyStatus::Waiting => "waiting",
            DependencyStatus::NotOrdered => "not ordered",
        }
    }
}

/// Whether a request may start: every dependency done or explicitly skipped. Work that was
/// never ordered is never taken as done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    Blocked { waiting: u32, not_ordered: u32 },
}

impl Readiness {
    pub fn of(dependencies: &[DependencyFacts]) -> Self {
        let mut waiting = 0;
        let mut not_ordered = 0;
        for d in dependencies {
            match DependencyStatus::of(d) {
                DependencyStatus::Waiting => waiting += 1,
                DependencyStatus::NotOrdered => not_ordered += 1,
                DependencyStatus::Done | DependencyStatus::Skipped => {}
            }
        }
        if waiting == 0 && not_ordered == 0 {
            Readiness::Ready
        } else {
            Readiness::Blocked {
                waiting,
                not_ordered,
            }
        }
    }

    pub fn is_ready(self) -> bool {
        self == Readiness::Ready
    }

    pub fn label(self) -> String {
        match self {
            Readiness::Ready => "ready".into(),
            Readiness::Blocked {
                waiting,
                not_ordered: 0,
            } => format!("blocked: waiting for {waiting}"),
            Readiness::Blocked {
                waiting: 0,
                not_ordered,
            } => format!("blocked: {not_ordered} not ordered"),
            Readiness::Blocked {
                waiting,
                not_ordered,
            } => format!("blocked: waiting for {waiting}, {not_ordered} not ordered"),
        }
    }
}

/// Whether adding "`from` depends on `to`" to `edges` (pairs of dependant → dependency) would
/// make a request wait for itself, directly or through others.
pub fn creates_cycle(edges: &[(RequestId, RequestId)], from: RequestId, to: RequestId) -> bool {
    if from == to {
        return true;
    }
    let mut next: BTreeMap<RequestId, Vec<RequestId>> = BTreeMap::new();
    for (a, b) in edges {
        next.entry(*a).or_default().push(*b);
    }
    // Is `from` reachable from `to`?
    let mut seen = BTreeSet::new();
    let mut stack = vec![to];
    while let Some(n) = stack.pop() {
        if n == from {
            return true;
        }
        if seen.insert(n) {
            stack.extend(next.get(&n).into_iter().flatten().copied());
        }
    }
    false
}

/// The person offered for a step, as far as the rule needs them.
#[derive(Clone, Copy, Debug)]
pub struct AssigneeFacts<'a> {
    pub name: &'a str,
    pub org_id: crate::ids::OrgId,
    pub org_kind: crate::org::OrgKind,
    pub roles: crate::roles::Roles,
    pub disabled: bool,
}

/// Who may be given a step: for Author and Proofread a user of the partner doing the work
/// (`partner`) with the step's linguist role; for QC a studio user with portal access; never a
/// disabled account. Someone of another organisation is refused without being named.
pub fn check_assignee(
    step: Step,
    partner: Option<crate::ids::OrgId>,
    who: &AssigneeFacts<'_>,
) -> Result<(), String> {
    use crate::org::OrgKind;
    use crate::roles::Role;
    match step.linguist_role() {
        Some(_) if Some(who.org_id) != partner => {
            return Err("pick one of your own organisation's linguists".into());
        }
        None if who.org_kind != OrgKind::Studio => {
            return Err("QC is done by a studio user with portal access".into());
        }
        _ => {}
    }
    if who.disabled {
        return Err(format!("{}'s account is disabled", who.name));
    }
    match step.linguist_role() {
        Some(role) if !who.roles.contains(role) => Err(format!(
            "{} does not have the {role} role; an administrator of your organisation can add it",
            who.name
        )),
        None if !who.roles.contains(Role::PortalUser) => {
            Err(format!("{} has no portal access, which QC needs", who.name))
        }
        _ => Ok(()),
    }
}

/// Overdue: not done and the due date has passed.
pub fn is_overdue(state: RequestState, due: time::Date, today: time::Date) -> bool {
    !state.is_done() && due < today
}

/// At risk: not done and the partner expects to deliver after the due date.
pub fn is_at_risk(state: RequestState, due: time::Date, edd: time::Date) -> bool {
    !state.is_done() && edd > due
}

/// A reason given for a return, a skip or a date change: required, one paragraph at most.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason(String);

impl Reason {
    pub const MAX_CHARS: usize = 2000;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(ValueError::new(
                "give a reason: it is recorded and shown to the other side",
            ));
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(ValueError::new(format!(
                "a reason has at most {} characters",
                Self::MAX_CHARS
            )));
        }
        if s.chars().any(|c| {
            (c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
                || crate::values::is_bidi_control(c)
        }) {
            return Err(ValueError::new(
                "a reason cannot contain control or text-direction characters; retype it as plain text",
            ));
        }
        Ok(Self(s.replace("\r\n", "\n")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Instructions for a request (optional, may be long).
pub fn parse_instructions(input: &str) -> Result<String, ValueError> {
    let s = input.trim();
    if s.is_empty() {
        return Ok(String::new());
    }
    crate::channels::MessageBody::parse(s).map(|b| b.as_str().to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use RequestState::{Done, InProgress, Todo};
    use Step::{Author, Proofread, Qc};

    /// The kinds of actor for the state machine table.
    #[derive(Clone, Copy, Debug)]
    enum Who {
        Nobody,
        AuthorAssignee,
        ProofreadAssignee,
        QcAssignee,
        StudioManager,
    }

    const WHO: [Who; 5] = [
        Who::Nobody,
        Who::AuthorAssignee,
        Who::ProofreadAssignee,
        Who::QcAssignee,
        Who::StudioManager,
    ];

    fn capacity(w: Who) -> Capacity {
        let mut c = Capacity::default();
        match w {
            Who::Nobody => {}
            Who::AuthorAssignee => c.assigned[0] = true,
            Who::ProofreadAssignee => c.assigned[1] = true,
            Who::QcAssignee => c.assigned[2] = true,
            Who::StudioManager => c.studio_manager = true,
        }
        c
    }

    /// Every allowed (state, transition, actor) and where it leads. Anything not listed must be
    /// refused.
    fn allowed() -> Vec<(RequestState, Transition, &'static str, RequestState)> {
        let rev = ["QcAssignee", "StudioManager"];
        let mut v = vec![
            (
                Todo(Author),
                Transition::Start(Author),
                "AuthorAssignee",
                InProgress(Author),
            ),
            (
                InProgress(Author),
                Transition::Submit(Author),
                "AuthorAssignee",
                Todo(Proofread),
            ),
            (
                Todo(Proofread),
                Transition::Start(Proofread),
                "ProofreadAssignee",
                InProgress(Proofread),
            ),
            (
                InProgress(Proofread),
                Transition::Submit(Proofread),
                "ProofreadAssignee",
                Todo(Qc),
            ),
        ];
        for r in rev {
            v.push((Todo(Qc), Transition::Start(Qc), r, InProgress(Qc)));
            for from in [Todo(Qc), InProgress(Qc)] {
                v.push((from, Transition::Approve, r, Done));
                v.push((from, Transition::Return(Author), r, Todo(Author)));
                v.push((from, Transition::Return(Proofread), r, Todo(Proofread)));
            }
            v.push((Done, Transition::Return(Author), r, Todo(Author)));
            v.push((Done, Transition::Return(Proofread), r, Todo(Proofread)));
        }
        v
    }

    #[test]
    fn workflow_table_every_state_transition_and_actor() {
        let table = allowed();
        let mut checked = 0;
        for state in RequestState::ALL {
            for t in Transition::ALL {
                for w in WHO {
                    let name = format!("{w:?}");
                    let expected = table
                        .iter()
                        .find(|(s, tr, who, _)| *s == state && *tr == t && *who == name)
                        .map(|row| row.3);
                    let got = apply(state, t, &capacity(w)).ok();
                    assert_eq!(got, expected, "{state:?} × {t:?} × {w:?}");
                    checked += 1;
                }
            }
        }
        assert_eq!(checked, 7 * 9 * 5);
    }

    #[test]
    fn refusals_say_why() {
        let e = apply(
            Todo(Author),
            Transition::Submit(Author),
            &capacity(Who::AuthorAssignee),
        )
        .unwrap_err();
        assert!(e.to_string().contains("Start the step first"), "{e}");
        let e = apply(
            Todo(Author),
            Transition::Start(Author),
            &capacity(Who::ProofreadAssignee),
        )
        .unwrap_err();
        assert_eq!(e, WorkflowError::NotAssignee(Author));
        let e = apply(
            Todo(Qc),
            Transition::Approve,
            &capacity(Who::AuthorAssignee),
        )
        .unwrap_err();
        assert_eq!(e, WorkflowError::NotReviewer);
        assert_eq!(
            apply(
                InProgress(Qc),
                Transition::Submit(Qc),
                &capacity(Who::QcAssignee)
            ),
            Err(WorkflowError::NothingToSubmit)
        );
        let e = apply(Done, Transition::Approve, &capacity(Who::StudioManager)).unwrap_err();
        assert!(e.to_string().contains("It is done"), "{e}");
    }

    #[test]
    fn states_round_trip_and_step_statuses() {
        for s in RequestState::ALL {
            assert_eq!(RequestState::parse(s.as_str()), Some(s));
        }
        assert_eq!(InProgress(Proofread).step_status(Author), StepStatus::Done);
        assert_eq!(
            InProgress(Proofread).step_status(Proofread),
            StepStatus::InProgress
        );
        assert_eq!(InProgress(Proofread).step_status(Qc), StepStatus::Waiting);
        assert_eq!(Done.step_status(Qc), StepStatus::Done);
        for k in RequestKind::ALL {
            assert_eq!(k.as_str().parse::<RequestKind>().unwrap(), k);
        }
        assert_eq!(
            "PLDL".parse::<RequestKind>().unwrap(),
            RequestKind::PivotDialogueList
        );
        assert!("subtitles".parse::<RequestKind>().is_err());
    }

    fn dep(on: Option<u8>, on_done: bool, skipped: bool) -> DependencyFacts {
        DependencyFacts {
            on: on.map(|_| RequestId::new()),
            on_done,
            skipped,
        }
    }

    #[test]
    fn readiness_cases() {
        // Nothing to wait for.
        assert!(Readiness::of(&[]).is_ready());
        // Done or skipped: ready.
        assert!(Readiness::of(&[dep(Some(1), true, false), dep(None, false, true)]).is_ready());
        // Never ordered: blocked, never silently satisfied.
        assert_eq!(
            Readiness::of(&[dep(None, false, false)]),
            Readiness::Blocked {
                waiting: 0,
                not_ordered: 1
            }
        );
        // Ordered, not done: blocked.
        assert_eq!(
            Readiness::of(&[dep(Some(1), false, false), dep(None, false, false)]),
            Readiness::Blocked {
                waiting: 1,
                not_ordered: 1
            }
        );
        // A skip holds even when the work is ordered later and not done.
        assert!(Readiness::of(&[dep(Some(1), false, true)]).is_ready());
        assert_eq!(
            Readiness::of(&[dep(None, false, false)]).label(),
            "blocked: 1 not ordered"
        );
    }

    #[test]
    fn cycles_are_found_through_chains_and_diamonds() {
        let [a, b, c, d] = [
            RequestId::new(),
            RequestId::new(),
            RequestId::new(),
            RequestId::new(),
        ];
        // b→a, c→a, d→b, d→c (a diamond: d waits for b and c, which wait for a).
        let edges = vec![(b, a), (c, a), (d, b), (d, c)];
        assert!(creates_cycle(&edges, a, d), "a→d closes the diamond");
        assert!(creates_cycle(&edges, b, d));
        assert!(creates_cycle(&edges, a, a), "self");
        assert!(!creates_cycle(&edges, d, a), "a second path is no cycle");
        assert!(!creates_cycle(&edges, c, b));
        // A chain a←b←c: c→… fine, a→c closes it.
        let chain = vec![(b, a), (c, b)];
        assert!(creates_cycle(&chain, a, c));
        assert!(!creates_cycle(&chain, c, a));
    }

    #[test]
    fn default_dependencies_follow_the_kinds() {
        use RequestKind::*;
        assert!(DialogueList.default_dependencies(false).is_empty());
        assert_eq!(
            PivotDialogueList.default_dependencies(false)[0].kind,
            DialogueList
        );
        assert_eq!(PreRecordedDubScript.default_dependencies(false).len(), 2);
        assert_eq!(PreRecordedDubScript.default_dependencies(true).len(), 1);
        let ar = AsRecordedDubScript.default_dependencies(false);
        assert_eq!(ar[0].kind, PreRecordedDubScript);
        let es = LanguageTag::parse("es-ES").unwrap();
        let fr = LanguageTag::parse("fr-FR").unwrap();
        let ko = LanguageTag::parse("ko").unwrap();
        assert!(ar[0].matches(PreRecordedDubScript, &es, &es, &ko));
        assert!(!ar[0].matches(PreRecordedDubScript, &fr, &es, &ko));
        let ad = AudioDescriptionScript.default_dependencies(false);
        assert!(ad[0].matches(DialogueList, &ko, &es, &ko));
        assert!(!ad[0].matches(DialogueList, &es, &es, &ko));
    }

    #[test]
    fn who_may_be_given_a_step() {
        use crate::ids::OrgId;
        use crate::org::OrgKind;
        use crate::roles::{Role, Roles};
        let a = OrgId::new();
        let studio = OrgId::new();
        let person = |org_id, org_kind, roles: &[Role], disabled| AssigneeFacts {
            name: "Ana",
            org_id,
            org_kind,
            roles: Roles::of(roles),
            disabled,
        };
        let author = person(a, OrgKind::Partner, &[Role::Author], false);
        let other = person(OrgId::new(), OrgKind::Partner, &[Role::Author], true);
        let qc = person(studio, OrgKind::Studio, &[Role::PortalUser], false);
        assert!(check_assignee(Author, Some(a), &author).is_ok());
        assert!(
            check_assignee(Proofread, Some(a), &author)
                .unwrap_err()
                .contains("proofreader role")
        );
        // Another organisation's disabled account: refused without a name.
        let e = check_assignee(Author, Some(a), &other).unwrap_err();
        assert!(!e.contains("Ana"), "{e}");
        assert!(check_assignee(Qc, Some(a), &qc).is_ok());
        assert!(check_assignee(Qc, Some(a), &author).is_err());
        let off = person(a, OrgKind::Partner, &[Role::Author], true);
        assert!(
            check_assignee(Author, Some(a), &off)
                .unwrap_err()
                .contains("disabled")
        );
        let no_portal = person(studio, OrgKind::Studio, &[], false);
        assert!(
            check_assignee(Qc, None, &no_portal)
                .unwrap_err()
                .contains("portal")
        );
    }

    #[test]
    fn dates_and_reasons() {
        let d = |n: u8| time::Date::from_calendar_date(2026, time::Month::December, n).unwrap();
        assert!(is_overdue(Todo(Author), d(3), d(4)));
        assert!(!is_overdue(Done, d(3), d(4)));
        assert!(!is_overdue(Todo(Author), d(4), d(4)));
        assert!(is_at_risk(Todo(Qc), d(4), d(5)));
        assert!(!is_at_risk(Todo(Qc), d(5), d(5)));
        assert!(Reason::parse("  ").is_err());
        assert!(Reason::parse("a\u{202e}b").is_err());
        assert_eq!(
            Reason::parse(" Talent ill \n").unwrap().as_str(),
            "Talent ill"
        );
    }
}
