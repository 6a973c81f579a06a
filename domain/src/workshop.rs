//! Workshops: who may register, cancel and record attendance, and when.

use crate::exchange::RegistrationStatus;
use crate::{FieldError, FieldErrors};

/// Why a change to a workshop or its registrations is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkshopRefusal {
    /// A workshop is linked to a collective only by one of its members (→ 403).
    NotCollectiveMember,
    HostCannotRegister,
    Started,
    NotStarted,
    AlreadyRegistered,
    AlreadyCancelled,
    /// Only the host records attendance (→ 403).
    NotHost,
}

/// A new workshop starts in the future.
pub fn starts_in_future<T: PartialOrd>(starts_at: T, now: T) -> Result<(), FieldError> {
    if starts_at > now {
        Ok(())
    } else {
        Err(FieldError::new(
            "starts_at",
            "in_past",
            "must be in the future",
        ))
    }
}

/// Whether an artisan may register: not the host, not after the start.
pub fn may_register(is_host: bool, started: bool) -> Result<(), WorkshopRefusal> {
    if is_host {
        return Err(WorkshopRefusal::HostCannotRegister);
    }
    if started {
        return Err(WorkshopRefusal::Started);
    }
    Ok(())
}

/// Whether a registration may be cancelled: once, before the start.
pub fn may_cancel(status: RegistrationStatus, started: bool) -> Result<(), WorkshopRefusal> {
    if status == RegistrationStatus::Cancelled {
        return Err(WorkshopRefusal::AlreadyCancelled);
    }
    if started {
        return Err(WorkshopRefusal::Started);
    }
    Ok(())
}

/// Whether attendance may be recorded: by the host, from the start on.
pub fn may_record_attendance(is_host: bool, started: bool) -> Result<(), WorkshopRefusal> {
    if !is_host {
        return Err(WorkshopRefusal::NotHost);
    }
    if !started {
        return Err(WorkshopRefusal::NotStarted);
    }
    Ok(())
}

/// Which registrations an attendance list marks: the position in
/// `registered` (the artisans with a seat) of each artisan requested, each
/// once; an artisan without a seat is a 422 naming `artisan_ids[i]`.
pub fn attendees(registered: &[&str], requested: &[String]) -> Result<Vec<usize>, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut marked: Vec<usize> = Vec::with_capacity(requested.len());
    for (i, artisan) in requested.iter().enumerate() {
        match registered.iter().position(|r| r == artisan) {
            Some(seat) if marked.contains(&seat) => {}
            Some(seat) => marked.push(seat),
            None => errors.push(FieldError::new(
                format!("artisan_ids[{i}]"),
                "not_registered",
                "is not registered for this workshop",
            )),
        }
    }
    errors.finish(|| marked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attendance_names_seated_artisans_once() {
        let seated = ["a", "b", "c"];
        let ask = |ids: &[&str]| ids.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(attendees(&seated, &ask(&["c", "a", "c"])), Ok(vec![2, 0]));
        let refused = attendees(&seated, &ask(&["a", "x", "y"])).err();
        let fields: Vec<String> = refused
            .map(|e| e.0.into_iter().map(|e| e.field).collect())
            .unwrap_or_default();
        assert_eq!(fields, ["artisan_ids[1]", "artisan_ids[2]"]);
    }

    #[test]
    fn registration_cancellation_and_attendance_follow_the_clock() {
        assert_eq!(may_register(false, false), Ok(()));
        assert_eq!(
            may_register(true, false),
            Err(WorkshopRefusal::HostCannotRegister)
        );
        assert_eq!(may_register(false, true), Err(WorkshopRefusal::Started));
        assert_eq!(may_cancel(RegistrationStatus::Waitlisted, false), Ok(()));
        assert_eq!(
            may_cancel(RegistrationStatus::Cancelled, false),
            Err(WorkshopRefusal::AlreadyCancelled)
        );
        assert_eq!(
            may_cancel(RegistrationStatus::Registered, true),
            Err(WorkshopRefusal::Started)
        );
        assert_eq!(may_record_attendance(true, true), Ok(()));
        assert_eq!(
            may_record_attendance(false, true),
            Err(WorkshopRefusal::NotHost)
        );
        assert_eq!(
            may_record_attendance(true, false),
            Err(WorkshopRefusal::NotStarted)
        );
    }

    #[test]
    fn a_workshop_starts_in_the_future() {
        assert_eq!(starts_in_future(2, 1), Ok(()));
        assert_eq!(starts_in_future(1, 1).map_err(|e| e.code), Err("in_past"));
    }
}
