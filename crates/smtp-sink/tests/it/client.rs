//! A real client: lettre's tokio transport (pooled, as the outbox uses it) against the sink.

use std::time::{Duration, Instant};

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, SmtpTransport, Tokio1Executor, Transport,
};
use smtp_sink::{Behaviour, SmtpSink};

const SPANISH: &str = "Doblaje en español — ¿listo?";
const JAPANESE: &str = "吹き替え";

fn mailer(sink: &SmtpSink) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(sink.port())
        .build()
}

fn email(i: usize) -> Message {
    let to: Mailbox = format!("Actriz {i} <actor{i}@example.com>")
        .parse()
        .unwrap();
    Message::builder()
        .from("Locportal <outbox@locportal.test>".parse().unwrap())
        .to(to)
        .subject(format!("{SPANISH} #{i}"))
        .multipart(MultiPart::alternative_plain_html(
            format!("{SPANISH}\n{JAPANESE} {i}\n"),
            format!("<p>{SPANISH}</p><p>{JAPANESE} {i}</p>"),
        ))
        .unwrap()
}

#[tokio::test]
async fn pooled_transport_delivers_decoded_messages_over_one_connection() {
    let sink = SmtpSink::start().await.unwrap();
    let mailer = mailer(&sink);
    for i in 0..3 {
        let response = mailer.send(email(i)).await.unwrap();
        assert!(response.is_positive());
        // lettre hands a used connection back to the pool in a spawned task; without a yield a
        // back-to-back send finds the pool empty and opens another connection.
        tokio::task::yield_now().await;
    }
    let got = sink.messages();
    assert_eq!(got.len(), 3);
    for (i, m) in got.iter().enumerate() {
        assert_eq!(m.from, "outbox@locportal.test");
        assert_eq!(m.to, [format!("actor{i}@example.com")]);
        assert_eq!(m.subject().unwrap(), format!("{SPANISH} #{i}"));
        assert_eq!(
            m.header("from").unwrap(),
            "Locportal <outbox@locportal.test>"
        );
        assert_eq!(
            m.header("TO").unwrap(),
            format!("\"Actriz {i}\" <actor{i}@example.com>")
        );
        assert_eq!(m.headers("mime-version"), ["1.0"]);
        // lettre's builder adds Date but no Message-ID unless asked to (`.message_id(None)`).
        assert_eq!(m.headers("Message-ID"), Vec::<String>::new());
        assert_eq!(m.header("X-Absent"), None);
        let text = m.text_body().unwrap();
        assert!(
            text.contains(SPANISH) && text.contains(&format!("{JAPANESE} {i}")),
            "{text:?}"
        );
        let html = m.html_body().unwrap();
        assert!(html.contains(&format!("<p>{JAPANESE} {i}</p>")), "{html:?}");
        // lettre encodes non-ASCII itself (quoted-printable / base64, RFC 2047 subject).
        assert!(!m.raw().contains(JAPANESE));
    }
    assert_eq!(sink.connections(), 1, "the pool reuses one connection");

    // What lettre's pool says between messages: a NOOP to test the parked connection, no RSET.
    let verbs: Vec<String> = sink
        .commands()
        .iter()
        .map(|l| l.split([' ', ':']).next().unwrap().to_owned())
        .collect();
    assert_eq!(
        verbs,
        [
            "EHLO", "MAIL", "RCPT", "DATA", "NOOP", "MAIL", "RCPT", "DATA", "NOOP", "MAIL", "RCPT",
            "DATA"
        ]
    );
}

#[tokio::test]
async fn eight_bit_bodies_bcc_and_leading_dots_survive() {
    let sink = SmtpSink::start().await.unwrap();
    let body = format!(".starts with a dot\n..two\n{JAPANESE}\n");
    let message = Message::builder()
        .from("outbox@locportal.test".parse().unwrap())
        .to("a@example.com".parse().unwrap())
        .cc("b@example.com".parse().unwrap())
        .bcc("hidden@example.com".parse().unwrap())
        .subject(JAPANESE)
        .singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .header(ContentTransferEncoding::EightBit)
                .body(body),
        )
        .unwrap();
    mailer(&sink).send(message).await.unwrap();
    let got = sink.messages();
    assert_eq!(
        got[0].to,
        ["a@example.com", "b@example.com", "hidden@example.com"]
    );
    assert_eq!(
        got[0].header("Bcc"),
        None,
        "lettre strips Bcc from the message"
    );
    assert_eq!(got[0].subject().unwrap(), JAPANESE);
    // lettre turns LF into CRLF and ends a single part with an extra blank line.
    assert_eq!(
        got[0].text_body().unwrap().trim_end(),
        format!(".starts with a dot\r\n..two\r\n{JAPANESE}")
    );
    assert!(got[0].raw().contains(JAPANESE), "8-bit body sent as is");
    let mail = sink
        .commands()
        .into_iter()
        .find(|l| l.starts_with("MAIL"))
        .unwrap();
    assert_eq!(mail, "MAIL FROM:<outbox@locportal.test> BODY=8BITMIME");
}

#[tokio::test]
async fn rejected_message_is_an_error_and_not_recorded() {
    let sink = SmtpSink::start().await.unwrap();
    let mailer = mailer(&sink);
    sink.set_behaviour(Behaviour::Reject {
        code: 451,
        text: "4.3.0 Try again later".into(),
    });
    let err = mailer.send(email(0)).await.unwrap_err();
    assert!(err.is_transient(), "{err}");
    assert_eq!(sink.count(), 0);

    sink.set_behaviour(Behaviour::Reject {
        code: 550,
        text: "5.7.1 No".into(),
    });
    let err = mailer.send(email(1)).await.unwrap_err();
    assert!(err.is_permanent(), "{err}");
    assert_eq!(sink.count(), 0);

    sink.set_behaviour(Behaviour::Accept);
    mailer.send(email(2)).await.unwrap();
    assert_eq!(sink.count(), 1);
    // lettre gives up a connection after any error reply (QUIT), so each failure costs one.
    assert_eq!(sink.connections(), 3);
}

#[tokio::test]
async fn dropped_connection_is_an_error_and_not_recorded() {
    let sink = SmtpSink::start().await.unwrap();
    let mailer = mailer(&sink);
    sink.set_behaviour(Behaviour::Drop);
    let err = mailer.send(email(0)).await.unwrap_err();
    assert!(
        !err.is_transient() && !err.is_permanent(),
        "no SMTP reply: {err}"
    );
    assert_eq!(sink.count(), 0);
    sink.set_behaviour(Behaviour::Accept);
    mailer.send(email(1)).await.unwrap();
    assert_eq!(sink.count(), 1);
}

#[tokio::test]
async fn accept_then_reject_records_exactly_the_first_n() {
    let sink = SmtpSink::start().await.unwrap();
    let mailer = mailer(&sink);
    sink.accept_then(
        2,
        Behaviour::Reject {
            code: 452,
            text: "4.2.2 Mailbox full".into(),
        },
    );
    let mut results = Vec::new();
    for i in 0..4 {
        results.push(mailer.send(email(i)).await.is_ok());
    }
    assert_eq!(results, [true, true, false, false]);
    let got = sink.messages();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].to, ["actor0@example.com"]);
    assert_eq!(got[1].to, ["actor1@example.com"]);
}

#[tokio::test]
async fn hang_makes_a_send_with_a_short_timeout_fail() {
    let sink = SmtpSink::start().await.unwrap();
    sink.set_behaviour(Behaviour::Hang);

    // The blocking transport applies `timeout` to every socket read, so it gives up by itself.
    let port = sink.port();
    let started = Instant::now();
    let result = tokio::task::spawn_blocking(move || {
        SmtpTransport::builder_dangerous("127.0.0.1")
            .port(port)
            .timeout(Some(Duration::from_millis(300)))
            .build()
            .send(&email(0))
    })
    .await
    .unwrap();
    // The read time-out surfaces as a network error (EAGAIN), not as `is_timeout()`.
    let err = result.unwrap_err();
    assert!(!err.is_transient() && !err.is_permanent(), "{err}");
    assert!(started.elapsed() < Duration::from_secs(5));

    // lettre 0.11's tokio transport applies `timeout` only to connecting, never to reading a
    // reply: against a hung server only an outer time-out ends the send.
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(port)
        .timeout(Some(Duration::from_millis(300)))
        .build();
    let outcome = tokio::time::timeout(Duration::from_millis(1500), mailer.send(email(1))).await;
    match outcome {
        Err(_elapsed) => {}
        Ok(result) => assert!(result.is_err(), "a hung send cannot succeed"),
    }
    assert_eq!(sink.count(), 0);

    sink.set_behaviour(Behaviour::Accept);
    mailer.send(email(2)).await.unwrap();
    assert_eq!(sink.count(), 1);
}

#[tokio::test]
async fn authentication_with_right_and_wrong_credentials() {
    let sink = SmtpSink::start_with_auth("outbox", "s3cret").await.unwrap();
    let with = |user: &str, pass: &str, mechanism: Mechanism| {
        AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
            .port(sink.port())
            .credentials(Credentials::new(user.into(), pass.into()))
            .authentication(vec![mechanism])
            .build()
    };
    with("outbox", "s3cret", Mechanism::Plain)
        .send(email(0))
        .await
        .unwrap();
    with("outbox", "s3cret", Mechanism::Login)
        .send(email(1))
        .await
        .unwrap();
    assert_eq!(sink.count(), 2);

    for mechanism in [Mechanism::Plain, Mechanism::Login] {
        let err = with("outbox", "wrong", mechanism)
            .send(email(2))
            .await
            .unwrap_err();
        assert!(err.is_permanent(), "{err}");
        assert_eq!(err.status().map(|c| c.to_string()).as_deref(), Some("535"));
    }
    let err = mailer(&sink).send(email(3)).await.unwrap_err();
    assert_eq!(
        err.status().map(|c| c.to_string()).as_deref(),
        Some("530"),
        "{err}"
    );
    assert_eq!(sink.count(), 2);
}
