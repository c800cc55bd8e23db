//! Staff users and their roles.

use crate::error::Invalid;
use uuid::Uuid;

crate::wire_enum! {
    /// What a staff user may do: organisers run the campaign, partners act for one organisation.
    pub enum Role {
        Organiser = "organiser",
        Partner = "partner",
    }
}

/// The pair (role, organisation) a user is given: a partner always belongs to an
/// organisation; an organiser may (the club that runs the tour) or may not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Membership {
    role: Role,
    organisation_id: Option<Uuid>,
}

impl Membership {
    pub fn new(role: Role, organisation_id: Option<Uuid>) -> Result<Self, Invalid> {
        if role == Role::Partner && organisation_id.is_none() {
            return Err(Invalid::new(
                "required_for_partner",
                "a partner acts for an organisation: give its id",
            ));
        }
        Ok(Self { role, organisation_id })
    }

    pub fn role(self) -> Role {
        self.role
    }

    pub fn organisation_id(self) -> Option<Uuid> {
        self.organisation_id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partner_needs_an_organisation() {
        assert!(Membership::new(Role::Partner, None).is_err());
        assert!(Membership::new(Role::Partner, Some(Uuid::nil())).is_ok());
        assert!(Membership::new(Role::Organiser, None).is_ok());
        assert!(Membership::new(Role::Organiser, Some(Uuid::nil())).is_ok());
    }

    #[test]
    fn roles_round_trip() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()).unwrap(), role);
        }
        assert!(Role::parse("admin").is_err());
    }
}
