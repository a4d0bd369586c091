//! The QC pass: every measure of every channel, and the waveform picture, computed in one
//! streaming read of the audio.
//!
//! Conventions (also in docs/AUDIO.md):
//! - dBFS is relative to the negative integer full scale 2^(bits−1) (floats: 1.0).
//! - RMS figures use the square-wave reference: a full-scale sine reads −3.01 dBFS RMS (as sox
//!   and ffmpeg do), not the AES17 0 dBFS.
//! - True peak: 4× oversampling with the BS.1770-4 Annex 2 48-tap polyphase FIR, in f32, never
//!   reported below the sample peak.
//! - Loudness: BS.1770-4 K-weighting, 400 ms blocks every 100 ms, −70 LUFS absolute and
//!   −10 LU relative gates; channel weights 1.0, 1.41 for surrounds, 0 for LFE.
//!
//! The work is split into units (one channel's measures, or for mono its true peak apart) run
//! on up to `threads` threads; each unit decodes its own channel from the shared raw buffer, so
//! the file is still read exactly once, front to back.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::{Arc, mpsc};

use serde::Serialize;

use crate::dsp::{Gate, KFilter, SampleKind, TruePeak, lufs};
use crate::wav::Inspection;
use crate::waveform::{Lane, Waveform};

/// Channels measured at most (per-channel state is a few hundred kilobytes).
pub const MAX_QC_CHANNELS: u16 = 32;
/// A run of at least this many consecutive samples at full scale (or at the channel's own peak)
/// counts as clipping; three is the usual convention.
pub const MIN_CLIP_RUN: u64 = 3;
/// How many clip events are listed with their positions.
pub const MAX_EVENTS: usize = 10;
/// Level below which a sample counts as silence for leading/trailing silence and the picture.
pub const SILENCE_DBFS: f64 = -60.0;
/// 50 ms windows quieter than this (or exactly zero) are left out of noise-floor statistics.
pub const FLOOR_EXCLUDE_DBFS: f64 = -120.0;
/// Raw bytes read per step at most.
const CHUNK_BYTES: usize = 256 << 10;

const RMS_BINS: usize = 1300; // −120 … +10 dB in 0.1 dB
const RMS_FLOOR: f64 = -120.0;
const RMS_STEP: f64 = 0.1;

/// What to compute besides the always-on measures.
#[derive(Clone, Debug, Default)]
pub struct QcOptions {
    /// Columns of the waveform picture; 0 for none.
    pub waveform_columns: usize,
    /// Threads to use; 0 for as many as the machine has.
    pub threads: usize,
}

/// Why QC could not run.
#[derive(Debug, thiserror::Error)]
pub enum QcError {
    #[error("{0}")]
    NotMeasurable(String),
    #[error(transparent)]
    Io(#[from] io::Error),
}

/// One located event (a clipped run).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Event {
    /// First sample of the run, counted from the start of the file's audio.
    pub start: u64,
    pub length: u64,
}

/// Measures of one channel.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChannelQc {
    pub channel: u16,
    /// Largest |sample|, dBFS (−∞ as `None` for digital silence).
    pub sample_peak_dbfs: Option<f64>,
    pub true_peak_dbtp: Option<f64>,
    /// Whole-file RMS, dBFS with the square-wave reference.
    pub rms_dbfs: Option<f64>,
    /// Mean sample value as a fraction of full scale.
    pub dc_offset: f64,
    /// Channel alone through the BS.1770 gates.
    pub integrated_lufs: Option<f64>,
    /// 10th percentile of the 50 ms RMS windows (digital silence excluded), dBFS.
    pub noise_floor_dbfs: Option<f64>,
    /// 95th percentile of the same windows, dBFS.
    pub speech_level_dbfs: Option<f64>,
    /// Runs of ≥ 3 samples at full scale.
    pub clip_runs: u64,
    pub clipped_samples: u64,
    pub clip_events: Vec<Event>,
    /// Runs of ≥ 3 identical samples at the channel's own peak (clipped upstream then
    /// attenuated shows as flat tops below full scale).
    pub flat_top_runs: u64,
    pub flat_top_events: Vec<Event>,
    pub leading_silence_samples: u64,
    pub trailing_silence_samples: u64,
}

/// The whole QC result.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Qc {
    pub frames: u64,
    pub sample_rate: u32,
    /// Programme loudness over all channels (weighted).
    pub integrated_lufs: Option<f64>,
    pub loudness_range_lu: Option<f64>,
    pub max_momentary_lufs: Option<f64>,
    pub max_short_term_lufs: Option<f64>,
    pub sample_peak_dbfs: Option<f64>,
    pub true_peak_dbtp: Option<f64>,
    pub non_finite_samples: u64,
    pub channels: Vec<ChannelQc>,
    #[serde(skip)]
    pub waveform: Option<Waveform>,
    /// Whether the measures were split over more than one thread.
    #[serde(skip)]
    pub threads_used: usize,
}

fn db(linear: f64) -> Option<f64> {
    (linear > 0.0).then(|| 20.0 * linear.log10())
}

fn db_power(mean_square: f64) -> Option<f64> {
    (mean_square > 0.0).then(|| 10.0 * mean_square.log10())
}

/// BS.1770 channel weights from the WAVE channel mask (or the default order when there is
/// none): surrounds 1.41, LFE excluded, everything else 1.0.
fn channel_weights(channels: u16, mask: Option<u32>) -> Vec<f64> {
    const LFE: u32 = 0x8;
    const SURROUNDS: u32 = 0x10 | 0x20 | 0x200 | 0x400; // back L/R, side L/R
    let mask = mask.filter(|m| *m != 0 && m.count_ones() == u32::from(channels));
    match mask {
        Some(m) => {
            let mut out = Vec::new();
            let mut bit = 0u32;
            while out.len() < usize::from(channels) && bit < 32 {
                let b = 1u32 << bit;
                if m & b != 0 {
                    out.push(if b == LFE {
                        0.0
                    } else if b & SURROUNDS != 0 {
                        1.41
                    } else {
                        1.0
                    });
                }
                bit += 1;
            }
            out
        }
        // Default WAVE order L R C LFE Ls Rs for 5.1; anything else counts all channels alike.
        None if channels == 6 => vec![1.0, 1.0, 1.0, 0.0, 1.41, 1.41],
        None => vec![1.0; usize::from(channels)],
    }
}

/// A channel's core measures.
#[derive(Debug)]
struct Core {
    kfilter: KFilter,
    weight: f64,
    pos_fs: f32,
    neg_fs: f32,
    silence: f32,
    window: usize,
    // Running figures.
    peak: f32,
    sum: f64,
    sum_sq: f64,
    first_loud: Option<u64>,
    last_loud: Option<u64>,
    rms_hist: Vec<u32>,
    // Loudness: the K-weighted energy of the current 100 ms sub-block and the last four.
    windows_in_sub: u32,
    sub_energy: f64,
    recent: [f64; 4],
    subs: u64,
    gate: Gate,
    // Clipping at full scale.
    fs_sign: i8,
    fs_len: u64,
    fs_start: u64,
    clip_runs: u64,
    clipped: u64,
    clip_events: Vec<Event>,
    // Flat tops at the running peak.
    flat_level: f32,
    flat_value: f32,
    flat_len: u64,
    flat_start: u64,
    flat_runs: u64,
    flat_events: Vec<Event>,
    lane: Option<Lane>,
    samples_per_column: u64,
}

/// One channel inside a unit of work.
#[derive(Debug)]
struct Track {
    channel: usize,
    buf: Vec<f32>,
    non_finite: u64,
    core: Option<Box<Core>>,
    tp: Option<TruePeak>,
}

/// One unit of work: the core measures of one or two channels (two channels' K-weighting
/// filters run interleaved, which hides most of their latency), their true peaks, or both.
#[derive(Debug)]
struct Meter {
    kind: SampleKind,
    block_align: usize,
    tracks: Vec<Track>,
    pos: u64,
    /// Completed 100 ms sub-block energies (channel-weighted), drained after every chunk.
    subs_out: Vec<f64>,
}

fn stats(x: &[f32]) -> (f32, f32, f64, f64) {
    // Eight independent lanes let the compiler use SIMD; partial sums stay in f32 only within
    // one 50 ms window, which keeps their error far below anything reported.
    let mut mn = [0.0f32; 8];
    let mut mx = [0.0f32; 8];
    let mut s = [0.0f32; 8];
    let mut q = [0.0f32; 8];
    let mut chunks = x.chunks_exact(8);
    for c in &mut chunks {
        for i in 0..8 {
            let v = c.get(i).copied().unwrap_or(0.0);
            if let (Some(a), Some(b), Some(sa), Some(qa)) =
                (mn.get_mut(i), mx.get_mut(i), s.get_mut(i), q.get_mut(i))
            {
                *a = if v < *a { v } else { *a };
                *b = if v > *b { v } else { *b };
                *sa += v;
                *qa += v * v;
            }
        }
    }
    let (mut lo, mut hi, mut sum, mut sq) = (0.0f32, 0.0f32, 0.0f64, 0.0f64);
    for i in 0..8 {
        lo = lo.min(mn.get(i).copied().unwrap_or(0.0));
        hi = hi.max(mx.get(i).copied().unwrap_or(0.0));
        sum += f64::from(s.get(i).copied().unwrap_or(0.0));
        sq += f64::from(q.get(i).copied().unwrap_or(0.0));
    }
    for &v in chunks.remainder() {
        lo = lo.min(v);
        hi = hi.max(v);
        sum += f64::from(v);
        sq += f64::from(v) * f64::from(v);
    }
    (lo, hi, sum, sq)
}

impl Core {
    fn new(
        kind: SampleKind,
        rate: u32,
        weight: f64,
        window: usize,
        columns: Option<(usize, u64)>,
    ) -> Self {
        let (lane, samples_per_column) = match columns {
            Some((n, per)) => (Some(Lane::new(n)), per),
            None => (None, 1),
        };
        Self {
            kfilter: KFilter::new(rate),
            weight,
            pos_fs: kind.positive_full_scale(),
            neg_fs: -1.0,
            silence: 10f32.powf(SILENCE_DBFS as f32 / 20.0),
            window,
            peak: 0.0,
            sum: 0.0,
            sum_sq: 0.0,
            first_loud: None,
            last_loud: None,
            rms_hist: vec![0; RMS_BINS],
            windows_in_sub: 0,
            sub_energy: 0.0,
            recent: [0.0; 4],
            subs: 0,
            gate: Gate::new(),
            fs_sign: 0,
            fs_len: 0,
            fs_start: 0,
            clip_runs: 0,
            clipped: 0,
            clip_events: Vec::new(),
            flat_level: 0.0,
            flat_value: 0.0,
            flat_len: 0,
            flat_start: 0,
            flat_runs: 0,
            flat_events: Vec::new(),
            lane,
            samples_per_column,
        }
    }

    /// One 50 ms window (the last one of the file may be shorter), everything but loudness.
    /// Returns the window's peak.
    fn window(&mut self, x: &[f32], pos: u64) -> f32 {
        let (lo, hi, sum, sq) = stats(x);
        let peak = hi.max(-lo);
        self.peak = self.peak.max(peak);
        self.sum += sum;
        self.sum_sq += sq;

        if !x.is_empty() && peak > 0.0 {
            let ms = sq / x.len() as f64;
            if let Some(level) = db_power(ms).filter(|l| *l > FLOOR_EXCLUDE_DBFS) {
                let bin = ((level - RMS_FLOOR) / RMS_STEP) as usize;
                if let Some(c) = self.rms_hist.get_mut(bin.min(RMS_BINS - 1)) {
                    *c += 1;
                }
            }
        }

        if peak > self.silence {
            if self.first_loud.is_none() {
                self.first_loud = x
                    .iter()
                    .position(|v| v.abs() > self.silence)
                    .map(|i| pos + i as u64);
            }
            self.last_loud = x
                .iter()
                .rposition(|v| v.abs() > self.silence)
                .map(|i| pos + i as u64);
        }

        // Clipping and flat tops need a per-sample look only where the window reaches the level
        // in question; elsewhere an open run simply ends.
        if peak >= self.pos_fs.min(1.0) || self.fs_len > 0 {
            self.scan_full_scale(x, pos);
        }
        if peak > self.flat_level {
            self.flat_level = peak;
            self.flat_runs = 0;
            self.flat_events.clear();
            self.flat_len = 0;
        }
        if peak >= self.flat_level && peak > 0.0 {
            self.scan_flat(x, pos);
        } else {
            self.end_flat();
        }

        if let Some(lane) = self.lane.as_mut() {
            let per = self.samples_per_column.max(1);
            let mut at = 0usize;
            while at < x.len() {
                let abs = pos + at as u64;
                let col = (abs / per) as usize;
                let col_end = (col as u64 + 1) * per;
                let take = usize::try_from(col_end - abs)
                    .unwrap_or(usize::MAX)
                    .min(x.len() - at);
                if let Some(seg) = x.get(at..at + take) {
                    let (l, h) = seg
                        .iter()
                        .fold((f32::MAX, f32::MIN), |(l, h), &v| (l.min(v), h.max(v)));
                    lane.update(col, l, h);
                }
                at += take;
            }
        }

        peak
    }

    /// Adds a window's K-weighted energy. Returns the channel-weighted energy of a 100 ms
    /// sub-block when this window completes one.
    fn loudness(&mut self, energy: f64, len: usize) -> Option<f64> {
        self.sub_energy += energy;
        self.windows_in_sub += 1;
        if self.windows_in_sub < 2 || len < self.window {
            return None;
        }
        let sub = self.sub_energy;
        self.windows_in_sub = 0;
        self.sub_energy = 0.0;
        self.recent.rotate_left(1);
        if let Some(last) = self.recent.last_mut() {
            *last = sub;
        }
        self.subs += 1;
        if self.subs >= 4 {
            let block = self.recent.iter().sum::<f64>() / (8 * self.window) as f64;
            self.gate.add(block);
        }
        Some(sub * self.weight)
    }

    fn scan_full_scale(&mut self, x: &[f32], pos: u64) {
        for (i, &v) in x.iter().enumerate() {
            let sign = if v >= self.pos_fs {
                1
            } else if v <= self.neg_fs {
                -1
            } else {
                0
            };
            if sign != 0 && sign == self.fs_sign {
                self.fs_len += 1;
            } else {
                self.end_full_scale();
                if sign != 0 {
                    self.fs_sign = sign;
                    self.fs_len = 1;
                    self.fs_start = pos + i as u64;
                }
            }
        }
    }

    fn end_full_scale(&mut self) {
        if self.fs_len >= MIN_CLIP_RUN {
            self.clip_runs += 1;
            self.clipped += self.fs_len;
            if self.clip_events.len() < MAX_EVENTS {
                self.clip_events.push(Event {
                    start: self.fs_start,
                    length: self.fs_len,
                });
            }
            if let Some(lane) = self.lane.as_mut() {
                let per = self.samples_per_column.max(1);
                let first = self.fs_start / per;
                let last = (self.fs_start + self.fs_len - 1) / per;
                for col in first..=last {
                    lane.mark_clipped(col as usize);
                }
            }
        }
        self.fs_len = 0;
        self.fs_sign = 0;
    }

    fn scan_flat(&mut self, x: &[f32], pos: u64) {
        let level = self.flat_level;
        for (i, &v) in x.iter().enumerate() {
            if self.flat_len > 0 && v == self.flat_value {
                self.flat_len += 1;
            } else {
                self.end_flat();
                if v.abs() == level {
                    self.flat_value = v;
                    self.flat_len = 1;
                    self.flat_start = pos + i as u64;
                }
            }
        }
    }

    fn end_flat(&mut self) {
        if self.flat_len >= MIN_CLIP_RUN {
            self.flat_runs += 1;
            if self.flat_events.len() < MAX_EVENTS {
                self.flat_events.push(Event {
                    start: self.flat_start,
                    length: self.flat_len,
                });
            }
        }
        self.flat_len = 0;
    }

    fn finish(&mut self) {
        self.end_full_scale();
        self.end_flat();
    }

    fn percentile(&self, fraction: f64) -> Option<f64> {
        let total: u64 = self.rms_hist.iter().map(|&c| u64::from(c)).sum();
        if total == 0 {
            return None;
        }
        let target = ((total as f64 - 1.0) * fraction).round() as u64;
        let mut seen = 0u64;
        for (i, &c) in self.rms_hist.iter().enumerate() {
            seen += u64::from(c);
            if seen > target {
                return Some(RMS_FLOOR + (i as f64 + 0.5) * RMS_STEP);
            }
        }
        None
    }
}

fn peak_of(x: &[f32]) -> f32 {
    x.iter().fold(0.0f32, |m, v| m.max(v.abs()))
}

impl Meter {
    fn process(&mut self, raw: &[u8], window: usize) {
        for t in &mut self.tracks {
            t.non_finite += self
                .kind
                .decode(raw, self.block_align, t.channel, &mut t.buf);
        }
        let n = self.tracks.first().map_or(0, |t| t.buf.len());
        let window = window.max(1);
        let mut start = 0;
        while start < n {
            let end = (start + window).min(n);
            let len = end - start;
            for Track { buf, core, tp, .. } in &mut self.tracks {
                let w = buf.get(start..end).unwrap_or_default();
                let peak = match core.as_mut() {
                    Some(c) => c.window(w, self.pos),
                    None => peak_of(w),
                };
                if let Some(tp) = tp.as_mut() {
                    tp.process(w, peak);
                }
            }
            let mut sub: Option<f64> = None;
            let mut add = |e: Option<f64>| {
                if let Some(e) = e {
                    sub = Some(sub.unwrap_or(0.0) + e);
                }
            };
            match self.tracks.as_mut_slice() {
                [
                    Track {
                        buf: ba,
                        core: Some(ca),
                        ..
                    },
                    Track {
                        buf: bb,
                        core: Some(cb),
                        ..
                    },
                ] => {
                    let wa = ba.get(start..end).unwrap_or_default();
                    let wb = bb.get(start..end).unwrap_or_default();
                    let (ea, eb) = KFilter::energy_pair(&mut ca.kfilter, &mut cb.kfilter, wa, wb);
                    add(ca.loudness(ea, len));
                    add(cb.loudness(eb, len));
                }
                tracks => {
                    for Track { buf, core, .. } in tracks {
                        if let Some(c) = core.as_mut() {
                            let w = buf.get(start..end).unwrap_or_default();
                            let e = c.kfilter.energy(w);
                            add(c.loudness(e, len));
                        }
                    }
                }
            }
            if let Some(e) = sub {
                self.subs_out.push(e);
            }
            self.pos += len as u64;
            start = end;
        }
    }
}

type Group = Vec<Meter>;

fn run_group(group: &mut Group, raw: &[u8], window: usize) -> Vec<f64> {
    let mut partial: Vec<f64> = Vec::new();
    for m in group.iter_mut() {
        m.process(raw, window);
        if partial.len() < m.subs_out.len() {
            partial.resize(m.subs_out.len(), 0.0);
        }
        for (p, e) in partial.iter_mut().zip(m.subs_out.drain(..)) {
            *p += e;
        }
    }
    partial
}

/// Programme loudness from the summed sub-blocks of all channels.
struct Programme {
    window: usize,
    recent: Vec<f64>, // the last 30 sub-blocks (3 s), oldest first
    subs: u64,
    gate: Gate,
    short_gate: Gate,
    max_momentary: f64,
    max_short: f64,
}

impl Programme {
    fn add(&mut self, sub: f64) {
        if self.recent.len() == 30 {
            self.recent.remove(0);
        }
        self.recent.push(sub);
        self.subs += 1;
        let sub_len = (2 * self.window) as f64;
        if self.subs >= 4 {
            let m: f64 = self.recent.iter().rev().take(4).sum::<f64>() / (4.0 * sub_len);
            self.gate.add(m);
            self.max_momentary = self.max_momentary.max(m);
        }
        if self.subs >= 30 {
            let s: f64 = self.recent.iter().sum::<f64>() / (30.0 * sub_len);
            self.short_gate.add(s);
            self.max_short = self.max_short.max(s);
        }
    }
}

/// Reads as many bytes as are there, up to `buf.len()`.
fn fill<R: Read>(r: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let Some(rest) = buf.get_mut(filled..) else {
            break;
        };
        match r.read(rest) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Runs every QC measure over the audio the inspection located, reading it once.
pub fn measure<R: Read + Seek>(
    reader: &mut R,
    ins: &Inspection,
    opts: &QcOptions,
) -> Result<Qc, QcError> {
    let (Some(format), Some(data), Some(frames)) = (ins.decodable_format(), &ins.data, ins.frames)
    else {
        return Err(QcError::NotMeasurable(
            "the sample format or the audio's extent is unknown".into(),
        ));
    };
    let kind = SampleKind::of(format)
        .ok_or_else(|| QcError::NotMeasurable("the sample format cannot be decoded".into()))?;
    if format.channels > MAX_QC_CHANNELS {
        return Err(QcError::NotMeasurable(format!(
            "{} channels; QC measures at most {MAX_QC_CHANNELS}",
            format.channels
        )));
    }
    let channels = usize::from(format.channels);
    let block_align = usize::from(format.block_align);
    let rate = format.sample_rate;
    let window = usize::try_from((rate / 20).max(1)).unwrap_or(1);
    let weights = channel_weights(format.channels, format.channel_mask);

    let columns = (opts.waveform_columns > 0 && frames > 0).then(|| {
        let wanted = opts.waveform_columns as u64;
        let per = frames.div_ceil(wanted).max(1);
        (usize::try_from(frames.div_ceil(per)).unwrap_or(1), per)
    });

    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, usize::from)
    } else {
        opts.threads
    }
    .clamp(1, 8);

    // Work units: channels in pairs (0–1, 2–3, …) so that their K-weighting filters run
    // interleaved. With more than one thread the true peaks (the costliest measure) become units
    // of their own, and units are dealt to threads largest first onto the least-loaded one.
    let track = |ch: usize, core: bool, tp: bool| Track {
        channel: ch,
        buf: Vec::new(),
        non_finite: 0,
        core: core.then(|| {
            let weight = weights.get(ch).copied().unwrap_or(1.0);
            Box::new(Core::new(kind, rate, weight, window, columns))
        }),
        tp: tp.then(TruePeak::new),
    };
    let meter = |tracks: Vec<Track>| Meter {
        kind,
        block_align,
        tracks,
        pos: 0,
        subs_out: Vec::new(),
    };
    let split_tp = threads > 1;
    // Relative cost per sample (measured): core of a pair 9, of a single channel 7, a true peak
    // alone 4; both measures together add up.
    let mut units: Vec<(u32, Meter)> = Vec::new();
    for first in (0..channels).step_by(2) {
        let pair: Vec<usize> = (first..channels.min(first + 2)).collect();
        let core_cost = if pair.len() == 2 { 9 } else { 7 };
        if split_tp {
            units.push((
                core_cost,
                meter(pair.iter().map(|&c| track(c, true, false)).collect()),
            ));
            for &c in &pair {
                units.push((4, meter(vec![track(c, false, true)])));
            }
        } else {
            let cost = core_cost + 4 * pair.len() as u32;
            units.push((
                cost,
                meter(pair.iter().map(|&c| track(c, true, true)).collect()),
            ));
        }
    }
    units.sort_by_key(|(cost, _)| std::cmp::Reverse(*cost));
    let n_groups = threads.min(units.len()).max(1);
    let mut groups: Vec<Group> = (0..n_groups).map(|_| Vec::new()).collect();
    let mut loads: Vec<u32> = vec![0; n_groups];
    for (cost, u) in units {
        let lightest = loads
            .iter()
            .enumerate()
            .min_by_key(|(_, l)| **l)
            .map_or(0, |(i, _)| i);
        if let (Some(g), Some(l)) = (groups.get_mut(lightest), loads.get_mut(lightest)) {
            g.push(u);
            *l += cost;
        }
    }
    // The calling thread also reads the file, so it takes the lightest group.
    let mut order: Vec<(u32, Group)> = loads.into_iter().zip(groups).collect();
    order.sort_by_key(|(load, _)| *load);
    let mut groups: Vec<Group> = order.into_iter().map(|(_, g)| g).collect();

    // Whole windows per read, so every window but the file's last is complete.
    let window_bytes = window.saturating_mul(block_align).max(1);
    let chunk_bytes = (CHUNK_BYTES / window_bytes).max(1) * window_bytes;
    let total_bytes = frames.saturating_mul(block_align as u64);

    reader.seek(SeekFrom::Start(data.offset))?;
    let mut programme = Programme {
        window,
        recent: Vec::with_capacity(30),
        subs: 0,
        gate: Gate::new(),
        short_gate: Gate::new(),
        max_momentary: 0.0,
        max_short: 0.0,
    };

    let read_chunk = |reader: &mut R, mut buf: Vec<u8>, done: &mut u64| -> io::Result<Vec<u8>> {
        let want = usize::try_from(total_bytes.saturating_sub(*done))
            .unwrap_or(usize::MAX)
            .min(chunk_bytes);
        buf.resize(want, 0);
        let got = fill(reader, &mut buf)?;
        // Keep whole frames only (a file that shrank under us ends early).
        let whole = got - got % block_align.max(1);
        buf.truncate(whole);
        *done += whole as u64;
        Ok(buf)
    };

    let mut done: u64 = 0;
    let mut main_group = groups.remove(0);
    let mut worker_groups = groups;
    let threads_used = 1 + worker_groups.len();

    std::thread::scope(|scope| -> Result<(), QcError> {
        let (done_tx, done_rx) = mpsc::channel::<(Arc<Vec<u8>>, Vec<f64>)>();
        let mut senders = Vec::new();
        let mut handles = Vec::new();
        for mut group in worker_groups.drain(..) {
            let (tx, rx) = mpsc::sync_channel::<Arc<Vec<u8>>>(1);
            let done_tx = done_tx.clone();
            senders.push(tx);
            handles.push(scope.spawn(move || {
                while let Ok(buf) = rx.recv() {
                    let partial = run_group(&mut group, &buf, window);
                    if done_tx.send((buf, partial)).is_err() {
                        break;
                    }
                }
                group
            }));
        }
        drop(done_tx);

        let mut spare: Vec<Vec<u8>> = Vec::new();
        let mut current = read_chunk(reader, Vec::new(), &mut done)?;
        while !current.is_empty() {
            let shared = Arc::new(current);
            for tx in &senders {
                if tx.send(Arc::clone(&shared)).is_err() {
                    return Err(QcError::NotMeasurable("a measuring thread stopped".into()));
                }
            }
            // Read ahead while the workers measure.
            let next = read_chunk(reader, spare.pop().unwrap_or_default(), &mut done)?;
            let mut partial = run_group(&mut main_group, &shared, window);
            for _ in 0..senders.len() {
                let Ok((buf, other)) = done_rx.recv() else {
                    return Err(QcError::NotMeasurable("a measuring thread stopped".into()));
                };
                drop(buf);
                if partial.len() < other.len() {
                    partial.resize(other.len(), 0.0);
                }
                for (p, e) in partial.iter_mut().zip(other) {
                    *p += e;
                }
            }
            for sub in partial {
                programme.add(sub);
            }
            if let Ok(v) = Arc::try_unwrap(shared) {
                spare.push(v);
            }
            current = next;
        }
        drop(senders);
        for h in handles {
            match h.join() {
                Ok(g) => main_group.extend(g),
                Err(_) => return Err(QcError::NotMeasurable("a measuring thread failed".into())),
            }
        }
        Ok(())
    })?;

    let measured = done / block_align.max(1) as u64;
    let mut tracks: Vec<Track> = main_group.into_iter().flat_map(|m| m.tracks).collect();
    tracks.sort_by_key(|t| (t.channel, t.core.is_none()));
    let frames_done = measured;

    let mut channels_out: Vec<ChannelQc> = Vec::new();
    let mut waveform_lanes = Vec::new();
    let mut non_finite = 0;
    let mut tp_of: Vec<f32> = vec![0.0; channels];
    for t in &tracks {
        if let (Some(tp), Some(slot)) = (&t.tp, tp_of.get_mut(t.channel)) {
            *slot = slot.max(tp.max());
        }
    }
    for t in &mut tracks {
        let Some(core) = t.core.as_mut() else {
            continue;
        };
        non_finite += t.non_finite;
        core.finish();
        let n = frames_done.max(1) as f64;
        let peak = f64::from(core.peak);
        let tp = f64::from(tp_of.get(t.channel).copied().unwrap_or(0.0)).max(peak);
        let leading = core.first_loud.unwrap_or(frames_done);
        let trailing = core
            .last_loud
            .map_or(frames_done, |l| frames_done.saturating_sub(l + 1));
        channels_out.push(ChannelQc {
            channel: u16::try_from(t.channel + 1).unwrap_or(u16::MAX),
            sample_peak_dbfs: db(peak),
            true_peak_dbtp: db(tp),
            rms_dbfs: db_power(core.sum_sq / n),
            dc_offset: core.sum / n,
            integrated_lufs: core.gate.integrated(),
            noise_floor_dbfs: core.percentile(0.10),
            speech_level_dbfs: core.percentile(0.95),
            clip_runs: core.clip_runs,
            clipped_samples: core.clipped,
            clip_events: core.clip_events.clone(),
            flat_top_runs: core.flat_runs,
            flat_top_events: core.flat_events.clone(),
            leading_silence_samples: leading,
            trailing_silence_samples: trailing,
        });
        if let Some(mut lane) = core.lane.take() {
            for e in &core.flat_events {
                let per = core.samples_per_column.max(1);
                for col in e.start / per..=(e.start + e.length.max(1) - 1) / per {
                    lane.mark_clipped(col as usize);
                }
            }
            waveform_lanes.push(lane);
        }
    }
    let waveform = columns.map(|(_, per)| Waveform {
        sample_rate: rate,
        frames: measured,
        samples_per_column: per,
        silence_threshold: 10f32.powf(SILENCE_DBFS as f32 / 20.0),
        lanes: waveform_lanes,
    });
    let sample_peak = channels_out
        .iter()
        .filter_map(|c| c.sample_peak_dbfs)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    let true_peak = channels_out
        .iter()
        .filter_map(|c| c.true_peak_dbtp)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    Ok(Qc {
        frames: measured,
        sample_rate: rate,
        integrated_lufs: programme.gate.integrated(),
        loudness_range_lu: programme.short_gate.range(),
        max_momentary_lufs: (programme.max_momentary > 0.0).then(|| lufs(programme.max_momentary)),
        max_short_term_lufs: (programme.max_short > 0.0).then(|| lufs(programme.max_short)),
        sample_peak_dbfs: sample_peak,
        true_peak_dbtp: true_peak,
        non_finite_samples: non_finite,
        channels: channels_out,
        waveform,
        threads_used,
    })
}
