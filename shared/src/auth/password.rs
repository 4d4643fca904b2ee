//! argon2id with OWASP's minimum parameters (19 MiB, 2 iterations, 1 lane).
//!
//! Hashing runs on the blocking pool so it never stalls the async workers, and it is bounded
//! ([`Hasher`]): at most `HASH_CONCURRENCY` hashes run at once (default: the cores), at most
//! `HASH_QUEUE` more wait for a turn, and a caller beyond that gets a 503 with `Retry-After`.
//! Each running hash borrows its 19 MiB of memory blocks from a pool (never more sets than
//! turns) instead of allocating them afresh, so a flood of logins cannot grow the process.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{ApiError, ApiResult};

const M_COST_KIB: u32 = 19 * 1024;
const T_COST: u32 = 2;
const P_COST: u32 = 1;

/// Waiters allowed by the default hasher.
pub const DEFAULT_QUEUE: usize = 64;

fn params() -> ApiResult<Params> {
    Params::new(M_COST_KIB, T_COST, P_COST, None)
        .map_err(|err| ApiError::internal(format!("argon2 params: {err}")))
}

/// Bounded hashing: a semaphore of `concurrency` turns, at most `queue` waiters, and a pool of
/// memory block sets. Cheap to clone; one per process (`AppState::hasher`).
#[derive(Clone)]
pub struct Hasher {
    inner: Arc<Inner>,
}

struct Inner {
    size: usize,
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
    queue: usize,
    /// Memory block sets, kept for the next hash.
    blocks: Mutex<Vec<Vec<Block>>>,
}

/// Counts a waiter for as long as it waits.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Hasher {
    /// `concurrency` hashes at once (0: one per core), `queue` more waiting.
    pub fn new(concurrency: usize, queue: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let size = if concurrency == 0 { cores } else { concurrency }.max(1);
        Self {
            inner: Arc::new(Inner {
                size,
                permits: Arc::new(Semaphore::new(size)),
                waiting: AtomicUsize::new(0),
                queue,
                blocks: Mutex::new(Vec::new()),
            }),
        }
    }

    /// The process-wide hasher for callers without an `AppState` (fixtures, tools).
    pub fn shared_default() -> Self {
        static DEFAULT: OnceLock<Hasher> = OnceLock::new();
        DEFAULT
            .get_or_init(|| Hasher::new(0, DEFAULT_QUEUE))
            .clone()
    }

    /// A turn to hash, or a 503 (with `Retry-After`) when the queue is full.
    async fn turn(&self) -> ApiResult<OwnedSemaphorePermit> {
        let inner = &self.inner;
        if let Ok(permit) = Arc::clone(&inner.permits).try_acquire_owned() {
            return Ok(permit);
        }
        let before = inner.waiting.fetch_add(1, Ordering::AcqRel);
        let _waiting = Waiting(&inner.waiting);
        if before >= inner.queue {
            return Err(ApiError::Unavailable {
                detail: "password hashing queue is full".into(),
            });
        }
        Arc::clone(&inner.permits)
            .acquire_owned()
            .await
            .map_err(|err| ApiError::internal(format!("hash limiter: {err}")))
    }

    /// Runs `work` with a set of `count` memory blocks on the blocking pool, once a turn is free.
    async fn run<T: Send + 'static>(
        &self,
        count: usize,
        work: impl FnOnce(&mut [Block]) -> ApiResult<T> + Send + 'static,
    ) -> ApiResult<T> {
        let permit = self.turn().await?;
        let inner = Arc::clone(&self.inner);
        let result = tokio::task::spawn_blocking(move || {
            let pooled = inner
                .blocks
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pop()
                .filter(|blocks| blocks.len() == count);
            let mut blocks = pooled.unwrap_or_else(|| vec![Block::new(); count]);
            let result = work(&mut blocks);
            let mut pool = inner.blocks.lock().unwrap_or_else(|e| e.into_inner());
            // Never more sets than hashes may run at once.
            if pool.len() < inner.size {
                pool.push(blocks);
            }
            result
        })
        .await
        .map_err(|err| ApiError::internal(format!("hash task: {err}")))?;
        drop(permit);
        result
    }

    pub async fn hash(&self, password: String) -> ApiResult<String> {
        let count = params()?.block_count();
        self.run(count, move |blocks| hash_with(password.as_bytes(), blocks))
            .await
    }

    /// An empty stored hash (a social sign-in account that never set a password) matches
    /// nothing; the dummy check keeps its timing like a wrong password's.
    pub async fn verify(&self, password: String, stored_hash: String) -> ApiResult<bool> {
        if stored_hash.is_empty() {
            self.verify_against_dummy(password).await?;
            return Ok(false);
        }
        self.check(password, stored_hash).await
    }

    async fn check(&self, password: String, stored_hash: String) -> ApiResult<bool> {
        let stored = StoredHash::parse(&stored_hash)?;
        let count = stored.params.block_count();
        self.run(count, move |blocks| {
            stored.check(password.as_bytes(), blocks)
        })
        .await
    }

    /// Spends the same time as a real check when there is no user, so that the answer's timing
    /// does not tell which usernames exist. Answers the 503 of a full queue like a real check.
    pub async fn verify_against_dummy(&self, password: String) -> ApiResult<()> {
        static DUMMY: OnceLock<String> = OnceLock::new();
        let dummy = match DUMMY.get() {
            Some(hash) => hash.clone(),
            None => {
                let hash = self.hash("not-a-real-password".into()).await?;
                DUMMY.get_or_init(|| hash).clone()
            }
        };
        self.check(password, dummy).await.map(|_| ())
    }
}

fn hash_with(password: &[u8], blocks: &mut [Block]) -> ApiResult<String> {
    let params = params()?;
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_bytes = [0u8; 64];
    let salt_raw = salt
        .as_salt()
        .decode_b64(&mut salt_bytes)
        .map_err(|err| ApiError::internal(format!("salt: {err}")))?;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password, salt_raw, &mut out, blocks)
        .map_err(|err| ApiError::internal(format!("argon2 hash: {err}")))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params)
            .map_err(|err| ApiError::internal(format!("params: {err}")))?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(&out).map_err(|err| ApiError::internal(format!("output: {err}")))?),
    };
    Ok(phc.to_string())
}

/// A stored PHC string, parsed into what a check needs (owned: it travels to the blocking pool).
struct StoredHash {
    algorithm: Algorithm,
    version: Version,
    params: Params,
    salt: Vec<u8>,
    expected: Output,
}

impl StoredHash {
    fn parse(stored: &str) -> ApiResult<Self> {
        let unreadable = |err: String| ApiError::internal(format!("stored hash unreadable: {err}"));
        let parsed = PasswordHash::new(stored).map_err(|e| unreadable(e.to_string()))?;
        let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
            return Err(unreadable("no salt or hash".into()));
        };
        let algorithm =
            Algorithm::try_from(parsed.algorithm).map_err(|e| unreadable(e.to_string()))?;
        let version = parsed
            .version
            .map(Version::try_from)
            .transpose()
            .map_err(|e| unreadable(e.to_string()))?
            .unwrap_or_default();
        let params = Params::try_from(&parsed).map_err(|e| unreadable(e.to_string()))?;
        // Stored hashes are ours; one with a far larger cost is refused rather than run.
        if params.m_cost() > M_COST_KIB * 4 || params.t_cost() > 16 || params.p_cost() > 4 {
            return Err(unreadable("parameters beyond the limits".into()));
        }
        let mut salt_bytes = [0u8; 64];
        let salt = salt
            .decode_b64(&mut salt_bytes)
            .map_err(|e| unreadable(e.to_string()))?
            .to_vec();
        Ok(Self {
            algorithm,
            version,
            params,
            salt,
            expected,
        })
    }

    fn check(&self, password: &[u8], blocks: &mut [Block]) -> ApiResult<bool> {
        let failed = |err: String| ApiError::internal(format!("argon2 verify: {err}"));
        let mut out = [0u8; Output::MAX_LENGTH];
        let out = out
            .get_mut(..self.expected.len())
            .ok_or_else(|| failed("hash length".into()))?;
        Argon2::new(self.algorithm, self.version, self.params.clone())
            .hash_password_into_with_memory(password, &self.salt, out, blocks)
            .map_err(|e| failed(e.to_string()))?;
        let computed = Output::new(out).map_err(|e| failed(e.to_string()))?;
        // `Output`'s equality is constant-time.
        Ok(computed == self.expected)
    }
}

/// Hashes with the process-wide default hasher (fixtures and tools; requests use the state's).
pub async fn hash(password: String) -> ApiResult<String> {
    Hasher::shared_default().hash(password).await
}

/// Verifies with the process-wide default hasher.
pub async fn verify(password: String, stored_hash: String) -> ApiResult<bool> {
    Hasher::shared_default().verify(password, stored_hash).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_verify_and_use_argon2id() {
        let hashed = hash("correct horse".into()).await.expect("hash");
        assert!(hashed.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse".into(), hashed.clone())
            .await
            .expect("verify"));
        assert!(!verify("wrong horse".into(), hashed).await.expect("verify"));
    }

    #[tokio::test]
    async fn hashes_interoperate_with_the_argon2_crate() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let ours = hash("pw".into()).await.expect("hash");
        let parsed = PasswordHash::new(&ours).expect("phc");
        assert!(Argon2::default().verify_password(b"pw", &parsed).is_ok());
        let theirs = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            params().expect("params"),
        )
        .hash_password(b"pw", &SaltString::generate(&mut OsRng))
        .expect("hash")
        .to_string();
        assert!(verify("pw".into(), theirs.clone()).await.expect("verify"));
        assert!(!verify("px".into(), theirs).await.expect("verify"));
        assert!(verify("pw".into(), "not a hash".into()).await.is_err());
    }

    #[tokio::test]
    async fn a_full_queue_is_a_503_and_blocks_are_reused() {
        let hasher = Hasher::new(1, 0);
        let hashed = hasher.hash("a".into()).await.expect("hash");
        let answers = futures_util::future::join_all(
            (0..6).map(|_| hasher.verify("a".into(), hashed.clone())),
        )
        .await;
        assert!(answers.iter().any(|a| matches!(a, Ok(true))));
        assert!(answers
            .iter()
            .any(|a| matches!(a, Err(ApiError::Unavailable { .. }))));
        let pooled = hasher.inner.blocks.lock().map(|p| p.len()).unwrap_or(9);
        assert_eq!(pooled, 1, "one turn, one set of blocks");
    }

    #[tokio::test]
    async fn an_account_without_a_password_matches_nothing() {
        assert!(!verify("".into(), String::new()).await.expect("verify"));
        assert!(!verify("anything".into(), String::new())
            .await
            .expect("verify"));
    }
}
