//! The container walker: RIFF, RF64 and BW64 WAVE files over `Read + Seek`.
//!
//! The walker reads chunk headers and the small metadata chunks it understands, and *seeks* over
//! the audio. It never trusts a declared size further than the bytes that are really there, never
//! allocates by a declared size (every read is capped), and uses checked arithmetic for every
//! offset. Whatever it meets is recorded as a [`Finding`] rather than a failure; the only `Err`
//! it returns is an I/O error of the underlying reader.

use std::io::{self, Read, Seek, SeekFrom};

use serde::Serialize;

use crate::finding::{Code, Finding, group, plural};
use crate::meta::{self, Bext, Cue, InfoEntry, Ixml};

/// Most chunks walked before giving up (real files carry a few dozen).
pub const MAX_CHUNKS: u32 = 10_000;
/// Most bytes of metadata read from one file, all chunks together.
pub const MAX_METADATA_BYTES: u64 = 8 << 20;
/// Most bytes read from one `bext` chunk (602 fixed bytes plus the coding history).
pub const MAX_BEXT_BYTES: usize = 64 << 10;
/// Most bytes read from one `iXML` chunk.
pub const MAX_IXML_BYTES: usize = 1 << 20;
/// Most bytes read from one `LIST` chunk.
pub const MAX_LIST_BYTES: usize = 64 << 10;
/// Most cue points read.
pub const MAX_CUES: usize = 256;
/// Most ds64 table entries read.
pub const MAX_DS64_ENTRIES: usize = 64;
/// Most chunk summaries kept for the report.
pub const MAX_CHUNK_LIST: usize = 64;

const SENTINEL: u32 = 0xFFFF_FFFF;

/// The outer form of the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Container {
    #[serde(rename = "RIFF")]
    Riff,
    #[serde(rename = "RF64")]
    Rf64,
    #[serde(rename = "BW64")]
    Bw64,
}

impl Container {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Riff => "RIFF",
            Self::Rf64 => "RF64",
            Self::Bw64 => "BW64",
        }
    }

    fn is_64(self) -> bool {
        matches!(self, Self::Rf64 | Self::Bw64)
    }
}

/// How samples are coded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    /// Integer PCM (unsigned for 8-bit, signed otherwise).
    Pcm,
    /// IEEE 754 floating point.
    Float,
}

/// The `fmt ` chunk, as declared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Format {
    /// Size of the `fmt ` payload: 16, 18 or 40 in practice.
    pub fmt_size: u32,
    pub format_tag: u16,
    /// `None` when the tag (or the EXTENSIBLE sub-format) is neither PCM nor IEEE float.
    pub encoding: Option<Encoding>,
    pub extensible: bool,
    /// Sub-format code from the EXTENSIBLE GUID.
    pub sub_format: Option<u32>,
    pub channels: u16,
    pub sample_rate: u32,
    pub byte_rate: u32,
    pub block_align: u16,
    /// `wBitsPerSample`: the container size of one sample in bits.
    pub bits: u16,
    /// `wValidBitsPerSample` of EXTENSIBLE.
    pub valid_bits: Option<u16>,
    pub channel_mask: Option<u32>,
}

impl Format {
    /// Bytes one sample occupies in a frame.
    pub fn container_bytes(&self) -> u16 {
        self.bits.div_ceil(8)
    }

    /// Whether samples can be decoded: a known encoding, a sample size we decode, and a block
    /// alignment that agrees with the channel count. Everything that divides by a field of the
    /// header checks this first.
    pub fn decodable(&self) -> bool {
        let size_ok = match self.encoding {
            Some(Encoding::Pcm) => (1..=32).contains(&self.bits),
            Some(Encoding::Float) => self.bits == 32 || self.bits == 64,
            None => false,
        };
        size_ok
            && self.channels > 0
            && self.sample_rate > 0
            && u32::from(self.block_align)
                == u32::from(self.channels) * u32::from(self.container_bytes())
    }
}

/// Where the samples are, and how many bytes of them are really there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Data {
    /// Absolute offset of the first sample byte.
    pub offset: u64,
    /// Size declared by the header (after ds64 resolution); meaningless when `unfinalised`.
    pub declared: u64,
    /// The size field was never filled in (0 or 0xFFFFFFFF); the samples run to the end of file.
    pub unfinalised: bool,
    /// Bytes of sample data actually present: the smaller of the declared size and what the file
    /// holds (or everything to the end of file when unfinalised).
    pub present: u64,
}

/// The RF64/BW64 `ds64` chunk.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ds64 {
    pub riff_size: u64,
    pub data_size: u64,
    pub sample_count: u64,
    #[serde(skip)]
    pub table: Vec<([u8; 4], u64)>,
}

/// One chunk as met during the walk (for the report and for debugging odd files).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ChunkEntry {
    pub id: String,
    pub offset: u64,
    pub size: u64,
}

/// Everything the structural check learned about a file.
#[derive(Clone, Debug, Default)]
pub struct Inspection {
    pub container: Option<Container>,
    pub file_size: u64,
    pub format: Option<Format>,
    pub data: Option<Data>,
    /// Whole sample frames present (the file's length), when the format allows counting them.
    pub frames: Option<u64>,
    pub ds64: Option<Ds64>,
    pub fact_samples: Option<u32>,
    pub bext: Option<Bext>,
    pub ixml: Option<Ixml>,
    pub info: Vec<InfoEntry>,
    pub cues: Vec<Cue>,
    pub chunks: Vec<ChunkEntry>,
    pub findings: Vec<Finding>,
    /// Bytes read from the source during the walk (the audio itself is never read).
    pub bytes_read: u64,
}

impl Inspection {
    fn error(&mut self, code: Code, msg: impl Into<String>) {
        self.findings.push(Finding::error(code, msg));
    }

    fn warn(&mut self, code: Code, msg: impl Into<String>) {
        self.findings.push(Finding::warning(code, msg));
    }

    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(Finding::is_error)
    }

    /// The format, when its samples can be decoded.
    pub fn decodable_format(&self) -> Option<&Format> {
        self.format.as_ref().filter(|f| f.decodable())
    }
}

/// A reader that knows the file length and counts what it reads.
struct Source<'a, R> {
    inner: &'a mut R,
    len: u64,
    read: u64,
}

impl<R: Read + Seek> Source<'_, R> {
    /// Reads up to `want` bytes at `pos`, never past the end of file. A short read (the file
    /// shrank under us) returns fewer bytes rather than an error.
    fn read_at(&mut self, pos: u64, want: usize) -> io::Result<Vec<u8>> {
        let avail = self.len.saturating_sub(pos);
        let n = usize::try_from(avail).map_or(want, |a| a.min(want));
        let mut buf = vec![0u8; n];
        if n == 0 {
            return Ok(buf);
        }
        self.inner.seek(SeekFrom::Start(pos))?;
        let mut filled = 0;
        while filled < n {
            let Some(rest) = buf.get_mut(filled..) else {
                break;
            };
            match self.inner.read(rest) {
                Ok(0) => break,
                Ok(k) => filled += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        buf.truncate(filled);
        self.read = self.read.saturating_add(filled as u64);
        Ok(buf)
    }
}

pub(crate) fn le16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([*s.first()?, *s.get(1)?]))
}

pub(crate) fn le32(b: &[u8], at: usize) -> Option<u32> {
    let s: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_le_bytes(s))
}

pub(crate) fn le64(b: &[u8], at: usize) -> Option<u64> {
    let s: [u8; 8] = b.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(s))
}

fn fourcc(b: &[u8], at: usize) -> Option<[u8; 4]> {
    b.get(at..at.checked_add(4)?)?.try_into().ok()
}

/// A chunk id is four printable ASCII characters (space allowed, as in `fmt `).
pub(crate) fn is_fourcc(id: &[u8]) -> bool {
    id.len() == 4 && id.iter().all(|&c| (0x20..=0x7E).contains(&c)) && id.first() != Some(&b' ')
}

pub(crate) fn id_text(id: &[u8]) -> String {
    id.iter()
        .map(|&c| {
            if (0x20..=0x7E).contains(&c) {
                char::from(c).to_string()
            } else {
                format!("\\x{c:02x}")
            }
        })
        .collect()
}

fn bytes_text(n: u64) -> String {
    plural(n, "byte", "bytes")
}

/// Walks the file and reports its structure. Reads headers and bounded metadata only.
pub fn inspect<R: Read + Seek>(reader: &mut R) -> io::Result<Inspection> {
    inspect_to(reader, false)
}

/// Walks the file only as far as the `data` chunk's header: what a file still arriving can tell
/// before its audio (the format and where the audio starts). The length it reports is what the
/// file's full size (`SeekFrom::End`) allows.
pub fn inspect_head<R: Read + Seek>(reader: &mut R) -> io::Result<Inspection> {
    inspect_to(reader, true)
}

fn inspect_to<R: Read + Seek>(reader: &mut R, stop_at_data: bool) -> io::Result<Inspection> {
    let len = reader.seek(SeekFrom::End(0))?;
    let mut src = Source {
        inner: reader,
        len,
        read: 0,
    };
    let mut ins = Inspection {
        file_size: len,
        ..Inspection::default()
    };
    walk(&mut src, &mut ins, stop_at_data)?;
    ins.bytes_read = src.read;
    Ok(ins)
}

fn walk<R: Read + Seek>(
    src: &mut Source<'_, R>,
    ins: &mut Inspection,
    stop_at_data: bool,
) -> io::Result<()> {
    let len = src.len;
    let head = src.read_at(0, 12)?;
    let magic = fourcc(&head, 0);
    let form = fourcc(&head, 8);
    let container = match magic.as_ref() {
        Some(b"RIFF") => Container::Riff,
        Some(b"RF64") => Container::Rf64,
        Some(b"BW64") => Container::Bw64,
        _ => {
            let what = match magic.as_ref() {
                Some(b"RIFX") => "a big-endian RIFX file, which is not supported".to_string(),
                Some(m) => format!("starts with \"{}\"", id_text(m)),
                None => format!("is only {} long", bytes_text(len)),
            };
            ins.error(
                Code::NotWave,
                format!("not a WAV file: it {what}; expected RIFF, RF64 or BW64"),
            );
            return Ok(());
        }
    };
    if form.as_ref() != Some(b"WAVE") {
        let what = form.map_or_else(|| "nothing".to_string(), |f| id_text(&f));
        ins.error(
            Code::NotWave,
            format!(
                "not a WAV file: a {} file of form \"{what}\", expected WAVE",
                container.as_str()
            ),
        );
        return Ok(());
    }
    ins.container = Some(container);
    let riff_size = le32(&head, 4).unwrap_or(0);

    let mut pos: u64 = 12;
    let mut chunks: u32 = 0;
    let mut meta_read: u64 = 0;
    let mut meta_limit_said = false;
    let mut data_seen = false;
    let mut fmt_after_data = false;

    while pos < len {
        let remaining = len - pos;
        if remaining < 8 {
            let tail = src.read_at(pos, 8)?;
            if tail.iter().all(|&b| b == 0) {
                ins.warn(
                    Code::TrailingBytes,
                    format!(
                        "{} of zero padding after the last chunk",
                        bytes_text(remaining)
                    ),
                );
            } else {
                ins.warn(
                    Code::TrailingBytes,
                    format!(
                        "{} after the last chunk are too few to be a chunk",
                        bytes_text(remaining)
                    ),
                );
            }
            break;
        }
        chunks += 1;
        if chunks > MAX_CHUNKS {
            ins.error(
                Code::TooManyChunks,
                format!(
                    "more than {} chunks; the rest of the file (from byte {}) was not read",
                    group(u64::from(MAX_CHUNKS)),
                    group(pos)
                ),
            );
            break;
        }
        let header = src.read_at(pos, 8)?;
        let (Some(id), Some(size32)) = (fourcc(&header, 0), le32(&header, 4)) else {
            // The file shrank while we read it.
            break;
        };
        if !is_fourcc(&id) {
            if header.iter().all(|&b| b == 0) && chunks > 1 {
                ins.warn(
                    Code::TrailingBytes,
                    format!(
                        "{} of zero bytes after the last chunk (from byte {})",
                        bytes_text(remaining),
                        group(pos)
                    ),
                );
            } else {
                ins.warn(
                    Code::ChunkIdInvalid,
                    format!(
                        "bytes at {} (\"{}\") are not a chunk id; the remaining {} were not read",
                        group(pos),
                        id_text(&id),
                        bytes_text(remaining)
                    ),
                );
            }
            break;
        }
        let body = pos + 8;
        let avail = len - body;
        let id_str = id_text(&id);

        if container.is_64() && chunks == 1 && &id != b"ds64" {
            ins.error(
                Code::Ds64Missing,
                format!(
                    "{} file whose first chunk is \"{id_str}\", not ds64: its 64-bit sizes are unknown",
                    container.as_str()
                ),
            );
        }

        // Resolve the size: in RF64/BW64 a 0xFFFFFFFF size stands for the ds64 value.
        let mut size = u64::from(size32);
        let mut unresolved = false;
        if container.is_64() && size32 == SENTINEL {
            let from_ds64 = ins.ds64.as_ref().and_then(|d| {
                if &id == b"data" {
                    Some(d.data_size)
                } else {
                    d.table.iter().find(|(t, _)| *t == id).map(|(_, s)| *s)
                }
            });
            match from_ds64 {
                Some(s) => size = s,
                None => unresolved = true,
            }
        }

        if ins.chunks.len() < MAX_CHUNK_LIST {
            ins.chunks.push(ChunkEntry {
                id: id_str.clone(),
                offset: pos,
                size,
            });
        }

        if &id == b"data" {
            if data_seen {
                ins.error(
                    Code::DataDuplicate,
                    format!(
                        "a second data chunk at byte {}; only the first is used",
                        group(pos)
                    ),
                );
            } else {
                data_seen = true;
                let stop = data_chunk(src, ins, container, body, size32, size, unresolved)?;
                if stop || stop_at_data {
                    break;
                }
            }
        } else {
            if unresolved {
                ins.error(
                    Code::ChunkTruncated,
                    format!(
                        "\"{id_str}\" chunk at byte {} has a 64-bit size that ds64 does not give; \
                         the rest of the file was not read",
                        group(pos)
                    ),
                );
                break;
            }
            if size > avail {
                ins.error(
                    Code::ChunkTruncated,
                    format!(
                        "\"{id_str}\" chunk at byte {} declares {} but only {} remain: the file is truncated",
                        group(pos),
                        bytes_text(size),
                        bytes_text(avail)
                    ),
                );
            }
            let readable = size.min(avail);
            let mut budget = |want: usize, ins: &mut Inspection| -> usize {
                let want = u64::try_from(want).unwrap_or(u64::MAX).min(readable);
                let left = MAX_METADATA_BYTES.saturating_sub(meta_read);
                if want > left {
                    if !meta_limit_said {
                        meta_limit_said = true;
                        ins.warn(
                            Code::MetadataLimit,
                            format!(
                                "more than {} of metadata; chunks from byte {} on were skipped unread",
                                bytes_text(MAX_METADATA_BYTES),
                                group(pos)
                            ),
                        );
                    }
                    return 0;
                }
                meta_read += want;
                usize::try_from(want).unwrap_or(0)
            };
            match &id {
                b"ds64" if container.is_64() => {
                    let want = 28 + 12 * MAX_DS64_ENTRIES;
                    let n = budget(want, ins);
                    let buf = src.read_at(body, n)?;
                    ds64_chunk(ins, &buf, size);
                }
                b"fmt " => {
                    let n = budget(64, ins);
                    let buf = src.read_at(body, n)?;
                    if ins.format.is_some() {
                        ins.error(
                            Code::FmtDuplicate,
                            format!(
                                "a second fmt chunk at byte {}; only the first is used",
                                group(pos)
                            ),
                        );
                    } else {
                        if data_seen {
                            fmt_after_data = true;
                        }
                        fmt_chunk(ins, &buf, size);
                    }
                }
                b"fact" => {
                    let n = budget(4, ins);
                    let buf = src.read_at(body, n)?;
                    ins.fact_samples = le32(&buf, 0);
                }
                b"bext" => {
                    let n = budget(MAX_BEXT_BYTES, ins);
                    let buf = src.read_at(body, n)?;
                    if ins.bext.is_none() {
                        let (bext, findings) = meta::parse_bext(&buf, size);
                        ins.bext = Some(bext);
                        ins.findings.extend(findings);
                    }
                }
                b"iXML" => {
                    if size > MAX_IXML_BYTES as u64 {
                        ins.warn(
                            Code::IxmlTooLarge,
                            format!(
                                "iXML chunk of {} is larger than the {} read; it was skipped",
                                bytes_text(size),
                                bytes_text(MAX_IXML_BYTES as u64)
                            ),
                        );
                    } else if ins.ixml.is_none() {
                        let n = budget(MAX_IXML_BYTES, ins);
                        let buf = src.read_at(body, n)?;
                        let (ixml, findings) = meta::parse_ixml(&buf);
                        ins.ixml = Some(ixml);
                        ins.findings.extend(findings);
                    }
                }
                b"LIST" => {
                    let n = budget(MAX_LIST_BYTES, ins);
                    let buf = src.read_at(body, n)?;
                    meta::parse_list(&buf, &mut ins.info, &mut ins.cues);
                }
                b"cue " => {
                    let n = budget(4 + 24 * MAX_CUES, ins);
                    let buf = src.read_at(body, n)?;
                    meta::parse_cue(&buf, &mut ins.cues);
                }
                // Filler (JUNK, FLLR, PAD, junk), the ds64 placeholder of plain RIFF files and every
                // chunk we do not interpret: skipped unread.
                _ => {}
            }
            if size > avail {
                break;
            }
        }

        // Next chunk: size plus a pad byte when the size is odd.
        let Some(end) = body.checked_add(size) else {
            break;
        };
        if end >= len {
            if size % 2 == 1 && end == len {
                ins.warn(
                    Code::PadMissing,
                    format!(
                        "the odd-sized \"{id_str}\" chunk at the end of the file lacks its pad byte"
                    ),
                );
            }
            break;
        }
        pos = if size % 2 == 1 {
            next_after_odd(src, ins, end, &id_str)?
        } else {
            end
        };
    }

    if fmt_after_data {
        ins.warn(
            Code::FmtAfterData,
            "the fmt chunk comes after the data chunk; legal, but some players cannot read such files",
        );
    }
    finish(ins, container, riff_size, len);
    Ok(())
}

/// Where the chunk after an odd-sized one starts. The pad byte should be there; some writers
/// omit it, which shows as a chunk id starting one byte early.
fn next_after_odd<R: Read + Seek>(
    src: &mut Source<'_, R>,
    ins: &mut Inspection,
    end: u64,
    id: &str,
) -> io::Result<u64> {
    let peek = src.read_at(end, 9)?;
    let pad = peek.first().copied().unwrap_or(0);
    // A chunk header is plausible when its id is printable and its size fits in the file.
    let plausible = |at: usize| -> bool {
        let start = end + at as u64;
        peek.get(at..at + 4).is_some_and(is_fourcc)
            && le32(&peek, at + 4).is_some_and(|size| {
                u64::from(size) <= src.len.saturating_sub(start + 8) || size == SENTINEL
            })
    };
    if peek.len() < 9 {
        // Only the pad (and perhaps stray bytes) remain.
        if pad != 0 {
            ins.warn(
                Code::PadNonZero,
                format!(
                    "the pad byte after the \"{id}\" chunk is 0x{pad:02x}, not zero (harmless)"
                ),
            );
        }
        return Ok(end + 1);
    }
    const KNOWN: [&[u8; 4]; 16] = [
        b"data", b"fmt ", b"LIST", b"bext", b"iXML", b"JUNK", b"junk", b"FLLR", b"PAD ", b"fact",
        b"cue ", b"id3 ", b"ID3 ", b"_PMX", b"smpl", b"inst",
    ];
    let known = |at: usize| {
        peek.get(at..at + 4)
            .is_some_and(|id| KNOWN.iter().any(|k| k.as_slice() == id))
    };
    let score = |at: usize| u8::from(plausible(at)) * 2 + u8::from(known(at));
    if score(0) > score(1) {
        ins.error(
            Code::PadMissing,
            format!(
                "the \"{id}\" chunk has an odd size but no pad byte: the next chunk starts at byte {} \
                 instead of {}; many tools (sox, ffmpeg, libsndfile) cannot read past this",
                group(end),
                group(end + 1)
            ),
        );
        return Ok(end);
    }
    if pad != 0 {
        ins.warn(
            Code::PadNonZero,
            format!("the pad byte after the \"{id}\" chunk is 0x{pad:02x}, not zero (harmless)"),
        );
    }
    Ok(end + 1)
}

/// Records the data chunk. Returns true when the walk cannot go on (the data runs to the end).
fn data_chunk<R: Read + Seek>(
    src: &mut Source<'_, R>,
    ins: &mut Inspection,
    container: Container,
    body: u64,
    size32: u32,
    size: u64,
    unresolved: bool,
) -> io::Result<bool> {
    let avail = src.len - body;
    let mut unfinalised = unresolved
        || (!container.is_64() && size32 == SENTINEL)
        || (container.is_64() && size32 == SENTINEL && (size == 0 || size == u64::MAX));
    if size == 0 && !unfinalised && avail > 0 {
        // A zero size with bytes behind it: an empty data chunk followed by more chunks, or a
        // header that was never patched. Look at what follows to tell them apart.
        let next = src.read_at(body, 8)?;
        let plausible = next.get(0..4).is_some_and(is_fourcc)
            && le32(&next, 4).is_some_and(|s| u64::from(s) <= avail.saturating_sub(8));
        unfinalised = !plausible;
    }
    let present = if unfinalised { avail } else { size.min(avail) };
    ins.data = Some(Data {
        offset: body,
        declared: size,
        unfinalised,
        present,
    });
    if unfinalised {
        let shown = if size32 == SENTINEL {
            "0xFFFFFFFF".to_string()
        } else {
            group(u64::from(size32))
        };
        ins.error(
            Code::DataSizeUnfinalised,
            format!(
                "the data size was never filled in ({shown}): the file was not finalised \
                 (recording or export interrupted, or written to a pipe); {} of audio follow",
                bytes_text(avail)
            ),
        );
        return Ok(true);
    }
    if size > avail {
        ins.error(
            Code::DataTruncated,
            format!(
                "truncated: the data chunk declares {} but only {} are present",
                bytes_text(size),
                bytes_text(avail)
            ),
        );
        return Ok(true);
    }
    Ok(false)
}

fn ds64_chunk(ins: &mut Inspection, buf: &[u8], size: u64) {
    if ins.ds64.is_some() {
        return;
    }
    let (Some(riff_size), Some(data_size), Some(sample_count)) =
        (le64(buf, 0), le64(buf, 8), le64(buf, 16))
    else {
        ins.error(
            Code::Ds64Short,
            format!(
                "the ds64 chunk has {}; it needs at least 24",
                bytes_text(size)
            ),
        );
        return;
    };
    let entries = le32(buf, 24).unwrap_or(0) as usize;
    let mut table = Vec::new();
    for i in 0..entries.min(MAX_DS64_ENTRIES) {
        let at = 28 + 12 * i;
        if let (Some(id), Some(sz)) = (fourcc(buf, at), le64(buf, at + 4)) {
            table.push((id, sz));
        }
    }
    ins.ds64 = Some(Ds64 {
        riff_size,
        data_size,
        sample_count,
        table,
    });
}

fn tag_name(tag: u16) -> String {
    let name = match tag {
        0x0002 => "Microsoft ADPCM",
        0x0006 => "A-law",
        0x0007 => "µ-law",
        0x0011 => "IMA ADPCM",
        0x0050 => "MPEG",
        0x0055 => "MP3",
        0x00FF => "AAC",
        0x2000 => "AC-3",
        _ => "",
    };
    if name.is_empty() {
        format!("0x{tag:04X}")
    } else {
        format!("0x{tag:04X} ({name})")
    }
}

/// The tail of the KSDATAFORMAT_SUBTYPE GUIDs: `XXXXXXXX-0000-0010-8000-00AA00389B71`.
const GUID_TAIL: [u8; 12] = [
    0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];

fn fmt_chunk(ins: &mut Inspection, buf: &[u8], size: u64) {
    let (Some(tag), Some(channels), Some(rate), Some(byte_rate), Some(block_align), Some(bits)) = (
        le16(buf, 0),
        le16(buf, 2),
        le32(buf, 4),
        le32(buf, 8),
        le16(buf, 12),
        le16(buf, 14),
    ) else {
        ins.error(
            Code::FmtShort,
            format!(
                "the fmt chunk has {}; it needs at least 16",
                bytes_text(size)
            ),
        );
        return;
    };
    let fmt_size = u32::try_from(size).unwrap_or(u32::MAX);
    if !matches!(size, 16 | 18 | 40) {
        ins.warn(
            Code::FmtSizeUnusual,
            format!(
                "the fmt chunk has {}; writers use 16, 18 or 40",
                bytes_text(size)
            ),
        );
    }
    let mut f = Format {
        fmt_size,
        format_tag: tag,
        encoding: None,
        extensible: tag == 0xFFFE,
        sub_format: None,
        channels,
        sample_rate: rate,
        byte_rate,
        block_align,
        bits,
        valid_bits: None,
        channel_mask: None,
    };
    match tag {
        0x0001 => f.encoding = Some(Encoding::Pcm),
        0x0003 => f.encoding = Some(Encoding::Float),
        0xFFFE => {
            let cb = le16(buf, 16);
            match (le16(buf, 18), le32(buf, 20), le32(buf, 24), buf.get(28..40)) {
                (Some(valid), Some(mask), Some(code), Some(tail)) if size >= 40 => {
                    if cb != Some(22) {
                        ins.warn(
                            Code::ExtensibleCbSize,
                            format!(
                                "WAVE_FORMAT_EXTENSIBLE with cbSize {}, expected 22",
                                cb.unwrap_or(0)
                            ),
                        );
                    }
                    f.valid_bits = Some(valid);
                    f.channel_mask = Some(mask);
                    f.sub_format = Some(code);
                    if tail == GUID_TAIL {
                        f.encoding = match code {
                            1 => Some(Encoding::Pcm),
                            3 => Some(Encoding::Float),
                            _ => None,
                        };
                    }
                    if f.encoding.is_none() {
                        ins.error(
                            Code::UnsupportedEncoding,
                            format!(
                                "WAVE_FORMAT_EXTENSIBLE with sub-format {}; only PCM and IEEE float are checked",
                                if tail == GUID_TAIL {
                                    tag_name(u16::try_from(code).unwrap_or(u16::MAX))
                                } else {
                                    "GUID of another family".to_string()
                                }
                            ),
                        );
                    }
                }
                _ => {
                    ins.error(
                        Code::FmtShort,
                        format!(
                            "WAVE_FORMAT_EXTENSIBLE needs a 40-byte fmt chunk; this one has {}",
                            bytes_text(size)
                        ),
                    );
                }
            }
        }
        other => ins.error(
            Code::UnsupportedEncoding,
            format!(
                "format tag {}; only PCM (1), IEEE float (3) and EXTENSIBLE PCM/float are checked",
                tag_name(other)
            ),
        ),
    }
    if channels == 0 {
        ins.error(Code::ZeroChannels, "the fmt chunk declares 0 channels");
    }
    if rate == 0 {
        ins.error(
            Code::ZeroSampleRate,
            "the fmt chunk declares a sample rate of 0 Hz",
        );
    }
    let bits_ok = match f.encoding {
        Some(Encoding::Pcm) => (1..=32).contains(&bits) && (!f.extensible || bits % 8 == 0),
        Some(Encoding::Float) => bits == 32 || bits == 64,
        None => true,
    };
    if !bits_ok {
        let what = match f.encoding {
            Some(Encoding::Float) => "float must be 32 or 64 bits",
            _ => "PCM is checked at 8, 16, 24 or 32 bits",
        };
        ins.error(
            Code::UnsupportedBits,
            format!("{bits} bits per sample: {what}"),
        );
    }
    if let Some(valid) = f.valid_bits {
        if valid == 0 {
            ins.warn(
                Code::ValidBitsZero,
                format!("valid bits per sample is 0; taken as the container's {bits}"),
            );
        } else if valid != bits {
            ins.warn(
                Code::ValidBitsDiffer,
                format!("{valid} valid bits in a {bits}-bit container"),
            );
        }
    }
    if let Some(mask) = f.channel_mask
        && mask != 0
        && mask.count_ones() != u32::from(channels)
    {
        ins.warn(
            Code::ChannelMaskMismatch,
            format!(
                "the channel mask names {} speakers for {} channels",
                mask.count_ones(),
                channels
            ),
        );
    }
    if channels > 0 && bits > 0 {
        let expected = u32::from(channels) * u32::from(f.container_bytes());
        if u32::from(block_align) != expected {
            ins.error(
                Code::BlockAlignMismatch,
                format!(
                    "block align is {block_align} but {channels} × {bits}-bit samples take {expected} bytes per frame; \
                     tools disagree on how to read such a file"
                ),
            );
        } else {
            let expected_rate = u64::from(rate) * u64::from(block_align);
            if u64::from(byte_rate) != expected_rate {
                ins.error(
                    Code::ByteRateMismatch,
                    format!(
                        "byte rate is {} but {} Hz × {} bytes per frame is {}",
                        group(u64::from(byte_rate)),
                        group(u64::from(rate)),
                        block_align,
                        group(expected_rate)
                    ),
                );
            }
        }
    }
    ins.format = Some(f);
}

fn finish(ins: &mut Inspection, container: Container, riff_size: u32, len: u64) {
    if ins.format.is_none() {
        ins.error(
            Code::FmtMissing,
            "no fmt chunk: the sample format is unknown",
        );
    }
    if ins.data.is_none() {
        ins.error(Code::DataMissing, "no data chunk: the file holds no audio");
    }

    // The outer size: only a warning, because the chunk walk (bounded by the real file length)
    // is what the length is taken from.
    let data_unfinalised = ins.data.as_ref().is_some_and(|d| d.unfinalised);
    if container.is_64() {
        if riff_size != SENTINEL {
            ins.warn(
                Code::RiffSizeMismatch,
                format!(
                    "{} header size is {}, expected 0xFFFFFFFF",
                    container.as_str(),
                    group(u64::from(riff_size))
                ),
            );
        }
        if let Some(d) = &ins.ds64
            && d.riff_size.checked_add(8) != Some(len)
            && !data_unfinalised
        {
            ins.warn(
                Code::RiffSizeMismatch,
                format!(
                    "ds64 gives the file size as {} but the file has {}",
                    bytes_text(d.riff_size.saturating_add(8)),
                    bytes_text(len)
                ),
            );
        }
    } else if riff_size == 0 || riff_size == SENTINEL {
        if !data_unfinalised {
            ins.warn(
                Code::RiffSizeUnfinalised,
                format!(
                    "the RIFF size was never filled in ({})",
                    if riff_size == 0 { "0" } else { "0xFFFFFFFF" }
                ),
            );
        }
    } else if u64::from(riff_size) + 8 != len {
        let declared = u64::from(riff_size) + 8;
        let how = if declared > len {
            format!("{} more than the file has", bytes_text(declared - len))
        } else {
            format!(
                "{} of trailing data not covered by it",
                bytes_text(len - declared)
            )
        };
        ins.warn(
            Code::RiffSizeMismatch,
            format!(
                "the RIFF header gives the file size as {} but the file has {} ({how})",
                bytes_text(declared),
                bytes_text(len)
            ),
        );
    }

    let (Some(f), Some(d)) = (ins.format.clone(), ins.data.clone()) else {
        return;
    };
    if !f.decodable() {
        return;
    }
    let align = u64::from(f.block_align);
    let frames = d.present / align;
    let partial = d.present % align;
    if partial != 0 {
        ins.error(
            Code::PartialFrame,
            format!(
                "the audio ends with {} of an incomplete sample frame ({} per frame)",
                bytes_text(partial),
                bytes_text(align)
            ),
        );
    }
    if !d.unfinalised && d.declared > d.present {
        let declared_frames = d.declared / align;
        let missing = declared_frames.saturating_sub(frames);
        if let Some(last) = ins
            .findings
            .iter_mut()
            .find(|x| x.code == Code::DataTruncated)
        {
            last.message = format!(
                "truncated: the data chunk declares {} ({}) but only {} ({}) are present; {} missing",
                plural(declared_frames, "sample", "samples"),
                bytes_text(d.declared),
                plural(frames, "sample", "samples"),
                bytes_text(d.present),
                plural(missing, "sample", "samples"),
            );
        }
    }
    if d.unfinalised
        && let Some(x) = ins
            .findings
            .iter_mut()
            .find(|x| x.code == Code::DataSizeUnfinalised)
    {
        x.message.push_str(&format!(
            " ({} present)",
            plural(frames, "sample", "samples")
        ));
    }
    if frames == 0 && !d.unfinalised {
        ins.error(Code::DataEmpty, "the data chunk holds no samples");
    }
    if f.encoding == Some(Encoding::Float)
        && let Some(fact) = ins.fact_samples
        && u64::from(fact) != frames
    {
        ins.warn(
            Code::FactMismatch,
            format!(
                "the fact chunk says {} but {} are present",
                plural(u64::from(fact), "sample", "samples"),
                group(frames)
            ),
        );
    }
    if let Some(ds) = &ins.ds64
        && ds.sample_count != 0
        && ds.sample_count != frames
        && !d.unfinalised
    {
        ins.warn(
            Code::FactMismatch,
            format!(
                "ds64 says {} but {} are present",
                plural(ds.sample_count, "sample", "samples"),
                group(frames)
            ),
        );
    }
    ins.frames = Some(frames);
}
