//! The web crate's one integration-test binary: the real server on 127.0.0.1:0, on SQLite and on
//! PostgreSQL, driven over HTTP (and by a real headless browser in `browser`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod attachments;
mod audio;
mod authz;
mod browser;
mod channels;
mod contract;
mod email;
mod flows;
mod guide;
mod harness;
mod leaks;
mod live;
mod mentions;
mod openapi;
mod policy_table;
mod requests;
mod search;
mod security;
mod storage;
