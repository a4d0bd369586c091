//! Tests of the SMTP sink (one test binary: linking dominates on small machines): a real client
//! (lettre) against it, and raw dialogues for the protocol corners lettre never reaches.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod client;
mod protocol;
mod raw;
