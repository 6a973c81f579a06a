//! Impact figures for partner organizations, and the rule that keeps them
//! from describing fewer than [`MIN_CONTRIBUTORS`] artisans.
//!
//! Figures come per calendar month for one cell: every artisan, or those
//! of one country, of one primary craft (the first craft they list), or
//! both. With one country and one primary craft each, the groups
//! `(country, primary craft)` partition the artisans, so contributor counts
//! add up across groups and the complement of any cell is a union of
//! groups. A figure is published only when
//!
//! 1. its own contributors are none or at least five;
//! 2. with a country asked for, the country survives secondary suppression
//!    among all countries of the same craft slice: when the countries
//!    suppressed for being small add up to fewer than five artisans, the
//!    next smallest are suppressed too, so "total minus every published
//!    country" never isolates fewer than five artisans;
//! 3. the same along crafts, within the same country slice;
//! 4. with both, the opposite quadrant (neither the country nor the craft)
//!    is none or at least five artisans, so `all - country - craft + cell`
//!    reveals nothing either.
//!
//! Months never overlap, so no two answers differ by part of a period.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, Months, NaiveDate};

use crate::FieldError;

/// Fewer distinct artisans than this behind a figure and it is suppressed.
pub const MIN_CONTRIBUTORS: i64 = 5;
/// The longest period one request covers.
pub const MAX_MONTHS: u32 = 24;
/// The default period: this many months up to the current one.
const DEFAULT_MONTHS: u32 = 12;

/// A calendar month, written `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month(NaiveDate);

impl Month {
    pub fn of(day: NaiveDate) -> Self {
        Self(day.with_day(1).unwrap_or(day))
    }

    pub fn parse(field: &str, value: &str) -> Result<Self, FieldError> {
        let invalid =
            || FieldError::new(field, "invalid_month", "must be a month such as '2026-03'");
        if value.len() != 7 || value.as_bytes()[4] != b'-' {
            return Err(invalid());
        }
        let (year, month) = (&value[..4], &value[5..]);
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if !digits(year) || !digits(month) {
            return Err(invalid());
        }
        let day = NaiveDate::from_ymd_opt(
            year.parse().map_err(|_| invalid())?,
            month.parse().map_err(|_| invalid())?,
            1,
        );
        day.map(Self).ok_or_else(invalid)
    }

    pub fn first_day(self) -> NaiveDate {
        self.0
    }

    /// The month after this one (saturating at the end of the calendar).
    pub fn next(self) -> Self {
        Self(self.0.checked_add_months(Months::new(1)).unwrap_or(self.0))
    }

    pub fn label(self) -> String {
        self.0.format("%Y-%m").to_string()
    }
}

/// Whole months from `from` to `to`, both included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: Month,
    pub to: Month,
}

impl Period {
    /// `from` and `to` as `YYYY-MM`; without `to`, the month of `today`;
    /// without `from`, the twelve months up to `to`.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        today: NaiveDate,
    ) -> Result<Self, FieldError> {
        let to = match to {
            Some(v) => Month::parse("to", v)?,
            None => Month::of(today),
        };
        let from = from.map(|v| Month::parse("from", v)).transpose()?;
        let from = from.unwrap_or_else(|| {
            Month::of(
                to.first_day()
                    .checked_sub_months(Months::new(DEFAULT_MONTHS - 1))
                    .unwrap_or(to.first_day()),
            )
        });
        let period = Self { from, to };
        if from > to {
            return Err(FieldError::new(
                "from",
                "after_to",
                "must not be after 'to'",
            ));
        }
        if period.months().len() > MAX_MONTHS as usize {
            return Err(FieldError::new(
                "from",
                "too_long",
                format!("a period covers at most {MAX_MONTHS} months"),
            ));
        }
        Ok(period)
    }

    pub fn months(&self) -> Vec<Month> {
        let mut months = vec![self.from];
        while let Some(&last) = months.last() {
            if last >= self.to || months.len() > MAX_MONTHS as usize {
                break;
            }
            months.push(last.next());
        }
        months
    }

    /// The first day after the period.
    pub fn end(&self) -> NaiveDate {
        self.to.next().first_day()
    }
}

/// The cell asked for: `None` means every country (or craft).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cell {
    pub country: Option<String>,
    pub craft: Option<String>,
}

/// One group of a figure's aggregate in one month (and currency, for
/// revenue). `country` and `craft` are empty when the query did not group
/// by them (and for artisans without one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupRow {
    pub month: String,
    pub country: String,
    pub craft: String,
    pub currency: String,
    /// Distinct artisans behind the figure in this group.
    pub contributors: i64,
    /// Distinct things counted (partnerships, agreements, workshops, …).
    pub entities: i64,
    pub sums: [i64; 3],
}

/// The totals of the cell asked for, or `None` when suppressed.
pub fn decide(cell: &Cell, rows: &[&GroupRow]) -> Option<GroupRow> {
    let country = cell.country.as_deref().unwrap_or("");
    let craft = cell.craft.as_deref().unwrap_or("");
    let found = rows
        .iter()
        .find(|r| r.country == country && r.craft == craft)
        .map(|r| (*r).clone())
        .unwrap_or_default();
    let small = |n: i64| n > 0 && n < MIN_CONTRIBUTORS;
    if small(found.contributors) {
        return None;
    }
    let count = |keep: &dyn Fn(&GroupRow) -> bool| -> i64 {
        rows.iter()
            .filter(|r| keep(r))
            .map(|r| r.contributors)
            .sum()
    };
    if cell.country.is_some() {
        let slice = along(rows, |r| r.craft == craft, |r| &r.country);
        if secondary_suppression(&slice).contains(country) {
            return None;
        }
    }
    if cell.craft.is_some() {
        let slice = along(rows, |r| r.country == country, |r| &r.craft);
        if secondary_suppression(&slice).contains(craft) {
            return None;
        }
    }
    if cell.country.is_some() && cell.craft.is_some() {
        let neither = count(&|r| r.country != country && r.craft != craft);
        if small(neither) {
            return None;
        }
    }
    Some(found)
}

/// Contributors per key within one slice of the groups.
fn along<'a>(
    rows: &[&'a GroupRow],
    in_slice: impl Fn(&GroupRow) -> bool,
    key: impl Fn(&'a GroupRow) -> &'a String,
) -> BTreeMap<&'a str, i64> {
    let mut counts = BTreeMap::new();
    for row in rows.iter().copied().filter(|r| in_slice(r)) {
        *counts.entry(key(row).as_str()).or_insert(0) += row.contributors;
    }
    counts
}

/// The keys not to publish: those drawn from one to four artisans, and
/// then — while what they hide together is still fewer than five artisans
/// — the smallest of the others, so that subtracting every published key
/// from the total never isolates a small group.
pub fn secondary_suppression<'a>(counts: &BTreeMap<&'a str, i64>) -> BTreeSet<&'a str> {
    let mut hidden: BTreeSet<&str> = counts
        .iter()
        .filter(|(_, &n)| n > 0 && n < MIN_CONTRIBUTORS)
        .map(|(&k, _)| k)
        .collect();
    let mut hidden_total: i64 = hidden.iter().map(|k| counts[k]).sum();
    while hidden_total > 0 && hidden_total < MIN_CONTRIBUTORS {
        let next = counts
            .iter()
            .filter(|(k, &n)| n > 0 && !hidden.contains(*k))
            .min_by_key(|(&k, &n)| (n, k));
        let Some((&key, &n)) = next else { break };
        hidden.insert(key);
        hidden_total += n;
    }
    hidden
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(country: &str, craft: &str, contributors: i64) -> GroupRow {
        GroupRow {
            month: "2026-03".into(),
            country: country.into(),
            craft: craft.into(),
            contributors,
            entities: contributors,
            ..GroupRow::default()
        }
    }

    fn cell(country: Option<&str>, craft: Option<&str>) -> Cell {
        Cell {
            country: country.map(str::to_owned),
            craft: craft.map(str::to_owned),
        }
    }

    #[test]
    fn four_artisans_are_suppressed_and_five_are_published() {
        let four = row("", "", 4);
        let five = row("", "", 5);
        assert_eq!(decide(&Cell::default(), &[&four]), None);
        assert_eq!(
            decide(&Cell::default(), &[&five]).map(|r| r.contributors),
            Some(5)
        );
        assert_eq!(
            decide(&Cell::default(), &[]).map(|r| r.contributors),
            Some(0)
        );
    }

    #[test]
    fn a_country_is_hidden_when_it_is_the_only_cover_for_a_small_one() {
        let rows = [row("PE", "", 9), row("GH", "", 3), row("JP", "", 20)];
        let refs: Vec<&GroupRow> = rows.iter().collect();
        // GH alone is small; PE (the next smallest) is hidden with it, so
        // total - JP is the sum of two hidden countries (12 artisans).
        assert_eq!(decide(&cell(Some("GH"), None), &refs), None);
        assert_eq!(decide(&cell(Some("PE"), None), &refs), None);
        assert!(decide(&cell(Some("JP"), None), &refs).is_some());
    }

    #[test]
    fn small_countries_that_cover_each_other_hide_nothing_more() {
        let rows = [row("PE", "", 9), row("GH", "", 3), row("KE", "", 2)];
        let refs: Vec<&GroupRow> = rows.iter().collect();
        assert!(decide(&cell(Some("PE"), None), &refs).is_some());
    }

    #[test]
    fn a_craft_whose_complement_in_the_country_is_small_is_suppressed() {
        // PE total minus PE weaving would describe 2 potters.
        let rows = [
            row("PE", "weaving", 8),
            row("PE", "pottery", 2),
            row("GH", "weaving", 30),
            row("GH", "pottery", 30),
        ];
        let refs: Vec<&GroupRow> = rows.iter().collect();
        assert_eq!(decide(&cell(Some("PE"), Some("weaving")), &refs), None);
        // PE as a whole still is published: without a craft filter the
        // groups are by country only.
        let by_country = [row("PE", "", 10), row("GH", "", 60)];
        let refs: Vec<&GroupRow> = by_country.iter().collect();
        assert!(decide(&cell(Some("PE"), None), &refs).is_some());
    }

    #[test]
    fn the_opposite_quadrant_must_not_be_small() {
        let rows = [
            row("PE", "weaving", 8),
            row("PE", "pottery", 6),
            row("GH", "weaving", 7),
            row("GH", "pottery", 3),
        ];
        let refs: Vec<&GroupRow> = rows.iter().collect();
        // all - PE - weaving + (PE, weaving) = (GH, pottery): 3 artisans.
        assert_eq!(decide(&cell(Some("PE"), Some("weaving")), &refs), None);
    }

    #[test]
    fn periods_default_to_twelve_months_and_are_bounded() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 4).expect("a date");
        let p = Period::parse(None, None, today).expect("the default period");
        assert_eq!(
            (p.from.label(), p.to.label()),
            ("2026-01".into(), "2026-12".into())
        );
        assert_eq!(p.months().len(), 12);
        assert_eq!(
            p.end(),
            NaiveDate::from_ymd_opt(2027, 1, 1).expect("a date")
        );
        assert!(Period::parse(Some("2026-05"), Some("2026-04"), today).is_err());
        assert!(Period::parse(Some("2024-01"), Some("2026-01"), today).is_err());
        assert_eq!(
            Period::parse(Some("2024-02"), Some("2026-01"), today)
                .expect("24 months")
                .months()
                .len(),
            24
        );
        for bad in [
            "2026-13", "2026-1", "26-01", "2026/01", "2026-0a", "+026-01",
        ] {
            assert!(Month::parse("from", bad).is_err(), "{bad}");
        }
    }
}
