//! The demo campaign: "Un job au bout du fil", a published bus tour through five cities of
//! Lorraine on 19–23 October, with its partner organisations and a demo organiser.
//! Loading it twice leaves the same data: everything is looked up before it is created.

use crate::auth;
use crate::db::Db;
use crate::entities::{organisation, stop, tour};
use crate::error::{ApiError, ApiResult};
use crate::repo;
use chrono::{Datelike, NaiveDate, NaiveTime, TimeZone, Utc};
use jobtour_domain::organisation::{OrganisationFields, OrganisationInput};
use jobtour_domain::text::Password;
use jobtour_domain::tour::{StopFields, StopInput, TourFields, TourInput, TourStatus};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

pub const TOUR_NAME: &str = "Un job au bout du fil";
pub const ORGANISER_EMAIL: &str = "organiser@demo.jobtour.example";
pub const ORGANISER_PASSWORD: &str = "demo organiser password";

/// (name, kind, sectors, city, role in the tour)
const ORGANISATIONS: &[(&str, &str, &[&str], &str, &str)] = &[
    (
        "Club Relation Client Grand Est",
        "club",
        &["customer care"],
        "Nancy",
        "organiser",
    ),
    ("Crédit Mosellan", "employer", &["banking"], "Metz", "employer"),
    ("Assurances de l'Est", "employer", &["insurance"], "Nancy", "employer"),
    (
        "Lorraine Télécom Services",
        "employer",
        &["telecoms", "customer care"],
        "Metz",
        "employer",
    ),
    (
        "Vosges Logiciels Support",
        "employer",
        &["software", "customer care"],
        "Épinal",
        "employer",
    ),
    (
        "Agence publique pour l'emploi — Grand Est",
        "public_agency",
        &["employment"],
        "Nancy",
        "public_agency",
    ),
    (
        "Conseil départemental de Meurthe-et-Moselle",
        "local_authority",
        &[],
        "Nancy",
        "local_authority",
    ),
    (
        "Université de Lorraine",
        "university",
        &["education"],
        "Nancy",
        "university",
    ),
];

/// (city, postcode, venue, latitude, longitude)
const STOPS: &[(&str, &str, &str, f64, f64)] = &[
    ("Metz", "57000", "Place de la République", 49.1193, 6.1757),
    ("Nancy", "54000", "Place Stanislas", 48.6936, 6.1834),
    ("Toul", "54200", "Place des Trois Évêchés", 48.6750, 5.8917),
    ("Épinal", "88000", "Place des Vosges", 48.1724, 6.4496),
    ("Thionville", "57100", "Place du Marché", 49.3579, 6.1684),
];

/// What loading the demo did.
#[derive(Debug, Default)]
pub struct Report {
    pub created: Vec<String>,
    pub found: Vec<String>,
    pub tour_id: Option<Uuid>,
}

/// The next 19 October that has not begun yet.
pub fn demo_start(today: NaiveDate) -> NaiveDate {
    let this_year = NaiveDate::from_ymd_opt(today.year(), 10, 19).unwrap_or(today);
    if today < this_year {
        this_year
    } else {
        NaiveDate::from_ymd_opt(today.year() + 1, 10, 19).unwrap_or(today)
    }
}

/// Loads the demo campaign, in one transaction.
pub async fn load(db: &Db) -> ApiResult<Report> {
    let mut report = Report::default();
    let password = Password::parse(ORGANISER_PASSWORD).map_err(|e| ApiError::internal(e.message))?;
    let password_hash = auth::hash_password(password).await?;
    let tx = db.begin().await?;

    let mut organisations = Vec::new();
    for (name, kind, sectors, city, role) in ORGANISATIONS {
        let existing = organisation::Entity::find()
            .filter(organisation::Column::Name.eq(*name))
            .one(&tx)
            .await?;
        let org = match existing {
            Some(org) => {
                report.found.push(format!("organisation {name}"));
                org
            }
            None => {
                let fields = OrganisationFields::parse(OrganisationInput {
                    name: (*name).to_owned(),
                    kind: (*kind).to_owned(),
                    sectors: sectors.iter().map(|s| (*s).to_owned()).collect(),
                    city: Some((*city).to_owned()),
                    ..Default::default()
                })?;
                report.created.push(format!("organisation {name}"));
                repo::organisations::insert(&tx, fields).await?
            }
        };
        organisations.push((org, *role));
    }
    let club = organisations
        .first()
        .map(|(o, _)| o.id)
        .ok_or_else(|| ApiError::internal("no organiser"))?;

    if repo::users::find_by_email(&tx, ORGANISER_EMAIL).await?.is_some() {
        report.found.push(format!("user {ORGANISER_EMAIL}"));
    } else {
        repo::users::insert(
            &tx,
            repo::users::NewUser {
                email: ORGANISER_EMAIL.to_owned(),
                password_hash,
                role: "organiser".to_owned(),
                organisation_id: Some(club),
            },
        )
        .await?;
        report.created.push(format!("user {ORGANISER_EMAIL}"));
    }

    let starts_on = demo_start(Utc::now().date_naive());
    let tour = match tour::Entity::find()
        .filter(tour::Column::Name.eq(TOUR_NAME))
        .filter(tour::Column::StartsOn.eq(starts_on))
        .one(&tx)
        .await?
    {
        Some(t) => {
            report.found.push(format!("tour {TOUR_NAME} ({starts_on})"));
            t
        }
        None => {
            let fields = TourFields::parse(TourInput {
                name: TOUR_NAME.to_owned(),
                description: Some(
                    "Five cities in five days: a double-decker bus meets candidates for customer-care jobs \
                     in banking, insurance, telecoms and software."
                        .to_owned(),
                ),
                starts_on,
                ends_on: starts_on + chrono::Days::new(4),
                timezone: "Europe/Paris".to_owned(),
                positions_target: 500,
            })?;
            let created = repo::tours::insert(&tx, fields.clone(), club).await?;
            report.created.push(format!("tour {TOUR_NAME} ({starts_on})"));
            repo::tours::update(&tx, created.id, created.version, fields, club, TourStatus::Published)
                .await?
                .ok_or_else(|| ApiError::internal("the demo tour changed while loading"))?
        }
    };
    report.tour_id = Some(tour.id);
    load_stops(&tx, &tour, &mut report).await?;
    for (org, role) in &organisations {
        let (_, created) = repo::tours::put_partner(&tx, tour.id, org.id, Some(role)).await?;
        if created {
            report.created.push(format!("partner {} ({role})", org.name));
        }
    }
    tx.commit().await?;
    Ok(report)
}

async fn load_stops(tx: &impl ConnectionTrait, tour: &tour::Model, report: &mut Report) -> ApiResult<()> {
    let tz = crate::routes::stops::tour_zone(tour)?;
    let dates = jobtour_domain::tour::TourDates::new(tour.starts_on, tour.ends_on)
        .map_err(|e| ApiError::internal(e.message))?;
    let existing = repo::stops::all_for_tour(tx, tour.id).await?;
    for (day, (city, postcode, venue, lat, lon)) in STOPS.iter().enumerate() {
        if existing.iter().any(|s: &stop::Model| s.city == *city) {
            report.found.push(format!("stop {city}"));
            continue;
        }
        let date = tour.starts_on + chrono::Days::new(day as u64);
        let at = |h| {
            tz.from_local_datetime(&date.and_time(NaiveTime::from_hms_opt(h, 0, 0).unwrap_or(NaiveTime::MIN)))
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(|| ApiError::internal("no such local time"))
        };
        let fields = StopFields::parse(
            StopInput {
                city: (*city).to_owned(),
                postcode: Some((*postcode).to_owned()),
                venue: Some((*venue).to_owned()),
                address: None,
                latitude: *lat,
                longitude: *lon,
                arrives_at: at(9)?,
                departs_at: at(17)?,
                notes: Some("Job dating on the bus, 9:00–17:00. Bring a CV.".to_owned()),
            },
            dates,
            tz,
        )?;
        repo::stops::insert(tx, tour.id, fields).await?;
        report.created.push(format!("stop {city} ({date})"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_starts_on_the_next_19_october() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(demo_start(d(2026, 11, 22)), d(2027, 10, 19));
        assert_eq!(demo_start(d(2027, 3, 1)), d(2027, 10, 19));
        assert_eq!(demo_start(d(2027, 10, 19)), d(2028, 10, 19));
    }
}
