//! Giving-back campaigns, and what agreements raised for them: the net of
//! the allocation lines of beneficiary shares naming a campaign, from
//! sales inside its dates, summed by the database over the
//! `allocation_lines_campaign` index. The rules are the domain's
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
use crate::schema::{campaigns, partnerships};
use crate::{now, sql_text, write_tx, AnyConnection, Page, StoreError};

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
    before_id: Option<&str>,
    limit: i64,
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
    if let Some(id) = before_id {
        query = query.filter(campaigns::id.lt(id.to_owned()));
    }
    let rows = query
        .order(campaigns::id.desc())
        .limit(limit + 1)
        .load::<CampaignRow>(conn)?;
    Ok(Page::from_overfetch(rows, limit))
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

#[derive(QueryableByName)]
struct GivenRow {
    #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
    partnership_id: Option<String>,
    #[diesel(sql_type = Text)]
    currency: String,
    #[diesel(sql_type = BigInt)]
    amount: i64,
}

/// A campaign with what it raised: per partnership (public shares) or as
/// `anonymous`, per currency; anyone signed in reads it.
pub fn find(conn: &mut AnyConnection, id: &str) -> Result<CampaignView, StoreError> {
    crate::db::read_tx(conn, |conn| {
        let row = campaigns::table
            .find(id)
            .first::<CampaignRow>(conn)
            .optional()?
            .ok_or(StoreError::NotFound)?;
        // Sales from the first day to the end of the last, both included.
        let from = row.starts_on.and_time(chrono::NaiveTime::MIN);
        let until = (row.ends_on + chrono::Days::new(1)).and_time(chrono::NaiveTime::MIN);
        let given: Vec<GivenRow> = sql_text(
            "SELECT CASE WHEN l.anonymous THEN NULL ELSE s.partnership_id END AS partnership_id, \
             l.currency AS currency, CAST(SUM(l.amount_minor) AS BIGINT) AS amount \
             FROM allocation_lines l JOIN sales s ON s.id = l.sale_id \
             WHERE l.campaign_id = $1 AND s.occurred_at >= $2 AND s.occurred_at < $3 \
             GROUP BY CASE WHEN l.anonymous THEN NULL ELSE s.partnership_id END, l.currency"
                .to_owned(),
        )
        .bind::<Text, _>(id.to_owned())
        .bind::<diesel::sql_types::Timestamp, _>(from)
        .bind::<diesel::sql_types::Timestamp, _>(until)
        .load(conn)?;
        let ids: Vec<&str> = given
            .iter()
            .filter_map(|g| g.partnership_id.as_deref())
            .collect();
        let titles: Vec<(String, String)> = partnerships::table
            .filter(partnerships::id.eq_any(&ids))
            .select((partnerships::id, partnerships::title))
            .load(conn)?;
        let mut raised: Vec<Raised> = Vec::new();
        for g in &given {
            match raised.iter_mut().find(|r| r.currency == g.currency) {
                Some(r) => {
                    r.amount = r
                        .amount
                        .checked_add(g.amount)
                        .ok_or(StoreError::Corrupt("a campaign's total overflows"))?;
                }
                None => raised.push(Raised {
                    currency: g.currency.clone(),
                    amount: g.amount,
                }),
            }
        }
        raised.sort_by(|a, b| a.currency.cmp(&b.currency));
        let mut contributors: Vec<Contribution> = given
            .into_iter()
            .map(|g| Contribution {
                title: g.partnership_id.as_ref().and_then(|id| {
                    titles
                        .iter()
                        .find(|(pid, _)| pid == id)
                        .map(|(_, t)| t.clone())
                }),
                partnership_id: g.partnership_id,
                currency: g.currency,
                amount: g.amount,
            })
            .collect();
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
