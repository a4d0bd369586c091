//! Keyword search over messages: the query language people type, the folded "index text" both
//! storage backends match against, and highlighting.
//!
//! # What matches what
//!
//! Text is folded before matching: lower-cased, Latin diacritics removed (`Peña` → `pena`),
//! full-width ASCII made ASCII, and cut into *tokens* — maximal runs of letters and digits.
//! The **index text** of a message is its tokens joined by single spaces, with a space before
//! and after (`" hola pena "`). A search term is folded the same way and then matches:
//!
//! * Latin, Cyrillic, … (anything without CJK): whole tokens, in order — the index text
//!   contains `" tok1 tok2 "`. So `pena` finds "Peña" but not "Peñarol".
//! * Japanese, Chinese, Korean: a substring — these scripts do not separate words with spaces,
//!   so `スケジュール` must be found inside "スケジュールを確認".
//!
//! Both stores evaluate exactly this rule (a `LIKE` on the stored index text); their full-text
//! indexes only narrow the candidates, which keeps the result *sets* identical on SQLite and
//! PostgreSQL. [`highlight`] marks the same matches in the original text.

use crate::channels::ChannelKind;
use crate::values::{LanguageTag, ValueError};
use std::ops::Range;
use time::{Date, Duration, OffsetDateTime, Time};

/// One `in:` filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChannelFilter {
    Broadcast,
    Internal,
    /// Vendor channels of this language (of every partner the searcher may read).
    Language(LanguageTag),
}

/// A parsed search box.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// Plain words, as typed; every one must match.
    pub words: Vec<String>,
    /// `"exact phrases"`, as typed; every one must match.
    pub phrases: Vec<String>,
    /// `-word` or `-"phrase"`: no result contains any of them.
    pub excluded: Vec<String>,
    /// `from:` values: a fragment of an author's name or e-mail address (any of them).
    pub from: Vec<String>,
    /// `in:` values: results come from a channel of one of these kinds (any of them). A vendor
    /// channel filter without a region (`in:es`) matches every region (`es-ES`, `es-419`).
    pub channels: Vec<ChannelFilter>,
    /// Only messages created at or after this instant (from `after:` and `on:`).
    pub since: Option<OffsetDateTime>,
    /// Only messages created before this instant (from `before:` and `on:`).
    pub until: Option<OffsetDateTime>,
    /// `has:attachment`.
    pub has_attachment: bool,
}

/// The longest search, in characters (a word longer than a message's whole text cannot match
/// anything anyway; the databases refuse very long patterns).
pub const MAX_QUERY_CHARS: usize = 500;
/// The most words, phrases and filters one search may combine (each is a condition in the
/// database query).
pub const MAX_QUERY_PARTS: usize = 32;

impl SearchQuery {
    /// Parses what someone typed into the search box.
    ///
    /// Words separated by spaces must all match; `"…"` is an exact phrase; `-word` or
    /// `-"phrase"` excludes; `from:NAME` (quotes allowed: `from:"Marta Ruiz"`), `in:CHANNEL`
    /// (`broadcast`, `internal` or a language such as `es-ES`), `before:`, `after:` and `on:`
    /// with a date `YYYY-MM-DD` in UTC (before and after exclude the day itself; on is the whole
    /// day), and `has:attachment`. Unknown `key:value` pairs are searched as words.
    /// Whether `input` holds anything to search for: a word, a phrase or a filter. Without one,
    /// [`SearchQuery::parse`] refuses it.
    pub fn has_terms(input: &str) -> bool {
        Self::read(input).map_or(true, |q| !q.is_empty())
    }

    pub fn parse(input: &str) -> Result<SearchQuery, ValueError> {
        let q = Self::read(input)?;
        if q.is_empty() {
            return Err(ValueError::new(
                "type a word to search for, or a filter such as from:, in:, before: or on:",
            ));
        }
        if let (Some(since), Some(until)) = (q.since, q.until)
            && since >= until
        {
            return Err(ValueError::new(
                "the dates leave no time to search in: after: must be earlier than before:",
            ));
        }
        Ok(q)
    }

    /// The parts of `input`, refusing malformed filters and oversized queries; possibly empty.
    fn read(input: &str) -> Result<SearchQuery, ValueError> {
        let length = input.chars().count();
        if length > MAX_QUERY_CHARS {
            return Err(ValueError::new(format!(
                "a search may be at most {MAX_QUERY_CHARS} characters long (this one has {length}); search for fewer words"
            )));
        }
        let parts = split_parts(input);
        if parts.len() > MAX_QUERY_PARTS {
            return Err(ValueError::new(format!(
                "a search may have at most {MAX_QUERY_PARTS} words, phrases and filters (this one has {}); leave some out",
                parts.len()
            )));
        }
        let mut q = SearchQuery::default();
        for part in parts {
            match part {
                Part::Phrase { text, negated } => {
                    if tokens(&text).is_empty() {
                        continue;
                    }
                    if negated {
                        q.excluded.push(text);
                    } else {
                        q.phrases.push(text);
                    }
                }
                Part::Word { text, negated } => {
                    if let Some((key, value)) = text.split_once(':')
                        && !negated
                        && q.apply_filter(key, value)?
                    {
                        continue;
                    }
                    if tokens(&text).is_empty() {
                        continue;
                    }
                    if negated {
                        q.excluded.push(text);
                    } else {
                        q.words.push(text);
                    }
                }
                Part::Filter { key, value } => {
                    if !q.apply_filter(&key, &value)? {
                        // `unknown:"quoted"`: search it as a phrase.
                        let text = format!("{key} {value}");
                        if !tokens(&text).is_empty() {
                            q.phrases.push(text);
                        }
                    }
                }
            }
        }
        Ok(q)
    }

    /// Nothing to search for and no filter.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
            && self.phrases.is_empty()
            && self.excluded.is_empty()
            && self.from.is_empty()
            && self.channels.is_empty()
            && self.since.is_none()
            && self.until.is_none()
            && !self.has_attachment
    }

    /// Whether a channel of this kind passes the `in:` filters (all pass without one).
    pub fn wants_channel(&self, kind: &ChannelKind) -> bool {
        self.channels.is_empty()
            || self.channels.iter().any(|wanted| match (wanted, kind) {
                (ChannelFilter::Language(w), ChannelKind::Vendor(k, _)) => {
                    w == k || (!w.as_str().contains('-') && w.primary() == k.primary())
                }
                (ChannelFilter::Broadcast, ChannelKind::Broadcast)
                | (ChannelFilter::Internal, ChannelKind::Internal) => true,
                _ => false,
            })
    }

    /// Applies `key:value`; `false` when `key` is not a filter (the text is then a word).
    fn apply_filter(&mut self, key: &str, value: &str) -> Result<bool, ValueError> {
        let key = key.to_ascii_lowercase();
        let value = value.trim();
        match key.as_str() {
            "from" => {
                if value.is_empty() {
                    return Err(ValueError::new(
                        "from: needs a name or an e-mail address, like from:marta",
                    ));
                }
                self.from.push(value.to_string());
            }
            "in" => {
                let kind = match value.to_ascii_lowercase().as_str() {
                    "broadcast" => ChannelFilter::Broadcast,
                    "internal" => ChannelFilter::Internal,
                    _ => ChannelFilter::Language(LanguageTag::parse(value).map_err(|_| {
                        ValueError::new(format!(
                            "in: needs broadcast, internal or a language like es-ES (not {value:?})"
                        ))
                    })?),
                };
                if !self.channels.contains(&kind) {
                    self.channels.push(kind);
                }
            }
            "before" => {
                let day = date("before", value)?;
                self.narrow(None, Some(start_of(day)));
            }
            "after" => {
                let day = date("after", value)?;
                self.narrow(Some(day_after("after", day)?), None);
            }
            "on" => {
                let day = date("on", value)?;
                self.narrow(Some(start_of(day)), Some(day_after("on", day)?));
            }
            "has" => {
                if !value.eq_ignore_ascii_case("attachment") {
                    return Err(ValueError::new(format!(
                        "has: supports only has:attachment (not has:{value})"
                    )));
                }
                self.has_attachment = true;
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn narrow(&mut self, since: Option<OffsetDateTime>, until: Option<OffsetDateTime>) {
        if let Some(s) = since {
            self.since = Some(self.since.map_or(s, |old| old.max(s)));
        }
        if let Some(u) = until {
            self.until = Some(self.until.map_or(u, |old| old.min(u)));
        }
    }

    /// The words, phrases and exclusions as store patterns (see the module docs), leaving out
    /// those without a letter or digit.
    pub fn patterns(&self) -> (Vec<Pattern>, Vec<Pattern>) {
        let positive = self
            .words
            .iter()
            .chain(&self.phrases)
            .filter_map(|t| Pattern::new(t))
            .collect();
        let negative = self
            .excluded
            .iter()
            .filter_map(|t| Pattern::new(t))
            .collect();
        (positive, negative)
    }
}

fn date(key: &str, value: &str) -> Result<Date, ValueError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(value, &format).map_err(|_| {
        if value.is_empty() {
            ValueError::new(format!("{key}: needs a date like 2026-11-24"))
        } else {
            ValueError::new(format!(
                "{key}: needs a date like 2026-11-24 (not {value:?})"
            ))
        }
    })
}

/// The start of the day after `day`; the last day the calendar knows has none.
fn day_after(key: &str, day: Date) -> Result<OffsetDateTime, ValueError> {
    start_of(day).checked_add(Duration::DAY).ok_or_else(|| {
        ValueError::new(format!(
            "{key}: {day} is the last day there is; choose an earlier date"
        ))
    })
}

fn start_of(day: Date) -> OffsetDateTime {
    day.with_time(Time::MIDNIGHT).assume_utc()
}

/// One piece of the search box.
#[derive(Debug, PartialEq, Eq)]
enum Part {
    Word {
        text: String,
        negated: bool,
    },
    Phrase {
        text: String,
        negated: bool,
    },
    /// `key:"quoted value"`.
    Filter {
        key: String,
        value: String,
    },
}

/// Splits the search box at spaces outside quotes. An unclosed quote runs to the end.
fn split_parts(input: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut chars = input.chars().peekable();
    loop {
        while chars.next_if(|c| c.is_whitespace()).is_some() {}
        let Some(&first) = chars.peek() else {
            break;
        };
        let negated = first == '-';
        if negated {
            chars.next();
        }
        if chars.next_if_eq(&'"').is_some() {
            let text: String = chars.by_ref().take_while(|&c| c != '"').collect();
            parts.push(Part::Phrase {
                text: text.trim().to_string(),
                negated,
            });
            continue;
        }
        let mut text = String::new();
        while let Some(c) = chars.next_if(|c| !c.is_whitespace()) {
            if c == '"' && text.ends_with(':') && !negated {
                let value: String = chars.by_ref().take_while(|&c| c != '"').collect();
                text.pop();
                parts.push(Part::Filter {
                    key: std::mem::take(&mut text),
                    value,
                });
                break;
            }
            text.push(c);
        }
        if !text.is_empty() {
            parts.push(Part::Word { text, negated });
        } else if negated {
            // A lone "-" is nothing.
        }
    }
    parts
}

// ---------------------------------------------------------------------------------------------
// Folding and index text

/// Japanese, Chinese and Korean characters: scripts searched by substring.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x11FF       // Hangul Jamo
        | 0x2E80..=0x2FDF     // CJK radicals
        | 0x3040..=0x30FF     // Hiragana, Katakana
        | 0x3100..=0x312F     // Bopomofo
        | 0x3130..=0x318F     // Hangul compatibility Jamo
        | 0x31F0..=0x31FF     // Katakana phonetic extensions
        | 0x3400..=0x4DBF     // CJK extension A
        | 0x4E00..=0x9FFF     // CJK unified ideographs
        | 0xA960..=0xA97F     // Hangul Jamo extended A
        | 0xAC00..=0xD7FF     // Hangul syllables, Jamo extended B
        | 0xF900..=0xFAFF     // CJK compatibility ideographs
        | 0xFF66..=0xFF9F     // half-width Katakana
        | 0xFFA0..=0xFFDC     // half-width Hangul
        | 0x20000..=0x3FFFF   // CJK extensions B and later
    )
}

/// Latin-1 Supplement U+00C0..=U+00FF without diacritics; `-` keeps the character.
const LATIN_1: &[u8; 64] = b"aaaaaa-ceeeeiiiidnooooo-ouuuuy--aaaaaa-ceeeeiiiidnooooo-ouuuuy-y";
/// Latin Extended-A U+0100..=U+017F without diacritics; `-` keeps the character.
const LATIN_EXT_A: &[u8; 128] = b"aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii--jjkkkllllllllllnnnnnnnnnoooooo--rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";

/// The letter without its diacritic, for the Latin letters that have one.
fn base_letter(c: char) -> Option<char> {
    let n = c as u32;
    let from_table = |table: &[u8], start: u32| {
        let b = *table.get(usize::try_from(n - start).ok()?)?;
        (b != b'-').then_some(char::from(b))
    };
    match n {
        0xC0..=0xFF => from_table(LATIN_1, 0xC0),
        0x100..=0x17F => from_table(LATIN_EXT_A, 0x100),
        0x1A0 | 0x1A1 | 0x1D1 | 0x1D2 => Some('o'),
        0x1AF | 0x1B0 | 0x1D3..=0x1DC => Some('u'),
        0x1CD | 0x1CE => Some('a'),
        0x1CF | 0x1D0 => Some('i'),
        0x192 => Some('f'),
        0x218 | 0x219 => Some('s'),
        0x21A | 0x21B => Some('t'),
        // Vietnamese (Latin Extended Additional).
        0x1EA0..=0x1EB7 => Some('a'),
        0x1EB8..=0x1EC7 => Some('e'),
        0x1EC8..=0x1ECB => Some('i'),
        0x1ECC..=0x1EE3 => Some('o'),
        0x1EE4..=0x1EF1 => Some('u'),
        0x1EF2..=0x1EF9 => Some('y'),
        _ => None,
    }
}

/// Appends the folded form of `c`: lower case, without Latin diacritics, full-width ASCII as
/// ASCII. Combining marks (U+0300..U+036F) fold to nothing.
fn fold_char(c: char, out: &mut Vec<char>) {
    let n = c as u32;
    if (0x300..=0x36F).contains(&n) {
        return;
    }
    let c = if (0xFF01..=0xFF5E).contains(&n) {
        char::from_u32(n - 0xFEE0).unwrap_or(c)
    } else {
        c
    };
    for l in c.to_lowercase() {
        // Lower-casing "İ" adds a combining dot.
        if (0x300..=0x36F).contains(&(l as u32)) {
            continue;
        }
        out.push(base_letter(l).unwrap_or(l));
    }
}

/// Lower-cases and removes Latin diacritics: "Peña Ñandú" → "pena nandu".
pub fn fold(s: &str) -> String {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        fold_char(c, &mut out);
    }
    out.into_iter().collect()
}

/// The folded characters of `s` with the byte range of the original character each came from,
/// as index text (tokens separated by one space, with a space at both ends). A separator's range
/// is empty.
fn index_chars(s: &str) -> Vec<(char, Range<usize>)> {
    let mut out: Vec<(char, Range<usize>)> = vec![(' ', 0..0)];
    let mut folded = Vec::with_capacity(4);
    for (i, c) in s.char_indices() {
        let range = i..i + c.len_utf8();
        folded.clear();
        fold_char(c, &mut folded);
        if folded.is_empty() {
            // A combining mark belongs to the letter before it.
            if let Some((ch, r)) = out.last_mut()
                && *ch != ' '
            {
                r.end = range.end;
            }
            continue;
        }
        for &f in &folded {
            if f.is_alphanumeric() {
                out.push((f, range.clone()));
            } else if out.last().is_some_and(|(ch, _)| *ch != ' ') {
                out.push((' ', range.end..range.end));
            }
        }
    }
    if out.last().is_some_and(|(ch, _)| *ch != ' ') {
        out.push((' ', s.len()..s.len()));
    }
    out
}

/// What the stores keep for matching a message body: `" tok1 tok2 … "` (see the module docs).
/// An empty body gives `" "`.
pub fn index_text(body: &str) -> String {
    index_chars(body).into_iter().map(|(c, _)| c).collect()
}

/// The folded tokens of `s`.
pub fn tokens(s: &str) -> Vec<String> {
    index_text(s)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// How one word or phrase is matched against index text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pattern {
    /// The folded tokens.
    pub tokens: Vec<String>,
    /// What the index text must contain: `" tok1 tok2 "` for whole tokens, `"tok1 tok2"` for
    /// CJK substrings. Only letters, digits and spaces, so it needs no escaping in `LIKE`.
    pub needle: String,
    /// Matched as a substring (the term contains CJK) rather than as whole tokens.
    pub substring: bool,
}

impl Pattern {
    /// `None` when the text has no letter or digit.
    pub fn new(text: &str) -> Option<Pattern> {
        let tokens = tokens(text);
        if tokens.is_empty() {
            return None;
        }
        let joined = tokens.join(" ");
        let substring = joined.chars().any(is_cjk);
        let needle = if substring {
            joined
        } else {
            format!(" {joined} ")
        };
        Some(Pattern {
            tokens,
            needle,
            substring,
        })
    }

    /// Every token is plain ASCII letters `a`–`z` (at most 64): a full-text word index built
    /// on index text finds all its matches, whatever its tokenizer does with other scripts.
    pub fn is_plain_words(&self) -> bool {
        !self.substring
            && self
                .tokens
                .iter()
                .all(|t| t.len() <= 64 && t.bytes().all(|b| b.is_ascii_lowercase()))
    }

    /// `LIKE` pattern for the index text.
    pub fn like(&self) -> String {
        format!("%{}%", self.needle)
    }

    /// Whether an index text (from [`index_text`]) matches.
    pub fn matches(&self, index_text: &str) -> bool {
        index_text.contains(&self.needle)
    }
}

/// Cuts `body` into segments, `true` for the parts that match a word or phrase of `query`
/// (folded as the stores fold, so "pena" marks "Peña" and "スケジュール" marks itself inside a
/// Japanese sentence). Concatenating the segments gives `body` back.
pub fn highlight(body: &str, query: &SearchQuery) -> Vec<(String, bool)> {
    let (patterns, _) = query.patterns();
    let chars = index_chars(body);
    let text: Vec<char> = chars.iter().map(|(c, _)| *c).collect();
    let mut marked: Vec<Range<usize>> = Vec::new();
    for p in &patterns {
        let needle: Vec<char> = p.needle.chars().collect();
        // The padding spaces bound the match; they are not part of it.
        let (skip_front, skip_back) = if p.substring { (0, 0) } else { (1, 1) };
        if needle.len() <= skip_front + skip_back || needle.len() > text.len() {
            continue;
        }
        let mut i = 0;
        while i + needle.len() <= text.len() {
            if text.get(i..i + needle.len()) == Some(&needle[..]) {
                let first = chars.get(i + skip_front).map(|(_, r)| r.start);
                let last = chars
                    .get(i + needle.len() - 1 - skip_back)
                    .map(|(_, r)| r.end);
                if let (Some(start), Some(end)) = (first, last) {
                    marked.push(start..end);
                }
                // Whole-token matches may share their boundary space with the next one.
                i += (needle.len() - skip_back).max(1);
            } else {
                i += 1;
            }
        }
    }
    marked.sort_by_key(|r| (r.start, r.end));
    let mut merged: Vec<Range<usize>> = Vec::new();
    for r in marked {
        match merged.last_mut() {
            Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
            _ => merged.push(r),
        }
    }
    let mut segments = Vec::new();
    let mut at = 0;
    for r in merged {
        if let Some(plain) = body.get(at..r.start)
            && !plain.is_empty()
        {
            segments.push((plain.to_string(), false));
        }
        if let Some(hit) = body.get(r.start..r.end) {
            segments.push((hit.to_string(), true));
        }
        at = r.end;
    }
    if let Some(rest) = body.get(at..)
        && !rest.is_empty()
    {
        segments.push((rest.to_string(), false));
    }
    segments
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn q(s: &str) -> SearchQuery {
        SearchQuery::parse(s).unwrap()
    }

    fn err(s: &str) -> String {
        SearchQuery::parse(s).unwrap_err().0
    }

    fn marks(body: &str, query: &str) -> Vec<String> {
        highlight(body, &q(query))
            .into_iter()
            .filter(|(_, hit)| *hit)
            .map(|(s, _)| s)
            .collect()
    }

    #[test]
    fn has_terms_agrees_with_parse() {
        for (input, terms) in [
            ("trailer", true),
            ("-trailer", true),
            ("from:marta", true),
            ("\"mix notes\"", true),
            ("!!! ?", false),
            (" ", false),
            ("\u{17}", false),
            ("\"\"", false),
        ] {
            assert_eq!(SearchQuery::has_terms(input), terms, "{input:?}");
            assert_eq!(SearchQuery::parse(input).is_ok(), terms, "{input:?}");
        }
        // A malformed filter is a term: parse says what is wrong with it.
        assert!(SearchQuery::has_terms("has:pictures"));
        assert!(SearchQuery::parse("has:pictures").is_err());
    }

    #[test]
    fn parses_words_phrases_exclusions_and_filters() {
        let query = q(
            r#"mix "final premix" -draft -"old take" from:marta from:"Marta Ruiz" in:es-ES in:broadcast has:attachment"#,
        );
        assert_eq!(query.words, vec!["mix"]);
        assert_eq!(query.phrases, vec!["final premix"]);
        assert_eq!(query.excluded, vec!["draft", "old take"]);
        assert_eq!(query.from, vec!["marta", "Marta Ruiz"]);
        assert_eq!(
            query.channels,
            vec![
                ChannelFilter::Language(LanguageTag::parse("es-ES").unwrap()),
                ChannelFilter::Broadcast
            ]
        );
        assert!(query.has_attachment);
        assert_eq!(q("in:Internal").channels, vec![ChannelFilter::Internal]);
    }

    #[test]
    fn dates_are_utc_days_with_exclusive_before_and_after() {
        let query = q("after:2026-11-20 before:2026-11-24");
        assert_eq!(query.since, Some(datetime!(2026-11-21 00:00 UTC)));
        assert_eq!(query.until, Some(datetime!(2026-11-24 00:00 UTC)));
        let on = q("on:2026-02-28");
        assert_eq!(on.since, Some(datetime!(2026-02-28 00:00 UTC)));
        assert_eq!(on.until, Some(datetime!(2026-03-01 00:00 UTC)));
        // The narrowest range wins.
        let both = q("on:2026-11-22 after:2026-11-01 before:2026-12-01");
        assert_eq!(both.since, Some(datetime!(2026-11-22 00:00 UTC)));
        assert_eq!(both.until, Some(datetime!(2026-11-23 00:00 UTC)));
    }

    #[test]
    fn bad_input_says_what_is_expected() {
        assert_eq!(
            err("before:yesterday"),
            r#"before: needs a date like 2026-11-24 (not "yesterday")"#
        );
        assert_eq!(err("on:"), "on: needs a date like 2026-11-24");
        assert!(err("after:2026-13-01").starts_with("after: needs a date"));
        assert!(
            err("in:mars-and-venus-x").starts_with("in: needs broadcast, internal or a language")
        );
        assert!(err("has:link").contains("has:attachment"));
        // The calendar's last day has no day after it.
        assert_eq!(
            err("after:9999-12-31"),
            "after: 9999-12-31 is the last day there is; choose an earlier date"
        );
        assert!(err("on:9999-12-31").starts_with("on: 9999-12-31 is the last day"));
        assert!(SearchQuery::parse("before:9999-12-31").is_ok());
        // Oversized searches are refused before any database sees them.
        let many = vec!["mix"; MAX_QUERY_PARTS + 1].join(" ");
        assert!(err(&many).starts_with("a search may have at most 32 words"));
        assert!(SearchQuery::parse(&vec!["mix"; MAX_QUERY_PARTS].join(" ")).is_ok());
        let long = "a".repeat(MAX_QUERY_CHARS + 1);
        assert!(err(&long).starts_with("a search may be at most 500 characters"));
        assert!(SearchQuery::parse(&"a".repeat(MAX_QUERY_CHARS)).is_ok());
        assert!(err("from:").starts_with("from: needs a name"));
        assert!(err("from:\"\"").starts_with("from: needs a name"));
        assert!(err("   ").starts_with("type a word"));
        assert!(err("-- !!").starts_with("type a word"));
        assert!(err("after:2026-11-24 before:2026-11-25").contains("no time"));
    }

    #[test]
    fn odd_input_is_searched_as_words() {
        let query = q(r#"ratio:2.39 "unclosed phrase"#);
        assert_eq!(query.words, vec!["ratio:2.39"]);
        assert_eq!(query.phrases, vec!["unclosed phrase"]);
        assert_eq!(q("- mix").words, vec!["mix"]);
        assert_eq!(q("-from:marta").excluded, vec!["from:marta"]);
    }

    #[test]
    fn in_filter_matches_kinds_and_languages() {
        let p = crate::ids::OrgId::new();
        let es_es = ChannelKind::Vendor(LanguageTag::parse("es-ES").unwrap(), p);
        let es_419 = ChannelKind::Vendor(LanguageTag::parse("es-419").unwrap(), p);
        let ja = ChannelKind::Vendor(LanguageTag::parse("ja").unwrap(), p);
        assert!(q("mix").wants_channel(&ChannelKind::Internal));
        let spanish = q("in:es");
        assert!(spanish.wants_channel(&es_es) && spanish.wants_channel(&es_419));
        assert!(!spanish.wants_channel(&ja) && !spanish.wants_channel(&ChannelKind::Broadcast));
        let spain = q("in:es-ES");
        assert!(spain.wants_channel(&es_es) && !spain.wants_channel(&es_419));
    }

    #[test]
    fn folding_and_index_text() {
        assert_eq!(
            fold("Peña ÑANDÚ Łódź Straße Việt"),
            "pena nandu lodz straße viet"
        );
        // Decomposed accents and full-width letters.
        assert_eq!(index_text("Pen\u{0303}a ＡＢＣ"), " pena abc ");
        assert_eq!(index_text("e-mail: foo@bar.com!"), " e mail foo bar com ");
        assert_eq!(
            index_text("スケジュールを確認。明日"),
            " スケジュールを確認 明日 "
        );
        assert_eq!(index_text(""), " ");
        assert_eq!(tokens("¿Qué tal?"), vec!["que", "tal"]);
    }

    #[test]
    fn patterns_are_whole_tokens_or_cjk_substrings() {
        let p = Pattern::new("Peña").unwrap();
        assert_eq!(p.needle, " pena ");
        assert!(p.is_plain_words());
        assert!(p.matches(&index_text("Llamar a la Sra. PENA mañana")));
        assert!(!p.matches(&index_text("Peñarol")));
        let ja = Pattern::new("スケジュール").unwrap();
        assert!(ja.substring && !ja.is_plain_words());
        assert!(ja.matches(&index_text("来週のスケジュールを確認してください")));
        let zh = Pattern::new("配音").unwrap();
        assert!(zh.matches(&index_text("请确认西班牙语配音的交付日期")));
        let ko = Pattern::new("일정").unwrap();
        assert!(ko.matches(&index_text("녹음 일정을 확인해 주세요")));
        assert!(!Pattern::new("2.0").unwrap().is_plain_words());
        assert!(Pattern::new("...").is_none());
    }

    #[test]
    fn highlights_words_phrases_diacritics_and_cjk() {
        assert_eq!(
            highlight("Ask Peña about the premix", &q("pena")),
            vec![
                ("Ask ".to_string(), false),
                ("Peña".to_string(), true),
                (" about the premix".to_string(), false)
            ]
        );
        assert_eq!(
            marks("Résumé: the final premix, final", "resume \"final premix\""),
            vec!["Résumé", "final premix"]
        );
        assert_eq!(
            marks("Café CAFE cafe", "café"),
            vec!["Café", "CAFE", "cafe"]
        );
        // Not inside longer words.
        assert!(marks("Peñarol premixes", "pena premix").is_empty());
        assert_eq!(
            marks("来週のスケジュールを確認してください", "スケジュール"),
            vec!["スケジュール"]
        );
        assert_eq!(marks("请确认西班牙语配音的交付日期", "配音"), vec!["配音"]);
        assert_eq!(marks("녹음 일정을 확인해 주세요", "일정"), vec!["일정"]);
        // Decomposed accent stays with its letter; excluded words are not marked.
        assert_eq!(
            marks("Pen\u{0303}a said no", "pena -no"),
            vec!["Pen\u{0303}a"]
        );
    }

    #[test]
    fn highlight_segments_rebuild_the_body() {
        for (body, query) in [
            ("mix mix mix", "mix"),
            ("", "mix"),
            ("Ünïcödé ñ 日本語のテキスト 한국어 mix", "unicode 日本 mix"),
            ("overlap ab abab", "ab \"ab ab\""),
        ] {
            let segments = highlight(body, &q(query));
            let rebuilt: String = segments.iter().map(|(s, _)| s.as_str()).collect();
            assert_eq!(rebuilt, body);
            assert!(segments.iter().all(|(s, _)| !s.is_empty()));
        }
        assert_eq!(marks("mix mix mix", "mix").len(), 3);
    }
}
