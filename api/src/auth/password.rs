//! Argon2id password hashing with the OWASP-recommended parameters set
//! explicitly (19 MiB memory, 2 iterations, 1 lane).
//!
//! The server hashes on its own threads, one per core ([`Passwords::run`]),
//! never on an async worker or the shared blocking pool, each with one
//! 19 MiB working area allocated once: memory stays at cores × 19 MiB
//! however many people sign in, and a burst of sign-ins queues.

use std::num::NonZeroUsize;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Arc, Mutex};

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::password_hash::try_generate_salt;
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};

use crate::error::ApiError;

/// Argon2id on the calling thread, with its 19 MiB of working memory
/// allocated once and reused by every hash (never freed and allocated
/// again, which is what lets the allocator hold on to freed copies).
#[derive(Clone)]
pub struct Hasher {
    argon2: Argon2<'static>,
    /// A hash of a random password, verified against when the account does
    /// not exist so that unknown e-mails take as long as wrong passwords.
    decoy: String,
    memory: Vec<Block>,
}

/// The PHC string output length (Argon2's default).
const OUTPUT_LEN: usize = 32;

impl Hasher {
    fn new() -> Result<Self, ApiError> {
        let params = Params::new(19 * 1024, 2, 1, Some(OUTPUT_LEN)).map_err(ApiError::internal)?;
        let mut hasher = Hasher {
            argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
            decoy: String::new(),
            memory: Vec::new(),
        };
        hasher.decoy = hasher.hash(&crate::auth::new_refresh_token())?;
        // Each worker allocates its own working area on its first hash;
        // the template they are cloned from carries none.
        hasher.memory = Vec::new();
        Ok(hasher)
    }

    /// Runs `argon2` (this hasher's or one a stored hash asks for) in the
    /// kept memory, growing it if those parameters need more.
    fn compute(
        &mut self,
        argon2: &Argon2<'_>,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> argon2::Result<()> {
        let blocks = argon2.params().block_count();
        if self.memory.len() < blocks {
            self.memory.resize(blocks, Block::default());
        }
        argon2.hash_password_into_with_memory(password, salt, out, &mut self.memory[..blocks])
    }

    /// A PHC string (`$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`).
    pub fn hash(&mut self, password: &str) -> Result<String, ApiError> {
        let salt = try_generate_salt().map_err(ApiError::internal)?;
        let mut out = [0u8; OUTPUT_LEN];
        let argon2 = self.argon2.clone();
        self.compute(&argon2, password.as_bytes(), &salt, &mut out)
            .map_err(ApiError::internal)?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(argon2.params()).map_err(ApiError::internal)?,
            salt: Some(Salt::new(&salt).map_err(ApiError::internal)?),
            hash: Some(Output::new(&out).map_err(ApiError::internal)?),
        };
        Ok(phc.to_string())
    }

    /// Checks `password` against `stored` (or against the decoy when there
    /// is no account), always spending the same work. The parameters come
    /// from the stored hash, so hashes made with other settings still verify.
    pub fn verify(&mut self, password: &str, stored: Option<&str>) -> bool {
        let decoy = self.decoy.clone();
        let matches = self.matches(password, stored.unwrap_or(&decoy));
        matches && stored.is_some()
    }

    fn matches(&mut self, password: &str, stored: &str) -> bool {
        let Ok(phc) = PasswordHash::new(stored) else {
            return false;
        };
        let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else {
            return false;
        };
        let algorithm = Algorithm::try_from(phc.algorithm.as_str());
        let version = phc
            .version
            .map_or(Ok(Version::default()), Version::try_from);
        let (Ok(algorithm), Ok(version), Ok(params)) = (algorithm, version, Params::try_from(&phc))
        else {
            return false;
        };
        let argon2 = Argon2::new(algorithm, version, params);
        let mut out = vec![0u8; expected.len()];
        self.compute(&argon2, password.as_bytes(), salt, &mut out)
            .is_ok()
            // `Output`'s equality is constant-time.
            && Output::new(&out).is_ok_and(|computed| &computed == expected)
    }
}

type Job = Box<dyn FnOnce(&mut Hasher) + Send>;

pub struct Passwords {
    hasher: Hasher,
    jobs: Sender<Job>,
}

impl Passwords {
    /// The hasher and its worker threads, one per core.
    pub fn new() -> Result<Self, ApiError> {
        let hasher = Hasher::new()?;
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let workers = std::thread::available_parallelism().map_or(1, NonZeroUsize::get);
        for n in 0..workers {
            let (queue, hasher) = (Arc::clone(&queue), hasher.clone());
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || work(&queue, hasher))
                .map_err(ApiError::internal)?;
        }
        Ok(Self { hasher, jobs })
    }

    /// Hashes on the calling thread (command-line tools).
    pub fn hash(&self, password: &str) -> Result<String, ApiError> {
        self.hasher.clone().hash(password)
    }

    /// Runs `job` on a hashing thread, waiting in line behind earlier ones.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Hasher) -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |hasher: &mut Hasher| {
                // The requester may have gone away; nothing to tell then.
                let _ = answer.send(job(hasher));
            }))
            .map_err(ApiError::internal)?;
        answered.await.map_err(ApiError::internal)
    }
}

/// A hashing thread: takes the next job until the server shuts down.
fn work(queue: &Mutex<Receiver<Job>>, mut hasher: Hasher) {
    loop {
        let next = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        match next {
            Ok(job) => job(&mut hasher),
            Err(_) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

    #[test]
    fn hashes_are_standard_phc_strings_both_ways() {
        let mut hasher = Hasher::new().expect("hasher");
        let ours = hasher.hash("correct horse").expect("hash");
        assert!(
            ours.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{ours}"
        );
        // The reference implementation accepts ours …
        let reference = hasher.argon2.clone();
        let parsed = PasswordHash::new(&ours).expect("phc");
        assert!(reference.verify_password(b"correct horse", &parsed).is_ok());
        assert!(reference.verify_password(b"wrong horse", &parsed).is_err());
        // … and we accept its hashes, also with other parameters.
        let cheaper = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 1, 1, None).expect("params"),
        );
        for argon2 in [reference, cheaper] {
            let theirs = argon2
                .hash_password(b"correct horse")
                .expect("hash")
                .to_string();
            assert!(hasher.verify("correct horse", Some(&theirs)));
            assert!(!hasher.verify("wrong horse", Some(&theirs)));
        }
    }

    #[test]
    fn no_account_and_broken_hashes_never_verify() {
        let mut hasher = Hasher::new().expect("hasher");
        assert!(!hasher.verify("anything", None));
        assert!(!hasher.verify("anything", Some("not a hash")));
        assert!(!hasher.verify(
            "anything",
            Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ")
        ));
    }
}
