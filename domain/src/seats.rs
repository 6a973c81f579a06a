//! Seats with a waitlist (workshop registrations, market event participants): a
//! newcomer takes a seat while one is free and waits otherwise; a freed seat
//! goes to whoever has waited longest. Callers count seats under a lock on
//! the thing being booked, so the capacity holds under concurrency.

use crate::exchange::RegistrationStatus;

/// Where a newcomer lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seat {
    Seated,
    Waiting,
}

/// Where a newcomer lands, given the capacity and the seats taken now.
pub fn assign(capacity: i64, taken: i64) -> Seat {
    if taken < capacity {
        Seat::Seated
    } else {
        Seat::Waiting
    }
}

impl From<Seat> for RegistrationStatus {
    fn from(seat: Seat) -> Self {
        match seat {
            Seat::Seated => RegistrationStatus::Registered,
            Seat::Waiting => RegistrationStatus::Waitlisted,
        }
    }
}

/// Whether cancelling a registration in `status` frees a seat (which then
/// goes to the first on the waitlist).
pub fn frees_a_seat(status: RegistrationStatus) -> bool {
    status == RegistrationStatus::Registered
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The rules applied to a sequence of arrivals (`true`) and
    /// cancellations of the i-th active registration (`false`, index).
    fn run(capacity: i64, steps: &[(bool, usize)]) -> Vec<(usize, RegistrationStatus)> {
        let mut active: Vec<(usize, RegistrationStatus)> = Vec::new();
        for (arrival, (is_arrival, pick)) in steps.iter().enumerate() {
            if *is_arrival {
                let taken = active
                    .iter()
                    .filter(|(_, s)| *s == RegistrationStatus::Registered)
                    .count();
                let taken = i64::try_from(taken).unwrap_or(i64::MAX);
                active.push((arrival, assign(capacity, taken).into()));
            } else if !active.is_empty() {
                let (_, status) = active.remove(pick % active.len());
                if frees_a_seat(status) {
                    if let Some(first) = active
                        .iter_mut()
                        .find(|(_, s)| *s == RegistrationStatus::Waitlisted)
                    {
                        first.1 = RegistrationStatus::Registered;
                    }
                }
            }
        }
        active
    }

    proptest! {
        /// Never more seated than seats, no free seat while someone waits,
        /// and the seated are exactly the earliest arrivals still present.
        #[test]
        fn capacity_holds_and_the_longest_waiting_go_first(
            capacity in 1i64..6,
            steps in proptest::collection::vec((any::<bool>(), 0usize..10), 0..60),
        ) {
            let active = run(capacity, &steps);
            let seated = active.iter().filter(|(_, s)| *s == RegistrationStatus::Registered).count();
            let cap = usize::try_from(capacity).unwrap_or(0);
            prop_assert_eq!(seated, active.len().min(cap));
            for (i, (_, status)) in active.iter().enumerate() {
                let expected = if i < cap { RegistrationStatus::Registered } else { RegistrationStatus::Waitlisted };
                prop_assert_eq!(*status, expected);
            }
        }
    }
}
