//! Departures, each one saga in one transaction: a party leaving a
//! partnership, and a person closing their account.
//!
//! A party leaves ([`leave_partnership`]) only while accepted and while no
//! active agreement names it (`PartyStatus::leave`); drafts every remaining
//! accepted party has signed then activate.
//!
//! Closing an account ([`close_account`]): The profile is erased
//! first (a stale `If-Match` refuses before anything moves); then each
//! aggregate the person takes part in decides, by its own domain rule, what
//! their departure means for it:
//!
//! - collectives (`collectives::on_account_closed`): memberships end; a
//!   collective they were alone in is archived; being the last coordinator
//!   of one with other members refuses the closure (409 naming it); their
//!   pending applications and open invitations are withdrawn;
//! - partnerships (`partnerships::on_parties_gone`): their own parties, and
//!   those of collectives just archived, leave (accepted) or decline
//!   (invited); drafts every remaining accepted party has signed then
//!   activate, as a last signature would (`agreements::activate_fully_signed`);
//! - workshops: registrations for workshops to come are cancelled,
//!   promoting the waitlist;
//! - market events: participations in events to come end, promoting the
//!   waitlist;
//! - exchanges: open ones end.
//!
//! Locks are taken in one order — the account, collectives, partnerships,
//! workshops, market events, exchanges, each by id — and every change that adds a person
//! to shared work holds that person's account first (`users::hold`), so a
//! closure and such a change never deadlock and never interleave.

use domain::precondition::Precondition;
use domain::profile::ProfileFields;

use crate::partnerships::{PartnershipRow, PartyOwner, Viewer};
use crate::{
    agreements, artisans, collectives, exchanges, market_events, partnerships, users, workshops,
    write_tx, AnyConnection, StoreError,
};

pub fn close_account(
    conn: &mut AnyConnection,
    id: &str,
    expected: &Precondition,
) -> Result<(), StoreError> {
    write_tx(conn, |conn| {
        users::lock(conn, id)?;
        artisans::replace_profile(conn, id, expected, &ProfileFields::former_member(), true)?;
        let archived = collectives::on_account_closed(conn, id)?;
        let mut gone = vec![PartyOwner::Artisan(id.to_owned())];
        gone.extend(archived.into_iter().map(PartyOwner::Collective));
        for partnership in partnerships::on_parties_gone(conn, &gone)? {
            agreements::activate_fully_signed(conn, &partnership, id)?;
        }
        workshops::on_account_closed(conn, id)?;
        market_events::on_account_closed(conn, id)?;
        exchanges::on_account_closed(conn, id)?;
        users::erase_credentials(conn, id)
    })
}

pub fn leave_partnership(
    conn: &mut AnyConnection,
    partnership_id: &str,
    party_id: &str,
    viewer: &Viewer,
) -> Result<PartnershipRow, StoreError> {
    write_tx(conn, |conn| {
        let (partnership, party, speaks) =
            partnerships::lock_party(conn, partnership_id, party_id, viewer)?;
        let named = agreements::names_party_in_force(conn, party_id)?;
        party.status().leave(speaks, named)?;
        partnerships::mark_left(conn, party_id)?;
        agreements::activate_fully_signed(conn, partnership_id, &viewer.id)?;
        Ok(partnership)
    })
}
