//! Partner organisations: employers, the public employment agency, local authorities…

use crate::error::{DomainError, Fields, Invalid};
use crate::text::{Email, LongText, Name, Text, WebUrl};

crate::wire_enum! {
    /// What an organisation is, which decides nothing yet but is shown and filtered on.
    pub enum OrganisationKind {
        Employer = "employer",
        PublicAgency = "public_agency",
        LocalAuthority = "local_authority",
        University = "university",
        Club = "club",
        Other = "other",
    }
}

crate::wire_enum! {
    /// Whether an organisation goes on, or was merged into another (a club: frozen since).
    pub enum OrganisationStatus {
        Active = "active",
        Merged = "merged",
    }
}

/// The most people or sites an organisation may count.
pub const MAX_COUNT: i32 = 10_000_000;

/// A head count or a number of sites: 0 to [`MAX_COUNT`].
pub fn parse_count(raw: i64) -> Result<i32, Invalid> {
    i32::try_from(raw)
        .ok()
        .filter(|n| (0..=MAX_COUNT).contains(n))
        .ok_or_else(|| Invalid::new("out_of_range", format!("must be between 0 and {MAX_COUNT}")))
}

/// A business sector such as "banking" or "telecoms".
pub type Sector = Text<1, 60>;

/// At most this many sectors per organisation.
pub const MAX_SECTORS: usize = 20;

/// The sectors an organisation works in: trimmed, de-duplicated (case-insensitively), in the
/// order given.
pub fn parse_sectors(raw: &[String], fields: &mut Fields) -> Option<Vec<String>> {
    if raw.len() > MAX_SECTORS {
        fields.push(
            "sectors",
            Invalid::new("too_many", format!("at most {MAX_SECTORS} sectors")),
        );
        return None;
    }
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    let mut ok = true;
    for (i, s) in raw.iter().enumerate() {
        match fields.take(&format!("sectors[{i}]"), Sector::parse(s)) {
            Some(s) if !out.iter().any(|o| o.eq_ignore_ascii_case(s.as_str())) => out.push(s.into_inner()),
            Some(_) => {}
            None => ok = false,
        }
    }
    ok.then_some(out)
}

/// The fields of an organisation, all checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganisationFields {
    pub name: String,
    pub kind: OrganisationKind,
    pub sectors: Vec<String>,
    pub city: Option<String>,
    pub website: Option<String>,
    pub contact_email: Option<String>,
    pub description: Option<String>,
    /// Head count.
    pub employees: Option<i32>,
    /// Number of sites (customer-care centres…).
    pub centres: Option<i32>,
    pub founded_on: Option<chrono::NaiveDate>,
}

/// Organisation input as received, before any rule is applied.
#[derive(Debug, Clone, Default)]
pub struct OrganisationInput {
    pub name: String,
    pub kind: String,
    pub sectors: Vec<String>,
    pub city: Option<String>,
    pub website: Option<String>,
    pub contact_email: Option<String>,
    pub description: Option<String>,
    pub employees: Option<i64>,
    pub centres: Option<i64>,
    pub founded_on: Option<chrono::NaiveDate>,
}

impl OrganisationFields {
    /// Checks every field, reporting all failures at once.
    pub fn parse(input: OrganisationInput) -> Result<Self, DomainError> {
        let mut f = Fields::default();
        let name = f.take("name", Name::parse(&input.name));
        let kind = f.take("kind", OrganisationKind::parse(&input.kind));
        let sectors = parse_sectors(&input.sectors, &mut f);
        let city = f.take_opt("city", input.city.as_deref(), Name::parse);
        let website = f.take_opt("website", input.website.as_deref(), WebUrl::parse);
        let contact_email = f.take_opt("contact_email", input.contact_email.as_deref(), Email::parse);
        let description = f.take_opt("description", input.description.as_deref(), LongText::parse);
        let employees = f.take_opt("employees", input.employees, parse_count);
        let centres = f.take_opt("centres", input.centres, parse_count);
        f.finish(|| {
            Some(Self {
                name: name?.into_inner(),
                kind: kind?,
                sectors: sectors?,
                city: city?.map(Name::into_inner),
                website: website?.map(WebUrl::into_inner),
                contact_email: contact_email?.map(Email::into_inner),
                description: description?.map(LongText::into_inner).filter(|d| !d.is_empty()),
                employees: employees?,
                centres: centres?,
                founded_on: input.founded_on,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> OrganisationInput {
        OrganisationInput {
            name: "Banque de Lorraine".into(),
            kind: "employer".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_minimal_organisation_is_accepted() {
        let org = OrganisationFields::parse(input()).unwrap();
        assert_eq!(org.kind, OrganisationKind::Employer);
        assert!(org.sectors.is_empty());
    }

    #[test]
    fn every_bad_field_is_reported() {
        let err = OrganisationFields::parse(OrganisationInput {
            name: " ".into(),
            kind: "bank".into(),
            sectors: vec!["banking".into(), "".into()],
            website: Some("not a url".into()),
            contact_email: Some("nobody".into()),
            ..Default::default()
        })
        .unwrap_err();
        let DomainError::Invalid(errors) = err else {
            panic!("{err:?}")
        };
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "kind", "sectors[1]", "website", "contact_email"]);
    }

    #[test]
    fn sectors_are_deduplicated_in_order() {
        let org = OrganisationFields::parse(OrganisationInput {
            sectors: vec!["Banking".into(), " insurance ".into(), "banking".into()],
            ..input()
        })
        .unwrap();
        assert_eq!(org.sectors, ["Banking", "insurance"]);
    }

    #[test]
    fn head_counts_and_sites_are_not_negative() {
        let org = OrganisationFields::parse(OrganisationInput {
            employees: Some(6000),
            centres: Some(0),
            ..input()
        })
        .unwrap();
        assert_eq!((org.employees, org.centres), (Some(6000), Some(0)));
        let err = OrganisationFields::parse(OrganisationInput {
            employees: Some(-1),
            centres: Some(i64::from(MAX_COUNT) + 1),
            ..input()
        })
        .unwrap_err();
        let DomainError::Invalid(errors) = err else {
            panic!("{err:?}")
        };
        let fields: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code)).collect();
        assert_eq!(fields, [("employees", "out_of_range"), ("centres", "out_of_range")]);
    }

    #[test]
    fn kinds_round_trip() {
        for kind in OrganisationKind::ALL {
            assert_eq!(OrganisationKind::parse(kind.as_str()).unwrap(), kind);
        }
    }
}
