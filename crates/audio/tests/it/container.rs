//! Every container case of the research note, as a generated fixture with its expected verdict.

use std::io::{Cursor, Read, Seek, SeekFrom};

use audio::{CheckRequest, Code, Container, Encoding, Profile, Report, Verdict};

use crate::fixture::*;

pub fn check_with(bytes: &[u8], req: &CheckRequest) -> Report {
    audio::check(&mut Cursor::new(bytes), req).unwrap()
}

pub fn check(bytes: &[u8]) -> Report {
    check_with(bytes, &CheckRequest::default())
}

pub fn errors(r: &Report) -> Vec<Code> {
    r.errors.iter().map(|f| f.code).collect()
}

pub fn warnings(r: &Report) -> Vec<Code> {
    r.warnings.iter().map(|f| f.code).collect()
}

fn accepted_clean(r: &Report) {
    assert_eq!(r.verdict, Verdict::Accepted, "{:?}", r.errors);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
}

#[test]
fn c01_plain_pcm_fmt16() {
    let r = check(&plain().bytes());
    accepted_clean(&r);
    assert_eq!(r.length.samples, Some(24_000));
    let f = r.format.unwrap();
    assert_eq!(
        (f.container, f.encoding, f.channels, f.sample_rate, f.bits),
        (Some("RIFF"), "pcm", 1, 48_000, 24)
    );
}

#[test]
fn c02_extensible_pcm() {
    let w = Wav::riff(vec![
        fmt_ext(1, 48_000, 24, 24, 0x4, 1),
        data(tone_24_mono(24_000)),
    ]);
    let r = check(&w.bytes());
    accepted_clean(&r);
    assert_eq!(r.format.unwrap().channel_mask, Some(4));
}

#[test]
fn c03_junk_bext_before_fmt_ixml() {
    let w = Wav::riff(vec![
        Chunk::new(b"JUNK", vec![0; 28]),
        bext(2, 172_972_800, Some(-2300)),
        fmt_pcm(1, 48_000, 24),
        ixml(
            "<?xml version=\"1.0\"?><BWFXML><PROJECT>Moments</PROJECT><SPEED>\
             <TIMECODE_RATE>24000/1001</TIMECODE_RATE><TIMECODE_FLAG>NDF</TIMECODE_FLAG></SPEED></BWFXML>   ",
        ),
        data(tone_24_mono(24_000)),
    ]);
    let r = check(&w.bytes());
    accepted_clean(&r);
    let b = r.bext.as_ref().unwrap();
    assert_eq!(b.bext.originator, "Pro Tools");
    assert_eq!(b.bext.version, 2);
    assert_eq!(b.bext.loudness_value, Some(-23.0));
    assert_eq!(b.bext.max_true_peak_level, Some(-6.0));
    assert_eq!(b.bext.max_momentary_loudness, None);
    assert!(b.bext.coding_history.starts_with("A=PCM,F=48000"));
    // The rate comes from iXML when none is given: 01:00:00:00 at 23.976 is 172 972 800.
    assert_eq!(b.time_reference_at.timecode.as_deref(), Some("01:00:00:00"));
    assert_eq!(b.time_reference_at.fps, Some("23.976"));
    assert_eq!(r.ixml.as_ref().unwrap().project.as_deref(), Some("Moments"));
    let json = r.to_json_line("x.wav").unwrap();
    assert!(
        json.contains("\"time_reference_timecode\":{\"samples\":172972800"),
        "{json}"
    );
}

#[test]
fn c04_odd_chunk_correctly_padded() {
    let w = Wav::riff(vec![
        fmt_pcm(1, 48_000, 24),
        Chunk::new(b"abcd", vec![1, 2, 3]),
        data(tone_24_mono(24_000)),
    ]);
    accepted_clean(&check(&w.bytes()));
}

#[test]
fn c05_odd_chunk_pad_missing() {
    let w = Wav::riff(vec![
        fmt_pcm(1, 48_000, 24),
        Chunk::new(b"abcd", vec![1, 2, 3]).pad(Pad::Missing),
        data(tone_24_mono(24_000)),
    ]);
    let r = check(&w.bytes());
    assert_eq!(r.verdict, Verdict::Rejected);
    assert_eq!(errors(&r), vec![Code::PadMissing]);
    // Recovery found the data anyway.
    assert_eq!(r.length.samples, Some(24_000));
}

#[test]
fn c06_data_size_ffffffff() {
    let w = Wav::riff(vec![
        fmt_pcm(1, 48_000, 24),
        data(tone_24_mono(24_000)).sized(u32::MAX),
    ]);
    let r = check(&w.bytes());
    assert_eq!(errors(&r), vec![Code::DataSizeUnfinalised]);
    assert_eq!(r.length.samples, Some(24_000));
    assert!(
        r.errors[0].message.contains("24,000 samples present"),
        "{}",
        r.errors[0].message
    );
}

#[test]
fn c07_data_size_zero_riff_zero() {
    let mut w = Wav::riff(vec![
        fmt_pcm(1, 48_000, 24),
        data(tone_24_mono(24_000)).sized(0),
    ]);
    w.riff_size = Some(0);
    let r = check(&w.bytes());
    assert_eq!(errors(&r), vec![Code::DataSizeUnfinalised]);
    assert_eq!(r.length.samples, Some(24_000));
}

#[test]
fn c07b_empty_data_chunk_followed_by_chunks() {
    let w = Wav::riff(vec![
        fmt_pcm(1, 48_000, 24),
        data(Vec::new()),
        list_info(&[(b"ISFT", "x")]),
    ]);
    let r = check(&w.bytes());
    assert_eq!(errors(&r), vec![Code::DataEmpty]);
}

#[test]
fn c08_truncated() {
    let w = Wav::riff(vec![
        fmt_pcm(1, 48_000, 24),
        data(tone_24_mono(24_000)).sized(144_000),
    ]);
    let r = check(&w.bytes());
    assert_eq!(errors(&r), vec![Code::DataTruncated]);
    assert_eq!(r.length.samples, Some(24_000));
    let m = &r.errors[0].message;
    assert!(
        m.contains("48,000 samples")
            && m.contains("24,000 samples")
            && m.contains("24,000 samples missing"),
        "{m}"
    );
    // The RIFF header also overstates the size.
    assert!(warnings(&r).contains(&Code::RiffSizeMismatch) || r.warnings.is_empty());
}

#[test]
fn c09_float_pro_tools_fmt40() {
    let audio = float32(&sine(1000.0, 0.25, 0.0, 24_000, 48_000, 1));
    let w = Wav::riff(vec![
        fmt_float_pt(1, 48_000),
        Chunk::new(b"fact", 24_000u32.to_le_bytes().to_vec()),
        data(audio),
    ]);
    let r = check(&w.bytes());
    accepted_clean(&r);
    assert_eq!(r.format.as_ref().unwrap().encoding, "float");
    let moments = check_with(
        &w.bytes(),
        &CheckRequest {
            profile: Profile::MomentsAsRecord,
            expected: Some(audio::ExpectedLength::Samples(24_000)),
            ..CheckRequest::default()
        },
    );
    assert_eq!(errors(&moments), vec![Code::WrongEncoding, Code::WrongBits]);
}

#[test]
fn c10_extensible_valid_bits_zero() {
    let w = Wav::riff(vec![
        fmt_ext(1, 48_000, 24, 0, 0x4, 1),
        data(tone_24_mono(24_000)),
    ]);
    let r = check(&w.bytes());
    assert_eq!(r.verdict, Verdict::Accepted);
    assert_eq!(warnings(&r), vec![Code::ValidBitsZero]);
}

#[test]
fn c11_data_before_fmt() {
    let w = Wav::riff(vec![data(tone_24_mono(24_000)), fmt_pcm(1, 48_000, 24)]);
    let r = check(&w.bytes());
    assert_eq!(r.verdict, Verdict::Accepted);
    assert_eq!(warnings(&r), vec![Code::FmtAfterData]);
    assert_eq!(r.length.samples, Some(24_000));
}

#[test]
fn c12_block_align_inconsistent() {
    let w = Wav::riff(vec![
        with_block_align(fmt_pcm(1, 48_000, 24), 4),
        data(tone_24_mono(24_000)),
    ]);
    let r = check(&w.bytes());
    assert_eq!(errors(&r), vec![Code::BlockAlignMismatch]);
    assert_eq!(r.length.samples, None);
}

#[test]
fn c12b_byte_rate_inconsistent() {
    let w = Wav::riff(vec![
        with_byte_rate(fmt_pcm(1, 48_000, 24), 96_000),
        data(tone_24_mono(24_000)),
    ]);
    let r = check(&w.bytes());
    assert_eq!(errors(&r), vec![Code::ByteRateMismatch]);
}

#[test]
fn c13_partial_frame_then_id3() {
    let mut audio = tone_24_mono(24_000);
    audio.push(7); // 72 001 bytes: one byte of a frame that never finished
    let w = Wav::riff(vec![
        fmt_pcm(1, 48_000, 24),
        data(audio),
        Chunk::new(b"id3 ", vec![0; 10]),
    ]);
    let r = check(&w.bytes());
    assert_eq!(errors(&r), vec![Code::PartialFrame]);
    assert_eq!(r.length.samples, Some(24_000));
}

#[test]
fn c14_rf64_and_bw64() {
    for magic in [b"RF64", b"BW64"] {
        let bytes = rf64(magic, 24_000);
        let r = check(&bytes);
        accepted_clean(&r);
        assert_eq!(r.length.samples, Some(24_000));
        let ins = audio::inspect(&mut Cursor::new(&bytes)).unwrap();
        assert_eq!(
            ins.container,
            Some(if magic == b"RF64" {
                Container::Rf64
            } else {
                Container::Bw64
            })
        );
        assert_eq!(ins.ds64.as_ref().unwrap().data_size, 72_000);
    }
}

#[test]
fn c14b_rf64_without_ds64() {
    let mut w = Wav::riff(vec![
        fmt_pcm(1, 48_000, 24),
        data(tone_24_mono(24_000)).sized(u32::MAX),
    ]);
    w.magic = *b"RF64";
    w.riff_size = Some(u32::MAX);
    let r = check(&w.bytes());
    assert!(errors(&r).contains(&Code::Ds64Missing), "{:?}", r.errors);
    assert_eq!(r.verdict, Verdict::Rejected);
}

#[test]
fn c14c_ds64_ignored_in_riff() {
    // A ds64 placeholder in a plain RIFF file means nothing (Tech 3306 rule).
    let w = Wav::riff(vec![
        ds64(1, 2, 3),
        fmt_pcm(1, 48_000, 24),
        data(tone_24_mono(24_000)),
    ]);
    accepted_clean(&check(&w.bytes()));
}

#[test]
fn c15_riff_size_off_by_eight() {
    let mut w = plain();
    w.riff_size = Some(w.bytes().len() as u32);
    let r = check(&w.bytes());
    assert_eq!(r.verdict, Verdict::Accepted);
    assert_eq!(warnings(&r), vec![Code::RiffSizeMismatch]);
}

#[test]
fn c16_cue_and_labels_after_data() {
    let w = Wav::riff(vec![
        fmt_pcm(1, 48_000, 24),
        data(tone_24_mono(24_000)),
        cue(&[(1, 12_000)]),
        adtl_label(1, "line 1"),
        list_info(&[(b"ISFT", "Lavf59.27.100"), (b"INAM", "Take 3")]),
    ]);
    let r = check(&w.bytes());
    accepted_clean(&r);
    assert_eq!(r.cues.len(), 1);
    assert_eq!(r.cues[0].position, Some(12_000));
    assert_eq!(r.cues[0].label.as_deref(), Some("line 1"));
    assert_eq!(r.info[0].id, "ISFT");
    assert_eq!(r.info[0].text, "Lavf59.27.100");
}

#[test]
fn c17_zero_channels() {
    let mut f = fmt_pcm(1, 48_000, 24);
    f.body[2..4].copy_from_slice(&0u16.to_le_bytes());
    let r = check(&Wav::riff(vec![f, data(tone_24_mono(24_000))]).bytes());
    assert!(errors(&r).contains(&Code::ZeroChannels), "{:?}", r.errors);
    assert_eq!(r.length.samples, None);
}

#[test]
fn c18_pcm_32_bit_int() {
    let audio = pcm(&sine(1000.0, 0.25, 0.0, 24_000, 48_000, 1), 32);
    let w = Wav::riff(vec![fmt_pcm(1, 48_000, 32), data(audio)]);
    accepted_clean(&check(&w.bytes()));
    let m = check_with(
        &w.bytes(),
        &CheckRequest {
            profile: Profile::Vtk,
            expected: Some(audio::ExpectedLength::Samples(24_000)),
            ..CheckRequest::default()
        },
    );
    assert_eq!(errors(&m), vec![Code::WrongBits]);
}

#[test]
fn c19_pipe_written_extensible_all_sizes_unfinalised() {
    let mut w = Wav::riff(vec![
        fmt_ext(1, 48_000, 24, 24, 4, 1),
        list_info(&[(b"ISFT", "Lavf59.27.100")]),
        data(tone_24_mono(24_000)).sized(u32::MAX),
    ]);
    w.riff_size = Some(u32::MAX);
    let r = check(&w.bytes());
    assert_eq!(errors(&r), vec![Code::DataSizeUnfinalised]);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);
    assert_eq!(r.length.samples, Some(24_000));
}

#[test]
fn c21_bext_stereo() {
    let audio = pcm(&sine(1000.0, 0.25, 0.0, 24_000, 48_000, 2), 24);
    let w = Wav::riff(vec![fmt_pcm(2, 48_000, 24), bext(0, 0, None), data(audio)]);
    let r = check(&w.bytes());
    accepted_clean(&r);
    assert_eq!(r.bext.unwrap().bext.version, 0);
}

#[test]
fn c22_c23_odd_data_pad_zero_and_q() {
    for (pad, warn) in [
        (Pad::Zero, vec![]),
        (Pad::Byte(b'Q'), vec![Code::PadNonZero]),
    ] {
        let w = Wav::riff(vec![
            fmt_pcm(1, 48_000, 24),
            data(tone_24_mono(24_001)).pad(pad),
            list_info(&[(b"ISFT", "Pro Tools")]),
        ]);
        let r = check(&w.bytes());
        assert_eq!(r.verdict, Verdict::Accepted);
        assert_eq!(warnings(&r), warn);
        assert_eq!(r.length.samples, Some(24_001));
        assert_eq!(r.info.len(), 1);
    }
}

#[test]
fn filler_and_unknown_chunks_are_skipped() {
    let w = Wav::riff(vec![
        Chunk::new(b"FLLR", vec![0; 100]),
        fmt_pcm(1, 48_000, 24),
        Chunk::new(b"PAD ", vec![0; 12]),
        Chunk::new(b"minf", vec![9; 17]),
        Chunk::new(b"elm1", vec![9; 5]),
        Chunk::new(b"umid", vec![9; 24]),
        data(tone_24_mono(24_000)),
        Chunk::new(b"_PMX", b"<x:xmpmeta/>".to_vec()),
    ]);
    accepted_clean(&check(&w.bytes()));
}

#[test]
fn not_a_wave_file() {
    for bytes in [
        Vec::new(),
        b"RIFF".to_vec(),
        b"ID3\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00".to_vec(),
        b"RIFX\x00\x00\x00\x00WAVE".to_vec(),
        b"RIFF\x04\x00\x00\x00AVI ".to_vec(),
    ] {
        let r = check(&bytes);
        assert_eq!(r.verdict, Verdict::Rejected);
        assert_eq!(errors(&r), vec![Code::NotWave], "{bytes:?}");
    }
}

#[test]
fn missing_and_duplicate_chunks() {
    let r = check(&Wav::riff(vec![fmt_pcm(1, 48_000, 24)]).bytes());
    assert_eq!(errors(&r), vec![Code::DataMissing]);
    let r = check(&Wav::riff(vec![data(tone_24_mono(100))]).bytes());
    assert_eq!(errors(&r), vec![Code::FmtMissing]);
    let r = check(
        &Wav::riff(vec![
            fmt_pcm(1, 48_000, 24),
            fmt_pcm(2, 44_100, 16),
            data(tone_24_mono(100)),
            data(vec![0; 6]),
        ])
        .bytes(),
    );
    assert_eq!(errors(&r), vec![Code::FmtDuplicate, Code::DataDuplicate]);
    assert_eq!(r.format.unwrap().channels, 1);
}

#[test]
fn unsupported_encodings_are_named() {
    let w = Wav::riff(vec![fmt_raw(2, 1, 48_000, 4), data(vec![0; 100])]);
    let r = check(&w.bytes());
    assert!(errors(&r).contains(&Code::UnsupportedEncoding));
    assert!(
        r.errors[0].message.contains("ADPCM"),
        "{}",
        r.errors[0].message
    );
    // An EXTENSIBLE file whose sub-format is A-law.
    let w = Wav::riff(vec![fmt_ext(1, 48_000, 8, 8, 4, 6), data(vec![0; 100])]);
    assert!(errors(&check(&w.bytes())).contains(&Code::UnsupportedEncoding));
    // EXTENSIBLE with a short fmt.
    let mut f = fmt_ext(1, 48_000, 24, 24, 4, 1);
    f.body.truncate(18);
    let r = check(&Wav::riff(vec![f, data(tone_24_mono(10))]).bytes());
    assert!(errors(&r).contains(&Code::FmtShort));
}

#[test]
fn fmt_sizes_16_18_40_and_odd_ones() {
    let mut f18 = fmt_pcm(1, 48_000, 24);
    f18.body.extend_from_slice(&[0, 0]);
    accepted_clean(&check(
        &Wav::riff(vec![f18, data(tone_24_mono(100))]).bytes(),
    ));
    let mut f20 = fmt_pcm(1, 48_000, 24);
    f20.body.extend_from_slice(&[0, 0, 0, 0]);
    let r = check(&Wav::riff(vec![f20, data(tone_24_mono(100))]).bytes());
    assert_eq!(warnings(&r), vec![Code::FmtSizeUnusual]);
    let mut short = fmt_pcm(1, 48_000, 24);
    short.body.truncate(14);
    let r = check(&Wav::riff(vec![short, data(tone_24_mono(100))]).bytes());
    assert!(errors(&r).contains(&Code::FmtShort));
}

#[test]
fn channel_mask_popcount() {
    let audio = pcm(&sine(1000.0, 0.25, 0.0, 100, 48_000, 2), 24);
    let w = Wav::riff(vec![fmt_ext(2, 48_000, 24, 24, 0x7, 1), data(audio)]);
    assert_eq!(
        warnings(&check(&w.bytes())),
        vec![Code::ChannelMaskMismatch]
    );
}

#[test]
fn bext_faults_are_warnings() {
    let mut short = bext(1, 0, None);
    short.body.truncate(400);
    let w = Wav::riff(vec![short, fmt_pcm(1, 48_000, 24), data(tone_24_mono(100))]);
    let r = check(&w.bytes());
    assert_eq!(r.verdict, Verdict::Accepted);
    assert!(warnings(&r).contains(&Code::BextShort));
    let mut dirty = bext(2, 0, Some(-2300));
    dirty.body[500] = 1;
    dirty.body[5] = 0xE9;
    let w = Wav::riff(vec![dirty, fmt_pcm(1, 48_000, 24), data(tone_24_mono(100))]);
    let r = check(&w.bytes());
    assert_eq!(
        warnings(&r),
        vec![Code::BextReservedNonZero, Code::BextText]
    );
}

#[test]
fn malformed_ixml_is_a_warning() {
    let w = Wav::riff(vec![
        fmt_pcm(1, 48_000, 24),
        ixml("<BWFXML><SCENE>1</TAKE></BWFXML>"),
        data(tone_24_mono(100)),
    ]);
    let r = check(&w.bytes());
    assert_eq!(r.verdict, Verdict::Accepted);
    assert_eq!(warnings(&r), vec![Code::IxmlMalformed]);
}

#[test]
fn trailing_bytes_and_garbage() {
    let mut w = plain();
    w.trailing = vec![0, 0, 0];
    let r = check(&w.bytes());
    assert_eq!(r.verdict, Verdict::Accepted);
    assert!(warnings(&r).contains(&Code::TrailingBytes));
    let mut w = plain();
    w.trailing = vec![0xFF; 40];
    let r = check(&w.bytes());
    assert_eq!(r.verdict, Verdict::Accepted);
    assert!(warnings(&r).contains(&Code::ChunkIdInvalid));
}

#[test]
fn metadata_chunk_running_past_the_end() {
    let w = Wav::riff(vec![
        fmt_pcm(1, 48_000, 24),
        data(tone_24_mono(100)),
        Chunk::new(b"LIST", b"INFO".to_vec()).sized(1000),
    ]);
    let r = check(&w.bytes());
    assert_eq!(errors(&r), vec![Code::ChunkTruncated]);
}

#[test]
fn eight_bit_sixteen_bit_and_float64_are_read() {
    let s = sine(1000.0, 0.5, 0.0, 480, 48_000, 1);
    for (fmt, audio) in [
        (fmt_pcm(1, 48_000, 8), pcm(&s, 8)),
        (fmt_pcm(1, 48_000, 16), pcm(&s, 16)),
        (
            fmt_raw(3, 1, 48_000, 64),
            s.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>(),
        ),
    ] {
        let r = check_with(
            &Wav::riff(vec![fmt, data(audio)]).bytes(),
            &CheckRequest {
                qc: true,
                ..CheckRequest::default()
            },
        );
        assert_eq!(r.verdict, Verdict::Accepted, "{:?}", r.errors);
        assert_eq!(r.length.samples, Some(480));
        let peak = r.qc.unwrap().sample_peak_dbfs.unwrap();
        assert!((peak + 6.02).abs() < 0.1, "{peak}");
    }
}

#[test]
fn format_report_encoding_names() {
    let w = Wav::riff(vec![fmt_raw(7, 1, 8000, 8), data(vec![0; 10])]);
    let r = check(&w.bytes());
    assert_eq!(r.format.unwrap().encoding, "unsupported");
    let ins = audio::inspect(&mut Cursor::new(plain().bytes())).unwrap();
    assert_eq!(ins.format.unwrap().encoding, Some(Encoding::Pcm));
}

/// A reader that makes a file of any size out of a header and zeros, counting what is read.
pub struct Sparse {
    pub head: Vec<u8>,
    pub tail: Vec<u8>,
    pub len: u64,
    pub pos: u64,
    pub read: u64,
}

impl Read for Sparse {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let n = (buf.len() as u64).min(left) as usize;
        let tail_start = self.len - self.tail.len() as u64;
        for (i, b) in buf[..n].iter_mut().enumerate() {
            let at = self.pos + i as u64;
            *b = if (at as usize) < self.head.len() {
                self.head[at as usize]
            } else if at >= tail_start {
                self.tail[(at - tail_start) as usize]
            } else {
                0
            };
        }
        self.pos += n as u64;
        self.read += n as u64;
        Ok(n)
    }
}

impl Seek for Sparse {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.pos = match to {
            SeekFrom::Start(p) => p,
            SeekFrom::End(d) => (self.len as i64 + d) as u64,
            SeekFrom::Current(d) => (self.pos as i64 + d) as u64,
        };
        Ok(self.pos)
    }
}

#[test]
fn rf64_over_4_gib_structure_reads_under_a_mebibyte() {
    // 5 GiB of 24-bit stereo audio behind an RF64 header, and a LIST chunk after it.
    let frames: u64 = (5u64 << 30) / 6;
    let data_size = frames * 6;
    let list = list_info(&[(b"ISFT", "Pro Tools")]);
    let mut tail = list.id.to_vec();
    tail.extend_from_slice(&(list.body.len() as u32).to_le_bytes());
    tail.extend_from_slice(&list.body);
    let mut w = Wav::riff(vec![
        ds64(0, data_size, frames),
        fmt_pcm(2, 48_000, 24),
        bext(1, 0, None),
        data(Vec::new()).sized(u32::MAX),
    ]);
    w.magic = *b"RF64";
    w.riff_size = Some(u32::MAX);
    let head = w.bytes();
    let len = head.len() as u64 + data_size + tail.len() as u64;
    let mut head = head;
    head[20..28].copy_from_slice(&(len - 8).to_le_bytes());
    let mut file = Sparse {
        head,
        tail,
        len,
        pos: 0,
        read: 0,
    };
    let started = std::time::Instant::now();
    let ins = audio::inspect(&mut file).unwrap();
    let took = started.elapsed();
    assert!(!ins.has_errors(), "{:?}", ins.findings);
    assert_eq!(ins.frames, Some(frames));
    assert_eq!(
        ins.info.len(),
        1,
        "the chunk after 5 GiB of audio was found"
    );
    assert!(file.read < 1 << 20, "read {} bytes", file.read);
    assert_eq!(ins.bytes_read, file.read);
    assert!(took.as_millis() < 50, "{took:?}");
    let r = audio::check(&mut file, &CheckRequest::default()).unwrap();
    assert_eq!(r.verdict, Verdict::Accepted);
    assert_eq!(r.format.unwrap().container, Some("RF64"));
}
