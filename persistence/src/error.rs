//! The one error of storage operations: what callers must tell apart, with
//! no wording of its own. A refusal is the domain's typed decision
//! ([`domain::Refusal`]); the API gives each its status and words.

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use domain::refusal::{
    AccountRefusal, AgreementRefusal, EventRefusal, ExchangeRefusal, ExpenseRefusal,
    MembershipRefusal, PartnershipRefusal, ProgramRefusal, Refusal, RevenueRefusal,
    WorkshopRefusal,
};
use domain::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist (or is not visible to the caller).
    #[error("not found")]
    NotFound,
    /// The caller's `If-Match` names no current version.
    #[error("stale version")]
    Stale,
    /// A domain rule refused the change.
    #[error("refused: {0:?}")]
    Refused(Refusal),
    /// Well-formed input that breaks a rule only the stored state can tell
    /// (an id naming nothing, a date outside every agreement, …).
    #[error("invalid: {0:?}")]
    Invalid(FieldErrors),
    /// Stored data this code cannot read (a bug, never the caller's fault).
    #[error("corrupt: {0}")]
    Corrupt(&'static str),
    /// No connection could be had (database unreachable or pool exhausted).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Db(DieselError),
}

impl From<FieldErrors> for StoreError {
    fn from(errors: FieldErrors) -> Self {
        StoreError::Invalid(errors)
    }
}

impl From<domain::FieldError> for StoreError {
    fn from(error: domain::FieldError) -> Self {
        StoreError::Invalid(error.into())
    }
}

impl From<domain::refusal::Denied> for StoreError {
    fn from(denied: domain::refusal::Denied) -> Self {
        match denied {
            domain::refusal::Denied::Refused(refusal) => StoreError::Refused(refusal),
            domain::refusal::Denied::Invalid(errors) => StoreError::Invalid(errors),
        }
    }
}

impl From<Refusal> for StoreError {
    fn from(refusal: Refusal) -> Self {
        StoreError::Refused(refusal)
    }
}

macro_rules! refusals {
    ($($inner:ty),* $(,)?) => {
        $(impl From<$inner> for StoreError {
            fn from(refusal: $inner) -> Self {
                StoreError::Refused(refusal.into())
            }
        })*
    };
}

refusals!(
    AccountRefusal,
    AgreementRefusal,
    ExchangeRefusal,
    MembershipRefusal,
    PartnershipRefusal,
    RevenueRefusal,
    WorkshopRefusal,
    EventRefusal,
    ExpenseRefusal,
    ProgramRefusal,
);

impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => StoreError::NotFound,
            lost if is_connection_failure(&lost) => StoreError::Unavailable(lost.to_string()),
            other => StoreError::Db(other),
        }
    }
}

/// Maps a unique violation to the refusal it means (`taken`); any other
/// error as usual.
pub(crate) fn unless_taken(
    taken: impl Into<Refusal> + Clone,
) -> impl Fn(DieselError) -> StoreError {
    move |error| match error {
        DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => {
            StoreError::Refused(taken.clone().into())
        }
        other => StoreError::from(other),
    }
}

pub(crate) fn is_connection_failure(error: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    matches!(
        error,
        Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        ) | Error::BrokenTransactionManager
    )
}
