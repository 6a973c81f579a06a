//! Notifications for people: what a mobile app shows as its inbox and
//! badges. The kinds extend the partner event enum
//! ([`crate::webhook::EventType`], whose `agreement.activated` they share)
//! with what concerns one person; each is written in the transaction of
//! the change it reports.

use crate::account::text_enum;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationKind {
    /// An agreement you are party to became active (the partner event).
    AgreementActivated,
    /// You (or a collective you coordinate) were invited to a partnership.
    PartnershipInvitation,
    /// A collective invited you to join.
    CollectiveInvitation,
    /// A draft agreement (new or edited) awaits your signature.
    AgreementAwaitingSignature,
    /// A draft agreement you are party to was declined.
    AgreementDeclined,
    /// A session of your exchange awaits your confirmation.
    SessionAwaitingConfirmation,
    /// You moved from a workshop's waitlist to a seat.
    WorkshopSeat,
    /// You moved from a market event's waitlist to a place.
    EventSeat,
    /// A market event you take part in or wait for was cancelled.
    EventCancelled,
    /// Your application to a collective was decided.
    ApplicationDecided,
    /// Your application to a partner program was decided.
    ProgramApplicationDecided,
    /// A payment to you (or a collective you coordinate) was recorded.
    PaymentRecorded,
}

text_enum!(NotificationKind {
    AgreementActivated => "agreement.activated",
    PartnershipInvitation => "partnership.invited",
    CollectiveInvitation => "collective.invited",
    AgreementAwaitingSignature => "agreement.awaiting_signature",
    AgreementDeclined => "agreement.declined",
    SessionAwaitingConfirmation => "exchange.session_awaiting_confirmation",
    WorkshopSeat => "workshop.seat_assigned",
    EventSeat => "event.seat_assigned",
    EventCancelled => "event.cancelled",
    ApplicationDecided => "collective.application_decided",
    ProgramApplicationDecided => "program.application_decided",
    PaymentRecorded => "settlement.payment_recorded",
});

/// Who hears of a change: everyone concerned, each once, in the order
/// given, except the person who caused it.
pub fn recipients(concerned: Vec<String>, actor: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(concerned.len());
    for person in concerned {
        if Some(person.as_str()) != actor && !out.contains(&person) {
            out.push(person);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhook::EventType;

    #[test]
    fn nobody_hears_twice_and_the_actor_not_at_all() {
        let people = |p: &[&str]| p.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            recipients(people(&["a", "b", "a", "c"]), Some("b")),
            people(&["a", "c"])
        );
        assert_eq!(recipients(people(&["a"]), None), people(&["a"]));
        assert!(recipients(people(&["a", "a"]), Some("a")).is_empty());
    }

    #[test]
    fn kinds_read_back_and_the_shared_one_is_the_partner_events_name() {
        for kind in [
            NotificationKind::AgreementActivated,
            NotificationKind::PartnershipInvitation,
            NotificationKind::PaymentRecorded,
        ] {
            assert_eq!(NotificationKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(
            NotificationKind::AgreementActivated.as_str(),
            EventType::AgreementActivated.as_str()
        );
    }
}
