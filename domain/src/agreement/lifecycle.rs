//! The agreement aggregate: every decision on a draft or an active
//! agreement, as pure functions of the agreement and a [`Context`] loaded
//! under its partnership's lock. A decision returns the events it causes
//! (or a typed refusal); storage writes rows, the audit trail and the
//! outbox from those events and decides nothing itself.
//!
//! The rules, each in one place here:
//! - an edit makes a new revision and clears every signature
//!   ([`Agreement::edit`] → [`AgreementEvent::Edited`]);
//! - a party signs exactly the hash it saw, once per revision
//!   ([`Agreement::sign`]);
//! - the last signature activates ([`Agreement::sign`] →
//!   [`AgreementEvent::Activated`]) after checking the rest again;
//! - an activated amendment ends the agreement it amends as of its own
//!   first day ([`AgreementEvent::AmendedEnded`]);
//! - at most one agreement of a partnership is in force on any date
//!   ([`Context::check_terms`]).

use chrono::NaiveDate;

use super::{
    check_amendment, fully_signed, AgreementKind, AgreementRefusal, AgreementStatus, InForce, Terms,
};
use crate::partnership::{PartnershipRefusal, PartnershipStatus};
use crate::refusal::Denied;

/// An agreement as its decisions need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    pub id: String,
    pub kind: AgreementKind,
    pub status: AgreementStatus,
    pub terms: Terms,
    pub content_hash: String,
    /// The parties whose signatures count: on the current revision and
    /// hash.
    pub signed: Vec<String>,
}

/// An activated, governing agreement of the partnership: the dates it
/// governs follow from these ([`InForce::window`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Governing {
    pub id: String,
    pub effective_from: NaiveDate,
    pub effective_until: Option<NaiveDate>,
    pub superseded_from: Option<NaiveDate>,
}

/// The agreement an amendment (or termination) amends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amended {
    pub id: String,
    pub status: AgreementStatus,
    pub effective_from: NaiveDate,
}

/// What the decisions need beyond the agreement, read under the
/// partnership's lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Context {
    pub partnership: PartnershipStatus,
    /// The partnership's accepted parties: who must sign, and whom terms
    /// may name.
    pub accepted_parties: Vec<String>,
    /// The partnership's activated, governing agreements.
    pub governing: Vec<Governing>,
    /// The agreement being amended, for an amendment or termination.
    pub amended: Option<Amended>,
}

/// What a decision causes, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgreementEvent {
    /// New terms: a new revision, and every signature stops counting.
    Edited(Terms),
    Signed {
        party: String,
    },
    Declined {
        party: String,
        reason: String,
    },
    /// Every accepted party has signed the current hash.
    Activated,
    /// The amended agreement no longer governs from `from`: `status` is
    /// `Superseded`, or `Terminated` for a termination.
    AmendedEnded {
        amended: String,
        status: AgreementStatus,
        from: NaiveDate,
    },
}

impl Context {
    /// Agreements are made and changed only while the partnership is
    /// active (two accepted parties make it so).
    fn require_active_partnership(&self) -> Result<(), PartnershipRefusal> {
        match self.partnership {
            PartnershipStatus::Active => Ok(()),
            PartnershipStatus::Forming => Err(PartnershipRefusal::NotActiveYet),
            PartnershipStatus::Completed | PartnershipStatus::Dissolved => {
                Err(PartnershipRefusal::Ended)
            }
        }
    }

    /// The rules terms must meet in this partnership: every party they
    /// name is accepted; an amendment takes effect after the agreement it
    /// amends (and a termination has no end); and no other agreement is in
    /// force on a date these would govern — the amended one counted as
    /// ending where this one begins. `this` is the agreement itself when it
    /// already exists.
    pub fn check_terms(
        &self,
        kind: AgreementKind,
        terms: &Terms,
        this: Option<&str>,
    ) -> Result<(), Denied> {
        terms.check_parties(&self.accepted_parties)?;
        if let Some(amended) = &self.amended {
            check_amendment(kind, amended.effective_from, terms)?;
        }
        if !kind.governs() {
            return Ok(());
        }
        let Some(window) = InForce::window(terms.effective_from(), terms.effective_until(), None)
        else {
            return Ok(());
        };
        for other in &self.governing {
            if Some(other.id.as_str()) == this {
                continue;
            }
            let cut = if self.amended.as_ref().is_some_and(|a| a.id == other.id) {
                Some(
                    other
                        .superseded_from
                        .map_or(terms.effective_from(), |d| d.min(terms.effective_from())),
                )
            } else {
                other.superseded_from
            };
            let governs = InForce::window(other.effective_from, other.effective_until, cut);
            if governs.is_some_and(|w| w.overlaps(&window)) {
                return Err(AgreementRefusal::OverlapsInForce.into());
            }
        }
        Ok(())
    }
}

/// A new draft (`kind` original, or an amendment with `ctx.amended` set):
/// the partnership is active and the terms meet its rules.
pub fn draft(kind: AgreementKind, terms: &Terms, ctx: &Context) -> Result<(), Denied> {
    ctx.require_active_partnership()?;
    ctx.check_terms(kind, terms, None)
}

impl Agreement {
    fn require_draft(&self) -> Result<(), AgreementRefusal> {
        if self.status == AgreementStatus::Draft {
            Ok(())
        } else {
            Err(AgreementRefusal::NotDraft)
        }
    }

    /// New terms for a draft: a new revision, every signature cleared.
    pub fn edit(&self, terms: Terms, ctx: &Context) -> Result<Vec<AgreementEvent>, Denied> {
        self.require_draft()?;
        ctx.require_active_partnership()?;
        ctx.check_terms(self.kind, &terms, Some(&self.id))?;
        Ok(vec![AgreementEvent::Edited(terms)])
    }

    /// `party` signs the hash it saw. The last signature needed activates
    /// the agreement — after the activation rules are checked again — and
    /// ends the agreement it amends.
    pub fn sign(
        &self,
        party: &str,
        hash: &str,
        ctx: &Context,
    ) -> Result<Vec<AgreementEvent>, Denied> {
        self.require_draft()?;
        ctx.require_active_partnership()?;
        if hash != self.content_hash {
            return Err(AgreementRefusal::HashNotCurrent.into());
        }
        if self.signed.iter().any(|p| p == party) {
            return Err(AgreementRefusal::AlreadySigned.into());
        }
        let mut events = vec![AgreementEvent::Signed {
            party: party.to_owned(),
        }];
        if self.completed_by(party, &ctx.accepted_parties) {
            events.extend(self.activation(ctx)?);
        }
        Ok(events)
    }

    /// Whether `party`'s signature would be the last one needed: the only
    /// signature whose decision checks the activation rules, and so the
    /// only one that needs the partnership's governing agreements and the
    /// amended agreement in its [`Context`].
    pub fn completed_by(&self, party: &str, accepted_parties: &[String]) -> bool {
        let mut signed = self.signed.clone();
        signed.push(party.to_owned());
        self.status == AgreementStatus::Draft && fully_signed(accepted_parties, &signed)
    }

    /// Activates a draft every accepted party has signed (after a party
    /// left, no signature is missing any more); nothing otherwise.
    pub fn activate_if_complete(&self, ctx: &Context) -> Result<Vec<AgreementEvent>, Denied> {
        if self.status != AgreementStatus::Draft
            || !fully_signed(&ctx.accepted_parties, &self.signed)
        {
            return Ok(Vec::new());
        }
        self.activation(ctx)
    }

    fn activation(&self, ctx: &Context) -> Result<Vec<AgreementEvent>, Denied> {
        if let Some(amended) = &ctx.amended {
            if amended.status != AgreementStatus::Active {
                return Err(AgreementRefusal::AmendedNoLongerActive.into());
            }
        }
        ctx.check_terms(self.kind, &self.terms, Some(&self.id))?;
        let mut events = vec![AgreementEvent::Activated];
        if let Some(amended) = &ctx.amended {
            events.push(AgreementEvent::AmendedEnded {
                amended: amended.id.clone(),
                status: if self.kind == AgreementKind::Termination {
                    AgreementStatus::Terminated
                } else {
                    AgreementStatus::Superseded
                },
                from: self.terms.effective_from(),
            });
        }
        Ok(events)
    }

    /// `party` declines a draft (`reason` checked by
    /// [`super::reason`]); it stays declined.
    pub fn decline(
        &self,
        party: &str,
        reason: &str,
    ) -> Result<Vec<AgreementEvent>, AgreementRefusal> {
        self.require_draft()?;
        Ok(vec![AgreementEvent::Declined {
            party: party.to_owned(),
            reason: reason.to_owned(),
        }])
    }

    /// The terms of an amendment (or termination) of this active
    /// agreement: copied, with new dates. `ctx.amended` is this agreement.
    ///
    /// There is no separate `terminate`: a termination is an amendment of
    /// kind [`AgreementKind::Termination`] — drafted here (without an end
    /// date), signed like any draft, and on activation it ends this
    /// agreement with [`AgreementStatus::Terminated`] instead of
    /// `Superseded` ([`AgreementEvent::AmendedEnded`]).
    pub fn amend(
        &self,
        kind: AgreementKind,
        effective_from: NaiveDate,
        effective_until: Option<NaiveDate>,
        ctx: &Context,
    ) -> Result<Terms, Denied> {
        ctx.require_active_partnership()?;
        if self.status != AgreementStatus::Active {
            return Err(AgreementRefusal::NotActive.into());
        }
        let terms = self.terms.with_dates(effective_from, effective_until)?;
        draft(kind, &terms, ctx)?;
        Ok(terms)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Recipient, RevenueSplit, Share, ShareBps, TermsInput};
    use super::*;
    use crate::agreement::PromotionPlan;
    use crate::refusal::Refusal;

    const A: &str = "0190f7a8-0000-7000-8000-00000000000a";
    const B: &str = "0190f7a8-0000-7000-8000-00000000000b";

    fn date(s: &str) -> NaiveDate {
        s.parse().expect("date")
    }

    fn terms(from: &str, until: Option<&str>) -> Terms {
        let share = |p: &str| Share {
            recipient: Recipient::PartyId(p.to_owned()),
            share_bps: ShareBps::new(5000),
        };
        Terms::parse(TermsInput {
            commitments: Vec::new(),
            revenue_split: RevenueSplit {
                currency: "PEN".into(),
                shares: vec![share(A), share(B)],
            },
            promotion_plan: PromotionPlan {
                summary: String::new(),
                channels: Vec::new(),
            },
            cultural_attribution: Vec::new(),
            effective_from: date(from),
            effective_until: until.map(date),
        })
        .expect("valid terms")
    }

    fn draft_of(kind: AgreementKind, t: Terms) -> Agreement {
        Agreement {
            id: "x".into(),
            kind,
            status: AgreementStatus::Draft,
            content_hash: t.content_hash(kind),
            terms: t,
            signed: Vec::new(),
        }
    }

    fn ctx() -> Context {
        Context {
            partnership: PartnershipStatus::Active,
            accepted_parties: vec![A.into(), B.into()],
            governing: Vec::new(),
            amended: None,
        }
    }

    fn refused(r: Result<Vec<AgreementEvent>, Denied>) -> Option<Refusal> {
        match r {
            Err(Denied::Refused(refusal)) => Some(refusal),
            _ => None,
        }
    }

    #[test]
    fn an_edit_makes_a_new_revision_that_clears_signatures() {
        let mut agreement = draft_of(AgreementKind::Original, terms("2026-01-01", None));
        agreement.signed = vec![A.into()];
        let changed = terms("2026-02-01", None);
        assert_eq!(
            agreement.edit(changed.clone(), &ctx()),
            Ok(vec![AgreementEvent::Edited(changed)])
        );
        agreement.status = AgreementStatus::Active;
        assert_eq!(
            refused(agreement.edit(terms("2026-03-01", None), &ctx())),
            Some(AgreementRefusal::NotDraft.into())
        );
    }

    #[test]
    fn the_last_signature_activates_and_only_the_current_hash_counts() {
        let mut agreement = draft_of(AgreementKind::Original, terms("2026-01-01", None));
        let hash = agreement.content_hash.clone();
        assert!(!agreement.completed_by(A, &ctx().accepted_parties));
        assert_eq!(
            agreement.sign(A, &hash, &ctx()),
            Ok(vec![AgreementEvent::Signed { party: A.into() }])
        );
        assert_eq!(
            refused(agreement.sign(A, "stale", &ctx())),
            Some(AgreementRefusal::HashNotCurrent.into())
        );
        agreement.signed = vec![A.into()];
        assert_eq!(
            refused(agreement.sign(A, &hash, &ctx())),
            Some(AgreementRefusal::AlreadySigned.into())
        );
        assert!(agreement.completed_by(B, &ctx().accepted_parties));
        assert_eq!(
            agreement.sign(B, &hash, &ctx()),
            Ok(vec![
                AgreementEvent::Signed { party: B.into() },
                AgreementEvent::Activated
            ])
        );
        let mut forming = ctx();
        forming.partnership = PartnershipStatus::Forming;
        assert_eq!(
            refused(agreement.sign(B, &hash, &forming)),
            Some(PartnershipRefusal::NotActiveYet.into())
        );
    }

    #[test]
    fn at_most_one_agreement_is_in_force_on_any_date() {
        let mut busy = ctx();
        busy.governing = vec![Governing {
            id: "old".into(),
            effective_from: date("2026-01-01"),
            effective_until: Some(date("2026-06-30")),
            superseded_from: None,
        }];
        assert_eq!(
            refused(
                draft(AgreementKind::Original, &terms("2026-06-30", None), &busy).map(|()| vec![])
            ),
            Some(AgreementRefusal::OverlapsInForce.into())
        );
        assert_eq!(
            draft(AgreementKind::Original, &terms("2026-07-01", None), &busy),
            Ok(())
        );
        // A termination governs nothing, so it never overlaps.
        assert_eq!(
            draft(
                AgreementKind::Termination,
                &terms("2026-03-01", None),
                &busy
            ),
            Ok(())
        );
    }

    /// A has signed `draft` (amending "old"); B's signature completes it,
    /// activates it and ends "old" with `status` from the draft's first day.
    fn b_completes_and_ends_old(
        mut draft: Agreement,
        ctx: &Context,
        status: AgreementStatus,
    ) -> Agreement {
        draft.signed = vec![A.into()];
        let hash = draft.content_hash.clone();
        assert_eq!(
            draft.sign(B, &hash, ctx),
            Ok(vec![
                AgreementEvent::Signed { party: B.into() },
                AgreementEvent::Activated,
                AgreementEvent::AmendedEnded {
                    amended: "old".into(),
                    status,
                    from: draft.terms.effective_from(),
                }
            ])
        );
        draft
    }

    #[test]
    fn an_activated_amendment_ends_the_one_it_amends_from_its_first_day() {
        let mut amending = ctx();
        amending.governing = vec![Governing {
            id: "old".into(),
            effective_from: date("2026-01-01"),
            effective_until: None,
            superseded_from: None,
        }];
        amending.amended = Some(Amended {
            id: "old".into(),
            status: AgreementStatus::Active,
            effective_from: date("2026-01-01"),
        });
        let amendment = draft_of(AgreementKind::Amendment, terms("2026-05-01", None));
        let amendment = b_completes_and_ends_old(amendment, &amending, AgreementStatus::Superseded);
        let hash = amendment.content_hash.clone();
        let mut gone = amending.clone();
        gone.amended = gone.amended.map(|a| Amended {
            status: AgreementStatus::Superseded,
            ..a
        });
        assert_eq!(
            refused(amendment.sign(B, &hash, &gone)),
            Some(AgreementRefusal::AmendedNoLongerActive.into())
        );
        // Amending an active agreement copies its terms with new dates.
        let active = Agreement {
            status: AgreementStatus::Active,
            ..draft_of(AgreementKind::Original, terms("2026-01-01", None))
        };
        let copied = active
            .amend(
                AgreementKind::Amendment,
                date("2026-05-01"),
                None,
                &amending,
            )
            .expect("amendable");
        assert_eq!(copied.effective_from(), date("2026-05-01"));
        assert_eq!(copied.shares(), active.terms.shares());
        assert!(active
            .amend(
                AgreementKind::Amendment,
                date("2025-12-01"),
                None,
                &amending
            )
            .is_err());
    }

    #[test]
    fn a_termination_is_an_amendment_that_ends_the_agreement_and_has_no_end_itself() {
        let mut terminating = ctx();
        terminating.amended = Some(Amended {
            id: "old".into(),
            status: AgreementStatus::Active,
            effective_from: date("2026-01-01"),
        });
        let active = Agreement {
            status: AgreementStatus::Active,
            ..draft_of(AgreementKind::Original, terms("2026-01-01", None))
        };
        assert!(matches!(
            active.amend(
                AgreementKind::Termination,
                date("2026-09-01"),
                Some(date("2026-12-31")),
                &terminating
            ),
            Err(Denied::Invalid(_))
        ));
        let copied = active
            .amend(
                AgreementKind::Termination,
                date("2026-09-01"),
                None,
                &terminating,
            )
            .expect("terminable");
        let termination = draft_of(AgreementKind::Termination, copied);
        b_completes_and_ends_old(termination, &terminating, AgreementStatus::Terminated);
    }

    #[test]
    fn a_draft_activates_once_nobody_is_missing_and_a_decline_ends_it() {
        let mut agreement = draft_of(AgreementKind::Original, terms("2026-01-01", None));
        agreement.signed = vec![A.into()];
        assert_eq!(agreement.activate_if_complete(&ctx()), Ok(vec![]));
        let mut only_a = ctx();
        only_a.accepted_parties = vec![A.into()];
        // B is named in the terms but no longer accepted: it cannot activate.
        assert!(matches!(
            agreement.activate_if_complete(&only_a),
            Err(Denied::Invalid(_))
        ));
        assert_eq!(
            agreement.decline(B, "no"),
            Ok(vec![AgreementEvent::Declined {
                party: B.into(),
                reason: "no".into()
            }])
        );
        agreement.status = AgreementStatus::Declined;
        assert_eq!(agreement.decline(B, "no"), Err(AgreementRefusal::NotDraft));
    }
}
