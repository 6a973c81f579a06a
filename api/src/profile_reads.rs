//! Profile reads by id, gathered on each HTTP worker and sent together.
//!
//! A request that reads a profile in its first hop leaves the read (who is
//! signed in, which profile) with its worker and waits for the answer. The
//! first read to arrive starts a task, which runs once the worker has
//! served the requests that were ready with it (those the same poll of the
//! network woke), and sends every read waiting then as one batch
//! ([`users::standings_and_profiles`]) in one hop ([`AppState::db_read`]):
//! each reader's account standing and the profile it asked for. On
//! PostgreSQL a batch is one statement and one round trip, so under load
//! the database and the server do less per read the more reads there are;
//! a lone read goes alone, in a join of its own. Each request still gets
//! its own answer from its own row: the account check of the account it
//! speaks for, then the profile or 404.
//!
//! The reads wait per thread: an actix worker runs one app, so every read
//! waiting on a thread is for the same [`AppState`].

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};

use actix_web::web;
use persistence::users::{self, StandingAndProfile};
use tokio::sync::oneshot;

use crate::error::ApiError;
use crate::state::AppState;

/// The most reads one batch carries; more waiting go in the next.
const MOST_PER_BATCH: usize = 64;

/// How many batches have carried how many reads, for `/metrics`.
#[derive(Debug, Default)]
pub struct Gathered {
    batches: AtomicU64,
    reads: AtomicU64,
}

/// What [`Gathered`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GatheredCount {
    pub batches: u64,
    pub reads: u64,
}

impl Gathered {
    pub fn count(&self) -> GatheredCount {
        GatheredCount {
            batches: self.batches.load(Ordering::Relaxed),
            reads: self.reads.load(Ordering::Relaxed),
        }
    }

    fn record(&self, reads: usize) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        self.reads
            .fetch_add(u64::try_from(reads).unwrap_or(u64::MAX), Ordering::Relaxed);
    }
}

struct Read {
    viewer: String,
    id: String,
    answer: oneshot::Sender<Result<StandingAndProfile, ApiError>>,
}

#[derive(Default)]
struct Waiting {
    reads: Vec<Read>,
    /// A task is on its way to send `reads`.
    sending: bool,
}

thread_local! {
    static WAITING: RefCell<Waiting> = RefCell::default();
}

/// The standing of `viewer`'s account and the profile `id`, read together
/// with whatever other profile reads this worker has waiting.
pub async fn standing_and_profile(
    state: &web::Data<AppState>,
    viewer: String,
    id: String,
) -> Result<StandingAndProfile, ApiError> {
    let (answer, answered) = oneshot::channel();
    let start = WAITING.with_borrow_mut(|waiting| {
        waiting.reads.push(Read { viewer, id, answer });
        !std::mem::replace(&mut waiting.sending, true)
    });
    if start {
        actix_web::rt::spawn(send(state.clone()));
    }
    answered.await.map_err(ApiError::internal)?
}

/// Sends the reads waiting on this worker.
async fn send(state: web::Data<AppState>) {
    let (reads, more) = WAITING.with_borrow_mut(|waiting| {
        let n = waiting.reads.len().min(MOST_PER_BATCH);
        let reads: Vec<Read> = waiting.reads.drain(..n).collect();
        waiting.sending = !waiting.reads.is_empty();
        (reads, waiting.sending)
    });
    if more {
        actix_web::rt::spawn(send(state.clone()));
    }
    let (pairs, answers): (Vec<_>, Vec<_>) = reads
        .into_iter()
        .map(|read| ((read.viewer, read.id), read.answer))
        .unzip();
    state.profile_reads.record(pairs.len());
    let found = state
        .db_read(move |conn| Ok(users::standings_and_profiles(conn, &pairs)?))
        .await;
    match found {
        Ok(rows) => {
            for (answer, row) in answers.into_iter().zip(rows) {
                // A reader that went away (its client hung up) needs no answer.
                let _ = answer.send(Ok(row));
            }
        }
        Err(error) => {
            for answer in answers {
                let _ = answer.send(Err(error.clone()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::future::join_all;

    use super::*;

    /// Reads that arrive on one worker together go in one batch, at most
    /// [`MOST_PER_BATCH`] in each; a lone read goes alone; each gets its
    /// own row back.
    #[actix_web::test]
    async fn reads_waiting_together_go_in_one_batch() {
        let (state, dir) = crate::state::on_sqlite(2);
        persistence::run_migrations(&mut state.pool.get().expect("connection"))
            .expect("migrations");
        let state = web::Data::new(state);
        let read =
            |n: usize| standing_and_profile(&state, format!("reader-{n}"), format!("id-{n}"));

        let together = join_all((0..3).map(read)).await;
        assert_eq!(
            state.profile_reads.count(),
            GatheredCount {
                batches: 1,
                reads: 3
            }
        );
        for answer in together {
            assert!(matches!(answer, Ok((None, None))), "{answer:?}");
        }
        read(3).await.expect("a lone read");
        assert_eq!(
            state.profile_reads.count(),
            GatheredCount {
                batches: 2,
                reads: 4
            }
        );
        let many = join_all((0..MOST_PER_BATCH + 6).map(read)).await;
        assert!(many.iter().all(Result::is_ok));
        let count = state.profile_reads.count();
        assert_eq!(count.batches, 4, "{MOST_PER_BATCH} and the 6 after them");
        assert_eq!(count.reads, 4 + many.len() as u64);
        let _ = std::fs::remove_dir_all(dir);
    }
}
