//! Representations that more than one resource returns: an artisan's
//! profile (listings, the directory, `GET /v1/me`), reviews, and the
//! recipient of a share (agreements and the lines of sales). Each resource
//! module keeps its own request and response types; what they share lives
//! here so that no route module imports another.

use std::borrow::Cow;

use actix_web::web;
use chrono::{DateTime, Utc};
use persistence::artisans::{self as store, ArtisanRow};
use persistence::reviews::ReviewRow;
use persistence::users::UserRow;
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::auth::principal::{self, AccountCheck};
use crate::error::ApiError;
use crate::page_type;
use crate::profile_reads;
use crate::routes::utc;
use crate::state::AppState;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenTo {
    pub collaboration: bool,
    pub mentoring: bool,
    pub being_mentored: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Rating {
    /// Mean of all review ratings (1–5), two decimals; `null` without reviews.
    pub average: Option<f64>,
    pub count: i64,
}

/// A public artisan profile.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Artisan {
    #[schema(format = Uuid)]
    pub id: String,
    pub display_name: String,
    pub bio: String,
    pub crafts: Vec<String>,
    pub skills_offered: Vec<String>,
    pub skills_wanted: Vec<String>,
    pub cultural_traditions: Vec<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    pub region: Option<String>,
    /// BCP 47 language tags.
    pub languages: Vec<String>,
    pub open_to: OpenTo,
    /// Consent to appear in the partner organizations' directory.
    pub discoverable_by_partners: bool,
    /// Self-declared community slugs, shown only because the artisan chose to.
    pub communities: Vec<String>,
    pub links: Vec<String>,
    pub rating: Rating,
    /// True once the owner closed the account; personal fields are erased.
    pub former_member: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

impl From<ArtisanRow> for Artisan {
    fn from(row: ArtisanRow) -> Self {
        let fields = row.fields();
        let average = (row.rating_count > 0).then(|| {
            // Two decimals, computed in integers to avoid float drift.
            let hundredths = (row.rating_sum * 100 * 2 + row.rating_count) / (row.rating_count * 2);
            hundredths as f64 / 100.0
        });
        Self {
            id: row.id,
            display_name: fields.display_name,
            bio: fields.bio,
            crafts: fields.crafts,
            skills_offered: fields.skills_offered,
            skills_wanted: fields.skills_wanted,
            cultural_traditions: fields.cultural_traditions,
            country: fields.country,
            region: fields.region,
            languages: fields.languages,
            open_to: OpenTo {
                collaboration: fields.open_to.collaboration,
                mentoring: fields.open_to.mentoring,
                being_mentored: fields.open_to.being_mentored,
            },
            discoverable_by_partners: fields.discoverable_by_partners,
            communities: fields.communities,
            links: fields.links,
            rating: Rating {
                average,
                count: row.rating_count,
            },
            former_member: row.former_member,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
            version: row.version,
        }
    }
}

page_type!(ArtisanPage, Artisan);

/// Loads a profile or 404. In a request's first hop, the reader's account
/// standing is read with the profile, in a batch with the other profile
/// reads waiting on this worker ([`profile_reads`]).
pub async fn load(state: &web::Data<AppState>, id: String) -> Result<ArtisanRow, ApiError> {
    let row = match AccountCheck::due() {
        Some(subject) => {
            let read = profile_reads::standing_and_profile(state, subject.user_id.clone(), id)
                .await
                .and_then(|(standing, row)| {
                    principal::admit(&subject, standing.as_ref())?;
                    Ok(row)
                });
            AccountCheck::settle(&read);
            read?
        }
        None => {
            state
                .db_read(move |conn| Ok(store::find(conn, &id)?))
                .await?
        }
    };
    row.ok_or(ApiError::NotFound)
}

/// A review of an artisan, left after a completed skill exchange.
#[derive(Debug, Serialize, ToSchema)]
pub struct Review {
    #[schema(format = Uuid)]
    pub id: String,
    #[schema(format = Uuid)]
    pub exchange_id: String,
    #[schema(format = Uuid)]
    pub reviewer_id: String,
    #[schema(minimum = 1, maximum = 5)]
    pub rating: i16,
    pub comment: String,
    pub created_at: DateTime<Utc>,
}

impl From<ReviewRow> for Review {
    fn from(row: ReviewRow) -> Self {
        Self {
            id: row.id,
            exchange_id: row.exchange_id,
            reviewer_id: row.reviewer_id,
            rating: row.rating,
            comment: row.comment,
            created_at: utc(row.created_at),
        }
    }
}

#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoleName {
    Artisan,
    Admin,
}

/// The signed-in account with its artisan profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    #[schema(format = Uuid)]
    pub id: String,
    /// The sign-in address, as registered.
    pub email: String,
    pub role: RoleName,
    pub created_at: DateTime<Utc>,
    pub profile: Artisan,
}

impl Me {
    pub fn new(user: UserRow, profile: ArtisanRow) -> Self {
        Self {
            role: match user.role() {
                domain::account::Role::Artisan => RoleName::Artisan,
                domain::account::Role::Admin => RoleName::Admin,
            },
            email: user.email.unwrap_or_default(),
            created_at: utc(user.created_at),
            id: user.id,
            profile: profile.into(),
        }
    }
}

/// A charity or cause that receives a share but does not sign.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Beneficiary {
    #[schema(value_type = crate::schema::OrganizationName)]
    pub name: String,
    #[serde(default)]
    #[schema(value_type = Option<crate::schema::WebUrl>)]
    pub url: Option<String>,
    /// A partner organization of the platform, if the beneficiary is one.
    #[serde(default)]
    #[schema(format = Uuid)]
    pub organization_id: Option<String>,
    /// A giving-back campaign the share goes to: it must be open on the
    /// agreement's `effective_from`.
    #[serde(default)]
    #[schema(format = Uuid)]
    pub campaign_id: Option<String>,
    /// `false`: the campaign lists what this share gives as `anonymous`
    /// instead of under the partnership's title.
    #[serde(default = "public_by_default")]
    #[schema(default = true)]
    pub public_credit: bool,
}

fn public_by_default() -> bool {
    true
}

/// `{"party_id": …}` (an artisan or collective party) or
/// `{"beneficiary": {…}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Recipient {
    PartyId(String),
    Beneficiary(Beneficiary),
}

/// Written by hand: each alternative is an object with exactly one
/// member, which the derived schema of an externally tagged enum does not
/// say.
impl PartialSchema for Recipient {
    fn schema() -> RefOr<Schema> {
        let uuid = ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
            .description(Some(
                "The receiving party (a `parties[].id` of the partnership).",
            ))
            .into();
        crate::schema::one_member_of(
            vec![
                ("party_id", uuid),
                ("beneficiary", Ref::from_schema_name("Beneficiary").into()),
            ],
            "`{\"party_id\": …}` (an artisan or collective party) or `{\"beneficiary\": {…}}`.",
        )
    }
}

impl ToSchema for Recipient {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("Recipient")
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((Beneficiary::name().into_owned(), Beneficiary::schema()));
        Beneficiary::schemas(schemas);
    }
}

/// An amount in minor units of a currency.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Money {
    #[serde(deserialize_with = "crate::routes::whole_number")]
    pub amount_minor: i64,
    #[schema(value_type = crate::schema::CurrencyCode)]
    pub currency: String,
}
