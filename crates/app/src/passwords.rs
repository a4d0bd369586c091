//! Password hashing (argon2id) on a fixed pool of threads, each reusing one working buffer.
//!
//! Why not simply `Argon2::hash_password` on Tokio's blocking pool: each call allocates 19 MiB of
//! 64-byte-aligned, zeroed memory, and glibc does not hand a freed aligned chunk of that size back
//! to the next aligned request. The process grew by 19 MiB per sign-in (measured: 12 MB → 285 MB
//! after 20 sign-ins). Here every hasher thread owns one buffer, so the memory kept is exactly
//! [`THREADS`] × the argon2 memory cost, whatever the number of sign-ins, and a flood of sign-ins
//! occupies these threads only, never the request workers.

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::RngCore;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::sync::oneshot;

/// Hasher threads: one per core of the reference machine.
const THREADS: usize = 2;
/// The most memory a stored hash may ask for (256 MiB), so a tampered hash cannot exhaust memory.
const MAX_BLOCKS: usize = 256 * 1024;
const SALT_LEN: usize = 16;

enum Job {
    Hash(String, oneshot::Sender<Result<String, String>>),
    Verify(String, String, oneshot::Sender<bool>),
}

fn pool() -> Option<&'static Sender<Job>> {
    static POOL: OnceLock<Option<Sender<Job>>> = OnceLock::new();
    POOL.get_or_init(|| {
        let (tx, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for n in 0..THREADS {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{n}"))
                .spawn(move || work(&rx))
                .ok()?;
        }
        Some(tx)
    })
    .as_ref()
}

fn work(jobs: &Mutex<Receiver<Job>>) {
    let mut blocks: Vec<Block> = Vec::new();
    loop {
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        match job {
            Ok(Job::Hash(plain, reply)) => {
                let _ = reply.send(hash_with(&mut blocks, &plain));
            }
            Ok(Job::Verify(plain, stored, reply)) => {
                let _ = reply.send(verify_with(&mut blocks, &plain, &stored).unwrap_or(false));
            }
            Err(_) => return,
        }
    }
}

fn compute(
    blocks: &mut Vec<Block>,
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
) -> Result<Vec<u8>, String> {
    let n = params.block_count();
    if n > MAX_BLOCKS {
        return Err(format!("argon2 memory cost of {n} KiB is above the limit"));
    }
    if blocks.len() < n {
        blocks.resize(n, Block::new());
    }
    let mut out = vec![0u8; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
    let memory = blocks.get_mut(..n).ok_or("argon2 buffer too small")?;
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt, &mut out, memory)
        .map_err(|e| e.to_string())?;
    Ok(out)
}

fn hash_with(blocks: &mut Vec<Block>, plain: &str) -> Result<String, String> {
    let mut salt = [0u8; SALT_LEN];
    rand::rng().fill_bytes(&mut salt);
    let params = Params::default();
    let out = compute(
        blocks,
        Algorithm::Argon2id,
        Version::V0x13,
        params.clone(),
        plain.as_bytes(),
        &salt,
    )?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| e.to_string())?,
        salt: Some(Salt::new(&salt).map_err(|e| e.to_string())?),
        hash: Some(Output::new(&out).map_err(|e| e.to_string())?),
    };
    Ok(phc.to_string())
}

fn verify_with(blocks: &mut Vec<Block>, plain: &str, stored: &str) -> Result<bool, String> {
    let phc = PasswordHash::new(stored).map_err(|e| e.to_string())?;
    let algorithm = Algorithm::try_from(phc.algorithm.as_str()).map_err(|e| e.to_string())?;
    let version = match phc.version {
        Some(v) => Version::try_from(v).map_err(|e| e.to_string())?,
        None => Version::default(),
    };
    let params = Params::try_from(&phc).map_err(|e| e.to_string())?;
    let (Some(salt), Some(expected)) = (&phc.salt, &phc.hash) else {
        return Ok(false);
    };
    let out = compute(
        blocks,
        algorithm,
        version,
        params,
        plain.as_bytes(),
        salt.as_ref(),
    )?;
    // `Output`'s equality is constant-time.
    Ok(Output::new(&out).map_err(|e| e.to_string())? == *expected)
}

/// Hashes a new password: argon2id, 19 MiB, 2 passes, 16-byte random salt, as a PHC string.
pub async fn hash(plain: &str) -> Result<String, String> {
    let pool = pool().ok_or("password hashing threads could not start")?;
    let (reply, answer) = oneshot::channel();
    pool.send(Job::Hash(plain.to_string(), reply))
        .map_err(|_| "password hashing threads stopped")?;
    answer
        .await
        .map_err(|_| "password hashing threads stopped")?
}

/// Whether `plain` matches the stored PHC string. Unreadable hashes never match.
pub async fn verify(plain: &str, stored: &str) -> bool {
    let Some(pool) = pool() else { return false };
    let (reply, answer) = oneshot::channel();
    if pool
        .send(Job::Verify(plain.to_string(), stored.to_string(), reply))
        .is_err()
    {
        return false;
    }
    answer.await.unwrap_or(false)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use argon2::PasswordVerifier;

    #[tokio::test]
    async fn hashes_verify_here_and_with_the_reference_implementation() {
        let h = hash("correct horse battery").await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery", &h).await);
        assert!(!verify("correct horse battery!", &h).await);
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", h.as_str())
                .is_ok()
        );
        // A hash made by the reference implementation verifies here too.
        let reference = argon2::PasswordHasher::hash_password(&Argon2::default(), b"s3cret phrase")
            .unwrap()
            .to_string();
        assert!(verify("s3cret phrase", &reference).await);
        assert!(!verify("x", "not a hash").await);
        assert!(!verify("x", "$argon2id$v=19$m=4194304,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$p5kRLbrUVbcxPVVMf8rb6C6wTBrt3HHgsiRw6pQGcbQ").await);
    }
}
