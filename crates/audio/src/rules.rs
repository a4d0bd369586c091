//! Delivery rules on top of the structure: profiles, exact length, and file-name patterns.

use domain::timecode::{FrameRate, SampleCount, Timecode};

use crate::finding::{Code, Finding, group, plural};
use crate::wav::{Encoding, Format};

/// A delivery profile: which formats are accepted and which extra rules apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Profile {
    /// The container is sound and its length certain; any PCM or float format.
    #[default]
    Wellformed,
    /// Moments "as recorded": PCM 16/24-bit, 48 kHz, mono; Moments name; exact length.
    MomentsAsRecord,
    /// Moments "mixed": as above, stereo interleaved.
    MomentsMixed,
    /// Voice test kit: the format rules of moments-asrecord (no Moments name).
    Vtk,
    /// Premix dialogue: mono PCM 24-bit 48 kHz, programme length, true peak ≤ −6 dBTP (warning).
    Premix,
    /// Casting sample: format of moments-asrecord, 30–60 s (warning), `[Role]_[Actor].wav`.
    CastingSample,
}

impl Profile {
    pub const ALL: [Profile; 6] = [
        Self::Wellformed,
        Self::MomentsAsRecord,
        Self::MomentsMixed,
        Self::Vtk,
        Self::Premix,
        Self::CastingSample,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wellformed => "wellformed",
            Self::MomentsAsRecord => "moments-asrecord",
            Self::MomentsMixed => "moments-mixed",
            Self::Vtk => "vtk",
            Self::Premix => "premix",
            Self::CastingSample => "casting-sample",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        let wanted = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == wanted)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|p| p.as_str()).collect();
                format!("unknown profile {s:?}; use one of {}", names.join(", "))
            })
    }

    /// Channels the profile requires.
    fn channels(self) -> Option<u16> {
        match self {
            Self::Wellformed => None,
            Self::MomentsMixed => Some(2),
            _ => Some(1),
        }
    }

    fn bits(self) -> Option<&'static [u16]> {
        match self {
            Self::Wellformed => None,
            Self::Premix => Some(&[24]),
            _ => Some(&[16, 24]),
        }
    }

    /// Whether the deliverable must match a requested length.
    pub fn wants_length(self) -> bool {
        matches!(
            self,
            Self::MomentsAsRecord | Self::MomentsMixed | Self::Vtk | Self::Premix
        )
    }

    /// Whether the profile has a rule that needs the QC pass (premix: true peak).
    pub fn needs_qc(self) -> bool {
        self == Self::Premix
    }
}

/// Format rules of a profile.
pub fn check_format(profile: Profile, f: &Format) -> Vec<Finding> {
    let mut out = Vec::new();
    if profile == Profile::Wellformed {
        return out;
    }
    let p = profile.as_str();
    if f.encoding != Some(Encoding::Pcm) {
        let what = match f.encoding {
            Some(Encoding::Float) => "IEEE float",
            _ => "not PCM",
        };
        out.push(Finding::error(
            Code::WrongEncoding,
            format!("the audio is {what}; {p} needs integer PCM"),
        ));
    }
    if let Some(bits) = profile.bits() {
        let valid = f.valid_bits.filter(|v| *v != 0).unwrap_or(f.bits);
        if !bits.contains(&f.bits) || valid != f.bits {
            let allowed: Vec<String> = bits.iter().map(u16::to_string).collect();
            let shown = if valid != f.bits {
                format!("{valid} valid bits in {}", f.bits)
            } else {
                f.bits.to_string()
            };
            out.push(Finding::error(
                Code::WrongBits,
                format!("{shown}-bit audio; {p} needs {}-bit", allowed.join(" or ")),
            ));
        }
    }
    if f.sample_rate != 48_000 {
        out.push(Finding::error(
            Code::WrongSampleRate,
            format!(
                "sample rate {} Hz; {p} needs 48,000 Hz",
                group(u64::from(f.sample_rate))
            ),
        ));
    }
    if let Some(ch) = profile.channels()
        && f.channels != ch
    {
        let need = if ch == 1 {
            "1 channel (mono)".to_string()
        } else {
            "2 channels (stereo interleaved)".to_string()
        };
        out.push(Finding::error(
            Code::WrongChannels,
            format!(
                "{}; {p} needs {need}",
                plural(u64::from(f.channels), "channel", "channels")
            ),
        ));
    }
    out
}

/// The length a deliverable must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectedLength {
    Samples(u64),
    Frames(u64),
    /// In and out points; the out point is exclusive (the first frame after the clip), as in
    /// Pro Tools and EDLs.
    Timecodes {
        tc_in: Timecode,
        tc_out: Timecode,
    },
}

impl ExpectedLength {
    /// Frames, where the length is given in frames. Fails on labels that do not exist at the
    /// rate, or an out point not after the in point.
    pub fn frames(&self, fps: Option<FrameRate>) -> Result<Option<u64>, String> {
        match self {
            Self::Samples(_) => Ok(None),
            Self::Frames(n) => {
                if fps.is_none() {
                    return Err("--frames needs --fps".into());
                }
                Ok(Some(*n))
            }
            Self::Timecodes { tc_in, tc_out } => {
                let Some(fps) = fps else {
                    return Err("--tc-in/--tc-out need --fps".into());
                };
                let a = fps.frames_of(tc_in).map_err(|e| e.to_string())?;
                let b = fps.frames_of(tc_out).map_err(|e| e.to_string())?;
                if b <= a {
                    return Err(format!("--tc-out {tc_out} is not after --tc-in {tc_in}"));
                }
                Ok(Some(b - a))
            }
        }
    }

    /// The acceptable sample counts at `rate`.
    pub fn samples(&self, fps: Option<FrameRate>, rate: u32) -> Result<SampleCount, String> {
        if let Self::Samples(n) = self {
            return Ok(SampleCount::Exact(*n));
        }
        match (self.frames(fps)?, fps) {
            (Some(frames), Some(fps)) => Ok(fps.frames_to_samples(frames, rate)),
            _ => Err("a frame count needs --fps".into()),
        }
    }
}

/// A duration as timecode: whole frames, plus leftover samples when it is not a whole number.
pub fn duration_label(samples: u64, rate: u32, fps: FrameRate) -> String {
    let fc = fps.samples_to_frames(samples, rate);
    let label = fps.label_of(fc.whole).to_string();
    let back = match fps.frames_to_samples(fc.whole, rate) {
        SampleCount::Exact(n) | SampleCount::Between { floor: n, .. } => n,
    };
    let extra = samples.saturating_sub(back);
    if fc.fraction > 0.0 && extra > 0 {
        format!("{label} + {}", plural(extra, "sample", "samples"))
    } else {
        label
    }
}

fn frames_phrase(samples: u64, rate: u32, fps: FrameRate) -> String {
    let fc = fps.samples_to_frames(samples, rate);
    if fc.fraction == 0.0 {
        format!("{} at {} fps", plural(fc.whole, "frame", "frames"), fps)
    } else {
        format!("{:.2} frames at {} fps", fc.whole as f64 + fc.fraction, fps)
    }
}

fn seconds_phrase(samples: u64, rate: u32) -> String {
    let ms = samples as f64 * 1000.0 / f64::from(rate.max(1));
    if ms < 1000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.3} s", ms / 1000.0)
    }
}

/// Compares the file's length with the expectation. Returns the error, if any.
pub fn check_length(
    have: u64,
    expected: SampleCount,
    rate: u32,
    fps: Option<FrameRate>,
) -> Option<Finding> {
    if expected.accepts(have) {
        return None;
    }
    let target = expected.nearest(have);
    let (diff, how) = if have < target {
        (target - have, "short")
    } else {
        (have - target, "long")
    };
    let amount = match fps {
        Some(f) => frames_phrase(diff, rate, f),
        None => seconds_phrase(diff, rate),
    };
    let expected_text = match expected {
        SampleCount::Exact(n) => group(n),
        SampleCount::Between { floor, ceil } => format!("{} or {}", group(floor), group(ceil)),
    };
    let (have_tc, want_tc) = match fps {
        Some(f) => (
            format!(" ({})", duration_label(have, rate, f)),
            format!(" ({})", duration_label(target, rate, f)),
        ),
        None => (String::new(), String::new()),
    };
    Some(Finding::error(
        Code::LengthMismatch,
        format!(
            "{} ({amount}) {how}: the file has {}{have_tc}, the clip needs {expected_text}{want_tc}",
            plural(diff, "sample", "samples"),
            plural(have, "sample", "samples"),
        ),
    ))
}

/// The comparable form of a name part: lower case, letters and digits only. So "Stranger
/// Things", "stranger_things", "Stranger-Things" and "StrangerThings" are the same title.
pub fn canonical(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The Moments kind suffix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MomentsKind {
    AsRecord,
    Mixed,
}

impl MomentsKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::AsRecord => "AsRecord",
            Self::Mixed => "Mixed",
        }
    }

    fn channels(self) -> u16 {
        match self {
            Self::AsRecord => 1,
            Self::Mixed => 2,
        }
    }
}

fn stem_of(name: &str, out: &mut Vec<Finding>) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let (stem, ext) = match base.rsplit_once('.') {
        Some((s, e)) => (s, e),
        None => (base, ""),
    };
    if !ext.eq_ignore_ascii_case("wav") {
        out.push(Finding::error(
            Code::NameExtension,
            format!("the name {base:?} must end in .wav"),
        ));
        return None;
    }
    if ext != "wav" {
        out.push(Finding::warning(
            Code::NameExtension,
            format!("the name {base:?} ends in .{ext}; write .wav in lower case"),
        ));
    }
    if base
        .chars()
        .any(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        out.push(Finding::warning(
            Code::NameCharacters,
            format!(
                "the name {base:?} has spaces or characters other than A–Z, a–z, 0–9, '.', '_' and '-', \
                 which other systems may change"
            ),
        ));
    }
    Some(stem.to_string())
}

fn compare_part(code: Code, what: &str, part: &str, wanted: Option<&str>, out: &mut Vec<Finding>) {
    if let Some(w) = wanted
        && canonical(part) != canonical(w)
    {
        out.push(Finding::error(
            code,
            format!(
                "the {what} in the name is {part:?} but the request is for {w:?} \
                 (compared ignoring case, spaces and punctuation)"
            ),
        ));
    }
}

/// Checks `[Title]_[Talent]_Moments_[AsRecord|Mixed].wav`. The name is split from the right,
/// so a title may itself contain underscores; the talent may not.
pub fn check_moments_name(
    name: &str,
    channels: Option<u16>,
    profile_kind: Option<MomentsKind>,
    title: Option<&str>,
    talent: Option<&str>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(stem) = stem_of(name, &mut out) else {
        return out;
    };
    let pattern = "[Title]_[Talent]_Moments_[AsRecord|Mixed].wav";
    let parts: Vec<&str> = stem.rsplitn(4, '_').collect();
    let [kind, moments, talent_part, title_part] = parts.as_slice() else {
        out.push(Finding::error(
            Code::NamePattern,
            format!("the name {name:?} does not follow {pattern}"),
        ));
        return out;
    };
    if *moments != "Moments" {
        let hint = if moments.eq_ignore_ascii_case("moments") {
            " (write it exactly \"Moments\")"
        } else {
            ""
        };
        out.push(Finding::error(
            Code::NamePattern,
            format!("the third part of the name is {moments:?}, expected \"Moments\"{hint}; the pattern is {pattern}"),
        ));
    }
    let kind = match *kind {
        "AsRecord" => Some(MomentsKind::AsRecord),
        "Mixed" => Some(MomentsKind::Mixed),
        other => {
            let c = canonical(other);
            let hint = if c == "asrecord" || c == "asrecorded" {
                " (write it exactly \"AsRecord\")"
            } else if c == "mixed" || c == "mix" {
                " (write it exactly \"Mixed\")"
            } else {
                ""
            };
            out.push(Finding::error(
                Code::NamePattern,
                format!("the name ends in {other:?}, expected \"AsRecord\" or \"Mixed\"{hint}"),
            ));
            None
        }
    };
    if title_part.trim().is_empty() || talent_part.trim().is_empty() {
        out.push(Finding::error(
            Code::NamePattern,
            format!("the title and talent parts of {name:?} must not be empty"),
        ));
    }
    if let Some(k) = kind {
        if let Some(ch) = channels
            && ch != k.channels()
        {
            out.push(Finding::error(
                Code::NameKindChannels,
                format!(
                    "the name says {} but the file has {}; {} files are {}",
                    k.as_str(),
                    plural(u64::from(ch), "channel", "channels"),
                    k.as_str(),
                    if k == MomentsKind::AsRecord {
                        "mono"
                    } else {
                        "stereo"
                    }
                ),
            ));
        }
        if let Some(pk) = profile_kind
            && pk != k
        {
            out.push(Finding::error(
                Code::NameKindChannels,
                format!(
                    "the name says {} but the delivery is {}",
                    k.as_str(),
                    pk.as_str()
                ),
            ));
        }
    }
    compare_part(Code::NameTitle, "title", title_part, title, &mut out);
    compare_part(Code::NameTalent, "talent", talent_part, talent, &mut out);
    out
}

/// Checks `[Role]_[Actor].wav` (split at the last underscore).
pub fn check_casting_name(name: &str, talent: Option<&str>) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(stem) = stem_of(name, &mut out) else {
        return out;
    };
    match stem.rsplit_once('_') {
        Some((role, actor)) if !role.trim().is_empty() && !actor.trim().is_empty() => {
            compare_part(Code::NameTalent, "actor", actor, talent, &mut out);
        }
        _ => out.push(Finding::error(
            Code::NamePattern,
            format!("the name {name:?} does not follow [Role]_[Actor].wav"),
        )),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(f: &[Finding]) -> Vec<Code> {
        f.iter().map(|x| x.code).collect()
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(canonical("Stranger Things"), "strangerthings");
        assert_eq!(canonical("stranger_things"), "strangerthings");
        assert_eq!(canonical("Ünïcode-Name"), "ünïcodename");
    }

    #[test]
    fn moments_names() {
        let ok = check_moments_name(
            "Stranger_Things_JaneDoe_Moments_Mixed.wav",
            Some(2),
            Some(MomentsKind::Mixed),
            Some("Stranger Things"),
            Some("Jane Doe"),
        );
        assert!(ok.is_empty(), "{ok:?}");
        let f = check_moments_name("Show_Jane_Moments_Mixed.wav", Some(1), None, None, None);
        assert_eq!(codes(&f), vec![Code::NameKindChannels]);
        let f = check_moments_name("Show_Jane_moments_asrecord.wav", Some(1), None, None, None);
        assert_eq!(codes(&f), vec![Code::NamePattern, Code::NamePattern]);
        let f = check_moments_name("Show_Jane_Moments_AsRecord.WAV", Some(1), None, None, None);
        assert_eq!(codes(&f), vec![Code::NameExtension]);
        assert!(!f[0].is_error());
        let f = check_moments_name("Show_Jane_Moments_AsRecord.mp3", Some(1), None, None, None);
        assert!(f[0].is_error());
        let f = check_moments_name("Jane_Moments_AsRecord.wav", Some(1), None, None, None);
        assert_eq!(codes(&f), vec![Code::NamePattern]);
        let f = check_moments_name(
            "Show_Jane_Moments_AsRecord.wav",
            Some(1),
            None,
            Some("Other Show"),
            Some("jane"),
        );
        assert_eq!(codes(&f), vec![Code::NameTitle]);
        let f = check_moments_name(
            "My Show_Jane_Moments_AsRecord.wav",
            Some(1),
            None,
            None,
            None,
        );
        assert_eq!(codes(&f), vec![Code::NameCharacters]);
    }

    #[test]
    fn casting_names() {
        assert!(check_casting_name("Eleven_MillieBB.wav", Some("Millie BB")).is_empty());
        assert_eq!(
            codes(&check_casting_name("Eleven.wav", None)),
            vec![Code::NamePattern]
        );
        assert_eq!(
            codes(&check_casting_name("Eleven_Bob.wav", Some("Alice"))),
            vec![Code::NameTalent]
        );
    }

    #[test]
    fn length_messages() {
        let fps = FrameRate::parse("23.976").ok();
        let f = check_length(238_238, SampleCount::Exact(240_240), 48_000, fps);
        let msg = f.map(|f| f.message).unwrap_or_default();
        assert!(
            msg.starts_with("2,002 samples (1 frame at 23.976 fps) short"),
            "{msg}"
        );
        assert!(
            msg.contains("00:00:04:23") && msg.contains("00:00:05:00"),
            "{msg}"
        );
        assert!(check_length(240_240, SampleCount::Exact(240_240), 48_000, fps).is_none());
        let between = SampleCount::Between {
            floor: 1601,
            ceil: 1602,
        };
        assert!(check_length(1602, between, 48_000, None).is_none());
        let long = check_length(1700, between, 48_000, None)
            .map(|f| f.message)
            .unwrap_or_default();
        assert!(long.starts_with("98 samples (2.0 ms) long"), "{long}");
    }
}
