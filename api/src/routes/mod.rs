//! Every route, registered once: the registration is also what puts the
//! operation into the OpenAPI document.

/// An API enum (snake_case in JSON, with a schema) that mirrors a domain
/// enum variant for variant, with conversions both ways.
macro_rules! mirror_enum {
    ($api:ident <=> $domain:ident { $($variant:ident),* $(,)? }) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        pub enum $api { $($variant),* }

        impl From<$api> for $domain {
            fn from(v: $api) -> Self { match v { $($api::$variant => $domain::$variant),* } }
        }

        impl From<$domain> for $api {
            fn from(v: $domain) -> Self { match v { $($domain::$variant => $api::$variant),* } }
        }
    };
}

/// Declares structs that share a run of fields, so that the run is
/// written once and every schema carrying it stays flat in the OpenAPI
/// document (`#[serde(flatten)]` would publish an `allOf`, and serde cannot
/// combine it with `deny_unknown_fields`):
///
/// ```text
/// sharing_fields! {
///     { shared fields.. }
///     /// docs, derives, serde attributes
///     pub struct Name { own fields before.. } { own fields after.. }
///     ..more structs
/// }
/// ```
///
/// Each field list ends with a comma when it is not empty. Only `pub`
/// structs with named fields and no generics; a comment on the shared
/// group is `//`, not `///` (a doc comment there is not a field).
macro_rules! sharing_fields {
    // One struct: the shared group pasted between its own two lists (the
    // group is matched as one token tree so every struct can repeat it).
    (@one { $($shared:tt)* } $(#[$meta:meta])* $name:ident { $($before:tt)* } { $($after:tt)* }) => {
        $(#[$meta])*
        pub struct $name { $($before)* $($shared)* $($after)* }
    };
    ($shared:tt $($(#[$meta:meta])* pub struct $name:ident { $($before:tt)* } { $($after:tt)* })+) => {
        $(sharing_fields!(@one $shared $(#[$meta])* $name { $($before)* } { $($after)* });)+
    };
}

/// Who a party of a partnership is, as its members see it (partner
/// organizations see `SharedParty`): an artisan or a collective (the other
/// id is absent, never `null`), and its name.
macro_rules! party_fields {
    ($($decl:tt)+) => {
        sharing_fields! {
            {
                #[schema(format = Uuid)]
                #[serde(skip_serializing_if = "Option::is_none")]
                #[schema(nullable = false)]
                pub artisan_id: Option<String>,
                #[schema(format = Uuid)]
                #[serde(skip_serializing_if = "Option::is_none")]
                #[schema(nullable = false)]
                pub collective_id: Option<String>,
                pub display_name: String,
            }
            $($decl)+
        }
    };
}

/// What one recipient of a partnership's sales received: the recipient (a
/// party or a named beneficiary) and its gross, refunded and net amounts.
macro_rules! payout_fields {
    ($($decl:tt)+) => {
        sharing_fields! {
            {
                /// The party, for a party recipient.
                #[schema(format = Uuid)]
                pub party_id: Option<String>,
                /// The beneficiary's name, for a beneficiary.
                pub beneficiary_name: Option<String>,
                /// Its share of the sales counted.
                pub gross_minor: i64,
                /// Taken back by the refunds counted (≤ 0).
                pub refunded_minor: i64,
                /// `gross_minor + refunded_minor`.
                pub net_minor: i64,
            }
            $($decl)+
        }
    };
}

/// The place of an artisan's or a collective's PATCH body: absent keeps
/// it, `null` clears it.
macro_rules! place_change_fields {
    ($($decl:tt)+) => {
        sharing_fields! {
            {
                /// ISO 3166-1 alpha-2; `null` clears it.
                #[serde(default, deserialize_with = "crate::routes::present")]
                #[schema(value_type = Option<crate::schema::CountryCode>, nullable)]
                pub country: Option<Option<String>>,
                /// `null` clears it.
                #[serde(default, deserialize_with = "crate::routes::present")]
                #[schema(value_type = Option<crate::schema::Region>, nullable)]
                pub region: Option<Option<String>>,
            }
            $($decl)+
        }
    };
}

pub mod admin;
pub mod agreements;
pub mod artisans;
pub mod auth;
pub mod campaigns;
pub mod collections;
pub mod collectives;
pub mod events;
pub mod exchanges;
pub mod expenses;
pub mod health;
pub mod impact;
pub mod me;
pub mod notifications;
pub mod organizations;
pub mod partner;
pub mod partnerships;
pub mod problems;
pub mod programs;
pub mod sales;
pub mod settlements;
pub mod webhooks;
pub mod workshops;

use domain::FieldError;
use serde::Deserialize;
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;
use validator::{ValidationErrors, ValidationErrorsKind};

use crate::error::ApiError;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(health::metrics)
        .service(problems::describe_problem)
        .service(
            scope::scope("/v1")
                .configure(auth::configure)
                .configure(me::configure)
                .configure(notifications::configure)
                .configure(artisans::configure)
                .configure(collectives::configure)
                .configure(organizations::configure)
                .configure(admin::configure)
                .configure(partnerships::configure)
                .configure(agreements::configure)
                .configure(sales::configure)
                .configure(settlements::configure)
                .configure(exchanges::configure)
                .configure(workshops::configure)
                .configure(events::configure)
                .configure(expenses::configure)
                .configure(collections::configure)
                .configure(campaigns::configure)
                .configure(partner::configure)
                .configure(programs::configure)
                .configure(impact::configure)
                .configure(webhooks::configure),
        );
}

/// Turns `validator` results into 422 field errors.
pub(crate) fn validation(errors: ValidationErrors) -> ApiError {
    let mut out = Vec::new();
    for (field, kind) in errors.errors() {
        if let ValidationErrorsKind::Field(list) = kind {
            for error in list {
                let message = error.message.as_ref().map_or_else(
                    || format!("breaks the rule '{}'", error.code),
                    ToString::to_string,
                );
                out.push(FieldError::new(field.to_string(), "invalid", message));
            }
        }
    }
    ApiError::Validation(out)
}

/// For `Option<Option<T>>` fields with `#[serde(default)]`: a present
/// value (even `null`) is `Some`, an absent one stays `None`, so PATCH can
/// tell "clear it" from "leave it".
pub(crate) fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// An integer field that also takes a JSON number with a zero fraction
/// (`1856.0`): JSON Schema calls both integers, so clients may send either.
pub(crate) fn whole_number<'de, D>(d: D) -> Result<i64, D::Error>
where
    D: serde::Deserializer<'de>,
{
    whole(serde_json::Number::deserialize(d)?)
}

/// The same for an optional field (absent with `#[serde(default)]`, or
/// `null`: `None`).
pub(crate) fn optional_whole_number<'de, D>(d: D) -> Result<Option<i64>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    Option::<serde_json::Number>::deserialize(d)?
        .map(whole)
        .transpose()
}

/// The same for a field of a change where `null` clears the value (absent
/// with `#[serde(default)]`: `None`; `null`: `Some(None)`).
pub(crate) fn present_whole_number<'de, D>(d: D) -> Result<Option<Option<i64>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    optional_whole_number(d).map(Some)
}

fn whole<E: serde::de::Error>(number: serde_json::Number) -> Result<i64, E> {
    if let Some(i) = number.as_i64() {
        return Ok(i);
    }
    number
        .as_f64()
        .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
        .map(|f| f as i64)
        .ok_or_else(|| E::custom(format!("expected a whole number, got {number}")))
}

/// The API and domain shapes of the terms are the same JSON; converting
/// through it keeps them from drifting apart field by field.
pub(crate) fn convert<T: serde::Serialize, U: serde::de::DeserializeOwned>(
    value: &T,
) -> Result<U, ApiError> {
    serde_json::to_value(value)
        .and_then(serde_json::from_value)
        .map_err(ApiError::internal)
}

/// RFC 3339 UTC for a stored timestamp.
pub(crate) fn utc(t: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    t.and_utc()
}
