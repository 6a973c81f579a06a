//! Ranking skill matches from posting bitmaps.
//!
//! Every artisan has a dense ordinal; for each skill offered, skill wanted
//! and country there is a [`Bitmap`] of the ordinals that have it. A
//! seeker's matches are computed from the few bitmaps of their own skills:
//! count, per ordinal, in how many of them it appears, and group the
//! candidates into [`Tier`]s of equal rank. Within a tier the order is by
//! id, which the caller resolves in the database.

/// A set of ordinals: ordinal `n` is bit `n % 8` of byte `n / 8`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bitmap(Vec<u8>);

impl Bitmap {
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Bitmap(bytes)
    }

    /// The stored form, without trailing zero bytes.
    pub fn into_bytes(mut self) -> Vec<u8> {
        while self.0.last() == Some(&0) {
            self.0.pop();
        }
        self.0
    }

    pub fn contains(&self, ordinal: u64) -> bool {
        let (byte, mask) = position(ordinal);
        self.0.get(byte).is_some_and(|b| b & mask != 0)
    }

    /// Adds (`on`) or removes `ordinal`.
    pub fn set(&mut self, ordinal: u64, on: bool) {
        let (byte, mask) = position(ordinal);
        if on {
            if self.0.len() <= byte {
                self.0.resize(byte + 1, 0);
            }
            self.0[byte] |= mask;
        } else if let Some(b) = self.0.get_mut(byte) {
            *b &= !mask;
        }
    }

    /// The ordinals in the set, ascending; skips eight zero bytes at a time.
    pub fn ordinals(&self) -> impl Iterator<Item = u64> + '_ {
        self.0.chunks(8).enumerate().flat_map(|(chunk, bytes)| {
            let mut word = [0u8; 8];
            word[..bytes.len()].copy_from_slice(bytes);
            let mut bits = u64::from_le_bytes(word);
            let base = chunk as u64 * 64;
            std::iter::from_fn(move || {
                (bits != 0).then(|| {
                    let at = u64::from(bits.trailing_zeros());
                    bits &= bits - 1;
                    base + at
                })
            })
        })
    }

    /// One past the largest ordinal the bitmap has room for.
    fn capacity(&self) -> usize {
        self.0.len() * 8
    }
}

fn position(ordinal: u64) -> (usize, u8) {
    let byte = usize::try_from(ordinal / 8).expect("ordinals fit in memory");
    (byte, 1 << (ordinal % 8))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// They teach something I want and want something I teach.
    Reciprocal,
    /// They teach something I want.
    Learn,
}

/// Candidates of equal rank: the same score and the same answer to "same
/// country as the seeker"; their ordinals ascending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    pub score: i64,
    pub same_country: bool,
    pub ordinals: Vec<u64>,
}

/// The seeker's view of the index.
#[derive(Debug, Clone, Copy)]
pub struct Seeker<'a> {
    /// Their own ordinal, never a candidate (none if not indexed yet).
    pub ordinal: Option<u64>,
    /// For each skill the seeker wants: who offers it.
    pub teachers: &'a [Bitmap],
    /// For each skill the seeker offers: who wants it.
    pub learners: &'a [Bitmap],
    /// Who shares the seeker's country (none when they have no country).
    pub compatriots: Option<&'a Bitmap>,
}

/// The candidates grouped into tiers, best first: higher score, then same
/// country. The score counts overlapping skills: skills they teach that I
/// want, plus (reciprocal) skills they want that I teach; a reciprocal
/// candidate needs at least one of each.
pub fn tiers(mode: Mode, seeker: &Seeker<'_>) -> Vec<Tier> {
    let room = seeker
        .teachers
        .iter()
        .chain(seeker.learners)
        .map(Bitmap::capacity)
        .max()
        .unwrap_or(0);
    let count = |lists: &[Bitmap]| {
        let mut counts = vec![0u16; room];
        for list in lists {
            for ordinal in list.ordinals() {
                counts[ordinal as usize] += 1;
            }
        }
        counts
    };
    let teach = count(seeker.teachers);
    let learn = match mode {
        Mode::Reciprocal => count(seeker.learners),
        Mode::Learn => Vec::new(),
    };
    let mut tiers: Vec<Tier> = Vec::new();
    for (ordinal, &taught) in teach.iter().enumerate() {
        let ordinal = ordinal as u64;
        if taught == 0 || seeker.ordinal == Some(ordinal) {
            continue;
        }
        let score = match mode {
            Mode::Reciprocal => match learn[ordinal as usize] {
                0 => continue,
                learnt => taught + learnt,
            },
            Mode::Learn => taught,
        };
        let score = i64::from(score);
        let same_country = seeker.compatriots.is_some_and(|c| c.contains(ordinal));
        match tiers
            .iter_mut()
            .find(|t| t.score == score && t.same_country == same_country)
        {
            Some(tier) => tier.ordinals.push(ordinal),
            None => tiers.push(Tier {
                score,
                same_country,
                ordinals: vec![ordinal],
            }),
        }
    }
    tiers.sort_by_key(|t| std::cmp::Reverse((t.score, t.same_country)));
    tiers
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    fn bitmap(ordinals: &BTreeSet<u64>) -> Bitmap {
        let mut b = Bitmap::default();
        for &o in ordinals {
            b.set(o, true);
        }
        b
    }

    #[test]
    fn set_clear_and_iterate() {
        let mut b = Bitmap::default();
        for o in [0, 7, 8, 63, 64, 65, 1000] {
            b.set(o, true);
        }
        b.set(64, false);
        b.set(5000, false);
        assert_eq!(
            b.ordinals().collect::<Vec<_>>(),
            vec![0, 7, 8, 63, 65, 1000]
        );
        assert!(b.contains(1000) && !b.contains(64) && !b.contains(99_999));
        b.set(1000, false);
        assert_eq!(b.into_bytes().len(), 9, "trailing zero bytes are dropped");
    }

    #[test]
    fn ranks_by_score_then_country() {
        // Ordinal 1 teaches two wanted skills and wants one of mine; 2 and 3
        // teach one and want one (3 is a compatriot); 4 only teaches.
        let teachers = [bitmap(&[1, 2, 4].into()), bitmap(&[1, 3].into())];
        let learners = [bitmap(&[1, 2, 3, 9].into())];
        let compatriots = bitmap(&[3, 4].into());
        let seeker = Seeker {
            ordinal: Some(9),
            teachers: &teachers,
            learners: &learners,
            compatriots: Some(&compatriots),
        };
        let tier = |score, same_country, ordinals: &[u64]| Tier {
            score,
            same_country,
            ordinals: ordinals.to_vec(),
        };
        assert_eq!(
            tiers(Mode::Reciprocal, &seeker),
            vec![
                tier(3, false, &[1]),
                tier(2, true, &[3]),
                tier(2, false, &[2])
            ]
        );
        assert_eq!(
            tiers(Mode::Learn, &seeker),
            vec![
                tier(2, false, &[1]),
                tier(1, true, &[3, 4]),
                tier(1, false, &[2])
            ]
        );
    }

    /// The naive definition: for every other ordinal, count the overlaps.
    fn naive(
        mode: Mode,
        me: u64,
        teachers: &[BTreeSet<u64>],
        learners: &[BTreeSet<u64>],
        compatriots: &BTreeSet<u64>,
    ) -> Vec<(i64, bool, u64)> {
        let mut out = Vec::new();
        for o in 0..200u64 {
            let taught = teachers.iter().filter(|s| s.contains(&o)).count() as i64;
            let learnt = learners.iter().filter(|s| s.contains(&o)).count() as i64;
            let ok = o != me && taught > 0 && (mode == Mode::Learn || learnt > 0);
            if ok {
                let score = if mode == Mode::Reciprocal {
                    taught + learnt
                } else {
                    taught
                };
                out.push((score, compatriots.contains(&o), o));
            }
        }
        out.sort_by(|a, b| (b.0, b.1, a.2).cmp(&(a.0, a.1, b.2)));
        out
    }

    proptest! {
        #[test]
        fn tiers_agree_with_the_definition(
            me in 0u64..200,
            teachers in prop::collection::vec(prop::collection::btree_set(0u64..200, 0..60), 0..6),
            learners in prop::collection::vec(prop::collection::btree_set(0u64..200, 0..60), 0..6),
            compatriots in prop::collection::btree_set(0u64..200, 0..100),
            reciprocal in any::<bool>(),
        ) {
            let mode = if reciprocal { Mode::Reciprocal } else { Mode::Learn };
            let t: Vec<Bitmap> = teachers.iter().map(bitmap).collect();
            let l: Vec<Bitmap> = learners.iter().map(bitmap).collect();
            let c = bitmap(&compatriots);
            let seeker = Seeker { ordinal: Some(me), teachers: &t, learners: &l, compatriots: Some(&c) };
            let flat: Vec<(i64, bool, u64)> = tiers(mode, &seeker)
                .into_iter()
                .flat_map(|t| t.ordinals.into_iter().map(move |o| (t.score, t.same_country, o)))
                .collect();
            prop_assert_eq!(flat, naive(mode, me, &teachers, &learners, &compatriots));
        }
    }
}
