//! Partner programs: grants, trainings, market access and mentorship that
//! an organization offers, with eligibility (countries, crafts) and a
//! window; artisans apply once; the organization decides, and seats are
//! never over-filled.

use chrono::NaiveDate;

use crate::account::text_enum;
use crate::country::CountryCode;
use crate::refusal::Denied;
use crate::text::{self, Slug};
use crate::{FieldError, FieldErrors};

pub const TITLE: usize = 120;
pub const STATEMENT: usize = 4000;
pub const MAX_COUNTRIES: usize = 50;
pub const MAX_CRAFTS: usize = 20;
pub const MAX_SEATS: i64 = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgramKind {
    Grant,
    Training,
    MarketAccess,
    Mentorship,
}

text_enum!(ProgramKind { Grant => "grant", Training => "training", MarketAccess => "market_access", Mentorship => "mentorship" });

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgramStatus {
    Open,
    /// Closed by the organization: no more applications or decisions.
    Closed,
}

text_enum!(ProgramStatus { Open => "open", Closed => "closed" });

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationStatus {
    Pending,
    Accepted,
    Rejected,
    Withdrawn,
}

text_enum!(ApplicationStatus { Pending => "pending", Accepted => "accepted", Rejected => "rejected", Withdrawn => "withdrawn" });

/// Why a program or application change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgramRefusal {
    /// One application per artisan and program (→ 409).
    AlreadyApplied,
    /// The program is closed (→ 409).
    Closed,
    /// The application was decided or withdrawn already (→ 409).
    NotPending,
    /// Every seat is taken (→ 409).
    SeatsFilled,
    /// Closed programs are not opened again (→ 409).
    NotReopened,
}

/// A program as the organization sends it (or as a patch leaves it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramInput {
    pub title: String,
    pub kind: ProgramKind,
    pub description: String,
    pub countries: Vec<String>,
    pub crafts: Vec<String>,
    pub opens_on: NaiveDate,
    pub closes_on: NaiveDate,
    pub seats: Option<i64>,
}

/// A program, checked: [`ProgramFields::parse`] is the only way to build
/// one. Empty `countries` or `crafts` means anyone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgramFields {
    input: ProgramInput,
}

impl ProgramFields {
    pub fn parse(input: ProgramInput) -> Result<Self, FieldErrors> {
        let mut e = FieldErrors::default();
        let title = e.take(text::bounded("title", &input.title, 1, TITLE, false));
        let description = e.take(text::prose("description", &input.description));
        let countries = e.take(text::unique_list(
            "eligibility.countries",
            &input.countries,
            MAX_COUNTRIES,
            CountryCode::parse,
        ));
        let crafts = e.take(text::unique_list(
            "eligibility.crafts",
            &input.crafts,
            MAX_CRAFTS,
            Slug::parse,
        ));
        if input.closes_on < input.opens_on {
            e.push(FieldError::new(
                "closes_on",
                "before_opening",
                "a program closes on or after the day it opens",
            ));
        }
        if input.seats.is_some_and(|s| !(1..=MAX_SEATS).contains(&s)) {
            e.push(FieldError::new(
                "seats",
                "out_of_range",
                format!("1 to {MAX_SEATS} seats, or none for no limit"),
            ));
        }
        match (title, description, countries, crafts, e.is_empty()) {
            (Some(title), Some(description), Some(countries), Some(crafts), true) => Ok(Self {
                input: ProgramInput {
                    title,
                    description,
                    countries: countries.into_iter().map(CountryCode::into_inner).collect(),
                    crafts: crafts.iter().map(|c| c.as_str().to_owned()).collect(),
                    ..input
                },
            }),
            _ => Err(e),
        }
    }

    pub fn input(&self) -> &ProgramInput {
        &self.input
    }
}

/// What an artisan brings to an application: their profile's country and
/// crafts.
#[derive(Debug, Clone, Copy)]
pub struct Applicant<'a> {
    pub country: Option<&'a str>,
    pub crafts: &'a [String],
}

/// Whether `applicant` is eligible: a country on the list (if there is
/// one) and a craft on the list (if there is one).
pub fn eligible(program: &ProgramInput, applicant: Applicant<'_>) -> bool {
    let country = program.countries.is_empty()
        || applicant
            .country
            .is_some_and(|c| program.countries.iter().any(|p| p == c));
    let craft =
        program.crafts.is_empty() || applicant.crafts.iter().any(|c| program.crafts.contains(c));
    country && craft
}

/// Applying on `today`: the program is open, today inside its window
/// (422 on `closes_on`/`opens_on` otherwise) and the applicant eligible
/// (422 on `eligibility`).
pub fn may_apply(
    status: ProgramStatus,
    program: &ProgramInput,
    today: NaiveDate,
    applicant: Applicant<'_>,
) -> Result<(), Denied> {
    if status == ProgramStatus::Closed {
        return Err(ProgramRefusal::Closed.into());
    }
    let mut e = FieldErrors::default();
    if today < program.opens_on {
        e.push(FieldError::new(
            "opens_on",
            "not_open_yet",
            format!("applications open on {}", program.opens_on),
        ));
    }
    if today > program.closes_on {
        e.push(FieldError::new(
            "closes_on",
            "closed",
            format!("applications closed on {}", program.closes_on),
        ));
    }
    if !eligible(program, applicant) {
        e.push(FieldError::new(
            "eligibility",
            "not_eligible",
            "your profile's country or crafts are not among those the program is for",
        ));
    }
    Ok(e.finish(|| ())?)
}

/// Deciding a pending application of an open program; accepting needs a
/// free seat (`accepted` taken of `seats`).
pub fn decide(
    program: ProgramStatus,
    application: ApplicationStatus,
    accept: bool,
    seats: Option<i64>,
    accepted: i64,
) -> Result<ApplicationStatus, ProgramRefusal> {
    if program == ProgramStatus::Closed {
        return Err(ProgramRefusal::Closed);
    }
    if application != ApplicationStatus::Pending {
        return Err(ProgramRefusal::NotPending);
    }
    if !accept {
        return Ok(ApplicationStatus::Rejected);
    }
    match seats {
        Some(seats) if accepted >= seats => Err(ProgramRefusal::SeatsFilled),
        _ => Ok(ApplicationStatus::Accepted),
    }
}

/// The applicant withdraws a pending or accepted application (freeing its
/// seat).
pub fn withdraw(application: ApplicationStatus) -> Result<ApplicationStatus, ProgramRefusal> {
    match application {
        ApplicationStatus::Pending | ApplicationStatus::Accepted => {
            Ok(ApplicationStatus::Withdrawn)
        }
        _ => Err(ProgramRefusal::NotPending),
    }
}

/// A change of status by the organization: open → closed, never back; a
/// new seat limit below those accepted is a 422.
pub fn change(
    status: ProgramStatus,
    to: ProgramStatus,
    seats: Option<i64>,
    accepted: i64,
) -> Result<ProgramStatus, Denied> {
    if status == ProgramStatus::Closed && to == ProgramStatus::Open {
        return Err(ProgramRefusal::NotReopened.into());
    }
    if seats.is_some_and(|s| s < accepted) {
        return Err(FieldError::new(
            "seats",
            "below_accepted",
            format!("{accepted} applications are accepted already"),
        )
        .into());
    }
    Ok(to)
}

/// An application's statement: 1–4 000 characters.
pub fn statement(value: &str) -> Result<String, FieldError> {
    text::bounded("statement", value, 1, STATEMENT, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 3, d).expect("valid")
    }

    fn input() -> ProgramInput {
        ProgramInput {
            title: "Market access: Lima fair".into(),
            kind: ProgramKind::MarketAccess,
            description: String::new(),
            countries: vec!["PE".into(), "BO".into()],
            crafts: vec!["weaving".into()],
            opens_on: day(1),
            closes_on: day(31),
            seats: Some(2),
        }
    }

    #[test]
    fn a_program_names_each_broken_field() {
        assert!(ProgramFields::parse(input()).is_ok());
        let bad = ProgramInput {
            title: String::new(),
            countries: vec!["Peru".into()],
            crafts: vec!["Weaving!".into()],
            closes_on: day(1) - chrono::Days::new(1),
            seats: Some(0),
            ..input()
        };
        let errors = ProgramFields::parse(bad).expect_err("refused");
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "title",
                "eligibility.countries[0]",
                "eligibility.crafts[0]",
                "closes_on",
                "seats"
            ]
        );
    }

    #[test]
    fn only_eligible_artisans_apply_inside_the_window() {
        let crafts = vec!["weaving".to_owned()];
        let peru = Applicant {
            country: Some("PE"),
            crafts: &crafts,
        };
        let program = input();
        assert_eq!(
            may_apply(ProgramStatus::Open, &program, day(5), peru),
            Ok(())
        );
        let field = |r: Result<(), Denied>| match r {
            Err(Denied::Invalid(e)) => e.0.into_iter().map(|e| e.field).collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        let ghana = Applicant {
            country: Some("GH"),
            crafts: &crafts,
        };
        assert_eq!(
            field(may_apply(ProgramStatus::Open, &program, day(5), ghana)),
            ["eligibility"]
        );
        let none: Vec<String> = Vec::new();
        let no_craft = Applicant {
            country: Some("PE"),
            crafts: &none,
        };
        assert!(!eligible(&program, no_craft));
        let anyone = ProgramInput {
            countries: vec![],
            crafts: vec![],
            ..input()
        };
        assert!(eligible(
            &anyone,
            Applicant {
                country: None,
                crafts: &none
            }
        ));
        assert_eq!(
            field(may_apply(
                ProgramStatus::Open,
                &program,
                day(1) - chrono::Days::new(1),
                peru
            )),
            ["opens_on"]
        );
        assert_eq!(
            may_apply(ProgramStatus::Closed, &program, day(5), peru),
            Err(ProgramRefusal::Closed.into())
        );
    }

    #[test]
    fn seats_are_never_over_filled_and_decisions_happen_once() {
        use ApplicationStatus::*;
        assert_eq!(
            decide(ProgramStatus::Open, Pending, true, Some(2), 1),
            Ok(Accepted)
        );
        assert_eq!(
            decide(ProgramStatus::Open, Pending, true, Some(2), 2),
            Err(ProgramRefusal::SeatsFilled)
        );
        assert_eq!(
            decide(ProgramStatus::Open, Pending, false, Some(2), 2),
            Ok(Rejected)
        );
        assert_eq!(
            decide(ProgramStatus::Open, Pending, true, None, 1_000),
            Ok(Accepted)
        );
        assert_eq!(
            decide(ProgramStatus::Open, Accepted, true, None, 0),
            Err(ProgramRefusal::NotPending)
        );
        assert_eq!(withdraw(Accepted), Ok(Withdrawn));
        assert_eq!(withdraw(Rejected), Err(ProgramRefusal::NotPending));
        assert!(change(ProgramStatus::Closed, ProgramStatus::Open, None, 0).is_err());
        assert!(change(ProgramStatus::Open, ProgramStatus::Open, Some(1), 2).is_err());
        assert_eq!(
            change(ProgramStatus::Open, ProgramStatus::Closed, Some(2), 2),
            Ok(ProgramStatus::Closed)
        );
    }
}
