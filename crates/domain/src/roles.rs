//! Global roles. `portal_user` is the key to the portal; `manager` lets a studio user create and
//! edit projects and assignments; `admin` manages organisations and users; `author` and
//! `proofreader` are linguist roles that only open the task list.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    PortalUser,
    Manager,
    Admin,
    Author,
    Proofreader,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::PortalUser,
        Role::Manager,
        Role::Admin,
        Role::Author,
        Role::Proofreader,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            Role::PortalUser => "portal_user",
            Role::Manager => "manager",
            Role::Admin => "admin",
            Role::Author => "author",
            Role::Proofreader => "proofreader",
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Role::PortalUser => "may use the portal (required for every page but My tasks)",
            Role::Manager => "studio: creates and edits projects and partner assignments",
            Role::Admin => "studio: manages organisations, users and roles",
            Role::Author => "linguist: writes scripts assigned as tasks",
            Role::Proofreader => "linguist: proofreads scripts assigned as tasks",
        }
    }

    fn bit(&self) -> u8 {
        match self {
            Role::PortalUser => 1,
            Role::Manager => 2,
            Role::Admin => 4,
            Role::Author => 8,
            Role::Proofreader => 16,
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = crate::values::ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == wanted)
            .ok_or_else(|| {
                crate::values::ValueError::new(format!(
                    "unknown role {s:?}: the roles are {}",
                    Role::ALL.map(|r| r.as_str()).join(", ")
                ))
            })
    }
}

/// A set of roles, stored compactly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Roles(u8);

impl Roles {
    pub fn empty() -> Self {
        Self(0)
    }

    pub fn of(roles: &[Role]) -> Self {
        Self(roles.iter().fold(0, |acc, r| acc | r.bit()))
    }

    pub fn contains(&self, role: Role) -> bool {
        self.0 & role.bit() != 0
    }

    pub fn with(self, role: Role) -> Self {
        Self(self.0 | role.bit())
    }

    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        Role::ALL.into_iter().filter(|r| self.contains(*r))
    }

    pub fn to_vec(&self) -> Vec<Role> {
        self.iter().collect()
    }

    /// Comma-separated, for storage and display: `portal_user,manager`.
    pub fn to_csv(&self) -> String {
        self.iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn parse_csv(s: &str) -> Result<Self, crate::values::ValueError> {
        let mut out = Self::empty();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            out = out.with(part.parse()?);
        }
        Ok(out)
    }
}

impl Serialize for Roles {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_vec().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Roles {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Vec::<Role>::deserialize(d)?;
        Ok(Roles::of(&v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_round_trip() {
        let r = Roles::of(&[Role::Admin, Role::PortalUser]);
        assert_eq!(r.to_csv(), "portal_user,admin");
        assert_eq!(Roles::parse_csv("portal_user, admin"), Ok(r));
        assert!(Roles::parse_csv("portal_user,wizard").is_err());
        assert_eq!(Roles::parse_csv(""), Ok(Roles::empty()));
    }
}
