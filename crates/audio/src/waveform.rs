//! The waveform picture: min/max per column per channel (filled during the QC pass) and its
//! rendering as a self-contained SVG with clipped columns and silences marked.

use std::fmt::Write as _;

/// One channel's columns.
#[derive(Clone, Debug, PartialEq)]
pub struct Lane {
    pub min: Vec<f32>,
    pub max: Vec<f32>,
    pub clipped: Vec<bool>,
}

impl Lane {
    pub fn new(columns: usize) -> Self {
        Self {
            min: vec![f32::MAX; columns],
            max: vec![f32::MIN; columns],
            clipped: vec![false; columns],
        }
    }

    pub fn update(&mut self, col: usize, lo: f32, hi: f32) {
        if let (Some(a), Some(b)) = (self.min.get_mut(col), self.max.get_mut(col)) {
            *a = a.min(lo);
            *b = b.max(hi);
        }
    }

    pub fn mark_clipped(&mut self, col: usize) {
        if let Some(c) = self.clipped.get_mut(col) {
            *c = true;
        }
    }

    fn column(&self, col: usize) -> Option<(f32, f32)> {
        let lo = *self.min.get(col)?;
        let hi = *self.max.get(col)?;
        (lo <= hi).then_some((lo, hi))
    }
}

/// The picture's data.
#[derive(Clone, Debug, PartialEq)]
pub struct Waveform {
    pub sample_rate: u32,
    pub frames: u64,
    pub samples_per_column: u64,
    /// Linear level under which a column counts as silent.
    pub silence_threshold: f32,
    pub lanes: Vec<Lane>,
}

const LANE_H: f64 = 120.0;
const LEFT: f64 = 56.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 26.0;
const RIGHT: f64 = 12.0;

fn escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            c if c.is_control() => String::new(),
            c => c.to_string(),
        })
        .collect()
}

/// Runs of consecutive true values as (first, count).
fn runs(flags: impl Iterator<Item = bool>) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut last = 0;
    for (i, f) in flags.enumerate() {
        last = i + 1;
        match (f, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, i - s));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, last - s));
    }
    out
}

impl Waveform {
    pub fn columns(&self) -> usize {
        self.lanes.first().map_or(0, |l| l.min.len())
    }

    /// Renders the picture. `title` is shown at the top (usually the file name).
    pub fn svg(&self, title: &str) -> String {
        let cols = self.columns();
        let width = LEFT + cols as f64 + RIGHT;
        let height = TOP + LANE_H * self.lanes.len().max(1) as f64 + BOTTOM;
        let mut s = String::with_capacity(4096 + cols * 24 * self.lanes.len());
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" \
             viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"sans-serif\" font-size=\"11\">\n\
             <title>{}</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n\
             <text x=\"{LEFT}\" y=\"17\" font-size=\"13\" fill=\"#222\">{}</text>\n",
            escape(title),
            escape(title)
        );
        let _ = writeln!(
            s,
            "<g font-size=\"10\"><rect x=\"{:.0}\" y=\"8\" width=\"10\" height=\"10\" fill=\"#d62728\" fill-opacity=\"0.35\"/>\
             <text x=\"{:.0}\" y=\"17\" fill=\"#444\">clipped</text>\
             <rect x=\"{:.0}\" y=\"8\" width=\"10\" height=\"10\" fill=\"#9e9e9e\" fill-opacity=\"0.3\"/>\
             <text x=\"{:.0}\" y=\"17\" fill=\"#444\">silence (&lt; −60 dBFS)</text></g>",
            width - 250.0,
            width - 236.0,
            width - 180.0,
            width - 166.0
        );
        for (i, lane) in self.lanes.iter().enumerate() {
            let y0 = TOP + LANE_H * i as f64;
            let mid = y0 + LANE_H / 2.0;
            let half = LANE_H / 2.0 - 6.0;
            let _ = writeln!(
                s,
                "<rect x=\"{LEFT}\" y=\"{y0:.1}\" width=\"{cols}\" height=\"{:.1}\" fill=\"#f7f7f7\" stroke=\"#ddd\"/>\n\
                 <text x=\"6\" y=\"{:.1}\" fill=\"#444\">Ch {}</text>",
                LANE_H - 2.0,
                mid + 4.0,
                i + 1
            );
            let silent = (0..cols).map(|c| {
                lane.column(c)
                    .is_none_or(|(lo, hi)| hi.abs().max(lo.abs()) < self.silence_threshold)
            });
            for (first, n) in runs(silent) {
                let _ = writeln!(
                    s,
                    "<rect x=\"{:.0}\" y=\"{y0:.1}\" width=\"{n}\" height=\"{:.1}\" fill=\"#9e9e9e\" fill-opacity=\"0.3\"/>",
                    LEFT + first as f64,
                    LANE_H - 2.0
                );
            }
            let _ = writeln!(
                s,
                "<line x1=\"{LEFT}\" y1=\"{mid:.1}\" x2=\"{:.0}\" y2=\"{mid:.1}\" stroke=\"#ccc\"/>",
                LEFT + cols as f64
            );
            let mut d = String::with_capacity(cols * 24);
            for c in 0..cols {
                if let Some((lo, hi)) = lane.column(c) {
                    let top = mid - f64::from(hi.clamp(-1.0, 1.0)) * half;
                    let bottom = mid - f64::from(lo.clamp(-1.0, 1.0)) * half;
                    // Keep at least a hairline so quiet columns still show.
                    let bottom = if bottom - top < 0.5 {
                        top + 0.5
                    } else {
                        bottom
                    };
                    let _ = write!(d, "M{:.1} {top:.1}V{bottom:.1}", LEFT + c as f64 + 0.5);
                }
            }
            let _ = writeln!(
                s,
                "<path d=\"{d}\" stroke=\"#1f5fa8\" stroke-width=\"1\" fill=\"none\"/>"
            );
            // Clipped columns go over the waveform so they stay visible in loud passages.
            for (first, n) in runs(lane.clipped.iter().copied()) {
                let _ = writeln!(
                    s,
                    "<rect x=\"{:.0}\" y=\"{y0:.1}\" width=\"{}\" height=\"{:.1}\" fill=\"#d62728\" fill-opacity=\"0.35\"/>",
                    LEFT + first as f64,
                    n.max(1),
                    LANE_H - 2.0
                );
            }
        }
        // Time axis: a tick about every 100 px at a round number of seconds.
        let seconds = self.frames as f64 / f64::from(self.sample_rate.max(1));
        let px_per_second = if seconds > 0.0 {
            (self.frames as f64 / self.samples_per_column.max(1) as f64) / seconds
        } else {
            1.0
        };
        let step = [
            0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0,
            1800.0, 3600.0,
        ]
        .into_iter()
        .find(|st| st * px_per_second >= 90.0)
        .unwrap_or(7200.0);
        let axis_y = TOP + LANE_H * self.lanes.len().max(1) as f64;
        let mut t = 0.0;
        let mut ticks = 0;
        while t <= seconds && ticks < 200 {
            let x = LEFT + t * px_per_second;
            let label = if seconds >= 60.0 {
                format!("{}:{:02}", (t / 60.0) as u64, (t % 60.0) as u64)
            } else {
                format!("{t:.2}s").replace(".00s", "s")
            };
            let _ = writeln!(
                s,
                "<line x1=\"{x:.1}\" y1=\"{axis_y:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#888\"/>\
                 <text x=\"{x:.1}\" y=\"{:.1}\" fill=\"#444\" text-anchor=\"middle\">{label}</text>",
                axis_y + 4.0,
                axis_y + 16.0
            );
            t += step;
            ticks += 1;
        }
        s.push_str("</svg>\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_flags() {
        let v = [true, true, false, true, false, false, true];
        assert_eq!(runs(v.into_iter()), vec![(0, 2), (3, 1), (6, 1)]);
        assert!(runs(std::iter::empty()).is_empty());
    }

    #[test]
    fn svg_marks_clips_and_silence() {
        let mut lane = Lane::new(4);
        lane.update(0, -0.5, 0.5);
        lane.update(1, -0.0001, 0.0001);
        lane.update(2, -1.0, 1.0);
        lane.mark_clipped(2);
        let w = Waveform {
            sample_rate: 48_000,
            frames: 4,
            samples_per_column: 1,
            silence_threshold: 0.001,
            lanes: vec![lane],
        };
        let svg = w.svg("a <b>.wav");
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("a &lt;b&gt;.wav"));
        assert!(svg.contains("#d62728\" fill-opacity=\"0.35\"/>"));
        assert!(svg.trim_end().ends_with("</svg>"));
    }
}
