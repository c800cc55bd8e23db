//! Professional clubs: who may have members, who belongs on a given day, and what a merger of
//! clubs does to their members.

use crate::DomainError;
use crate::organisation::{OrganisationKind, OrganisationStatus};
use chrono::NaiveDate;
use std::collections::HashSet;
use uuid::Uuid;

/// What the rules need to know of an organisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Party {
    pub id: Uuid,
    pub kind: OrganisationKind,
    pub status: OrganisationStatus,
}

impl Party {
    /// A club that can still change: 409 `not_a_club` for any other kind, 409
    /// `organisation_merged` once it went into another.
    pub fn open_club(self) -> Result<Self, DomainError> {
        if self.kind != OrganisationKind::Club {
            return Err(DomainError::NotAClub { id: self.id });
        }
        self.unmerged()
    }

    /// An organisation that was not merged away (409 `organisation_merged` otherwise).
    pub fn unmerged(self) -> Result<Self, DomainError> {
        match self.status {
            OrganisationStatus::Merged => Err(DomainError::OrganisationMerged { id: self.id }),
            OrganisationStatus::Active => Ok(self),
        }
    }
}

/// Whether `member` may join `club`: the club takes members, neither was merged away, and a
/// club is not a member of itself.
pub fn may_join(club: Party, member: Party) -> Result<(), DomainError> {
    club.open_club()?;
    member.unmerged()?;
    if club.id == member.id {
        return Err(DomainError::OwnMember);
    }
    Ok(())
}

/// Whether a membership from `joined_on` until `left_on` (the first day it no longer holds)
/// holds on `day`.
pub fn member_on(joined_on: NaiveDate, left_on: Option<NaiveDate>, day: NaiveDate) -> bool {
    joined_on <= day && left_on.is_none_or(|left| day < left)
}

/// A merger checked: the clubs that go (`from`, at least two, each an open club) and the one
/// they go into (`into`, an open club, not one of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merger {
    pub from: Vec<Uuid>,
    pub into: Uuid,
}

impl Merger {
    pub fn check(from: &[Party], into: Party) -> Result<Self, DomainError> {
        let ids: HashSet<Uuid> = from.iter().map(|p| p.id).collect();
        if ids.len() < 2 || ids.len() != from.len() {
            return Err(DomainError::field(
                "from",
                crate::error::Invalid::new("too_short", "name at least two different clubs"),
            ));
        }
        if ids.contains(&into.id) {
            return Err(DomainError::MergeIntoItself { id: into.id });
        }
        for club in from {
            club.open_club()?;
        }
        into.open_club()?;
        Ok(Self {
            from: from.iter().map(|p| p.id).collect(),
            into: into.id,
        })
    }

    /// Who becomes a member of the club merged into: every current member of the clubs that
    /// go, once, in the order first met, but for the clubs of the merger themselves and those
    /// already members of it.
    pub fn newcomers(&self, current_members: &[Uuid], already: &HashSet<Uuid>) -> Vec<Uuid> {
        let mut seen: HashSet<Uuid> = already.clone();
        seen.insert(self.into);
        seen.extend(self.from.iter().copied());
        current_members.iter().copied().filter(|m| seen.insert(*m)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn party(kind: OrganisationKind, status: OrganisationStatus) -> Party {
        Party {
            id: Uuid::now_v7(),
            kind,
            status,
        }
    }

    fn club() -> Party {
        party(OrganisationKind::Club, OrganisationStatus::Active)
    }

    #[test]
    fn only_open_clubs_take_members_and_never_themselves() {
        let (c, employer) = (club(), party(OrganisationKind::Employer, OrganisationStatus::Active));
        assert_eq!(may_join(c, employer), Ok(()));
        assert_eq!(may_join(c, club()), Ok(()), "a club may belong to another");
        assert!(matches!(may_join(employer, c), Err(DomainError::NotAClub { .. })));
        assert_eq!(may_join(c, c), Err(DomainError::OwnMember));
        let merged = party(OrganisationKind::Club, OrganisationStatus::Merged);
        assert!(matches!(
            may_join(merged, employer),
            Err(DomainError::OrganisationMerged { .. })
        ));
        assert!(matches!(
            may_join(c, merged),
            Err(DomainError::OrganisationMerged { .. })
        ));
    }

    #[test]
    fn a_membership_holds_from_its_first_day_until_the_day_it_ends() {
        let d = |day| NaiveDate::from_ymd_opt(2016, 3, day).unwrap();
        assert!(!member_on(d(10), None, d(9)));
        assert!(member_on(d(10), None, d(10)));
        assert!(member_on(d(10), Some(d(30)), d(29)));
        assert!(!member_on(d(10), Some(d(30)), d(30)));
        assert!(!member_on(d(10), Some(d(10)), d(10)), "left the day it joined: never");
    }

    #[test]
    fn a_merger_needs_two_open_clubs_into_a_third() {
        let (a, b, c) = (club(), club(), club());
        assert!(Merger::check(&[a, b], c).is_ok());
        assert!(Merger::check(&[a], c).is_err());
        assert!(Merger::check(&[a, a], c).is_err());
        assert!(matches!(
            Merger::check(&[a, b], a),
            Err(DomainError::MergeIntoItself { .. })
        ));
        let employer = party(OrganisationKind::Employer, OrganisationStatus::Active);
        assert!(matches!(
            Merger::check(&[a, employer], c),
            Err(DomainError::NotAClub { .. })
        ));
        assert!(matches!(
            Merger::check(&[a, b], employer),
            Err(DomainError::NotAClub { .. })
        ));
        let merged = party(OrganisationKind::Club, OrganisationStatus::Merged);
        assert!(matches!(
            Merger::check(&[a, merged], c),
            Err(DomainError::OrganisationMerged { .. })
        ));
    }

    proptest! {
        /// Whatever the members of the clubs that go, each newcomer comes once, is none of the
        /// clubs of the merger nor an old member of the club, and no current member is left out.
        #[test]
        fn newcomers_come_once(picks in proptest::collection::vec(0usize..8, 0..40), old in proptest::collection::vec(0usize..8, 0..4)) {
            let pool: Vec<Uuid> = (0..8).map(|_| Uuid::now_v7()).collect();
            let (a, b, into) = (club(), club(), club());
            let merger = Merger::check(&[a, b], into).unwrap();
            let mut members: Vec<Uuid> = picks.iter().map(|i| pool[*i]).collect();
            members.push(a.id);
            let already: HashSet<Uuid> = old.iter().map(|i| pool[*i]).collect();
            let newcomers = merger.newcomers(&members, &already);
            let unique: HashSet<Uuid> = newcomers.iter().copied().collect();
            prop_assert_eq!(unique.len(), newcomers.len());
            prop_assert!(!unique.contains(&a.id) && !unique.contains(&into.id));
            prop_assert!(unique.is_disjoint(&already));
            for m in &members {
                prop_assert!(unique.contains(m) || already.contains(m) || *m == a.id);
            }
        }
    }
}
