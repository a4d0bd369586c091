//! Profiles, exact length and naming through the whole `check` call.

use audio::{CheckRequest, Code, ExpectedLength, Profile, Verdict};
use domain::timecode::{FrameRate, Timecode};

use crate::container::{check_with, errors, warnings};
use crate::fixture::*;

fn file(channels: u16, rate: u32, bits: u16, frames: usize) -> Vec<u8> {
    let s = sine(1000.0, 0.25, 0.0, frames, rate, usize::from(channels));
    Wav::riff(vec![fmt_pcm(channels, rate, bits), data(pcm(&s, bits))]).bytes()
}

fn fps(s: &str) -> Option<FrameRate> {
    FrameRate::parse(s).ok()
}

fn moments(kind: Profile, name: &str, expected: ExpectedLength, rate: &str) -> CheckRequest {
    CheckRequest {
        profile: kind,
        fps: fps(rate),
        expected: Some(expected),
        name: Some(name.into()),
        title: Some("Stranger Things".into()),
        talent: Some("Jane Doe".into()),
        ..CheckRequest::default()
    }
}

#[test]
fn moments_mixed_exact_length_accepted() {
    let req = moments(
        Profile::MomentsMixed,
        "StrangerThings_JaneDoe_Moments_Mixed.wav",
        ExpectedLength::Frames(120),
        "23.976",
    );
    let r = check_with(&file(2, 48_000, 24, 240_240), &req);
    assert_eq!(r.verdict, Verdict::Accepted, "{:?}", r.errors);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(r.length.expected_samples, Some(240_240));
    assert_eq!(r.length.difference, Some(0));
    assert_eq!(r.length.timecode.as_deref(), Some("00:00:05:00"));
}

#[test]
fn one_frame_short_at_23_976() {
    let req = moments(
        Profile::MomentsAsRecord,
        "Stranger_Things_Jane_Doe_Moments_AsRecord.wav",
        ExpectedLength::Frames(120),
        "23.976",
    );
    // Title "Stranger_Things" and talent "Doe"? No: talent is the part before _Moments_,
    // so this name's talent is "Doe" and its title "Stranger_Things_Jane".
    let r = check_with(&file(1, 48_000, 16, 238_238), &req);
    assert_eq!(r.verdict, Verdict::Rejected);
    assert_eq!(
        errors(&r),
        vec![Code::LengthMismatch, Code::NameTitle, Code::NameTalent]
    );
    let m = &r.errors[0].message;
    assert!(
        m.starts_with("2,002 samples (1 frame at 23.976 fps) short"),
        "{m}"
    );
    assert_eq!(r.length.difference, Some(-2002));
    let json = r.to_json_line("f.wav").unwrap();
    assert!(
        json.starts_with("{\"file\":\"f.wav\",\"verdict\":\"rejected\""),
        "{json}"
    );
    assert!(json.contains("\"code\":\"length_mismatch\""));
    assert!(json.contains("\"expected_samples\":240240"));
}

#[test]
fn floor_or_ceil_accepted_at_29_97() {
    // 7 frames at 29.97 = 11 211.2 samples: 11 211 and 11 212 are both right.
    for (have, ok) in [
        (11_211, true),
        (11_212, true),
        (11_210, false),
        (11_213, false),
    ] {
        let req = CheckRequest {
            profile: Profile::Vtk,
            fps: fps("29.97"),
            expected: Some(ExpectedLength::Frames(7)),
            ..CheckRequest::default()
        };
        let r = check_with(&file(1, 48_000, 24, have), &req);
        assert_eq!(r.verdict == Verdict::Accepted, ok, "{have}: {:?}", r.errors);
        assert_eq!(r.length.expected_samples_range, Some([11_211, 11_212]));
    }
}

#[test]
fn timecode_in_out_drop_frame() {
    // 00:00:59;28 → 00:01:00;04 at 29.97df is 4 frames (two labels are skipped).
    let req = CheckRequest {
        profile: Profile::Vtk,
        fps: fps("29.97df"),
        expected: Some(ExpectedLength::Timecodes {
            tc_in: Timecode::parse("00:00:59;28").unwrap(),
            tc_out: Timecode::parse("00:01:00;04").unwrap(),
        }),
        ..CheckRequest::default()
    };
    req.validate().unwrap();
    let r = check_with(&file(1, 48_000, 24, 6406), &req);
    assert_eq!(r.length.expected_frames, Some(4));
    assert_eq!(r.verdict, Verdict::Accepted, "{:?}", r.errors);
    // A label that does not exist is a usage error.
    let bad = CheckRequest {
        expected: Some(ExpectedLength::Timecodes {
            tc_in: Timecode::parse("00:01:00;00").unwrap(),
            tc_out: Timecode::parse("00:01:00;04").unwrap(),
        }),
        ..req.clone()
    };
    assert!(bad.validate().unwrap_err().contains("does not exist"));
    let backwards = CheckRequest {
        expected: Some(ExpectedLength::Timecodes {
            tc_in: Timecode::parse("00:01:00;04").unwrap(),
            tc_out: Timecode::parse("00:00:59;28").unwrap(),
        }),
        ..req
    };
    assert!(backwards.validate().is_err());
    let no_fps = CheckRequest {
        expected: Some(ExpectedLength::Frames(3)),
        ..CheckRequest::default()
    };
    assert!(no_fps.validate().is_err());
}

#[test]
fn samples_expectation_without_fps() {
    let req = CheckRequest {
        expected: Some(ExpectedLength::Samples(48_000)),
        ..CheckRequest::default()
    };
    let r = check_with(&file(1, 48_000, 24, 47_520), &req);
    assert_eq!(errors(&r), vec![Code::LengthMismatch]);
    assert!(
        r.errors[0]
            .message
            .starts_with("480 samples (10.0 ms) short"),
        "{}",
        r.errors[0].message
    );
}

#[test]
fn length_of_a_broken_file_is_unknown() {
    let w = Wav::riff(vec![
        with_block_align(fmt_pcm(1, 48_000, 24), 4),
        data(tone_24_mono(100)),
    ]);
    let req = CheckRequest {
        expected: Some(ExpectedLength::Samples(100)),
        ..CheckRequest::default()
    };
    let r = check_with(&w.bytes(), &req);
    assert_eq!(
        errors(&r),
        vec![Code::BlockAlignMismatch, Code::LengthUnknown]
    );
}

#[test]
fn profile_format_rules() {
    let asrec = |bytes: &[u8], profile| {
        let r = check_with(
            bytes,
            &CheckRequest {
                profile,
                expected: Some(ExpectedLength::Samples(4800)),
                ..CheckRequest::default()
            },
        );
        errors(&r)
    };
    assert!(asrec(&file(1, 48_000, 16, 4800), Profile::MomentsAsRecord).is_empty());
    assert!(asrec(&file(1, 48_000, 24, 4800), Profile::Vtk).is_empty());
    assert_eq!(
        asrec(&file(2, 48_000, 24, 4800), Profile::MomentsAsRecord),
        vec![Code::WrongChannels]
    );
    assert_eq!(
        asrec(&file(1, 48_000, 24, 4800), Profile::MomentsMixed),
        vec![Code::WrongChannels]
    );
    assert_eq!(
        asrec(&file(1, 44_100, 24, 4800), Profile::MomentsAsRecord),
        vec![Code::WrongSampleRate]
    );
    assert_eq!(
        asrec(&file(1, 48_000, 8, 4800), Profile::MomentsAsRecord),
        vec![Code::WrongBits]
    );
    assert_eq!(
        asrec(&file(1, 48_000, 16, 4800), Profile::Premix),
        vec![Code::WrongBits]
    );
    assert!(asrec(&file(1, 48_000, 24, 4800), Profile::Premix).is_empty());
    // 20 valid bits in a 24-bit container is not "24-bit".
    let w = Wav::riff(vec![
        fmt_ext(1, 48_000, 24, 20, 4, 1),
        data(tone_24_mono(4800)),
    ]);
    assert_eq!(
        asrec(&w.bytes(), Profile::MomentsAsRecord),
        vec![Code::WrongBits]
    );
    // wellformed accepts anything decodable.
    assert!(asrec(&file(6, 44_100, 16, 4800), Profile::Wellformed).is_empty());
}

#[test]
fn length_not_given_is_a_warning_for_clip_profiles() {
    let r = check_with(
        &file(1, 48_000, 24, 4800),
        &CheckRequest {
            profile: Profile::Vtk,
            ..CheckRequest::default()
        },
    );
    assert_eq!(r.verdict, Verdict::Accepted);
    assert_eq!(warnings(&r), vec![Code::LengthNotChecked]);
}

#[test]
fn naming_rules_through_check() {
    let req = |name: &str, profile| CheckRequest {
        profile,
        expected: Some(ExpectedLength::Samples(4800)),
        name: Some(name.into()),
        ..CheckRequest::default()
    };
    let mono = file(1, 48_000, 24, 4800);
    let stereo = file(2, 48_000, 24, 4800);
    let r = check_with(
        &mono,
        &req("Show_Jane_Moments_AsRecord.wav", Profile::MomentsAsRecord),
    );
    assert_eq!(r.verdict, Verdict::Accepted, "{:?}", r.errors);
    // Mixed in the name, one channel in the file, asrecord profile.
    let r = check_with(
        &mono,
        &req("Show_Jane_Moments_Mixed.wav", Profile::MomentsAsRecord),
    );
    assert_eq!(
        errors(&r),
        vec![Code::NameKindChannels, Code::NameKindChannels]
    );
    let r = check_with(
        &stereo,
        &req("Show_Jane_Moments_Mixed.wav", Profile::MomentsMixed),
    );
    assert_eq!(r.verdict, Verdict::Accepted);
    let r = check_with(&stereo, &req("upload-1234.tmp", Profile::MomentsMixed));
    assert_eq!(errors(&r), vec![Code::NameExtension]);
    let r = check_with(
        &stereo,
        &req("Show Jane Moments Mixed.wav", Profile::MomentsMixed),
    );
    assert!(errors(&r).contains(&Code::NamePattern));
    // Naming does not apply to wellformed or vtk.
    let r = check_with(&mono, &req("anything.wav", Profile::Vtk));
    assert_eq!(r.verdict, Verdict::Accepted);
}

#[test]
fn casting_sample_duration_and_name() {
    let req = |name: &str| CheckRequest {
        profile: Profile::CastingSample,
        name: Some(name.into()),
        talent: Some("Millie".into()),
        ..CheckRequest::default()
    };
    let short = file(1, 48_000, 24, 48_000 * 10);
    let r = check_with(&short, &req("Eleven_Millie.wav"));
    assert_eq!(r.verdict, Verdict::Accepted);
    assert_eq!(warnings(&r), vec![Code::DurationOutOfRange]);
    let ok = file(1, 48_000, 16, 48_000 * 31);
    let r = check_with(&ok, &req("Eleven_Millie.wav"));
    assert!(
        r.warnings.is_empty() && r.errors.is_empty(),
        "{:?} {:?}",
        r.errors,
        r.warnings
    );
    let r = check_with(&ok, &req("Eleven.wav"));
    assert_eq!(errors(&r), vec![Code::NamePattern]);
}

#[test]
fn profile_names_round_trip() {
    for p in Profile::ALL {
        assert_eq!(Profile::parse(p.as_str()), Ok(p));
    }
    assert!(Profile::parse("moments").is_err());
}
