//! QC accuracy: known signals give known figures.

use std::io::Cursor;

use audio::{CheckRequest, Code, QcOptions, Verdict};

use crate::container::{check_with, warnings};
use crate::fixture::*;

fn qc_req() -> CheckRequest {
    CheckRequest {
        qc: true,
        ..CheckRequest::default()
    }
}

fn measure(bytes: &[u8], threads: usize, columns: usize) -> audio::Qc {
    let mut c = Cursor::new(bytes);
    let ins = audio::inspect(&mut c).unwrap();
    audio::measure(
        &mut c,
        &ins,
        &QcOptions {
            waveform_columns: columns,
            threads,
        },
    )
    .unwrap()
}

fn stereo_24(samples: &[f64]) -> Vec<u8> {
    Wav::riff(vec![fmt_pcm(2, 48_000, 24), data(pcm(samples, 24))]).bytes()
}

fn mono_24(samples: &[f64]) -> Vec<u8> {
    Wav::riff(vec![fmt_pcm(1, 48_000, 24), data(pcm(samples, 24))]).bytes()
}

#[test]
fn sine_997_hz_at_minus_20_dbfs_stereo() {
    let amp = 10f64.powf(-20.0 / 20.0);
    let bytes = stereo_24(&sine(997.0, amp, 0.0, 48_000 * 10, 48_000, 2));
    for threads in [1, 2] {
        let q = measure(&bytes, threads, 0);
        let i = q.integrated_lufs.unwrap();
        assert!((i + 20.0).abs() <= 0.1, "integrated {i}");
        assert!((q.max_momentary_lufs.unwrap() + 20.0).abs() <= 0.1);
        assert!(q.loudness_range_lu.unwrap() < 0.1);
        for c in &q.channels {
            let sp = c.sample_peak_dbfs.unwrap();
            let tp = c.true_peak_dbtp.unwrap();
            let rms = c.rms_dbfs.unwrap();
            assert!((sp + 20.0).abs() < 0.02, "sample peak {sp}");
            assert!((tp + 20.0).abs() < 0.1, "true peak {tp}");
            assert!((rms + 23.01).abs() < 0.01, "rms {rms}");
            assert!(c.dc_offset.abs() < 1e-6);
            assert_eq!(c.clip_runs, 0);
            assert!(c.leading_silence_samples <= 1, "the sine starts at 0");
            assert!(c.trailing_silence_samples < 2);
            // Each channel alone is 3 dB below the pair.
            assert!((c.integrated_lufs.unwrap() + 23.01).abs() < 0.1);
        }
    }
}

#[test]
fn inter_sample_peak_found_by_true_peak_only() {
    // fs/4 at 45°: every sample sits at ±0.3536 (−9.03 dBFS) while the wave peaks at 0.5
    // (−6.02 dBTP) between samples.
    let s = sine(
        12_000.0,
        0.5,
        std::f64::consts::FRAC_PI_4,
        48_000,
        48_000,
        1,
    );
    let q = measure(&mono_24(&s), 2, 0);
    let c = &q.channels[0];
    let sp = c.sample_peak_dbfs.unwrap();
    let tp = c.true_peak_dbtp.unwrap();
    assert!((sp + 9.03).abs() < 0.01, "sample peak {sp}");
    assert!((tp + 6.02).abs() < 0.3, "true peak {tp}");
    assert!(tp - sp > 2.5);
}

#[test]
fn true_peak_over_zero_is_reported() {
    let s = sine(
        12_000.0,
        1.3,
        std::f64::consts::FRAC_PI_4,
        48_000,
        48_000,
        1,
    );
    // Samples at ±0.919: no sample clips, the reconstructed wave does.
    let r = check_with(&mono_24(&s), &qc_req());
    assert!(
        warnings(&r).contains(&Code::QcTruePeakOver),
        "{:?}",
        r.warnings
    );
    assert!(!warnings(&r).contains(&Code::QcClipping));
}

#[test]
fn injected_clip_run_is_located() {
    let mut s = sine(440.0, 0.5, 0.0, 48_000 * 3, 48_000, 1);
    for v in &mut s[72_000..72_010] {
        *v = 1.0;
    }
    for v in &mut s[100_000..100_004] {
        *v = -1.0;
    }
    s[120_000] = 1.0; // a single full-scale sample is not a clip run
    s[120_001] = 1.0; // nor are two
    let req = CheckRequest {
        qc: true,
        fps: domain::timecode::FrameRate::parse("24").ok(),
        ..CheckRequest::default()
    };
    let r = check_with(&mono_24(&s), &req);
    let q = r.qc.as_ref().unwrap();
    let c = &q.channels[0];
    assert_eq!(c.measures.clip_runs, 2);
    assert_eq!(c.measures.clipped_samples, 14);
    assert_eq!(c.measures.clip_events[0].start, 72_000);
    assert_eq!(c.measures.clip_events[0].length, 10);
    assert_eq!(c.measures.clip_events[1].start, 100_000);
    assert_eq!(c.clip_event_times[0].time, "00:00:01.500");
    assert_eq!(
        c.clip_event_times[0].timecode.as_deref(),
        Some("00:00:01:12")
    );
    let clip = r
        .warnings
        .iter()
        .find(|w| w.code == Code::QcClipping)
        .unwrap();
    assert!(
        clip.message.contains("00:00:01:12 (00:00:01.500)"),
        "{}",
        clip.message
    );
}

#[test]
fn flat_tops_below_full_scale() {
    // Clipped at 0.5 then left there: flat tops at the channel's own peak (−6 dBFS).
    let s: Vec<f64> = sine(100.0, 0.8, 0.0, 48_000, 48_000, 1)
        .into_iter()
        .map(|v| v.clamp(-0.5, 0.5))
        .collect();
    let r = check_with(&mono_24(&s), &qc_req());
    let c = &r.qc.as_ref().unwrap().channels[0].measures;
    assert_eq!(c.clip_runs, 0);
    assert_eq!(
        c.flat_top_runs, 200,
        "one flat top per half cycle, at +0.5 and at −0.5"
    );
    assert!(warnings(&r).contains(&Code::QcFlatTops), "{:?}", r.warnings);
}

#[test]
fn leading_and_trailing_silence_and_dc() {
    let mut s = vec![0.0; 48_000];
    s.extend(
        sine(1000.0, 0.5, 0.0, 48_000, 48_000, 1)
            .iter()
            .map(|v| v + 0.01),
    );
    s.extend(vec![0.0; 24_000]);
    let r = check_with(&mono_24(&s), &qc_req());
    let c = &r.qc.as_ref().unwrap().channels[0].measures;
    assert_eq!(c.leading_silence_samples, 48_000);
    assert_eq!(c.trailing_silence_samples, 24_000);
    assert!(
        (c.dc_offset - 0.01 * 48_000.0 / 120_000.0).abs() < 1e-5,
        "{}",
        c.dc_offset
    );
    assert!(warnings(&r).contains(&Code::QcDcOffset));
}

#[test]
fn noise_floor_and_speech_level() {
    // 2 s of "speech" at −20 dBFS RMS-ish and 2 s of room tone around −70 dBFS.
    let mut s = sine(300.0, 0.1 * 2f64.sqrt(), 0.0, 96_000, 48_000, 1);
    s.extend(sine(
        5000.0,
        10f64.powf(-70.0 / 20.0) * 2f64.sqrt(),
        0.0,
        96_000,
        48_000,
        1,
    ));
    let r = check_with(&mono_24(&s), &qc_req());
    let c = &r.qc.as_ref().unwrap().channels[0].measures;
    let floor = c.noise_floor_dbfs.unwrap();
    let speech = c.speech_level_dbfs.unwrap();
    assert!((floor + 70.0).abs() < 0.3, "floor {floor}");
    assert!((speech + 20.0).abs() < 0.3, "speech {speech}");
    assert!(!warnings(&r).contains(&Code::QcNoiseFloor));
}

#[test]
fn digital_silence_and_nan() {
    let r = check_with(&mono_24(&vec![0.0; 48_000]), &qc_req());
    let q = r.qc.as_ref().unwrap();
    assert_eq!(q.integrated_lufs, None);
    assert_eq!(q.channels[0].measures.sample_peak_dbfs, None);
    assert!(warnings(&r).contains(&Code::QcSilent));
    let mut s = float32(&sine(1000.0, 0.5, 0.0, 4800, 48_000, 1));
    s[40..44].copy_from_slice(&f32::NAN.to_le_bytes());
    s[80..84].copy_from_slice(&f32::INFINITY.to_le_bytes());
    let r = check_with(
        &Wav::riff(vec![fmt_raw(3, 1, 48_000, 32), data(s)]).bytes(),
        &qc_req(),
    );
    assert_eq!(r.verdict, Verdict::Rejected);
    assert_eq!(r.qc.as_ref().unwrap().non_finite_samples, 2);
    assert!((r.qc.unwrap().sample_peak_dbfs.unwrap() + 6.02).abs() < 0.01);
}

#[test]
fn threads_do_not_change_results() {
    let mut s = sine(997.0, 0.3, 0.0, 100_000, 48_000, 2);
    for v in &mut s[5000..5020] {
        *v = -1.0;
    }
    let bytes = stereo_24(&s);
    let run = |bytes: &[u8], threads: usize, columns: usize| {
        let mut q = measure(bytes, threads, columns);
        let used = q.threads_used;
        q.threads_used = 0;
        (q, used)
    };
    let (one, used1) = run(&bytes, 1, 300);
    let (two, used2) = run(&bytes, 2, 300);
    let (four, _) = run(&bytes, 4, 300);
    assert!(one == two, "1 and 2 threads differ");
    assert!(one == four, "1 and 4 threads differ");
    assert_eq!((used1, used2), (1, 2));
    let mono = mono_24(&s[..100_000]);
    let (m1, _) = run(&mono, 1, 0);
    let (m2, used) = run(&mono, 2, 0);
    assert_eq!(used, 2, "mono splits its true peak onto the second thread");
    assert!(m1 == m2, "mono with 1 and 2 threads differ");
}

#[test]
fn surround_weights_and_lfe() {
    // 5.1 with signal only in the LFE: it does not count toward loudness.
    let frames = 48_000;
    let tone = sine(60.0, 0.5, 0.0, frames, 48_000, 1);
    let mut inter = Vec::with_capacity(frames * 6);
    for v in &tone {
        inter.extend_from_slice(&[0.0, 0.0, 0.0, *v, 0.0, 0.0]);
    }
    let bytes = Wav::riff(vec![
        fmt_ext(6, 48_000, 24, 24, 0x3F, 1),
        data(pcm(&inter, 24)),
    ])
    .bytes();
    let q = measure(&bytes, 2, 0);
    assert_eq!(q.integrated_lufs, None);
    assert!(q.channels[3].integrated_lufs.is_some());
}

#[test]
fn waveform_svg_marks_clips_and_silence() {
    let mut s = vec![0.0; 48_000];
    s.extend(sine(440.0, 0.5, 0.0, 48_000, 48_000, 1));
    for v in &mut s[60_000..60_100] {
        *v = 1.0;
    }
    let req = CheckRequest {
        qc: true,
        waveform_columns: 200,
        ..CheckRequest::default()
    };
    let r = check_with(&mono_24(&s), &req);
    let w = r.waveform.as_ref().unwrap();
    assert_eq!(w.columns(), 200);
    assert_eq!(w.samples_per_column, 480);
    let lane = &w.lanes[0];
    assert!(lane.clipped[125], "clip at 60 000 / 480 = column 125");
    assert!(!lane.clipped[10]);
    assert!(lane.max[10] == 0.0 && lane.min[10] == 0.0);
    let svg = w.svg("take.wav");
    assert!(svg.contains("take.wav"));
    assert_eq!(
        svg.matches("fill=\"#d62728\" fill-opacity=\"0.35\"/>")
            .count(),
        2,
        "legend + one clipped region"
    );
    assert!(
        svg.matches("fill=\"#9e9e9e\"").count() >= 2,
        "legend + leading silence"
    );
}

#[test]
fn premix_true_peak_advice() {
    let s = sine(1000.0, 0.9, 0.0, 48_000, 48_000, 1);
    let req = CheckRequest {
        profile: audio::Profile::Premix,
        expected: Some(audio::ExpectedLength::Samples(48_000)),
        ..CheckRequest::default()
    };
    let r = check_with(&mono_24(&s), &req);
    assert_eq!(r.verdict, Verdict::Accepted, "{:?}", r.errors);
    assert!(warnings(&r).contains(&Code::QcTruePeakLimit));
    assert!(r.qc.is_some(), "premix runs the QC pass by itself");
}

#[test]
fn bext_loudness_compared_with_measurement() {
    let amp = 10f64.powf(-20.0 / 20.0);
    let audio = pcm(&sine(997.0, amp, 0.0, 48_000 * 2, 48_000, 2), 24);
    let w = Wav::riff(vec![
        bext(2, 0, Some(-2300)),
        fmt_pcm(2, 48_000, 24),
        data(audio),
    ]);
    let r = check_with(&w.bytes(), &qc_req());
    assert!(
        warnings(&r).contains(&Code::BextLoudnessDiffers),
        "{:?}",
        r.warnings
    );
}

#[test]
fn qc_on_unmeasurable_file_is_skipped_with_a_warning() {
    let w = Wav::riff(vec![
        with_block_align(fmt_pcm(1, 48_000, 24), 4),
        data(tone_24_mono(100)),
    ]);
    let r = check_with(&w.bytes(), &qc_req());
    assert!(warnings(&r).contains(&Code::QcSkipped));
    assert!(r.qc.is_none());
}

/// Records where each read starts, to see the order in which a check visits a file.
struct Recording<'a> {
    inner: Cursor<&'a [u8]>,
    reads: Vec<(u64, usize)>,
}

impl std::io::Read for Recording<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let at = self.inner.position();
        let n = self.inner.read(buf)?;
        self.reads.push((at, n));
        Ok(n)
    }
}

impl std::io::Seek for Recording<'_> {
    fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(pos)
    }
}

#[test]
fn a_file_checked_as_it_arrives_gives_the_same_report_and_measures_before_the_tail() {
    let frames = 48_000 * 3;
    let samples: Vec<f64> = (0..frames)
        .map(|i| ((i as f64) * 0.05).sin() * 0.5)
        .collect();
    let bytes = Wav::riff(vec![
        fmt_pcm(1, 48_000, 24),
        bext(2, 0, None),
        data(pcm(&samples, 24)),
        list_info(&[(b"INAM", "tail")]),
    ])
    .bytes();
    let req = CheckRequest {
        qc: true,
        waveform_columns: 100,
        ..CheckRequest::default()
    };
    let whole = audio::check(&mut Cursor::new(&bytes[..]), &req).unwrap();
    let mut rec = Recording {
        inner: Cursor::new(&bytes[..]),
        reads: Vec::new(),
    };
    let arriving = audio::check_arriving(&mut rec, &req).unwrap();
    assert_eq!(
        whole.to_json_line("f.wav").unwrap(),
        arriving.to_json_line("f.wav").unwrap()
    );
    assert_eq!(
        whole.waveform.as_ref().map(|w| w.svg("t")),
        arriving.waveform.as_ref().map(|w| w.svg("t"))
    );
    // The audio is read front to back before anything after it: nothing waits for the tail.
    let tail = (bytes.len() - 20) as u64;
    let first_tail_read = rec.reads.iter().position(|(at, _)| *at >= tail).unwrap();
    let audio_read: usize = rec.reads[..first_tail_read].iter().map(|(_, n)| *n).sum();
    assert!(
        audio_read >= frames * 3,
        "read {audio_read} bytes before the tail"
    );
}
