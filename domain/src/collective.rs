//! Collectives (cooperatives): membership policies, roles, join
//! applications, invitations and the rules of membership: nobody becomes a
//! member without saying yes (they apply, or accept an invitation), an
//! archived collective takes no one, and a collective always keeps a
//! coordinator.

use crate::account::text_enum;
use crate::country::CountryCode;
use crate::text::{self, limits, Slug};
use crate::{FieldError, FieldErrors};

/// How artisans join.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MembershipPolicy {
    /// Applying admits at once.
    Open,
    /// Applications wait for a coordinator's decision.
    Application,
    /// Only coordinators add members.
    InviteOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRole {
    Coordinator,
    Member,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApplicationStatus {
    Pending,
    Approved,
    Declined,
    /// The applicant took it back while it was pending.
    Withdrawn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationStatus {
    /// Waiting for the artisan's answer.
    Invited,
    Accepted,
    Declined,
    /// A coordinator took it back (or the artisan closed their account).
    Withdrawn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollectiveStatus {
    Active,
    /// Its last member closed their account; nothing changes any more.
    Archived,
}

/// Why a membership change is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MembershipRefusal {
    /// Applying to an `invite_only` collective (a rule of the request: 422).
    InviteOnly,
    AlreadyMember,
    /// The artisan already has an open invitation here.
    AlreadyInvited,
    /// The artisan already has a pending application here.
    AlreadyApplied,
    /// The application or invitation was already answered or withdrawn.
    NotOpen,
    Archived,
    /// The change would leave the collective without a coordinator.
    LastCoordinator,
    /// Closing the account of the last coordinator of a collective that
    /// has other members.
    LastCoordinatorOf {
        collective_id: String,
        name: String,
    },
    /// Only coordinators do this (→ 403).
    NotCoordinator,
    /// Only the invited artisan answers an invitation (→ 403).
    NotInvitee,
    /// The invitee declines rather than withdraws (→ 403).
    InviteeDeclinesInstead,
}

text_enum!(MembershipPolicy { Open => "open", Application => "application", InviteOnly => "invite_only" });
text_enum!(MemberRole { Coordinator => "coordinator", Member => "member" });
text_enum!(ApplicationStatus { Pending => "pending", Approved => "approved", Declined => "declined", Withdrawn => "withdrawn" });
text_enum!(InvitationStatus { Invited => "invited", Accepted => "accepted", Declined => "declined", Withdrawn => "withdrawn" });
text_enum!(CollectiveStatus { Active => "active", Archived => "archived" });

impl CollectiveStatus {
    /// Anything that changes a collective (its fields or its members)
    /// needs it active.
    pub fn require_active(self) -> Result<(), MembershipRefusal> {
        match self {
            CollectiveStatus::Active => Ok(()),
            CollectiveStatus::Archived => Err(MembershipRefusal::Archived),
        }
    }
}

/// What applying does: the new application's status (approved at once
/// under the `open` policy, pending under `application`); an
/// `invite_only` collective, a member or an archived collective refuse.
pub fn apply(
    status: CollectiveStatus,
    policy: MembershipPolicy,
    already_member: bool,
) -> Result<ApplicationStatus, MembershipRefusal> {
    status.require_active()?;
    let outcome = policy
        .application_outcome()
        .ok_or(MembershipRefusal::InviteOnly)?;
    if already_member {
        return Err(MembershipRefusal::AlreadyMember);
    }
    Ok(outcome)
}

/// Whether a member may leave or be removed (`becomes: None`) or change
/// role (`becomes: Some(role)`): the last coordinator may do neither unless
/// they stay a coordinator.
pub fn may_change_membership(
    role: MemberRole,
    becomes: Option<MemberRole>,
    coordinators: i64,
) -> Result<(), MembershipRefusal> {
    let loses_coordinator =
        role == MemberRole::Coordinator && becomes != Some(MemberRole::Coordinator);
    if loses_coordinator && !may_lose_coordinator(coordinators) {
        return Err(MembershipRefusal::LastCoordinator);
    }
    Ok(())
}

/// What becomes of a membership when the member closes their account:
/// they leave; a collective they are alone in is archived; the last
/// coordinator of a collective that has other members must hand it over
/// first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Departure {
    Leave,
    LeaveAndArchive,
}

pub fn depart_on_closure(
    role: MemberRole,
    coordinators: i64,
    members: i64,
) -> Result<Departure, MembershipRefusal> {
    if members <= 1 {
        return Ok(Departure::LeaveAndArchive);
    }
    if role == MemberRole::Coordinator && !may_lose_coordinator(coordinators) {
        return Err(MembershipRefusal::LastCoordinator);
    }
    Ok(Departure::Leave)
}

/// Whether this artisan may become a member now (invited, or accepting an
/// invitation).
pub fn may_join(status: CollectiveStatus, already_member: bool) -> Result<(), MembershipRefusal> {
    status.require_active()?;
    if already_member {
        return Err(MembershipRefusal::AlreadyMember);
    }
    Ok(())
}

impl InvitationStatus {
    /// The invitee's answer: only an open invitation can be answered.
    pub fn answer(self, accept: bool) -> Result<InvitationStatus, MembershipRefusal> {
        match (self, accept) {
            (InvitationStatus::Invited, true) => Ok(InvitationStatus::Accepted),
            (InvitationStatus::Invited, false) => Ok(InvitationStatus::Declined),
            _ => Err(MembershipRefusal::NotOpen),
        }
    }

    /// A coordinator takes an open invitation back.
    pub fn withdraw(self) -> Result<InvitationStatus, MembershipRefusal> {
        match self {
            InvitationStatus::Invited => Ok(InvitationStatus::Withdrawn),
            _ => Err(MembershipRefusal::NotOpen),
        }
    }
}

impl ApplicationStatus {
    /// The applicant takes a pending application back.
    pub fn withdraw(self) -> Result<ApplicationStatus, MembershipRefusal> {
        match self {
            ApplicationStatus::Pending => Ok(ApplicationStatus::Withdrawn),
            _ => Err(MembershipRefusal::NotOpen),
        }
    }

    /// A coordinator's decision applies to a pending application only.
    pub fn decide(self, decision: &Decision) -> Result<ApplicationStatus, MembershipRefusal> {
        match self {
            ApplicationStatus::Pending => Ok(decision.status()),
            _ => Err(MembershipRefusal::NotOpen),
        }
    }
}

impl MembershipPolicy {
    /// What applying does under this policy: `Some(status)` of the new
    /// application, or `None` when artisans cannot apply at all.
    pub fn application_outcome(self) -> Option<ApplicationStatus> {
        match self {
            MembershipPolicy::Open => Some(ApplicationStatus::Approved),
            MembershipPolicy::Application => Some(ApplicationStatus::Pending),
            MembershipPolicy::InviteOnly => None,
        }
    }
}

/// A coordinator's decision on an application. A decline must say why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Approve { note: Option<String> },
    Decline { note: String },
}

impl Decision {
    pub fn new(approve: bool, note: Option<&str>) -> Result<Self, FieldError> {
        let note = note
            .map(|n| text::prose("note", n))
            .transpose()?
            .filter(|n| !n.is_empty());
        match (approve, note) {
            (true, note) => Ok(Decision::Approve { note }),
            (false, Some(note)) => Ok(Decision::Decline { note }),
            (false, None) => Err(FieldError::new(
                "note",
                "required",
                "a decline needs a note",
            )),
        }
    }

    pub fn status(&self) -> ApplicationStatus {
        match self {
            Decision::Approve { .. } => ApplicationStatus::Approved,
            Decision::Decline { .. } => ApplicationStatus::Declined,
        }
    }

    pub fn note(&self) -> Option<&str> {
        match self {
            Decision::Approve { note } => note.as_deref(),
            Decision::Decline { note } => Some(note),
        }
    }
}

/// Whether a change that removes one coordinator (leaving, removal or
/// demotion) may happen, given how many coordinators there are now.
pub fn may_lose_coordinator(coordinators: i64) -> bool {
    coordinators > 1
}

/// The editable fields of a collective, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectiveFields {
    pub name: String,
    pub description: String,
    pub crafts: Vec<String>,
    pub country: Option<String>,
    pub region: Option<String>,
    pub membership_policy: MembershipPolicy,
}

/// A requested change (or, with every field set, a new collective).
#[derive(Debug, Clone, Default)]
pub struct CollectivePatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub crafts: Option<Vec<String>>,
    pub country: Option<Option<String>>,
    pub region: Option<Option<String>>,
    pub membership_policy: Option<MembershipPolicy>,
}

impl CollectivePatch {
    /// Validates the change and applies it to `fields`.
    pub fn apply(self, fields: &mut CollectiveFields) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        let name = self.name.and_then(|v| e.take(text::title("name", &v)));
        let description = self
            .description
            .and_then(|v| e.take(text::prose("description", &v)));
        let crafts = self.crafts.and_then(|v| {
            e.take(
                text::unique_list("crafts", &v, limits::SLUG_LIST, Slug::parse)
                    .map(|list| list.into_iter().map(|s| s.as_str().to_owned()).collect()),
            )
        });
        let country = self.country.and_then(|v| {
            e.take(match v {
                Some(c) => CountryCode::parse("country", &c).map(|c| Some(c.into_inner())),
                None => Ok(None),
            })
        });
        let region = self.region.and_then(|v| {
            e.take(match v {
                Some(r) => text::bounded("region", &r, 1, limits::REGION, false).map(Some),
                None => Ok(None),
            })
        });
        if !e.is_empty() {
            return Err(e);
        }
        if let Some(v) = name {
            fields.name = v;
        }
        if let Some(v) = description {
            fields.description = v;
        }
        if let Some(v) = crafts {
            fields.crafts = v;
        }
        if let Some(v) = country {
            fields.country = v;
        }
        if let Some(v) = region {
            fields.region = v;
        }
        if let Some(v) = self.membership_policy {
            fields.membership_policy = v;
        }
        Ok(())
    }

    /// A new collective from a complete request.
    pub fn create(self) -> Result<CollectiveFields, FieldErrors> {
        let mut fields = CollectiveFields {
            name: String::new(),
            description: String::new(),
            crafts: Vec::new(),
            country: None,
            region: None,
            membership_policy: self
                .membership_policy
                .unwrap_or(MembershipPolicy::Application),
        };
        if self.name.is_none() {
            return Err(FieldError::new("name", "required", "is required").into());
        }
        self.apply(&mut fields)?;
        Ok(fields)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_decide_what_applying_does() {
        assert_eq!(
            MembershipPolicy::Open.application_outcome(),
            Some(ApplicationStatus::Approved)
        );
        assert_eq!(
            MembershipPolicy::Application.application_outcome(),
            Some(ApplicationStatus::Pending)
        );
        assert_eq!(MembershipPolicy::InviteOnly.application_outcome(), None);
    }

    #[test]
    fn a_decline_needs_a_note() {
        assert!(Decision::new(false, None).is_err());
        assert!(Decision::new(false, Some("   ")).is_err());
        assert_eq!(
            Decision::new(false, Some("Not weaving")).map(|d| d.status()),
            Ok(ApplicationStatus::Declined)
        );
        assert_eq!(
            Decision::new(true, None).map(|d| d.status()),
            Ok(ApplicationStatus::Approved)
        );
    }

    #[test]
    fn the_last_coordinator_stays() {
        assert!(!may_lose_coordinator(1));
        assert!(may_lose_coordinator(2));
    }

    #[test]
    fn creating_requires_a_name_and_checks_every_field() {
        assert!(CollectivePatch::default().create().is_err());
        let errors = CollectivePatch {
            name: Some(" ".into()),
            crafts: Some(vec!["Bad Slug".into()]),
            country: Some(Some("XX".into())),
            ..Default::default()
        }
        .create()
        .err()
        .map(|e| e.0.into_iter().map(|e| e.field).collect::<Vec<_>>());
        assert_eq!(
            errors,
            Some(vec!["name".into(), "crafts[0]".into(), "country".into()])
        );
    }

    #[test]
    fn nobody_joins_without_saying_yes() {
        use CollectiveStatus::{Active, Archived};
        assert_eq!(
            apply(Active, MembershipPolicy::Open, false),
            Ok(ApplicationStatus::Approved)
        );
        assert_eq!(
            apply(Active, MembershipPolicy::Application, false),
            Ok(ApplicationStatus::Pending)
        );
        assert_eq!(
            apply(Active, MembershipPolicy::InviteOnly, false),
            Err(MembershipRefusal::InviteOnly)
        );
        assert_eq!(
            apply(Active, MembershipPolicy::Open, true),
            Err(MembershipRefusal::AlreadyMember)
        );
        assert_eq!(
            apply(Archived, MembershipPolicy::Open, false),
            Err(MembershipRefusal::Archived)
        );
        assert_eq!(may_join(Active, false), Ok(()));
        assert_eq!(
            may_join(Active, true),
            Err(MembershipRefusal::AlreadyMember)
        );
        assert_eq!(may_join(Archived, false), Err(MembershipRefusal::Archived));
    }

    #[test]
    fn invitations_and_applications_are_answered_once() {
        use InvitationStatus::*;
        assert_eq!(Invited.answer(true), Ok(Accepted));
        assert_eq!(Invited.answer(false), Ok(Declined));
        assert_eq!(Invited.withdraw(), Ok(Withdrawn));
        for done in [Accepted, Declined, Withdrawn] {
            assert_eq!(done.answer(true), Err(MembershipRefusal::NotOpen));
            assert_eq!(done.withdraw(), Err(MembershipRefusal::NotOpen));
        }
        let approve = Decision::new(true, None).expect("decision");
        assert_eq!(
            ApplicationStatus::Pending.withdraw(),
            Ok(ApplicationStatus::Withdrawn)
        );
        assert_eq!(
            ApplicationStatus::Pending.decide(&approve),
            Ok(ApplicationStatus::Approved)
        );
        for done in [
            ApplicationStatus::Approved,
            ApplicationStatus::Declined,
            ApplicationStatus::Withdrawn,
        ] {
            assert_eq!(done.withdraw(), Err(MembershipRefusal::NotOpen));
            assert_eq!(done.decide(&approve), Err(MembershipRefusal::NotOpen));
        }
    }

    #[test]
    fn closing_an_account_leaves_archives_or_asks_for_a_hand_over() {
        use MemberRole::{Coordinator, Member};
        assert_eq!(
            depart_on_closure(Coordinator, 1, 1),
            Ok(Departure::LeaveAndArchive)
        );
        assert_eq!(
            depart_on_closure(Coordinator, 1, 3),
            Err(MembershipRefusal::LastCoordinator)
        );
        assert_eq!(depart_on_closure(Coordinator, 2, 3), Ok(Departure::Leave));
        assert_eq!(depart_on_closure(Member, 1, 3), Ok(Departure::Leave));
    }

    #[test]
    fn the_last_coordinator_neither_leaves_nor_steps_down() {
        use MemberRole::{Coordinator, Member};
        assert_eq!(
            may_change_membership(Coordinator, None, 1),
            Err(MembershipRefusal::LastCoordinator)
        );
        assert_eq!(
            may_change_membership(Coordinator, Some(Member), 1),
            Err(MembershipRefusal::LastCoordinator)
        );
        assert_eq!(
            may_change_membership(Coordinator, Some(Coordinator), 1),
            Ok(())
        );
        assert_eq!(may_change_membership(Coordinator, None, 2), Ok(()));
        assert_eq!(may_change_membership(Member, None, 1), Ok(()));
        assert_eq!(may_change_membership(Member, Some(Coordinator), 1), Ok(()));
    }
}
