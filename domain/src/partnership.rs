//! Partnerships: what kind of collaboration, who takes part, and how a
//! partnership moves from forming to active to its end.

use crate::account::text_enum;
use crate::refusal::Denied;
use crate::text;
use crate::{FieldError, FieldErrors};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnershipKind {
    CoBrandedCollection,
    MarketEvent,
    SkillWorkshop,
    CooperativeProject,
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnershipStatus {
    Forming,
    Active,
    Completed,
    Dissolved,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartyStatus {
    Invited,
    Accepted,
    Declined,
    Left,
}

text_enum!(PartnershipKind {
    CoBrandedCollection => "co_branded_collection",
    MarketEvent => "market_event",
    SkillWorkshop => "skill_workshop",
    CooperativeProject => "cooperative_project",
    Other => "other",
});
text_enum!(PartnershipStatus { Forming => "forming", Active => "active", Completed => "completed", Dissolved => "dissolved" });
text_enum!(PartyStatus { Invited => "invited", Accepted => "accepted", Declined => "declined", Left => "left" });

/// Why a change to a partnership or its parties is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartnershipRefusal {
    /// Only an accepted party acts (→ 403).
    NotAcceptedParty,
    /// Only the invited party answers its invitation (→ 403).
    NotInvitee,
    /// Only the party itself leaves (→ 403).
    NotTheParty,
    AlreadyAnswered,
    Ended,
    /// Agreements are made once two parties have accepted.
    NotActiveYet,
    StatusChangeNotAllowed,
    OnlyAcceptedLeave,
    /// An active agreement names the party.
    NamedByAgreementInForce,
    AlreadyAParty,
}

/// How many accepted parties make a partnership active.
pub const ACTIVE_AT: i64 = 2;
/// How many parties one request may invite.
pub const MAX_INVITEES: usize = 20;

impl PartnershipStatus {
    /// The status after the number of accepted parties changed: a forming
    /// partnership becomes active with two accepted parties.
    pub fn with_accepted(self, accepted: i64) -> Self {
        match self {
            PartnershipStatus::Forming if accepted >= ACTIVE_AT => PartnershipStatus::Active,
            other => other,
        }
    }

    /// Whether parties can still join, answer or leave.
    pub fn is_open(self) -> bool {
        matches!(self, PartnershipStatus::Forming | PartnershipStatus::Active)
    }

    /// Whether a party may end the partnership this way: a forming one can
    /// only be dissolved; an active one completed or dissolved; an ended one
    /// never changes again.
    pub fn may_become(self, next: PartnershipStatus) -> bool {
        matches!(
            (self, next),
            (PartnershipStatus::Forming, PartnershipStatus::Dissolved)
                | (
                    PartnershipStatus::Active,
                    PartnershipStatus::Completed | PartnershipStatus::Dissolved
                )
        ) || self == next
    }
}

impl PartyStatus {
    /// What becomes of an artisan's party when they close their account: an
    /// accepted party leaves (drafts no longer wait for its signature;
    /// signatures it gave stay), an open invitation is declined; a declined
    /// or departed party stays as it is.
    pub fn on_account_closed(self) -> Option<PartyStatus> {
        match self {
            PartyStatus::Accepted => Some(PartyStatus::Left),
            PartyStatus::Invited => Some(PartyStatus::Declined),
            PartyStatus::Declined | PartyStatus::Left => None,
        }
    }
}

/// A party's status as it stood at `t`, from its current status and when
/// that was reached: `None` if the party did not exist yet. Answers move a
/// party from `invited` (to `accepted` or `declined`, at `changed_at`), and
/// only an accepted party leaves (at `left_at`).
pub fn party_status_at<T: Ord + Copy>(
    status: PartyStatus,
    created_at: T,
    changed_at: T,
    left_at: Option<T>,
    t: T,
) -> Option<PartyStatus> {
    if created_at > t {
        return None;
    }
    Some(match status {
        PartyStatus::Left if left_at.is_some_and(|left| left > t) => PartyStatus::Accepted,
        PartyStatus::Accepted | PartyStatus::Declined if changed_at > t => PartyStatus::Invited,
        other => other,
    })
}

/// How a person stands towards a party of a partnership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// They are the artisan party.
    Artisan,
    /// They coordinate the collective party.
    Coordinator,
    /// They are a plain member of the collective party.
    Member,
}

/// How far a reader reaches into a partnership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The partnership, its parties, its agreements and their events.
    Read,
    /// Its money too: sales, payouts, settlements and payments.
    Money,
}

impl Standing {
    /// The visibility table of SPEC §2: the party statuses through which a
    /// person with this standing reaches this far. An accepted party (or
    /// its coordinator) reads everything; an invitee reads what it is
    /// invited to (to decide); a party that left reads, read-only, as it
    /// stood when it left ([`Standing::horizon_applies`]); a plain member
    /// of an accepted collective party reads but sees no money; a declined
    /// party sees nothing. Coordinators of a collective party stand as an
    /// artisan party does (they answer its invitation and act for it).
    pub fn reaches_while(self, reach: Reach) -> &'static [PartyStatus] {
        match (self, reach) {
            (Standing::Artisan | Standing::Coordinator, Reach::Read) => &[
                PartyStatus::Accepted,
                PartyStatus::Invited,
                PartyStatus::Left,
            ],
            (Standing::Artisan | Standing::Coordinator, Reach::Money) => &[PartyStatus::Accepted],
            (Standing::Member, Reach::Read) => &[PartyStatus::Accepted],
            (Standing::Member, Reach::Money) => &[],
        }
    }

    /// Whether reading through a party in `status` is cut at the moment the
    /// party left: agreements made and events recorded after that are not
    /// theirs to see.
    pub fn horizon_applies(status: PartyStatus) -> bool {
        status == PartyStatus::Left
    }
}

/// How much of a partnership's history a reader sees, given each way they
/// stand towards its parties (standing, the party's status, when it left):
/// `None` — nothing (not a reader at all); `Some(None)` — all of it;
/// `Some(Some(t))` — what happened up to `t`, the latest moment one of
/// their parties left, when they read only through parties that left.
pub fn read_horizon<T: Ord + Copy>(
    relations: impl IntoIterator<Item = (Standing, PartyStatus, Option<T>)>,
) -> Option<Option<T>> {
    let mut horizon: Option<Option<T>> = None;
    for (standing, status, left_at) in relations {
        if !standing.reaches_while(Reach::Read).contains(&status) {
            continue;
        }
        let this = if Standing::horizon_applies(status) {
            left_at
        } else {
            None
        };
        horizon = match (horizon, this) {
            (Some(None), _) | (_, None) => Some(None),
            (None, Some(t)) => Some(Some(t)),
            (Some(Some(a)), Some(b)) => Some(Some(a.max(b))),
        };
    }
    horizon
}

impl PartnershipStatus {
    /// Parties join, answer and leave only while the partnership is open.
    pub fn require_open(self) -> Result<(), PartnershipRefusal> {
        if self.is_open() {
            Ok(())
        } else {
            Err(PartnershipRefusal::Ended)
        }
    }

    /// An accepted party ends or completes the partnership
    /// ([`PartnershipStatus::may_become`]).
    pub fn change_to(
        self,
        next: PartnershipStatus,
    ) -> Result<PartnershipStatus, PartnershipRefusal> {
        if self.may_become(next) {
            Ok(next)
        } else {
            Err(PartnershipRefusal::StatusChangeNotAllowed)
        }
    }
}

impl PartyStatus {
    /// The invited party's answer (`speaks`: the caller is the invited
    /// artisan, or a coordinator of the invited collective), once, while
    /// the partnership is open.
    pub fn answer(
        self,
        speaks: bool,
        partnership: PartnershipStatus,
        accept: bool,
    ) -> Result<PartyStatus, PartnershipRefusal> {
        if !speaks {
            return Err(PartnershipRefusal::NotInvitee);
        }
        if self != PartyStatus::Invited {
            return Err(PartnershipRefusal::AlreadyAnswered);
        }
        partnership.require_open()?;
        Ok(if accept {
            PartyStatus::Accepted
        } else {
            PartyStatus::Declined
        })
    }

    /// The party leaves (`speaks`: the caller is the party, or coordinates
    /// it): only an accepted party, and not while an active agreement names
    /// it.
    pub fn leave(
        self,
        speaks: bool,
        named_by_agreement_in_force: bool,
    ) -> Result<PartyStatus, PartnershipRefusal> {
        if !speaks {
            return Err(PartnershipRefusal::NotTheParty);
        }
        if self != PartyStatus::Accepted {
            return Err(PartnershipRefusal::OnlyAcceptedLeave);
        }
        if named_by_agreement_in_force {
            return Err(PartnershipRefusal::NamedByAgreementInForce);
        }
        Ok(PartyStatus::Left)
    }
}

/// How many parties one request may invite: at most [`MAX_INVITEES`].
pub fn check_invitees(count: usize) -> Result<(), FieldError> {
    if count > MAX_INVITEES {
        return Err(FieldError::new(
            "invitees",
            "too_many",
            format!("must have at most {MAX_INVITEES} items"),
        ));
    }
    Ok(())
}

/// The editable text of a partnership, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnershipText {
    pub title: String,
    pub description: String,
    pub shared_goals: Vec<String>,
}

pub const MAX_GOALS: usize = 10;
pub const GOAL: usize = 200;

/// A requested change of the text; absent fields stay.
#[derive(Debug, Clone, Default)]
pub struct PartnershipTextPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub shared_goals: Option<Vec<String>>,
}

impl PartnershipTextPatch {
    pub fn apply(self, current: &mut PartnershipText) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        let title = self.title.and_then(|v| e.take(text::title("title", &v)));
        let description = self
            .description
            .and_then(|v| e.take(text::prose("description", &v)));
        let goals = self.shared_goals.and_then(|v| {
            e.take(text::unique_list("shared_goals", &v, MAX_GOALS, |f, s| {
                text::bounded(f, s, 1, GOAL, false)
            }))
        });
        if !e.is_empty() {
            return Err(e);
        }
        if let Some(v) = title {
            current.title = v;
        }
        if let Some(v) = description {
            current.description = v;
        }
        if let Some(v) = goals {
            current.shared_goals = v;
        }
        Ok(())
    }

    /// A new partnership's text; the title is required.
    pub fn create(self) -> Result<PartnershipText, FieldErrors> {
        if self.title.is_none() {
            return Err(FieldError::new("title", "required", "is required").into());
        }
        let mut text = PartnershipText {
            title: String::new(),
            description: String::new(),
            shared_goals: Vec::new(),
        };
        self.apply(&mut text)?;
        Ok(text)
    }
}

/// Which party a caller acts for, among the accepted parties they speak
/// for (`spoken_for`, by id), as an index into it: the one they name, or
/// the only one. Naming one they do not speak for, or speaking for none,
/// is refused; speaking for several without naming one asks for
/// `party_id`.
pub fn acting_party(spoken_for: &[&str], named: Option<&str>) -> Result<usize, Denied> {
    let chosen = match (named, spoken_for) {
        (Some(named), _) => spoken_for.iter().position(|id| *id == named),
        (None, [_]) => Some(0),
        (None, [_, _, ..]) => {
            return Err(FieldError::new(
                "party_id",
                "required",
                "you speak for several parties of this partnership; name the one you act for",
            )
            .into())
        }
        (None, []) => None,
    };
    chosen.ok_or(PartnershipRefusal::NotAcceptedParty.into())
}

/// Drafting, editing or amending an agreement needs the caller to speak
/// for at least one accepted party; which one does not matter (the record
/// names the person), so one who speaks for several need not choose.
pub fn speaks_for_a_party(spoken_for: &[&str]) -> Result<(), Denied> {
    if spoken_for.is_empty() {
        Err(PartnershipRefusal::NotAcceptedParty.into())
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use PartnershipStatus::*;

    #[test]
    fn drafting_needs_any_accepted_party_and_no_choice_among_several() {
        assert_eq!(speaks_for_a_party(&["a"]), Ok(()));
        assert_eq!(speaks_for_a_party(&["a", "b"]), Ok(()));
        assert_eq!(
            speaks_for_a_party(&[]),
            Err(Denied::from(PartnershipRefusal::NotAcceptedParty))
        );
    }

    #[test]
    fn a_caller_acts_for_the_party_they_name_or_their_only_one() {
        let refused = Err(Denied::from(PartnershipRefusal::NotAcceptedParty));
        assert_eq!(acting_party(&["a"], None), Ok(0));
        assert_eq!(acting_party(&["a", "b"], Some("b")), Ok(1));
        assert_eq!(acting_party(&["a"], Some("c")), refused);
        assert_eq!(acting_party(&[], None), refused);
        assert_eq!(acting_party(&[], Some("a")), refused);
        match acting_party(&["a", "b"], None) {
            Err(Denied::Invalid(errors)) => assert_eq!(errors.0[0].field, "party_id"),
            other => panic!("expected party_id to be asked for, got {other:?}"),
        }
    }

    #[test]
    fn two_accepted_parties_activate_a_forming_partnership() {
        assert_eq!(Forming.with_accepted(1), Forming);
        assert_eq!(Forming.with_accepted(2), Active);
        assert_eq!(Completed.with_accepted(3), Completed);
    }

    #[test]
    fn endings_follow_the_lifecycle() {
        assert!(Forming.may_become(Dissolved));
        assert!(!Forming.may_become(Completed));
        assert!(Active.may_become(Completed) && Active.may_become(Dissolved));
        assert!(!Completed.may_become(Dissolved) && !Dissolved.may_become(Active));
        assert!(
            !Forming.may_become(Active),
            "activation is earned by acceptances"
        );
    }

    #[test]
    fn text_rules() {
        assert!(PartnershipTextPatch::default().create().is_err());
        let errors = PartnershipTextPatch {
            title: Some("".into()),
            shared_goals: Some(vec!["a".into(), "a".into()]),
            ..Default::default()
        }
        .create()
        .err()
        .map(|e| e.0.into_iter().map(|e| e.field).collect::<Vec<_>>());
        assert_eq!(errors, Some(vec!["title".into(), "shared_goals[1]".into()]));
    }

    #[test]
    fn the_visibility_table_of_spec_section_2() {
        use PartyStatus::*;
        let reads = |standing: Standing, reach: Reach, status: PartyStatus| {
            standing.reaches_while(reach).contains(&status)
        };
        // (standing, party status, reads, reads money)
        let table = [
            (Standing::Artisan, Accepted, true, true),
            (Standing::Artisan, Invited, true, false),
            (Standing::Artisan, Declined, false, false),
            (Standing::Artisan, Left, true, false),
            (Standing::Coordinator, Accepted, true, true),
            (Standing::Coordinator, Invited, true, false),
            (Standing::Coordinator, Declined, false, false),
            (Standing::Coordinator, Left, true, false),
            (Standing::Member, Accepted, true, false),
            (Standing::Member, Invited, false, false),
            (Standing::Member, Declined, false, false),
            (Standing::Member, Left, false, false),
        ];
        for (standing, status, read, money) in table {
            assert_eq!(
                reads(standing, Reach::Read, status),
                read,
                "{standing:?} {status:?}"
            );
            assert_eq!(
                reads(standing, Reach::Money, status),
                money,
                "{standing:?} {status:?}"
            );
        }
        assert!(Standing::horizon_applies(Left));
        assert!(!Standing::horizon_applies(Accepted) && !Standing::horizon_applies(Invited));
    }

    #[test]
    fn a_reader_through_parties_that_left_sees_up_to_the_last_departure() {
        use PartyStatus::*;
        assert_eq!(read_horizon::<i32>([]), None);
        assert_eq!(
            read_horizon([(Standing::Artisan, Declined, None::<i32>)]),
            None
        );
        assert_eq!(read_horizon([(Standing::Member, Left, Some(5))]), None);
        assert_eq!(
            read_horizon([(Standing::Artisan, Left, Some(5))]),
            Some(Some(5))
        );
        assert_eq!(
            read_horizon([
                (Standing::Artisan, Left, Some(5)),
                (Standing::Coordinator, Left, Some(9)),
            ]),
            Some(Some(9))
        );
        // Any present standing lifts the cut.
        assert_eq!(
            read_horizon([
                (Standing::Artisan, Left, Some(5)),
                (Standing::Member, Accepted, None)
            ]),
            Some(None)
        );
        assert_eq!(
            read_horizon([
                (Standing::Coordinator, Invited, None),
                (Standing::Artisan, Left, Some(5))
            ]),
            Some(None)
        );
    }

    #[test]
    fn a_closed_account_leaves_its_parties() {
        assert_eq!(
            PartyStatus::Accepted.on_account_closed(),
            Some(PartyStatus::Left)
        );
        assert_eq!(
            PartyStatus::Invited.on_account_closed(),
            Some(PartyStatus::Declined)
        );
        assert_eq!(PartyStatus::Declined.on_account_closed(), None);
        assert_eq!(PartyStatus::Left.on_account_closed(), None);
    }

    #[test]
    fn a_party_is_seen_as_it_stood() {
        use PartyStatus::*;
        let at =
            |status, created, changed, left, t| party_status_at(status, created, changed, left, t);
        assert_eq!(at(Accepted, 5, 5, None, 4), None, "not there yet");
        assert_eq!(at(Accepted, 1, 5, None, 4), Some(Invited));
        assert_eq!(at(Accepted, 1, 5, None, 5), Some(Accepted));
        assert_eq!(at(Declined, 1, 5, None, 3), Some(Invited));
        assert_eq!(at(Left, 1, 8, Some(8), 6), Some(Accepted));
        assert_eq!(at(Left, 1, 8, Some(8), 8), Some(Left));
        assert_eq!(at(Invited, 1, 1, None, 9), Some(Invited));
    }

    #[test]
    fn invitations_are_answered_once_by_the_invitee_and_only_accepted_parties_leave() {
        use PartnershipStatus::{Active, Completed, Forming};
        use PartyStatus::*;
        assert_eq!(Invited.answer(true, Forming, true), Ok(Accepted));
        assert_eq!(Invited.answer(true, Active, false), Ok(Declined));
        assert_eq!(
            Invited.answer(false, Forming, true),
            Err(PartnershipRefusal::NotInvitee)
        );
        assert_eq!(
            Accepted.answer(true, Forming, true),
            Err(PartnershipRefusal::AlreadyAnswered)
        );
        assert_eq!(
            Invited.answer(true, Completed, true),
            Err(PartnershipRefusal::Ended)
        );
        assert_eq!(Accepted.leave(true, false), Ok(Left));
        assert_eq!(
            Accepted.leave(false, false),
            Err(PartnershipRefusal::NotTheParty)
        );
        assert_eq!(
            Invited.leave(true, false),
            Err(PartnershipRefusal::OnlyAcceptedLeave)
        );
        assert_eq!(
            Accepted.leave(true, true),
            Err(PartnershipRefusal::NamedByAgreementInForce)
        );
        assert_eq!(Active.change_to(Completed), Ok(Completed));
        assert_eq!(
            Forming.change_to(Completed),
            Err(PartnershipRefusal::StatusChangeNotAllowed)
        );
    }

    #[test]
    fn a_request_invites_at_most_twenty() {
        assert_eq!(check_invitees(MAX_INVITEES), Ok(()));
        assert_eq!(
            check_invitees(MAX_INVITEES + 1).map_err(|e| e.code),
            Err("too_many")
        );
    }
}
