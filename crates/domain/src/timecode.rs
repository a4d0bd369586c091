//! Timecode maths: the frame-rate table, drop-frame labels ↔ frame counts, and frames ↔ audio
//! samples.
//!
//! Every rate is an exact rational (23.976 is 24000/1001, never a float), so that "the WAV has
//! exactly the clip's length" can be decided with integer arithmetic. Frame counts are counted
//! from `00:00:00:00`; a drop-frame label skips frame *labels*, never frames.

use std::fmt;

/// Why a rate or a timecode label was refused; the message is meant for the person who typed it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TimecodeError(pub String);

impl TimecodeError {
    fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

/// A video frame rate as an exact fraction, with its timecode counting mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FrameRate {
    num: u32,
    den: u32,
    drop_frame: bool,
    label: &'static str,
}

/// The rates a deliverable may be timed against, in the order a person would list them.
pub const RATES: [FrameRate; 12] = [
    FrameRate::new(24000, 1001, false, "23.976"),
    FrameRate::new(24, 1, false, "24"),
    FrameRate::new(25, 1, false, "25"),
    FrameRate::new(30000, 1001, false, "29.97"),
    FrameRate::new(30000, 1001, true, "29.97df"),
    FrameRate::new(30, 1, false, "30"),
    FrameRate::new(48000, 1001, false, "47.952"),
    FrameRate::new(48, 1, false, "48"),
    FrameRate::new(50, 1, false, "50"),
    FrameRate::new(60000, 1001, false, "59.94"),
    FrameRate::new(60000, 1001, true, "59.94df"),
    FrameRate::new(60, 1, false, "60"),
];

impl FrameRate {
    const fn new(num: u32, den: u32, drop_frame: bool, label: &'static str) -> Self {
        Self {
            num,
            den,
            drop_frame,
            label,
        }
    }

    /// Parses `23.976`, `24000/1001`, `29.97df`, `29.97 DF`, `30000/1001df`, `29.97ndf`…
    /// Only the rates of [`RATES`] are accepted.
    pub fn parse(input: &str) -> Result<Self, TimecodeError> {
        let s = input.trim().to_ascii_lowercase();
        let (body, drop_frame) = if let Some(b) = s.strip_suffix("ndf") {
            (b.trim(), false)
        } else if let Some(b) = s.strip_suffix("df") {
            (b.trim(), true)
        } else {
            (s.as_str(), false)
        };
        let body = body.strip_suffix("fps").map_or(body, str::trim);
        let rational = match body.split_once('/') {
            Some((n, d)) => match (n.trim().parse::<u32>(), d.trim().parse::<u32>()) {
                (Ok(n), Ok(d)) if d != 0 => Some((n, d)),
                _ => None,
            },
            None => None,
        };
        let found = RATES.iter().find(|r| {
            r.drop_frame == drop_frame
                && match rational {
                    // Compare fractions by cross-multiplication so 48000/2002 also matches.
                    Some((n, d)) => {
                        u64::from(n) * u64::from(r.den) == u64::from(d) * u64::from(r.num)
                    }
                    None => r.label.trim_end_matches("df") == body,
                }
        });
        match found {
            Some(r) => Ok(*r),
            None => {
                let known: Vec<&str> = RATES.iter().map(|r| r.label).collect();
                let hint = if drop_frame {
                    " (drop-frame exists only for 29.97 and 59.94)"
                } else {
                    ""
                };
                Err(TimecodeError::new(format!(
                    "{:?} is not a frame rate we know{hint}; use one of {}",
                    input.trim(),
                    known.join(", ")
                )))
            }
        }
    }

    /// Numerator of the rate in frames per second.
    pub fn num(&self) -> u32 {
        self.num
    }

    /// Denominator of the rate in frames per second.
    pub fn den(&self) -> u32 {
        self.den
    }

    pub fn is_drop_frame(&self) -> bool {
        self.drop_frame
    }

    /// The label used in messages: `23.976`, `29.97df`.
    pub fn label(&self) -> &'static str {
        self.label
    }

    /// Frames per timecode second (the frames field runs 0..nominal): 24 for 23.976, 30 for 29.97.
    pub fn nominal(&self) -> u32 {
        self.num.div_ceil(self.den)
    }

    /// Labels skipped at the start of each minute not divisible by ten (0 for non-drop rates).
    fn dropped_per_minute(&self) -> u64 {
        if self.drop_frame {
            u64::from(self.nominal() / 15)
        } else {
            0
        }
    }

    /// Converts a frame count to samples at `sample_rate`.
    pub fn frames_to_samples(&self, frames: u64, sample_rate: u32) -> SampleCount {
        let numer = u128::from(frames) * u128::from(sample_rate) * u128::from(self.den);
        let denom = u128::from(self.num);
        let floor = numer / denom;
        let exact = numer % denom == 0;
        let floor = u64::try_from(floor).unwrap_or(u64::MAX);
        if exact {
            SampleCount::Exact(floor)
        } else {
            SampleCount::Between {
                floor,
                ceil: floor.saturating_add(1),
            }
        }
    }

    /// Converts a sample count to frames: whole frames and the samples left over (which may be
    /// fractional in frames at 29.97, so it is kept as a fraction of one frame in `1/num` units).
    pub fn samples_to_frames(&self, samples: u64, sample_rate: u32) -> FrameCount {
        // frames = samples × num / (rate × den)
        let numer = u128::from(samples) * u128::from(self.num);
        let denom = u128::from(sample_rate.max(1)) * u128::from(self.den);
        let whole = u64::try_from(numer / denom).unwrap_or(u64::MAX);
        let rem = numer % denom;
        FrameCount {
            whole,
            fraction: if denom == 0 {
                0.0
            } else {
                rem as f64 / denom as f64
            },
        }
    }

    /// The timecode label of frame `frames` counted from `00:00:00:00`. Hours wrap at 24.
    pub fn label_of(&self, frames: u64) -> Timecode {
        let nominal = u64::from(self.nominal().max(1));
        let drop = self.dropped_per_minute();
        let mut n = frames;
        if drop > 0 {
            let per_ten = 600 * nominal - 9 * drop;
            let per_minute = 60 * nominal - drop;
            let tens = n / per_ten;
            let rem = n % per_ten;
            let extra_minutes = if rem >= drop {
                (rem - drop) / per_minute
            } else {
                0
            };
            n = n
                .saturating_add(9 * drop * tens)
                .saturating_add(drop * extra_minutes);
        }
        let ff = n % nominal;
        let total_seconds = n / nominal;
        Timecode {
            hours: u32::try_from((total_seconds / 3600) % 24).unwrap_or(0),
            minutes: u32::try_from((total_seconds / 60) % 60).unwrap_or(0),
            seconds: u32::try_from(total_seconds % 60).unwrap_or(0),
            frames: u32::try_from(ff).unwrap_or(0),
            drop_frame: self.drop_frame,
        }
    }

    /// The frame count of a label (frames since `00:00:00:00`). Fails on a label that does not
    /// exist at this rate (frames field too large, or a skipped drop-frame label).
    pub fn frames_of(&self, tc: &Timecode) -> Result<u64, TimecodeError> {
        let nominal = self.nominal();
        if tc.minutes > 59 || tc.seconds > 59 || tc.frames >= nominal {
            return Err(TimecodeError::new(format!(
                "{tc} is not a timecode at {} fps: minutes and seconds run 00–59 and frames 00–{:02}",
                self.label,
                nominal.saturating_sub(1)
            )));
        }
        if tc.drop_frame && !self.drop_frame {
            return Err(TimecodeError::new(format!(
                "{tc} is a drop-frame label (';' before the frames) but {} fps is non-drop; \
                 use a drop-frame rate such as 29.97df, or ':' before the frames",
                self.label
            )));
        }
        let drop = self.dropped_per_minute();
        if drop > 0
            && tc.seconds == 0
            && !tc.minutes.is_multiple_of(10)
            && u64::from(tc.frames) < drop
        {
            return Err(TimecodeError::new(format!(
                "{tc} does not exist at {} fps: drop-frame timecode skips frames 00–{:02} at the \
                 start of each minute except every tenth",
                self.label,
                drop - 1
            )));
        }
        let total_minutes = 60 * u64::from(tc.hours) + u64::from(tc.minutes);
        let label_frames =
            (3600 * u64::from(tc.hours) + 60 * u64::from(tc.minutes) + u64::from(tc.seconds))
                * u64::from(nominal)
                + u64::from(tc.frames);
        Ok(label_frames.saturating_sub(drop * (total_minutes - total_minutes / 10)))
    }
}

impl fmt::Display for FrameRate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label)
    }
}

/// A duration in frames: whole frames plus the fraction of one more.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FrameCount {
    pub whole: u64,
    pub fraction: f64,
}

/// The number of samples that a whole number of frames lasts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SampleCount {
    /// The frames end exactly on a sample boundary.
    Exact(u64),
    /// The frames end between two samples: either neighbour is an acceptable length.
    Between { floor: u64, ceil: u64 },
}

impl SampleCount {
    pub fn accepts(&self, samples: u64) -> bool {
        match *self {
            Self::Exact(n) => samples == n,
            Self::Between { floor, ceil } => samples == floor || samples == ceil,
        }
    }

    /// The acceptable length nearest to `samples` (the floor when equally near).
    pub fn nearest(&self, samples: u64) -> u64 {
        match *self {
            Self::Exact(n) => n,
            Self::Between { floor, ceil } => {
                if samples >= ceil {
                    ceil
                } else {
                    floor
                }
            }
        }
    }
}

/// A timecode label `hh:mm:ss:ff` (or `hh:mm:ss;ff` for drop-frame).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timecode {
    pub hours: u32,
    pub minutes: u32,
    pub seconds: u32,
    pub frames: u32,
    /// Written with `;` before the frames.
    pub drop_frame: bool,
}

impl Timecode {
    /// Parses `hh:mm:ss:ff`, `hh:mm:ss;ff` or `hh;mm;ss;ff` (also `.` or `,` before the frames,
    /// as some tools write drop-frame). Range checks that depend on the rate are in
    /// [`FrameRate::frames_of`].
    pub fn parse(input: &str) -> Result<Self, TimecodeError> {
        let s = input.trim();
        let bad = || {
            TimecodeError::new(format!(
                "{s:?} is not a timecode; write hh:mm:ss:ff, or hh:mm:ss;ff for drop-frame"
            ))
        };
        let bytes = s.as_bytes();
        if bytes.len() != 11 {
            return Err(bad());
        }
        let mut fields = [0u32; 4];
        let mut drop_frame = false;
        for (i, field) in fields.iter_mut().enumerate() {
            let start = i * 3;
            let digits = bytes.get(start..start + 2).ok_or_else(bad)?;
            let mut value = 0u32;
            for d in digits {
                if !d.is_ascii_digit() {
                    return Err(bad());
                }
                value = value * 10 + u32::from(d - b'0');
            }
            *field = value;
            if i < 3 {
                match bytes.get(start + 2) {
                    Some(b':') => {}
                    Some(b';' | b'.' | b',') => drop_frame = true,
                    _ => return Err(bad()),
                }
            }
        }
        let [hours, minutes, seconds, frames] = fields;
        if hours > 23 {
            return Err(TimecodeError::new(format!(
                "{s:?}: hours run 00–23 in a timecode"
            )));
        }
        Ok(Self {
            hours,
            minutes,
            seconds,
            frames,
            drop_frame,
        })
    }
}

impl fmt::Display for Timecode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sep = if self.drop_frame { ';' } else { ':' };
        write!(
            f,
            "{:02}:{:02}:{:02}{sep}{:02}",
            self.hours, self.minutes, self.seconds, self.frames
        )
    }
}

/// Formats a sample position as elapsed wall-clock time `hh:mm:ss.mmm` (truncated to the
/// millisecond), for places where no frame rate is known.
pub fn clock_of(samples: u64, sample_rate: u32) -> String {
    let rate = u64::from(sample_rate.max(1));
    let millis = u128::from(samples) * 1000 / u128::from(rate);
    let millis = u64::try_from(millis).unwrap_or(u64::MAX);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        millis / 3_600_000,
        (millis / 60_000) % 60,
        (millis / 1000) % 60,
        millis % 1000
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn rate(s: &str) -> FrameRate {
        FrameRate::parse(s).unwrap()
    }

    fn tc(s: &str) -> Timecode {
        Timecode::parse(s).unwrap()
    }

    #[test]
    fn rate_table_is_exact_rationals() {
        let expected: [(&str, u32, u32, bool, u32); 12] = [
            ("23.976", 24000, 1001, false, 24),
            ("24", 24, 1, false, 24),
            ("25", 25, 1, false, 25),
            ("29.97", 30000, 1001, false, 30),
            ("29.97df", 30000, 1001, true, 30),
            ("30", 30, 1, false, 30),
            ("47.952", 48000, 1001, false, 48),
            ("48", 48, 1, false, 48),
            ("50", 50, 1, false, 50),
            ("59.94", 60000, 1001, false, 60),
            ("59.94df", 60000, 1001, true, 60),
            ("60", 60, 1, false, 60),
        ];
        for (label, num, den, df, nominal) in expected {
            let r = rate(label);
            assert_eq!(
                (r.num(), r.den(), r.is_drop_frame()),
                (num, den, df),
                "{label}"
            );
            assert_eq!(r.nominal(), nominal, "{label}");
            assert_eq!(r.label(), label);
        }
    }

    #[test]
    fn rate_parsing_accepts_rationals_and_spellings() {
        assert_eq!(rate("24000/1001"), rate("23.976"));
        assert_eq!(rate("30000/1001df"), rate("29.97df"));
        assert_eq!(rate("29.97 DF"), rate("29.97df"));
        assert_eq!(rate("29.97NDF"), rate("29.97"));
        assert_eq!(rate("25fps"), rate("25"));
        assert_eq!(rate("48000/2002"), rate("23.976"));
        assert!(FrameRate::parse("23.98").is_err());
        assert!(FrameRate::parse("24df").is_err());
        assert!(FrameRate::parse("1/0").is_err());
        assert!(FrameRate::parse("").is_err());
    }

    #[test]
    fn samples_per_frame_at_48k() {
        let per_frame = |r: &str| rate(r).frames_to_samples(1, 48_000);
        assert_eq!(per_frame("23.976"), SampleCount::Exact(2002));
        assert_eq!(per_frame("24"), SampleCount::Exact(2000));
        assert_eq!(per_frame("25"), SampleCount::Exact(1920));
        assert_eq!(per_frame("30"), SampleCount::Exact(1600));
        assert_eq!(per_frame("47.952"), SampleCount::Exact(1001));
        assert_eq!(per_frame("48"), SampleCount::Exact(1000));
        assert_eq!(per_frame("50"), SampleCount::Exact(960));
        assert_eq!(per_frame("60"), SampleCount::Exact(800));
        assert_eq!(
            per_frame("29.97"),
            SampleCount::Between {
                floor: 1601,
                ceil: 1602
            }
        );
        assert_eq!(
            rate("29.97").frames_to_samples(5, 48_000),
            SampleCount::Exact(8008)
        );
        assert_eq!(
            rate("59.94df").frames_to_samples(5, 48_000),
            SampleCount::Exact(4004)
        );
        assert_eq!(
            rate("23.976").frames_to_samples(120, 48_000),
            SampleCount::Exact(240_240)
        );
        // One nominal timecode hour.
        assert_eq!(
            rate("23.976").frames_to_samples(86_400, 48_000),
            SampleCount::Exact(172_972_800)
        );
        assert_eq!(
            rate("24").frames_to_samples(86_400, 48_000),
            SampleCount::Exact(172_800_000)
        );
    }

    #[test]
    fn frames_to_samples_floor_ceil_rule() {
        let r = rate("29.97");
        for frames in 0..50u64 {
            let c = r.frames_to_samples(frames, 48_000);
            let exact_num = u128::from(frames) * 48_000 * 1001;
            match c {
                SampleCount::Exact(n) => {
                    assert_eq!(frames % 5, 0);
                    assert_eq!(u128::from(n) * 30_000, exact_num);
                }
                SampleCount::Between { floor, ceil } => {
                    assert_ne!(frames % 5, 0);
                    assert!(u128::from(floor) * 30_000 < exact_num);
                    assert!(u128::from(ceil) * 30_000 > exact_num);
                    assert_eq!(ceil, floor + 1);
                    assert!(c.accepts(floor) && c.accepts(ceil) && !c.accepts(ceil + 1));
                }
            }
        }
        assert_eq!(
            SampleCount::Between {
                floor: 10,
                ceil: 11
            }
            .nearest(50),
            11
        );
    }

    #[test]
    fn samples_to_frames_round_trip() {
        let r = rate("23.976");
        assert_eq!(
            r.samples_to_frames(2002, 48_000),
            FrameCount {
                whole: 1,
                fraction: 0.0
            }
        );
        let half = r.samples_to_frames(3003, 48_000);
        assert_eq!(half.whole, 1);
        assert!((half.fraction - 0.5).abs() < 1e-12);
        let r = rate("29.97");
        assert_eq!(r.samples_to_frames(8008, 48_000).whole, 5);
        assert_eq!(r.samples_to_frames(8007, 48_000).whole, 4);
        for frames in [0u64, 1, 7, 1799, 107_892, 3_000_000] {
            for r in RATES {
                let samples = match r.frames_to_samples(frames, 48_000) {
                    SampleCount::Exact(n) | SampleCount::Between { ceil: n, .. } => n,
                };
                assert_eq!(r.samples_to_frames(samples, 48_000).whole, frames, "{r}");
            }
        }
    }

    #[test]
    fn drop_frame_known_pairs() {
        let df = rate("29.97df");
        for (frames, label) in [
            (0u64, "00:00:00;00"),
            (1799, "00:00:59;29"),
            (1800, "00:01:00;02"),
            (17_982, "00:10:00;00"),
            (107_892, "01:00:00;00"),
        ] {
            assert_eq!(df.label_of(frames).to_string(), label);
            assert_eq!(df.frames_of(&tc(label)).unwrap(), frames);
        }
        // The same Pro Tools session exported as DF and NDF (session start 01:00:00).
        let ndf = rate("29.97");
        let start_df = df.frames_of(&tc("01:00:00;00")).unwrap();
        let start_ndf = ndf.frames_of(&tc("01:00:00:00")).unwrap();
        assert_eq!(df.frames_of(&tc("01:09:16;13")).unwrap() - start_df, 16_675);
        assert_eq!(
            ndf.frames_of(&tc("01:09:15:25")).unwrap() - start_ndf,
            16_675
        );
        assert_eq!(df.frames_of(&tc("01:05:06;28")).unwrap() - start_df, 9198);
        assert_eq!(ndf.frames_of(&tc("01:05:06:18")).unwrap() - start_ndf, 9198);
    }

    #[test]
    fn drop_frame_round_trips_every_frame_of_a_day() {
        for r in [rate("29.97df"), rate("59.94df")] {
            let day = r.frames_of(&tc("23:59:59;29")).unwrap() + 1;
            let mut previous: Option<Timecode> = None;
            for n in (0..day).step_by(7).chain(day - 200..day) {
                let label = r.label_of(n);
                assert_eq!(r.frames_of(&label).unwrap(), n, "{label} at {r}");
                if let Some(p) = previous {
                    assert_ne!(p, label);
                }
                previous = Some(label);
            }
        }
        assert_eq!(
            rate("29.97df").frames_of(&tc("23:59:59;29")).unwrap() + 1,
            2_589_408
        );
        assert_eq!(
            rate("59.94df").frames_of(&tc("01:00:00;00")).unwrap(),
            215_784
        );
    }

    #[test]
    fn dropped_labels_are_refused() {
        let df = rate("29.97df");
        assert!(df.frames_of(&tc("00:01:00;00")).is_err());
        assert!(df.frames_of(&tc("00:01:00;01")).is_err());
        assert!(df.frames_of(&tc("00:01:00;02")).is_ok());
        assert!(df.frames_of(&tc("00:10:00;00")).is_ok());
        let df60 = rate("59.94df");
        assert!(df60.frames_of(&tc("00:01:00;03")).is_err());
        assert!(df60.frames_of(&tc("00:01:00;04")).is_ok());
        // A ';' label at a non-drop rate is a mistake worth reporting.
        assert!(rate("29.97").frames_of(&tc("00:00:01;00")).is_err());
        // ':' is accepted at a drop-frame rate (people type colons).
        assert_eq!(df.frames_of(&tc("00:00:01:00")).unwrap(), 30);
    }

    #[test]
    fn non_drop_labels() {
        let r = rate("23.976");
        assert_eq!(r.frames_of(&tc("01:00:00:00")).unwrap(), 86_400);
        assert_eq!(r.label_of(86_400 + 23).to_string(), "01:00:00:23");
        assert!(r.frames_of(&tc("00:00:00:24")).is_err());
        assert!(rate("25").frames_of(&tc("00:00:00:24")).is_ok());
        assert!(rate("25").frames_of(&tc("00:00:60:00")).is_err());
        // 24 h wraps.
        assert_eq!(
            rate("24").label_of(24 * 3600 * 24).to_string(),
            "00:00:00:00"
        );
    }

    #[test]
    fn timecode_parsing() {
        assert_eq!(
            tc("01:02:03;04"),
            Timecode {
                hours: 1,
                minutes: 2,
                seconds: 3,
                frames: 4,
                drop_frame: true
            }
        );
        assert!(!tc("01:02:03:04").drop_frame);
        for bad in [
            "1:02:03:04",
            "01:02:03",
            "aa:bb:cc:dd",
            "24:00:00:00",
            "01-02-03-04",
            "",
        ] {
            assert!(Timecode::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn clock_format() {
        assert_eq!(clock_of(48_000 * 3661 + 24, 48_000), "01:01:01.000");
        assert_eq!(clock_of(72_000, 48_000), "00:00:01.500");
        assert_eq!(clock_of(5, 0), "00:00:05.000");
    }
}
