//! The store's one test binary: every contract case on SQLite and on PostgreSQL, plus the guards
//! that keep the two backends' schemas in step.
//!
//! `cargo test -p store` runs everything; `-- sqlite::` or `-- postgres::` picks one backend.
//! Without PostgreSQL the `postgres::` tests say `SKIPPED (no PostgreSQL)`; with `CI=true` they
//! fail instead.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod contract;
mod events;
mod instances;
mod parity;
mod search_backfill;
mod search_indexes;
mod sqlite_open;
