//! A message the sink accepted, with decoding helpers so tests can assert on what a person
//! would read rather than on MIME encodings.

use std::borrow::Cow;

use mail_parser::{HeaderForm, Message, MessageParser, MessagePart, MimeHeaders, PartType};

/// One accepted message: the SMTP envelope and the message exactly as transmitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The envelope sender from `MAIL FROM:<..>`, without the angle brackets (empty for the
    /// null sender `<>`).
    pub from: String,
    /// The envelope recipients from each `RCPT TO:<..>`, in order, without angle brackets.
    pub to: Vec<String>,
    /// The message after dot-unstuffing, without the terminating `.` line; line endings are
    /// kept as the client sent them.
    pub data: Vec<u8>,
}

impl Received {
    /// The first header field with this name (case-insensitive), unfolded and with RFC 2047
    /// encoded words decoded; `None` if absent or unparsable.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers(name).into_iter().next()
    }

    /// Every header field with this name (case-insensitive), in message order, decoded as
    /// [`Received::header`] does; for fields that may repeat, such as `Received` or `To`.
    pub fn headers(&self, name: &str) -> Vec<String> {
        let Some(message) = self.parse() else {
            return Vec::new();
        };
        message
            .header_as(name, HeaderForm::Text)
            .into_iter()
            .filter_map(|value| value.into_text().map(Cow::into_owned))
            .collect()
    }

    /// The decoded `Subject`.
    pub fn subject(&self) -> Option<String> {
        self.header("Subject")
    }

    /// The first inline text/plain body part, transfer-decoded (quoted-printable, base64) and
    /// converted from its charset. `None` if the message has no text/plain part: an HTML-only
    /// message is not converted, so a test can tell the two apart.
    pub fn text_body(&self) -> Option<String> {
        let message = self.parse()?;
        message.text_bodies().find_map(|part| match &part.body {
            PartType::Text(text) if is_subtype(part, "plain") => Some(text.to_string()),
            _ => None,
        })
    }

    /// The first inline text/html body part, decoded like [`Received::text_body`]; `None` if
    /// the message has no text/html part (plain text is not converted).
    pub fn html_body(&self) -> Option<String> {
        let message = self.parse()?;
        message.html_bodies().find_map(|part| match &part.body {
            PartType::Html(html) => Some(html.to_string()),
            _ => None,
        })
    }

    /// The message as text, with invalid UTF-8 replaced: for `contains` checks and failure
    /// output. Nothing is decoded.
    pub fn raw(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.data)
    }

    fn parse(&self) -> Option<Message<'_>> {
        MessageParser::default().parse(&self.data)
    }
}

/// A part is text/`subtype`; a part without Content-Type is text/plain (RFC 2045).
fn is_subtype(part: &MessagePart<'_>, subtype: &str) -> bool {
    match part.content_type() {
        None => subtype.eq_ignore_ascii_case("plain"),
        Some(ct) => {
            ct.ctype().eq_ignore_ascii_case("text")
                && ct
                    .subtype()
                    .is_some_and(|s| s.eq_ignore_ascii_case(subtype))
        }
    }
}
