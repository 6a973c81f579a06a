//! Shared market events (pop-ups, festivals, exhibitions, fairs): organised
//! by a partnership or a collective, joined by artisans up to a capacity
//! with a waitlist ([`crate::seats`]), with a booth cost split equally
//! among those taking part.

use chrono::NaiveDateTime;

use crate::account::text_enum;
use crate::country::CountryCode;
use crate::money::{Currency, MinorUnits};
use crate::seats::Seat;
use crate::text::{self, limits};
use crate::{FieldError, FieldErrors};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    PopUp,
    Festival,
    Exhibition,
    Fair,
}

text_enum!(EventKind { PopUp => "pop_up", Festival => "festival", Exhibition => "exhibition", Fair => "fair" });

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStatus {
    Scheduled,
    Cancelled,
}

text_enum!(EventStatus { Scheduled => "scheduled", Cancelled => "cancelled" });

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParticipantStatus {
    Participating,
    Waitlisted,
    Left,
}

text_enum!(ParticipantStatus { Participating => "participating", Waitlisted => "waitlisted", Left => "left" });

impl From<Seat> for ParticipantStatus {
    fn from(seat: Seat) -> Self {
        match seat {
            Seat::Seated => ParticipantStatus::Participating,
            Seat::Waiting => ParticipantStatus::Waitlisted,
        }
    }
}

/// Why a change to an event or its participants is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventRefusal {
    /// Only the organiser's accepted parties or coordinators (→ 403).
    NotOrganizer,
    Cancelled,
    Started,
    AlreadyParticipating,
    AlreadyLeft,
}

/// The most participants an event may have.
pub const EVENT_CAPACITY: i64 = 10_000;
/// A cancellation's reason: 1–1000 characters.
pub const REASON: usize = 1000;

/// A booth cost: a non-negative amount in a currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BoothCost {
    pub amount: MinorUnits,
    pub currency: Currency,
}

impl BoothCost {
    pub fn parse(amount_minor: i64, currency: &str) -> Result<Self, FieldErrors> {
        let mut e = FieldErrors::default();
        let amount = if amount_minor < 0 {
            e.push(FieldError::new(
                "booth_cost.amount_minor",
                "negative",
                "must be 0 or more",
            ));
            None
        } else {
            e.take(MinorUnits::at_most("booth_cost.amount_minor", amount_minor))
        };
        match (
            amount,
            e.take(Currency::parse("booth_cost.currency", currency)),
        ) {
            (Some(amount), Some(currency)) if e.is_empty() => Ok(BoothCost { amount, currency }),
            _ => Err(e),
        }
    }
}

/// An event's fields as a client writes them, nothing checked yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventInput {
    pub name: String,
    pub kind: EventKind,
    pub venue: String,
    pub city: String,
    pub country: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub booth_cost: Option<(i64, String)>,
    pub capacity: Option<i64>,
    pub description: String,
}

/// An event's fields, checked: [`EventFields::parse`] is the only way to
/// build one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFields {
    name: String,
    kind: EventKind,
    venue: String,
    city: String,
    country: CountryCode,
    starts_at: NaiveDateTime,
    ends_at: NaiveDateTime,
    booth_cost: Option<BoothCost>,
    capacity: Option<i64>,
    description: String,
}

impl EventFields {
    /// Checks every field and reports every problem at once: texts within
    /// their limits, a country code, the end after the start, a booth cost
    /// of 0 or more in a known currency, a capacity of 1 to
    /// [`EVENT_CAPACITY`].
    pub fn parse(input: EventInput) -> Result<Self, FieldErrors> {
        let mut e = FieldErrors::default();
        let name = e.take(text::title("name", &input.name));
        let venue = e.take(text::title("venue", &input.venue));
        let city = e.take(text::bounded("city", &input.city, 1, limits::REGION, false));
        let country = e.take(CountryCode::parse("country", &input.country));
        let description = e.take(text::prose("description", &input.description));
        if input.ends_at <= input.starts_at {
            e.push(FieldError::new(
                "ends_at",
                "not_after_start",
                "must be after starts_at",
            ));
        }
        let booth_cost = match input.booth_cost {
            Some((amount, currency)) => match BoothCost::parse(amount, &currency) {
                Ok(cost) => Some(cost),
                Err(errors) => {
                    errors.0.into_iter().for_each(|error| e.push(error));
                    None
                }
            },
            None => None,
        };
        if let Some(capacity) = input.capacity {
            if !(1..=EVENT_CAPACITY).contains(&capacity) {
                e.push(FieldError::new(
                    "capacity",
                    "out_of_range",
                    format!("must be between 1 and {EVENT_CAPACITY}"),
                ));
            }
        }
        match (name, venue, city, country, description) {
            (Some(name), Some(venue), Some(city), Some(country), Some(description))
                if e.is_empty() =>
            {
                Ok(EventFields {
                    name,
                    kind: input.kind,
                    venue,
                    city,
                    country,
                    starts_at: input.starts_at,
                    ends_at: input.ends_at,
                    booth_cost,
                    capacity: input.capacity,
                    description,
                })
            }
            _ => Err(e),
        }
    }

    /// The fields as input again (to apply a partial change and parse the
    /// result).
    pub fn to_input(&self) -> EventInput {
        EventInput {
            name: self.name.clone(),
            kind: self.kind,
            venue: self.venue.clone(),
            city: self.city.clone(),
            country: self.country.as_str().to_owned(),
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            booth_cost: self
                .booth_cost
                .map(|c| (c.amount.get(), c.currency.code().to_owned())),
            capacity: self.capacity,
            description: self.description.clone(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn kind(&self) -> EventKind {
        self.kind
    }
    pub fn venue(&self) -> &str {
        &self.venue
    }
    pub fn city(&self) -> &str {
        &self.city
    }
    pub fn country(&self) -> &str {
        self.country.as_str()
    }
    pub fn starts_at(&self) -> NaiveDateTime {
        self.starts_at
    }
    pub fn ends_at(&self) -> NaiveDateTime {
        self.ends_at
    }
    pub fn booth_cost(&self) -> Option<BoothCost> {
        self.booth_cost
    }
    pub fn capacity(&self) -> Option<i64> {
        self.capacity
    }
    pub fn description(&self) -> &str {
        &self.description
    }
}

/// A new event starts in the future.
pub fn starts_in_future(fields: &EventFields, now: NaiveDateTime) -> Result<(), FieldError> {
    crate::workshop::starts_in_future(fields.starts_at, now)
}

/// An event as its decisions see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Event {
    pub status: EventStatus,
    pub starts_at: NaiveDateTime,
    pub capacity: Option<i64>,
}

impl Event {
    fn require_scheduled(&self) -> Result<(), EventRefusal> {
        match self.status {
            EventStatus::Scheduled => Ok(()),
            EventStatus::Cancelled => Err(EventRefusal::Cancelled),
        }
    }

    fn require_not_started(&self, now: NaiveDateTime) -> Result<(), EventRefusal> {
        if self.starts_at <= now {
            Err(EventRefusal::Started)
        } else {
            Ok(())
        }
    }

    /// An edit: only while scheduled. A new capacity below the seats taken
    /// now is refused on the field (nobody loses a seat by an edit).
    pub fn edit(
        &self,
        fields: &EventFields,
        participating: i64,
    ) -> Result<(), crate::refusal::Denied> {
        self.require_scheduled()?;
        if fields.capacity.is_some_and(|c| c < participating) {
            return Err(FieldError::new(
                "capacity",
                "below_participants",
                format!("{participating} artisans already take part"),
            )
            .into());
        }
        Ok(())
    }

    /// Cancelling: once, with a reason (1–[`REASON`] characters).
    pub fn cancel(&self, reason: &str) -> Result<String, crate::refusal::Denied> {
        self.require_scheduled()?;
        Ok(text::bounded("cancel_reason", reason, 1, REASON, true)?)
    }

    /// An artisan joins: while scheduled and before the start; a seat
    /// while one is free (no capacity: always), the waitlist otherwise.
    pub fn join(&self, now: NaiveDateTime, taken: i64) -> Result<ParticipantStatus, EventRefusal> {
        self.require_scheduled()?;
        self.require_not_started(now)?;
        Ok(match self.capacity {
            Some(capacity) => crate::seats::assign(capacity, taken).into(),
            None => ParticipantStatus::Participating,
        })
    }

    /// A participant leaves (or is removed by the organiser): once, before
    /// the start. Returns whether a seat is freed (it then goes to the
    /// first on the waitlist).
    pub fn leave(
        &self,
        now: NaiveDateTime,
        status: ParticipantStatus,
    ) -> Result<bool, EventRefusal> {
        if status == ParticipantStatus::Left {
            return Err(EventRefusal::AlreadyLeft);
        }
        self.require_not_started(now)?;
        Ok(status == ParticipantStatus::Participating)
    }
}

/// How many on the waitlist get a seat once `participating` take part
/// under `capacity` (none: every one of them).
pub fn seats_to_fill(capacity: Option<i64>, participating: i64, waiting: i64) -> i64 {
    match capacity {
        Some(capacity) => (capacity - participating).clamp(0, waiting),
        None => waiting,
    }
}

/// How a sale's partnership stands to the event the sale names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaleTie {
    /// No such event.
    Unknown,
    /// The partnership neither organises it nor has an accepted party
    /// taking part.
    Unrelated,
    /// It organises it, or one of its accepted parties takes part.
    Related,
}

impl SaleTie {
    /// A sale may name an event only if its partnership is related to it
    /// (→ 422 naming `event_id` otherwise).
    pub fn admits_sale(self) -> Result<(), FieldError> {
        match self {
            SaleTie::Related => Ok(()),
            SaleTie::Unknown => Err(FieldError::unknown("event_id")),
            SaleTie::Unrelated => Err(FieldError::new(
                "event_id",
                "not_taking_part",
                "this partnership neither organises the event nor has an accepted party taking part",
            )),
        }
    }
}

/// A change to an event: new values for the fields named, and possibly
/// its cancellation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventPatch {
    pub name: Option<String>,
    pub kind: Option<EventKind>,
    pub venue: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub starts_at: Option<NaiveDateTime>,
    pub ends_at: Option<NaiveDateTime>,
    /// `Some(None)` removes the booth cost.
    pub booth_cost: Option<Option<(i64, String)>>,
    /// `Some(None)` removes the limit.
    pub capacity: Option<Option<i64>>,
    pub description: Option<String>,
    /// `Some(reason)`: cancel the event.
    pub cancel_reason: Option<String>,
}

impl EventPatch {
    /// The input after the change (to be parsed again as a whole).
    pub fn apply(&self, mut input: EventInput) -> EventInput {
        let patch = self.clone();
        input.name = patch.name.unwrap_or(input.name);
        input.kind = patch.kind.unwrap_or(input.kind);
        input.venue = patch.venue.unwrap_or(input.venue);
        input.city = patch.city.unwrap_or(input.city);
        input.country = patch.country.unwrap_or(input.country);
        input.starts_at = patch.starts_at.unwrap_or(input.starts_at);
        input.ends_at = patch.ends_at.unwrap_or(input.ends_at);
        input.booth_cost = patch.booth_cost.unwrap_or(input.booth_cost);
        input.capacity = patch.capacity.unwrap_or(input.capacity);
        input.description = patch.description.unwrap_or(input.description);
        input
    }
}

/// The booth cost split equally among `participants` (in join order),
/// exact to the minor unit: everyone pays `total / n` rounded down and the
/// remaining units go one each to the largest remainders — all equal, so
/// to the earliest to join. The shares sum to `total`, differ by at most
/// one unit, and depend only on the total and the order.
pub fn cost_shares(total: MinorUnits, participants: usize) -> Vec<MinorUnits> {
    let Ok(n) = i64::try_from(participants) else {
        return Vec::new();
    };
    if n == 0 {
        return Vec::new();
    }
    let base = total.get().div_euclid(n);
    let extra = usize::try_from(total.get().rem_euclid(n)).unwrap_or(0);
    (0..participants)
        .map(|i| MinorUnits::new(base + i64::from(i < extra)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use proptest::prelude::*;

    fn at(day: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2027, 3, day)
            .and_then(|d| d.and_hms_opt(10, 0, 0))
            .unwrap_or_default()
    }

    fn input() -> EventInput {
        EventInput {
            name: "Feria de Chinchero".into(),
            kind: EventKind::Festival,
            venue: "Plaza".into(),
            city: "Chinchero".into(),
            country: "PE".into(),
            starts_at: at(10),
            ends_at: at(12),
            booth_cost: Some((30_000, "PEN".into())),
            capacity: Some(10),
            description: String::new(),
        }
    }

    #[test]
    fn fields_parse_and_report_every_problem() {
        let fields = EventFields::parse(input()).expect("valid");
        assert_eq!(fields.country(), "PE");
        assert_eq!(EventFields::parse(fields.to_input()), Ok(fields));
        let mut bad = input();
        bad.name = String::new();
        bad.country = "XX".into();
        bad.ends_at = at(9);
        bad.booth_cost = Some((-1, "ZZZ".into()));
        bad.capacity = Some(0);
        let errors = EventFields::parse(bad).expect_err("invalid");
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "name",
                "country",
                "ends_at",
                "booth_cost.amount_minor",
                "booth_cost.currency",
                "capacity"
            ]
        );
    }

    #[test]
    fn joining_and_leaving_follow_status_clock_and_capacity() {
        let event = Event {
            status: EventStatus::Scheduled,
            starts_at: at(10),
            capacity: Some(2),
        };
        assert_eq!(event.join(at(1), 1), Ok(ParticipantStatus::Participating));
        assert_eq!(event.join(at(1), 2), Ok(ParticipantStatus::Waitlisted));
        assert_eq!(event.join(at(10), 0), Err(EventRefusal::Started));
        let open = Event {
            capacity: None,
            ..event
        };
        assert_eq!(open.join(at(1), 5000), Ok(ParticipantStatus::Participating));
        let cancelled = Event {
            status: EventStatus::Cancelled,
            ..event
        };
        assert_eq!(cancelled.join(at(1), 0), Err(EventRefusal::Cancelled));
        assert_eq!(
            event.leave(at(1), ParticipantStatus::Participating),
            Ok(true)
        );
        assert_eq!(event.leave(at(1), ParticipantStatus::Waitlisted), Ok(false));
        assert_eq!(
            event.leave(at(1), ParticipantStatus::Left),
            Err(EventRefusal::AlreadyLeft)
        );
        assert_eq!(
            event.leave(at(11), ParticipantStatus::Participating),
            Err(EventRefusal::Started)
        );
    }

    #[test]
    fn edits_and_cancellation_need_a_scheduled_event() {
        let event = Event {
            status: EventStatus::Scheduled,
            starts_at: at(10),
            capacity: Some(5),
        };
        let mut smaller = input();
        smaller.capacity = Some(2);
        let smaller = EventFields::parse(smaller).expect("valid");
        assert!(event.edit(&smaller, 2).is_ok());
        assert!(matches!(
            event.edit(&smaller, 3),
            Err(crate::refusal::Denied::Invalid(_))
        ));
        assert_eq!(event.cancel("Rain"), Ok("Rain".to_owned()));
        assert!(event.cancel("").is_err());
        let cancelled = Event {
            status: EventStatus::Cancelled,
            ..event
        };
        assert_eq!(
            cancelled.cancel("again"),
            Err(EventRefusal::Cancelled.into())
        );
    }

    #[test]
    fn a_larger_capacity_seats_the_waitlist_and_a_patch_changes_only_what_it_names() {
        assert_eq!(seats_to_fill(Some(10), 8, 5), 2);
        assert_eq!(seats_to_fill(Some(10), 10, 5), 0);
        assert_eq!(seats_to_fill(Some(4), 6, 5), 0);
        assert_eq!(seats_to_fill(None, 10, 5), 5);
        let patch = EventPatch {
            city: Some("Cusco".into()),
            capacity: Some(None),
            ..EventPatch::default()
        };
        let changed = patch.apply(input());
        assert_eq!(changed.city, "Cusco");
        assert_eq!(changed.capacity, None);
        assert_eq!(changed.name, input().name);
    }

    #[test]
    fn a_sale_names_only_an_event_its_partnership_is_part_of() {
        assert_eq!(SaleTie::Related.admits_sale(), Ok(()));
        assert_eq!(
            SaleTie::Unknown.admits_sale().map_err(|e| e.code),
            Err("unknown")
        );
        assert_eq!(
            SaleTie::Unrelated.admits_sale().map_err(|e| e.code),
            Err("not_taking_part")
        );
    }

    #[test]
    fn a_booth_cost_splits_with_the_remainder_to_the_first_to_join() {
        let shares = |t, n| {
            cost_shares(MinorUnits::new(t), n)
                .into_iter()
                .map(MinorUnits::get)
                .collect::<Vec<_>>()
        };
        assert_eq!(shares(10, 3), [4, 3, 3]);
        assert_eq!(shares(11, 3), [4, 4, 3]);
        assert_eq!(shares(0, 2), [0, 0]);
        assert_eq!(shares(5, 0), Vec::<i64>::new());
    }

    #[test]
    fn a_booth_cost_is_zero_or_more_and_at_most_what_clients_read_exactly() {
        let codes = |amount, currency| {
            BoothCost::parse(amount, currency)
                .map(|cost| cost.amount.get())
                .map_err(|e| e.0.iter().map(|f| f.code).collect::<Vec<_>>())
        };
        assert_eq!(codes(0, "PEN"), Ok(0));
        assert_eq!(codes(MinorUnits::MOST, "PEN"), Ok(MinorUnits::MOST));
        assert_eq!(codes(MinorUnits::MOST + 1, "PEN"), Err(vec!["too_large"]));
        assert_eq!(codes(-1, "XYZ"), Err(vec!["negative", "unknown_currency"]));
    }

    proptest! {
        /// For currencies with 0, 2 and 3 decimals alike (shares are minor
        /// units, whatever a unit is): the shares sum to the cost, no two
        /// differ by more than one unit, and the same participants get the
        /// same shares.
        #[test]
        fn cost_shares_are_exact_fair_and_deterministic(
            currency in prop::sample::select(vec!["JPY", "PEN", "BHD"]),
            total in 0i64..10_000_000_000,
            participants in 1usize..600,
        ) {
            let cost = BoothCost::parse(total, currency).expect("valid cost");
            let shares = cost_shares(cost.amount, participants);
            prop_assert_eq!(shares.len(), participants);
            prop_assert_eq!(MinorUnits::checked_sum(shares.iter().copied()), Some(cost.amount));
            let max = shares.iter().map(|s| s.get()).max().unwrap_or(0);
            let min = shares.iter().map(|s| s.get()).min().unwrap_or(0);
            prop_assert!(max - min <= 1);
            prop_assert!(shares.windows(2).all(|w| w[0] >= w[1]), "earlier joiners take the extra units");
            prop_assert_eq!(cost_shares(cost.amount, participants), shares);
        }
    }
}
