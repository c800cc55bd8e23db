//! Applications: a candidate applies to a position from a phone, without an account, and the
//! employer moves the application through its hiring pipeline.

use crate::error::{DomainError, Fields, Invalid};
use crate::text::{Email, Phone, Text};
use uuid::Uuid;

crate::wire_enum! {
    /// Where an application stands. `withdrawn` is the candidate's word; the rest is staff's.
    pub enum ApplicationStatus {
        Submitted = "submitted",
        Screening = "screening",
        Interview = "interview",
        Offered = "offered",
        Hired = "hired",
        Rejected = "rejected",
        Withdrawn = "withdrawn",
    }
}

/// Who moves an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mover {
    Staff,
    Candidate,
}

impl ApplicationStatus {
    /// Still in the pipeline: neither hired, rejected nor withdrawn.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            Self::Submitted | Self::Screening | Self::Interview | Self::Offered
        )
    }

    /// Where `who` may move it from here: staff one step along the pipeline or to `rejected`;
    /// the candidate only to `withdrawn`; nobody out of a final state.
    pub fn next(self, who: Mover) -> &'static [Self] {
        match (who, self) {
            (Mover::Staff, Self::Submitted) => &[Self::Screening, Self::Rejected],
            (Mover::Staff, Self::Screening) => &[Self::Interview, Self::Rejected],
            (Mover::Staff, Self::Interview) => &[Self::Offered, Self::Rejected],
            (Mover::Staff, Self::Offered) => &[Self::Hired, Self::Rejected],
            (Mover::Candidate, s) if s.is_active() => &[Self::Withdrawn],
            _ => &[],
        }
    }

    /// A move asked for by `who`: along [`ApplicationStatus::next`], or staying put.
    pub fn transition(self, to: Self, who: Mover) -> Result<Self, DomainError> {
        crate::transition(self, to, self.next(who), Self::as_str)
    }
}

/// A person's first or last name.
pub type PersonName = Text<1, 100>;
/// The candidate's message to the employer.
pub type Message = Text<0, 5_000>;
/// A staff note on a status change.
pub type Note = Text<0, 2_000>;

/// An application as received.
#[derive(Debug, Clone, Default)]
pub struct ApplicationInput {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub message: Option<String>,
    pub preferred_stop_id: Option<Uuid>,
    pub consent: bool,
}

/// An application's fields, all checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationFields {
    pub first_name: String,
    pub last_name: String,
    /// Lower-cased: one application per e-mail per position, whatever the case.
    pub email: String,
    /// E.164.
    pub phone: Option<String>,
    pub message: Option<String>,
    pub preferred_stop_id: Option<Uuid>,
}

impl ApplicationFields {
    /// Checks every field, reporting all failures at once. `position_stops` are the stops where
    /// the employer meets candidates: the only ones a candidate may prefer. Consent to the
    /// privacy notice must be given.
    pub fn parse(input: ApplicationInput, position_stops: &[Uuid]) -> Result<Self, DomainError> {
        let mut f = Fields::default();
        let first_name = f.take("first_name", PersonName::parse(&input.first_name));
        let last_name = f.take("last_name", PersonName::parse(&input.last_name));
        let email = f.take("email", Email::parse(&input.email));
        let phone = f.take_opt("phone", input.phone.as_deref(), Phone::parse);
        let message = f.take_opt("message", input.message.as_deref(), Message::parse);
        let preferred_stop_id = f.take_opt("preferred_stop_id", input.preferred_stop_id, |id| {
            if position_stops.contains(&id) {
                Ok(id)
            } else {
                Err(Invalid::new(
                    "not_a_stop_of_the_position",
                    "must be one of the stops where the employer meets candidates",
                ))
            }
        });
        if !input.consent {
            f.push(
                "consent",
                Invalid::new(
                    "consent_required",
                    "must be true: the candidate agrees to the privacy notice",
                ),
            );
        }
        f.finish(|| {
            Some(Self {
                first_name: first_name?.into_inner(),
                last_name: last_name?.into_inner(),
                email: email?.into_inner(),
                phone: phone?.map(Phone::into_inner),
                message: message?.map(Message::into_inner).filter(|m| !m.is_empty()),
                preferred_stop_id: preferred_stop_id?,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ApplicationStatus::*;

    fn input() -> ApplicationInput {
        ApplicationInput {
            first_name: "Camille".into(),
            last_name: "Durand".into(),
            email: "Camille.Durand@Example.org".into(),
            consent: true,
            ..Default::default()
        }
    }

    #[test]
    fn an_application_is_normalised() {
        let stop = Uuid::now_v7();
        let a = ApplicationFields::parse(
            ApplicationInput {
                phone: Some("06 12 34 56 78".into()),
                message: Some("  ".into()),
                preferred_stop_id: Some(stop),
                ..input()
            },
            &[stop],
        )
        .unwrap();
        assert_eq!(a.email, "camille.durand@example.org");
        assert_eq!(a.phone.as_deref(), Some("+33612345678"));
        assert_eq!(a.message, None);
        assert_eq!(a.preferred_stop_id, Some(stop));
    }

    #[test]
    fn consent_and_the_stop_are_checked_with_the_rest() {
        let err = ApplicationFields::parse(
            ApplicationInput {
                first_name: "".into(),
                email: "nobody".into(),
                phone: Some("12".into()),
                preferred_stop_id: Some(Uuid::now_v7()),
                consent: false,
                ..input()
            },
            &[Uuid::now_v7()],
        )
        .unwrap_err();
        let DomainError::Invalid(errors) = err else {
            panic!("{err:?}")
        };
        let got: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(
            got,
            [
                ("first_name", "blank"),
                ("email", "invalid_email"),
                ("phone", "invalid_phone"),
                ("preferred_stop_id", "not_a_stop_of_the_position"),
                ("consent", "consent_required"),
            ]
        );
    }

    #[test]
    fn staff_move_one_step_or_reject() {
        assert_eq!(Submitted.transition(Screening, Mover::Staff), Ok(Screening));
        assert_eq!(Offered.transition(Hired, Mover::Staff), Ok(Hired));
        assert_eq!(Interview.transition(Rejected, Mover::Staff), Ok(Rejected));
        assert_eq!(
            Submitted.transition(Hired, Mover::Staff),
            Err(DomainError::InvalidTransition {
                from: "submitted",
                to: "hired",
                allowed: vec!["screening", "rejected"]
            })
        );
        assert!(
            Submitted.transition(Withdrawn, Mover::Staff).is_err(),
            "only the candidate withdraws"
        );
        assert!(Hired.transition(Rejected, Mover::Staff).is_err());
        assert!(Rejected.transition(Screening, Mover::Staff).is_err());
    }

    #[test]
    fn candidates_only_withdraw_while_active() {
        for s in [Submitted, Screening, Interview, Offered] {
            assert_eq!(s.transition(Withdrawn, Mover::Candidate), Ok(Withdrawn));
            assert!(s.transition(Screening, Mover::Candidate).is_err() || s == Screening);
        }
        for s in [Hired, Rejected] {
            assert!(s.transition(Withdrawn, Mover::Candidate).is_err());
        }
        assert_eq!(Withdrawn.transition(Withdrawn, Mover::Candidate), Ok(Withdrawn));
    }

    #[test]
    fn every_state_lists_only_real_moves() {
        for from in ApplicationStatus::ALL {
            for who in [Mover::Staff, Mover::Candidate] {
                for to in from.next(who) {
                    assert_ne!(*to, from);
                    assert!(from.is_active(), "{from:?} is final");
                }
            }
        }
    }
}
