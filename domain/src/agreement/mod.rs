//! Agreements: the written terms of a partnership (commitments, revenue
//! split, promotion plan, cultural attribution, effective dates), their
//! content hash, and the rules of their lifecycle.
//!
//! The content hash is the lower-case hex SHA-256 of the RFC 8785
//! canonical JSON of the agreement's *document*: the terms plus `kind`
//! (an amendment and a termination with the same terms are different
//! documents). Parties sign a hash, so the document they saw is exactly
//! the document they agreed to.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::account::text_enum;
use crate::money::Currency;
use crate::text::{self, limits};
use crate::{canonical, FieldError, FieldErrors};

mod lifecycle;

pub use lifecycle::{draft, Agreement, AgreementEvent, Amended, Context, Governing};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgreementKind {
    /// A partnership's own agreement, superseding nothing.
    Original,
    /// New terms that supersede an active agreement from a date.
    Amendment,
    /// Ends an active agreement from a date; governs nothing itself.
    Termination,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgreementStatus {
    Draft,
    Active,
    Declined,
    Superseded,
    Terminated,
}

/// What happened to an agreement, as its audit trail records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Created,
    Edited,
    Signed,
    Declined,
    Activated,
    Superseded,
    Terminated,
}

text_enum!(AgreementKind { Original => "original", Amendment => "amendment", Termination => "termination" });
text_enum!(AgreementStatus {
    Draft => "draft",
    Active => "active",
    Declined => "declined",
    Superseded => "superseded",
    Terminated => "terminated",
});
text_enum!(EventKind {
    Created => "created",
    Edited => "edited",
    Signed => "signed",
    Declined => "declined",
    Activated => "activated",
    Superseded => "superseded",
    Terminated => "terminated",
});

impl AgreementKind {
    /// Whether an agreement of this kind governs sales while in force (a
    /// termination only ends the one before it).
    pub fn governs(self) -> bool {
        self != AgreementKind::Termination
    }
}

impl AgreementStatus {
    /// Whether the agreement has been in force at some point (and so may
    /// still govern some dates).
    pub fn was_activated(self) -> bool {
        matches!(
            self,
            AgreementStatus::Active | AgreementStatus::Superseded | AgreementStatus::Terminated
        )
    }
}

/// Why a change to an agreement is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgreementRefusal {
    /// Only a draft changes; an active agreement changes by amendment.
    NotDraft,
    /// Only an active agreement is amended or terminated.
    NotActive,
    /// The hash signed is not the current one (the terms changed).
    HashNotCurrent,
    AlreadySigned,
    /// An amendment of this agreement is already open.
    AmendmentOpen,
    /// Another agreement of the partnership is in force on some of the dates.
    OverlapsInForce,
    /// The agreement an amendment amends is no longer active.
    AmendedNoLongerActive,
}

/// Total of a split, in basis points.
pub const FULL_SHARE_BPS: i64 = 10_000;
pub const MAX_COMMITMENTS: usize = 50;
pub const MAX_SHARES: usize = 20;
pub const MAX_ATTRIBUTIONS: usize = 50;
pub const MAX_CHANNELS: usize = 10;
pub const COMMITMENT: usize = 500;
pub const CHANNEL: usize = 80;
pub const CREDIT_LINE: usize = 300;
pub const REASON: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commitment {
    pub party_id: String,
    pub description: String,
    pub due_on: Option<NaiveDate>,
}

/// A charity or cause that receives a share but does not sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Beneficiary {
    pub name: String,
    pub url: Option<String>,
    pub organization_id: Option<String>,
    pub campaign_id: Option<String>,
    /// `Some(false)`: what the share gives to a campaign is counted as
    /// anonymous. Parsing keeps only `false` (public is the default), so
    /// the signed document of a share that says nothing is unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_credit: Option<bool>,
}

/// Who receives a share: `{"party_id": …}` or `{"beneficiary": {…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recipient {
    PartyId(String),
    Beneficiary(Beneficiary),
}

/// A share of a split in basis points (1 bp = 0.01 %); a valid split's
/// shares are each 1–10 000 and sum to exactly 10 000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ShareBps(i64);

impl ShareBps {
    pub fn new(value: i64) -> Self {
        Self(value)
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Share {
    pub recipient: Recipient,
    pub share_bps: ShareBps,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevenueSplit {
    pub currency: String,
    pub shares: Vec<Share>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromotionPlan {
    pub summary: String,
    pub channels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribution {
    pub party_id: String,
    pub tradition: String,
    pub credit_line: String,
}

/// The terms of an agreement as a client writes them: any shape the
/// schema allows, nothing checked yet. [`Terms::parse`] turns it into
/// [`Terms`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TermsInput {
    pub commitments: Vec<Commitment>,
    pub revenue_split: RevenueSplit,
    pub promotion_plan: PromotionPlan,
    pub cultural_attribution: Vec<Attribution>,
    pub effective_from: NaiveDate,
    pub effective_until: Option<NaiveDate>,
}

/// The split's problems: shares > 0, no recipient twice, at most
/// [`MAX_SHARES`], and a total of exactly 10 000 (the message states the
/// actual total). Beneficiaries are the same recipient when their names
/// match ignoring case.
pub fn split_errors(shares: &[Share]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let field = "revenue_split.shares";
    if shares.is_empty() || shares.len() > MAX_SHARES {
        errors.push(FieldError::new(
            field,
            "size",
            format!("must have 1 to {MAX_SHARES} shares"),
        ));
    }
    let mut seen: Vec<String> = Vec::with_capacity(shares.len());
    let mut total: i64 = 0;
    for (i, share) in shares.iter().enumerate() {
        if share.share_bps.get() <= 0 || share.share_bps.get() > FULL_SHARE_BPS {
            errors.push(FieldError::new(
                format!("{field}[{i}].share_bps"),
                "out_of_range",
                format!("must be between 1 and {FULL_SHARE_BPS} basis points"),
            ));
        }
        total = total.saturating_add(share.share_bps.get());
        let identity = match &share.recipient {
            Recipient::PartyId(id) => format!("party:{id}"),
            Recipient::Beneficiary(b) => format!("beneficiary:{}", b.name.trim().to_lowercase()),
        };
        if seen.contains(&identity) {
            errors.push(FieldError::new(
                format!("{field}[{i}].recipient"),
                "duplicate",
                "names a recipient that already has a share",
            ));
        }
        seen.push(identity);
    }
    if total != FULL_SHARE_BPS {
        errors.push(FieldError::new(
            field,
            "sum",
            format!(
                "shares sum to {total} basis points; they must sum to exactly {FULL_SHARE_BPS}"
            ),
        ));
    }
    errors
}

/// An id in its canonical form (lower-case, hyphenated), so the same
/// terms always hash the same however a client spelled the id.
fn id(e: &mut FieldErrors, field: String, value: &str) -> String {
    match uuid::Uuid::parse_str(value) {
        Ok(id) => id.to_string(),
        Err(_) => {
            e.push(FieldError::new(field, "invalid_uuid", "must be a UUID"));
            value.to_owned()
        }
    }
}

fn line(e: &mut FieldErrors, field: String, value: &str, max: usize) -> String {
    e.take(text::bounded(&field, value, 1, max, false))
        .unwrap_or_default()
}

/// The terms of an agreement, valid by construction: [`Terms::parse`] is
/// the only way to make one (parse, don't validate). Every rule that needs
/// nothing but the terms themselves holds; party references are checked
/// against the partnership by [`Terms::check_parties`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "TermsInput", into = "TermsInput")]
pub struct Terms(TermsInput);

impl TryFrom<TermsInput> for Terms {
    type Error = String;

    fn try_from(input: TermsInput) -> Result<Self, String> {
        Terms::parse(input).map_err(|e| format!("{:?}", e.0))
    }
}

impl From<Terms> for TermsInput {
    fn from(terms: Terms) -> Self {
        terms.0
    }
}

impl Terms {
    /// Checks every rule that needs nothing but the terms themselves — all
    /// problems reported at once — and returns the terms with text trimmed
    /// and ids in canonical form.
    pub fn parse(input: TermsInput) -> Result<Terms, FieldErrors> {
        let mut e = FieldErrors::default();
        let this = input;
        if this.commitments.len() > MAX_COMMITMENTS {
            e.push(FieldError::new(
                "commitments",
                "too_many",
                format!("must have at most {MAX_COMMITMENTS} items"),
            ));
        }
        let commitments = this
            .commitments
            .into_iter()
            .enumerate()
            .map(|(i, c)| Commitment {
                party_id: id(&mut e, format!("commitments[{i}].party_id"), &c.party_id),
                description: line(
                    &mut e,
                    format!("commitments[{i}].description"),
                    &c.description,
                    COMMITMENT,
                ),
                due_on: c.due_on,
            })
            .collect();
        let currency = e
            .take(Currency::parse(
                "revenue_split.currency",
                &this.revenue_split.currency,
            ))
            .map_or(this.revenue_split.currency, |c| c.code().to_owned());
        for error in split_errors(&this.revenue_split.shares) {
            e.push(error);
        }
        let shares = this
            .revenue_split
            .shares
            .into_iter()
            .enumerate()
            .map(|(i, share)| Share {
                recipient: match share.recipient {
                    Recipient::Beneficiary(b) => {
                        let field = format!("revenue_split.shares[{i}].recipient.beneficiary");
                        Recipient::Beneficiary(Beneficiary {
                            name: line(&mut e, format!("{field}.name"), &b.name, limits::ORG_NAME),
                            url: b
                                .url
                                .and_then(|u| e.take(text::web_url(&format!("{field}.url"), &u))),
                            organization_id: b
                                .organization_id
                                .map(|o| id(&mut e, format!("{field}.organization_id"), &o)),
                            campaign_id: b
                                .campaign_id
                                .map(|c| id(&mut e, format!("{field}.campaign_id"), &c)),
                            public_credit: b.public_credit.filter(|public| !public),
                        })
                    }
                    Recipient::PartyId(party) => Recipient::PartyId(id(
                        &mut e,
                        format!("revenue_split.shares[{i}].recipient.party_id"),
                        &party,
                    )),
                },
                ..share
            })
            .collect();
        let summary = e
            .take(text::prose(
                "promotion_plan.summary",
                &this.promotion_plan.summary,
            ))
            .unwrap_or_default();
        let channels = e
            .take(text::unique_list(
                "promotion_plan.channels",
                &this.promotion_plan.channels,
                MAX_CHANNELS,
                |f, s| text::bounded(f, s, 1, CHANNEL, false),
            ))
            .unwrap_or_default();
        if this.cultural_attribution.len() > MAX_ATTRIBUTIONS {
            e.push(FieldError::new(
                "cultural_attribution",
                "too_many",
                format!("must have at most {MAX_ATTRIBUTIONS} items"),
            ));
        }
        let cultural_attribution = this
            .cultural_attribution
            .into_iter()
            .enumerate()
            .map(|(i, a)| Attribution {
                party_id: id(
                    &mut e,
                    format!("cultural_attribution[{i}].party_id"),
                    &a.party_id,
                ),
                tradition: line(
                    &mut e,
                    format!("cultural_attribution[{i}].tradition"),
                    &a.tradition,
                    limits::TRADITION,
                ),
                credit_line: line(
                    &mut e,
                    format!("cultural_attribution[{i}].credit_line"),
                    &a.credit_line,
                    CREDIT_LINE,
                ),
            })
            .collect();
        if this
            .effective_until
            .is_some_and(|until| until < this.effective_from)
        {
            e.push(FieldError::new(
                "effective_until",
                "before_start",
                "must not be before effective_from",
            ));
        }
        e.finish(|| {
            Terms(TermsInput {
                commitments,
                revenue_split: RevenueSplit { currency, shares },
                promotion_plan: PromotionPlan { summary, channels },
                cultural_attribution,
                effective_from: this.effective_from,
                effective_until: this.effective_until,
            })
        })
    }

    /// The same terms with other dates (an amendment starts from a copy).
    pub fn with_dates(
        &self,
        effective_from: NaiveDate,
        effective_until: Option<NaiveDate>,
    ) -> Result<Terms, FieldErrors> {
        let mut input = self.0.clone();
        input.effective_from = effective_from;
        input.effective_until = effective_until;
        Terms::parse(input)
    }

    /// The terms as a client would write them (to change and parse again).
    pub fn to_input(&self) -> TermsInput {
        self.0.clone()
    }

    pub fn commitments(&self) -> &[Commitment] {
        &self.0.commitments
    }

    pub fn revenue_split(&self) -> &RevenueSplit {
        &self.0.revenue_split
    }

    /// The currency of the split (a valid ISO 4217 code).
    pub fn currency(&self) -> &str {
        &self.0.revenue_split.currency
    }

    pub fn shares(&self) -> &[Share] {
        &self.0.revenue_split.shares
    }

    pub fn effective_from(&self) -> NaiveDate {
        self.0.effective_from
    }

    pub fn effective_until(&self) -> Option<NaiveDate> {
        self.0.effective_until
    }

    /// Every `party_id` the terms name must be one of `accepted`.
    pub fn check_parties(&self, accepted: &[String]) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        let mut check = |field: String, id: &str| {
            if !accepted.iter().any(|a| a == id) {
                e.push(FieldError::new(
                    field,
                    "unknown_party",
                    "must be the id of an accepted party of this partnership",
                ));
            }
        };
        for (i, c) in self.0.commitments.iter().enumerate() {
            check(format!("commitments[{i}].party_id"), &c.party_id);
        }
        for (i, s) in self.0.revenue_split.shares.iter().enumerate() {
            if let Recipient::PartyId(id) = &s.recipient {
                check(format!("revenue_split.shares[{i}].recipient.party_id"), id);
            }
        }
        for (i, a) in self.0.cultural_attribution.iter().enumerate() {
            check(format!("cultural_attribution[{i}].party_id"), &a.party_id);
        }
        e.finish(|| ())
    }

    /// The beneficiaries of the split, with the path of each in a request.
    fn beneficiaries(&self) -> impl Iterator<Item = (String, &Beneficiary)> {
        self.0
            .revenue_split
            .shares
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match &s.recipient {
                Recipient::Beneficiary(b) => Some((
                    format!("revenue_split.shares[{i}].recipient.beneficiary"),
                    b,
                )),
                Recipient::PartyId(_) => None,
            })
    }

    /// The organizations named by beneficiaries: (field path, id).
    pub fn organization_ids(&self) -> Vec<(String, &str)> {
        self.beneficiaries()
            .filter_map(|(path, b)| {
                b.organization_id
                    .as_deref()
                    .map(|id| (format!("{path}.organization_id"), id))
            })
            .collect()
    }

    /// The giving-back campaigns named by beneficiaries: (field path, id).
    pub fn campaign_ids(&self) -> Vec<(String, &str)> {
        self.beneficiaries()
            .filter_map(|(path, b)| {
                b.campaign_id
                    .as_deref()
                    .map(|id| (format!("{path}.campaign_id"), id))
            })
            .collect()
    }

    /// The signed document: the terms plus the agreement's kind.
    pub fn document(&self, kind: AgreementKind) -> Value {
        let mut value = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Value::Object(members) = &mut value {
            members.insert("kind".to_owned(), Value::String(kind.as_str().to_owned()));
        }
        value
    }

    /// The canonical JSON (RFC 8785) of the document.
    pub fn canonical_json(&self, kind: AgreementKind) -> String {
        canonical::to_string(&self.document(kind))
    }

    /// SHA-256 (hex) of the canonical JSON of the document.
    pub fn content_hash(&self, kind: AgreementKind) -> String {
        canonical::sha256_hex(&self.document(kind))
    }

    /// Reads terms back from a stored document (parsed again, so stored
    /// terms are held to the same rules).
    pub fn from_document(text: &str) -> Option<Terms> {
        let input: TermsInput = serde_json::from_str(text).ok()?;
        Terms::parse(input).ok()
    }
}

/// The dates an agreement governs: from `from` through `until` (both
/// inclusive; `None` = open-ended).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InForce {
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
}

impl InForce {
    /// The window of an agreement effective `from`–`until` that was
    /// superseded as of `cut` (the first day it no longer governs), or
    /// `None` if that leaves no day at all.
    pub fn window(
        from: NaiveDate,
        until: Option<NaiveDate>,
        cut: Option<NaiveDate>,
    ) -> Option<Self> {
        let last_before_cut = cut.and_then(|c| c.pred_opt());
        let until = match (until, last_before_cut) {
            (Some(u), Some(c)) => Some(u.min(c)),
            (u, c) => u.or(c),
        };
        match until {
            Some(u) if u < from => None,
            _ => Some(InForce { from, until }),
        }
    }

    /// Whether the agreement governs `day`.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from <= day && self.until.is_none_or(|u| day <= u)
    }

    pub fn overlaps(&self, other: &InForce) -> bool {
        let starts_before_other_ends = other.until.is_none_or(|u| self.from <= u);
        let other_starts_before_self_ends = self.until.is_none_or(|u| other.from <= u);
        starts_before_other_ends && other_starts_before_self_ends
    }
}

/// The rules for an amendment (or termination) of an agreement that took
/// effect on `amended_from`: it must take effect later, and a termination
/// has no end date of its own.
pub fn check_amendment(
    kind: AgreementKind,
    amended_from: NaiveDate,
    terms: &Terms,
) -> Result<(), FieldErrors> {
    let mut e = FieldErrors::default();
    if terms.effective_from() <= amended_from {
        e.push(FieldError::new(
            "effective_from",
            "not_after_amended",
            format!("must be after {amended_from}, when the amended agreement took effect"),
        ));
    }
    if kind == AgreementKind::Termination && terms.effective_until().is_some() {
        e.push(FieldError::new(
            "effective_until",
            "not_allowed",
            "a termination has no end date; effective_from is the first day without an agreement",
        ));
    }
    e.finish(|| ())
}

/// One entry of an agreement's audit trail, as far as replaying it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded<T> {
    pub kind: EventKind,
    /// The agreement's version and hash after the event.
    pub version: i64,
    pub content_hash: String,
    /// The canonical document, recorded with `created` and `edited`.
    pub document: Option<String>,
    pub at: T,
}

/// An agreement as its audit trail says it stood after some events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoodAs<T> {
    pub status: AgreementStatus,
    pub version: i64,
    pub content_hash: String,
    /// Edit revision: 1 when created, one more per edit.
    pub revision: i64,
    /// The document of the latest `created`/`edited` event, if recorded.
    pub document: Option<String>,
    pub activated_at: Option<T>,
    /// Whether it had been superseded or terminated.
    pub ended: bool,
    pub updated_at: T,
}

/// Replays an agreement's audit trail (oldest first); `None` for an empty
/// trail (the agreement did not exist yet).
pub fn replay<T: Copy>(trail: &[Recorded<T>]) -> Option<StoodAs<T>> {
    let first = trail.first()?;
    let mut state = StoodAs {
        status: AgreementStatus::Draft,
        version: first.version,
        content_hash: first.content_hash.clone(),
        revision: 1,
        document: first.document.clone(),
        activated_at: None,
        ended: false,
        updated_at: first.at,
    };
    for event in &trail[1..] {
        match event.kind {
            EventKind::Created => {}
            EventKind::Edited => {
                state.revision += 1;
                state.document = event.document.clone();
            }
            EventKind::Signed => {}
            EventKind::Declined => state.status = AgreementStatus::Declined,
            EventKind::Activated => {
                state.status = AgreementStatus::Active;
                state.activated_at = Some(event.at);
            }
            EventKind::Superseded => {
                state.status = AgreementStatus::Superseded;
                state.ended = true;
            }
            EventKind::Terminated => {
                state.status = AgreementStatus::Terminated;
                state.ended = true;
            }
        }
        state.version = event.version;
        state.content_hash = event.content_hash.clone();
        state.updated_at = event.at;
    }
    Some(state)
}

/// Whether every party in `required` (the accepted parties) has signed.
pub fn fully_signed(required: &[String], signed: &[String]) -> bool {
    !required.is_empty() && required.iter().all(|p| signed.contains(p))
}

/// A decline's reason: 1–1000 characters.
pub fn reason(value: &str) -> Result<String, FieldError> {
    text::bounded("reason", value, 1, REASON, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn party(id: &str, bps: i64) -> Share {
        Share {
            recipient: Recipient::PartyId(id.to_owned()),
            share_bps: ShareBps::new(bps),
        }
    }

    fn charity(name: &str, bps: i64) -> Share {
        Share {
            recipient: Recipient::Beneficiary(Beneficiary {
                name: name.to_owned(),
                url: None,
                organization_id: None,
                campaign_id: None,
                public_credit: None,
            }),
            share_bps: ShareBps::new(bps),
        }
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().expect("valid")
    }

    /// A fixed document whose hash is pinned below.
    fn sample() -> Terms {
        Terms::parse(sample_input()).expect("valid")
    }

    fn sample_input() -> TermsInput {
        TermsInput {
            commitments: vec![Commitment {
                party_id: "0190f7a8-0000-7000-8000-000000000001".into(),
                description: "Weave 40 alpaca scarves in the Ñuñoa pattern".into(),
                due_on: Some(date("2026-10-01")),
            }],
            revenue_split: RevenueSplit {
                currency: "PEN".into(),
                shares: vec![
                    party("0190f7a8-0000-7000-8000-000000000001", 6000),
                    party("0190f7a8-0000-7000-8000-000000000002", 3500),
                    Share {
                        recipient: Recipient::Beneficiary(Beneficiary {
                            name: "Escuela Taller Cusco".into(),
                            url: Some("https://example.org/escuela".into()),
                            organization_id: None,
                            campaign_id: None,
                            public_credit: None,
                        }),
                        share_bps: ShareBps::new(500),
                    },
                ],
            },
            promotion_plan: PromotionPlan {
                summary: "Joint launch at the Lima craft fair; \"Andes\" label.\nBoth shops."
                    .into(),
                channels: vec!["instagram".into(), "market_stall".into()],
            },
            cultural_attribution: vec![Attribution {
                party_id: "0190f7a8-0000-7000-8000-000000000001".into(),
                tradition: "Quechua weaving".into(),
                credit_line: "Woven by the Chinchero community €".into(),
            }],
            effective_from: date("2026-09-01"),
            effective_until: None,
        }
    }

    #[test]
    fn the_content_hash_of_a_fixed_document_is_pinned() {
        // If this fails, canonicalisation or the document shape changed
        // and every stored signature would stop matching: do not update the
        // constants without a migration plan.
        let terms = sample();
        assert_eq!(
            terms.canonical_json(AgreementKind::Original),
            concat!(
                r#"{"commitments":[{"description":"Weave 40 alpaca scarves in the Ñuñoa pattern","due_on":"2026-10-01","party_id":"0190f7a8-0000-7000-8000-000000000001"}],"#,
                r#""cultural_attribution":[{"credit_line":"Woven by the Chinchero community €","party_id":"0190f7a8-0000-7000-8000-000000000001","tradition":"Quechua weaving"}],"#,
                r#""effective_from":"2026-09-01","effective_until":null,"kind":"original","#,
                r#""promotion_plan":{"channels":["instagram","market_stall"],"summary":"Joint launch at the Lima craft fair; \"Andes\" label.\nBoth shops."},"#,
                r#""revenue_split":{"currency":"PEN","shares":[{"recipient":{"party_id":"0190f7a8-0000-7000-8000-000000000001"},"share_bps":6000},"#,
                r#"{"recipient":{"party_id":"0190f7a8-0000-7000-8000-000000000002"},"share_bps":3500},"#,
                r#"{"recipient":{"beneficiary":{"campaign_id":null,"name":"Escuela Taller Cusco","organization_id":null,"url":"https://example.org/escuela"}},"share_bps":500}]}}"#,
            )
        );
        assert_eq!(terms.content_hash(AgreementKind::Original), PINNED_HASH);
        assert_ne!(terms.content_hash(AgreementKind::Amendment), PINNED_HASH);
    }

    /// Computed independently (Python `json.dumps(sort_keys=True, separators=(",", ":"),
    /// ensure_ascii=False)`, which agrees with RFC 8785 for this document).
    const PINNED_HASH: &str = "ccbd885ad5776347ed98029d1a5c417fa288e3383cbc387cfd6c84a54d86e89a";

    #[test]
    fn stored_documents_read_back_to_the_same_terms() {
        let terms = sample();
        let text = terms.canonical_json(AgreementKind::Amendment);
        assert_eq!(Terms::from_document(&text), Some(terms));
    }

    #[test]
    fn validation_trims_and_collects_every_problem() {
        let mut terms = sample_input();
        terms.commitments[0].description = "  Weave  ".into();
        assert_eq!(
            Terms::parse(terms.clone()).expect("valid").commitments()[0].description,
            "Weave"
        );
        terms.revenue_split.currency = "XYZ".into();
        terms.revenue_split.shares[2].share_bps = ShareBps::new(400);
        terms.effective_until = Some(date("2026-08-01"));
        terms.promotion_plan.channels = vec!["a".into(), "a".into()];
        let fields: Vec<String> = Terms::parse(terms)
            .expect_err("invalid")
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "revenue_split.currency",
                "revenue_split.shares",
                "promotion_plan.channels[1]",
                "effective_until"
            ]
        );
    }

    #[test]
    fn the_split_error_states_the_actual_sum() {
        let errors = split_errors(&[party("a", 6000), party("b", 3990)]);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, "sum");
        assert!(errors[0].message.contains("9990"), "{}", errors[0].message);
    }

    #[test]
    fn beneficiaries_are_the_same_recipient_ignoring_case() {
        let errors = split_errors(&[
            charity("Water for All", 5000),
            charity("water for all ", 5000),
        ]);
        assert_eq!(errors[0].field, "revenue_split.shares[1].recipient");
    }

    #[test]
    fn unknown_parties_are_named_by_path() {
        let terms = sample();
        let err = terms
            .check_parties(&["0190f7a8-0000-7000-8000-000000000001".into()])
            .expect_err("invalid");
        assert_eq!(err.0[0].field, "revenue_split.shares[1].recipient.party_id");
        assert!(terms
            .check_parties(&[
                "0190f7a8-0000-7000-8000-000000000001".into(),
                "0190f7a8-0000-7000-8000-000000000002".into()
            ])
            .is_ok());
    }

    #[test]
    fn windows_are_cut_by_supersession_and_overlap_inclusively() {
        let w = |f: &str, u: Option<&str>, c: Option<&str>| {
            InForce::window(date(f), u.map(date), c.map(date))
        };
        let year = w("2026-01-01", Some("2026-12-31"), None).expect("valid");
        let cut = w("2026-01-01", None, Some("2026-07-01")).expect("valid");
        assert_eq!(cut.until, Some(date("2026-06-30")));
        assert_eq!(w("2026-01-01", None, Some("2026-01-01")), None);
        let next = w("2027-01-01", None, None).expect("valid");
        let last_day = w("2026-12-31", None, None).expect("valid");
        assert!(!year.overlaps(&next) && !next.overlaps(&year));
        assert!(year.overlaps(&last_day) && last_day.overlaps(&year));
        assert!(!cut.overlaps(&w("2026-07-01", None, None).expect("valid")));
        assert!(year.contains(date("2026-01-01")) && year.contains(date("2026-12-31")));
        assert!(!year.contains(date("2025-12-31")) && !year.contains(date("2027-01-01")));
        assert!(cut.contains(date("2026-06-30")) && !cut.contains(date("2026-07-01")));
        assert!(next.contains(date("2099-01-01")));
    }

    #[test]
    fn amendments_take_effect_later_and_terminations_have_no_end() {
        let terms = sample();
        assert!(check_amendment(AgreementKind::Amendment, date("2026-09-01"), &terms).is_err());
        let later = terms.with_dates(date("2026-09-02"), None).expect("valid");
        assert!(check_amendment(AgreementKind::Amendment, date("2026-09-01"), &later).is_ok());
        let ended = terms
            .with_dates(date("2026-09-02"), Some(date("2027-01-01")))
            .expect("valid");
        assert!(check_amendment(AgreementKind::Termination, date("2026-09-01"), &ended).is_err());
    }

    #[test]
    fn activation_needs_every_accepted_party() {
        let required = vec!["a".to_owned(), "b".to_owned()];
        assert!(!fully_signed(&required, &["a".into()]));
        assert!(fully_signed(&required, &["b".into(), "a".into()]));
        assert!(!fully_signed(&[], &[]));
    }

    fn shares() -> impl Strategy<Value = Vec<i64>> {
        prop::collection::vec(-50i64..10_050, 1..=MAX_SHARES)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// A split is accepted exactly when every share is in 1..=10 000,
        /// recipients are distinct and the total is 10 000; a wrong total is
        /// always reported with the actual sum.
        #[test]
        fn split_validation_matches_the_rule(bps in shares(), repeat in any::<bool>()) {
            let mut list: Vec<Share> = bps
                .iter()
                .enumerate()
                .map(|(i, &b)| party(&format!("p{i}"), b))
                .collect();
            if repeat && list.len() > 1 {
                list[1].recipient = list[0].recipient.clone();
            }
            let total: i64 = bps.iter().sum();
            let valid = total == FULL_SHARE_BPS
                && bps.iter().all(|&b| (1..=FULL_SHARE_BPS).contains(&b))
                && !(repeat && list.len() > 1);
            let errors = split_errors(&list);
            prop_assert_eq!(errors.is_empty(), valid);
            let sum_error = errors.iter().find(|e| e.code == "sum");
            prop_assert_eq!(sum_error.is_some(), total != FULL_SHARE_BPS);
            if let Some(e) = sum_error {
                let expected = format!("shares sum to {total} basis points");
                prop_assert!(e.message.starts_with(&expected));
            }
        }

        /// Any positive shares scaled to sum to 10 000 are accepted.
        #[test]
        fn every_exact_split_is_accepted(weights in prop::collection::vec(1i64..1000, 1..=MAX_SHARES)) {
            let total: i64 = weights.iter().sum();
            let mut bps: Vec<i64> = weights.iter().map(|w| (w * FULL_SHARE_BPS / total).max(1)).collect();
            let drift = FULL_SHARE_BPS - bps.iter().sum::<i64>();
            let (largest, _) = bps.iter().enumerate().max_by_key(|(_, b)| **b).expect("valid");
            bps[largest] += drift;
            prop_assume!(bps.iter().all(|&b| b > 0));
            let list: Vec<Share> = bps.iter().enumerate().map(|(i, &b)| party(&format!("p{i}"), b)).collect();
            prop_assert!(split_errors(&list).is_empty());
        }
    }

    #[test]
    fn the_trail_replays_to_the_state_it_recorded() {
        let event = |kind, version: i64, hash: &str, document: Option<&str>, at: i32| Recorded {
            kind,
            version,
            content_hash: hash.to_owned(),
            document: document.map(str::to_owned),
            at,
        };
        let trail = [
            event(EventKind::Created, 1, "h1", Some("d1"), 1),
            event(EventKind::Signed, 2, "h1", None, 2),
            event(EventKind::Edited, 3, "h2", Some("d2"), 3),
            event(EventKind::Signed, 4, "h2", None, 4),
            event(EventKind::Activated, 5, "h2", None, 4),
            event(EventKind::Superseded, 6, "h2", None, 9),
        ];
        assert_eq!(replay::<i32>(&[]), None);
        let after_edit = replay(&trail[..3]).expect("state");
        assert_eq!(after_edit.status, AgreementStatus::Draft);
        assert_eq!((after_edit.revision, after_edit.version), (2, 3));
        assert_eq!(after_edit.document.as_deref(), Some("d2"));
        assert_eq!(after_edit.content_hash, "h2");
        let active = replay(&trail[..5]).expect("state");
        assert_eq!(active.status, AgreementStatus::Active);
        assert_eq!(active.activated_at, Some(4));
        assert!(!active.ended);
        let all = replay(&trail).expect("state");
        assert_eq!(all.status, AgreementStatus::Superseded);
        assert!(all.ended);
        assert_eq!((all.version, all.updated_at), (6, 9));
    }
}
