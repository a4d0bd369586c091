//! Slowing down repeated failed sign-ins, per account and per client address.
//!
//! The first few failures cost nothing; after that each further failure doubles the wait before
//! the next attempt is even checked, up to a ceiling. The counters live in the database so that
//! several portal instances share them; this module only decides how long to wait.

use time::Duration;

/// Failures allowed before any delay is imposed.
pub const FREE_FAILURES: u32 = 5;
/// The longest wait ever imposed.
pub const MAX_DELAY: Duration = Duration::minutes(15);
/// Failures older than this are forgotten.
pub const WINDOW: Duration = Duration::hours(1);

/// Unknown API tokens one client address may present before it is slowed down. Higher than for
/// passwords: a script with a stale token retries, and a token (256 random bits) cannot be
/// guessed anyway; the limit stops a client hammering the database with made-up tokens.
pub const FREE_TOKEN_FAILURES: u32 = 20;

/// How long after the last failure the next attempt must wait, given the number of failures
/// recorded within [`WINDOW`].
pub fn delay_after(failures: u32) -> Duration {
    delay_after_free(FREE_FAILURES, failures)
}

/// The same, for unknown API tokens per address ([`FREE_TOKEN_FAILURES`]).
pub fn token_delay_after(failures: u32) -> Duration {
    delay_after_free(FREE_TOKEN_FAILURES, failures)
}

fn delay_after_free(free: u32, failures: u32) -> Duration {
    if failures < free {
        return Duration::ZERO;
    }
    let exponent = (failures - free).min(16);
    let secs = 1i64 << exponent;
    let d = Duration::seconds(secs);
    if d > MAX_DELAY { MAX_DELAY } else { d }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_then_cap() {
        assert_eq!(delay_after(0), Duration::ZERO);
        assert_eq!(delay_after(4), Duration::ZERO);
        assert_eq!(delay_after(5), Duration::seconds(1));
        assert_eq!(delay_after(6), Duration::seconds(2));
        assert_eq!(delay_after(10), Duration::seconds(32));
        assert_eq!(delay_after(40), MAX_DELAY);
        assert_eq!(delay_after(u32::MAX), MAX_DELAY);
        assert_eq!(token_delay_after(19), Duration::ZERO);
        assert_eq!(token_delay_after(20), Duration::seconds(1));
        assert_eq!(token_delay_after(23), Duration::seconds(8));
    }
}
