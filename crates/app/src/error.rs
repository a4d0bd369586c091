//! The one error type of the use cases. `web` renders it as a page or as JSON in one place.

use domain::{DenyReason, ValueError};
use store::{Conflict, StoreError};

/// Problems with what the user typed, each tied to the form field it belongs to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<(String, String)>);

impl FieldErrors {
    /// Every message, in order, as one line (for a page's error banner).
    pub fn text(&self) -> String {
        self.0
            .iter()
            .map(|(_, m)| m.clone())
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push((field.into(), message.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The first message for `field`, for showing next to it.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// Parses one value, recording the error under `field` on failure.
    pub fn take<T>(&mut self, field: &str, r: Result<T, ValueError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e.0);
                None
            }
        }
    }

    pub fn into_result(self) -> Result<(), AppError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(self))
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    Denied(DenyReason),
    #[error("not found")]
    NotFound,
    #[error("the input has problems: {0:?}")]
    Invalid(FieldErrors),
    /// The input is well formed but clashes with what exists (a name or ID already taken, a
    /// second studio); the problems are tied to fields like [`AppError::Invalid`]'s.
    #[error("the input conflicts with existing data: {0:?}")]
    Conflict(FieldErrors),
    /// The request body is larger than allowed; the text says what the limit is.
    #[error("{0}")]
    TooLarge(String),
    #[error("wrong e-mail address or password")]
    BadCredentials,
    #[error("too many failed attempts; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: i64 },
    #[error(transparent)]
    Store(StoreError),
    #[error("{0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let mut e = FieldErrors::new();
        e.add(field, message);
        AppError::Invalid(e)
    }

    pub fn conflict(field: &str, message: impl Into<String>) -> Self {
        let mut e = FieldErrors::new();
        e.add(field, message);
        AppError::Conflict(e)
    }

    pub fn field_errors(&self) -> Option<&FieldErrors> {
        match self {
            AppError::Invalid(e) | AppError::Conflict(e) => Some(e),
            _ => None,
        }
    }
}

impl From<DenyReason> for AppError {
    fn from(r: DenyReason) -> Self {
        AppError::Denied(r)
    }
}

impl From<StoreError> for AppError {
    /// Uniqueness conflicts become conflicts on the field that caused them; everything else
    /// stays a store error (rendered as an opaque 500 and logged).
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict(c) => {
                let (field, msg) = match c {
                    Conflict::OrganisationName => {
                        ("name", "an organisation with this name already exists")
                    }
                    Conflict::Email => ("email", "a user with this e-mail address already exists"),
                    Conflict::MovieId => (
                        "movie_id",
                        "this movie ID is already used by another title or episode",
                    ),
                    Conflict::ApiTokenName => ("name", "you already have a token with this name"),
                    Conflict::Other(_) => ("", "this conflicts with existing data"),
                };
                AppError::conflict(field, msg)
            }
            other => AppError::Store(other),
        }
    }
}
