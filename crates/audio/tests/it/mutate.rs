//! Property test: valid files mutated the ways real damage and hostile uploads look (sizes set
//! to extremes, chunk ids changed, bytes overwritten, files cut short or grown) never make the
//! checker panic, read past its caps, or hold on to more memory than its bounds allow.

use std::io::{Cursor, Read, Seek, SeekFrom};

use audio::wav::{MAX_CHUNK_LIST, MAX_METADATA_BYTES};
use audio::{CheckRequest, ExpectedLength, Profile};
use proptest::prelude::*;

use crate::fixture::*;

fn seeds() -> Vec<Vec<u8>> {
    let stereo = pcm(&sine(1000.0, 0.5, 0.0, 2000, 48_000, 2), 16);
    vec![
        plain().bytes(),
        rf64(b"RF64", 1001),
        Wav::riff(vec![
            Chunk::new(b"JUNK", vec![0; 28]),
            bext(2, 172_972_800, Some(-2300)),
            fmt_ext(2, 48_000, 16, 16, 3, 1),
            ixml("<BWFXML><SPEED><TIMECODE_RATE>25</TIMECODE_RATE></SPEED></BWFXML>"),
            data(stereo),
            cue(&[(1, 10)]),
            adtl_label(1, "x"),
            list_info(&[(b"ISFT", "Lavf")]),
        ])
        .bytes(),
        Wav::riff(vec![
            fmt_float_pt(1, 48_000),
            data(float32(&sine(300.0, 0.9, 0.0, 777, 48_000, 1))).pad(Pad::Byte(b'Q')),
        ])
        .bytes(),
    ]
}

#[derive(Clone, Debug)]
enum Mutation {
    /// Overwrite a little-endian u32 at `at` (sizes live at every chunk's offset + 4).
    U32 {
        at: usize,
        value: u32,
    },
    /// Overwrite a u64 (ds64 fields).
    U64 {
        at: usize,
        value: u64,
    },
    /// Put a different chunk id somewhere.
    Id {
        at: usize,
        id: [u8; 4],
    },
    Bytes {
        at: usize,
        bytes: Vec<u8>,
    },
    Truncate {
        len: usize,
    },
    Append {
        bytes: Vec<u8>,
    },
}

fn extreme_u32() -> impl Strategy<Value = u32> {
    prop_oneof![
        Just(0u32),
        Just(1),
        Just(u32::MAX),
        Just(u32::MAX - 1),
        Just(0x7FFF_FFFF),
        Just(0x8000_0000),
        0u32..4096,
        any::<u32>(),
    ]
}

fn extreme_u64() -> impl Strategy<Value = u64> {
    prop_oneof![Just(0u64), Just(u64::MAX), Just(1u64 << 40), any::<u64>()]
}

fn chunk_id() -> impl Strategy<Value = [u8; 4]> {
    prop_oneof![
        Just(*b"data"),
        Just(*b"fmt "),
        Just(*b"ds64"),
        Just(*b"bext"),
        Just(*b"iXML"),
        Just(*b"LIST"),
        Just(*b"cue "),
        Just(*b"fact"),
        Just(*b"RF64"),
        Just(*b"JUNK"),
        any::<[u8; 4]>(),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => (0usize..2048, extreme_u32()).prop_map(|(at, value)| Mutation::U32 { at, value }),
        1 => (0usize..64, extreme_u64()).prop_map(|(at, value)| Mutation::U64 { at, value }),
        2 => (0usize..2048, chunk_id()).prop_map(|(at, id)| Mutation::Id { at, id }),
        2 => (0usize..4096, proptest::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Bytes { at, bytes }),
        2 => (0usize..8192).prop_map(|len| Mutation::Truncate { len }),
        1 => proptest::collection::vec(any::<u8>(), 1..64).prop_map(|bytes| Mutation::Append { bytes }),
    ]
}

fn apply(file: &mut Vec<u8>, m: &Mutation) {
    let put = |file: &mut Vec<u8>, at: usize, bytes: &[u8]| {
        if file.is_empty() {
            return;
        }
        let at = at % file.len();
        let end = (at + bytes.len()).min(file.len());
        file[at..end].copy_from_slice(&bytes[..end - at]);
    };
    match m {
        Mutation::U32 { at, value } => {
            // Prefer chunk size fields: 4, then 16, 20 +… land on headers of the seeds often.
            put(file, *at & !3, &value.to_le_bytes())
        }
        Mutation::U64 { at, value } => put(file, 20 + *at, &value.to_le_bytes()),
        Mutation::Id { at, id } => put(file, *at & !1, id),
        Mutation::Bytes { at, bytes } => put(file, *at, bytes),
        Mutation::Truncate { len } => file.truncate(*len),
        Mutation::Append { bytes } => file.extend_from_slice(bytes),
    }
}

/// Counts every byte read and remembers the largest single read request, which is how big a
/// buffer the caller allocated for it.
struct Watch<R> {
    inner: R,
    read: u64,
    largest: usize,
}

impl<R: Read> Read for Watch<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.largest = self.largest.max(buf.len());
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        Ok(n)
    }
}

impl<R: Seek> Seek for Watch<R> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(to)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 768, ..ProptestConfig::default() })]

    #[test]
    fn mutated_files_never_panic_and_stay_bounded(
        seed in 0usize..4,
        mutations in proptest::collection::vec(mutation(), 1..6),
        qc in any::<bool>(),
    ) {
        let mut file = seeds().swap_remove(seed);
        for m in &mutations {
            apply(&mut file, m);
        }
        let len = file.len() as u64;

        let mut watch = Watch { inner: Cursor::new(&file), read: 0, largest: 0 };
        let ins = audio::inspect(&mut watch).unwrap();
        // The structural check reads headers and capped metadata only.
        prop_assert!(watch.read <= len);
        prop_assert!(watch.read <= MAX_METADATA_BYTES + 64 * 1024);
        prop_assert!(watch.largest <= 1 << 20, "a read of {} bytes", watch.largest);
        prop_assert!(ins.chunks.len() <= MAX_CHUNK_LIST);
        prop_assert!(ins.cues.len() <= audio::wav::MAX_CUES);
        prop_assert!(ins.info.len() <= 64);
        // Its length never exceeds the bytes that are there.
        if let (Some(frames), Some(f)) = (ins.frames, &ins.format) {
            prop_assert!(frames.saturating_mul(u64::from(f.block_align)) <= len);
        }
        // A rejected file always says why; an accepted one has a length.
        if !ins.has_errors() {
            prop_assert!(ins.frames.is_some());
        }

        let req = CheckRequest {
            profile: Profile::MomentsMixed,
            expected: Some(ExpectedLength::Samples(2000)),
            name: Some("A_B_Moments_Mixed.wav".into()),
            qc,
            waveform_columns: if qc { 50 } else { 0 },
            threads: 2,
            ..CheckRequest::default()
        };
        let before = crate::allocated();
        let mut watch = Watch { inner: Cursor::new(&file), read: 0, largest: 0 };
        let report = audio::check(&mut watch, &req).unwrap();
        prop_assert!(watch.largest <= 1 << 20, "a read of {} bytes", watch.largest);
        // What the report holds is bounded by the caps, not by the file's declared sizes
        // (other tests run at the same time, so this is a loose bound on the whole process).
        prop_assert!(crate::allocated() < before + (256 << 20));
        let json = report.to_json_line("x.wav").unwrap();
        prop_assert!(json.len() < 4 << 20);
        prop_assert_eq!(report.verdict == audio::Verdict::Rejected, !report.errors.is_empty());
    }
}

#[test]
fn every_truncation_of_every_seed() {
    for seed in seeds() {
        for len in 0..seed.len().min(1500) {
            let cut = &seed[..len];
            let r = audio::check(
                &mut Cursor::new(cut),
                &CheckRequest {
                    qc: true,
                    ..CheckRequest::default()
                },
            )
            .unwrap();
            if len < seed.len() {
                assert!(
                    r.verdict == audio::Verdict::Rejected || r.length.samples.is_some(),
                    "cut at {len}"
                );
            }
        }
    }
}
