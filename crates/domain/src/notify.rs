//! Who is to be told about a new message (PRODUCT.md §3.1). Pure: the caller supplies the
//! candidates (the project's followers and the mentioned users) with their access facts; the
//! e-mail issue delivers what this decides, respecting each person's preferences.

use crate::channels::ChannelKind;
use crate::ids::UserId;
use crate::policy::{
    Action, RequestAction, RequestFacts, Resource, Subject, authorize, authorize_request,
};
use crate::project::Assignment;
use crate::requests::Step;

/// Why someone is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NotifyReason {
    /// They were @mentioned (told even if they do not follow the project).
    Mention,
    /// A new Broadcast message in a project they follow.
    Broadcast,
    /// A new message in a vendor channel of a project they follow, from the other side.
    Vendor,
    /// A new Internal message in a project they follow.
    Internal,
}

impl NotifyReason {
    pub fn as_str(&self) -> &'static str {
        match self {
            NotifyReason::Mention => "mention",
            NotifyReason::Broadcast => "broadcast",
            NotifyReason::Vendor => "vendor",
            NotifyReason::Internal => "internal",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Mention, Self::Broadcast, Self::Vendor, Self::Internal]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// Someone who might be told: a follower of the project, a mentioned user, or both.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub subject: Subject,
    pub follows: bool,
    pub mentioned: bool,
}

/// The people to tell about a new message in a channel of `kind`, posted by `author` (`None`:
/// the robot), and why. Never the author; never anyone who cannot read the channel; one entry
/// per person, a mention taking precedence.
pub fn recipients(
    author: Option<&Subject>,
    kind: &ChannelKind,
    assignments: &[Assignment],
    candidates: &[Candidate],
) -> Vec<(UserId, NotifyReason)> {
    let author_is_studio = author.is_none_or(Subject::is_studio);
    let mut out: Vec<(UserId, NotifyReason)> = Vec::new();
    for c in candidates {
        let s = &c.subject;
        if author.is_some_and(|a| a.user_id == s.user_id) {
            continue;
        }
        let readable = authorize(
            Some(s),
            Action::ReadChannel,
            Resource::Channel { kind, assignments },
        )
        .is_allowed();
        if !readable {
            continue;
        }
        let reason = if c.mentioned {
            Some(NotifyReason::Mention)
        } else if !c.follows {
            None
        } else {
            match kind {
                ChannelKind::Broadcast => Some(NotifyReason::Broadcast),
                ChannelKind::Internal => Some(NotifyReason::Internal),
                // The other side of the conversation: a partner's message tells the studio's
                // followers; the studio's message tells the partner's followers of that language.
                ChannelKind::Vendor(..) => {
                    (s.is_studio() != author_is_studio).then_some(NotifyReason::Vendor)
                }
            }
        };
        if let Some(r) = reason
            && !out.iter().any(|(u, _)| *u == s.user_id)
        {
            out.push((s.user_id, r));
        }
    }
    out.sort();
    out
}

/// Something that happened to a request that may give someone work to do. Together with the
/// robot's message in the language's vendor channel (which reaches that channel's followers by
/// the rules above, so the partner's followers on that language and the studio's followers),
/// these are the rules of requests:
///
/// | happening | who gets a task e-mail |
/// |---|---|
/// | a step is assigned | the new assignee |
/// | a step becomes the current one (the step before was submitted) | that step's assignee (QC: the studio reviewer) |
/// | QC returns the work to a step | that step's assignee, with the reason |
/// | ordered, approved, EDD changed | nobody by e-mail of their own: the robot tells the channel |
///
/// Never the person who caused it, never someone who may no longer work on that step (a
/// linguist who left the partner, a disabled account's caller checks), and never a script
/// viewer (they have no step).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequestHappening {
    Assigned(Step),
    StepReady(Step),
    Returned(Step),
    Ordered,
    Approved,
    EddChanged,
}

/// Why someone gets a task e-mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskReason {
    Assigned,
    YourTurn,
    Returned,
}

/// Who gets a task e-mail about `happening` on a request, if anyone: the assignee of the step
/// concerned (`assignee`, with their access facts), judged by the request policy.
pub fn task_recipient(
    happening: RequestHappening,
    actor: UserId,
    assignee: Option<&Subject>,
    request: &RequestFacts<'_>,
) -> Option<(UserId, TaskReason)> {
    let (step, reason) = match happening {
        RequestHappening::Assigned(s) => (s, TaskReason::Assigned),
        RequestHappening::StepReady(s) => (s, TaskReason::YourTurn),
        RequestHappening::Returned(s) => (s, TaskReason::Returned),
        RequestHappening::Ordered | RequestHappening::Approved | RequestHappening::EddChanged => {
            return None;
        }
    };
    let who = assignee?;
    if who.user_id == actor || request.assignees[step.index()] != Some(who.user_id) {
        return None;
    }
    let action = match step {
        Step::Qc => RequestAction::Review,
        s => RequestAction::WorkOn(s),
    };
    authorize_request(Some(who), action, request)
        .is_allowed()
        .then_some((who.user_id, reason))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::channels::{ChannelPrefs, WorkLanguages};
    use crate::ids::OrgId;
    use crate::org::OrgKind;
    use crate::project::Service;
    use crate::roles::{Role, Roles};
    use crate::values::LanguageTag;

    fn person(org: OrgId, kind: OrgKind, roles: &[Role], internal: bool) -> Subject {
        Subject {
            user_id: UserId::new(),
            org_id: org,
            org_kind: kind,
            roles: Roles::of(roles),
            prefs: ChannelPrefs {
                internal_messages: internal,
                languages: WorkLanguages::All,
            },
        }
    }

    /// Every rule of PRODUCT.md §3.1 and its exceptions, as a table.
    #[test]
    fn recipient_table() {
        use NotifyReason::*;
        let studio = OrgId::new();
        let a = OrgId::new();
        let b = OrgId::new();
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
                service: Service::Dubbing,
                org_id: b,
            },
        ];
        let pm = person(
            studio,
            OrgKind::Studio,
            &[Role::PortalUser, Role::Manager],
            true,
        );
        let qc_internal_off = person(studio, OrgKind::Studio, &[Role::PortalUser], false);
        let studio_not_following = person(studio, OrgKind::Studio, &[Role::PortalUser], true);
        let a_pm = person(a, OrgKind::Partner, &[Role::PortalUser], false);
        let mut a_other_language = person(a, OrgKind::Partner, &[Role::PortalUser], false);
        a_other_language.prefs.languages = WorkLanguages::Only(vec![pt.clone()]);
        let b_pm = person(b, OrgKind::Partner, &[Role::PortalUser], false);
        let linguist = person(a, OrgKind::Partner, &[Role::Author], false);
        let everyone = |mentioned: &[&Subject]| -> Vec<Candidate> {
            [
                &pm,
                &qc_internal_off,
                &a_pm,
                &a_other_language,
                &b_pm,
                &linguist,
            ]
            .into_iter()
            .map(|s| Candidate {
                subject: s.clone(),
                follows: true,
                mentioned: mentioned.iter().any(|m| m.user_id == s.user_id),
            })
            .chain(std::iter::once(Candidate {
                subject: studio_not_following.clone(),
                follows: false,
                mentioned: mentioned
                    .iter()
                    .any(|m| m.user_id == studio_not_following.user_id),
            }))
            .collect()
        };
        let ids = |v: &[(&Subject, NotifyReason)]| -> Vec<(UserId, NotifyReason)> {
            let mut out: Vec<_> = v.iter().map(|(s, r)| (s.user_id, *r)).collect();
            out.sort();
            out
        };
        let vendor_es = ChannelKind::Vendor(es.clone(), a);
        type Row<'a> = (
            &'a str,
            Option<&'a Subject>,
            ChannelKind,
            Vec<&'a Subject>,
            Vec<(&'a Subject, NotifyReason)>,
        );
        #[rustfmt::skip]
        let table: Vec<Row> = vec![
            ("broadcast by the PM: every follower who can read it, not the author, not the linguist",
             Some(&pm), ChannelKind::Broadcast, vec![],
             vec![(&qc_internal_off, Broadcast), (&a_pm, Broadcast), (&a_other_language, Broadcast), (&b_pm, Broadcast)]),
            ("broadcast by the robot: the PM too",
             None, ChannelKind::Broadcast, vec![],
             vec![(&pm, Broadcast), (&qc_internal_off, Broadcast), (&a_pm, Broadcast), (&a_other_language, Broadcast), (&b_pm, Broadcast)]),
            ("partner message in its vendor channel: studio followers only",
             Some(&a_pm), vendor_es.clone(), vec![],
             vec![(&pm, Vendor), (&qc_internal_off, Vendor)]),
            ("studio message in a vendor channel: that partner's followers working on the language",
             Some(&pm), vendor_es.clone(), vec![],
             vec![(&a_pm, Vendor)]),
            ("internal: studio followers with internal messages on",
             Some(&pm), ChannelKind::Internal, vec![],
             vec![]),
            ("internal by QC with internal off cannot happen, but the PM with it on is told when QC's colleague posts",
             Some(&studio_not_following), ChannelKind::Internal, vec![],
             vec![(&pm, Internal)]),
            ("mention: the mentioned user even if not following",
             Some(&a_pm), vendor_es.clone(), vec![&studio_not_following],
             vec![(&pm, Vendor), (&qc_internal_off, Vendor), (&studio_not_following, Mention)]),
            ("mention takes precedence over the follower reason",
             Some(&pm), vendor_es.clone(), vec![&a_pm],
             vec![(&a_pm, Mention)]),
            ("a mention of someone who cannot read is dropped (the app refuses it before this)",
             Some(&pm), vendor_es.clone(), vec![&b_pm],
             vec![(&a_pm, Vendor)]),
            ("mentioning oneself tells nobody",
             Some(&pm), ChannelKind::Broadcast, vec![&pm],
             vec![(&qc_internal_off, Broadcast), (&a_pm, Broadcast), (&a_other_language, Broadcast), (&b_pm, Broadcast)]),
        ];
        for (rule, author, kind, mentioned, want) in table {
            let got = recipients(author, &kind, &assignments, &everyone(&mentioned));
            assert_eq!(got, ids(&want), "{rule}");
        }
    }

    /// The task e-mail rules of requests, as a table.
    #[test]
    fn task_recipient_table() {
        use crate::requests::RequestKind;
        use RequestHappening::*;
        let studio = OrgId::new();
        let a = OrgId::new();
        let b = OrgId::new();
        let pm = person(
            studio,
            OrgKind::Studio,
            &[Role::PortalUser, Role::Manager],
            true,
        );
        let qc = person(studio, OrgKind::Studio, &[Role::PortalUser], true);
        let a_pm = person(a, OrgKind::Partner, &[Role::PortalUser], false);
        let author = person(a, OrgKind::Partner, &[Role::Author], false);
        let proofreader = person(a, OrgKind::Partner, &[Role::Proofreader], false);
        let moved = person(b, OrgKind::Partner, &[Role::Author], false);
        let assignees = [
            Some(author.user_id),
            Some(proofreader.user_id),
            Some(qc.user_id),
        ];
        let facts = RequestFacts {
            kind: RequestKind::DialogueList,
            partner: Some(a),
            assignees: &assignees,
            script_viewer: false,
        };
        let moved_assignees = [Some(moved.user_id), None, None];
        let moved_facts = RequestFacts {
            assignees: &moved_assignees,
            ..facts
        };
        type Case<'a> = (
            RequestHappening,
            &'a Subject,
            Option<&'a Subject>,
            &'a RequestFacts<'a>,
            Option<TaskReason>,
        );
        let cases: [Case; 12] = [
            (
                Assigned(Step::Author),
                &a_pm,
                Some(&author),
                &facts,
                Some(TaskReason::Assigned),
            ),
            (
                Assigned(Step::Qc),
                &pm,
                Some(&qc),
                &facts,
                Some(TaskReason::Assigned),
            ),
            // Assigning oneself, or the one who acts: no e-mail.
            (Assigned(Step::Author), &author, Some(&author), &facts, None),
            (
                StepReady(Step::Proofread),
                &author,
                Some(&proofreader),
                &facts,
                Some(TaskReason::YourTurn),
            ),
            (
                StepReady(Step::Qc),
                &proofreader,
                Some(&qc),
                &facts,
                Some(TaskReason::YourTurn),
            ),
            (
                Returned(Step::Author),
                &qc,
                Some(&author),
                &facts,
                Some(TaskReason::Returned),
            ),
            // Nobody on the step: nobody to tell.
            (StepReady(Step::Proofread), &author, None, &facts, None),
            // Someone who is not the step's assignee is never told.
            (
                StepReady(Step::Proofread),
                &author,
                Some(&a_pm),
                &facts,
                None,
            ),
            // A linguist who now works for another partner is not told of this partner's work.
            (
                Assigned(Step::Author),
                &a_pm,
                Some(&moved),
                &moved_facts,
                None,
            ),
            (Ordered, &pm, Some(&author), &facts, None),
            (Approved, &qc, Some(&author), &facts, None),
            (EddChanged, &a_pm, Some(&author), &facts, None),
        ];
        for (i, (h, actor, assignee, f, want)) in cases.iter().enumerate() {
            let got = task_recipient(*h, actor.user_id, *assignee, f).map(|(_, r)| r);
            assert_eq!(got, *want, "case {i}: {h:?}");
        }
    }
}
