//! One call that runs everything a request asks for and returns the report the CLI prints and
//! the portal stores.

use std::io::{self, Read, Seek};

use domain::timecode::{FrameRate, SampleCount, clock_of};
use serde::Serialize;

use crate::finding::{Code, Finding, group, plural};
use crate::meta::{Bext, Cue, InfoEntry, Ixml};
use crate::qc::{self, ChannelQc, Event, Qc, QcError, QcOptions};
use crate::rules::{self, ExpectedLength, MomentsKind, Profile};
use crate::wav::{self, Encoding, Inspection};
use crate::waveform::Waveform;

/// Columns of the waveform picture when one is asked for.
pub const DEFAULT_WAVEFORM_COLUMNS: usize = 1200;

/// What to check.
#[derive(Clone, Debug, Default)]
pub struct CheckRequest {
    pub profile: Profile,
    pub fps: Option<FrameRate>,
    pub expected: Option<ExpectedLength>,
    /// The name to apply naming rules to (the upload's real name, or the file's own).
    pub name: Option<String>,
    pub title: Option<String>,
    pub talent: Option<String>,
    /// Run the QC pass.
    pub qc: bool,
    /// Columns of the waveform picture; 0 for none (a picture implies the QC pass).
    pub waveform_columns: usize,
    /// Threads for the QC pass; 0 for all cores.
    pub threads: usize,
    /// The premix limiter advice in dBTP; `None`: the usual −6 dBTP.
    pub true_peak_limit: Option<f64>,
}

impl CheckRequest {
    /// Problems with the request itself (not with any file): the caller's usage error.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(e) = &self.expected {
            e.frames(self.fps)?;
        }
        Ok(())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Accepted,
    Rejected,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FormatReport {
    pub container: Option<&'static str>,
    /// "pcm", "float" or "unsupported".
    pub encoding: &'static str,
    pub format_tag: u16,
    pub channels: u16,
    pub sample_rate: u32,
    pub bits: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_bits: Option<u16>,
    pub block_align: u16,
    pub byte_rate: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_mask: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LengthReport {
    /// Sample frames present (per channel).
    pub samples: Option<u64>,
    /// The acceptable length nearest to the file's (the only one when exact).
    pub expected_samples: Option<u64>,
    /// Both acceptable lengths when the frames end between two samples.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_samples_range: Option<[u64; 2]>,
    /// `samples − expected_samples` (0 when accepted).
    pub difference: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected_frames: Option<u64>,
    pub seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timecode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fps: Option<&'static str>,
    /// Bytes of audio present and declared (declared is absent when the header was never
    /// finalised).
    pub data_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_data_bytes: Option<u64>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TimeReference {
    pub samples: u64,
    /// Wall-clock time since midnight.
    pub time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timecode: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fps: Option<&'static str>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BextReport {
    #[serde(flatten)]
    pub bext: Bext,
    #[serde(rename = "time_reference_timecode")]
    pub time_reference_at: TimeReference,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EventReport {
    pub start: u64,
    pub length: u64,
    pub time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timecode: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChannelReport {
    #[serde(flatten)]
    pub measures: ChannelQc,
    pub clip_event_times: Vec<EventReport>,
    pub flat_top_event_times: Vec<EventReport>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QcReport {
    pub integrated_lufs: Option<f64>,
    pub loudness_range_lu: Option<f64>,
    pub max_momentary_lufs: Option<f64>,
    pub max_short_term_lufs: Option<f64>,
    pub sample_peak_dbfs: Option<f64>,
    pub true_peak_dbtp: Option<f64>,
    pub non_finite_samples: u64,
    pub channels: Vec<ChannelReport>,
    pub conventions: &'static str,
}

/// Everything known about one file.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub verdict: Verdict,
    pub profile: &'static str,
    pub errors: Vec<Finding>,
    pub warnings: Vec<Finding>,
    pub format: Option<FormatReport>,
    pub length: LengthReport,
    pub bext: Option<BextReport>,
    pub ixml: Option<Ixml>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub info: Vec<InfoEntry>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cues: Vec<Cue>,
    pub qc: Option<QcReport>,
    /// Bytes the structural check read (the QC pass reads the audio once more).
    pub structure_bytes_read: u64,
    #[serde(skip)]
    pub waveform: Option<Waveform>,
    #[serde(skip)]
    pub inspection: Inspection,
}

const CONVENTIONS: &str = "dBFS re 2^(bits-1); RMS with square-wave reference (full-scale sine = -3.01 dBFS); \
true peak = BS.1770-4 Annex 2 4x 48-tap polyphase FIR, never below sample peak; loudness = BS.1770-4 \
K-weighting, 400 ms blocks / 100 ms step, -70 LUFS absolute and -10 LU relative gates; clip run = >= 3 \
samples at full scale; silence < -60 dBFS; noise floor / speech level = 10th / 95th percentile of 50 ms RMS \
windows (digital silence excluded)";

/// The rate used to turn sample positions into timecode: the request's, else iXML's.
fn timecode_rate(req: &CheckRequest, ins: &Inspection) -> Option<FrameRate> {
    if req.fps.is_some() {
        return req.fps;
    }
    let ix = ins.ixml.as_ref()?;
    let rate = ix.timecode_rate.as_deref()?;
    let df = ix
        .timecode_flag
        .as_deref()
        .is_some_and(|f| f.trim().eq_ignore_ascii_case("DF"));
    let spelled = if df {
        format!("{rate}df")
    } else {
        rate.to_string()
    };
    FrameRate::parse(&spelled).ok()
}

fn position(samples: u64, rate: u32, fps: Option<FrameRate>) -> (String, Option<String>) {
    let tc = fps.map(|f| {
        f.label_of(f.samples_to_frames(samples, rate).whole)
            .to_string()
    });
    (clock_of(samples, rate), tc)
}

fn events(list: &[Event], rate: u32, fps: Option<FrameRate>) -> Vec<EventReport> {
    list.iter()
        .map(|e| {
            let (time, timecode) = position(e.start, rate, fps);
            EventReport {
                start: e.start,
                length: e.length,
                time,
                timecode,
            }
        })
        .collect()
}

fn where_phrase(e: &Event, rate: u32, fps: Option<FrameRate>) -> String {
    let (time, tc) = position(e.start, rate, fps);
    match tc {
        Some(tc) => format!("{tc} ({time})"),
        None => time,
    }
}

fn qc_findings(
    q: &Qc,
    req: &CheckRequest,
    ins: &Inspection,
    fps: Option<FrameRate>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let rate = q.sample_rate;
    let pos_fs_db = ins
        .decodable_format()
        .and_then(crate::dsp::SampleKind::of)
        .map_or(0.0, |k| 20.0 * f64::from(k.positive_full_scale()).log10());
    if q.non_finite_samples > 0 {
        out.push(Finding::error(
            Code::QcNonFinite,
            format!(
                "{} are not numbers (NaN or infinity)",
                plural(q.non_finite_samples, "sample", "samples")
            ),
        ));
    }
    for c in &q.channels {
        let ch = c.channel;
        if c.clip_runs > 0 {
            let firsts: Vec<String> = c
                .clip_events
                .iter()
                .take(3)
                .map(|e| where_phrase(e, rate, fps))
                .collect();
            out.push(Finding::warning(
                Code::QcClipping,
                format!(
                    "channel {ch} clips: {} at full scale ({} in all), first at {}",
                    plural(c.clip_runs, "run", "runs"),
                    plural(c.clipped_samples, "sample", "samples"),
                    firsts.join(", ")
                ),
            ));
        }
        if let Some(peak) = c.sample_peak_dbfs
            && c.flat_top_runs > 0
            && peak < pos_fs_db - 0.001
            && peak >= -12.0
        {
            let first = c
                .flat_top_events
                .first()
                .map(|e| where_phrase(e, rate, fps))
                .unwrap_or_default();
            out.push(Finding::warning(
                Code::QcFlatTops,
                format!(
                    "channel {ch} has {} of identical samples at its peak ({peak:.2} dBFS), first at {first}: \
                     probably clipped before it was attenuated",
                    plural(c.flat_top_runs, "run", "runs")
                ),
            ));
        }
        if c.dc_offset.abs() > 0.001 {
            out.push(Finding::warning(
                Code::QcDcOffset,
                format!(
                    "channel {ch} has a DC offset of {:.4}% of full scale ({:.1} dBFS)",
                    c.dc_offset * 100.0,
                    20.0 * c.dc_offset.abs().log10()
                ),
            ));
        }
        match (c.sample_peak_dbfs, c.noise_floor_dbfs, c.speech_level_dbfs) {
            (None, _, _) => out.push(Finding::warning(
                Code::QcSilent,
                format!("channel {ch} is digital silence"),
            )),
            (Some(p), _, _) if p < qc::SILENCE_DBFS => out.push(Finding::warning(
                Code::QcSilent,
                format!(
                    "channel {ch} never rises above {:.0} dBFS (peak {p:.1} dBFS)",
                    qc::SILENCE_DBFS
                ),
            )),
            (Some(_), Some(floor), Some(speech)) if q.frames >= u64::from(rate) => {
                if floor > -60.0 {
                    out.push(Finding::warning(
                        Code::QcNoiseFloor,
                        format!(
                            "channel {ch}: the noise floor is {floor:.1} dBFS RMS, above −60 dBFS (noisy, or no pauses)"
                        ),
                    ));
                } else if speech - floor < 30.0 {
                    out.push(Finding::warning(
                        Code::QcNoiseFloor,
                        format!(
                            "channel {ch}: only {:.1} dB between the noise floor ({floor:.1} dBFS) and the speech level ({speech:.1} dBFS)",
                            speech - floor
                        ),
                    ));
                }
            }
            _ => {}
        }
    }
    if let Some(tp) = q.true_peak_dbtp {
        if tp > 0.0 {
            out.push(Finding::warning(
                Code::QcTruePeakOver,
                format!("true peak {tp:.2} dBTP is above 0 dBTP: inter-sample overs will clip on playback"),
            ));
        }
        let limit = req
            .true_peak_limit
            .unwrap_or(domain::fulfilment::DEFAULT_TRUE_PEAK_LIMIT_DBTP);
        if req.profile == Profile::Premix && tp > limit {
            out.push(Finding::warning(
                Code::QcTruePeakLimit,
                format!(
                    "true peak {tp:.2} dBTP is above the {} dBTP premix limiter advice ({:.2} dB over)",
                    format!("{limit:.1}").replace('-', "−"),
                    tp - limit
                ),
            ));
        }
    }
    if let (Some(b), Some(measured)) = (&ins.bext, q.integrated_lufs)
        && b.version >= 2
        && let Some(declared) = b.loudness_value
        && (declared - measured).abs() > 1.0
    {
        out.push(Finding::warning(
            Code::BextLoudnessDiffers,
            format!("bext says {declared:.1} LUFS but the audio measures {measured:.1} LUFS"),
        ));
    }
    out
}

/// Checks one file against a request.
pub fn check<R: Read + Seek>(reader: &mut R, req: &CheckRequest) -> io::Result<Report> {
    let ins = wav::inspect(reader)?;
    report(reader, ins, req, None)
}

/// Checks a file while it is still arriving (an upload). `reader` must report the file's final
/// size for `SeekFrom::End` and block until the bytes it is asked for have arrived. The audio is
/// measured as it comes in, right behind the writer, so the verdict is ready as soon as the last
/// byte is: only the chunks after the audio are read at the end. The report is the one
/// [`check`] gives for the finished file.
pub fn check_arriving<R: Read + Seek>(reader: &mut R, req: &CheckRequest) -> io::Result<Report> {
    let head = wav::inspect_head(reader)?;
    let want_qc = req.qc || req.waveform_columns > 0 || req.profile.needs_qc();
    let early =
        (want_qc && head.decodable_format().is_some() && head.frames.is_some()).then(|| {
            let opts = QcOptions {
                waveform_columns: req.waveform_columns,
                threads: req.threads,
            };
            qc::measure(reader, &head, &opts)
        });
    let ins = wav::inspect(reader)?;
    // The whole walk may place the audio differently from the head alone (a second fmt, a
    // data size only the end explains): then measure again, from the bytes now all present.
    let same = ins.data == head.data && ins.frames == head.frames && ins.format == head.format;
    report(reader, ins, req, early.filter(|_| same))
}

fn report<R: Read + Seek>(
    reader: &mut R,
    ins: Inspection,
    req: &CheckRequest,
    measured: Option<Result<qc::Qc, QcError>>,
) -> io::Result<Report> {
    let mut findings: Vec<Finding> = ins.findings.clone();
    let fps = timecode_rate(req, &ins);
    let format = ins.format.as_ref();
    let rate = format.map_or(0, |f| f.sample_rate);

    if let Some(f) = format {
        findings.extend(rules::check_format(req.profile, f));
    }

    // Length.
    let have = ins.frames;
    let mut length = LengthReport {
        samples: have,
        expected_samples: None,
        expected_samples_range: None,
        difference: None,
        expected_frames: None,
        seconds: have
            .filter(|_| rate > 0)
            .map(|n| n as f64 / f64::from(rate)),
        timecode: match (have, fps) {
            (Some(n), Some(f)) if rate > 0 => Some(rules::duration_label(n, rate, f)),
            _ => None,
        },
        fps: fps.map(|f| f.label()),
        data_bytes: ins.data.as_ref().map(|d| d.present),
        declared_data_bytes: ins
            .data
            .as_ref()
            .filter(|d| !d.unfinalised)
            .map(|d| d.declared),
    };
    match (&req.expected, have) {
        (Some(exp), Some(n)) if rate > 0 => match exp.samples(req.fps, rate) {
            Ok(want) => {
                let target = want.nearest(n);
                length.expected_samples = Some(target);
                if let SampleCount::Between { floor, ceil } = want {
                    length.expected_samples_range = Some([floor, ceil]);
                }
                length.expected_frames = exp.frames(req.fps).ok().flatten();
                let diff = i128::from(n) - i128::from(target);
                length.difference = Some(if want.accepts(n) {
                    0
                } else {
                    i64::try_from(diff).unwrap_or(i64::MAX)
                });
                findings.extend(rules::check_length(n, want, rate, req.fps));
            }
            Err(e) => findings.push(Finding::error(Code::LengthUnknown, e)),
        },
        (Some(_), _) => findings.push(Finding::error(
            Code::LengthUnknown,
            "the file's length is unknown (see the errors above), so it cannot be matched to the clip",
        )),
        (None, _) if req.profile.wants_length() => findings.push(Finding::warning(
            Code::LengthNotChecked,
            "length not checked: give --frames, --samples or --tc-in/--tc-out with --fps",
        )),
        (None, _) => {}
    }
    if req.profile == Profile::CastingSample
        && let Some(secs) = length.seconds
        && !(30.0..=60.0).contains(&secs)
    {
        findings.push(Finding::warning(
            Code::DurationOutOfRange,
            format!("the sample lasts {secs:.1} s; casting samples should last 30–60 s"),
        ));
    }

    // Naming.
    if let Some(name) = &req.name {
        let channels = format.map(|f| f.channels);
        match req.profile {
            Profile::MomentsAsRecord | Profile::MomentsMixed => {
                let kind = if req.profile == Profile::MomentsMixed {
                    MomentsKind::Mixed
                } else {
                    MomentsKind::AsRecord
                };
                findings.extend(rules::check_moments_name(
                    name,
                    channels,
                    Some(kind),
                    req.title.as_deref(),
                    req.talent.as_deref(),
                ));
            }
            Profile::CastingSample => {
                findings.extend(rules::check_casting_name(name, req.talent.as_deref()));
            }
            _ => {}
        }
    }

    // QC.
    let want_qc = req.qc || req.waveform_columns > 0 || req.profile.needs_qc();
    let mut qc_report = None;
    let mut waveform = None;
    if want_qc {
        let opts = QcOptions {
            waveform_columns: req.waveform_columns,
            threads: req.threads,
        };
        let measured = match measured {
            Some(m) => m,
            None => qc::measure(reader, &ins, &opts),
        };
        match measured {
            Ok(mut q) => {
                findings.extend(qc_findings(&q, req, &ins, fps));
                waveform = q.waveform.take();
                let channels = q
                    .channels
                    .iter()
                    .map(|c| ChannelReport {
                        clip_event_times: events(&c.clip_events, q.sample_rate, fps),
                        flat_top_event_times: events(&c.flat_top_events, q.sample_rate, fps),
                        measures: c.clone(),
                    })
                    .collect();
                qc_report = Some(QcReport {
                    integrated_lufs: q.integrated_lufs,
                    loudness_range_lu: q.loudness_range_lu,
                    max_momentary_lufs: q.max_momentary_lufs,
                    max_short_term_lufs: q.max_short_term_lufs,
                    sample_peak_dbfs: q.sample_peak_dbfs,
                    true_peak_dbtp: q.true_peak_dbtp,
                    non_finite_samples: q.non_finite_samples,
                    channels,
                    conventions: CONVENTIONS,
                });
            }
            Err(QcError::Io(e)) => return Err(e),
            Err(QcError::NotMeasurable(why)) => findings.push(Finding::warning(
                Code::QcSkipped,
                format!("QC not run: {why}"),
            )),
        }
    }

    let format_report = format.map(|f| FormatReport {
        container: ins.container.map(|c| c.as_str()),
        encoding: match f.encoding {
            Some(Encoding::Pcm) => "pcm",
            Some(Encoding::Float) => "float",
            None => "unsupported",
        },
        format_tag: f.format_tag,
        channels: f.channels,
        sample_rate: f.sample_rate,
        bits: f.bits,
        valid_bits: f.valid_bits,
        block_align: f.block_align,
        byte_rate: f.byte_rate,
        channel_mask: f.channel_mask,
    });
    let bext = ins.bext.clone().map(|b| {
        let r = if rate > 0 { rate } else { 48_000 };
        let (time, timecode) = position(b.time_reference, r, fps);
        BextReport {
            time_reference_at: TimeReference {
                samples: b.time_reference,
                time,
                timecode,
                fps: fps.map(|f| f.label()),
            },
            bext: b,
        }
    });
    let (errors, warnings): (Vec<Finding>, Vec<Finding>) =
        findings.into_iter().partition(Finding::is_error);
    Ok(Report {
        verdict: if errors.is_empty() {
            Verdict::Accepted
        } else {
            Verdict::Rejected
        },
        profile: req.profile.as_str(),
        errors,
        warnings,
        format: format_report,
        length,
        bext,
        ixml: ins.ixml.clone(),
        info: ins.info.clone(),
        cues: ins.cues.clone(),
        qc: qc_report,
        structure_bytes_read: ins.bytes_read,
        waveform,
        inspection: ins,
    })
}

impl Report {
    /// A short human summary of the file's format and length.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        if let Some(f) = &self.format {
            parts.push(format!(
                "{} {} {}-bit {} Hz, {}",
                f.container.unwrap_or("?"),
                f.encoding.to_uppercase(),
                f.bits,
                group(u64::from(f.sample_rate)),
                plural(u64::from(f.channels), "channel", "channels")
            ));
        }
        if let Some(n) = self.length.samples {
            let mut s = plural(n, "sample", "samples");
            if let Some(secs) = self.length.seconds {
                s.push_str(&format!(" ({secs:.3} s"));
                if let Some(tc) = &self.length.timecode {
                    s.push_str(&format!(", {tc}"));
                }
                s.push(')');
            }
            parts.push(s);
        }
        parts.join(", ")
    }
}

#[derive(Serialize)]
struct Line<'a> {
    file: &'a str,
    #[serde(flatten)]
    report: &'a Report,
}

#[derive(Serialize)]
struct Unchecked<'a> {
    file: &'a str,
    verdict: &'static str,
    errors: [Finding; 1],
    warnings: [Finding; 0],
}

impl Report {
    /// The report as one line of JSON, with the file name first.
    pub fn to_json_line(&self, file: &str) -> Result<String, serde_json::Error> {
        serde_json::to_string(&Line { file, report: self })
    }
}

/// The JSON line for a file that could not be checked (verdict "unchecked").
pub fn unchecked_json_line(file: &str, message: &str) -> Result<String, serde_json::Error> {
    serde_json::to_string(&Unchecked {
        file,
        verdict: "unchecked",
        errors: [Finding::error(Code::Unreadable, message)],
        warnings: [],
    })
}
