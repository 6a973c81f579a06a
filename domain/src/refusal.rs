//! Every way the domain refuses a request that is well-formed: the typed
//! outcome of a decision, one enum per aggregate, gathered here so that
//! storage can carry any of them (`persistence::StoreError::Refused`) and
//! the API can give each its status and wording in one table
//! (`api::error`). Nothing here is English for clients.

pub use crate::account::AccountRefusal;
pub use crate::agreement::AgreementRefusal;
pub use crate::collection::CollectionRefusal;
pub use crate::collective::MembershipRefusal;
pub use crate::exchange::ExchangeRefusal;
pub use crate::expense::ExpenseRefusal;
pub use crate::market_event::EventRefusal;
pub use crate::partnership::PartnershipRefusal;
pub use crate::program::ProgramRefusal;
pub use crate::sale::RevenueRefusal;
pub use crate::webhook::WebhookRefusal;
pub use crate::workshop::WorkshopRefusal;

/// Declares [`Refusal`] with one variant per aggregate's enum, each
/// convertible into it.
macro_rules! refusals {
    ($($variant:ident($inner:ty)),* $(,)?) => {
        /// A refusal by any aggregate.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Refusal {
            $($variant($inner),)*
        }

        $(impl From<$inner> for Refusal {
            fn from(refusal: $inner) -> Self {
                Refusal::$variant(refusal)
            }
        })*
    };
}

refusals!(
    Account(AccountRefusal),
    Partnership(PartnershipRefusal),
    Agreement(AgreementRefusal),
    Membership(MembershipRefusal),
    Exchange(ExchangeRefusal),
    Workshop(WorkshopRefusal),
    Event(EventRefusal),
    Expense(ExpenseRefusal),
    Revenue(RevenueRefusal),
    Collection(CollectionRefusal),
    Program(ProgramRefusal),
    Webhook(WebhookRefusal),
);

/// Why a decision says no: a refusal of the request as such, or fields of
/// it that cannot be accepted in the current state (→ 422 naming them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    Refused(Refusal),
    Invalid(crate::FieldErrors),
}

impl<R: Into<Refusal>> From<R> for Denied {
    fn from(refusal: R) -> Self {
        Denied::Refused(refusal.into())
    }
}

impl From<crate::FieldError> for Denied {
    fn from(error: crate::FieldError) -> Self {
        Denied::Invalid(error.into())
    }
}

impl From<crate::FieldErrors> for Denied {
    fn from(errors: crate::FieldErrors) -> Self {
        Denied::Invalid(errors)
    }
}
