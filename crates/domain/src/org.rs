//! Organisations: exactly one side per organisation.

use crate::ids::OrgId;
use crate::values::Name;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which side of the work an organisation is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrgKind {
    /// The content owner ("internal").
    Studio,
    /// A dubbing / subtitling vendor ("external").
    Partner,
}

impl OrgKind {
    pub const ALL: [OrgKind; 2] = [OrgKind::Studio, OrgKind::Partner];

    pub fn as_str(&self) -> &'static str {
        match self {
            OrgKind::Studio => "studio",
            OrgKind::Partner => "partner",
        }
    }
}

impl fmt::Display for OrgKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrgKind {
    type Err = crate::values::ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "studio" => Ok(OrgKind::Studio),
            "partner" => Ok(OrgKind::Partner),
            other => Err(crate::values::ValueError::new(format!(
                "unknown organisation kind {other:?}: use \"studio\" or \"partner\""
            ))),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    pub id: OrgId,
    pub name: Name,
    pub kind: OrgKind,
}
