//! The events partners can subscribe to. Each is written to the outbox in
//! the same transaction as the change it reports.

use crate::account::text_enum;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    PartnershipActivated,
    AgreementActivated,
    AgreementSuperseded,
    SettlementCreated,
    WorkshopCreated,
    EventCreated,
    ProgramApplicationCreated,
}

text_enum!(EventType {
    PartnershipActivated => "partnership.activated",
    AgreementActivated => "agreement.activated",
    AgreementSuperseded => "agreement.superseded",
    SettlementCreated => "settlement.created",
    WorkshopCreated => "workshop.created",
    EventCreated => "event.created",
    ProgramApplicationCreated => "program.application.created",
});
