//! Schema-only types for the OpenAPI document: the constraints the domain
//! enforces (slug and language-tag patterns, the country list, URL shape,
//! "no control characters", list sizes and uniqueness) written as JSON
//! Schema, so clients and fuzzers can tell valid input from invalid. They
//! are used as `value_type`s; the values themselves stay plain strings.

use std::borrow::Cow;

use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, Type,
};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::routes::organizations::ScopeName;

/// One line of text: not blank, no control characters.
const LINE: &str = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$";
/// Free text: newlines and tabs allowed, other control characters not.
const TEXT: &str = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$";
/// Free text that is not blank.
const TEXT_NOT_BLANK: &str = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$";

macro_rules! string_schema {
    ($name:ident, $description:literal, $pattern:expr, $min:expr, $max:expr) => {
        #[doc = $description]
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some($description))
                    .pattern($pattern)
                    .min_length($min)
                    .max_length($max)
                    .into()
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }
        }
    };
}

macro_rules! list_schema {
    ($name:ident, $item:ident, $min:expr, $max:expr) => {
        #[doc = concat!("A list of distinct `", stringify!($item), "` values.")]
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ArrayBuilder::new()
                    .items(Ref::from_schema_name(stringify!($item)))
                    .min_items($min)
                    .max_items(Some($max))
                    .unique_items(true)
                    .into()
            }
        }

        impl ToSchema for $name {
            fn name() -> Cow<'static, str> {
                Cow::Borrowed(stringify!($name))
            }

            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                schemas.push(($item::name().into_owned(), $item::schema()));
            }
        }
    };
}

string_schema!(
    Slug,
    "A craft, skill or community slug.",
    Some(r"^[a-z0-9-]{1,40}$"),
    Some(1),
    Some(40)
);
string_schema!(
    LanguageTag,
    "A BCP 47 language tag such as `es` or `qu-PE`.",
    Some(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"),
    Some(2),
    Some(35)
);
string_schema!(
    WebUrl,
    "An absolute http(s) URL.",
    Some(r"^https?://[A-Za-z0-9.:\[\]-]+([/?#][^\s\x00-\x1F\x7F-\x9F]*)?$"),
    Some(8),
    Some(2048)
);
string_schema!(
    DisplayName,
    "A display name: 1–80 characters, not blank.",
    Some(LINE),
    Some(1),
    Some(80)
);
string_schema!(
    Tradition,
    "A cultural tradition, as the artisan names it.",
    Some(LINE),
    Some(1),
    Some(80)
);
string_schema!(
    Goal,
    "A shared goal of a partnership.",
    Some(LINE),
    Some(1),
    Some(200)
);
string_schema!(Region, "A region name.", Some(LINE), Some(1), Some(100));
string_schema!(
    OrganizationName,
    "An organization's name.",
    Some(LINE),
    Some(1),
    Some(120)
);
string_schema!(
    KeyName,
    "What an API key is for.",
    Some(LINE),
    Some(1),
    Some(80)
);
string_schema!(
    Bio,
    "Free text; newlines allowed.",
    Some(TEXT),
    None,
    Some(2000)
);
string_schema!(
    DescriptionText,
    "Free text; newlines allowed.",
    Some(TEXT),
    None,
    Some(2000)
);
string_schema!(
    EmailAddress,
    "An e-mail address.",
    Some(r"^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*@[A-Za-z0-9-]{1,63}(\.[A-Za-z0-9-]{1,63})+$"),
    Some(3),
    Some(254)
);

string_schema!(
    CommitmentText,
    "What a party commits to.",
    Some(LINE),
    Some(1),
    Some(500)
);
string_schema!(
    CreditLine,
    "How a creator and their tradition are credited.",
    Some(LINE),
    Some(1),
    Some(300)
);
string_schema!(
    PromotionChannel,
    "A promotion channel.",
    Some(LINE),
    Some(1),
    Some(80)
);
string_schema!(
    ReasonText,
    "Why; newlines allowed, not blank.",
    Some(TEXT_NOT_BLANK),
    Some(1),
    Some(1000)
);
string_schema!(
    Story,
    "The story of a collection; newlines allowed.",
    Some(TEXT),
    None,
    Some(5000)
);
string_schema!(
    Cause,
    "What a campaign is for; newlines allowed, not blank.",
    Some(TEXT_NOT_BLANK),
    Some(1),
    Some(2000)
);
string_schema!(
    Sku,
    "A stock-keeping unit: letters, digits, '-', '_' and '.'.",
    Some("^[A-Za-z0-9._-]+$"),
    Some(1),
    Some(64)
);
string_schema!(
    ContentHash,
    "Lower-case hex SHA-256 of the agreement's canonical JSON (RFC 8785).",
    Some("^[0-9a-f]{64}$"),
    Some(64),
    Some(64)
);

list_schema!(SlugList, Slug, None, 20);
list_schema!(CommunityList, Slug, None, 10);
list_schema!(LanguageList, LanguageTag, None, 10);
list_schema!(LinkList, WebUrl, None, 10);
list_schema!(TraditionList, Tradition, None, 10);
list_schema!(GoalList, Goal, None, 10);
list_schema!(PromotionChannelList, PromotionChannel, None, 10);
list_schema!(SkillList, Slug, None, 10);
list_schema!(ScopeList, ScopeName, Some(1), 5);

/// An ISO 3166-1 alpha-2 country code.
pub struct CountryCode;

impl PartialSchema for CountryCode {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some("An officially assigned ISO 3166-1 alpha-2 code."))
            .enum_values(Some(domain::country::all_codes()))
            .into()
    }
}

impl ToSchema for CountryCode {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("CountryCode")
    }
}

/// An ISO 4217 currency code in use.
pub struct CurrencyCode;

impl PartialSchema for CurrencyCode {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "An ISO 4217 currency code in use; its exponent decides what a minor unit is.",
            ))
            .enum_values(Some(domain::money::all_codes()))
            .into()
    }
}

impl ToSchema for CurrencyCode {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("CurrencyCode")
    }
}

/// The schema of an externally tagged enum written by hand: one of the
/// given objects, each with exactly its one member (the derived schema
/// does not forbid other members, which serde rejects).
pub(crate) fn one_member_of(
    alternatives: Vec<(&str, RefOr<Schema>)>,
    description: &str,
) -> RefOr<Schema> {
    let mut one_of = OneOfBuilder::new().description(Some(description));
    for (name, schema) in alternatives {
        one_of = one_of.item(
            ObjectBuilder::new()
                .property(name, schema)
                .required(name)
                .additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false))),
        );
    }
    one_of.into()
}
