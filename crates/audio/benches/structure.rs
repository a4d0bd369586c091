//! Structural check of an RF64 file larger than 4 GiB: how many bytes it reads and how long it
//! takes. The file is sparse (a real header, a 5 GiB hole of audio, a LIST chunk after it), so
//! it costs no disk. Run with `cargo bench -p audio --bench structure`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::time::{Duration, Instant};

struct Counting<R> {
    inner: R,
    read: u64,
    calls: u64,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read += n as u64;
        self.calls += 1;
        Ok(n)
    }
}

impl<R: Seek> Seek for Counting<R> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.inner.seek(to)
    }
}

fn chunk(id: &[u8; 4], size: u32, body: &[u8]) -> Vec<u8> {
    let mut c = id.to_vec();
    c.extend_from_slice(&size.to_le_bytes());
    c.extend_from_slice(body);
    if body.len() % 2 == 1 {
        c.push(0);
    }
    c
}

fn main() {
    let path = std::env::temp_dir().join("locportal-bench-rf64.wav");
    let frames: u64 = (5u64 << 30) / 6; // 24-bit stereo
    let data_size = frames * 6;
    let mut ds64 = Vec::new();
    ds64.extend_from_slice(&0u64.to_le_bytes()); // patched below
    ds64.extend_from_slice(&data_size.to_le_bytes());
    ds64.extend_from_slice(&frames.to_le_bytes());
    ds64.extend_from_slice(&0u32.to_le_bytes());
    let mut fmt = Vec::new();
    for v in [1u16, 2] {
        fmt.extend_from_slice(&v.to_le_bytes());
    }
    fmt.extend_from_slice(&48_000u32.to_le_bytes());
    fmt.extend_from_slice(&288_000u32.to_le_bytes());
    fmt.extend_from_slice(&6u16.to_le_bytes());
    fmt.extend_from_slice(&24u16.to_le_bytes());
    let mut bext = vec![0u8; 602];
    bext[256..265].copy_from_slice(b"Pro Tools");
    let mut head = b"RF64".to_vec();
    head.extend_from_slice(&u32::MAX.to_le_bytes());
    head.extend_from_slice(b"WAVE");
    head.extend(chunk(b"ds64", 28, &ds64));
    head.extend(chunk(b"fmt ", 16, &fmt));
    head.extend(chunk(b"bext", 602, &bext));
    head.extend_from_slice(b"data");
    head.extend_from_slice(&u32::MAX.to_le_bytes());
    let list = chunk(b"LIST", 16, b"INFOISFT\x04\x00\x00\x00PT\x00\x00");
    let len = head.len() as u64 + data_size + list.len() as u64;
    head[20..28].copy_from_slice(&(len - 8).to_le_bytes());
    {
        let mut f = File::create(&path).expect("create");
        f.write_all(&head).expect("head");
        f.seek(SeekFrom::Start(head.len() as u64 + data_size))
            .expect("seek");
        f.write_all(&list).expect("tail");
        f.set_len(len).expect("len");
    }

    let mut best = Duration::MAX;
    let mut read = 0;
    let mut calls = 0;
    for _ in 0..20 {
        let started = Instant::now();
        let file = File::open(&path).expect("open");
        let mut r = Counting {
            inner: file,
            read: 0,
            calls: 0,
        };
        let ins = audio::inspect(&mut r).expect("inspect");
        let took = started.elapsed();
        assert!(!ins.has_errors(), "{:?}", ins.findings);
        assert_eq!(ins.frames, Some(frames));
        assert_eq!(ins.info.len(), 1);
        best = best.min(took);
        read = r.read;
        calls = r.calls;
    }
    println!(
        "RF64 structural check: file {:.2} GiB, {} frames; read {} bytes in {} read calls; best of 20 (open + inspect): {:.1} µs",
        len as f64 / f64::from(1u32 << 30),
        frames,
        read,
        calls,
        best.as_secs_f64() * 1e6
    );
    println!(
        "sparse file left at {} for the CLI comparison",
        path.display()
    );
}
