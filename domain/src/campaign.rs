//! Giving back together: campaigns (a charity drive, the International
//! Day of Charity) that agreements feed through beneficiary shares naming
//! them. What a campaign has raised is the net of those shares' allocation
//! lines from sales inside its dates.

use chrono::NaiveDate;

use crate::money::{Currency, MinorUnits};
use crate::text;
use crate::{FieldError, FieldErrors};

pub const TITLE: usize = 120;
pub const CAUSE: usize = 2000;
/// The longest campaign, in days.
pub const MAX_DAYS: i64 = 366 * 5;

/// A campaign as the client sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignInput {
    pub title: String,
    pub cause: String,
    pub beneficiary_name: String,
    pub url: Option<String>,
    pub goal_minor: i64,
    pub goal_currency: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

/// A campaign, checked: [`CampaignFields::parse`] is the only way to build
/// one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignFields {
    title: String,
    cause: String,
    beneficiary_name: String,
    url: Option<String>,
    goal: MinorUnits,
    currency: Currency,
    starts_on: NaiveDate,
    ends_on: NaiveDate,
}

impl CampaignFields {
    /// A title and beneficiary of 1–120 characters, a cause of 1–2 000, a
    /// web link if any, a positive goal in a known currency, and dates
    /// from `starts_on` to `ends_on` (both included, at most five years).
    pub fn parse(input: CampaignInput) -> Result<Self, FieldErrors> {
        let mut e = FieldErrors::default();
        let title = e.take(text::bounded("title", &input.title, 1, TITLE, false));
        let cause = e.take(text::bounded("cause", &input.cause, 1, CAUSE, true));
        let beneficiary_name = e.take(text::title("beneficiary_name", &input.beneficiary_name));
        let url = match &input.url {
            Some(url) => e.take(text::web_url("url", url)).map(Some),
            None => Some(None),
        };
        let goal = e.take(MinorUnits::positive("goal.amount_minor", input.goal_minor));
        let currency = e.take(Currency::parse("goal.currency", &input.goal_currency));
        let days = (input.ends_on - input.starts_on).num_days();
        if !(0..=MAX_DAYS).contains(&days) {
            e.push(FieldError::new(
                "ends_on",
                "out_of_range",
                format!("a campaign ends on or after its start, within {MAX_DAYS} days"),
            ));
        }
        match (
            title,
            cause,
            beneficiary_name,
            url,
            goal,
            currency,
            e.is_empty(),
        ) {
            (
                Some(title),
                Some(cause),
                Some(beneficiary_name),
                Some(url),
                Some(goal),
                Some(currency),
                true,
            ) => Ok(Self {
                title,
                cause,
                beneficiary_name,
                url,
                goal,
                currency,
                starts_on: input.starts_on,
                ends_on: input.ends_on,
            }),
            _ => Err(e),
        }
    }

    pub fn title(&self) -> &str {
        &self.title
    }
    pub fn cause(&self) -> &str {
        &self.cause
    }
    pub fn beneficiary_name(&self) -> &str {
        &self.beneficiary_name
    }
    pub fn url(&self) -> Option<&str> {
        self.url.as_deref()
    }
    pub fn goal(&self) -> MinorUnits {
        self.goal
    }
    pub fn currency(&self) -> Currency {
        self.currency
    }
    pub fn starts_on(&self) -> NaiveDate {
        self.starts_on
    }
    pub fn ends_on(&self) -> NaiveDate {
        self.ends_on
    }
}

/// Whether a campaign running from `starts_on` to `ends_on` is open on
/// `day` (both ends included).
pub fn open_on(starts_on: NaiveDate, ends_on: NaiveDate, day: NaiveDate) -> bool {
    starts_on <= day && day <= ends_on
}

/// A beneficiary share may name a campaign that exists and is open on the
/// agreement's `effective_from` (else 422 naming the share's
/// `campaign_id`). `dates` is the campaign's (start, end), if it exists.
pub fn check_share(
    field: String,
    dates: Option<(NaiveDate, NaiveDate)>,
    effective_from: NaiveDate,
) -> Result<(), FieldError> {
    match dates {
        None => Err(FieldError::unknown(field)),
        Some((starts, ends)) if !open_on(starts, ends, effective_from) => Err(FieldError::new(
            field,
            "campaign_not_open",
            format!("the campaign runs from {starts} to {ends}, not on the agreement's effective_from {effective_from}"),
        )),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 9, d).expect("valid")
    }

    fn input() -> CampaignInput {
        CampaignInput {
            title: "A loom for the weaving school".into(),
            cause: "Looms and yarn for thirty students.".into(),
            beneficiary_name: "Escuela Taller Cusco".into(),
            url: Some("https://example.org/escuela".into()),
            goal_minor: 500_000,
            goal_currency: "USD".into(),
            starts_on: day(1),
            ends_on: day(30),
        }
    }

    #[test]
    fn a_campaign_needs_its_fields_and_dates_in_order() {
        assert!(CampaignFields::parse(input()).is_ok());
        let bad = CampaignInput {
            title: " ".into(),
            url: Some("ftp://example.org".into()),
            goal_minor: 0,
            goal_currency: "usd".into(),
            ends_on: day(1) - chrono::Days::new(1),
            ..input()
        };
        let errors = CampaignFields::parse(bad).expect_err("refused");
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "title",
                "url",
                "goal.amount_minor",
                "goal.currency",
                "ends_on"
            ]
        );
        let one_day = CampaignInput {
            ends_on: day(1),
            ..input()
        };
        assert!(CampaignFields::parse(one_day).is_ok());
    }

    #[test]
    fn a_share_names_a_campaign_open_on_the_agreements_first_day() {
        let field = || "revenue_split.shares[2].recipient.beneficiary.campaign_id".to_owned();
        assert_eq!(
            check_share(field(), Some((day(1), day(30))), day(1)),
            Ok(())
        );
        assert_eq!(
            check_share(field(), Some((day(1), day(30))), day(30)),
            Ok(())
        );
        let late = check_share(field(), Some((day(1), day(29))), day(30)).expect_err("refused");
        assert_eq!(
            (late.field.as_str(), late.code),
            (field().as_str(), "campaign_not_open")
        );
        assert_eq!(
            check_share(field(), None, day(3))
                .expect_err("refused")
                .code,
            "unknown"
        );
    }
}
