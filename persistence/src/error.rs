//! The outcomes of storage operations that callers must tell apart.

use diesel::result::{DatabaseErrorKind, Error as DieselError};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The row does not exist (or is not visible to the caller).
    #[error("not found")]
    NotFound,
    /// The caller's `If-Match` version is not the current one.
    #[error("stale version")]
    StaleVersion,
    /// A uniqueness rule was broken; the payload names what was duplicated.
    #[error("duplicate {0}")]
    Duplicate(&'static str),
    /// The caller may see the object but not do this to it (→ 403).
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// An id in the request body names nothing the caller may use; the
    /// payload names the field (→ 422).
    #[error("unknown reference in {0}")]
    UnknownReference(&'static str),
    /// Well-formed input that breaks a rule only the stored state can
    /// tell (→ 422 naming the fields).
    #[error("invalid: {0:?}")]
    Invalid(domain::FieldErrors),
    /// A state rule refused the change, with a message that names what
    /// blocks it (→ 409).
    #[error("conflict: {0}")]
    Conflict(String),
    /// A state rule refused the change (e.g. removing the last
    /// coordinator); the payload says which, for the client.
    #[error("refused: {0}")]
    Refused(&'static str),
    /// No connection could be had (database unreachable or pool exhausted).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Query(DieselError),
}

impl From<domain::FieldErrors> for DbError {
    fn from(errors: domain::FieldErrors) -> Self {
        DbError::Invalid(errors)
    }
}

impl From<DieselError> for DbError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => DbError::NotFound,
            lost if crate::db::is_connection_failure(&lost) => {
                DbError::Unavailable(lost.to_string())
            }
            other => DbError::Query(other),
        }
    }
}

/// Maps a unique violation to [`DbError::Duplicate`] naming `what`.
pub(crate) fn duplicate_as(what: &'static str) -> impl Fn(DieselError) -> DbError {
    move |error| match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            DbError::Duplicate(what)
        }
        other => DbError::from(other),
    }
}
