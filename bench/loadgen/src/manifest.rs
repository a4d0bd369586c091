//! What `seed` leaves next to the database for `run`: ids, API tokens, and who may read or post
//! in each channel. With it the driver needs neither database access nor policy code of its own,
//! so it measures exactly what an API client sees and works the same on both backends.
//!
//! Access is recorded per *group* of users rather than per user: everyone of one organisation
//! with the same App Settings reads and posts in exactly the same channels (all seeded users are
//! `portal_user` and work on all of their organisation's languages), so 22 groups describe what
//! 5,000 users may do. `seed` computes the groups' rights with `domain::authorize` itself.

use anyhow::Context;
use serde::{Deserialize, Serialize};
use std::path::Path;
use uuid::Uuid;

pub const FILE_NAME: &str = "manifest.json";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Manifest {
    /// The database this describes (password removed), for the report.
    pub database: String,
    pub groups: Vec<Group>,
    pub users: Vec<User>,
    pub projects: Vec<Project>,
    pub channels: Vec<Channel>,
    /// The studio user who follows 200 projects (the My Projects target).
    pub bench_user: u32,
    /// How long each seeding step took.
    pub seed_timings: Vec<(String, f64)>,
}

/// Users who read and post in exactly the same channels.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Group {
    pub organisation: String,
    pub studio: bool,
    pub internal_messages: bool,
    /// Indexes into `Manifest::users`.
    pub members: Vec<u32>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    /// A bearer API token (`lpt_…`) created for this benchmark.
    pub token: String,
    pub group: u32,
    /// Indexes into `Manifest::projects`.
    pub follows: Vec<u32>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Project {
    pub id: Uuid,
    pub name: String,
    /// Indexes into `Manifest::channels`.
    pub channels: Vec<u32>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Channel {
    pub id: Uuid,
    pub project: u32,
    /// `broadcast`, `vendor` or `internal`.
    pub kind: String,
    pub language: Option<String>,
    /// Messages seeded into it (its `last_seq` after seeding).
    pub seeded_messages: u32,
    /// Groups that may read it (and so receive its events).
    pub readers: Vec<u32>,
    /// Groups that may post in it.
    pub posters: Vec<u32>,
}

impl Manifest {
    pub fn load(path: &Path) -> anyhow::Result<Manifest> {
        let file = std::fs::File::open(path)
            .with_context(|| format!("opening {} (run `loadgen seed` first)", path.display()))?;
        serde_json::from_reader(std::io::BufReader::new(file))
            .with_context(|| format!("reading {}", path.display()))
    }

    pub fn save(&self, path: &Path) -> anyhow::Result<()> {
        let file =
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        serde_json::to_writer(std::io::BufWriter::new(file), self)
            .with_context(|| format!("writing {}", path.display()))
    }
}
