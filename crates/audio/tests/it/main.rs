//! Integration tests of the audio checker (one test binary: linking dominates on small machines).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::alloc::System;

use cap::Cap;

/// Every allocation of this test binary counts against a hard cap, so a reader that allocated by
/// a declared (attacker-controlled) size would abort the run instead of passing quietly.
#[global_allocator]
static ALLOCATOR: Cap<System> = Cap::new(System, 768 << 20);

mod checks;
mod container;
mod fixture;
mod mutate;
mod qc;

/// Bytes currently allocated by the whole test process.
pub fn allocated() -> usize {
    ALLOCATOR.allocated()
}
