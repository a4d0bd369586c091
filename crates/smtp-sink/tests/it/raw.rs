//! A minimal line-oriented SMTP client for protocol tests.

use std::time::Duration;

use smtp_sink::SmtpSink;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// No single reply may take longer than this; a hung test fails instead of blocking CI.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

pub struct Raw {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl Raw {
    /// Connects and checks the greeting.
    pub async fn connect(sink: &SmtpSink) -> Raw {
        let stream = TcpStream::connect(sink.addr()).await.unwrap();
        let (read, writer) = stream.into_split();
        let mut raw = Raw {
            reader: BufReader::new(read),
            writer,
        };
        let (code, lines) = raw.reply().await;
        assert_eq!(code, 220);
        assert_eq!(lines, ["220 localhost ESMTP smtp-sink"]);
        raw
    }

    /// Sends bytes exactly as given.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.unwrap();
    }

    /// Reads one (possibly multi-line) reply: its code and its lines without CRLF.
    pub async fn reply(&mut self) -> (u16, Vec<String>) {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(REPLY_TIMEOUT, self.reader.read_line(&mut line))
                .await
                .expect("reply timed out")
                .unwrap();
            assert!(n > 0, "connection closed; reply so far: {lines:?}");
            assert!(line.ends_with("\r\n"), "reply line without CRLF: {line:?}");
            let line = line.trim_end_matches("\r\n").to_owned();
            let last = line.as_bytes().get(3) != Some(&b'-');
            lines.push(line);
            if last {
                break;
            }
        }
        let code = lines[0][..3].parse().unwrap();
        (code, lines)
    }

    /// Sends a command line with CRLF and returns the reply code.
    pub async fn cmd(&mut self, line: &str) -> u16 {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await.0
    }

    /// Waits for the server to close the connection, ignoring anything it still sends.
    pub async fn expect_closed(&mut self) {
        let mut rest = Vec::new();
        tokio::time::timeout(REPLY_TIMEOUT, self.reader.read_to_end(&mut rest))
            .await
            .expect("connection was not closed")
            .ok();
    }
}

impl Raw {
    /// Wraps an already connected stream (from a spawned task) and checks the greeting.
    pub async fn from_stream(stream: TcpStream) -> Raw {
        let (read, writer) = stream.into_split();
        let mut raw = Raw {
            reader: BufReader::new(read),
            writer,
        };
        assert_eq!(raw.reply().await.0, 220);
        raw
    }

    /// The buffered reader, for tests that read without expecting a reply.
    pub fn reader_mut(&mut self) -> &mut BufReader<OwnedReadHalf> {
        &mut self.reader
    }
}
