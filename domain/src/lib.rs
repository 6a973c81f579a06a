//! Pure rules and types of Artisan Commons.
//!
//! Everything here is free of I/O: validated newtypes (parse, don't validate),
//! typed ids, the profile rules and the key format. The persistence and api
//! crates build on these types; nothing here knows about HTTP or SQL.

pub mod account;
pub mod agreement;
pub mod allocation;
pub mod api_key;
pub mod campaign;
pub mod canonical;
pub mod collection;
pub mod collective;
pub mod country;
pub mod error;
pub mod exchange;
pub mod expense;
pub mod ids;
pub mod impact;
pub mod market_event;
pub mod matching;
pub mod money;
pub mod notification;
pub mod organization;
pub mod partnership;
pub mod precondition;
pub mod profile;
pub mod program;
pub mod refusal;
pub mod sale;
pub mod seats;
pub mod text;
pub mod webhook;
pub mod workshop;

pub use error::{FieldError, FieldErrors};
pub use refusal::Refusal;
