//! Enquiries to the development agency from companies ("Setting up? Developing? Our policy
//! officers are here to help"): what the form takes, and the organisers' workflow.

use crate::application::{Message, PersonName};
use crate::error::{DomainError, Fields, Invalid};
use crate::text::{Email, Name, Phone};

crate::wire_enum! {
    /// What the enquiry is about.
    pub enum EnquirySubject {
        SettingUp = "setting_up",
        Developing = "developing",
        Recruiting = "recruiting",
        Partnership = "partnership",
        Other = "other",
    }
}

crate::wire_enum! {
    /// Where an enquiry stands: `new → in_progress → answered → closed`.
    pub enum EnquiryStatus {
        New = "new",
        InProgress = "in_progress",
        Answered = "answered",
        Closed = "closed",
    }
}

impl EnquiryStatus {
    /// The next step, if any.
    pub fn next(self) -> &'static [Self] {
        match self {
            Self::New => &[Self::InProgress],
            Self::InProgress => &[Self::Answered],
            Self::Answered => &[Self::Closed],
            Self::Closed => &[],
        }
    }

    /// One step along the workflow (staying put is allowed); 409 `invalid_transition` with
    /// what is allowed otherwise.
    pub fn transition(self, to: Self) -> Result<Self, DomainError> {
        crate::transition(self, to, self.next(), Self::as_str)
    }
}

/// An enquiry as the form sends it.
#[derive(Debug, Clone, Default)]
pub struct EnquiryInput {
    pub name: String,
    pub email: String,
    pub company: String,
    pub phone: Option<String>,
    pub subject: String,
    pub message: String,
    pub consent: bool,
}

/// An enquiry's fields, all checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnquiryFields {
    pub name: String,
    /// Lower-cased.
    pub email: String,
    pub company: String,
    /// E.164.
    pub phone: Option<String>,
    pub subject: EnquirySubject,
    pub message: String,
}

impl EnquiryFields {
    /// Checks every field, reporting all failures at once; consent to the privacy notice must
    /// be given.
    pub fn parse(input: EnquiryInput) -> Result<Self, DomainError> {
        let mut f = Fields::default();
        let name = f.take("name", PersonName::parse(&input.name));
        let email = f.take("email", Email::parse(&input.email));
        let company = f.take("company", Name::parse(&input.company));
        let phone = f.take_opt("phone", input.phone.as_deref(), Phone::parse);
        let subject = f.take("subject", EnquirySubject::parse(&input.subject));
        let message = f.take("message", Message::parse(&input.message));
        if !input.consent {
            f.push(
                "consent",
                Invalid::new(
                    "consent_required",
                    "must be true: the enquirer agrees to the privacy notice",
                ),
            );
        }
        f.finish(|| {
            Some(Self {
                name: name?.into_inner(),
                email: email?.into_inner(),
                company: company?.into_inner(),
                phone: phone?.map(Phone::into_inner),
                subject: subject?,
                message: message?.into_inner(),
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> EnquiryInput {
        EnquiryInput {
            name: "Claire Martin".into(),
            email: "Claire.Martin@Example.org".into(),
            company: "Martin Relation Client SAS".into(),
            phone: Some("03 87 12 34 56".into()),
            subject: "setting_up".into(),
            message: "Nous envisageons un centre de 50 postes à Metz.".into(),
            consent: true,
        }
    }

    #[test]
    fn a_complete_enquiry_is_normalised() {
        let e = EnquiryFields::parse(input()).unwrap();
        assert_eq!(e.email, "claire.martin@example.org");
        assert_eq!(e.phone.as_deref(), Some("+33387123456"));
        assert_eq!(e.subject, EnquirySubject::SettingUp);
    }

    #[test]
    fn every_bad_field_and_missing_consent_are_reported() {
        let err = EnquiryFields::parse(EnquiryInput {
            name: "".into(),
            email: "nobody".into(),
            company: " ".into(),
            phone: Some("12".into()),
            subject: "lunch".into(),
            consent: false,
            ..input()
        })
        .unwrap_err();
        let DomainError::Invalid(errors) = err else {
            panic!("{err:?}")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "email", "company", "phone", "subject", "consent"]);
    }

    #[test]
    fn the_workflow_goes_one_step_at_a_time() {
        use EnquiryStatus::*;
        assert_eq!(New.transition(InProgress), Ok(InProgress));
        assert_eq!(InProgress.transition(InProgress), Ok(InProgress));
        assert!(New.transition(Answered).is_err());
        assert!(Answered.transition(New).is_err());
        assert_eq!(Answered.transition(Closed), Ok(Closed));
        assert!(Closed.transition(New).is_err());
    }
}
