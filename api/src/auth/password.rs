//! Argon2id password hashing with the OWASP-recommended parameters set
//! explicitly (19 MiB memory, 2 iterations, 1 lane).
//!
//! The server hashes on its own threads, one per core ([`Passwords::run`]),
//! never on an async worker or the shared blocking pool: each hash holds
//! 19 MiB, and the allocator keeps such memory with the thread (arena)
//! that freed it. Spread over the blocking pool's threads, 200 sign-ins
//! left the process at 800 MB; confined to a few threads, a burst of
//! sign-ins queues instead and memory stays bounded by the number of cores.

use std::num::NonZeroUsize;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::ApiError;

/// Hashes and verifies on the calling thread.
#[derive(Clone)]
pub struct Hasher {
    argon2: Argon2<'static>,
    /// A hash of a random password, verified against when the account does
    /// not exist so that unknown e-mails take as long as wrong passwords.
    decoy: String,
}

impl Hasher {
    pub fn hash(&self, password: &str) -> Result<String, ApiError> {
        self.argon2
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(ApiError::internal)
    }

    /// Checks `password` against `stored` (or against the decoy when there
    /// is no account), always spending the same work.
    pub fn verify(&self, password: &str, stored: Option<&str>) -> bool {
        let ok = self
            .argon2
            .verify_password(password.as_bytes(), stored.unwrap_or(&self.decoy))
            .is_ok();
        ok && stored.is_some()
    }
}

type Job = Box<dyn FnOnce(&Hasher) + Send>;

pub struct Passwords {
    hasher: Hasher,
    jobs: Sender<Job>,
}

impl Passwords {
    /// The hasher and its worker threads, one per core.
    pub fn new() -> Result<Self, ApiError> {
        let params = Params::new(19 * 1024, 2, 1, None).map_err(ApiError::internal)?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let decoy = argon2
            .hash_password(crate::auth::new_refresh_token().as_bytes())
            .map_err(ApiError::internal)?
            .to_string();
        let hasher = Hasher { argon2, decoy };
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let workers = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        for n in 0..workers {
            let (queue, hasher) = (Arc::clone(&queue), hasher.clone());
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || work(&queue, &hasher))
                .map_err(ApiError::internal)?;
        }
        Ok(Self { hasher, jobs })
    }

    /// Hashes on the calling thread (command-line tools).
    pub fn hash(&self, password: &str) -> Result<String, ApiError> {
        self.hasher.hash(password)
    }

    /// Runs `job` on a hashing thread, waiting in line behind earlier ones.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&Hasher) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |hasher: &Hasher| {
                // The requester may have gone away; nothing to tell then.
                let _ = answer.send(job(hasher));
            }))
            .map_err(ApiError::internal)?;
        answered.await.map_err(ApiError::internal)
    }
}

/// A hashing thread: takes the next job until the server shuts down.
fn work(queue: &Mutex<Receiver<Job>>, hasher: &Hasher) {
    loop {
        let next = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        match next {
            Ok(job) => job(hasher),
            Err(_) => return,
        }
    }
}
