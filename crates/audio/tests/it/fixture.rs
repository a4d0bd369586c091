//! A small WAV writer for tests: it can write everything a broken writer does (wrong sizes,
//! missing or non-zero pad bytes, chunks in any order), which is what the checker must meet.

use std::f64::consts::PI;

/// The pad byte after an odd-sized chunk.
#[derive(Clone, Copy, Debug)]
pub enum Pad {
    Zero,
    Byte(u8),
    Missing,
}

#[derive(Clone, Debug)]
pub struct Chunk {
    pub id: [u8; 4],
    /// Declared size; `None` = the body's length.
    pub size: Option<u32>,
    pub body: Vec<u8>,
    pub pad: Pad,
}

impl Chunk {
    pub fn new(id: &[u8; 4], body: Vec<u8>) -> Self {
        Self {
            id: *id,
            size: None,
            body,
            pad: Pad::Zero,
        }
    }

    pub fn sized(mut self, size: u32) -> Self {
        self.size = Some(size);
        self
    }

    pub fn pad(mut self, pad: Pad) -> Self {
        self.pad = pad;
        self
    }
}

#[derive(Clone, Debug)]
pub struct Wav {
    pub magic: [u8; 4],
    pub form: [u8; 4],
    /// `None` = file length − 8.
    pub riff_size: Option<u32>,
    pub chunks: Vec<Chunk>,
    pub trailing: Vec<u8>,
}

impl Wav {
    pub fn riff(chunks: Vec<Chunk>) -> Self {
        Self {
            magic: *b"RIFF",
            form: *b"WAVE",
            riff_size: None,
            chunks,
            trailing: Vec::new(),
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&self.magic);
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&self.form);
        for c in &self.chunks {
            out.extend_from_slice(&c.id);
            let size = c.size.unwrap_or(c.body.len() as u32);
            out.extend_from_slice(&size.to_le_bytes());
            out.extend_from_slice(&c.body);
            if c.body.len() % 2 == 1 {
                match c.pad {
                    Pad::Zero => out.push(0),
                    Pad::Byte(b) => out.push(b),
                    Pad::Missing => {}
                }
            }
        }
        out.extend_from_slice(&self.trailing);
        let size = self.riff_size.unwrap_or((out.len() as u32).wrapping_sub(8));
        out[4..8].copy_from_slice(&size.to_le_bytes());
        out
    }
}

pub fn fmt_pcm(channels: u16, rate: u32, bits: u16) -> Chunk {
    fmt_raw(1, channels, rate, bits)
}

pub fn fmt_raw(tag: u16, channels: u16, rate: u32, bits: u16) -> Chunk {
    let align = channels * bits.div_ceil(8);
    let mut b = Vec::new();
    b.extend_from_slice(&tag.to_le_bytes());
    b.extend_from_slice(&channels.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * u32::from(align)).to_le_bytes());
    b.extend_from_slice(&align.to_le_bytes());
    b.extend_from_slice(&bits.to_le_bytes());
    Chunk::new(b"fmt ", b)
}

/// Overwrites block align (and leaves byte rate as it was).
pub fn with_block_align(mut c: Chunk, align: u16) -> Chunk {
    c.body[12..14].copy_from_slice(&align.to_le_bytes());
    c
}

pub fn with_byte_rate(mut c: Chunk, rate: u32) -> Chunk {
    c.body[8..12].copy_from_slice(&rate.to_le_bytes());
    c
}

const GUID_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];

/// WAVE_FORMAT_EXTENSIBLE, 40 bytes.
pub fn fmt_ext(channels: u16, rate: u32, bits: u16, valid: u16, mask: u32, sub: u16) -> Chunk {
    let mut c = fmt_raw(0xFFFE, channels, rate, bits);
    c.body.extend_from_slice(&22u16.to_le_bytes());
    c.body.extend_from_slice(&valid.to_le_bytes());
    c.body.extend_from_slice(&mask.to_le_bytes());
    c.body.extend_from_slice(&sub.to_le_bytes());
    c.body.extend_from_slice(&GUID_TAIL);
    c
}

/// Pro Tools style float: a 40-byte fmt with tag 3 and cbSize 0.
pub fn fmt_float_pt(channels: u16, rate: u32) -> Chunk {
    let mut c = fmt_raw(3, channels, rate, 32);
    c.body.extend_from_slice(&[0u8; 24]);
    c
}

/// Interleaved samples in [-1, 1] → little-endian integer PCM of `bits`.
pub fn pcm(samples: &[f64], bits: u16) -> Vec<u8> {
    let mut out = Vec::with_capacity(samples.len() * usize::from(bits / 8));
    let scale = f64::from(1u32 << (bits - 1));
    let max = scale - 1.0;
    for &s in samples {
        let v = (s * scale).round().clamp(-scale, max) as i64;
        match bits {
            8 => out.push((v + 128) as u8),
            16 => out.extend_from_slice(&(v as i16).to_le_bytes()),
            24 => out.extend_from_slice(&(v as i32).to_le_bytes()[..3]),
            32 => out.extend_from_slice(&(v as i32).to_le_bytes()),
            _ => panic!("bits"),
        }
    }
    out
}

pub fn float32(samples: &[f64]) -> Vec<u8> {
    samples
        .iter()
        .flat_map(|&s| (s as f32).to_le_bytes())
        .collect()
}

/// A sine of `amplitude` (linear peak) at `freq`, the same on every channel, interleaved.
pub fn sine(
    freq: f64,
    amplitude: f64,
    phase: f64,
    frames: usize,
    rate: u32,
    channels: usize,
) -> Vec<f64> {
    let mut out = Vec::with_capacity(frames * channels);
    for n in 0..frames {
        let v = amplitude * (2.0 * PI * freq * n as f64 / f64::from(rate) + phase).sin();
        for _ in 0..channels {
            out.push(v);
        }
    }
    out
}

pub fn data(bytes: Vec<u8>) -> Chunk {
    Chunk::new(b"data", bytes)
}

/// Half a second of a 1 kHz tone at −12 dBFS, mono 24-bit 48 kHz (24 000 frames).
pub fn tone_24_mono(frames: usize) -> Vec<u8> {
    pcm(&sine(1000.0, 0.25, 0.0, frames, 48_000, 1), 24)
}

/// The plain reference file: fmt 16, mono 24-bit 48 kHz, 24 000 frames.
pub fn plain() -> Wav {
    Wav::riff(vec![fmt_pcm(1, 48_000, 24), data(tone_24_mono(24_000))])
}

pub fn bext(version: u16, time_reference: u64, loudness: Option<i16>) -> Chunk {
    let mut b = vec![0u8; 602];
    let put = |b: &mut Vec<u8>, at: usize, s: &[u8]| b[at..at + s.len()].copy_from_slice(s);
    put(&mut b, 0, b"Scene 12 take 3");
    put(&mut b, 256, b"Pro Tools");
    put(&mut b, 288, b"ref-0001");
    put(&mut b, 320, b"2026-01-02");
    put(&mut b, 330, b"10:11:12");
    put(&mut b, 338, &time_reference.to_le_bytes());
    put(&mut b, 346, &version.to_le_bytes());
    if version >= 2 {
        let l = loudness.unwrap_or(0x7FFF);
        put(&mut b, 412, &l.to_le_bytes());
        put(&mut b, 414, &500i16.to_le_bytes());
        put(&mut b, 416, &(-600i16).to_le_bytes());
        put(&mut b, 418, &0x7FFFi16.to_le_bytes());
        put(&mut b, 420, &0x7FFFi16.to_le_bytes());
    }
    b.extend_from_slice(b"A=PCM,F=48000,W=24,M=mono,T=test\r\n");
    Chunk::new(b"bext", b)
}

pub fn ixml(body: &str) -> Chunk {
    Chunk::new(b"iXML", body.as_bytes().to_vec())
}

pub fn list_info(entries: &[(&[u8; 4], &str)]) -> Chunk {
    let mut b = b"INFO".to_vec();
    for (id, text) in entries {
        let mut t = text.as_bytes().to_vec();
        t.push(0);
        b.extend_from_slice(*id);
        b.extend_from_slice(&(t.len() as u32).to_le_bytes());
        b.extend_from_slice(&t);
        if t.len() % 2 == 1 {
            b.push(0);
        }
    }
    Chunk::new(b"LIST", b)
}

pub fn cue(points: &[(u32, u32)]) -> Chunk {
    let mut b = (points.len() as u32).to_le_bytes().to_vec();
    for (id, pos) in points {
        b.extend_from_slice(&id.to_le_bytes());
        b.extend_from_slice(&pos.to_le_bytes());
        b.extend_from_slice(b"data");
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&pos.to_le_bytes());
    }
    Chunk::new(b"cue ", b)
}

pub fn adtl_label(id: u32, text: &str) -> Chunk {
    let mut t = id.to_le_bytes().to_vec();
    t.extend_from_slice(text.as_bytes());
    t.push(0);
    let mut b = b"adtl".to_vec();
    b.extend_from_slice(b"labl");
    b.extend_from_slice(&(t.len() as u32).to_le_bytes());
    b.extend_from_slice(&t);
    if t.len() % 2 == 1 {
        b.push(0);
    }
    Chunk::new(b"LIST", b)
}

/// ds64 with the given sizes and no table.
pub fn ds64(riff_size: u64, data_size: u64, samples: u64) -> Chunk {
    let mut b = Vec::new();
    b.extend_from_slice(&riff_size.to_le_bytes());
    b.extend_from_slice(&data_size.to_le_bytes());
    b.extend_from_slice(&samples.to_le_bytes());
    b.extend_from_slice(&0u32.to_le_bytes());
    Chunk::new(b"ds64", b)
}

/// An RF64 file as ffmpeg and Pro Tools write it: ds64 first, 32-bit sizes at 0xFFFFFFFF.
pub fn rf64(magic: &[u8; 4], frames: usize) -> Vec<u8> {
    let audio = tone_24_mono(frames);
    let data_len = audio.len() as u64;
    let mut w = Wav::riff(vec![
        ds64(0, data_len, frames as u64),
        fmt_pcm(1, 48_000, 24),
        data(audio).sized(u32::MAX),
    ]);
    w.magic = *magic;
    w.riff_size = Some(u32::MAX);
    let mut bytes = w.bytes();
    let riff = bytes.len() as u64 - 8;
    bytes[20..28].copy_from_slice(&riff.to_le_bytes());
    bytes
}
