//! Skill exchange: swaps and mentorships between two artisans, the
//! sessions they hold, the hours those sessions move, and group workshops.
//!
//! Hours travel as JSON numbers in quarter-hour steps and are kept as
//! integer minutes; no float is ever stored or summed.

use chrono::NaiveDate;

use crate::account::text_enum;
use crate::refusal::Denied;
use crate::text::{self, limits};
use crate::{FieldError, FieldErrors};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeKind {
    Swap,
    Mentorship,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeStatus {
    Proposed,
    Accepted,
    Declined,
    Completed,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    Pending,
    Confirmed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationStatus {
    Registered,
    Waitlisted,
    Cancelled,
}

text_enum!(ExchangeKind { Swap => "swap", Mentorship => "mentorship" });
text_enum!(ExchangeStatus {
    Proposed => "proposed",
    Accepted => "accepted",
    Declined => "declined",
    Completed => "completed",
    Cancelled => "cancelled",
});
text_enum!(SessionStatus { Pending => "pending", Confirmed => "confirmed" });
text_enum!(RegistrationStatus { Registered => "registered", Waitlisted => "waitlisted", Cancelled => "cancelled" });

/// What a party asks to do with an exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Accept,
    Decline,
    Complete,
    Cancel,
}

/// Which side of the exchange the caller is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// Proposed the exchange.
    Proposer,
    /// Was asked (for a mentorship: the mentor).
    Partner,
}

/// Why a change to an exchange, its sessions or reviews is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExchangeRefusal {
    /// The proposer does not accept or decline its own proposal (→ 403).
    ProposerCannotAnswer,
    /// The invited partner declines instead of cancelling (→ 403).
    PartnerDeclinesInstead,
    /// Not from the current status.
    WrongStatus,
    /// Sessions are recorded and confirmed while the exchange is accepted.
    NotAccepted,
    /// The other party confirms a session, not its recorder (→ 403).
    RecorderCannotConfirm,
    AlreadyConfirmed,
    /// Reviews come after completion.
    NotCompleted,
    AlreadyReviewed,
}

impl ExchangeStatus {
    /// The status after `side` takes `action`: the partner accepts or
    /// declines a proposal; either side completes an accepted exchange; the
    /// proposer withdraws a proposal, and either side cancels an accepted
    /// exchange. Everything else is refused.
    pub fn after(self, action: Action, side: Side) -> Result<ExchangeStatus, ExchangeRefusal> {
        use ExchangeStatus::*;
        match (action, side, self) {
            (Action::Accept | Action::Decline, Side::Proposer, _) => {
                Err(ExchangeRefusal::ProposerCannotAnswer)
            }
            (Action::Accept, Side::Partner, Proposed) => Ok(Accepted),
            (Action::Decline, Side::Partner, Proposed) => Ok(Declined),
            (Action::Complete, _, Accepted) => Ok(Completed),
            (Action::Cancel, Side::Proposer, Proposed) => Ok(Cancelled),
            (Action::Cancel, Side::Partner, Proposed) => {
                Err(ExchangeRefusal::PartnerDeclinesInstead)
            }
            (Action::Cancel, _, Accepted) => Ok(Cancelled),
            _ => Err(ExchangeRefusal::WrongStatus),
        }
    }

    /// What becomes of an exchange when `side` closes their account: a
    /// proposal they made is withdrawn, one made to them is declined, an
    /// accepted exchange is cancelled; ended exchanges stay as they are.
    pub fn on_account_closed(self, side: Side) -> Option<ExchangeStatus> {
        let action = match (self, side) {
            (ExchangeStatus::Proposed, Side::Partner) => Action::Decline,
            (ExchangeStatus::Proposed | ExchangeStatus::Accepted, _) => Action::Cancel,
            _ => return None,
        };
        self.after(action, side).ok()
    }

    /// Whether a session may be recorded: while the exchange is accepted, by
    /// a teacher who is one of its parties (`teacher`), of a skill that
    /// party teaches in this exchange.
    pub fn may_record_session(
        self,
        teacher: Option<Side>,
        teaches_skill: bool,
    ) -> Result<(), Denied> {
        if !self.holds_sessions() {
            return Err(ExchangeRefusal::NotAccepted.into());
        }
        if teacher.is_none() {
            return Err(FieldError::unknown("taught_by").into());
        }
        if !teaches_skill {
            return Err(FieldError::unknown("skill").into());
        }
        Ok(())
    }

    /// Whether a session may be confirmed: by the party who did not record
    /// it, once, while the exchange is accepted.
    pub fn may_confirm_session(
        self,
        recorded_by_confirmer: bool,
        session: SessionStatus,
    ) -> Result<(), ExchangeRefusal> {
        if recorded_by_confirmer {
            return Err(ExchangeRefusal::RecorderCannotConfirm);
        }
        if session == SessionStatus::Confirmed {
            return Err(ExchangeRefusal::AlreadyConfirmed);
        }
        if !self.holds_sessions() {
            return Err(ExchangeRefusal::NotAccepted);
        }
        Ok(())
    }

    /// Whether sessions can be recorded and confirmed.
    pub fn holds_sessions(self) -> bool {
        self == ExchangeStatus::Accepted
    }
}

/// A session is recorded once it was held: `held_on` not after `today`.
pub fn held_on(held_on: NaiveDate, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    if held_on > today {
        return Err(FieldError::new(
            "held_on",
            "in_future",
            "a session is recorded once it was held",
        ));
    }
    Ok(held_on)
}

/// The shortest and longest session, and the step, in minutes.
pub const SESSION_MINUTES: (i64, i64) = (15, 480);
/// The longest proposed exchange, in minutes.
pub const PROPOSED_MAX_MINUTES: i64 = 200 * 60;
pub const STEP_MINUTES: i64 = 15;
pub const MESSAGE: usize = 2000;
pub const MAX_SKILLS: usize = 10;
pub const WORKSHOP_CAPACITY: i64 = 500;

/// Parses hours given as a JSON number into whole minutes: a multiple of a
/// quarter hour within `min..=max` minutes. Quarter hours are exact in
/// binary floating point, so the check loses nothing.
pub fn minutes(field: &str, hours: f64, min: i64, max: i64) -> Result<i64, FieldError> {
    let quarters = hours * 4.0;
    let fmt = |m: i64| {
        let h = m / 60;
        match m % 60 {
            0 => format!("{h}"),
            r => format!("{h}.{}", r * 100 / 60),
        }
    };
    let range = || {
        FieldError::new(
            field,
            "out_of_range",
            format!(
                "must be between {} and {} hours in quarter-hour steps",
                fmt(min),
                fmt(max)
            ),
        )
    };
    if !quarters.is_finite() || quarters.fract() != 0.0 {
        return Err(FieldError::new(
            field,
            "quarter_hours",
            "must be a whole number of quarter hours (0.25, 0.5, 0.75, 1, …)",
        ));
    }
    if quarters < 0.0 || quarters > (max / STEP_MINUTES) as f64 {
        return Err(range());
    }
    let value = quarters as i64 * STEP_MINUTES;
    if value < min {
        return Err(range());
    }
    Ok(value)
}

/// Minutes as hours for a response (exact: a multiple of 15 minutes is a
/// multiple of 0.25 hours).
pub fn hours(minutes: i64) -> f64 {
    minutes as f64 / 60.0
}

/// A proposal, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub kind: ExchangeKind,
    pub i_teach: Vec<String>,
    pub they_teach: Vec<String>,
    pub message: String,
    pub proposed_minutes: i64,
}

impl Proposal {
    /// Checks a proposal: a swap teaches both ways; a mentorship has the
    /// partner (the mentor) teach and the proposer teach nothing.
    pub fn new(
        kind: ExchangeKind,
        i_teach: &[String],
        they_teach: &[String],
        message: &str,
        proposed_hours: f64,
    ) -> Result<Self, FieldErrors> {
        let mut e = FieldErrors::default();
        let slug = |f: &str, s: &str| text::Slug::parse(f, s).map(|s| s.as_str().to_owned());
        let i_teach = e
            .take(text::unique_list("i_teach", i_teach, MAX_SKILLS, slug))
            .unwrap_or_default();
        let they_teach = e
            .take(text::unique_list(
                "they_teach",
                they_teach,
                MAX_SKILLS,
                slug,
            ))
            .unwrap_or_default();
        match kind {
            ExchangeKind::Swap if i_teach.is_empty() => e.push(FieldError::new(
                "i_teach",
                "required",
                "a swap needs at least one skill you teach",
            )),
            ExchangeKind::Mentorship if !i_teach.is_empty() => e.push(FieldError::new(
                "i_teach",
                "not_allowed",
                "in a mentorship only the mentor teaches; leave i_teach empty",
            )),
            _ => {}
        }
        if they_teach.is_empty() {
            e.push(FieldError::new(
                "they_teach",
                "required",
                "name at least one skill your partner teaches",
            ));
        }
        let message = e
            .take(text::bounded("message", message, 0, MESSAGE, true))
            .unwrap_or_default();
        let proposed_minutes = e
            .take(minutes(
                "proposed_hours",
                proposed_hours,
                STEP_MINUTES,
                PROPOSED_MAX_MINUTES,
            ))
            .unwrap_or_default();
        e.finish(|| Proposal {
            kind,
            i_teach,
            they_teach,
            message,
            proposed_minutes,
        })
    }
}

/// A workshop's text and shape, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkshopFields {
    pub title: String,
    pub skill: String,
    pub description: String,
    pub capacity: i64,
    pub duration_minutes: i64,
    pub location: Option<String>,
    pub online_url: Option<String>,
}

impl WorkshopFields {
    pub fn new(
        title: &str,
        skill: &str,
        description: &str,
        capacity: i64,
        duration_hours: f64,
        location: Option<&str>,
        online_url: Option<&str>,
    ) -> Result<Self, FieldErrors> {
        let mut e = FieldErrors::default();
        let title = e.take(text::title("title", title)).unwrap_or_default();
        let skill = e
            .take(text::Slug::parse("skill", skill))
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default();
        let description = e
            .take(text::prose("description", description))
            .unwrap_or_default();
        if !(1..=WORKSHOP_CAPACITY).contains(&capacity) {
            e.push(FieldError::new(
                "capacity",
                "out_of_range",
                format!("must be between 1 and {WORKSHOP_CAPACITY}"),
            ));
        }
        let duration_minutes = e
            .take(minutes(
                "duration_hours",
                duration_hours,
                SESSION_MINUTES.0,
                SESSION_MINUTES.1,
            ))
            .unwrap_or_default();
        let location = location
            .and_then(|l| e.take(text::bounded("location", l, 1, limits::REGION * 2, false)));
        let online_url = online_url.and_then(|u| e.take(text::web_url("online_url", u)));
        if location.is_some() == online_url.is_some() {
            e.push(FieldError::new(
                "location",
                "one_of",
                "give either a location or an online_url, not both",
            ));
        }
        e.finish(|| WorkshopFields {
            title,
            skill,
            description,
            capacity,
            duration_minutes,
            location,
            online_url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use Action::*;
    use ExchangeStatus::*;
    use Side::*;

    #[test]
    fn the_partner_answers_and_either_side_finishes() {
        assert_eq!(Proposed.after(Accept, Partner), Ok(Accepted));
        assert_eq!(Proposed.after(Decline, Partner), Ok(Declined));
        assert_eq!(
            Proposed.after(Accept, Proposer),
            Err(ExchangeRefusal::ProposerCannotAnswer)
        );
        assert_eq!(Accepted.after(Complete, Proposer), Ok(Completed));
        assert_eq!(Accepted.after(Complete, Partner), Ok(Completed));
        assert_eq!(Proposed.after(Cancel, Proposer), Ok(Cancelled));
        assert_eq!(
            Proposed.after(Cancel, Partner),
            Err(ExchangeRefusal::PartnerDeclinesInstead)
        );
        assert_eq!(Accepted.after(Cancel, Partner), Ok(Cancelled));
        for done in [Declined, Completed, Cancelled] {
            for action in [Accept, Decline, Complete, Cancel] {
                assert!(done.after(action, Partner).is_err(), "{done} {action:?}");
            }
        }
        assert_eq!(
            Proposed.after(Complete, Partner),
            Err(ExchangeRefusal::WrongStatus)
        );
    }

    #[test]
    fn hours_are_quarter_hours_in_range() {
        let session = |h| minutes("hours", h, 15, 480);
        assert_eq!(session(0.25), Ok(15));
        assert_eq!(session(1.5), Ok(90));
        assert_eq!(session(8.0), Ok(480));
        assert_eq!(session(0.1).map_err(|e| e.code), Err("quarter_hours"));
        assert_eq!(session(0.0).map_err(|e| e.code), Err("out_of_range"));
        assert_eq!(session(8.25).map_err(|e| e.code), Err("out_of_range"));
        assert_eq!(session(-1.0).map_err(|e| e.code), Err("out_of_range"));
        assert_eq!(session(f64::NAN).map_err(|e| e.code), Err("quarter_hours"));
        assert_eq!(hours(90), 1.5);
    }

    #[test]
    fn proposals_follow_their_kind() {
        let skills = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        assert!(Proposal::new(
            ExchangeKind::Swap,
            &skills(&["weaving"]),
            &skills(&["photography"]),
            "",
            2.0
        )
        .is_ok());
        let fields = |r: Result<Proposal, FieldErrors>| {
            r.err()
                .map(|e| e.0.into_iter().map(|e| e.field).collect::<Vec<_>>())
        };
        assert_eq!(
            fields(Proposal::new(
                ExchangeKind::Swap,
                &[],
                &skills(&["x"]),
                "",
                2.0
            )),
            Some(vec!["i_teach".to_owned()])
        );
        assert_eq!(
            fields(Proposal::new(
                ExchangeKind::Mentorship,
                &skills(&["x"]),
                &[],
                "",
                0.3
            )),
            Some(vec![
                "i_teach".to_owned(),
                "they_teach".to_owned(),
                "proposed_hours".to_owned()
            ])
        );
    }

    #[test]
    fn a_workshop_is_either_in_person_or_online() {
        let make = |l: Option<&str>, u: Option<&str>| {
            WorkshopFields::new("Indigo", "natural-dyeing", "", 12, 2.0, l, u)
        };
        assert!(make(Some("Cusco market hall"), None).is_ok());
        assert!(make(None, Some("https://meet.example.org/indigo")).is_ok());
        assert!(make(None, None).is_err());
        assert!(make(Some("Cusco"), Some("https://meet.example.org/x")).is_err());
        assert!(
            WorkshopFields::new("Indigo", "natural-dyeing", "", 0, 2.0, Some("Cusco"), None)
                .is_err()
        );
    }

    proptest! {
        /// Every quarter-hour count in range parses to exactly 15 minutes
        /// per quarter, and back to the same hours.
        #[test]
        fn quarter_hours_round_trip(quarters in 1i64..=32) {
            let h = quarters as f64 / 4.0;
            let m = minutes("hours", h, 15, 480).expect("in range");
            prop_assert_eq!(m, quarters * 15);
            prop_assert_eq!(hours(m), h);
        }
    }

    #[test]
    fn a_closed_account_leaves_no_exchange_open() {
        use ExchangeStatus::*;
        assert_eq!(Proposed.on_account_closed(Side::Proposer), Some(Cancelled));
        assert_eq!(Proposed.on_account_closed(Side::Partner), Some(Declined));
        assert_eq!(Accepted.on_account_closed(Side::Proposer), Some(Cancelled));
        assert_eq!(Accepted.on_account_closed(Side::Partner), Some(Cancelled));
        for ended in [Declined, Completed, Cancelled] {
            assert_eq!(ended.on_account_closed(Side::Proposer), None);
            assert_eq!(ended.on_account_closed(Side::Partner), None);
        }
    }

    #[test]
    fn sessions_are_recorded_by_teachers_and_confirmed_by_the_other_party() {
        assert_eq!(Accepted.may_record_session(Some(Proposer), true), Ok(()));
        assert_eq!(
            Proposed.may_record_session(Some(Proposer), true),
            Err(ExchangeRefusal::NotAccepted.into())
        );
        let field = |r: Result<(), Denied>| match r {
            Err(Denied::Invalid(e)) => e.0.into_iter().map(|e| e.field).collect::<Vec<_>>(),
            _ => Vec::new(),
        };
        assert_eq!(
            field(Accepted.may_record_session(None, true)),
            ["taught_by"]
        );
        assert_eq!(
            field(Accepted.may_record_session(Some(Partner), false)),
            ["skill"]
        );
        assert_eq!(
            Accepted.may_confirm_session(false, SessionStatus::Pending),
            Ok(())
        );
        assert_eq!(
            Accepted.may_confirm_session(true, SessionStatus::Pending),
            Err(ExchangeRefusal::RecorderCannotConfirm)
        );
        assert_eq!(
            Accepted.may_confirm_session(false, SessionStatus::Confirmed),
            Err(ExchangeRefusal::AlreadyConfirmed)
        );
        assert_eq!(
            Completed.may_confirm_session(false, SessionStatus::Pending),
            Err(ExchangeRefusal::NotAccepted)
        );
    }

    #[test]
    fn sessions_are_recorded_once_held() {
        let day = |s: &str| s.parse::<NaiveDate>().expect("date");
        assert_eq!(
            held_on(day("2026-05-01"), day("2026-05-01")),
            Ok(day("2026-05-01"))
        );
        assert_eq!(
            held_on(day("2026-05-02"), day("2026-05-01")).map_err(|e| e.code),
            Err("in_future")
        );
    }
}
