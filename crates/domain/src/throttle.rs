//! Slowing down repeated failed sign-ins without letting a stranger lock anyone out.
//!
//! A password guess is counted under three keys:
//! - the **pair** (account, client address): the first [`FREE_FAILURES`] cost nothing, then each
//!   further failure doubles the wait before the next attempt from that address is even checked;
//! - the **address**, whatever the account ([`FREE_ADDRESS_FAILURES`]): one address spraying many
//!   accounts is slowed down the same way;
//! - the **account**, whatever the address: it never refuses by itself. When an account has
//!   collected [`ACCOUNT_UNDER_ATTACK`] failures within the window, each address that has already
//!   failed on it gets a single free attempt instead of five. An address that has never failed on
//!   the account (the owner at the office, on a phone) is not slowed down at all, so nobody can
//!   lock an account from elsewhere.
//!
//! The counters live in the database so that several portal instances share them. An attempt is
//! *reserved* (counted as a failure) before its password is checked, under the same lock that
//! read the counts, so parallel guesses see each other; a correct password releases its
//! reservation. This module only decides.

use time::{Duration, OffsetDateTime};

/// Failures allowed per (account, address) before any delay is imposed.
pub const FREE_FAILURES: u32 = 5;
/// Failures allowed per address, across every account, before any delay is imposed. An office
/// behind one address has many people mistyping; a sprayer tries many accounts.
pub const FREE_ADDRESS_FAILURES: u32 = 20;
/// Failures on one account (from anywhere) from which its failing addresses lose their free
/// attempts.
pub const ACCOUNT_UNDER_ATTACK: u32 = 20;
/// The longest wait ever imposed.
pub const MAX_DELAY: Duration = Duration::minutes(15);
/// Failures older than this are forgotten.
pub const WINDOW: Duration = Duration::hours(1);

/// Unknown API tokens one client address may present before it is slowed down. Higher than for
/// passwords: a script with a stale token retries, and a token (256 random bits) cannot be
/// guessed anyway; the limit stops a client hammering the database with made-up tokens.
pub const FREE_TOKEN_FAILURES: u32 = 20;

/// Wrong "current password" answers one account may give when changing its password before it is
/// slowed down: a stolen session must not become a fast password oracle.
pub const FREE_PASSWORD_CHANGE_FAILURES: u32 = 5;

/// Failures recorded under one key within [`WINDOW`]: how many, and when the latest was.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    pub latest: Option<OffsetDateTime>,
}

impl Failures {
    pub fn new(count: u32, latest: Option<OffsetDateTime>) -> Self {
        Self { count, latest }
    }

    /// How long from `now` an attempt must still wait, with `free` failures allowed.
    fn wait(&self, free: u32, now: OffsetDateTime) -> Option<Duration> {
        let latest = self.latest?;
        let ready_at = latest + delay_after_free(free, self.count);
        (ready_at > now).then(|| ready_at - now)
    }
}

/// The keys a password attempt is counted under.
pub fn pair_key(email: &str, address: &str) -> String {
    format!("pair:{}|{address}", fold_email(email))
}
pub fn address_key(address: &str) -> String {
    format!("addr:{address}")
}
pub fn account_key(email: &str) -> String {
    format!("account:{}", fold_email(email))
}
/// The key unknown API tokens are counted under.
pub fn token_address_key(address: &str) -> String {
    format!("token-addr:{address}")
}
/// The key wrong current passwords are counted under.
pub fn password_change_key(user_id: &crate::UserId) -> String {
    format!("password-change:{user_id}")
}

fn fold_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Whether a password attempt may go ahead now, given the failures under its three keys;
/// `Some(wait)` refuses it for that long (the answer's `Retry-After`).
pub fn sign_in_wait(
    pair: Failures,
    address: Failures,
    account: Failures,
    now: OffsetDateTime,
) -> Option<Duration> {
    let pair_free = if account.count >= ACCOUNT_UNDER_ATTACK {
        1
    } else {
        FREE_FAILURES
    };
    [
        pair.wait(pair_free, now),
        address.wait(FREE_ADDRESS_FAILURES, now),
    ]
    .into_iter()
    .flatten()
    .max()
}

/// Whether another unknown API token from one address may be looked up now.
pub fn token_wait(address: Failures, now: OffsetDateTime) -> Option<Duration> {
    address.wait(FREE_TOKEN_FAILURES, now)
}

/// Whether another "current password" may be checked now for one account.
pub fn password_change_wait(account: Failures, now: OffsetDateTime) -> Option<Duration> {
    account.wait(FREE_PASSWORD_CHANGE_FAILURES, now)
}

/// A wait in whole seconds for `Retry-After`, never 0.
pub fn retry_after_secs(wait: Duration) -> i64 {
    let secs = wait.whole_seconds();
    if wait > Duration::seconds(secs) {
        secs + 1
    } else {
        secs.max(1)
    }
}

/// How long after the last failure the next attempt must wait, given the number of failures
/// recorded within [`WINDOW`], with `free` of them free.
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

    fn t(secs: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::seconds(1_000_000 + secs)
    }

    fn f(count: u32, latest: i64) -> Failures {
        Failures::new(count, (count > 0).then(|| t(latest)))
    }

    fn delay_after(failures: u32) -> Duration {
        delay_after_free(FREE_FAILURES, failures)
    }

    #[test]
    fn delays_grow_then_cap() {
        assert_eq!(delay_after(0), Duration::ZERO);
        assert_eq!(delay_after(4), Duration::ZERO);
        assert_eq!(delay_after(5), Duration::seconds(1));
        assert_eq!(delay_after(6), Duration::seconds(2));
        assert_eq!(delay_after(10), Duration::seconds(32));
        assert_eq!(delay_after(40), MAX_DELAY);
        assert_eq!(delay_after(u32::MAX), MAX_DELAY);
    }

    #[test]
    fn sign_in_waits_as_a_table() {
        let none = Failures::default();
        // (pair, address, account, now, expected wait in seconds)
        let cases: &[(Failures, Failures, Failures, i64, Option<i64>)] = &[
            // Nothing recorded: go.
            (none, none, none, 0, None),
            // Four failures from this address on this account: still free.
            (f(4, 0), f(4, 0), f(4, 0), 0, None),
            // The fifth failure makes the sixth attempt wait one second...
            (f(5, 0), f(5, 0), f(5, 0), 0, Some(1)),
            // ...which has passed a second later.
            (f(5, 0), f(5, 0), f(5, 0), 1, None),
            (f(8, 0), f(8, 0), f(8, 0), 3, Some(5)),
            // Another address, no failures of its own, while the account has 19 elsewhere: go.
            (none, none, f(19, 0), 0, None),
            // ...and with the account under attack (20 failures): a fresh address still goes.
            (none, none, f(400, 0), 0, None),
            // An address that failed once on an account under attack waits.
            (f(1, 0), f(1, 0), f(20, 0), 0, Some(1)),
            // The same address on a quiet account: free.
            (f(1, 0), f(1, 0), f(19, 0), 0, None),
            // Spraying: 20 failures from one address over many accounts, none on this one.
            (none, f(20, 0), none, 0, Some(1)),
            (none, f(19, 0), none, 0, None),
            // The longer of two waits wins.
            (f(10, 0), f(21, 0), none, 0, Some(32)),
            // Never longer than the ceiling.
            (f(1000, 0), f(1000, 0), f(1000, 0), 0, Some(900)),
        ];
        for (i, (pair, addr, account, now, expected)) in cases.iter().enumerate() {
            let got = sign_in_wait(*pair, *addr, *account, t(*now)).map(retry_after_secs);
            assert_eq!(got, *expected, "case {i}");
        }
    }

    #[test]
    fn token_and_password_change_waits() {
        assert_eq!(token_wait(f(19, 0), t(0)), None);
        assert_eq!(token_wait(f(20, 0), t(0)), Some(Duration::seconds(1)));
        assert_eq!(token_wait(f(23, 0), t(2)), Some(Duration::seconds(6)));
        assert_eq!(password_change_wait(f(4, 0), t(0)), None);
        assert_eq!(
            password_change_wait(f(5, 0), t(0)),
            Some(Duration::seconds(1))
        );
    }

    #[test]
    fn retry_after_rounds_up_and_is_never_zero() {
        assert_eq!(retry_after_secs(Duration::milliseconds(1)), 1);
        assert_eq!(retry_after_secs(Duration::milliseconds(1500)), 2);
        assert_eq!(retry_after_secs(Duration::seconds(3)), 3);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
    }

    #[test]
    fn keys_fold_the_address() {
        assert_eq!(
            pair_key(" Ana@Studio.com ", "192.0.2.1"),
            "pair:ana@studio.com|192.0.2.1"
        );
        assert_eq!(account_key("ANA@studio.com"), "account:ana@studio.com");
        assert_eq!(address_key("192.0.2.1"), "addr:192.0.2.1");
    }
}
