//! Server-rendered pages. Every page works without JavaScript; forms post back and re-render
//! with errors next to the fields.

mod admin;
mod audio;
mod channels;
pub(crate) mod guide;
mod mail;
mod projects;
mod requests;
mod search;
pub mod session;
mod settings;

use crate::AppState;
use crate::auth::RequestAuth;
use app::auth::Authenticated;
use axum::Router;
use axum::routing::{get, post};
use domain::{Action, OrgKind, Resource, Role, authorize};

/// What the top bar needs.
pub struct UserBar {
    pub name: String,
    pub org_badge: String,
    pub is_studio: bool,
    pub is_admin: bool,
    pub portal: bool,
}

/// The shared frame of every page.
pub struct Layout {
    pub title: String,
    pub user: Option<UserBar>,
    pub csrf: String,
    /// The title finder's current text.
    pub q: String,
    pub flash: Option<String>,
}

impl Layout {
    pub fn new(title: impl Into<String>, auth: &RequestAuth) -> Self {
        let user = auth.who.as_deref().map(user_bar);
        Self {
            title: title.into(),
            user,
            csrf: auth.csrf_token(),
            q: String::new(),
            flash: None,
        }
    }

    pub fn with_flash(mut self, flash: Option<String>) -> Self {
        self.flash = flash;
        self
    }
}

fn user_bar(a: &Authenticated) -> UserBar {
    let s = &a.subject;
    UserBar {
        name: a.user.display_name.to_string(),
        // A partner only ever sees its own name; the studio is labelled "Studio".
        org_badge: match a.org.kind {
            OrgKind::Studio => "Studio".to_string(),
            OrgKind::Partner => a.org.name.to_string(),
        },
        is_studio: s.is_studio(),
        is_admin: authorize(Some(s), Action::Administer, Resource::Portal).is_allowed(),
        portal: s.has(Role::PortalUser),
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(projects::my_projects))
        .route(
            "/sign-in",
            get(session::sign_in_page).post(session::sign_in),
        )
        .route("/sign-out", post(session::sign_out))
        .route("/tasks", get(requests::tasks))
        .route("/tasks/{id}", get(requests::show))
        .route(
            "/projects/{id}/requests",
            get(requests::list).post(requests::create),
        )
        .route("/projects/{id}/requests.csv", get(requests::csv))
        .route("/projects/{id}/requests/bulk", post(requests::bulk))
        .route("/requests/{id}", get(requests::show))
        .route("/requests/{id}/{action}", post(requests::act))
        .route("/request-files/{id}", get(requests::file))
        .route(
            "/projects/{id}/members",
            get(requests::members).post(requests::set_member),
        )
        .route(
            "/projects/{id}/moments",
            get(audio::board).post(audio::create),
        )
        .route("/projects/{id}/guide", get(guide::show))
        .route("/projects/{id}/guide.csv", get(guide::csv))
        .route("/projects/{id}/guide/{action}", post(guide::act))
        .route("/guide-files/{id}", get(guide::file))
        .route("/projects/{id}/casting", get(guide::casting))
        .route("/fulfilments/{id}", get(audio::show))
        .route("/fulfilments/{id}/{action}", post(audio::act))
        .route("/audio-requests/{id}/clip", get(audio::clip))
        .route("/delivery-files/{id}", get(audio::delivery))
        .route("/delivery-files/{id}/waveform.svg", get(audio::waveform))
        .route("/find", get(projects::find))
        .route("/projects/new", get(projects::new_form))
        .route("/projects", post(projects::create))
        .route("/projects/{id}", get(projects::show).post(projects::update))
        .route("/projects/{id}/edit", get(projects::edit_form))
        .route("/projects/{id}/follow", post(projects::follow))
        .route("/projects/{id}/unfollow", post(projects::unfollow))
        .route(
            "/settings/tokens",
            get(settings::tokens).post(settings::create_token),
        )
        .route("/settings/tokens/{id}/revoke", post(settings::revoke_token))
        .route("/projects/{id}/channels", get(channels::project_channels))
        .route("/search", get(search::search))
        .route("/channels/{id}", get(channels::channel))
        .route("/channels/{id}/messages", post(channels::post))
        .route("/attachments/{id}", get(channels::attachment))
        .route("/messages/{id}/edit", post(channels::edit))
        .route("/messages/{id}/delete", post(channels::delete))
        .route(
            "/settings/app",
            get(channels::settings).post(channels::save_settings),
        )
        .route("/settings/app/email", post(mail::save_email_settings))
        .route("/projects/{id}/mute", post(mail::mute))
        .route("/projects/{id}/unmute", post(mail::unmute))
        .route("/notifications", get(mail::notifications))
        .route("/admin/mail", get(mail::outbox))
        .route("/admin/mail/{id}", get(mail::outgoing))
        .route("/admin/mail/{id}/retry", post(mail::retry))
        .route("/settings/account", get(settings::account))
        .route(
            "/settings/account/password",
            post(settings::change_password),
        )
        .route("/admin/orgs", get(admin::orgs).post(admin::create_org))
        .route("/admin/orgs/{id}", post(admin::rename_org))
        .route("/admin/users", get(admin::users).post(admin::create_user))
        .route(
            "/admin/users/{id}",
            get(admin::user).post(admin::update_user),
        )
        .route("/admin/users/{id}/password", post(admin::set_password))
}

/// Where to go after signing in (or following a project): only a path on this site. Anything
/// else (a scheme, an authority `//host`, a backslash that browsers read as a slash, tabs and
/// line breaks that browsers drop from URLs, anything but printable ASCII, so it is always a
/// valid `Location` header) becomes `/`.
pub(crate) fn safe_next(next: &str) -> String {
    let same_origin_path = next.starts_with('/')
        && !next[1..].starts_with('/')
        && !next.contains('\\')
        && next.bytes().all(|b| b.is_ascii_graphic())
        && next.parse::<axum::http::uri::PathAndQuery>().is_ok();
    if same_origin_path {
        next.to_string()
    } else {
        "/".to_string()
    }
}

/// A path parameter that must be an id; anything else is simply "not found".
pub(crate) fn parse_id<T: std::str::FromStr>(s: &str) -> Result<T, crate::error::PageError> {
    s.parse()
        .map_err(|_| crate::error::PageError(app::AppError::NotFound))
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_same_origin_paths_are_redirect_targets() {
        let cases = [
            ("/projects/1?saved=created", "/projects/1?saved=created"),
            ("/channels/9#m3", "/channels/9#m3"),
            ("/", "/"),
            ("", "/"),
            ("https://evil.example/", "/"),
            ("//evil.example/", "/"),
            ("/\\evil.example/", "/"),
            ("/a\\b", "/"),
            ("/\t/127.0.0.2:8999/again", "/"),
            ("/\n", "/"),
            ("/\r\nSet-Cookie: x=1", "/"),
            ("/ /evil", "/"),
            ("/caf\u{e9}", "/"),
            ("/\u{7f}", "/"),
            ("javascript:alert(1)", "/"),
        ];
        for (input, expected) in cases {
            assert_eq!(safe_next(input), expected, "{input:?}");
        }
    }
}
