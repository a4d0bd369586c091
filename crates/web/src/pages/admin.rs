//! Administration: organisations, users, roles.

use crate::AppState;
use crate::auth::PortalUser;
use crate::error::PageError;
use crate::pages::{Layout, parse_id};
use app::admin::{NewUserInput, UserUpdate};
use app::{AppError, FieldErrors};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use domain::{Actor, OrgId, Organisation, Role, UserId};
use serde::Deserialize;

fn status_for(errors: &FieldErrors) -> StatusCode {
    if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_orgs.html")]
struct OrgsPage {
    layout: Layout,
    orgs: Vec<Organisation>,
    name: String,
    kind: String,
    errors: FieldErrors,
}

async fn orgs_page(
    state: &AppState,
    who: &app::auth::Authenticated,
    auth: &crate::auth::RequestAuth,
    name: String,
    kind: String,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let orgs = state.app.list_orgs(Actor::User(&who.subject)).await?;
    Ok((
        status_for(&errors),
        OrgsPage {
            layout: Layout::new("Organisations", auth),
            orgs,
            name,
            kind,
            errors,
        },
    )
        .into_response())
}

pub async fn orgs(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
) -> Result<Response, PageError> {
    orgs_page(
        &state,
        &who,
        &auth,
        String::new(),
        "partner".into(),
        FieldErrors::new(),
    )
    .await
}

#[derive(Deserialize)]
pub struct OrgForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
}

pub async fn create_org(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Form(form): Form<OrgForm>,
) -> Result<Response, PageError> {
    match state
        .app
        .create_org(Actor::User(&who.subject), &form.name, &form.kind)
        .await
    {
        Ok(_) => Ok(Redirect::to("/admin/orgs").into_response()),
        Err(AppError::Invalid(errors) | AppError::Conflict(errors)) => {
            orgs_page(&state, &who, &auth, form.name, form.kind, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn rename_org(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Path(id): Path<String>,
    Form(form): Form<OrgForm>,
) -> Result<Response, PageError> {
    let id: OrgId = parse_id(&id)?;
    match state
        .app
        .rename_org(Actor::User(&who.subject), id, &form.name)
        .await
    {
        Ok(_) => Ok(Redirect::to("/admin/orgs").into_response()),
        Err(AppError::Invalid(errors) | AppError::Conflict(errors)) => {
            orgs_page(&state, &who, &auth, String::new(), "partner".into(), errors).await
        }
        Err(e) => Err(e.into()),
    }
}

pub struct UserRow {
    id: String,
    name: String,
    email: String,
    org: String,
    roles: Vec<String>,
    disabled: bool,
}

#[derive(Default)]
pub struct NewUserView {
    email: String,
    display_name: String,
    org: String,
    roles: Vec<String>,
}

impl NewUserView {
    fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_users.html")]
struct UsersPage {
    layout: Layout,
    users: Vec<UserRow>,
    orgs: Vec<(String, String)>,
    all_roles: Vec<(&'static str, &'static str)>,
    f: NewUserView,
    errors: FieldErrors,
}

fn all_roles() -> Vec<(&'static str, &'static str)> {
    Role::ALL
        .iter()
        .map(|r| (r.as_str(), r.describe()))
        .collect()
}

async fn users_page(
    state: &AppState,
    who: &app::auth::Authenticated,
    auth: &crate::auth::RequestAuth,
    f: NewUserView,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let actor = Actor::User(&who.subject);
    let users = state
        .app
        .list_users(actor)
        .await?
        .into_iter()
        .map(|u| UserRow {
            id: u.user.id.to_string(),
            name: u.user.display_name.to_string(),
            email: u.user.email.to_string(),
            org: u.org.name.to_string(),
            roles: u
                .user
                .roles
                .iter()
                .map(|r| r.as_str().to_string())
                .collect(),
            disabled: u.user.disabled,
        })
        .collect();
    let orgs = state
        .app
        .list_orgs(actor)
        .await?
        .into_iter()
        .map(|o| (o.id.to_string(), format!("{} ({})", o.name, o.kind)))
        .collect();
    Ok((
        status_for(&errors),
        UsersPage {
            layout: Layout::new("Users", auth),
            users,
            orgs,
            all_roles: all_roles(),
            f,
            errors,
        },
    )
        .into_response())
}

pub async fn users(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
) -> Result<Response, PageError> {
    let f = NewUserView {
        roles: vec!["portal_user".into()],
        ..Default::default()
    };
    users_page(&state, &who, &auth, f, FieldErrors::new()).await
}

#[derive(Deserialize)]
pub struct NewUserForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    roles: Vec<String>,
}

pub async fn create_user(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Form(form): Form<NewUserForm>,
) -> Result<Response, PageError> {
    let input = NewUserInput {
        org: form.org.clone(),
        email: form.email.clone(),
        display_name: form.display_name.clone(),
        roles: form.roles.join(","),
        password: Some(form.password.clone()).filter(|p| !p.is_empty()),
    };
    match state
        .app
        .create_user(Actor::User(&who.subject), &input)
        .await
    {
        Ok(u) => Ok(Redirect::to(&format!("/admin/users/{}", u.user.id)).into_response()),
        Err(AppError::Invalid(errors) | AppError::Conflict(errors)) => {
            let f = NewUserView {
                email: form.email,
                display_name: form.display_name,
                org: form.org,
                roles: form.roles,
            };
            users_page(&state, &who, &auth, f, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_user.html")]
struct UserPage {
    layout: Layout,
    id: String,
    name: String,
    email: String,
    org: String,
    roles: Vec<String>,
    disabled: bool,
    all_roles: Vec<(&'static str, &'static str)>,
    errors: FieldErrors,
}

impl UserPage {
    fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }
}

async fn user_page(
    state: &AppState,
    who: &app::auth::Authenticated,
    auth: &crate::auth::RequestAuth,
    id: UserId,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let u = state
        .app
        .get_user_admin(Actor::User(&who.subject), id)
        .await?;
    Ok((
        status_for(&errors),
        UserPage {
            layout: Layout::new(u.user.display_name.to_string(), auth),
            id: u.user.id.to_string(),
            name: u.user.display_name.to_string(),
            email: u.user.email.to_string(),
            org: u.org.name.to_string(),
            roles: u
                .user
                .roles
                .iter()
                .map(|r| r.as_str().to_string())
                .collect(),
            disabled: u.user.disabled,
            all_roles: all_roles(),
            errors,
        },
    )
        .into_response())
}

pub async fn user(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id: UserId = parse_id(&id)?;
    user_page(&state, &who, &auth, id, FieldErrors::new()).await
}

#[derive(Deserialize)]
pub struct UpdateUserForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    roles: Vec<String>,
    #[serde(default)]
    disabled: Option<String>,
}

pub async fn update_user(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Path(id): Path<String>,
    Form(form): Form<UpdateUserForm>,
) -> Result<Response, PageError> {
    let id: UserId = parse_id(&id)?;
    let change = UserUpdate {
        display_name: Some(form.display_name),
        roles: Some(form.roles.join(",")),
        disabled: Some(form.disabled.is_some()),
    };
    match state
        .app
        .update_user(Actor::User(&who.subject), id, &change)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/admin/users/{id}")).into_response()),
        Err(AppError::Invalid(errors) | AppError::Conflict(errors)) => {
            user_page(&state, &who, &auth, id, errors).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct SetPasswordForm {
    #[serde(default)]
    password: String,
}

pub async fn set_password(
    State(state): State<AppState>,
    PortalUser(who, auth): PortalUser,
    Path(id): Path<String>,
    Form(form): Form<SetPasswordForm>,
) -> Result<Response, PageError> {
    let id: UserId = parse_id(&id)?;
    match state
        .app
        .set_user_password(Actor::User(&who.subject), id, &form.password)
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/admin/users/{id}")).into_response()),
        Err(AppError::Invalid(errors) | AppError::Conflict(errors)) => {
            user_page(&state, &who, &auth, id, errors).await
        }
        Err(e) => Err(e.into()),
    }
}
