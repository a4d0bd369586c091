//! When notifications become e-mails (issue #4): each person's delivery preference, a
//! project muted by them, and the rule that gathers several notifications into one e-mail.
//! Pure: the outbox worker asks [`send_at`] when a notification is recorded and [`plan`] when
//! it is due.

use crate::ids::{ChannelId, MessageId, ProjectId, UserId};
use crate::notify::NotifyReason;
use crate::values::ValueError;
use std::fmt;
use time::{Duration, OffsetDateTime, Time};

/// How often a person wants e-mail about the projects they follow.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Frequency {
    /// Within a couple of minutes (messages in one channel in that time become one e-mail).
    #[default]
    Immediately,
    /// One digest every quarter of an hour.
    Every15Minutes,
    Hourly,
    /// One digest a day, at [`DAILY_AT`] UTC.
    Daily,
    Off,
}

/// The time of day (UTC) daily digests go out.
pub const DAILY_AT: Time = time::macros::time!(07:00);

/// How long an "immediately" e-mail waits for more messages in the same channel.
pub const DEFAULT_COALESCE: Duration = Duration::minutes(2);

impl Frequency {
    pub const ALL: [Frequency; 5] = [
        Frequency::Immediately,
        Frequency::Every15Minutes,
        Frequency::Hourly,
        Frequency::Daily,
        Frequency::Off,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Immediately => "immediately",
            Frequency::Every15Minutes => "every_15_minutes",
            Frequency::Hourly => "hourly",
            Frequency::Daily => "daily",
            Frequency::Off => "off",
        }
    }

    pub fn parse(s: &str) -> Result<Self, ValueError> {
        Frequency::ALL
            .into_iter()
            .find(|f| f.as_str() == s.trim())
            .ok_or_else(|| {
                ValueError::new(format!(
                    "e-mail frequency must be one of immediately, every_15_minutes, hourly, daily, off (not {s:?})"
                ))
            })
    }

    pub fn label(self) -> &'static str {
        match self {
            Frequency::Immediately => "Immediately",
            Frequency::Every15Minutes => "Digest every 15 minutes",
            Frequency::Hourly => "Hourly digest",
            Frequency::Daily => "Daily digest (07:00 UTC)",
            Frequency::Off => "Off",
        }
    }

    /// Whether e-mails go out one conversation at a time (not as a digest).
    pub fn is_immediate(self) -> bool {
        self == Frequency::Immediately
    }
}

impl fmt::Display for Frequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A person's e-mail preferences (App Settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmailPrefs {
    pub frequency: Frequency,
    /// Mentions go out at once whatever the frequency, even for a muted project.
    pub mentions_immediately: bool,
}

impl Default for EmailPrefs {
    fn default() -> Self {
        Self {
            frequency: Frequency::Immediately,
            mentions_immediately: true,
        }
    }
}

/// When the notification of a message created at `created` should be e-mailed to someone with
/// these preferences, or `None` for never. `muted`: they muted the message's project.
pub fn send_at(
    created: OffsetDateTime,
    reason: NotifyReason,
    prefs: &EmailPrefs,
    muted: bool,
    coalesce: Duration,
) -> Option<OffsetDateTime> {
    if reason == NotifyReason::Mention && prefs.mentions_immediately {
        return Some(created);
    }
    if muted {
        return None;
    }
    match prefs.frequency {
        Frequency::Off => None,
        Frequency::Immediately => Some(created + coalesce),
        Frequency::Every15Minutes => Some(next_boundary(created, Duration::minutes(15))),
        Frequency::Hourly => Some(next_boundary(created, Duration::hours(1))),
        Frequency::Daily => {
            let utc = created.to_offset(time::UtcOffset::UTC);
            let today = utc.replace_time(DAILY_AT);
            Some(if today > utc {
                today
            } else {
                today + Duration::days(1)
            })
        }
    }
}

/// The first multiple of `step` (counted from midnight UTC) strictly after `t`.
fn next_boundary(t: OffsetDateTime, step: Duration) -> OffsetDateTime {
    let utc = t.to_offset(time::UtcOffset::UTC);
    let midnight = utc.replace_time(Time::MIDNIGHT);
    let since = utc - midnight;
    let steps = since.whole_seconds() / step.whole_seconds() + 1;
    midnight + step * i32::try_from(steps).unwrap_or(i32::MAX)
}

/// A notification waiting in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub user_id: UserId,
    pub message_id: MessageId,
    pub project_id: ProjectId,
    pub channel_id: ChannelId,
    pub reason: NotifyReason,
    pub created_at: OffsetDateTime,
    /// When it is to be e-mailed ([`send_at`]).
    pub due_at: OffsetDateTime,
    /// Already read in the portal before the e-mail went out: left out of it.
    pub read: bool,
    /// Sent on its own, at once (a mention for someone who wants mentions immediately).
    pub urgent: bool,
}

/// One e-mail to write: its recipient and the notifications it covers, oldest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    pub user_id: UserId,
    /// `Some` for a conversation e-mail (one channel); `None` for a digest.
    pub channel_id: Option<ChannelId>,
    pub notes: Vec<Pending>,
}

/// What to do with one person's pending notifications at a given moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// The e-mails to write now.
    pub emails: Vec<Planned>,
    /// Notifications read in the portal already: never e-mailed.
    pub dropped: Vec<MessageId>,
}

/// Gathers one person's pending notifications into the e-mails due at `now`. Read ones are
/// dropped. With "immediately", one e-mail per channel; with a digest frequency, one digest,
/// except that urgent mentions travel in a conversation e-mail of their channel. An e-mail is
/// due when its earliest notification is, and then takes every later one of its group along
/// (that is the coalescing: messages of a channel within the window share one e-mail).
pub fn plan(frequency: Frequency, pending: Vec<Pending>, now: OffsetDateTime) -> Plan {
    let mut groups: Vec<Planned> = Vec::new();
    let mut dropped = Vec::new();
    let mut notes = pending;
    notes.sort_by_key(|p| (p.created_at, p.message_id));
    for p in notes {
        if p.read {
            dropped.push(p.message_id);
            continue;
        }
        let per_channel = frequency.is_immediate() || p.urgent;
        let channel = per_channel.then_some(p.channel_id);
        match groups
            .iter_mut()
            .find(|e| e.user_id == p.user_id && e.channel_id == channel)
        {
            Some(e) => {
                if !e.notes.iter().any(|n| n.message_id == p.message_id) {
                    e.notes.push(p);
                }
            }
            None => groups.push(Planned {
                user_id: p.user_id,
                channel_id: channel,
                notes: vec![p],
            }),
        }
    }
    let emails = groups
        .into_iter()
        .filter(|g| g.notes.iter().any(|n| n.due_at <= now))
        .collect();
    Plan { emails, dropped }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn frequencies_round_trip() {
        for f in Frequency::ALL {
            assert_eq!(Frequency::parse(f.as_str()).unwrap(), f);
        }
        assert!(
            Frequency::parse("weekly")
                .unwrap_err()
                .0
                .contains("immediately, every_15_minutes")
        );
    }

    /// (frequency, mentions immediately, muted, reason) → when, for a message at 10:07:30 UTC.
    #[test]
    fn when_each_notification_goes_out() {
        use Frequency::*;
        use NotifyReason::{Broadcast, Mention, Vendor};
        let t = datetime!(2026-11-22 10:07:30 UTC);
        let w = DEFAULT_COALESCE;
        #[rustfmt::skip]
        let table: [(Frequency, bool, bool, NotifyReason, Option<OffsetDateTime>); 14] = [
            (Immediately,    true,  false, Broadcast, Some(datetime!(2026-11-22 10:09:30 UTC))),
            (Immediately,    true,  false, Mention,   Some(t)),
            (Immediately,    false, false, Mention,   Some(datetime!(2026-11-22 10:09:30 UTC))),
            (Every15Minutes, true,  false, Vendor,    Some(datetime!(2026-11-22 10:15:00 UTC))),
            (Every15Minutes, true,  false, Mention,   Some(t)),
            (Every15Minutes, false, false, Mention,   Some(datetime!(2026-11-22 10:15:00 UTC))),
            (Hourly,         true,  false, Broadcast, Some(datetime!(2026-11-22 11:00:00 UTC))),
            (Daily,          true,  false, Broadcast, Some(datetime!(2026-11-23 07:00:00 UTC))),
            (Off,            true,  false, Broadcast, None),
            (Off,            true,  false, Mention,   Some(t)),
            (Off,            false, false, Mention,   None),
            (Immediately,    true,  true,  Broadcast, None),
            (Immediately,    true,  true,  Mention,   Some(t)),
            (Immediately,    false, true,  Mention,   None),
        ];
        for (frequency, mentions_immediately, muted, reason, want) in table {
            let prefs = EmailPrefs {
                frequency,
                mentions_immediately,
            };
            assert_eq!(
                send_at(t, reason, &prefs, muted, w),
                want,
                "{frequency:?} mentions_immediately={mentions_immediately} muted={muted} {reason:?}"
            );
        }
        // A daily digest before 07:00 goes out the same day; boundaries are strictly after.
        let early = datetime!(2026-11-22 06:59:59 UTC);
        let daily = EmailPrefs {
            frequency: Daily,
            mentions_immediately: false,
        };
        assert_eq!(
            send_at(early, Broadcast, &daily, false, w),
            Some(datetime!(2026-11-22 07:00 UTC))
        );
        let on = datetime!(2026-11-22 10:15:00 UTC);
        let quarter = EmailPrefs {
            frequency: Every15Minutes,
            mentions_immediately: false,
        };
        assert_eq!(
            send_at(on, Broadcast, &quarter, false, w),
            Some(datetime!(2026-11-22 10:30 UTC))
        );
    }

    #[test]
    fn plans_gather_by_channel_or_into_a_digest_and_skip_what_was_read() {
        let u = UserId::new();
        let (c1, c2) = (ChannelId::new(), ChannelId::new());
        let p = ProjectId::new();
        let t = datetime!(2026-11-22 10:00 UTC);
        let note = |channel, minute: i64, read, urgent, reason| Pending {
            user_id: u,
            message_id: MessageId::new(),
            project_id: p,
            channel_id: channel,
            reason,
            created_at: t + Duration::minutes(minute),
            due_at: t + Duration::minutes(minute),
            read,
            urgent,
        };
        use NotifyReason::{Broadcast, Mention};
        let due = vec![
            note(c1, 1, false, false, Broadcast),
            note(c2, 2, false, false, Broadcast),
            note(c1, 3, false, false, Broadcast),
            note(c1, 4, true, false, Broadcast),
            note(c2, 5, false, true, Mention),
        ];
        let later = t + Duration::hours(1);
        let planned = plan(Frequency::Immediately, due.clone(), later);
        assert_eq!(
            planned.dropped,
            vec![due[3].message_id],
            "the read one is dropped"
        );
        let immediate = planned.emails;
        assert_eq!(immediate.len(), 2);
        assert_eq!(immediate[0].channel_id, Some(c1));
        assert_eq!(immediate[0].notes.len(), 2, "the read one is left out");
        assert_eq!(immediate[1].channel_id, Some(c2));
        assert_eq!(immediate[1].notes.len(), 2);

        let digest = plan(Frequency::Hourly, due.clone(), later).emails;
        assert_eq!(digest.len(), 2);
        assert_eq!(digest[0].channel_id, None);
        assert_eq!(digest[0].notes.len(), 3);
        assert_eq!(
            digest[1].channel_id,
            Some(c2),
            "the urgent mention goes on its own"
        );

        assert!(
            plan(
                Frequency::Immediately,
                vec![note(c1, 0, true, false, Broadcast)],
                later
            )
            .emails
            .is_empty()
        );

        // Coalescing: at 10:03 only channel 1's group is due (its first note was due at
        // 10:01); it takes the note of 10:03 along. Channel 2's first note is due at 10:02.
        let at_1002 = plan(
            Frequency::Immediately,
            due.clone(),
            t + Duration::minutes(2),
        );
        assert_eq!(at_1002.emails.len(), 2);
        let at_1001 = plan(Frequency::Immediately, due, t + Duration::minutes(1)).emails;
        assert_eq!(at_1001.len(), 1, "only channel 1 is due");
        assert_eq!(at_1001[0].channel_id, Some(c1));
        assert_eq!(
            at_1001[0].notes.len(),
            2,
            "the later message of the channel rides along"
        );
        assert!(
            plan(
                Frequency::Immediately,
                vec![note(c1, 5, false, false, Broadcast)],
                t
            )
            .emails
            .is_empty(),
            "nothing is due yet"
        );
    }
}
