//! One SMTP connection: the server side of RFC 5321 that a submission client needs.

use std::io;
use std::sync::Arc;

use mail_parser::decoders::base64::base64_decode;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use crate::{Received, Shared, Verdict};

/// The longest line accepted, commands and message lines alike, without its line ending:
/// generous for any real client, small enough that a runaway peer cannot exhaust memory.
const MAX_LINE: usize = 1 << 20;

/// The largest message accepted (advertised as SIZE); bigger ones are read and discarded, then
/// refused with 552, so a test of a huge attachment cannot fill the test machine's memory.
const MAX_MESSAGE: usize = 64 << 20;

/// Recipients per message; more get 452 as RFC 5321 allows, bounding memory per transaction.
const MAX_RECIPIENTS: usize = 1000;

/// Serves one connection until QUIT, the peer closes, a [`Verdict`] ends it or the sink is
/// dropped (which aborts this task). I/O errors just end the connection: a client that breaks
/// off is normal here.
pub(crate) async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    // Replies are small and written whole, so Nagle would only delay them.
    let _ = stream.set_nodelay(true);
    let (read, write) = stream.into_split();
    let mut session = Session {
        shared,
        reader: BufReader::new(read),
        writer: write,
        line: Vec::new(),
        greeted: false,
        authenticated: false,
        from: None,
        to: Vec::new(),
    };
    let _ = session.run().await;
}

struct Session {
    shared: Arc<Shared>,
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    /// The last line read, with its line ending.
    line: Vec<u8>,
    /// EHLO or HELO was seen.
    greeted: bool,
    authenticated: bool,
    /// The transaction's envelope sender, once MAIL was accepted.
    from: Option<String>,
    to: Vec<String>,
}

/// Whether to keep reading commands.
enum Flow {
    Continue,
    Close,
}

/// The outcome of reading one line.
enum Line {
    Complete,
    /// The peer closed (a partial last line is dropped).
    Eof,
    TooLong,
}

impl Session {
    async fn run(&mut self) -> io::Result<()> {
        self.reply("220 localhost ESMTP smtp-sink").await?;
        loop {
            match self.read_line().await? {
                Line::Eof => return Ok(()),
                Line::TooLong => {
                    // The rest of the line can't be told from the next command: give up.
                    return self.reply("500 Line too long").await;
                }
                Line::Complete => {}
            }
            let text = String::from_utf8_lossy(strip_eol(&self.line)).into_owned();
            if let Flow::Close = self.command(&text).await? {
                return Ok(());
            }
        }
    }

    async fn command(&mut self, line: &str) -> io::Result<Flow> {
        let (verb, arg) = match line.split_once(' ') {
            Some((verb, arg)) => (verb, arg.trim()),
            None => (line, ""),
        };
        let verb = verb.to_ascii_uppercase();
        self.shared.log_command(if verb == "AUTH" {
            "AUTH ***".to_owned()
        } else {
            line.to_owned()
        });
        match verb.as_str() {
            "EHLO" => self.ehlo(arg).await,
            "HELO" => self.helo(arg).await,
            "MAIL" => self.mail(arg).await,
            "RCPT" => self.rcpt(arg).await,
            "DATA" => self.data(arg).await,
            "AUTH" => self.auth(arg).await,
            "RSET" => {
                self.reset();
                self.ok("250 OK").await
            }
            "NOOP" => self.ok("250 OK").await,
            "VRFY" => {
                self.ok("252 Cannot VRFY user, but will accept message and attempt delivery")
                    .await
            }
            "QUIT" => {
                self.reply("221 localhost closing connection").await?;
                Ok(Flow::Close)
            }
            "STARTTLS" | "EXPN" | "HELP" | "TURN" | "ETRN" => {
                self.ok("502 Command not implemented").await
            }
            _ => self.ok("500 Command not recognised").await,
        }
    }

    async fn ehlo(&mut self, domain: &str) -> io::Result<Flow> {
        if domain.is_empty() {
            return self.ok("501 EHLO needs a domain").await;
        }
        self.reset();
        self.greeted = true;
        let mut reply = format!("250-localhost greets {domain}\r\n");
        reply.push_str("250-8BITMIME\r\n250-SMTPUTF8\r\n");
        if self.shared.credentials.is_some() {
            reply.push_str("250-AUTH PLAIN LOGIN\r\n");
        }
        reply.push_str(&format!("250 SIZE {MAX_MESSAGE}"));
        self.ok(&reply).await
    }

    async fn helo(&mut self, domain: &str) -> io::Result<Flow> {
        if domain.is_empty() {
            return self.ok("501 HELO needs a domain").await;
        }
        self.reset();
        self.greeted = true;
        self.ok("250 localhost").await
    }

    async fn mail(&mut self, arg: &str) -> io::Result<Flow> {
        if !self.greeted {
            return self.ok("503 Send EHLO or HELO first").await;
        }
        if self.shared.credentials.is_some() && !self.authenticated {
            return self.ok("530 Authentication required").await;
        }
        if self.from.is_some() {
            return self.ok("503 Nested MAIL command").await;
        }
        let Some((path, params)) = parse_path(arg, "FROM:") else {
            return self.ok("501 Syntax: MAIL FROM:<address>").await;
        };
        // Parameters such as BODY=8BITMIME and SMTPUTF8 are accepted as-is; only a declared
        // SIZE is checked, as a real server does.
        for param in params.split_whitespace() {
            if let Some((key, value)) = param.split_once('=')
                && key.eq_ignore_ascii_case("SIZE")
                && value.parse::<usize>().is_ok_and(|size| size > MAX_MESSAGE)
            {
                return self.ok("552 Message size exceeds fixed maximum").await;
            }
        }
        self.from = Some(path);
        self.ok("250 OK").await
    }

    async fn rcpt(&mut self, arg: &str) -> io::Result<Flow> {
        if self.from.is_none() {
            return self.ok("503 Need MAIL before RCPT").await;
        }
        let Some((path, _params)) = parse_path(arg, "TO:") else {
            return self.ok("501 Syntax: RCPT TO:<address>").await;
        };
        if path.is_empty() {
            return self.ok("501 Empty recipient").await;
        }
        if self.to.len() >= MAX_RECIPIENTS {
            return self.ok("452 Too many recipients").await;
        }
        self.to.push(path);
        self.ok("250 OK").await
    }

    async fn data(&mut self, arg: &str) -> io::Result<Flow> {
        if !arg.is_empty() {
            return self.ok("501 DATA takes no arguments").await;
        }
        let Some(from) = self.from.clone() else {
            return self.ok("503 Need MAIL before DATA").await;
        };
        if self.to.is_empty() {
            return self.ok("503 Need RCPT before DATA").await;
        }
        let to = std::mem::take(&mut self.to);
        self.reset();
        self.reply("354 End data with <CR><LF>.<CR><LF>").await?;

        let mut data = Vec::new();
        let mut too_big = false;
        loop {
            match self.read_line().await? {
                Line::Eof => return Ok(Flow::Close),
                Line::TooLong => {
                    self.reply("500 Line too long").await?;
                    return Ok(Flow::Close);
                }
                Line::Complete => {}
            }
            if strip_eol(&self.line) == b"." {
                break;
            }
            // Dot-unstuffing (RFC 5321 section 4.5.2).
            let line = self.line.strip_prefix(b".").unwrap_or(&self.line);
            if data.len() + line.len() > MAX_MESSAGE {
                too_big = true;
            }
            if !too_big {
                data.extend_from_slice(line);
            }
        }
        if too_big {
            return self.ok("552 Message size exceeds fixed maximum").await;
        }

        match self.shared.decide(Received { from, to, data }) {
            Verdict::Accept { serial, generation } => {
                match self.reply(&format!("250 OK: queued as {serial}")).await {
                    Ok(()) => {
                        self.shared.confirm();
                        Ok(Flow::Continue)
                    }
                    Err(err) => {
                        self.shared.withdraw(serial, generation);
                        Err(err)
                    }
                }
            }
            Verdict::Reject { code, text } => {
                let text = text.replace(['\r', '\n'], " ");
                self.reply(&format!("{code} {text}")).await?;
                // 421 announces that the server closes the channel.
                Ok(if code == 421 {
                    Flow::Close
                } else {
                    Flow::Continue
                })
            }
            Verdict::Hang => {
                // Keep the socket open and unanswered until the client gives up; whatever it
                // sends meanwhile is ignored.
                tokio::io::copy(&mut self.reader, &mut tokio::io::sink()).await?;
                Ok(Flow::Close)
            }
            Verdict::Drop => Ok(Flow::Close),
        }
    }

    async fn auth(&mut self, arg: &str) -> io::Result<Flow> {
        let Some(credentials) = self.shared.credentials.as_ref() else {
            return self.ok("502 AUTH not available").await;
        };
        let (user, pass) = (credentials.user.clone(), credentials.pass.clone());
        if !self.greeted {
            return self.ok("503 Send EHLO first").await;
        }
        if self.authenticated {
            return self.ok("503 Already authenticated").await;
        }
        if self.from.is_some() {
            return self
                .ok("503 AUTH not allowed during a mail transaction")
                .await;
        }
        let mut words = arg.split_whitespace();
        let mechanism = words.next().unwrap_or_default().to_ascii_uppercase();
        let initial = words.next().map(str::to_owned);

        let given = match mechanism.as_str() {
            "PLAIN" => {
                let response = match initial {
                    Some(response) => response,
                    None => match self.challenge("").await? {
                        Some(response) => response,
                        None => return Ok(Flow::Close),
                    },
                };
                if response == "*" {
                    return self.ok("501 Authentication cancelled").await;
                }
                // authzid NUL authcid NUL passwd (RFC 4616)
                let Some(decoded) = decode(&response) else {
                    return self.ok("501 Invalid base64").await;
                };
                let mut fields = decoded.splitn(3, '\0');
                match (fields.next(), fields.next(), fields.next()) {
                    (Some(_authzid), Some(u), Some(p)) => (u.to_owned(), p.to_owned()),
                    _ => return self.ok("501 Malformed PLAIN response").await,
                }
            }
            "LOGIN" => {
                let user_response = match initial {
                    Some(response) => response,
                    // "Username:"
                    None => match self.challenge("VXNlcm5hbWU6").await? {
                        Some(response) => response,
                        None => return Ok(Flow::Close),
                    },
                };
                if user_response == "*" {
                    return self.ok("501 Authentication cancelled").await;
                }
                // "Password:"
                let Some(pass_response) = self.challenge("UGFzc3dvcmQ6").await? else {
                    return Ok(Flow::Close);
                };
                if pass_response == "*" {
                    return self.ok("501 Authentication cancelled").await;
                }
                match (decode(&user_response), decode(&pass_response)) {
                    (Some(u), Some(p)) => (u, p),
                    _ => return self.ok("501 Invalid base64").await,
                }
            }
            _ => return self.ok("504 Unrecognised authentication type").await,
        };
        if given == (user, pass) {
            self.authenticated = true;
            self.ok("235 Authentication successful").await
        } else {
            self.ok("535 Authentication credentials invalid").await
        }
    }

    /// Sends a 334 challenge and reads the client's one-line answer; `None` if the client went
    /// away or sent an overlong line.
    async fn challenge(&mut self, challenge: &str) -> io::Result<Option<String>> {
        self.reply(&format!("334 {challenge}")).await?;
        match self.read_line().await? {
            Line::Complete => Ok(Some(
                String::from_utf8_lossy(strip_eol(&self.line))
                    .trim()
                    .to_owned(),
            )),
            Line::Eof => Ok(None),
            Line::TooLong => {
                self.reply("500 Line too long").await?;
                Ok(None)
            }
        }
    }

    /// Forgets the current transaction (RSET, EHLO, after DATA).
    fn reset(&mut self) {
        self.from = None;
        self.to.clear();
    }

    /// Reads one line, including its line ending, into `self.line`, bounded by `MAX_LINE`.
    async fn read_line(&mut self) -> io::Result<Line> {
        self.line.clear();
        // Room for the longest line plus CRLF; one byte more shows that it is too long.
        let limit = MAX_LINE as u64 + 3;
        (&mut self.reader)
            .take(limit)
            .read_until(b'\n', &mut self.line)
            .await?;
        if self.line.last() == Some(&b'\n') {
            if strip_eol(&self.line).len() > MAX_LINE {
                return Ok(Line::TooLong);
            }
            Ok(Line::Complete)
        } else if self.line.len() as u64 == limit {
            Ok(Line::TooLong)
        } else {
            Ok(Line::Eof)
        }
    }

    /// Writes one reply (which may hold several CRLF-separated lines) followed by CRLF.
    async fn reply(&mut self, reply: &str) -> io::Result<()> {
        let mut bytes = Vec::with_capacity(reply.len() + 2);
        bytes.extend_from_slice(reply.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        self.writer.write_all(&bytes).await?;
        self.writer.flush().await
    }

    /// [`Session::reply`], then carry on with the next command.
    async fn ok(&mut self, reply: &str) -> io::Result<Flow> {
        self.reply(reply).await?;
        Ok(Flow::Continue)
    }
}

/// The line without its CRLF or bare LF.
fn strip_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Parses `FROM:<path> params` / `TO:<path> params` (keyword case-insensitive, spaces after the
/// colon and a missing pair of angle brackets tolerated) into the path and the parameters.
fn parse_path(arg: &str, keyword: &str) -> Option<(String, String)> {
    let head = arg.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg.get(keyword.len()..)?.trim_start();
    let (path, params) = if let Some(inner) = rest.strip_prefix('<') {
        let end = inner.find('>')?;
        (&inner[..end], &inner[end + 1..])
    } else {
        rest.split_once(' ').unwrap_or((rest, ""))
    };
    // Drop an obsolete source route ("@relay1,@relay2:user@example.com").
    let path = match path.strip_prefix('@') {
        Some(_) => path.split_once(':').map_or(path, |(_, mailbox)| mailbox),
        None => path,
    };
    if path.contains(char::is_whitespace) {
        return None;
    }
    Some((path.to_owned(), params.trim().to_owned()))
}

/// Decodes an AUTH response: base64 of UTF-8 text (`=` stands for an empty response).
fn decode(response: &str) -> Option<String> {
    if response == "=" {
        return Some(String::new());
    }
    let bytes = base64_decode(response.as_bytes())?;
    String::from_utf8(bytes).ok()
}
