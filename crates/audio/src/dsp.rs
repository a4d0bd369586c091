//! Signal-processing building blocks of the QC pass: sample decoding, the BS.1770 K-weighting
//! filter, the BS.1770-4 Annex 2 true-peak interpolator, and a gated-loudness histogram.

use crate::wav::{Encoding, Format};

/// How one sample is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleKind {
    U8,
    I16,
    I24,
    I32,
    F32,
    F64,
}

impl SampleKind {
    pub fn of(format: &Format) -> Option<Self> {
        if !format.decodable() {
            return None;
        }
        Some(match (format.encoding?, format.container_bytes()) {
            (Encoding::Pcm, 1) => Self::U8,
            (Encoding::Pcm, 2) => Self::I16,
            (Encoding::Pcm, 3) => Self::I24,
            (Encoding::Pcm, 4) => Self::I32,
            (Encoding::Float, 4) => Self::F32,
            (Encoding::Float, 8) => Self::F64,
            _ => return None,
        })
    }

    pub fn bytes(self) -> usize {
        match self {
            Self::U8 => 1,
            Self::I16 => 2,
            Self::I24 => 3,
            Self::I32 | Self::F32 => 4,
            Self::F64 => 8,
        }
    }

    pub fn is_float(self) -> bool {
        matches!(self, Self::F32 | Self::F64)
    }

    /// The decoded value of the largest positive code: full scale for integers is
    /// asymmetric (+8 388 607 against −8 388 608 at 24 bits) and the reference is 2^(n−1).
    pub fn positive_full_scale(self) -> f32 {
        match self {
            Self::U8 => 127.0 / 128.0,
            Self::I16 => 32_767.0 / 32_768.0,
            Self::I24 => 8_388_607.0 / 8_388_608.0,
            Self::I32 => (i32::MAX as f32) / 2_147_483_648.0,
            Self::F32 | Self::F64 => 1.0,
        }
    }

    /// Decodes channel `channel` of every whole frame of `raw` into `out` (cleared first),
    /// as floats with full scale at ±1. Returns how many samples were not finite (those are
    /// stored as 0 so that one bad value does not poison every measure).
    pub fn decode(self, raw: &[u8], block_align: usize, channel: usize, out: &mut Vec<f32>) -> u64 {
        out.clear();
        let offset = channel * self.bytes();
        let Some(tail) = raw.get(offset..) else {
            return 0;
        };
        let frames = raw.len() / block_align.max(1);
        out.reserve(frames);
        // Each frame's samples for this channel start `offset` bytes in; stepping through
        // `tail` by block_align keeps every access in bounds by construction.
        let mut non_finite = 0;
        let frames_iter = tail.chunks(block_align.max(1)).take(frames);
        match self {
            Self::U8 => out.extend(
                frames_iter.map(|f| f.first().map_or(0.0, |&b| (f32::from(b) - 128.0) / 128.0)),
            ),
            Self::I16 => {
                let whole = raw.chunks_exact(block_align.max(1));
                out.extend(whole.map(|f| match f.get(offset..offset + 2) {
                    Some(&[a, b]) => f32::from(i16::from_le_bytes([a, b])) * (1.0 / 32_768.0),
                    _ => 0.0,
                }));
            }
            Self::I24 => {
                let whole = raw.chunks_exact(block_align.max(1));
                out.extend(whole.map(|f| match f.get(offset..offset + 3) {
                    Some(&[a, b, c]) => {
                        (i32::from_le_bytes([0, a, b, c]) >> 8) as f32 * (1.0 / 8_388_608.0)
                    }
                    _ => 0.0,
                }));
            }
            Self::I32 => out.extend(frames_iter.map(|f| match f {
                [a, b, c, d, ..] => {
                    i32::from_le_bytes([*a, *b, *c, *d]) as f32 * (1.0 / 2_147_483_648.0)
                }
                _ => 0.0,
            })),
            Self::F32 => out.extend(frames_iter.map(|f| {
                let v = match f {
                    [a, b, c, d, ..] => f32::from_le_bytes([*a, *b, *c, *d]),
                    _ => 0.0,
                };
                if v.is_finite() {
                    v
                } else {
                    non_finite += 1;
                    0.0
                }
            })),
            Self::F64 => out.extend(frames_iter.map(|f| {
                let v = match f.get(..8).and_then(|s| <[u8; 8]>::try_from(s).ok()) {
                    Some(b) => f64::from_le_bytes(b) as f32,
                    None => 0.0,
                };
                if v.is_finite() {
                    v
                } else {
                    non_finite += 1;
                    0.0
                }
            })),
        }
        non_finite
    }
}

/// A biquad section in transposed direct form II, in f64 (the 38 Hz high-pass has poles close
/// to the unit circle, where f32 state loses accuracy).
#[derive(Clone, Copy, Debug, Default)]
pub struct Biquad {
    pub b0: f64,
    pub b1: f64,
    pub b2: f64,
    pub a1: f64,
    pub a2: f64,
}

/// The two K-weighting stages of BS.1770 for a sample rate, derived from the analogue
/// prototypes so that rates other than 48 kHz get the same response (at 48 kHz this gives the
/// coefficients printed in the Recommendation).
pub fn k_weighting(rate: u32) -> (Biquad, Biquad) {
    let fs = f64::from(rate.max(1));
    // Stage 1: high shelf, +4 dB above ~1.5 kHz (head diffraction).
    let f0 = 1_681.974_450_955_533;
    let gain_db = 3.999_843_853_973_347;
    let q = 0.707_175_236_955_419_6;
    let k = (std::f64::consts::PI * f0 / fs).tan();
    let vh = 10f64.powf(gain_db / 20.0);
    let vb = vh.powf(0.499_666_774_154_541_6);
    let a0 = 1.0 + k / q + k * k;
    let shelf = Biquad {
        b0: (vh + vb * k / q + k * k) / a0,
        b1: 2.0 * (k * k - vh) / a0,
        b2: (vh - vb * k / q + k * k) / a0,
        a1: 2.0 * (k * k - 1.0) / a0,
        a2: (1.0 - k / q + k * k) / a0,
    };
    // Stage 2: the RLB high-pass at ~38 Hz.
    let f0 = 38.135_470_876_024_44;
    let q = 0.500_327_037_323_877_3;
    let k = (std::f64::consts::PI * f0 / fs).tan();
    let a0 = 1.0 + k / q + k * k;
    let highpass = Biquad {
        b0: 1.0,
        b1: -2.0,
        b2: 1.0,
        a1: 2.0 * (k * k - 1.0) / a0,
        a2: (1.0 - k / q + k * k) / a0,
    };
    (shelf, highpass)
}

/// The K-weighting filter with its state, in direct form I: the recursive part then waits on
/// one multiply and one add per sample, about half the dependency chain of transposed form II,
/// and this loop is the one thing in the pass that cannot be vectorised.
#[derive(Clone, Debug)]
pub struct KFilter {
    s: Biquad,
    h: Biquad,
    // Inputs and outputs of the shelf, outputs of the high-pass (its inputs are the shelf's).
    x1: f64,
    x2: f64,
    y1: f64,
    y2: f64,
    z1: f64,
    z2: f64,
}

impl KFilter {
    pub fn new(rate: u32) -> Self {
        let (s, h) = k_weighting(rate);
        Self {
            s,
            h,
            x1: 0.0,
            x2: 0.0,
            y1: 0.0,
            y2: 0.0,
            z1: 0.0,
            z2: 0.0,
        }
    }

    /// Filters two channels at once. The two recursions are independent, so interleaving them
    /// lets the processor overlap their latencies; each channel's arithmetic is exactly what
    /// [`KFilter::energy`] would do, so results do not depend on the pairing.
    pub fn energy_pair(a: &mut Self, b: &mut Self, xa: &[f32], xb: &[f32]) -> (f64, f64) {
        if xa.len() != xb.len() {
            return (a.energy(xa), b.energy(xb));
        }
        let (s, h) = (a.s, a.h);
        let (mut ax1, mut ax2, mut ay1, mut ay2, mut az1, mut az2) =
            (a.x1, a.x2, a.y1, a.y2, a.z1, a.z2);
        let (mut bx1, mut bx2, mut by1, mut by2, mut bz1, mut bz2) =
            (b.x1, b.x2, b.y1, b.y2, b.z1, b.z2);
        let (mut sa, mut sb) = (0.0, 0.0);
        for (&va, &vb) in xa.iter().zip(xb) {
            let (va, vb) = (f64::from(va), f64::from(vb));
            let ya = (s.b0 * va + s.b1 * ax1 + s.b2 * ax2 - s.a2 * ay2) - s.a1 * ay1;
            let yb = (s.b0 * vb + s.b1 * bx1 + s.b2 * bx2 - s.a2 * by2) - s.a1 * by1;
            let za = ((ya - 2.0 * ay1 + ay2) - h.a2 * az2) - h.a1 * az1;
            let zb = ((yb - 2.0 * by1 + by2) - h.a2 * bz2) - h.a1 * bz1;
            (ax2, ax1, ay2, ay1, az2, az1) = (ax1, va, ay1, ya, az1, za);
            (bx2, bx1, by2, by1, bz2, bz1) = (bx1, vb, by1, yb, bz1, zb);
            sa += za * za;
            sb += zb * zb;
        }
        (a.x1, a.x2, a.y1, a.y2, a.z1, a.z2) = (ax1, ax2, ay1, ay2, az1, az2);
        (b.x1, b.x2, b.y1, b.y2, b.z1, b.z2) = (bx1, bx2, by1, by2, bz1, bz2);
        a.flush_subnormal();
        b.flush_subnormal();
        (sa, sb)
    }

    /// After long digital silence the state decays into subnormal numbers, which are very slow
    /// on most CPUs; values this small cannot matter to a loudness figure.
    fn flush_subnormal(&mut self) {
        for st in [&mut self.y1, &mut self.y2, &mut self.z1, &mut self.z2] {
            if st.abs() < 1e-30 {
                *st = 0.0;
            }
        }
    }

    /// Filters `x` and returns the sum of squares of the K-weighted output.
    pub fn energy(&mut self, x: &[f32]) -> f64 {
        let (s, h) = (self.s, self.h);
        let (mut x1, mut x2, mut y1, mut y2, mut z1, mut z2) =
            (self.x1, self.x2, self.y1, self.y2, self.z1, self.z2);
        let mut sum = 0.0;
        for &v in x {
            let v = f64::from(v);
            let y = (s.b0 * v + s.b1 * x1 + s.b2 * x2 - s.a2 * y2) - s.a1 * y1;
            // The high-pass numerator is 1, −2, 1.
            let z = ((y - 2.0 * y1 + y2) - h.a2 * z2) - h.a1 * z1;
            x2 = x1;
            x1 = v;
            y2 = y1;
            y1 = y;
            z2 = z1;
            z1 = z;
            sum += z * z;
        }
        (self.x1, self.x2, self.y1, self.y2, self.z1, self.z2) = (x1, x2, y1, y2, z1, z2);
        self.flush_subnormal();
        sum
    }
}

/// BS.1770-4 Annex 2: the 48-tap interpolating FIR for 4× oversampling, as four polyphase
/// branches of 12 taps (phase 2 and 3 are phase 1 and 0 reversed: the prototype is symmetric).
// The values are exact binary fractions, written as the Recommendation prints them.
#[allow(clippy::excessive_precision)]
pub const TRUE_PEAK_PHASES: [[f32; 12]; 4] = [
    [
        0.001_708_984_375,
        0.010_986_328_125,
        -0.019_653_320_312_5,
        0.033_203_125,
        -0.059_448_242_187_5,
        0.137_329_101_562_5,
        0.972_167_968_75,
        -0.102_294_921_875,
        0.047_607_421_875,
        -0.026_611_328_125,
        0.014_892_578_125,
        -0.008_300_781_25,
    ],
    [
        -0.029_174_804_687_5,
        0.029_296_875,
        -0.051_757_812_5,
        0.089_111_328_125,
        -0.166_503_906_25,
        0.465_087_890_625,
        0.779_785_156_25,
        -0.200_317_382_812_5,
        0.101_562_5,
        -0.058_227_539_062_5,
        0.033_081_054_687_5,
        -0.018_920_898_437_5,
    ],
    [
        -0.018_920_898_437_5,
        0.033_081_054_687_5,
        -0.058_227_539_062_5,
        0.101_562_5,
        -0.200_317_382_812_5,
        0.779_785_156_25,
        0.465_087_890_625,
        -0.166_503_906_25,
        0.089_111_328_125,
        -0.051_757_812_5,
        0.029_296_875,
        -0.029_174_804_687_5,
    ],
    [
        -0.008_300_781_25,
        0.014_892_578_125,
        -0.026_611_328_125,
        0.047_607_421_875,
        -0.102_294_921_875,
        0.972_167_968_75,
        0.137_329_101_562_5,
        -0.059_448_242_187_5,
        0.033_203_125,
        -0.019_653_320_312_5,
        0.010_986_328_125,
        0.001_708_984_375,
    ],
];

const TAPS: usize = 12;
const HISTORY: usize = TAPS - 1;

/// The largest |output| any branch can give per unit of input peak (the largest sum of absolute
/// coefficients, ≈ 2.023). A stretch whose input peak times this cannot beat the running true
/// peak is skipped: the result is the same, and quiet passages cost almost nothing.
fn gain_bound() -> f32 {
    TRUE_PEAK_PHASES
        .iter()
        .map(|p| p.iter().map(|c| c.abs()).sum::<f32>())
        .fold(0.0, f32::max)
        * 1.0001
}

/// 4× oversampling true-peak meter for one channel.
#[derive(Clone, Debug)]
pub struct TruePeak {
    history: [f32; HISTORY],
    ext: Vec<f32>,
    max: f32,
    bound: f32,
}

impl Default for TruePeak {
    fn default() -> Self {
        Self::new()
    }
}

impl TruePeak {
    pub fn new() -> Self {
        Self {
            history: [0.0; HISTORY],
            ext: Vec::new(),
            max: 0.0,
            bound: gain_bound(),
        }
    }

    /// The largest interpolated |value| so far (linear, full scale = 1).
    pub fn max(&self) -> f32 {
        self.max
    }

    /// Feeds the next samples; `peak` is max |x| over `x` (already known to the caller).
    pub fn process(&mut self, x: &[f32], peak: f32) {
        let history_peak = self.history.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        if peak.max(history_peak) * self.bound > self.max {
            self.ext.clear();
            self.ext.extend_from_slice(&self.history);
            self.ext.extend_from_slice(x);
            self.max = self.max.max(filter_max(&self.ext, x.len()));
        }
        // Keep the last HISTORY inputs for the next call.
        let n = x.len();
        if n >= HISTORY {
            if let Some(tail) = x.get(n - HISTORY..) {
                self.history.copy_from_slice(tail);
            }
        } else {
            self.history.rotate_left(n);
            for (dst, src) in self.history.iter_mut().skip(HISTORY - n).zip(x) {
                *dst = *src;
            }
        }
    }
}

/// The symmetric prototype pairs the branches: branch 3 is branch 0 reversed and branch 2 is
/// branch 1 reversed. For a pair (a, b = a reversed) over the same 12 inputs, a + b needs only
/// the 6 sums x[k] + x[11−k] and a − b the 6 differences, and max(|a|, |b|) is
/// (|a + b| + |a − b|) / 2. That halves the multiplications.
const fn folded(phase: usize, odd: bool) -> [f32; 6] {
    let mut out = [0.0f32; 6];
    let mut m = 0;
    while m < 6 {
        let a = TRUE_PEAK_PHASES[phase][m];
        let b = TRUE_PEAK_PHASES[phase][11 - m];
        out[m] = if odd { a - b } else { a + b };
        m += 1;
    }
    out
}

const EVEN0: [f32; 6] = folded(0, false);
const ODD0: [f32; 6] = folded(0, true);
const EVEN1: [f32; 6] = folded(1, false);
const ODD1: [f32; 6] = folded(1, true);

/// Max |y| over all four branches for the `n` outputs whose inputs are `ext` (HISTORY older
/// samples followed by the `n` new ones). Eight outputs at a time so that the work vectorises
/// and the accumulators stay in registers.
fn filter_max(ext: &[f32], n: usize) -> f32 {
    const W: usize = 8;
    let mut best = [0.0f32; W];
    let mut i = 0;
    while i + W <= n {
        let Some(win) = ext
            .get(i..i + W + HISTORY)
            .and_then(|s| <&[f32; W + HISTORY]>::try_from(s).ok())
        else {
            break;
        };
        let (mut e0, mut o0, mut e1, mut o1) = ([0.0f32; W], [0.0f32; W], [0.0f32; W], [0.0f32; W]);
        for m in 0..6 {
            let (ce0, co0, ce1, co1) = (
                EVEN0.get(m).copied().unwrap_or(0.0),
                ODD0.get(m).copied().unwrap_or(0.0),
                EVEN1.get(m).copied().unwrap_or(0.0),
                ODD1.get(m).copied().unwrap_or(0.0),
            );
            for j in 0..W {
                // Output j's input for tap k is win[j + 11 − k]; pair tap m with tap 11 − m.
                let a = win.get(j + HISTORY - m).copied().unwrap_or(0.0);
                let b = win.get(j + m).copied().unwrap_or(0.0);
                let (sum, diff) = (a + b, a - b);
                if let (Some(x0), Some(y0), Some(x1), Some(y1)) =
                    (e0.get_mut(j), o0.get_mut(j), e1.get_mut(j), o1.get_mut(j))
                {
                    *x0 += ce0 * sum;
                    *y0 += co0 * diff;
                    *x1 += ce1 * sum;
                    *y1 += co1 * diff;
                }
            }
        }
        for j in 0..W {
            let get = |v: &[f32; W]| v.get(j).copied().unwrap_or(0.0).abs();
            let pair0 = get(&e0) + get(&o0);
            let pair1 = get(&e1) + get(&o1);
            let m = if pair0 > pair1 { pair0 } else { pair1 };
            if let Some(b) = best.get_mut(j) {
                *b = if m > *b { m } else { *b };
            }
        }
        i += W;
    }
    // The sums above are twice the larger branch output.
    let mut result = best.iter().fold(0.0f32, |m, &v| m.max(v)) * 0.5;
    while i < n {
        for phase in &TRUE_PEAK_PHASES {
            let mut y = 0.0f32;
            for (k, h) in phase.iter().enumerate() {
                y += h * ext.get(i + HISTORY - k).copied().unwrap_or(0.0);
            }
            result = result.max(y.abs());
        }
        i += 1;
    }
    result
}

/// Loudness of a mean square (BS.1770: −0.691 + 10·log10).
pub fn lufs(mean_square: f64) -> f64 {
    -0.691 + 10.0 * mean_square.log10()
}

fn mean_square_of(lufs: f64) -> f64 {
    10f64.powf((lufs + 0.691) / 10.0)
}

const GATE_FLOOR: f64 = -70.0;
const GATE_TOP: f64 = 30.0;
const GATE_STEP: f64 = 0.01;
const GATE_BINS: usize = 10_000;

/// Gated loudness over many blocks in bounded memory: blocks above the absolute gate go into
/// 0.01 LU bins that keep their count and their summed energy, so the relative gate can be
/// applied afterwards whatever the programme's length. Only blocks within 0.01 LU of the
/// relative threshold can land on the wrong side of it.
#[derive(Clone, Debug)]
pub struct Gate {
    counts: Vec<u32>,
    sums: Vec<f64>,
    count: u64,
    sum: f64,
    abs_energy: f64,
}

impl Default for Gate {
    fn default() -> Self {
        Self::new()
    }
}

impl Gate {
    pub fn new() -> Self {
        Self {
            counts: Vec::new(),
            sums: Vec::new(),
            count: 0,
            sum: 0.0,
            abs_energy: mean_square_of(GATE_FLOOR),
        }
    }

    fn bin(energy: f64) -> usize {
        let l = lufs(energy);
        let i = ((l - GATE_FLOOR) / GATE_STEP).floor();
        if i <= 0.0 {
            0
        } else if i >= (GATE_BINS - 1) as f64 {
            GATE_BINS - 1
        } else {
            i as usize
        }
    }

    /// Adds one block's mean square (already channel-weighted and summed).
    pub fn add(&mut self, energy: f64) {
        // NaN is not finite, so it never reaches the comparison.
        if !energy.is_finite() || energy <= self.abs_energy {
            return;
        }
        if self.counts.is_empty() {
            self.counts = vec![0; GATE_BINS];
            self.sums = vec![0.0; GATE_BINS];
        }
        let b = Self::bin(energy);
        if let (Some(c), Some(s)) = (self.counts.get_mut(b), self.sums.get_mut(b)) {
            *c += 1;
            *s += energy;
        }
        self.count += 1;
        self.sum += energy;
    }

    /// Integrated loudness with the −70 LUFS absolute and −10 LU relative gates (BS.1770-4).
    pub fn integrated(&self) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let threshold = lufs(self.sum / self.count as f64) - 10.0;
        let first = Self::bin(mean_square_of(threshold));
        let (mut n, mut s) = (0u64, 0.0f64);
        for (c, e) in self.counts.iter().zip(&self.sums).skip(first) {
            n += u64::from(*c);
            s += e;
        }
        (n > 0).then(|| lufs(s / n as f64))
    }

    /// Loudness range (EBU Tech 3342) when fed short-term (3 s) blocks: the spread between the
    /// 10th and 95th percentiles of blocks above −70 LUFS and within 20 LU of their mean.
    pub fn range(&self) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let threshold = lufs(self.sum / self.count as f64) - 20.0;
        let first = Self::bin(mean_square_of(threshold));
        let kept: u64 = self.counts.iter().skip(first).map(|&c| u64::from(c)).sum();
        if kept == 0 {
            return None;
        }
        let at = |fraction: f64| -> f64 {
            let target = ((kept as f64 - 1.0) * fraction).round() as u64;
            let mut seen = 0u64;
            for (i, &c) in self.counts.iter().enumerate().skip(first) {
                seen += u64::from(c);
                if seen > target {
                    return GATE_FLOOR + (i as f64 + 0.5) * GATE_STEP;
                }
            }
            GATE_TOP
        };
        Some(at(0.95) - at(0.10))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn k_weighting_matches_the_recommendation_at_48k() {
        let (s, h) = k_weighting(48_000);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-8;
        assert!(close(s.b0, 1.535_124_859_586_97), "{}", s.b0);
        assert!(close(s.b1, -2.691_696_189_406_38));
        assert!(close(s.b2, 1.198_392_810_852_85));
        assert!(close(s.a1, -1.690_659_293_182_41));
        assert!(close(s.a2, 0.732_480_774_215_85));
        assert!(close(h.a1, -1.990_047_454_833_98));
        assert!(close(h.a2, 0.990_072_250_366_21));
    }

    #[test]
    fn true_peak_filter_is_symmetric() {
        for k in 0..12 {
            assert_eq!(TRUE_PEAK_PHASES[0][k], TRUE_PEAK_PHASES[3][11 - k]);
            assert_eq!(TRUE_PEAK_PHASES[1][k], TRUE_PEAK_PHASES[2][11 - k]);
        }
        assert!((gain_bound() - 2.0229).abs() < 0.01);
    }

    #[test]
    fn true_peak_history_carries_across_calls() {
        // The same signal fed whole or in odd pieces gives the same answer.
        let x: Vec<f32> = (0..5000)
            .map(|i| (i as f32 * 0.7).sin() * 0.5 + (i as f32 * 2.9).cos() * 0.3)
            .collect();
        let peak = |s: &[f32]| s.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let mut whole = TruePeak::new();
        whole.process(&x, peak(&x));
        let mut parts = TruePeak::new();
        for piece in x.chunks(7) {
            parts.process(piece, peak(piece));
        }
        assert!((whole.max() - parts.max()).abs() < 1e-6);
    }

    #[test]
    fn gate_of_constant_blocks() {
        let mut g = Gate::new();
        for _ in 0..100 {
            g.add(mean_square_of(-23.0));
        }
        for _ in 0..100 {
            g.add(mean_square_of(-80.0)); // under the absolute gate
        }
        assert!((g.integrated().unwrap() + 23.0).abs() < 1e-9);
        assert_eq!(Gate::new().integrated(), None);
    }

    #[test]
    fn relative_gate_drops_quiet_blocks() {
        let mut g = Gate::new();
        for _ in 0..100 {
            g.add(mean_square_of(-20.0));
        }
        for _ in 0..100 {
            g.add(mean_square_of(-40.0)); // above −70 but 20 LU under: gated out
        }
        assert!((g.integrated().unwrap() + 20.0).abs() < 1e-9);
    }

    #[test]
    fn decode_24_bit_extremes() {
        let raw = [0xFF, 0xFF, 0x7F, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00];
        let mut out = Vec::new();
        SampleKind::I24.decode(&raw, 3, 0, &mut out);
        assert_eq!(
            out,
            vec![8_388_607.0 / 8_388_608.0, -1.0, 1.0 / 8_388_608.0]
        );
        assert_eq!(out[0], SampleKind::I24.positive_full_scale());
    }
}
