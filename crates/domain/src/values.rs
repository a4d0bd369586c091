//! Validated values. Each `parse` either returns a value that is correct by construction or an
//! error that says what is wrong and how to fix it, in words a user can act on.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a value was refused. The message is written for the person who typed it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub String);

impl ValueError {
    pub fn new(msg: impl Into<String>) -> Self {
        Self(msg.into())
    }
}

/// An e-mail address, trimmed and lower-cased (addresses are compared case-insensitively here).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = input.trim().to_lowercase();
        if s.is_empty() {
            return Err(ValueError::new("enter an e-mail address"));
        }
        if s.len() > 254 {
            return Err(ValueError::new(
                "an e-mail address has at most 254 characters",
            ));
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return Err(ValueError::new(format!(
                "{s:?} is not an e-mail address: it needs an @, as in name@studio.com"
            )));
        };
        if local.is_empty() || domain.is_empty() || local.contains('@') {
            return Err(ValueError::new(format!(
                "{s:?} is not an e-mail address: use the form name@studio.com"
            )));
        }
        if s.chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>')
        {
            return Err(ValueError::new(
                "an e-mail address cannot contain spaces or angle brackets",
            ));
        }
        let labels_ok = domain
            .split('.')
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
        if !labels_ok {
            return Err(ValueError::new(format!(
                "{domain:?} is not a valid mail domain"
            )));
        }
        Ok(Self(s))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Email {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Email> for String {
    fn from(e: Email) -> Self {
        e.0
    }
}

/// A human-facing name (organisation, person, project): trimmed, 1–200 characters, no control
/// characters, inner runs of whitespace collapsed.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);

impl Name {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let collapsed = input.split_whitespace().collect::<Vec<_>>().join(" ");
        if collapsed.is_empty() {
            return Err(ValueError::new("enter a name"));
        }
        // Counted as typed (spaces included), so the limit is what a form or schema can say.
        if input.chars().count() > Self::MAX_CHARS {
            return Err(ValueError::new(format!(
                "a name has at most {} characters",
                Self::MAX_CHARS
            )));
        }
        if collapsed.chars().any(char::is_control) {
            return Err(ValueError::new("a name cannot contain control characters"));
        }
        if collapsed.chars().any(is_bidi_control) {
            return Err(ValueError::new(
                "a name cannot contain right-to-left or left-to-right override characters (they make text look like something else); retype it without them",
            ));
        }
        Ok(Self(collapsed))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Name {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Name> for String {
    fn from(n: Name) -> Self {
        n.0
    }
}

/// A title's numeric movie ID (the studio's catalogue number). Positive, at most 12 digits so it
/// fits every database integer and every JSON number exactly.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct MovieId(i64);

impl MovieId {
    pub const MAX: i64 = 999_999_999_999;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(ValueError::new(
                "enter the movie ID (digits only, e.g. 81234567)",
            ));
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ValueError::new(format!(
                "{s:?} is not a movie ID: use digits only, e.g. 81234567"
            )));
        }
        if s.len() > 12 {
            return Err(ValueError::new("a movie ID has at most 12 digits"));
        }
        let n: i64 = s
            .parse()
            .map_err(|_| ValueError::new("a movie ID has at most 12 digits"))?;
        Self::new(n)
    }

    pub fn new(n: i64) -> Result<Self, ValueError> {
        if n <= 0 || n > Self::MAX {
            return Err(ValueError::new(
                "a movie ID is a positive number of at most 12 digits",
            ));
        }
        Ok(Self(n))
    }

    pub fn get(&self) -> i64 {
        self.0
    }
}

impl fmt::Display for MovieId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl TryFrom<i64> for MovieId {
    type Error = ValueError;
    fn try_from(n: i64) -> Result<Self, Self::Error> {
        Self::new(n)
    }
}

impl From<MovieId> for i64 {
    fn from(m: MovieId) -> Self {
        m.0
    }
}

/// A BCP 47 language tag (RFC 5646 `langtag` production with a 2–3 letter language; private-use
/// and grandfathered tags are refused because no partner can be assigned to them). Stored in canonical case:
/// language lower, script title, region upper (`es-ES`, `zh-Hans`, `pt-BR`, `sr-Latn-RS`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LanguageTag(String);

impl LanguageTag {
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let raw = input.trim().replace('_', "-");
        if raw.is_empty() {
            return Err(ValueError::new(
                "enter a language tag such as es-ES, pt-BR or ja",
            ));
        }
        let bad = |why: &str| {
            ValueError::new(format!(
                "{raw:?} is not a BCP 47 language tag: {why} (examples: es-ES, pt-BR, ja, zh-Hans)"
            ))
        };
        let subtags: Vec<&str> = raw.split('-').collect();
        if subtags.iter().any(|s| s.is_empty() || s.len() > 8) {
            return Err(bad(
                "each part is 1 to 8 letters or digits, separated by '-'",
            ));
        }
        if subtags
            .iter()
            .any(|s| !s.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            return Err(bad("only letters, digits and '-' are allowed"));
        }
        let mut out: Vec<String> = Vec::with_capacity(subtags.len());
        let mut i = 0;
        let lang = subtags[0];
        // RFC 5646 also reserves 5–8 letter language subtags for registration, but none has
        // ever been registered; accepting them would only let typos such as "english" through.
        if !(2..=3).contains(&lang.len()) || !lang.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Err(bad("it must start with a 2- or 3-letter language code"));
        }
        out.push(lang.to_ascii_lowercase());
        i += 1;
        // extlang: up to three 3-letter subtags after a 2–3 letter language
        let mut extlangs = 0;
        while i < subtags.len()
            && extlangs < 3
            && subtags[i].len() == 3
            && subtags[i].bytes().all(|b| b.is_ascii_alphabetic())
        {
            out.push(subtags[i].to_ascii_lowercase());
            i += 1;
            extlangs += 1;
        }
        if i < subtags.len()
            && subtags[i].len() == 4
            && subtags[i].bytes().all(|b| b.is_ascii_alphabetic())
        {
            let s = subtags[i].to_ascii_lowercase();
            let mut c = s.chars();
            let script: String = c
                .next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default();
            out.push(script);
            i += 1;
        }
        if i < subtags.len() {
            let s = subtags[i];
            let alpha2 = s.len() == 2 && s.bytes().all(|b| b.is_ascii_alphabetic());
            let digit3 = s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit());
            if alpha2 || digit3 {
                out.push(s.to_ascii_uppercase());
                i += 1;
            }
        }
        let mut seen_variants: Vec<String> = Vec::new();
        while i < subtags.len() {
            let s = subtags[i];
            let variant =
                (5..=8).contains(&s.len()) || (s.len() == 4 && s.as_bytes()[0].is_ascii_digit());
            if !variant {
                break;
            }
            let v = s.to_ascii_lowercase();
            if seen_variants.contains(&v) {
                return Err(bad("a variant appears twice"));
            }
            seen_variants.push(v.clone());
            out.push(v);
            i += 1;
        }
        // extensions: singleton (not x) followed by 2–8 char subtags
        let mut seen_singletons: Vec<char> = Vec::new();
        while i < subtags.len() {
            let s = subtags[i];
            if s.len() != 1 {
                return Err(bad(&format!("{s:?} is not in a valid position")));
            }
            let c = s
                .chars()
                .next()
                .map(|c| c.to_ascii_lowercase())
                .unwrap_or('x');
            if c == 'x' {
                return Err(bad("private-use subtags (-x-…) are not accepted"));
            }
            if seen_singletons.contains(&c) {
                return Err(bad("an extension appears twice"));
            }
            seen_singletons.push(c);
            out.push(c.to_string());
            i += 1;
            let start = i;
            while i < subtags.len() && subtags[i].len() >= 2 {
                out.push(subtags[i].to_ascii_lowercase());
                i += 1;
            }
            if i == start {
                return Err(bad("an extension needs at least one subtag after it"));
            }
        }
        Ok(Self(out.join("-")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The primary language subtag (`es` for `es-ES`).
    pub fn primary(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }

    /// An English display name for common tags, falling back to the tag itself.
    pub fn display_name(&self) -> String {
        let base = match self.primary() {
            "ar" => "Arabic",
            "bg" => "Bulgarian",
            "ca" => "Catalan",
            "cs" => "Czech",
            "da" => "Danish",
            "de" => "German",
            "el" => "Greek",
            "en" => "English",
            "es" => "Spanish",
            "fi" => "Finnish",
            "fil" => "Filipino",
            "fr" => "French",
            "he" => "Hebrew",
            "hi" => "Hindi",
            "hr" => "Croatian",
            "hu" => "Hungarian",
            "id" => "Indonesian",
            "it" => "Italian",
            "ja" => "Japanese",
            "ko" => "Korean",
            "ms" => "Malay",
            "nb" | "no" => "Norwegian",
            "nl" => "Dutch",
            "pl" => "Polish",
            "pt" => "Portuguese",
            "ro" => "Romanian",
            "ru" => "Russian",
            "sv" => "Swedish",
            "ta" => "Tamil",
            "te" => "Telugu",
            "th" => "Thai",
            "tr" => "Turkish",
            "uk" => "Ukrainian",
            "vi" => "Vietnamese",
            "zh" => "Chinese",
            _ => return self.0.clone(),
        };
        let qualifier = match self.0.as_str() {
            "es-ES" => Some("Spain"),
            "es-419" => Some("Latin America"),
            "es-MX" => Some("Mexico"),
            "pt-BR" => Some("Brazil"),
            "pt-PT" => Some("Portugal"),
            "fr-CA" => Some("Canada"),
            "fr-FR" => Some("France"),
            "en-GB" => Some("UK"),
            "en-US" => Some("US"),
            "zh-Hans" => Some("Simplified"),
            "zh-Hant" => Some("Traditional"),
            "de-DE" => Some("Germany"),
            "it-IT" => Some("Italy"),
            _ => None,
        };
        match qualifier {
            Some(q) => format!("{base} ({q})"),
            None => base.to_string(),
        }
    }
}

impl fmt::Display for LanguageTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for LanguageTag {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<LanguageTag> for String {
    fn from(l: LanguageTag) -> Self {
        l.0
    }
}

/// The invisible characters that reorder the text around them (embeddings, overrides,
/// isolates): in a name they can make `exe.pdf` read as `fdp.exe`. Right-to-left *letters* are
/// not among them; names in Arabic or Hebrew are fine.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{061C}')
}

/// A new password as typed. Only its rules live here; hashing is the application's job.
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 512;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let n = input.chars().count();
        if n < Self::MIN_CHARS {
            return Err(ValueError::new(format!(
                "a password needs at least {} characters (a short sentence works well)",
                Self::MIN_CHARS
            )));
        }
        if n > Self::MAX_CHARS {
            return Err(ValueError::new(format!(
                "a password has at most {} characters",
                Self::MAX_CHARS
            )));
        }
        Ok(Self(input.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_controls_and_direction_overrides_but_not_rtl_letters() {
        for bad in [
            "Harbour\u{0}Lights",
            "invoice\u{202E}fdp.exe",
            "a\u{2066}b",
            "\u{202D}x",
        ] {
            assert!(Name::parse(bad).is_err(), "{bad:?}");
        }
        let kept = |s: &str| Name::parse(s).map(|n| n.as_str().to_string());
        assert_eq!(kept("مرحبا بالعالم"), Ok("مرحبا بالعالم".to_string()));
        assert_eq!(kept("  שלום  עולם "), Ok("שלום עולם".to_string()));
    }

    #[test]
    fn language_tags_are_validated_and_canonicalised() {
        let ok = [
            ("es-es", "es-ES"),
            ("pt_BR", "pt-BR"),
            ("ja", "ja"),
            ("ZH-hans", "zh-Hans"),
            ("es-419", "es-419"),
            ("sr-latn-rs", "sr-Latn-RS"),
            ("de-CH-1996", "de-CH-1996"),
            ("fil", "fil"),
            ("zh-yue-HK", "zh-yue-HK"),
            ("en-US-u-ca-gregory", "en-US-u-ca-gregory"),
        ];
        for (input, want) in ok {
            assert_eq!(
                LanguageTag::parse(input).map(|t| t.to_string()),
                Ok(want.to_string()),
                "{input}"
            );
        }
        for bad in [
            "",
            "e",
            "english",
            "es--ES",
            "es-ES-",
            "1es",
            "es-ES-x-priv",
            "es ES",
            "es-ÉS",
            "de-1996-1996",
            "en-a",
        ] {
            assert!(
                LanguageTag::parse(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn movie_ids_are_positive_digits() {
        assert_eq!(
            MovieId::parse(" 81234567 ").map(|m| m.get()),
            Ok(81_234_567)
        );
        for bad in ["", "0", "-5", "12a", "1234567890123", "1.5"] {
            assert!(MovieId::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn emails_are_normalised() {
        assert_eq!(
            Email::parse(" Ana@Studio.COM ").map(|e| e.to_string()),
            Ok("ana@studio.com".into())
        );
        for bad in [
            "",
            "ana",
            "@studio.com",
            "ana@",
            "a b@c.d",
            "ana@-x.com",
            "ana@x..com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn names_collapse_whitespace() {
        assert_eq!(
            Name::parse("  The   Long  Night ").map(|n| n.to_string()),
            Ok("The Long Night".into())
        );
        assert!(Name::parse("   ").is_err());
        assert!(Name::parse(&"x".repeat(201)).is_err());
    }

    #[test]
    fn passwords_have_a_minimum_length() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse("a long enough phrase").is_ok());
    }
}
