//! Files attached to messages: which files are accepted (PRODUCT.md §3), judged by their name and
//! by their content, and how they are shown. Reading the bytes is the caller's job; everything
//! here looks at a name or at the first bytes of a file.

use crate::ids::{AttachmentId, MessageId};
use std::fmt;
use time::OffsetDateTime;

/// The largest file accepted: 10 MB, counted as 10 × 1024 × 1024 bytes (what operating systems
/// show as "10 MB").
pub const MAX_BYTES: u64 = 10 * 1024 * 1024;

/// At most this many files per message.
pub const MAX_PER_MESSAGE: usize = 10;

/// How much of the beginning of a file the content checks look at.
pub const HEAD_BYTES: usize = 64 * 1024;

/// The kinds of file PRODUCT.md §3 accepts, one per extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FileType {
    Ai,
    Bmp,
    Csv,
    Eps,
    Gif,
    Heif,
    Ind,
    Jpeg,
    Jpg,
    Mov,
    Mxl,
    Pdf,
    Png,
    Psd,
    Raw,
    Svj,
    Wav,
    Webp,
    // Script work (requests), not accepted in messages.
    Docx,
    Xlsx,
    Txt,
    Srt,
    Ttml,
    Ttal,
    // Audio fulfilment: the studio's clips.
    Mp4,
}

impl FileType {
    pub const ALL: [FileType; 18] = [
        FileType::Ai,
        FileType::Bmp,
        FileType::Csv,
        FileType::Eps,
        FileType::Gif,
        FileType::Heif,
        FileType::Ind,
        FileType::Jpeg,
        FileType::Jpg,
        FileType::Mov,
        FileType::Mxl,
        FileType::Pdf,
        FileType::Png,
        FileType::Psd,
        FileType::Raw,
        FileType::Svj,
        FileType::Wav,
        FileType::Webp,
    ];

    /// The extension, lower case, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            FileType::Ai => "ai",
            FileType::Bmp => "bmp",
            FileType::Csv => "csv",
            FileType::Eps => "eps",
            FileType::Gif => "gif",
            FileType::Heif => "heif",
            FileType::Ind => "ind",
            FileType::Jpeg => "jpeg",
            FileType::Jpg => "jpg",
            FileType::Mov => "mov",
            FileType::Mxl => "mxl",
            FileType::Pdf => "pdf",
            FileType::Png => "png",
            FileType::Psd => "psd",
            FileType::Raw => "raw",
            FileType::Svj => "svj",
            FileType::Wav => "wav",
            FileType::Webp => "webp",
            FileType::Docx => "docx",
            FileType::Xlsx => "xlsx",
            FileType::Txt => "txt",
            FileType::Srt => "srt",
            FileType::Ttml => "ttml",
            FileType::Ttal => "ttal",
            FileType::Mp4 => "mp4",
        }
    }

    /// The files of script work (requests): documents, spreadsheets, subtitles, TTAL.
    pub const SCRIPT: [FileType; 8] = [
        FileType::Docx,
        FileType::Xlsx,
        FileType::Pdf,
        FileType::Txt,
        FileType::Srt,
        FileType::Ttml,
        FileType::Csv,
        FileType::Ttal,
    ];

    pub fn from_extension(ext: &str) -> Option<FileType> {
        let ext = ext.to_ascii_lowercase();
        FileType::ALL
            .into_iter()
            .chain(FileType::SCRIPT)
            .chain([FileType::Mp4])
            .find(|t| t.extension() == ext)
    }

    /// What the file is, in words, for refusals: "a PNG image".
    pub fn describe(self) -> &'static str {
        match self {
            FileType::Ai => "an Adobe Illustrator file",
            FileType::Bmp => "a BMP image",
            FileType::Csv => "a CSV text file",
            FileType::Eps => "an EPS (Encapsulated PostScript) file",
            FileType::Gif => "a GIF image",
            FileType::Heif => "a HEIF image",
            FileType::Ind => "an InDesign document",
            FileType::Jpeg | FileType::Jpg => "a JPEG image",
            FileType::Mov => "a QuickTime movie",
            FileType::Mp4 => "an MP4 video",
            FileType::Mxl => "a compressed MusicXML file",
            FileType::Pdf => "a PDF document",
            FileType::Png => "a PNG image",
            FileType::Psd => "a Photoshop document",
            FileType::Raw => "a camera raw image",
            FileType::Svj => "an .svj file",
            FileType::Wav => "a WAV recording",
            FileType::Webp => "a WebP image",
            FileType::Docx => "a Word document",
            FileType::Xlsx => "an Excel workbook",
            FileType::Txt => "a plain text file",
            FileType::Srt => "an SRT subtitle file",
            FileType::Ttml => "a TTML timed-text file",
            FileType::Ttal => "a TTAL script (JSON)",
        }
    }

    /// The media type sent with a download. Types a browser could run (HTML, SVG, scripts) are
    /// never among them.
    pub fn media_type(self) -> &'static str {
        match self {
            FileType::Ai | FileType::Pdf => "application/pdf",
            FileType::Bmp => "image/bmp",
            FileType::Csv => "text/csv; charset=utf-8",
            FileType::Eps => "application/postscript",
            FileType::Gif => "image/gif",
            FileType::Heif => "image/heif",
            FileType::Jpeg | FileType::Jpg => "image/jpeg",
            FileType::Mov => "video/quicktime",
            FileType::Mp4 => "video/mp4",
            FileType::Mxl => "application/vnd.recordare.musicxml",
            FileType::Png => "image/png",
            FileType::Psd => "image/vnd.adobe.photoshop",
            FileType::Wav => "audio/wav",
            FileType::Webp => "image/webp",
            FileType::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            FileType::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileType::Txt | FileType::Srt => "text/plain; charset=utf-8",
            FileType::Ttml => "application/ttml+xml",
            FileType::Ttal => "application/json",
            FileType::Ind | FileType::Raw | FileType::Svj => "application/octet-stream",
        }
    }

    /// Images a browser shows, previewed inline in the channel.
    pub fn is_image(self) -> bool {
        matches!(
            self,
            FileType::Bmp
                | FileType::Gif
                | FileType::Jpeg
                | FileType::Jpg
                | FileType::Png
                | FileType::Webp
        )
    }

    /// Opened in the browser rather than saved: images and PDFs.
    pub fn previews_inline(self) -> bool {
        self.is_image() || self == FileType::Pdf
    }

    /// Checks that the first bytes of a file (up to [`HEAD_BYTES`], or the whole file when it is
    /// shorter) are what the extension says. A WAV recording passing this check is then parsed
    /// by the caller (`audio::inspect`) to be sure.
    pub fn check_content(self, head: &[u8]) -> Result<(), AttachmentRefusal> {
        let ok = match self {
            // Illustrator files are PDF (since CS) or PostScript (older versions).
            FileType::Ai => is_pdf(head) || head.starts_with(b"%!PS-Adobe"),
            FileType::Bmp => head.starts_with(b"BM") && head.len() >= 26,
            FileType::Csv => is_text(head),
            FileType::Eps => head.starts_with(b"%!PS-Adobe") || head.starts_with(&DOS_EPS),
            FileType::Gif => head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a"),
            FileType::Heif => iso_brand(head).is_some_and(|b| HEIF_BRANDS.contains(&b)),
            FileType::Ind => head.starts_with(&INDESIGN),
            FileType::Jpeg | FileType::Jpg => head.starts_with(&[0xFF, 0xD8, 0xFF]),
            FileType::Mov => is_quicktime(head),
            FileType::Mp4 => iso_brand(head).is_some(),
            FileType::Mxl => head.starts_with(b"PK\x03\x04"),
            FileType::Pdf => is_pdf(head),
            FileType::Png => head.starts_with(b"\x89PNG\r\n\x1a\n"),
            FileType::Psd => head.starts_with(b"8BPS"),
            FileType::Raw => is_camera_raw(head),
            // No published signature: accepted unless the content is recognisably something
            // else (an executable, an archive, an image…).
            FileType::Svj => !head.is_empty() && recognise(head).is_none(),
            FileType::Wav => {
                head.len() >= 12
                    && (head.starts_with(b"RIFF")
                        || head.starts_with(b"RF64")
                        || head.starts_with(b"BW64"))
                    && &head[8..12] == b"WAVE"
            }
            FileType::Webp => {
                head.len() >= 12 && head.starts_with(b"RIFF") && &head[8..12] == b"WEBP"
            }
            // Office Open XML: a ZIP whose first entries name the document's own part.
            FileType::Docx => head.starts_with(b"PK\x03\x04") && contains(head, b"word/"),
            FileType::Xlsx => head.starts_with(b"PK\x03\x04") && contains(head, b"xl/"),
            FileType::Txt => is_text(head),
            FileType::Srt => is_text(head) && contains(head, b"-->"),
            FileType::Ttml => is_text(head) && contains(head, b"<tt"),
            FileType::Ttal => is_text(head) && text_start(head) == Some(b'{'),
        };
        if ok {
            Ok(())
        } else {
            Err(AttachmentRefusal::WrongContent {
                expected: self,
                found: if head.is_empty() {
                    Some("an empty file")
                } else {
                    recognise(head)
                },
            })
        }
    }
}

impl fmt::Display for FileType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, ".{}", self.extension())
    }
}

/// The extensions accepted, for messages: ".ai .bmp … .webp".
pub fn accepted_extensions() -> String {
    Accept::Message.extensions()
}

/// What an upload is for, which decides the types and the size it may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Accept {
    /// A file attached to a message (PRODUCT.md §3): 18 types, 10 MB.
    Message,
    /// A reference file or a version of script work: documents and timed text, 100 MB.
    Script,
    /// A recording delivered for audio fulfilment (WAV), as large as uploads may be.
    Delivery,
    /// A Moments clip (MP4), as large as uploads may be.
    Clip,
}

/// The largest file of script work.
pub const MAX_SCRIPT_BYTES: u64 = 100 * 1024 * 1024;

impl Accept {
    pub fn types(self) -> &'static [FileType] {
        match self {
            Accept::Message => &FileType::ALL,
            Accept::Script => &FileType::SCRIPT,
            Accept::Delivery => &[FileType::Wav],
            Accept::Clip => &[FileType::Mp4],
        }
    }

    pub fn max_bytes(self) -> u64 {
        match self {
            Accept::Message => MAX_BYTES,
            Accept::Script => MAX_SCRIPT_BYTES,
            // The portal's configured upload limit applies to these.
            Accept::Delivery | Accept::Clip => u64::MAX,
        }
    }

    /// ".ai .bmp … .webp".
    pub fn extensions(self) -> String {
        self.types()
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

const DOS_EPS: [u8; 4] = [0xC5, 0xD0, 0xD3, 0xC6];
/// The GUID every InDesign document starts with.
const INDESIGN: [u8; 16] = [
    0x06, 0x06, 0xED, 0xF5, 0xD8, 0x1D, 0x46, 0xE5, 0xBD, 0x31, 0xEF, 0xE7, 0xFE, 0x74, 0xB7, 0x1D,
];
const HEIF_BRANDS: [&[u8; 4]; 8] = [
    b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1",
];

fn contains(head: &[u8], needle: &[u8]) -> bool {
    head.windows(needle.len()).any(|w| w == needle)
}

/// The first byte of a text that is not white space or a UTF-8 byte-order mark.
fn text_start(head: &[u8]) -> Option<u8> {
    let body = head.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(head);
    body.iter().copied().find(|b| !b.is_ascii_whitespace())
}

fn is_pdf(head: &[u8]) -> bool {
    // Readers accept the header anywhere in the first 1024 bytes.
    head.iter()
        .take(1024)
        .enumerate()
        .any(|(i, _)| head[i..].starts_with(b"%PDF-"))
}

/// The major brand of an ISO base media file (`....ftypXXXX`).
fn iso_brand(head: &[u8]) -> Option<&[u8; 4]> {
    if head.len() >= 12 && &head[4..8] == b"ftyp" {
        head[8..12].try_into().ok()
    } else {
        None
    }
}

fn is_quicktime(head: &[u8]) -> bool {
    if iso_brand(head).is_some() {
        return true;
    }
    // Older QuickTime files start with one of these atoms.
    head.len() >= 8
        && [b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"]
            .iter()
            .any(|atom| &head[4..8] == *atom)
}

fn is_camera_raw(head: &[u8]) -> bool {
    head.starts_with(b"II*\0")
        || head.starts_with(b"MM\0*")
        || head.starts_with(b"IIU\0")
        || head.starts_with(b"IIRO")
        || head.starts_with(b"IIRS")
        || head.starts_with(b"FUJIFILMCCD-RAW")
        || iso_brand(head) == Some(b"crx ")
}

/// Text: no NUL bytes and no control characters other than tab, line breaks and form feed;
/// UTF-8 (with or without a byte-order mark) or a single-byte encoding. UTF-16 text needs its
/// byte-order mark.
fn is_text(head: &[u8]) -> bool {
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return true;
    }
    !head.is_empty()
        && head
            .iter()
            .all(|&b| b >= 0x20 || matches!(b, b'\t' | b'\n' | b'\r' | 0x0C))
}

/// What the content looks like, when it is something recognisable, in words.
pub fn recognise(head: &[u8]) -> Option<&'static str> {
    let starts = |m: &[u8]| head.starts_with(m);
    if starts(b"MZ") {
        Some("a Windows program")
    } else if starts(b"\x7fELF") {
        Some("a Linux program")
    } else if starts(&[0xCF, 0xFA, 0xED, 0xFE])
        || starts(&[0xCE, 0xFA, 0xED, 0xFE])
        || starts(&[0xCA, 0xFE, 0xBA, 0xBE])
    {
        Some("a macOS program")
    } else if starts(b"#!") {
        Some("a script")
    } else if starts(b"PK\x03\x04") {
        Some("a ZIP archive")
    } else if starts(b"Rar!") || starts(&[0x37, 0x7A, 0xBC, 0xAF, 0x27, 0x1C]) {
        Some("a compressed archive")
    } else if starts(&[0x1F, 0x8B]) {
        Some("a gzip archive")
    } else if is_pdf(head) {
        Some("a PDF document")
    } else if starts(b"\x89PNG") {
        Some("a PNG image")
    } else if starts(&[0xFF, 0xD8, 0xFF]) {
        Some("a JPEG image")
    } else if starts(b"GIF8") {
        Some("a GIF image")
    } else if head.len() >= 12 && starts(b"RIFF") && &head[8..12] == b"WAVE" {
        Some("a WAV recording")
    } else if head.len() >= 12 && starts(b"RIFF") && &head[8..12] == b"WEBP" {
        Some("a WebP image")
    } else if starts(b"8BPS") {
        Some("a Photoshop document")
    } else if starts(b"%!PS") {
        Some("a PostScript file")
    } else if iso_brand(head).is_some() {
        Some("a video or HEIF image")
    } else if starts(b"<") && is_text(head) {
        Some("an HTML or XML page")
    } else if is_text(head) {
        Some("plain text")
    } else {
        None
    }
}

/// A file name as the sender chose it, checked: it is only ever shown and offered as the
/// download name, never used as a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentName {
    name: String,
    file_type: FileType,
}

impl AttachmentName {
    pub const MAX_CHARS: usize = 200;

    /// A name for a file attached to a message.
    pub fn parse(raw: &str) -> Result<Self, AttachmentRefusal> {
        Self::parse_for(raw, Accept::Message)
    }

    /// A name for a file of `accept`'s class.
    pub fn parse_for(raw: &str, accept: Accept) -> Result<Self, AttachmentRefusal> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(AttachmentRefusal::NoName);
        }
        if name.contains(['/', '\\']) || name == "." || name == ".." {
            return Err(AttachmentRefusal::PathInName(name.to_string()));
        }
        if name
            .chars()
            .any(|c| c.is_control() || crate::values::is_bidi_control(c))
        {
            return Err(AttachmentRefusal::ControlCharacters);
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(AttachmentRefusal::NameTooLong);
        }
        let file_type = name
            .rsplit_once('.')
            .map(|(_, ext)| ext)
            .filter(|ext| !ext.is_empty())
            .and_then(FileType::from_extension)
            .filter(|t| accept.types().contains(t))
            .ok_or_else(|| AttachmentRefusal::Extension(name.to_string(), accept))?;
        Ok(Self {
            name: name.to_string(),
            file_type,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }

    pub fn file_type(&self) -> FileType {
        self.file_type
    }
}

impl fmt::Display for AttachmentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Why a file was refused; each says which rule failed and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttachmentRefusal {
    NoName,
    PathInName(String),
    ControlCharacters,
    NameTooLong,
    Extension(String, Accept),
    TooLarge {
        size_at_least: u64,
        limit: u64,
    },
    WrongContent {
        expected: FileType,
        found: Option<&'static str>,
    },
    /// A WAV whose structure is broken, with what the audio checker found.
    BrokenWav(String),
    TooMany,
}

impl fmt::Display for AttachmentRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttachmentRefusal::NoName => {
                f.write_str("the file has no name; give it one ending in an accepted extension")
            }
            AttachmentRefusal::PathInName(n) => write!(
                f,
                "the file name {n:?} contains a folder path; attach the file under its own name, without folders (for example \"mix.wav\")"
            ),
            AttachmentRefusal::ControlCharacters => {
                f.write_str(
                    "the file name contains control or text-direction override characters; rename the file",
                )
            }
            AttachmentRefusal::NameTooLong => write!(
                f,
                "the file name is longer than {} characters; shorten it",
                AttachmentName::MAX_CHARS
            ),
            AttachmentRefusal::Extension(n, accept) => write!(
                f,
                "{n:?} is not a file type the portal accepts{}; accepted: {}",
                match accept {
                    Accept::Message => "",
                    Accept::Script => " for script work",
                    Accept::Delivery => " for a recording",
                    Accept::Clip => " for a clip",
                },
                accept.extensions()
            ),
            AttachmentRefusal::TooLarge {
                size_at_least,
                limit,
            } => write!(
                f,
                "the file is larger than {} MB ({} bytes or more; at most {} bytes); {}",
                limit / (1024 * 1024),
                group(*size_at_least),
                group(*limit),
                if *limit == MAX_BYTES {
                    "share larger files as deliverables, or compress them"
                } else {
                    "split it or compress it"
                }
            ),
            AttachmentRefusal::WrongContent { expected, found } => {
                write!(
                    f,
                    "the file is named {expected} but its content is not {}",
                    expected.describe()
                )?;
                if let Some(found) = found {
                    write!(f, " (it looks like {found})")?;
                }
                f.write_str("; attach the real file, or give it the extension of what it is")
            }
            AttachmentRefusal::BrokenWav(why) => write!(
                f,
                "the file is named .wav but is not a readable WAV recording: {why}"
            ),
            AttachmentRefusal::TooMany => write!(
                f,
                "a message has at most {MAX_PER_MESSAGE} attachments; send the rest in another message"
            ),
        }
    }
}

/// 10485760 → "10,485,760".
fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// 1536 → "1.5 KB", for lists of attachments.
pub fn human_size(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} bytes")
    } else if b < KB * KB {
        format!("{:.1} KB", b / KB)
    } else {
        format!("{:.1} MB", b / (KB * KB))
    }
}

/// A file attached to a message, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub id: AttachmentId,
    pub message_id: MessageId,
    /// The sender's file name, shown and offered as the download name only.
    pub name: String,
    pub file_type: FileType,
    pub size: u64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
    /// Where the file storage keeps it; chosen by the server, never derived from the name.
    pub storage_key: String,
    pub created_at: OffsetDateTime,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_and_never_paths() {
        let n = AttachmentName::parse("  Mix FINAL.WAV ").unwrap();
        assert_eq!(n.as_str(), "Mix FINAL.WAV");
        assert_eq!(n.file_type(), FileType::Wav);
        for bad in ["../../etc/passwd.png", "C:\\temp\\x.pdf", "dir/x.png", ".."] {
            assert!(
                matches!(
                    AttachmentName::parse(bad),
                    Err(AttachmentRefusal::PathInName(_))
                ),
                "{bad}"
            );
        }
        assert_eq!(AttachmentName::parse(""), Err(AttachmentRefusal::NoName));
        assert_eq!(
            AttachmentName::parse("a\u{0}.png"),
            Err(AttachmentRefusal::ControlCharacters)
        );
        for bad in ["setup.exe", "notes", "archive.png.zip", "x.", "photo.svg"] {
            let err = AttachmentName::parse(bad).unwrap_err();
            assert!(matches!(err, AttachmentRefusal::Extension(..)), "{bad}");
            assert!(err.to_string().contains(".wav .webp"), "{err}");
        }
        assert_eq!(FileType::ALL.len(), 18);
        for t in FileType::ALL {
            assert_eq!(FileType::from_extension(t.extension()), Some(t));
        }
    }

    #[test]
    fn content_must_match_the_extension() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(FileType::Png.check_content(png), Ok(()));
        let exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff";
        let err = FileType::Pdf.check_content(exe).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the file is named .pdf but its content is not a PDF document (it looks like a Windows program); attach the real file, or give it the extension of what it is"
        );
        assert!(FileType::Png.check_content(b"GIF89a....").is_err());
        assert_eq!(FileType::Pdf.check_content(b"%PDF-1.7\n"), Ok(()));
        assert_eq!(FileType::Ai.check_content(b"%PDF-1.5\n"), Ok(()));
        assert_eq!(
            FileType::Csv.check_content(b"id;name\n1;Pe\xc3\xb1a\r\n"),
            Ok(())
        );
        assert!(FileType::Csv.check_content(b"id\0name").is_err());
        assert!(FileType::Csv.check_content(exe).is_err());
        assert_eq!(
            FileType::Wav.check_content(b"RIFF\x24\0\0\0WAVEfmt "),
            Ok(())
        );
        assert!(
            FileType::Wav
                .check_content(b"RIFF\x24\0\0\0WEBPVP8 ")
                .is_err()
        );
        assert_eq!(
            FileType::Webp.check_content(b"RIFF\x24\0\0\0WEBPVP8 "),
            Ok(())
        );
        assert_eq!(
            FileType::Heif.check_content(b"\0\0\0\x18ftypheic\0\0\0\0"),
            Ok(())
        );
        assert_eq!(
            FileType::Mov.check_content(b"\0\0\0\x14ftypqt  \0\0\0\0"),
            Ok(())
        );
        assert_eq!(FileType::Raw.check_content(b"II*\0\x08\0\0\0"), Ok(()));
        assert!(FileType::Svj.check_content(exe).is_err());
        assert!(FileType::Svj.check_content(png).is_err());
        assert_eq!(
            FileType::Svj.check_content(&[0x13, 0x57, 0x9b, 0xdf]),
            Ok(())
        );
        assert_eq!(
            FileType::Png.check_content(b"").unwrap_err().to_string(),
            "the file is named .png but its content is not a PNG image (it looks like an empty file); attach the real file, or give it the extension of what it is"
        );
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(
            AttachmentRefusal::TooLarge {
                size_at_least: MAX_BYTES + 1,
                limit: MAX_BYTES
            }
            .to_string(),
            "the file is larger than 10 MB (10,485,761 bytes or more; at most 10,485,760 bytes); share larger files as deliverables, or compress them"
        );
        assert_eq!(human_size(512), "512 bytes");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(MAX_BYTES), "10.0 MB");
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod script_files {
    use super::*;

    #[test]
    fn script_files_are_checked_by_content_and_kept_out_of_messages() {
        let ok: [(&str, &[u8]); 7] = [
            (
                "a.docx",
                b"PK\x03\x04....[Content_Types].xml....word/document.xml",
            ),
            (
                "a.xlsx",
                b"PK\x03\x04....[Content_Types].xml....xl/workbook.xml",
            ),
            ("a.srt", b"1\n00:00:01,000 --> 00:00:02,000\nHola\n"),
            (
                "a.ttml",
                b"<?xml version=\"1.0\"?>\n<tt xmlns=\"http://www.w3.org/ns/ttml\">",
            ),
            ("a.ttal", b"\xEF\xBB\xBF  {\"events\": []}"),
            ("a.txt", b"DIALOGUE LIST\nMARTA: Hola."),
            ("a.pdf", b"%PDF-1.7\n"),
        ];
        for (name, head) in ok {
            let n = AttachmentName::parse_for(name, Accept::Script).unwrap();
            assert_eq!(n.file_type().check_content(head), Ok(()), "{name}");
        }
        let bad: [(&str, &[u8]); 4] = [
            ("a.docx", b"PK\x03\x04....xl/workbook.xml"),
            ("a.srt", b"just text"),
            ("a.ttal", b"MZ\x90\x00"),
            ("a.docx", b"%PDF-1.7"),
        ];
        for (name, head) in bad {
            let n = AttachmentName::parse_for(name, Accept::Script).unwrap();
            assert!(n.file_type().check_content(head).is_err(), "{name}");
        }
        // Script types are not message attachments, and images are not script work.
        assert!(matches!(
            AttachmentName::parse("notes.docx"),
            Err(AttachmentRefusal::Extension(_, Accept::Message))
        ));
        let e = AttachmentName::parse_for("still.png", Accept::Script).unwrap_err();
        assert!(e.to_string().contains(".docx .xlsx .pdf"), "{e}");
        assert_eq!(Accept::Script.max_bytes(), 100 * 1024 * 1024);
        assert_eq!(FileType::from_extension("TTML"), Some(FileType::Ttml));
    }
}
