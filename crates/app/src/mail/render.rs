//! The words of an e-mail: subject, plain text and HTML, from what the planner gathered. The
//! reader's view is already applied (channel labels, author badges): nothing here decides who
//! may see what.

use askama::Template;

/// One message as the e-mail shows it.
#[derive(Clone, Debug)]
pub struct MailItem {
    /// "Ana Ruiz (Studio)".
    pub author: String,
    /// Only the name, for subjects.
    pub author_name: String,
    /// "22 Nov 2026, 10:07 UTC".
    pub posted: String,
    pub text: String,
    /// "take_03.wav (1.2 MB)".
    pub files: Vec<String>,
    pub link: String,
    pub mention: bool,
}

/// The messages of one channel.
#[derive(Clone, Debug)]
pub struct MailSection {
    pub project: String,
    pub channel: String,
    pub items: Vec<MailItem>,
}

#[derive(Template)]
#[template(path = "email/notification.txt")]
struct TextBody<'a> {
    sections: &'a [MailSection],
    why: &'a str,
    settings_link: &'a str,
}

#[derive(Template)]
#[template(path = "email/notification.html")]
struct HtmlBody<'a> {
    title: &'a str,
    sections: &'a [MailSection],
    why: &'a str,
    settings_link: &'a str,
}

/// A rendered e-mail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// At most `max` characters of the first line, with an ellipsis when cut.
pub fn excerpt(text: &str, max: usize) -> String {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    if line.chars().count() <= max {
        line.to_string()
    } else {
        let cut: String = line.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    }
}

fn names(items: &[&MailItem]) -> String {
    let mut out: Vec<&str> = Vec::new();
    for i in items {
        if !out.contains(&i.author_name.as_str()) {
            out.push(&i.author_name);
        }
    }
    match out.len() {
        0 => String::new(),
        1..=3 => out.join(", "),
        n => format!("{} and {} others", out[..2].join(", "), n - 2),
    }
}

/// The subject: project, channel and author, as the rules ask.
pub fn subject(sections: &[MailSection], digest: bool) -> String {
    let items: Vec<&MailItem> = sections.iter().flat_map(|s| &s.items).collect();
    match (digest, sections, items.as_slice()) {
        (false, [s], [one]) if one.mention => format!(
            "[{}] {} mentioned you in {}: {}",
            s.project,
            one.author_name,
            s.channel,
            excerpt(&one.text, 60)
        ),
        (false, [s], [one]) => format!(
            "[{}] {} · {}: {}",
            s.project,
            s.channel,
            one.author_name,
            excerpt(&one.text, 60)
        ),
        (false, [s], many) => format!(
            "[{}] {} · {} new messages from {}",
            s.project,
            s.channel,
            many.len(),
            names(many)
        ),
        _ => {
            let mut projects: Vec<&str> = Vec::new();
            for s in sections {
                if !projects.contains(&s.project.as_str()) {
                    projects.push(&s.project);
                }
            }
            let shown = if projects.len() > 3 {
                format!(
                    "{} and {} more",
                    projects[..3].join(", "),
                    projects.len() - 3
                )
            } else {
                projects.join(", ")
            };
            let n = items.len();
            format!(
                "locportal digest: {n} new message{} in {shown}",
                if n == 1 { "" } else { "s" }
            )
        }
    }
}

/// Renders an e-mail. `why` says why the reader gets it ("You follow Night Train.").
pub fn render(
    sections: &[MailSection],
    digest: bool,
    why: &str,
    settings_link: &str,
) -> Result<Rendered, askama::Error> {
    let subject = subject(sections, digest);
    let text = TextBody {
        sections,
        why,
        settings_link,
    }
    .render()?;
    let html = HtmlBody {
        title: &subject,
        sections,
        why,
        settings_link,
    }
    .render()?;
    Ok(Rendered {
        subject,
        text,
        html,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn item(author: &str, text: &str, mention: bool) -> MailItem {
        MailItem {
            author: format!("{author} (Studio)"),
            author_name: author.into(),
            posted: "22 Nov 2026, 10:07 UTC".into(),
            text: text.into(),
            files: vec!["take_03.wav (1.2 MB)".into()],
            link: "https://portal.example/channels/x?at=3#m3".into(),
            mention,
        }
    }

    #[test]
    fn subjects_name_project_channel_and_author() {
        let s = |items| MailSection {
            project: "Night Train".into(),
            channel: "Broadcast".into(),
            items,
        };
        assert_eq!(
            subject(
                &[s(vec![item("Ana", "Mix notes\nsecond line", false)])],
                false
            ),
            "[Night Train] Broadcast · Ana: Mix notes"
        );
        assert_eq!(
            subject(&[s(vec![item("Ana", "Can you check?", true)])], false),
            "[Night Train] Ana mentioned you in Broadcast: Can you check?"
        );
        assert_eq!(
            subject(
                &[s(vec![
                    item("Ana", "a", false),
                    item("Bo", "b", false),
                    item("Ana", "c", false)
                ])],
                false
            ),
            "[Night Train] Broadcast · 3 new messages from Ana, Bo"
        );
        assert_eq!(
            subject(&[s(vec![item("Ana", "a", false)])], true),
            "locportal digest: 1 new message in Night Train"
        );
        assert_eq!(excerpt(&"x".repeat(100), 10).chars().count(), 10);
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let sections = [MailSection {
            project: "Night <Train>".into(),
            channel: "es-ES".into(),
            items: vec![item("Ana", "<script>alert(1)</script> & more", false)],
        }];
        let r = render(
            &sections,
            false,
            "You follow Night <Train>.",
            "https://p/settings",
        )
        .unwrap();
        assert!(r.html.contains("&#60;script&#62;"), "{}", r.html);
        assert!(!r.html.contains("<script>"));
        assert!(r.text.contains("<script>alert(1)</script> & more"));
        assert!(r.text.contains("Attachments: take_03.wav (1.2 MB)"));
        assert!(
            r.text
                .contains("Open: https://portal.example/channels/x?at=3#m3")
        );
        assert!(r.text.contains("E-mail settings: https://p/settings"));
    }
}

/// A task e-mail: a step of a request was assigned to someone, or became theirs to do.
#[derive(Template)]
#[template(path = "email/task.txt")]
pub struct TaskText<'a> {
    pub headline: &'a str,
    pub project: &'a str,
    pub what: &'a str,
    pub step: &'a str,
    pub due: &'a str,
    pub note: &'a str,
    pub link: &'a str,
    pub tasks_link: &'a str,
}

#[derive(Template)]
#[template(path = "email/task.html")]
pub struct TaskHtml<'a> {
    pub headline: &'a str,
    pub project: &'a str,
    pub what: &'a str,
    pub step: &'a str,
    pub due: &'a str,
    pub note: &'a str,
    pub link: &'a str,
    pub tasks_link: &'a str,
}

/// Renders a task e-mail (subject, text, HTML); the HTML part is escaped by askama.
#[allow(clippy::too_many_arguments)]
pub fn render_task(
    headline: &str,
    project: &str,
    what: &str,
    step: &str,
    due: &str,
    note: &str,
    link: &str,
    tasks_link: &str,
) -> Result<Rendered, askama::Error> {
    let text = TaskText {
        headline,
        project,
        what,
        step,
        due,
        note,
        link,
        tasks_link,
    }
    .render()?;
    let html = TaskHtml {
        headline,
        project,
        what,
        step,
        due,
        note,
        link,
        tasks_link,
    }
    .render()?;
    Ok(Rendered {
        subject: format!("[{project}] {headline}: {what}, due {due}"),
        text,
        html,
    })
}
