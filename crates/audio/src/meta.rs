//! Metadata chunks: BWF `bext` (EBU Tech 3285 v0–v2), `iXML`, `LIST/INFO`, `cue ` and
//! `LIST/adtl`. Every parser takes a buffer the walker has already capped and copes with any
//! bytes in it.

use serde::Serialize;

use crate::finding::{Code, Finding, group};
use crate::wav::{MAX_CUES, id_text, le16, le32, le64};

/// Fixed part of a `bext` chunk, before the coding history.
pub const BEXT_FIXED: usize = 602;
const MAX_INFO_ENTRIES: usize = 64;
const MAX_TEXT_CHARS: usize = 1024;
const MAX_TRACKS: usize = 64;
const MAX_XML_DEPTH: usize = 64;

/// The broadcast-wave extension chunk.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Bext {
    pub version: u16,
    pub description: String,
    pub originator: String,
    pub originator_reference: String,
    pub origination_date: String,
    pub origination_time: String,
    /// Samples since midnight at the file's sample rate (the position of the first sample).
    pub time_reference: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub umid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loudness_value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loudness_range: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_true_peak_level: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_momentary_loudness: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_short_term_loudness: Option<f64>,
    pub coding_history: String,
}

/// Facts read from an `iXML` chunk.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Ixml {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scene: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub take: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tape: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timecode_rate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timecode_flag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_sample_rate: Option<String>,
    /// TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI/LO combined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp_samples_since_midnight: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp_sample_rate: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tracks: Vec<String>,
    /// Whether the document parsed as well-formed XML with a `BWFXML` root.
    pub well_formed: bool,
}

/// One `LIST/INFO` entry, e.g. `ISFT` = "Lavf59.27.100".
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InfoEntry {
    pub id: String,
    pub text: String,
}

/// A marker from `cue ` (position) and `LIST/adtl` (label, note).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Cue {
    pub id: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Text of a fixed-width, NUL-padded field. Returns the text and whether it held bytes that are
/// not printable ASCII.
fn fixed_text(b: &[u8]) -> (String, bool) {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    let body = b.get(..end).unwrap_or_default();
    let odd = body
        .iter()
        .any(|&c| !(0x20..=0x7E).contains(&c) && c != b'\r' && c != b'\n' && c != b'\t');
    let text: String = String::from_utf8_lossy(body)
        .chars()
        .take(MAX_TEXT_CHARS)
        .collect();
    (text.trim_end().to_string(), odd)
}

fn loudness(b: &[u8], at: usize) -> Option<f64> {
    let raw = le16(b, at)?;
    // 0x7FFF marks a value that was not measured.
    (raw != 0x7FFF).then(|| f64::from(raw.cast_signed()) / 100.0)
}

/// Parses `bext`. `declared` is the chunk's size as declared (the buffer may be capped).
pub fn parse_bext(buf: &[u8], declared: u64) -> (Bext, Vec<Finding>) {
    let mut findings = Vec::new();
    if declared < BEXT_FIXED as u64 {
        findings.push(Finding::warning(
            Code::BextShort,
            format!(
                "the bext chunk has {} bytes; EBU Tech 3285 requires at least {BEXT_FIXED}",
                group(declared)
            ),
        ));
    }
    let mut odd_text = false;
    let mut field = |from: usize, to: usize| -> String {
        let (t, odd) = fixed_text(buf.get(from..to.min(buf.len())).unwrap_or_default());
        odd_text |= odd;
        t
    };
    let mut bext = Bext {
        description: field(0, 256),
        originator: field(256, 288),
        originator_reference: field(288, 320),
        origination_date: field(320, 330),
        origination_time: field(330, 338),
        time_reference: le64(buf, 338).unwrap_or(0),
        version: le16(buf, 346).unwrap_or(0),
        ..Bext::default()
    };
    if bext.version >= 1
        && let Some(umid) = buf.get(348..412)
        && umid.iter().any(|&b| b != 0)
    {
        bext.umid = Some(umid.iter().map(|b| format!("{b:02x}")).collect());
    }
    if bext.version >= 2 {
        bext.loudness_value = loudness(buf, 412);
        bext.loudness_range = loudness(buf, 414);
        bext.max_true_peak_level = loudness(buf, 416);
        bext.max_momentary_loudness = loudness(buf, 418);
        bext.max_short_term_loudness = loudness(buf, 420);
    }
    let reserved_from = match bext.version {
        0 => 348,
        1 => 412,
        _ => 422,
    };
    if bext.version <= 2
        && buf
            .get(reserved_from..BEXT_FIXED.min(buf.len()))
            .is_some_and(|r| r.iter().any(|&b| b != 0))
    {
        findings.push(Finding::warning(
            Code::BextReservedNonZero,
            format!(
                "the reserved bytes of the version {} bext chunk are not zero",
                bext.version
            ),
        ));
    }
    if let Some(history) = buf.get(BEXT_FIXED..) {
        let (t, _) = fixed_text(history);
        bext.coding_history = t;
    }
    if odd_text {
        findings.push(Finding::warning(
            Code::BextText,
            "bext text fields hold bytes that are not printable ASCII",
        ));
    }
    (bext, findings)
}

fn decode_text(buf: &[u8]) -> String {
    let utf16 = |be: bool, body: &[u8]| -> String {
        let units: Vec<u16> = body
            .chunks_exact(2)
            .map(|p| match p {
                [a, b] if be => u16::from_be_bytes([*a, *b]),
                [a, b] => u16::from_le_bytes([*a, *b]),
                _ => 0,
            })
            .collect();
        String::from_utf16_lossy(&units)
    };
    match buf {
        [0xFF, 0xFE, rest @ ..] => utf16(false, rest),
        [0xFE, 0xFF, rest @ ..] => utf16(true, rest),
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8_lossy(rest).into_owned(),
        _ => String::from_utf8_lossy(buf).into_owned(),
    }
}

fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.trim().to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(rest.get(..i).unwrap_or_default());
        let after = rest.get(i..).unwrap_or_default();
        let Some(semi) = after.find(';').filter(|&k| k <= 10) else {
            out.push('&');
            rest = after.get(1..).unwrap_or_default();
            continue;
        };
        let entity = after.get(1..semi).unwrap_or_default();
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e => e
                .strip_prefix("#x")
                .or_else(|| e.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| e.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = after.get(semi + 1..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = after.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    out.trim().to_string()
}

/// A very small non-validating XML walk: checks nesting and collects the text of leaf elements
/// by their path below the root. Enough for iXML, which is flat and simple.
fn walk_xml(doc: &str, mut leaf: impl FnMut(&[&str], String)) -> Result<String, String> {
    let mut stack: Vec<&str> = Vec::new();
    let mut root: Option<String> = None;
    let mut text = String::new();
    let mut had_child = false;
    let mut rest = doc;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            if !rest.trim().is_empty() && stack.is_empty() {
                return Err("text after the root element".into());
            }
            text.push_str(rest);
            break;
        };
        text.push_str(rest.get(..lt).unwrap_or_default());
        let tag = rest.get(lt..).unwrap_or_default();
        if let Some(after) = tag.strip_prefix("<?") {
            let end = after.find("?>").ok_or("unclosed processing instruction")?;
            rest = after.get(end + 2..).unwrap_or_default();
        } else if let Some(after) = tag.strip_prefix("<!--") {
            let end = after.find("-->").ok_or("unclosed comment")?;
            rest = after.get(end + 3..).unwrap_or_default();
        } else if let Some(after) = tag.strip_prefix("<![CDATA[") {
            let end = after.find("]]>").ok_or("unclosed CDATA section")?;
            text.push_str(after.get(..end).unwrap_or_default());
            rest = after.get(end + 3..).unwrap_or_default();
        } else if let Some(after) = tag.strip_prefix("<!") {
            let end = after.find('>').ok_or("unclosed declaration")?;
            rest = after.get(end + 1..).unwrap_or_default();
        } else if let Some(after) = tag.strip_prefix("</") {
            let end = after.find('>').ok_or("unclosed end tag")?;
            let name = after.get(..end).unwrap_or_default().trim();
            match stack.last() {
                Some(open) if *open == name => {
                    if !had_child {
                        let path = stack.get(1..).unwrap_or_default();
                        leaf(path, unescape(&text));
                    }
                    stack.pop();
                    had_child = true;
                }
                Some(open) => return Err(format!("</{name}> closes <{open}>")),
                None => return Err(format!("</{name}> closes nothing")),
            }
            text.clear();
            rest = after.get(end + 1..).unwrap_or_default();
        } else {
            let after = tag.get(1..).unwrap_or_default();
            // Find the closing '>' outside quoted attribute values.
            let mut quote: Option<char> = None;
            let mut close = None;
            for (i, c) in after.char_indices() {
                match (quote, c) {
                    (Some(q), c) if c == q => quote = None,
                    (Some(_), _) => {}
                    (None, '"' | '\'') => quote = Some(c),
                    (None, '>') => {
                        close = Some(i);
                        break;
                    }
                    (None, '<') => return Err("'<' inside a tag".into()),
                    _ => {}
                }
            }
            let end = close.ok_or("unclosed start tag")?;
            let inner = after.get(..end).unwrap_or_default();
            let self_closing = inner.ends_with('/');
            let name = inner
                .trim_end_matches('/')
                .split(|c: char| c.is_whitespace())
                .next()
                .unwrap_or_default();
            if name.is_empty() {
                return Err("a tag without a name".into());
            }
            if stack.is_empty() {
                if root.is_some() {
                    return Err("more than one root element".into());
                }
                root = Some(name.to_string());
            }
            if !self_closing {
                if stack.len() >= MAX_XML_DEPTH {
                    return Err("elements nested too deeply".into());
                }
                stack.push(name);
                had_child = false;
            } else {
                had_child = true;
            }
            text.clear();
            rest = after.get(end + 1..).unwrap_or_default();
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!("<{open}> is never closed"));
    }
    root.ok_or_else(|| "no element".to_string())
}

/// Parses `iXML`. Malformed XML is a warning; whatever was read before the fault is kept.
pub fn parse_ixml(buf: &[u8]) -> (Ixml, Vec<Finding>) {
    let doc = decode_text(buf);
    let doc = doc.trim_end_matches(['\0', ' ', '\r', '\n', '\t']);
    let mut ix = Ixml::default();
    let mut hi: Option<u64> = None;
    let mut lo: Option<u64> = None;
    let result = walk_xml(doc, |path, value| {
        let value: String = value.chars().take(MAX_TEXT_CHARS).collect();
        let slot = match path {
            ["PROJECT"] => &mut ix.project,
            ["SCENE"] => &mut ix.scene,
            ["TAKE"] => &mut ix.take,
            ["TAPE"] => &mut ix.tape,
            ["NOTE"] => &mut ix.note,
            ["SPEED", "TIMECODE_RATE"] => &mut ix.timecode_rate,
            ["SPEED", "TIMECODE_FLAG"] => &mut ix.timecode_flag,
            ["SPEED", "FILE_SAMPLE_RATE"] => &mut ix.file_sample_rate,
            ["SPEED", "TIMESTAMP_SAMPLE_RATE"] => &mut ix.timestamp_sample_rate,
            ["SPEED", "TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI"] => {
                hi = value.trim().parse().ok();
                return;
            }
            ["SPEED", "TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO"] => {
                lo = value.trim().parse().ok();
                return;
            }
            ["TRACK_LIST", "TRACK", "NAME"] => {
                if ix.tracks.len() < MAX_TRACKS {
                    ix.tracks.push(value);
                }
                return;
            }
            _ => return,
        };
        if slot.is_none() && !value.is_empty() {
            *slot = Some(value);
        }
    });
    if let (Some(h), Some(l)) = (hi, lo)
        && h <= u64::from(u32::MAX)
        && l <= u64::from(u32::MAX)
    {
        ix.timestamp_samples_since_midnight = Some((h << 32) | l);
    }
    let mut findings = Vec::new();
    match result {
        Ok(root) if root == "BWFXML" => ix.well_formed = true,
        Ok(root) => findings.push(Finding::warning(
            Code::IxmlMalformed,
            format!("the iXML root element is <{root}>, expected <BWFXML>"),
        )),
        Err(why) => findings.push(Finding::warning(
            Code::IxmlMalformed,
            format!("the iXML chunk is not well-formed XML: {why}"),
        )),
    }
    (ix, findings)
}

fn cue_entry(cues: &mut Vec<Cue>, id: u32) -> Option<&mut Cue> {
    let index = match cues.iter().position(|c| c.id == id) {
        Some(i) => i,
        None if cues.len() < MAX_CUES => {
            cues.push(Cue {
                id,
                ..Cue::default()
            });
            cues.len() - 1
        }
        None => return None,
    };
    cues.get_mut(index)
}

/// Parses a `LIST` chunk payload: `INFO` entries and `adtl` labels and notes.
pub fn parse_list(buf: &[u8], info: &mut Vec<InfoEntry>, cues: &mut Vec<Cue>) {
    let form = buf.get(0..4).unwrap_or_default();
    let mut at = 4usize;
    while let (Some(id), Some(size)) = (buf.get(at..at + 4), le32(buf, at + 4)) {
        let body = at + 8;
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        let end = body.saturating_add(size).min(buf.len());
        let payload = buf.get(body..end).unwrap_or_default();
        match form {
            b"INFO" if info.len() < MAX_INFO_ENTRIES => {
                let (text, _) = fixed_text(payload);
                info.push(InfoEntry {
                    id: id_text(id),
                    text,
                });
            }
            b"adtl" if id == b"labl" || id == b"note" => {
                if let Some(cue_id) = le32(payload, 0) {
                    let (text, _) = fixed_text(payload.get(4..).unwrap_or_default());
                    if let Some(cue) = cue_entry(cues, cue_id) {
                        if id == b"labl" {
                            cue.label = Some(text);
                        } else {
                            cue.note = Some(text);
                        }
                    }
                }
            }
            _ => {}
        }
        let Some(next) = body.checked_add(size).and_then(|n| n.checked_add(size % 2)) else {
            break;
        };
        at = next;
    }
}

/// Parses a `cue ` chunk payload.
pub fn parse_cue(buf: &[u8], cues: &mut Vec<Cue>) {
    let count = le32(buf, 0).map_or(0, |n| usize::try_from(n).unwrap_or(usize::MAX));
    for i in 0..count.min(MAX_CUES) {
        let at = 4 + 24 * i;
        let (Some(id), Some(offset)) = (le32(buf, at), le32(buf, at + 20)) else {
            break;
        };
        if let Some(cue) = cue_entry(cues, id) {
            cue.position = Some(offset);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_walk_collects_leaves() {
        let doc = "<?xml version=\"1.0\"?><!-- c --><BWFXML><PROJECT>Moments &amp; More</PROJECT>\
                   <SPEED><TIMECODE_RATE>24000/1001</TIMECODE_RATE><TIMECODE_FLAG>NDF</TIMECODE_FLAG>\
                   <TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI>0</TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_HI>\
                   <TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO>172972800</TIMESTAMP_SAMPLES_SINCE_MIDNIGHT_LO></SPEED>\
                   <TRACK_LIST><TRACK><NAME>Boom</NAME></TRACK><TRACK><NAME><![CDATA[Lav <1>]]></NAME></TRACK></TRACK_LIST>\
                   <EMPTY/></BWFXML>   ";
        let (ix, findings) = parse_ixml(doc.as_bytes());
        assert!(findings.is_empty(), "{findings:?}");
        assert!(ix.well_formed);
        assert_eq!(ix.project.as_deref(), Some("Moments & More"));
        assert_eq!(ix.timecode_rate.as_deref(), Some("24000/1001"));
        assert_eq!(ix.timestamp_samples_since_midnight, Some(172_972_800));
        assert_eq!(ix.tracks, vec!["Boom".to_string(), "Lav <1>".to_string()]);
    }

    #[test]
    fn xml_faults_are_warnings() {
        for doc in [
            "<BWFXML><A></B></BWFXML>",
            "<BWFXML><A>",
            "<BWFXML></BWFXML><X/>",
            "<BWFXML attr=\"x>",
            "",
        ] {
            let (ix, findings) = parse_ixml(doc.as_bytes());
            assert!(!ix.well_formed, "{doc}");
            assert_eq!(findings.len(), 1, "{doc}");
        }
        let (_, findings) = parse_ixml(b"<OTHER/>");
        assert!(findings.iter().any(|f| f.message.contains("OTHER")));
    }

    #[test]
    fn entities() {
        assert_eq!(unescape("a&lt;b&#65;&#x42;&bogus;&"), "a<bAB&bogus;&");
    }

    #[test]
    fn utf16_ixml() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "<BWFXML><SCENE>12</SCENE></BWFXML>".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let (ix, findings) = parse_ixml(&bytes);
        assert!(findings.is_empty());
        assert_eq!(ix.scene.as_deref(), Some("12"));
    }
}
