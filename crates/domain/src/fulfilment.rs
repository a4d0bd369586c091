//! Audio fulfilment: what the studio asks a dubbing partner to record (a Moments clip, a premix
//! dialogue WAV), what the partner sends back, and the review of it.
//!
//! An *audio request* belongs to a title (or an episode). Each language it is for gets its own
//! *fulfilment*, done by the partner assigned to dubbing that language, private to that partner.
//! A fulfilment moves through [`FulfilmentState`] by [`apply`]; every upload the partner sends is
//! a *submission* (version 1, 2, …) whose files the audio checker accepted.

use crate::timecode::{FrameRate, Timecode, TimecodeError};
use std::fmt;

/// What the studio asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AudioKind {
    /// A short clip of the title, re-voiced for marketing (the Moments seed).
    Moments,
    /// The dialogue premix of one episode (or film) in one language.
    Premix,
    /// An audition for a character: talent samples, approved or rejected one by one, and the
    /// talent cast.
    Casting,
}

impl AudioKind {
    pub const ALL: [AudioKind; 3] = [AudioKind::Moments, AudioKind::Premix, AudioKind::Casting];

    pub fn as_str(self) -> &'static str {
        match self {
            AudioKind::Moments => "moments",
            AudioKind::Premix => "premix",
            AudioKind::Casting => "casting",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                format!("unknown audio request type {s:?}; use moments, premix or casting")
            })
    }

    pub fn label(self) -> &'static str {
        match self {
            AudioKind::Moments => "Moments clip",
            AudioKind::Premix => "Premix dialogue WAV",
            AudioKind::Casting => "Audition",
        }
    }

    /// How the partner may deliver this kind.
    pub fn mixes(self) -> &'static [Mix] {
        match self {
            AudioKind::Moments => &[Mix::AsRecord, Mix::Mixed],
            AudioKind::Premix => &[Mix::Premix],
            AudioKind::Casting => &[Mix::Sample],
        }
    }
}

/// How a submission's audio is delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mix {
    /// One mono file per microphone, as recorded (Moments).
    AsRecord,
    /// One stereo interleaved file (Moments).
    Mixed,
    /// One mono premix dialogue file.
    Premix,
    /// One talent sample for an audition (`[Role]_[Actor].wav`).
    Sample,
}

impl Mix {
    pub const ALL: [Mix; 4] = [Mix::AsRecord, Mix::Mixed, Mix::Premix, Mix::Sample];

    pub fn as_str(self) -> &'static str {
        match self {
            Mix::AsRecord => "asrecord",
            Mix::Mixed => "mixed",
            Mix::Premix => "premix",
            Mix::Sample => "sample",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("unknown delivery {s:?}; use asrecord, mixed, premix or sample"))
    }

    pub fn label(self) -> &'static str {
        match self {
            Mix::AsRecord => "As-recorded (mono files)",
            Mix::Mixed => "Mixed (one stereo file)",
            Mix::Premix => "Premix (one mono file)",
            Mix::Sample => "Talent sample (one file)",
        }
    }

    /// At most this many files make one submission.
    pub fn max_files(self) -> usize {
        match self {
            Mix::AsRecord => 16,
            Mix::Mixed | Mix::Premix | Mix::Sample => 1,
        }
    }

    /// Whether the file names carry the talent (`[Title]_[Talent]_Moments_…`).
    pub fn needs_talent(self) -> bool {
        matches!(self, Mix::AsRecord | Mix::Mixed | Mix::Sample)
    }
}

/// Where a fulfilment stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FulfilmentState {
    /// Nothing delivered yet.
    Open,
    /// A version waits for the studio's review.
    Submitted,
    /// The studio asked for changes; the partner sends a new version.
    ChangesRequested,
    /// The studio approved the latest version (an audition: at least one sample).
    Approved,
    /// An audition whose talent is chosen.
    Cast,
}

impl FulfilmentState {
    pub const ALL: [FulfilmentState; 5] = [
        FulfilmentState::Open,
        FulfilmentState::Submitted,
        FulfilmentState::ChangesRequested,
        FulfilmentState::Approved,
        FulfilmentState::Cast,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FulfilmentState::Open => "open",
            FulfilmentState::Submitted => "submitted",
            FulfilmentState::ChangesRequested => "changes_requested",
            FulfilmentState::Approved => "approved",
            FulfilmentState::Cast => "cast",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn label(self) -> &'static str {
        match self {
            FulfilmentState::Open => "Waiting for upload",
            FulfilmentState::Submitted => "In review",
            FulfilmentState::ChangesRequested => "Changes requested",
            FulfilmentState::Approved => "Approved",
            FulfilmentState::Cast => "Cast",
        }
    }
}

impl fmt::Display for FulfilmentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What happens to a fulfilment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FulfilmentEvent {
    /// The partner sends a version (its files already passed the checker).
    Submit,
    Approve,
    RequestChanges,
    /// The studio takes an approval back to ask for more.
    Reopen,
}

impl FulfilmentEvent {
    pub const ALL: [FulfilmentEvent; 4] = [
        FulfilmentEvent::Submit,
        FulfilmentEvent::Approve,
        FulfilmentEvent::RequestChanges,
        FulfilmentEvent::Reopen,
    ];
}

/// Which side acts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    Studio,
    Partner,
}

/// Why a fulfilment cannot move.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal(pub String);

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The fulfilment workflow. The partner submits while nothing is approved (a new version while
/// one waits replaces it in review); the studio approves or asks for changes on a version in
/// review, and may reopen an approval.
pub fn apply(
    state: FulfilmentState,
    event: FulfilmentEvent,
    side: Side,
) -> Result<FulfilmentState, Refusal> {
    use FulfilmentEvent as E;
    use FulfilmentState as S;
    let who = match (event, side) {
        (E::Submit, Side::Studio) => Some("the partner sends versions, not the studio"),
        (E::Approve | E::RequestChanges | E::Reopen, Side::Partner) => {
            Some("only the studio reviews a delivery")
        }
        _ => None,
    };
    if let Some(why) = who {
        return Err(Refusal(why.into()));
    }
    match (event, state) {
        (E::Submit, S::Open | S::Submitted | S::ChangesRequested) => Ok(S::Submitted),
        (E::Submit, S::Approved) => Err(Refusal(
            "this delivery is approved; ask the studio to reopen it before sending a new version"
                .into(),
        )),
        (_, S::Cast) => Err(Refusal(
            "this audition is cast; the studio decides on auditions sample by sample".into(),
        )),
        (E::Approve, S::Submitted) => Ok(S::Approved),
        (E::RequestChanges, S::Submitted) => Ok(S::ChangesRequested),
        (E::Approve | E::RequestChanges, S::Open) => Err(Refusal(
            "nothing has been delivered yet, so there is nothing to review".into(),
        )),
        (E::Approve | E::RequestChanges, S::ChangesRequested) => Err(Refusal(
            "changes were already requested; wait for the partner's next version".into(),
        )),
        (E::Approve | E::RequestChanges, S::Approved) => Err(Refusal(
            "the latest version is already approved; reopen it to ask for changes".into(),
        )),
        (E::Reopen, S::Approved) => Ok(S::ChangesRequested),
        (E::Reopen, _) => Err(Refusal("only an approved delivery can be reopened".into())),
    }
}

/// Where an audition stands, from its samples: what the casting overview shows per character
/// and language.
pub fn casting_state(samples: usize, approved: usize, cast: bool) -> FulfilmentState {
    if cast {
        FulfilmentState::Cast
    } else if approved > 0 {
        FulfilmentState::Approved
    } else if samples > 0 {
        FulfilmentState::Submitted
    } else {
        FulfilmentState::Open
    }
}

/// A studio decision on one talent sample of an audition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SampleDecision {
    Approve,
    Reject,
    /// Choose this (approved) sample's talent for the character in this language.
    Cast,
}

/// Whether a sample may get `decision`, given what it has (`approved`: its latest decision was
/// an approval). Only the studio decides; only an approved sample is cast.
pub fn decide_sample(decision: SampleDecision, side: Side, approved: bool) -> Result<(), Refusal> {
    if side == Side::Partner {
        return Err(Refusal("only the studio decides on talent samples".into()));
    }
    match decision {
        SampleDecision::Cast if !approved => Err(Refusal(
            "approve this sample before casting its talent".into(),
        )),
        _ => Ok(()),
    }
}

/// The span of picture a Moments clip covers, or a premix's programme: in and out points at a
/// frame rate. The out point is exclusive (the first frame after), as in Pro Tools and EDLs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub rate: FrameRate,
    pub tc_in: Timecode,
    pub tc_out: Timecode,
    frames: u64,
}

impl Span {
    pub fn new(rate: FrameRate, tc_in: Timecode, tc_out: Timecode) -> Result<Self, TimecodeError> {
        let a = rate.frames_of(&tc_in)?;
        let b = rate.frames_of(&tc_out)?;
        if b <= a {
            return Err(TimecodeError(format!(
                "the out point {tc_out} must come after the in point {tc_in}"
            )));
        }
        Ok(Self {
            rate,
            tc_in,
            tc_out,
            frames: b - a,
        })
    }

    /// Parses the three fields as typed: "23.976", "01:00:00:00", "01:00:30:00".
    pub fn parse(rate: &str, tc_in: &str, tc_out: &str) -> Result<Self, TimecodeError> {
        let rate = FrameRate::parse(rate)?;
        Self::new(rate, Timecode::parse(tc_in)?, Timecode::parse(tc_out)?)
    }

    /// Frames from in to out.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The frame count as a duration label, "00:00:30:00".
    pub fn duration_label(&self) -> String {
        self.rate.label_of(self.frames).to_string()
    }

    /// How many seconds the span lasts.
    pub fn seconds(&self) -> f64 {
        self.frames as f64 * f64::from(self.rate.den()) / f64::from(self.rate.num())
    }

    /// The timecode of a position `seconds` into the span, for comments pinned to the picture.
    pub fn timecode_at(&self, seconds: f64) -> Option<Timecode> {
        let start = self.rate.frames_of(&self.tc_in).ok()?;
        let frame = (seconds.max(0.0) * f64::from(self.rate.num()) / f64::from(self.rate.den()))
            .floor() as u64;
        Some(
            self.rate
                .label_of(start.saturating_add(frame.min(self.frames))),
        )
    }

    /// Seconds into the span of a timecode inside it (for seeking the player).
    pub fn seconds_of(&self, tc: &Timecode) -> Option<f64> {
        let start = self.rate.frames_of(&self.tc_in).ok()?;
        let at = self.rate.frames_of(tc).ok()?;
        let rel = at.checked_sub(start).filter(|f| *f <= self.frames)?;
        Some(rel as f64 * f64::from(self.rate.den()) / f64::from(self.rate.num()))
    }
}

/// The clip's own duration (from its MP4 header: `duration` units of `1/timescale` s) against
/// the span typed for it. More than one frame apart is refused, saying by how much.
pub fn check_clip_duration(span: &Span, duration: u64, timescale: u64) -> Result<(), String> {
    if timescale == 0 {
        return Err("the clip's MP4 header gives no time scale, so its length is unknown".into());
    }
    let num = u128::from(span.rate.num());
    let den = u128::from(span.rate.den());
    // In units of 1 / (timescale · num) s: the clip lasts duration · num, the span
    // frames · den · timescale, and one frame is den · timescale.
    let have = u128::from(duration) * num;
    let want = u128::from(span.frames()) * den * u128::from(timescale);
    let frame = den * u128::from(timescale);
    let diff = have.abs_diff(want);
    if diff <= frame {
        return Ok(());
    }
    let frames_off = diff as f64 / frame as f64;
    let secs = duration as f64 / timescale as f64;
    let side = if have < want { "shorter" } else { "longer" };
    Err(format!(
        "the clip lasts {secs:.3} s but in {} to out {} is {} ({} frames at {} fps, {:.3} s): \
         the clip is {frames_off:.1} frames {side}; at most 1 frame of difference is accepted",
        span.tc_in,
        span.tc_out,
        span.duration_label(),
        span.frames(),
        span.rate.label(),
        span.seconds()
    ))
}

/// The true peak above which a premix is warned about, unless the request says otherwise.
pub const DEFAULT_TRUE_PEAK_LIMIT_DBTP: f64 = -6.0;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use FulfilmentEvent as E;
    use FulfilmentState as S;

    #[test]
    fn the_workflow_as_a_table() {
        // (event, side, state) → Some(next) or None (refused).
        let expect = |e: E, side: Side, s: S| -> Option<S> {
            match (e, side, s) {
                (E::Submit, Side::Partner, S::Open | S::Submitted | S::ChangesRequested) => {
                    Some(S::Submitted)
                }
                (_, _, S::Cast) => None,
                (E::Approve, Side::Studio, S::Submitted) => Some(S::Approved),
                (E::RequestChanges, Side::Studio, S::Submitted) => Some(S::ChangesRequested),
                (E::Reopen, Side::Studio, S::Approved) => Some(S::ChangesRequested),
                _ => None,
            }
        };
        let mut cells = 0;
        for e in E::ALL {
            for side in [Side::Studio, Side::Partner] {
                for s in S::ALL {
                    let got = apply(s, e, side);
                    assert_eq!(
                        got.clone().ok(),
                        expect(e, side, s),
                        "{e:?} by {side:?} in {s:?}"
                    );
                    if let Err(r) = got {
                        assert!(!r.0.is_empty());
                    }
                    cells += 1;
                }
            }
        }
        assert_eq!(cells, 40);
    }

    #[test]
    fn casting_states_and_sample_decisions() {
        assert_eq!(casting_state(0, 0, false), S::Open);
        assert_eq!(casting_state(2, 0, false), S::Submitted);
        assert_eq!(casting_state(2, 1, false), S::Approved);
        assert_eq!(casting_state(2, 1, true), S::Cast);
        for d in [
            SampleDecision::Approve,
            SampleDecision::Reject,
            SampleDecision::Cast,
        ] {
            assert!(decide_sample(d, Side::Partner, true).is_err());
        }
        assert!(decide_sample(SampleDecision::Cast, Side::Studio, false).is_err());
        assert!(decide_sample(SampleDecision::Cast, Side::Studio, true).is_ok());
        assert!(decide_sample(SampleDecision::Reject, Side::Studio, true).is_ok());
        assert!(Mix::Sample.needs_talent() && Mix::Sample.max_files() == 1);
        assert_eq!(AudioKind::Casting.mixes(), &[Mix::Sample]);
    }

    #[test]
    fn states_and_kinds_round_trip() {
        for s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
        }
        for k in AudioKind::ALL {
            assert_eq!(AudioKind::parse(k.as_str()), Ok(k));
        }
        for m in Mix::ALL {
            assert_eq!(Mix::parse(m.as_str()), Ok(m));
        }
        assert!(Mix::parse("stereo").unwrap_err().contains("asrecord"));
    }

    #[test]
    fn spans_count_frames_with_an_exclusive_out_point() {
        let s = Span::parse("23.976", "01:00:00:00", "01:00:02:00").unwrap();
        assert_eq!(s.frames(), 48);
        assert_eq!(s.duration_label(), "00:00:02:00");
        assert!(Span::parse("24", "01:00:02:00", "01:00:02:00").is_err());
        assert!(Span::parse("24", "01:00:00:00", "01:00:00:30").is_err());
        assert_eq!(s.timecode_at(1.0).unwrap().to_string(), "01:00:00:23");
        assert!(
            (s.seconds_of(&Timecode::parse("01:00:01:00").unwrap())
                .unwrap()
                - 1.001)
                .abs()
                < 1e-9
        );
        assert_eq!(s.seconds_of(&Timecode::parse("00:59:59:00").unwrap()), None);
    }

    #[test]
    fn a_clip_may_differ_from_its_span_by_one_frame_at_most() {
        // 48 frames at 23.976 = 2.002 s; an MP4 time scale of 24000 → 48 048 units.
        let s = Span::parse("23.976", "00:00:00:00", "00:00:02:00").unwrap();
        assert!(check_clip_duration(&s, 48_048, 24_000).is_ok());
        assert!(check_clip_duration(&s, 48_048 + 1001, 24_000).is_ok());
        assert!(check_clip_duration(&s, 48_048 - 1001, 24_000).is_ok());
        let long = check_clip_duration(&s, 48_048 + 2002, 24_000).unwrap_err();
        assert!(long.contains("2.0 frames longer"), "{long}");
        assert!(check_clip_duration(&s, 2_000, 1_000).is_ok());
        let short = check_clip_duration(&s, 1_900, 1_000).unwrap_err();
        assert!(short.contains("frames shorter"), "{short}");
        assert!(check_clip_duration(&s, 1, 0).is_err());
    }
}
