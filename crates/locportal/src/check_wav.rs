//! `locportal check wav`: the command-line front of the `audio` crate. Opens the files, prints
//! the reports (plain words, or one JSON object per file per line) and sets the exit status:
//! 0 = every file accepted (warnings allowed), 1 = some file rejected, 2 = some file could not
//! be checked (usage error, unreadable file).

use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use audio::report::{ChannelReport, QcReport};
use audio::{CheckRequest, DEFAULT_WAVEFORM_COLUMNS, ExpectedLength, Profile, Report, Verdict};
use domain::timecode::{FrameRate, Timecode};

fn parse_profile(s: &str) -> Result<Profile, String> {
    Profile::parse(s)
}

fn parse_fps(s: &str) -> Result<FrameRate, String> {
    FrameRate::parse(s).map_err(|e| e.to_string())
}

fn parse_tc(s: &str) -> Result<Timecode, String> {
    Timecode::parse(s).map_err(|e| e.to_string())
}

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Exit status: 0 = accepted (warnings allowed), 1 = rejected, 2 = could not check.\n\
Profiles: wellformed (default), moments-asrecord, moments-mixed, vtk, premix, casting-sample.\n\
Name parts are compared with --title/--talent ignoring case, spaces and punctuation."
)]
pub struct CheckWavArgs {
    /// WAV files to check.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Delivery profile.
    #[arg(long, default_value = "wellformed", value_parser = parse_profile)]
    pub profile: Profile,
    /// Frame rate for lengths and timecodes: 23.976, 24, 25, 29.97, 29.97df, 30, 47.952, 48, 50,
    /// 59.94, 59.94df, 60 (or a fraction such as 24000/1001).
    #[arg(long, value_parser = parse_fps)]
    pub fps: Option<FrameRate>,
    /// Expected length in frames (needs --fps).
    #[arg(long, conflicts_with_all = ["samples", "tc_in"])]
    pub frames: Option<u64>,
    /// Expected length in samples.
    #[arg(long, conflicts_with_all = ["frames", "tc_in"])]
    pub samples: Option<u64>,
    /// Clip in point (hh:mm:ss:ff, hh:mm:ss;ff for drop-frame); needs --tc-out and --fps.
    #[arg(long, requires = "tc_out", value_parser = parse_tc)]
    pub tc_in: Option<Timecode>,
    /// Clip out point, exclusive (the first frame after the clip).
    #[arg(long, requires = "tc_in", value_parser = parse_tc)]
    pub tc_out: Option<Timecode>,
    /// Title the file name must carry (Moments).
    #[arg(long)]
    pub title: Option<String>,
    /// Talent the file name must carry (Moments; actor for casting samples).
    #[arg(long)]
    pub talent: Option<String>,
    /// Check this name instead of the file's own (uploads arrive under temporary names).
    #[arg(long)]
    pub name: Option<String>,
    /// Measure peaks, true peak, loudness, clipping, DC, noise floor and silences.
    #[arg(long)]
    pub qc: bool,
    /// Write the waveform picture as SVG (with several files, OUT-<file>.svg each).
    #[arg(long, value_name = "OUT.svg")]
    pub waveform: Option<PathBuf>,
    /// One JSON object per file per line.
    #[arg(long)]
    pub json: bool,
    /// Threads for the QC pass (0 = all cores).
    #[arg(long, default_value_t = 0, hide = true)]
    pub threads: usize,
    /// The premix limiter advice in dBTP: a true peak above it is a warning (premix profile).
    #[arg(long, value_name = "DBTP", default_value_t = -6.0, allow_hyphen_values = true)]
    pub true_peak_limit: f64,
}

fn request(args: &CheckWavArgs) -> Result<CheckRequest, String> {
    let expected = match (args.frames, args.samples, args.tc_in, args.tc_out) {
        (Some(n), _, _, _) => Some(ExpectedLength::Frames(n)),
        (_, Some(n), _, _) => Some(ExpectedLength::Samples(n)),
        (_, _, Some(tc_in), Some(tc_out)) => Some(ExpectedLength::Timecodes { tc_in, tc_out }),
        _ => None,
    };
    if args.name.is_some() && args.files.len() > 1 {
        return Err("--name applies to one file; check files one at a time with it".into());
    }
    let req = CheckRequest {
        profile: args.profile,
        fps: args.fps,
        expected,
        name: None,
        title: args.title.clone(),
        talent: args.talent.clone(),
        qc: args.qc,
        waveform_columns: if args.waveform.is_some() {
            DEFAULT_WAVEFORM_COLUMNS
        } else {
            0
        },
        threads: args.threads,
        true_peak_limit: Some(args.true_peak_limit),
    };
    req.validate()?;
    Ok(req)
}

fn waveform_path(out: &Path, file: &Path, many: bool) -> PathBuf {
    if !many {
        return out.to_path_buf();
    }
    let stem = out
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let file_stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    out.with_file_name(format!("{stem}-{file_stem}.svg"))
}

fn fmt_db(v: Option<f64>, unit: &str) -> String {
    match v {
        Some(v) => format!("{v:.2} {unit}"),
        None => format!("-inf {unit}"),
    }
}

fn print_qc(out: &mut impl std::io::Write, q: &QcReport, rate: u32) -> std::io::Result<()> {
    writeln!(
        out,
        "  QC: integrated {}, range {}, sample peak {}, true peak {}",
        q.integrated_lufs
            .map_or("n/a (too short or silent)".to_string(), |v| format!(
                "{v:.1} LUFS"
            )),
        q.loudness_range_lu
            .map_or("n/a".to_string(), |v| format!("{v:.1} LU")),
        fmt_db(q.sample_peak_dbfs, "dBFS"),
        fmt_db(q.true_peak_dbtp, "dBTP"),
    )?;
    let secs = |n: u64| n as f64 / f64::from(rate.max(1));
    for ChannelReport { measures: c, .. } in &q.channels {
        writeln!(
            out,
            "    ch{}: peak {}, true peak {}, RMS {}, loudness {}, DC {:+.5}, noise floor {}, speech {}, \
             clip runs {}, flat tops {}, silence {:.3} s lead / {:.3} s trail",
            c.channel,
            fmt_db(c.sample_peak_dbfs, "dBFS"),
            fmt_db(c.true_peak_dbtp, "dBTP"),
            fmt_db(c.rms_dbfs, "dBFS"),
            c.integrated_lufs
                .map_or("n/a".to_string(), |v| format!("{v:.1} LUFS")),
            c.dc_offset,
            fmt_db(c.noise_floor_dbfs, "dBFS"),
            fmt_db(c.speech_level_dbfs, "dBFS"),
            c.clip_runs,
            c.flat_top_runs,
            secs(c.leading_silence_samples),
            secs(c.trailing_silence_samples),
        )?;
    }
    Ok(())
}

fn print_human(out: &mut impl std::io::Write, file: &str, r: &Report) -> std::io::Result<()> {
    let verdict = match r.verdict {
        Verdict::Accepted => "accepted",
        Verdict::Rejected => "REJECTED",
    };
    writeln!(out, "{file}: {verdict} ({})", r.profile)?;
    let summary = r.summary();
    if !summary.is_empty() {
        writeln!(out, "  {summary}")?;
    }
    for e in &r.errors {
        writeln!(out, "  error: {} [{}]", e.message, e.code)?;
    }
    for w in &r.warnings {
        writeln!(out, "  warning: {} [{}]", w.message, w.code)?;
    }
    if let Some(b) = &r.bext {
        let at = &b.time_reference_at;
        let tc = at
            .timecode
            .as_ref()
            .map(|t| format!(", {t} at {} fps", at.fps.unwrap_or("?")))
            .unwrap_or_default();
        writeln!(
            out,
            "  bext v{}: originator {:?}, time reference {} samples ({}{tc})",
            b.bext.version, b.bext.originator, at.samples, at.time
        )?;
    }
    if let Some(q) = &r.qc {
        let rate = r.format.as_ref().map_or(48_000, |f| f.sample_rate);
        print_qc(out, q, rate)?;
    }
    Ok(())
}

pub fn run(args: &CheckWavArgs) -> ExitCode {
    let base = match request(args) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("locportal check wav: {e}");
            return ExitCode::from(2);
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut worst = 0u8;
    let many = args.files.len() > 1;
    for path in &args.files {
        let shown = path.display().to_string();
        let mut req = base.clone();
        req.name = Some(match &args.name {
            Some(n) => n.clone(),
            None => path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| shown.clone()),
        });
        let result = File::open(path).and_then(|mut f| audio::check(&mut f, &req));
        let report = match result {
            Ok(r) => r,
            Err(e) => {
                worst = 2;
                let message = format!("cannot read the file: {e}");
                eprintln!("locportal check wav: {shown}: {message}");
                if args.json
                    && let Ok(s) = audio::report::unchecked_json_line(&shown, &message)
                {
                    let _ = writeln!(out, "{s}");
                }
                continue;
            }
        };
        if report.verdict == Verdict::Rejected {
            worst = worst.max(1);
        }
        if let (Some(target), Some(w)) = (&args.waveform, &report.waveform) {
            let dest = waveform_path(target, path, many);
            let title = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if let Err(e) = std::fs::write(&dest, w.svg(&title)) {
                eprintln!("locportal check wav: cannot write {}: {e}", dest.display());
                worst = 2;
            }
        }
        let written = if args.json {
            match report.to_json_line(&shown) {
                Ok(s) => writeln!(out, "{s}"),
                Err(e) => {
                    eprintln!("locportal check wav: {shown}: cannot format the report: {e}");
                    worst = 2;
                    Ok(())
                }
            }
        } else {
            print_human(&mut out, &shown, &report)
        };
        if written.is_err() {
            // stdout closed (e.g. piped into head): nothing more can be said.
            return ExitCode::from(2);
        }
    }
    ExitCode::from(worst)
}
