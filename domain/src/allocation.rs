//! Splitting money among an agreement's recipients, exact to the minor
//! unit and without drift.
//!
//! A sale of `amount` under shares `bps` gives each recipient
//! `floor(amount × bps / 10 000)`; the few units left over go one each to
//! the recipients whose cumulative holding under the agreement falls
//! furthest short of their exact entitlement (the agreement's cumulative
//! sales × bps / 10 000), ties to the earlier share. Because the shortfall
//! is measured against the running total, rounding never accumulates:
//! every recipient stays within one minor unit of its exact share.
//!
//! A refund gives back from one sale's lines in proportion to them, by the
//! same floor-then-largest-remainder method, never more from a recipient
//! than it still holds from that sale.

use crate::agreement::ShareBps;
use crate::money::MinorUnits;

/// The denominator of basis points.
const FULL: i128 = 10_000;

/// The cumulative state of an agreement before a sale: the total of its
/// earlier (net) sales, and what each recipient holds from them, in the
/// order of the shares.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cumulative {
    pub sales: MinorUnits,
    pub held: Vec<MinorUnits>,
}

/// The lines of a sale of `amount` (> 0) under `bps` (summing to 10 000),
/// given the agreement's state before it. The lines sum to `amount`, none
/// is negative, and the result depends only on its inputs.
pub fn allocate(amount: MinorUnits, bps: &[ShareBps], before: &Cumulative) -> Vec<MinorUnits> {
    let bps: Vec<i64> = bps.iter().map(|b| b.get()).collect();
    let held: Vec<i64> = before.held.iter().map(|h| h.get()).collect();
    allocate_raw(amount.get(), &bps, before.sales.get(), &held)
        .into_iter()
        .map(MinorUnits::new)
        .collect()
}

/// The (negative) lines of a refund of `amount` from a sale whose lines
/// are `received` and of which `refunded` (per line, as positive numbers)
/// has already been given back. `amount` must not exceed what remains of
/// the sale. Each line is at most what that recipient still holds from the
/// sale; the lines sum to `-amount`.
pub fn refund(
    amount: MinorUnits,
    received: &[MinorUnits],
    refunded: &[MinorUnits],
) -> Vec<MinorUnits> {
    let raw = |v: &[MinorUnits]| v.iter().map(|m| m.get()).collect::<Vec<i64>>();
    refund_raw(amount.get(), &raw(received), &raw(refunded))
        .into_iter()
        .map(MinorUnits::new)
        .collect()
}

fn allocate_raw(amount: i64, bps: &[i64], sales_before: i64, held_before: &[i64]) -> Vec<i64> {
    let amount128 = i128::from(amount);
    let mut lines: Vec<i64> = bps
        .iter()
        .map(|&b| i64::try_from(amount128 * i128::from(b) / FULL).unwrap_or(0))
        .collect();
    let leftover = amount - lines.iter().sum::<i64>();
    let total_after = i128::from(sales_before) + amount128;
    // Shortfall × 10 000, exact: entitlement minus what they would hold.
    let mut order: Vec<(i128, usize)> = bps
        .iter()
        .enumerate()
        .map(|(i, &b)| {
            let held = i128::from(held_before.get(i).copied().unwrap_or(0)) + i128::from(lines[i]);
            (total_after * i128::from(b) - held * FULL, i)
        })
        .collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in order.iter().take(usize::try_from(leftover).unwrap_or(0)) {
        lines[i] += 1;
    }
    lines
}

fn refund_raw(amount: i64, received: &[i64], refunded: &[i64]) -> Vec<i64> {
    let remaining: Vec<i64> = received
        .iter()
        .enumerate()
        .map(|(i, r)| r - refunded.get(i).copied().unwrap_or(0))
        .collect();
    let left: i128 = remaining.iter().map(|&r| i128::from(r)).sum();
    if left <= 0 || amount <= 0 {
        return vec![0; received.len()];
    }
    let amount128 = i128::from(amount);
    let mut back: Vec<i64> = remaining
        .iter()
        .map(|&r| i64::try_from(amount128 * i128::from(r) / left).unwrap_or(0))
        .collect();
    let leftover = amount - back.iter().sum::<i64>();
    // Largest remainder first, ties to the earlier line; only recipients
    // with something left to give back.
    let mut order: Vec<(i128, usize)> = remaining
        .iter()
        .enumerate()
        .filter(|&(i, &r)| back[i] < r)
        .map(|(i, &r)| ((amount128 * i128::from(r)) % left, i))
        .collect();
    order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in order.iter().take(usize::try_from(leftover).unwrap_or(0)) {
        back[i] += 1;
    }
    back.into_iter().map(|b| -b).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The raw maths with the state as plain integers.
    #[derive(Default)]
    struct State {
        sales: i64,
        held: Vec<i64>,
    }

    fn alloc(amount: i64, bps: &[i64], state: &State) -> Vec<i64> {
        allocate_raw(amount, bps, state.sales, &state.held)
    }

    fn refund(amount: i64, received: &[i64], refunded: &[i64]) -> Vec<i64> {
        refund_raw(amount, received, refunded)
    }
    use proptest::prelude::*;

    #[test]
    fn leftover_units_go_to_the_largest_shortfall() {
        // 3 recipients of a third each (3334, 3333, 3333): 1 unit.
        let bps = [3334, 3333, 3333];
        let mut state = State {
            sales: 0,
            held: vec![0; 3],
        };
        let mut history = Vec::new();
        for _ in 0..6 {
            let lines = alloc(1, &bps, &state);
            assert_eq!(lines.iter().sum::<i64>(), 1);
            state.sales += 1;
            for (h, l) in state.held.iter_mut().zip(&lines) {
                *h += l;
            }
            history.push(lines);
        }
        assert_eq!(
            history,
            [
                [1, 0, 0],
                [0, 1, 0],
                [0, 0, 1],
                [1, 0, 0],
                [0, 1, 0],
                [0, 0, 1]
            ]
        );
    }

    #[test]
    fn the_typed_functions_are_the_maths() {
        let bps: Vec<ShareBps> = [6000, 3500, 500].into_iter().map(ShareBps::new).collect();
        let lines = allocate(MinorUnits::new(1001), &bps, &Cumulative::default());
        let raw: Vec<i64> = lines.iter().map(|l| l.get()).collect();
        assert_eq!(raw, alloc(1001, &[6000, 3500, 500], &State::default()));
        let back = super::refund(MinorUnits::new(7), &lines, &[MinorUnits::ZERO; 3]);
        let raw_back: Vec<i64> = back.iter().map(|l| l.get()).collect();
        assert_eq!(raw_back, refund(7, &raw, &[0, 0, 0]));
    }

    #[test]
    fn a_clean_split_needs_no_rounding() {
        let lines = alloc(10_000, &[6000, 3500, 500], &State::default());
        assert_eq!(lines, [6000, 3500, 500]);
    }

    #[test]
    fn refunds_mirror_the_sale() {
        let received = [6000, 3500, 500];
        assert_eq!(refund(10_000, &received, &[0, 0, 0]), [-6000, -3500, -500]);
        assert_eq!(refund(1, &received, &[0, 0, 0]), [-1, 0, 0]);
        let first = refund(3, &[1, 1, 1], &[0, 0, 0]);
        assert_eq!(first, [-1, -1, -1]);
        assert_eq!(refund(1, &[1, 1, 1], &[1, 1, 0]), [0, 0, -1]);
    }

    /// 2–12 shares in basis points summing to 10 000.
    fn shares() -> impl Strategy<Value = Vec<i64>> {
        prop::collection::vec(1i64..1000, 2..=12).prop_map(|weights| {
            let total: i64 = weights.iter().sum();
            let mut bps: Vec<i64> = weights
                .iter()
                .map(|w| (w * 10_000 / total).max(1))
                .collect();
            let drift = 10_000 - bps.iter().sum::<i64>();
            let largest = (0..bps.len()).max_by_key(|&i| bps[i]).unwrap_or(0);
            bps[largest] += drift;
            bps
        })
    }

    fn amounts() -> impl Strategy<Value = Vec<i64>> {
        prop::collection::vec(
            prop_oneof![
                Just(1i64),
                1i64..100,
                1i64..1_000_000,
                Just(i64::MAX / 1_000_000)
            ],
            1..60,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        /// Lines sum to the sale, none is negative, the result is
        /// deterministic, and every recipient's cumulative holding stays
        /// within one minor unit of its exact share of cumulative sales.
        #[test]
        fn allocations_are_exact_and_do_not_drift(bps in shares(), sales in amounts()) {
            prop_assume!(bps.iter().all(|&b| b > 0));
            let mut state = State { sales: 0, held: vec![0; bps.len()] };
            for amount in sales {
                let lines = alloc(amount, &bps, &state);
                prop_assert_eq!(&lines, &alloc(amount, &bps, &state));
                prop_assert_eq!(lines.iter().sum::<i64>(), amount);
                prop_assert!(lines.iter().all(|&l| l >= 0));
                state.sales += amount;
                for (h, l) in state.held.iter_mut().zip(&lines) {
                    *h += l;
                }
                for (i, &b) in bps.iter().enumerate() {
                    let exact = i128::from(state.sales) * i128::from(b);
                    let held = i128::from(state.held[i]) * FULL;
                    prop_assert!((exact - held).abs() < 2 * FULL, "recipient {} drifted", i);
                }
            }
        }

        /// Refunds give back exactly the amount, never more from a line
        /// than it still holds, and in total never more than the sale.
        #[test]
        fn refunds_are_exact_and_bounded(bps in shares(), amount in 1i64..10_000_000, parts in prop::collection::vec(1i64..1000, 1..6)) {
            prop_assume!(bps.iter().all(|&b| b > 0));
            let received = alloc(amount, &bps, &State { sales: 0, held: vec![0; bps.len()] });
            let mut refunded = vec![0i64; received.len()];
            let mut left = amount;
            for part in parts {
                let give = part.min(left);
                if give == 0 { break; }
                let lines = refund(give, &received, &refunded);
                prop_assert_eq!(lines.iter().sum::<i64>(), -give);
                for (i, l) in lines.iter().enumerate() {
                    prop_assert!(*l <= 0);
                    refunded[i] -= l;
                    prop_assert!(refunded[i] <= received[i], "line {} gave back more than it received", i);
                }
                left -= give;
            }
        }
    }
}
