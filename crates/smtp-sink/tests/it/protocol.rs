//! The SMTP dialogue, byte by byte, where lettre would never go.

use std::time::{Duration, Instant};

use smtp_sink::{Behaviour, SmtpSink};

use crate::raw::Raw;

#[tokio::test]
async fn ehlo_advertises_extensions_without_auth_or_starttls() {
    let sink = SmtpSink::start().await.unwrap();
    let mut c = Raw::connect(&sink).await;
    c.send(b"EHLO client.test\r\n").await;
    let (code, lines) = c.reply().await;
    assert_eq!(code, 250);
    assert_eq!(lines[0], "250-localhost greets client.test");
    for ext in ["8BITMIME", "SMTPUTF8", "SIZE "] {
        assert!(
            lines.iter().any(|l| l[4..].starts_with(ext)),
            "{ext} missing: {lines:?}"
        );
    }
    assert!(
        !lines
            .iter()
            .any(|l| l.contains("AUTH") || l.contains("STARTTLS"))
    );
    assert_eq!(c.cmd("AUTH PLAIN AGZvbwBiYXI=").await, 502);
    assert_eq!(c.cmd("STARTTLS").await, 502);
    assert_eq!(c.cmd("QUIT").await, 221);
    c.expect_closed().await;
    assert_eq!(sink.connections(), 1);
}

#[tokio::test]
async fn commands_out_of_order_unknown_and_harmless() {
    let sink = SmtpSink::start().await.unwrap();
    let mut c = Raw::connect(&sink).await;
    assert_eq!(
        c.cmd("MAIL FROM:<a@example.com>").await,
        503,
        "MAIL before EHLO"
    );
    assert_eq!(c.cmd("EHLO").await, 501, "EHLO without domain");
    assert_eq!(c.cmd("HELO client.test").await, 250);
    assert_eq!(
        c.cmd("RCPT TO:<b@example.com>").await,
        503,
        "RCPT before MAIL"
    );
    assert_eq!(c.cmd("DATA").await, 503, "DATA before MAIL");
    assert_eq!(c.cmd("MAIL FROM:<a@example.com>").await, 250);
    assert_eq!(c.cmd("MAIL FROM:<a@example.com>").await, 503, "nested MAIL");
    assert_eq!(c.cmd("DATA").await, 503, "DATA before RCPT");
    assert_eq!(c.cmd("RCPT <b@example.com>").await, 501, "syntax");
    assert_eq!(c.cmd("RSET").await, 250);
    assert_eq!(
        c.cmd("RCPT TO:<b@example.com>").await,
        503,
        "RSET ended the transaction"
    );
    assert_eq!(c.cmd("NOOP").await, 250);
    assert_eq!(c.cmd("vrfy someone").await, 252);
    assert_eq!(c.cmd("FROB").await, 500);
    assert_eq!(c.cmd("").await, 500);
    assert_eq!(c.cmd("quit").await, 221);
    c.expect_closed().await;
    assert_eq!(sink.count(), 0);
}

#[tokio::test]
async fn data_is_dot_unstuffed_and_kept_byte_exact_with_bare_lf_tolerated() {
    let sink = SmtpSink::start().await.unwrap();
    let mut c = Raw::connect(&sink).await;
    assert_eq!(c.cmd("EHLO client.test").await, 250);
    // Parameters are tolerated; keyword case and a space after the colon too.
    assert_eq!(
        c.cmd("MAIL from: <a@example.com> SIZE=120 BODY=8BITMIME")
            .await,
        250
    );
    assert_eq!(c.cmd("RCPT TO:<b@example.com>").await, 250);
    assert_eq!(c.cmd("RCPT TO:<c@example.com> NOTIFY=NEVER").await, 250);
    assert_eq!(c.cmd("DATA").await, 354);
    c.send(b"Subject: dots\r\n\r\n..leading dot\r\n..\r\nnot the end\r\n...\r\nlast\r\n.\r\n")
        .await;
    assert_eq!(c.reply().await.0, 250);

    // The same with bare LF line endings, and the null sender.
    c.send(b"MAIL FROM:<>\nRCPT TO:<d@example.com>\nDATA\n")
        .await;
    assert_eq!(c.reply().await.0, 250);
    assert_eq!(c.reply().await.0, 250);
    assert_eq!(c.reply().await.0, 354);
    c.send("Subject: lf\n\n.x\nca\u{f1}a\n.\n".as_bytes()).await;
    assert_eq!(c.reply().await.0, 250);

    let got = sink.messages();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].from, "a@example.com");
    assert_eq!(got[0].to, ["b@example.com", "c@example.com"]);
    assert_eq!(
        got[0].data,
        b"Subject: dots\r\n\r\n.leading dot\r\n.\r\nnot the end\r\n..\r\nlast\r\n"
    );
    assert_eq!(got[1].from, "");
    assert_eq!(got[1].to, ["d@example.com"]);
    assert_eq!(got[1].data, "Subject: lf\n\nx\nca\u{f1}a\n".as_bytes());
    assert_eq!(got[1].subject().as_deref(), Some("lf"));
    assert_eq!(got[1].text_body().as_deref(), Some("x\nca\u{f1}a\n"));
    assert_eq!(
        got[1].html_body(),
        None,
        "plain text is not turned into HTML"
    );
    assert!(got[1].raw().contains("ca\u{f1}a"));
}

#[tokio::test]
async fn oversized_size_parameter_and_overlong_lines_are_refused() {
    let sink = SmtpSink::start().await.unwrap();
    let mut c = Raw::connect(&sink).await;
    assert_eq!(c.cmd("EHLO client.test").await, 250);
    assert_eq!(
        c.cmd("MAIL FROM:<a@example.com> SIZE=999999999999").await,
        552
    );
    assert_eq!(c.cmd("MAIL FROM:<a@example.com>").await, 250);
    assert_eq!(c.cmd("RCPT TO:<b@example.com>").await, 250);
    assert_eq!(c.cmd("DATA").await, 354);
    // A line of exactly 1 MiB is fine ...
    let mut data = vec![b'a'; 1 << 20];
    data.extend_from_slice(b"\r\n.\r\n");
    c.send(&data).await;
    assert_eq!(c.reply().await.0, 250);
    assert_eq!(sink.messages()[0].data.len(), (1 << 20) + 2);
    // ... one byte more is not, and ends the connection.
    let mut line = vec![b'N'; (1 << 20) + 1];
    line.extend_from_slice(b"\r\n");
    c.send(&line).await;
    assert_eq!(c.reply().await.0, 500);
    c.expect_closed().await;
}

#[tokio::test]
async fn reject_421_closes_and_drop_closes_silently() {
    let sink = SmtpSink::start().await.unwrap();
    for (behaviour, expected) in [
        (
            Behaviour::Reject {
                code: 421,
                text: "shutting\r\ndown".into(),
            },
            Some(421),
        ),
        (Behaviour::Drop, None),
    ] {
        sink.set_behaviour(behaviour);
        let mut c = Raw::connect(&sink).await;
        assert_eq!(c.cmd("EHLO client.test").await, 250);
        assert_eq!(c.cmd("MAIL FROM:<a@example.com>").await, 250);
        assert_eq!(c.cmd("RCPT TO:<b@example.com>").await, 250);
        assert_eq!(c.cmd("DATA").await, 354);
        c.send(b"Subject: x\r\n\r\nbody\r\n.\r\n").await;
        if let Some(code) = expected {
            let (got, lines) = c.reply().await;
            assert_eq!(got, code);
            assert_eq!(lines, ["421 shutting  down"]);
        }
        c.expect_closed().await;
    }
    assert_eq!(sink.count(), 0);
}

#[tokio::test]
async fn dropping_the_sink_closes_a_hung_connection() {
    let sink = SmtpSink::start().await.unwrap();
    sink.set_behaviour(Behaviour::Hang);
    let mut c = Raw::connect(&sink).await;
    assert_eq!(c.cmd("EHLO client.test").await, 250);
    assert_eq!(c.cmd("MAIL FROM:<a@example.com>").await, 250);
    assert_eq!(c.cmd("RCPT TO:<b@example.com>").await, 250);
    assert_eq!(c.cmd("DATA").await, 354);
    c.send(b"Subject: x\r\n\r\nbody\r\n.\r\nNOOP\r\n").await;
    // No reply comes, not even to the NOOP after the message.
    let mut byte = [0u8; 1];
    let waited = tokio::time::timeout(
        Duration::from_millis(300),
        tokio::io::AsyncReadExt::read(c.reader_mut(), &mut byte),
    )
    .await;
    assert!(waited.is_err(), "the sink answered while hanging");
    assert_eq!(sink.count(), 0);
    let addr = sink.addr();
    drop(sink);
    c.expect_closed().await;
    // And nothing listens any more.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn wait_for_returns_on_arrival_or_at_the_timeout() {
    let sink = SmtpSink::start().await.unwrap();
    let addr = sink.addr();
    let sender = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let mut c = Raw::from_stream(stream).await;
        assert_eq!(c.cmd("HELO client.test").await, 250);
        for i in 0..2 {
            assert_eq!(c.cmd("MAIL FROM:<a@example.com>").await, 250);
            assert_eq!(c.cmd(&format!("RCPT TO:<r{i}@example.com>")).await, 250);
            assert_eq!(c.cmd("DATA").await, 354);
            c.send(b"Subject: later\r\n\r\nhi\r\n.\r\n").await;
            assert_eq!(c.reply().await.0, 250);
        }
    });
    let started = Instant::now();
    let got = sink.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 2);
    assert!(started.elapsed() < Duration::from_secs(5));
    sender.await.unwrap();

    let started = Instant::now();
    let got = sink.wait_for(3, Duration::from_millis(200)).await;
    assert_eq!(got.len(), 2, "timed out with what there was");
    assert!(started.elapsed() >= Duration::from_millis(200));

    sink.clear();
    assert_eq!(sink.count(), 0);
    assert!(sink.messages().is_empty());
    assert!(sink.commands().is_empty());
    assert_eq!(sink.connections(), 1, "clear keeps the connection count");
}

#[tokio::test]
async fn auth_plain_and_login_dialogues() {
    let sink = SmtpSink::start_with_auth("outbox", "s3cret").await.unwrap();
    let mut c = Raw::connect(&sink).await;
    c.send(b"EHLO client.test\r\n").await;
    let (_, lines) = c.reply().await;
    assert!(
        lines.iter().any(|l| l[4..] == *"AUTH PLAIN LOGIN"),
        "{lines:?}"
    );
    assert_eq!(
        c.cmd("MAIL FROM:<a@example.com>").await,
        530,
        "AUTH required"
    );
    assert_eq!(c.cmd("AUTH CRAM-MD5").await, 504);
    // "\0outbox\0wrong", then "\0outbox\0s3cret" after an empty challenge.
    assert_eq!(c.cmd("AUTH PLAIN AG91dGJveAB3cm9uZw==").await, 535);
    assert_eq!(c.cmd("AUTH PLAIN").await, 334);
    assert_eq!(c.cmd("!!!").await, 501, "invalid base64");
    assert_eq!(c.cmd("AUTH PLAIN").await, 334);
    assert_eq!(c.cmd("AG91dGJveABzM2NyZXQ=").await, 235);
    assert_eq!(
        c.cmd("AUTH PLAIN AG91dGJveABzM2NyZXQ=").await,
        503,
        "already authenticated"
    );
    assert_eq!(c.cmd("MAIL FROM:<a@example.com>").await, 250);

    let mut c = Raw::connect(&sink).await;
    assert_eq!(c.cmd("EHLO client.test").await, 250);
    c.send(b"AUTH LOGIN\r\n").await;
    assert_eq!(c.reply().await.1, ["334 VXNlcm5hbWU6"]);
    c.send(b"b3V0Ym94\r\n").await; // outbox
    assert_eq!(c.reply().await.1, ["334 UGFzc3dvcmQ6"]);
    assert_eq!(c.cmd("czNjcmV0").await, 235); // s3cret
    assert_eq!(c.cmd("MAIL FROM:<a@example.com>").await, 250);
    assert!(
        sink.commands()
            .iter()
            .all(|l| !l.contains("AG91dGJveABzM2NyZXQ=")),
        "AUTH arguments are not logged"
    );
}
