//! Giving-back campaigns, and what agreements raised for them: the net of
//! the allocation lines of beneficiary shares naming a campaign, from
//! sales inside its dates. Every such line is added to the campaign's day
//! totals (`campaign_days`) in the transaction that writes it, so a
//! campaign page sums days, not lines. The rules are the domain's
//! ([`domain::campaign`]).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use domain::agreement::Terms;
use domain::campaign::{self as rules, CampaignFields};
use domain::collective::CollectiveStatus;
use domain::refusal::MembershipRefusal;
use domain::{FieldError, FieldErrors};

use crate::collectives;
use crate::partnerships::Viewer;
use crate::schema::{campaign_days, campaigns, partnerships};
use crate::sum::group_sum;
use crate::{now, sql_text, write_tx, AnyConnection, Page, Seek, StoreError};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = campaigns)]
pub struct CampaignRow {
    pub id: String,
    pub title: String,
    pub cause: String,
    pub beneficiary_name: String,
    pub url: Option<String>,
    pub goal_minor: i64,
    pub goal_currency: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub collective_id: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
}

/// Creates a campaign; a collective's only by one of its coordinators (an
/// unknown or archived collective → 422 on `collective_id`).
pub fn create(
    conn: &mut AnyConnection,
    viewer: &Viewer,
    fields: &CampaignFields,
    collective_id: Option<&str>,
) -> Result<CampaignRow, StoreError> {
    write_tx(conn, |conn| {
        if let Some(collective) = collective_id {
            let active = collectives::find(conn, collective)?
                .is_some_and(|c| c.status() == CollectiveStatus::Active);
            if !active {
                return Err(FieldError::unknown("collective_id").into());
            }
            if !collectives::is_coordinator(conn, collective, &viewer.id)? {
                return Err(MembershipRefusal::NotCoordinator.into());
            }
        }
        let row = CampaignRow {
            id: uuid::Uuid::now_v7().to_string(),
            title: fields.title().to_owned(),
            cause: fields.cause().to_owned(),
            beneficiary_name: fields.beneficiary_name().to_owned(),
            url: fields.url().map(str::to_owned),
            goal_minor: fields.goal().get(),
            goal_currency: fields.currency().code().to_owned(),
            starts_on: fields.starts_on(),
            ends_on: fields.ends_on(),
            collective_id: collective_id.map(str::to_owned),
            created_by: viewer.id.clone(),
            created_at: now(),
        };
        diesel::insert_into(campaigns::table)
            .values(&row)
            .execute(conn)?;
        Ok(row)
    })
}

/// The listing's filters.
#[derive(Debug, Clone, Default)]
pub struct CampaignFilter {
    /// `Some(true)`: open today; `Some(false)`: not (yet or any more).
    pub active: Option<bool>,
    pub collective_id: Option<String>,
}

/// Campaigns, newest first.
pub fn list(
    conn: &mut AnyConnection,
    filter: &CampaignFilter,
    seek: Seek<'_>,
) -> Result<Page<CampaignRow>, StoreError> {
    let today = now().date();
    let mut query = campaigns::table.into_boxed();
    match filter.active {
        Some(true) => {
            query = query
                .filter(campaigns::starts_on.le(today))
                .filter(campaigns::ends_on.ge(today));
        }
        Some(false) => {
            query = query.filter(
                campaigns::starts_on
                    .gt(today)
                    .or(campaigns::ends_on.lt(today)),
            );
        }
        None => {}
    }
    if let Some(collective) = &filter.collective_id {
        query = query.filter(campaigns::collective_id.eq(collective.clone()));
    }
    let rows = newest_first!(query, campaigns, seek).load::<CampaignRow>(conn)?;
    Ok(Page::from_overfetch(rows, seek.limit))
}

/// What a campaign raised in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raised {
    pub currency: String,
    pub amount: i64,
}

/// What one partnership gave in one currency (`None`: the shares that
/// give anonymously, summed over every partnership).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contribution {
    pub partnership_id: Option<String>,
    pub title: Option<String>,
    pub currency: String,
    pub amount: i64,
}

/// A campaign with what it raised, read in one transaction so the totals
/// and the contributions agree.
#[derive(Debug, Clone)]
pub struct CampaignView {
    pub row: CampaignRow,
    pub raised: Vec<Raised>,
    pub contributors: Vec<Contribution>,
}

/// An allocation line to a share naming a campaign, as its day totals
/// count it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Given<'a> {
    pub(crate) campaign: &'a str,
    pub(crate) anonymous: bool,
    pub(crate) currency: &'a str,
    pub(crate) amount: i64,
}

/// Adds allocation lines of a sale (or of a refund of it) of
/// `partnership_id` made on `day` to the campaigns' day totals, in the
/// caller's transaction. SQL text: `ON CONFLICT … DO UPDATE`, the same on
/// both databases. Sales of one partnership are serialised by its lock,
/// and the totals are per partnership, so two writers never race for a row.
pub(crate) fn add_given(
    conn: &mut AnyConnection,
    partnership_id: &str,
    day: NaiveDate,
    lines: &[Given<'_>],
) -> Result<(), StoreError> {
    for line in lines {
        sql_text(
            "INSERT INTO campaign_days (campaign_id, partnership_id, anonymous, currency, day, amount_minor) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (campaign_id, day, partnership_id, anonymous, currency) \
             DO UPDATE SET amount_minor = campaign_days.amount_minor + excluded.amount_minor"
                .to_owned(),
        )
        .bind::<Text, _>(line.campaign.to_owned())
        .bind::<Text, _>(partnership_id.to_owned())
        .bind::<diesel::sql_types::Bool, _>(line.anonymous)
        .bind::<Text, _>(line.currency.to_owned())
        .bind::<diesel::sql_types::Date, _>(day)
        .bind::<BigInt, _>(line.amount)
        .execute(conn)?;
    }
    Ok(())
}

/// A campaign with what it raised: per partnership (public shares) or as
/// `anonymous`, per currency, from the day totals of its dates; anyone
/// signed in reads it.
pub fn find(conn: &mut AnyConnection, id: &str) -> Result<CampaignView, StoreError> {
    crate::db::read_tx(conn, |conn| {
        let row = campaigns::table
            .find(id)
            .first::<CampaignRow>(conn)
            .optional()?
            .ok_or(StoreError::NotFound)?;
        let given: Vec<(String, bool, String, i64)> = campaign_days::table
            .filter(campaign_days::campaign_id.eq(id))
            .filter(campaign_days::day.ge(row.starts_on))
            .filter(campaign_days::day.le(row.ends_on))
            .group_by((
                campaign_days::partnership_id,
                campaign_days::anonymous,
                campaign_days::currency,
            ))
            .select((
                campaign_days::partnership_id,
                campaign_days::anonymous,
                campaign_days::currency,
                group_sum(campaign_days::amount_minor),
            ))
            .load(conn)?;
        let ids: Vec<&str> = given.iter().map(|g| g.0.as_str()).collect();
        let titles: Vec<(String, String)> = partnerships::table
            .filter(partnerships::id.eq_any(&ids))
            .select((partnerships::id, partnerships::title))
            .load(conn)?;
        // Per currency, and per (partnership, or anonymous) and currency.
        let mut raised: Vec<(String, i64)> = Vec::new();
        let given: Vec<((Option<String>, String), i64)> = given
            .into_iter()
            .map(|(partnership, anonymous, currency, amount)| {
                (((!anonymous).then_some(partnership), currency), amount)
            })
            .try_fold(Vec::new(), |mut totals, (key, amount)| {
                add(&mut raised, key.1.clone(), amount)?;
                add(&mut totals, key, amount)?;
                Ok::<_, StoreError>(totals)
            })?;
        let mut raised: Vec<Raised> = raised
            .into_iter()
            .map(|(currency, amount)| Raised { currency, amount })
            .collect();
        let mut contributors: Vec<Contribution> = given
            .into_iter()
            .map(|((partnership_id, currency), amount)| Contribution {
                title: partnership_id.as_ref().and_then(|id| {
                    titles
                        .iter()
                        .find(|(pid, _)| pid == id)
                        .map(|(_, t)| t.clone())
                }),
                partnership_id,
                currency,
                amount,
            })
            .collect();
        raised.sort_by(|a, b| a.currency.cmp(&b.currency));
        contributors.sort_by(|a, b| {
            (a.partnership_id.is_none(), &a.title, &a.currency).cmp(&(
                b.partnership_id.is_none(),
                &b.title,
                &b.currency,
            ))
        });
        Ok(CampaignView {
            row,
            raised,
            contributors,
        })
    })
}

/// Adds `amount` to the total kept for `key` (checked: refusing beats
/// wrapping).
fn add<K: PartialEq>(totals: &mut Vec<(K, i64)>, key: K, amount: i64) -> Result<(), StoreError> {
    match totals.iter_mut().find(|(k, _)| *k == key) {
        Some((_, total)) => {
            *total = total
                .checked_add(amount)
                .ok_or(StoreError::Corrupt("a campaign's total overflows"))?;
        }
        None => totals.push((key, amount)),
    }
    Ok(())
}

/// The beneficiary shares naming a campaign that does not exist or is not
/// open on the agreement's `effective_from` (each a 422 naming the share).
pub(crate) fn share_errors(
    conn: &mut AnyConnection,
    terms: &Terms,
) -> Result<FieldErrors, StoreError> {
    let mut errors = FieldErrors::default();
    for (field, id) in terms.campaign_ids() {
        let dates: Option<(NaiveDate, NaiveDate)> = campaigns::table
            .find(id)
            .select((campaigns::starts_on, campaigns::ends_on))
            .first(conn)
            .optional()?;
        errors.take(rules::check_share(field, dates, terms.effective_from()));
    }
    Ok(errors)
}
