//! `locportal check wav` as a user runs it: exit status, human output, JSON lines, QC and the
//! waveform picture, on WAV files written here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A PCM WAV: `channels` × `samples` frames of a 997 Hz sine at −20 dBFS.
fn write_wav(dir: &Path, name: &str, channels: u16, bits: u16, rate: u32, samples: u32) -> PathBuf {
    let bytes_per_sample = u32::from(bits / 8);
    let block_align = u32::from(channels) * bytes_per_sample;
    let data_len = samples * block_align;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * block_align).to_le_bytes());
    out.extend_from_slice(&(block_align as u16).to_le_bytes());
    out.extend_from_slice(&bits.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    let full = f64::from(1u32 << (bits - 1)) - 1.0;
    for i in 0..samples {
        let v = (0.1
            * (2.0 * std::f64::consts::PI * 997.0 * f64::from(i) / f64::from(rate)).sin()
            * full) as i32;
        for _ in 0..channels {
            out.extend_from_slice(&v.to_le_bytes()[..bytes_per_sample as usize]);
        }
    }
    let path = dir.join(name);
    std::fs::write(&path, out).unwrap();
    path
}

fn check(args: &[&str]) -> Output {
    Command::new(super::BIN)
        .arg("check")
        .arg("wav")
        .args(args)
        .output()
        .unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    let line = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(line.lines().next().unwrap_or_default()).unwrap()
}

#[test]
fn an_exact_moments_recording_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let f = write_wav(
        dir.path(),
        "Glass Harbour_Ana Ruiz_Moments_AsRecord.wav",
        1,
        24,
        48_000,
        240_240,
    );
    let p = f.to_str().unwrap();
    let out = check(&[
        "--profile",
        "moments-asrecord",
        "--fps",
        "23.976",
        "--frames",
        "120",
        "--title",
        "glass harbour",
        "--talent",
        "Ana Ruiz",
        "--json",
        p,
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let j = json(&out);
    assert_eq!(j["verdict"], "accepted");
    assert_eq!(j["format"]["channels"], 1);
    assert_eq!(j["format"]["sample_rate"], 48_000);
    assert_eq!(j["length"]["samples"], 240_240);
    assert_eq!(j["length"]["expected_samples"], 240_240);
}

#[test]
fn one_frame_short_is_rejected_with_the_amount() {
    let dir = tempfile::tempdir().unwrap();
    let f = write_wav(
        dir.path(),
        "Glass Harbour_Ana Ruiz_Moments_AsRecord.wav",
        1,
        24,
        48_000,
        238_238,
    );
    let p = f.to_str().unwrap();
    let out = check(&[
        "--profile",
        "moments-asrecord",
        "--fps",
        "23.976",
        "--tc-in",
        "00:00:00:00",
        "--tc-out",
        "00:00:05:00",
        p,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("2,002 samples (1 frame at 23.976 fps) short"),
        "{text}"
    );
    let out = check(&[
        "--profile",
        "moments-asrecord",
        "--fps",
        "23.976",
        "--frames",
        "120",
        "--json",
        p,
    ]);
    let j = json(&out);
    assert_eq!(j["verdict"], "rejected");
    assert_eq!(j["length"]["difference"], -2002);
    assert!(
        j["errors"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["code"].is_string() && e["message"].is_string())
    );
}

#[test]
fn names_formats_and_unreadable_files() {
    let dir = tempfile::tempdir().unwrap();
    // A mono file named "Mixed" contradicts its channel count.
    let mono_mixed = write_wav(
        dir.path(),
        "Glass Harbour_Ana Ruiz_Moments_Mixed.wav",
        1,
        24,
        48_000,
        4_800,
    );
    let out = check(&["--profile", "moments-mixed", mono_mixed.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    // 44.1 kHz is refused by the Moments profiles but well-formed.
    let cd = write_wav(dir.path(), "cd.wav", 2, 16, 44_100, 4_410);
    assert_eq!(check(&[cd.to_str().unwrap()]).status.code(), Some(0));
    assert_eq!(
        check(&[
            "--profile",
            "moments-mixed",
            "--name",
            "T_A_Moments_Mixed.wav",
            cd.to_str().unwrap()
        ])
        .status
        .code(),
        Some(1)
    );
    // Not a WAV at all, and a file that is not there.
    let junk = dir.path().join("junk.wav");
    std::fs::write(&junk, b"MZ\x90\x00 this is an executable").unwrap();
    assert_eq!(check(&[junk.to_str().unwrap()]).status.code(), Some(1));
    let missing = dir.path().join("missing.wav");
    assert_eq!(check(&[missing.to_str().unwrap()]).status.code(), Some(2));
    // A usage error is "could not check".
    assert_eq!(
        check(&["--fps", "12", cd.to_str().unwrap()]).status.code(),
        Some(2)
    );
}

#[test]
fn qc_and_waveform() {
    let dir = tempfile::tempdir().unwrap();
    let f = write_wav(dir.path(), "tone.wav", 2, 24, 48_000, 48_000 * 3);
    let svg = dir.path().join("tone.svg");
    let out = check(&[
        "--qc",
        "--json",
        "--waveform",
        svg.to_str().unwrap(),
        f.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let j = json(&out);
    assert!(j["qc"].is_object(), "{j}");
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert!(picture.contains("<svg"), "{picture}");
}
