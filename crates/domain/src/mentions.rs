//! @mentions as typed in a message: `@marta@iberiavoices.test`, `@"Marta Ruiz"`, or `@Marta`.
//! Who they resolve to, and whether that person may be mentioned, is decided in `app` with the
//! read policy: a mention never reaches someone who cannot read the channel.

use crate::search::fold;

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MentionToken {
    /// An e-mail address, lower-cased.
    Email(String),
    /// A name or first name, as typed.
    Name(String),
}

impl MentionToken {
    /// How it was written, for messages: `@Marta`.
    pub fn as_typed(&self) -> String {
        match self {
            MentionToken::Email(e) => format!("@{e}"),
            MentionToken::Name(n) if n.contains(' ') => format!("@\"{n}\""),
            MentionToken::Name(n) => format!("@{n}"),
        }
    }

    /// Whether this token names the person with this display name and e-mail: the e-mail
    /// exactly, or the whole name, the name without spaces, or the first name — compared
    /// case- and accent-insensitively.
    pub fn matches(&self, display_name: &str, email: &str) -> bool {
        match self {
            MentionToken::Email(e) => e.eq_ignore_ascii_case(email),
            MentionToken::Name(n) => {
                let want = fold(n);
                let name = fold(display_name);
                let first = name.split(' ').next().unwrap_or_default();
                want == name || want == name.replace(' ', "") || want == first
            }
        }
    }
}

fn ends_token(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            ',' | ';' | ':' | '!' | '?' | ')' | ']' | '}' | '<' | '>' | '"' | '\''
        )
}

/// The distinct mentions in a message body. An `@` counts only at the start or after a space or
/// an opening bracket, so e-mail addresses written in the text are not mentions.
pub fn parse_mentions(body: &str) -> Vec<MentionToken> {
    let chars: Vec<char> = body.chars().collect();
    let mut out: Vec<MentionToken> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let starts = chars.get(i) == Some(&'@')
            && (i == 0
                || chars
                    .get(i - 1)
                    .is_some_and(|p| p.is_whitespace() || matches!(p, '(' | '[' | '{')));
        if !starts {
            i += 1;
            continue;
        }
        i += 1;
        let token = if chars.get(i) == Some(&'"') {
            let start = i + 1;
            let mut end = start;
            while end < chars.len() && chars.get(end) != Some(&'"') {
                end += 1;
            }
            let name: String = chars.get(start..end).unwrap_or_default().iter().collect();
            i = end + 1;
            let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
            (!name.is_empty()).then_some(MentionToken::Name(name))
        } else {
            let start = i;
            while i < chars.len() && !chars.get(i).is_some_and(|c| ends_token(*c)) {
                i += 1;
            }
            let raw: String = chars.get(start..i).unwrap_or_default().iter().collect();
            let raw = raw.trim_end_matches(['.', '-']);
            if raw.is_empty() {
                None
            } else if raw.contains('@') {
                Some(MentionToken::Email(raw.to_lowercase()))
            } else {
                Some(MentionToken::Name(raw.to_string()))
            }
        };
        if let Some(t) = token
            && !out.contains(&t)
        {
            out.push(t);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_found() {
        let m = parse_mentions(
            "@Marta please check with @\"João  Silva\" and @pm@northlight.test. Mail ana@x.com, (@Lucía)!",
        );
        assert_eq!(
            m,
            vec![
                MentionToken::Name("Marta".into()),
                MentionToken::Name("João Silva".into()),
                MentionToken::Email("pm@northlight.test".into()),
                MentionToken::Name("Lucía".into()),
            ]
        );
        assert!(parse_mentions("no mentions, a@b.c or @ alone").is_empty());
        assert_eq!(parse_mentions("@Marta @marta @Marta").len(), 2);
    }

    #[test]
    fn tokens_match_people() {
        let n = |s: &str| MentionToken::Name(s.into());
        assert!(n("marta").matches("Marta Ruiz", "marta@iberiavoices.test"));
        assert!(n("Marta Ruiz").matches("Marta Ruiz", "x@y.z"));
        assert!(n("martaruiz").matches("Marta Ruiz", "x@y.z"));
        assert!(n("joao").matches("João Silva", "x@y.z"));
        assert!(!n("ruiz").matches("Marta Ruiz", "x@y.z"));
        assert!(
            MentionToken::Email("marta@iberiavoices.test".into())
                .matches("M", "Marta@IberiaVoices.test")
        );
        assert_eq!(n("João Silva").as_typed(), "@\"João Silva\"");
    }
}
