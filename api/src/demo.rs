//! The demo campaign: "Un job au bout du fil", a published bus tour through five cities of
//! Lorraine on 19–23 October, with its partner organisations and a demo organiser.
//! Loading it twice leaves the same data: everything is looked up before it is created.

use crate::auth;
use crate::db::Db;
use crate::entities::{organisation, stop, tour};
use crate::error::{ApiError, ApiResult};
use crate::repo;
use chrono::{Datelike, NaiveDate, NaiveTime, TimeZone, Utc};
use jobtour_domain::application::{ApplicationFields, ApplicationInput, ApplicationStatus};
use jobtour_domain::organisation::{OrganisationFields, OrganisationInput};
use jobtour_domain::position::{PositionFields, PositionInput, PositionStatus, Staffing};
use jobtour_domain::slot::{Capacity, grid};
use jobtour_domain::text::Password;
use jobtour_domain::tour::{StopFields, StopInput, TourFields, TourInput, TourStatus, end_of_day};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

pub mod scale;

pub const TOUR_NAME: &str = "Un job au bout du fil";
pub const ORGANISER_EMAIL: &str = "organiser@demo.jobtour.example";
pub const ORGANISER_PASSWORD: &str = "demo organiser password";

/// (name, kind, sectors, city, role in the tour)
const ORGANISATIONS: &[(&str, &str, &[&str], &str, &str)] = &[
    (
        "Lorraine Contact Client",
        "club",
        &["customer care"],
        "Metz",
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

/// The professional clubs of the region's customer-care centres before they merged into
/// Lorraine Contact Client (L2C) on 30 March 2016: (name, city, founded on).
const CLUBS: &[(&str, &str, (i32, u32, u32))] = &[("Viatis", "Metz", (2005, 1, 1)), ("Connect", "Nancy", (2008, 1, 1))];

/// A member centre of the clubs.
struct Centre {
    name: &'static str,
    city: &'static str,
    employees: i32,
    centres: i32,
    /// Indexes into `CLUBS`.
    clubs: &'static [usize],
    joined_in: i32,
}

const fn centre(
    name: &'static str,
    city: &'static str,
    employees: i32,
    centres: i32,
    clubs: &'static [usize],
    joined_in: i32,
) -> Centre {
    Centre {
        name,
        city,
        employees,
        centres,
        clubs,
        joined_in,
    }
}

/// The clubs' member centres. The demo's employers are among them; Crédit Mosellan belonged to
/// both clubs.
const CENTRES: &[Centre] = &[
    centre("Sage Metz", "Metz", 450, 1, &[0], 2005),
    centre("Arvato Metz", "Metz", 1200, 2, &[0], 2006),
    centre("Crédit Mosellan", "Metz", 380, 2, &[0, 1], 2009),
    centre("Lorraine Télécom Services", "Metz", 650, 3, &[0], 2007),
    centre("Aticall Nancy", "Nancy", 300, 1, &[1], 2008),
    centre("Assurances de l'Est", "Nancy", 520, 2, &[1], 2010),
    centre("Vosges Logiciels Support", "Épinal", 150, 1, &[1], 2012),
];

/// Companies that wrote to the development agency: (name, e-mail, company, subject, message).
const ENQUIRIES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "Claire Martin",
        "claire.martin@demo.jobtour.example",
        "Martin Relation Client SAS",
        "setting_up",
        "Nous envisageons d'ouvrir un centre de 50 conseillers à Metz en 2027 : quelles aides ?",
    ),
    (
        "Karim Benali",
        "karim.benali@demo.jobtour.example",
        "Télé-Assistance Nancy",
        "recruiting",
        "Nous recrutons 20 téléconseillers : pouvons-nous rejoindre la tournée du bus ?",
    ),
    (
        "Sophie Keller",
        "sophie.keller@demo.jobtour.example",
        "Keller Assurances",
        "developing",
        "Nous souhaitons agrandir notre plateau d'Épinal ; qui contacter ?",
    ),
];

/// The day Viatis and Connect became Lorraine Contact Client.
pub const L2C_MERGER: (i32, u32, u32) = (2016, 3, 30);

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
    /// The club that organises the demo tour (and the scaled ones).
    pub club_id: Option<Uuid>,
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
        let input = OrganisationInput {
            name: (*name).to_owned(),
            kind: (*kind).to_owned(),
            sectors: sectors.iter().map(|s| (*s).to_owned()).collect(),
            city: Some((*city).to_owned()),
            founded_on: (*kind == "club").then(|| day(L2C_MERGER)).transpose()?,
            ..Default::default()
        };
        organisations.push((find_or_create(&tx, input, &mut report).await?, *role));
    }
    let club = organisations
        .first()
        .map(|(o, _)| o.id)
        .ok_or_else(|| ApiError::internal("no organiser"))?;

    let organiser_id = if let Some(user) = repo::users::find_by_email(&tx, ORGANISER_EMAIL).await? {
        report.found.push(format!("user {ORGANISER_EMAIL}"));
        user.id
    } else {
        let user = repo::users::insert(
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
        user.id
    };

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
    report.club_id = Some(club);
    load_clubs(&tx, club, &mut report).await?;
    load_enquiries(&tx, organiser_id, &mut report).await?;
    load_stops(&tx, &tour, &mut report).await?;
    for (org, role) in &organisations {
        let (_, created) = repo::tours::put_partner(&tx, tour.id, org.id, Some(role)).await?;
        if created {
            report.created.push(format!("partner {} ({role})", org.name));
        }
    }
    let employers: Vec<&organisation::Model> = organisations
        .iter()
        .filter(|(_, role)| *role == "employer")
        .map(|(org, _)| org)
        .collect();
    load_positions(&tx, &tour, &employers, organiser_id, &mut report).await?;
    load_slots(&tx, &tour, &employers, &mut report).await?;
    tx.commit().await?;
    Ok(report)
}

/// A few enquiries, the first taken in hand by the demo organiser.
async fn load_enquiries(tx: &sea_orm::DatabaseTransaction, organiser: Uuid, report: &mut Report) -> ApiResult<()> {
    use crate::entities::enquiry;
    use jobtour_domain::enquiry::{EnquiryFields, EnquiryInput, EnquiryStatus};
    for (i, (name, email, company, subject, message)) in ENQUIRIES.iter().enumerate() {
        let known = enquiry::Entity::find()
            .filter(enquiry::Column::Email.eq(*email))
            .one(tx)
            .await?;
        if known.is_some() {
            report.found.push(format!("enquiry from {company}"));
            continue;
        }
        let fields = EnquiryFields::parse(EnquiryInput {
            name: (*name).to_owned(),
            email: (*email).to_owned(),
            company: (*company).to_owned(),
            phone: None,
            subject: (*subject).to_owned(),
            message: (*message).to_owned(),
            consent: true,
        })?;
        let (_, token_hash) = auth::enquirer_token();
        let now = repo::now();
        let model = repo::enquiries::insert(tx, &fields, token_hash, "2026-11", now).await?;
        if i == 0 {
            let taken = repo::enquiries::update(tx, &model, EnquiryStatus::InProgress, Some(organiser), now)
                .await?
                .ok_or_else(|| ApiError::internal("a demo enquiry changed while loading"))?;
            repo::enquiries::add_event(tx, &taken, Some(EnquiryStatus::New.as_str()), Some(organiser), now).await?;
        }
        report.created.push(format!("enquiry from {company}"));
    }
    Ok(())
}

fn day((y, m, d): (i32, u32, u32)) -> ApiResult<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| ApiError::internal("a demo date that does not exist"))
}

/// The organisation named as `input`, created from it when there is none.
async fn find_or_create(
    tx: &sea_orm::DatabaseTransaction,
    input: OrganisationInput,
    report: &mut Report,
) -> ApiResult<organisation::Model> {
    let name = input.name.clone();
    if let Some(org) = organisation::Entity::find()
        .filter(organisation::Column::Name.eq(name.as_str()))
        .one(tx)
        .await?
    {
        report.found.push(format!("organisation {name}"));
        return Ok(org);
    }
    report.created.push(format!("organisation {name}"));
    Ok(repo::organisations::insert(tx, OrganisationFields::parse(input)?).await?)
}

/// Viatis and Connect with their member centres, and their merger into L2C (`l2c`), unless
/// they merged already.
async fn load_clubs(tx: &sea_orm::DatabaseTransaction, l2c: Uuid, report: &mut Report) -> ApiResult<()> {
    let mut clubs = Vec::new();
    for (name, city, founded) in CLUBS {
        let input = OrganisationInput {
            name: (*name).to_owned(),
            kind: "club".to_owned(),
            sectors: vec!["customer care".to_owned()],
            city: Some((*city).to_owned()),
            founded_on: Some(day(*founded)?),
            ..Default::default()
        };
        clubs.push(find_or_create(tx, input, report).await?);
    }
    if clubs.iter().any(|c| c.status == "merged") {
        return Ok(());
    }
    for c in CENTRES {
        let (employees, centres) = (Some(i64::from(c.employees)), Some(i64::from(c.centres)));
        let input = OrganisationInput {
            name: c.name.to_owned(),
            kind: "employer".to_owned(),
            city: Some(c.city.to_owned()),
            employees,
            centres,
            ..Default::default()
        };
        let member = find_or_create(tx, input, report).await?;
        if member.employees.is_none() {
            // One of the tour's employers, made without its figures.
            let fields = OrganisationFields::parse(OrganisationInput {
                name: member.name.clone(),
                kind: member.kind.clone(),
                sectors: repo::organisations::sectors(&member),
                city: member.city.clone(),
                employees,
                centres,
                ..Default::default()
            })?;
            repo::organisations::update(tx, member.id, member.version, fields).await?;
        }
        for i in c.clubs {
            let club = clubs[*i].id;
            if repo::memberships::open(tx, club, member.id).await?.is_none() {
                repo::memberships::insert(tx, club, member.id, day((c.joined_in, 1, 1))?, repo::now()).await?;
            }
        }
    }
    let l2c = repo::organisations::find(tx, l2c)
        .await?
        .ok_or_else(|| ApiError::internal("the demo's club is gone"))?;
    let parties = clubs
        .iter()
        .map(crate::routes::clubs::party)
        .collect::<ApiResult<Vec<_>>>()?;
    let merger = jobtour_domain::club::Merger::check(&parties, crate::routes::clubs::party(&l2c)?)?;
    let (moved, _) = crate::routes::clubs::carry_out(tx, &merger, day(L2C_MERGER)?).await?;
    report.created.push(format!(
        "merger of Viatis and Connect into {} ({moved} members)",
        l2c.name
    ));
    Ok(())
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
        let at = |h| local(tz, date, h, 0);
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

/// A demo position: (title, contract type, working time, openings, sector).
type DemoPosition = (&'static str, &'static str, &'static str, i64, &'static str);

/// The positions of the campaign, for each demo employer in turn: 500 openings in customer
/// care, mostly permanent.
const POSITIONS: &[&[DemoPosition]] = &[
    &[
        ("Conseiller clientèle bancaire (H/F)", "cdi", "full_time", 40, "banking"),
        (
            "Téléconseiller banque à distance (H/F)",
            "cdi",
            "full_time",
            25,
            "banking",
        ),
        ("Chargé d'accueil téléphonique (H/F)", "cdd", "full_time", 20, "banking"),
        ("Conseiller commercial crédit (H/F)", "cdi", "full_time", 15, "banking"),
        (
            "Chargé de recouvrement amiable (H/F)",
            "cdi",
            "full_time",
            10,
            "banking",
        ),
        (
            "Conseiller clientèle à temps partiel (H/F)",
            "cdi",
            "part_time",
            5,
            "banking",
        ),
        (
            "Superviseur d'équipe relation client (H/F)",
            "cdi",
            "full_time",
            5,
            "banking",
        ),
        (
            "Alternant conseiller bancaire (H/F)",
            "apprenticeship",
            "full_time",
            3,
            "banking",
        ),
        ("Responsable de plateau (H/F)", "cdi", "full_time", 2, "banking"),
    ],
    &[
        (
            "Conseiller relation client assurance (H/F)",
            "cdi",
            "full_time",
            40,
            "insurance",
        ),
        ("Gestionnaire sinistres auto (H/F)", "cdi", "full_time", 25, "insurance"),
        ("Chargé d'assistance 24 h/24 (H/F)", "cdi", "full_time", 20, "insurance"),
        (
            "Conseiller commercial en assurance (H/F)",
            "cdd",
            "full_time",
            15,
            "insurance",
        ),
        (
            "Téléconseiller santé prévoyance (H/F)",
            "cdi",
            "part_time",
            10,
            "insurance",
        ),
        ("Gestionnaire de contrats (H/F)", "cdi", "full_time", 5, "insurance"),
        ("Superviseur d'équipe (H/F)", "cdi", "full_time", 5, "insurance"),
        (
            "Stagiaire qualité relation client (H/F)",
            "internship",
            "full_time",
            3,
            "insurance",
        ),
        (
            "Manager de centre de contacts (H/F)",
            "cdi",
            "full_time",
            2,
            "insurance",
        ),
    ],
    &[
        ("Conseiller clientèle télécom (H/F)", "cdi", "full_time", 40, "telecoms"),
        (
            "Conseiller vente fibre et mobile (H/F)",
            "cdi",
            "full_time",
            25,
            "telecoms",
        ),
        ("Technicien support hotline (H/F)", "cdi", "full_time", 20, "telecoms"),
        ("Conseiller fidélisation (H/F)", "interim", "full_time", 15, "telecoms"),
        (
            "Conseiller SAV à temps partiel (H/F)",
            "cdi",
            "part_time",
            10,
            "telecoms",
        ),
        ("Chat conseiller (H/F)", "cdi", "full_time", 5, "telecoms"),
        (
            "Superviseur d'équipe télévente (H/F)",
            "cdi",
            "full_time",
            5,
            "telecoms",
        ),
        (
            "Alternant technicien réseau (H/F)",
            "apprenticeship",
            "full_time",
            3,
            "telecoms",
        ),
        ("Formateur relation client (H/F)", "cdi", "full_time", 2, "telecoms"),
    ],
    &[
        ("Technicien support logiciel (H/F)", "cdi", "full_time", 40, "software"),
        (
            "Conseiller support utilisateurs (H/F)",
            "cdi",
            "full_time",
            25,
            "software",
        ),
        ("Technicien helpdesk niveau 1 (H/F)", "cdd", "full_time", 20, "software"),
        ("Technicien support niveau 2 (H/F)", "cdi", "full_time", 15, "software"),
        (
            "Conseiller clientèle e-commerce (H/F)",
            "interim",
            "full_time",
            10,
            "software",
        ),
        ("Chargé de déploiement client (H/F)", "cdi", "full_time", 5, "software"),
        ("Superviseur support (H/F)", "cdi", "full_time", 5, "software"),
        (
            "Stagiaire support technique (H/F)",
            "internship",
            "full_time",
            3,
            "software",
        ),
        ("Responsable service client (H/F)", "cdi", "full_time", 2, "software"),
    ],
];

const FIRST_NAMES: &[&str] = &[
    "Camille", "Léa", "Manon", "Chloé", "Inès", "Sarah", "Emma", "Julie", "Lucie", "Amandine", "Thomas", "Lucas",
    "Hugo", "Maxime", "Nicolas", "Julien", "Karim", "Mehdi", "Antoine", "Kevin",
];
const LAST_NAMES: &[&str] = &[
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent", "Simon",
    "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
];

/// Demo applications: this many, spread over the positions and the stops.
const APPLICATIONS: usize = 300;

/// Where the i-th demo application got to: half are new, the rest spread along the pipeline.
fn demo_fate(i: usize) -> &'static [ApplicationStatus] {
    use ApplicationStatus::*;
    match i % 20 {
        0..=9 => &[],
        10..=13 => &[Screening],
        14 | 15 => &[Screening, Interview],
        16 => &[Screening, Interview, Offered],
        17 => &[Screening, Interview, Offered, Hired],
        18 => &[Rejected],
        _ => &[Withdrawn],
    }
}

/// The employers' positions at every stop, and applications to them (idempotent: a position
/// is known by its employer and title, an application by its position and e-mail).
async fn load_positions(
    tx: &impl ConnectionTrait,
    tour: &tour::Model,
    employers: &[&organisation::Model],
    organiser_id: Uuid,
    report: &mut Report,
) -> ApiResult<()> {
    let tz = crate::routes::stops::tour_zone(tour)?;
    let stops: Vec<stop::Model> = repo::stops::all_for_tour(tx, tour.id).await?;
    let stop_ids: Vec<Uuid> = stops.iter().map(|s| s.id).collect();
    let mut positions = Vec::new();
    let (mut created, mut openings) = (0, 0);
    for (org, list) in employers.iter().zip(POSITIONS) {
        for (n, (title, contract, time, count, sector)) in list.iter().enumerate() {
            if let Some(p) = repo::positions::find_by_title(tx, tour.id, org.id, title).await? {
                positions.push(p);
                continue;
            }
            // Each position meets candidates at three stops of five, in turn.
            let at: Vec<Uuid> = (0..3).map(|k| stop_ids[(n + k) % stop_ids.len()]).collect();
            let fields = PositionFields::parse(
                PositionInput {
                    title: (*title).to_owned(),
                    description: Some(format!(
                        "{} recrute pour son centre de relation client en Lorraine. Formation assurée,                          débutants acceptés ; rencontre sur le bus de l'emploi.",
                        org.name
                    )),
                    contract_type: (*contract).to_owned(),
                    working_time: (*time).to_owned(),
                    city: org.city.clone().unwrap_or_else(|| "Metz".to_owned()),
                    sector: Some((*sector).to_owned()),
                    salary_min: Some(1_850 + 50 * n as i64),
                    salary_max: Some(2_300 + 100 * n as i64),
                    salary_period: Some("month".to_owned()),
                    stop_ids: at,
                    closes_on: Some(tour.ends_on),
                    ..Default::default()
                },
                &stop_ids,
            )?;
            let written = repo::positions::Written {
                closes_at: fields.closes_on.map(|d| end_of_day(d, tz)),
                fields,
                staffing: Staffing::openings(*count).map_err(|e| ApiError::internal(e.message))?,
                status: PositionStatus::Open,
            };
            positions.push(repo::positions::insert(tx, org.id, tour.id, &written).await?);
            created += 1;
            openings += count;
        }
    }
    if created > 0 {
        report
            .created
            .push(format!("{created} positions ({openings} openings)"));
    } else {
        report.found.push(format!("{} positions", positions.len()));
    }
    let stops_of = repo::positions::stops_of(tx, &positions.iter().map(|p| p.id).collect::<Vec<_>>()).await?;
    let mut made = 0;
    for i in 0..APPLICATIONS {
        let position = &positions[(i * 7) % positions.len()];
        let (first, last) = (
            FIRST_NAMES[i % FIRST_NAMES.len()],
            LAST_NAMES[(i / FIRST_NAMES.len()) % LAST_NAMES.len()],
        );
        let email = format!("{}.{}.{i}@demo.jobtour.example", ascii(first), ascii(last));
        if repo::applications::exists(tx, position.id, &email).await? {
            continue;
        }
        let at = stops_of.get(&position.id).cloned().unwrap_or_default();
        let fields = ApplicationFields::parse(
            ApplicationInput {
                first_name: first.to_owned(),
                last_name: last.to_owned(),
                email,
                phone: Some(format!(
                    "06 {:02} {:02} {:02} {:02}",
                    i % 97,
                    (i * 3) % 97,
                    (i * 7) % 97,
                    (i * 11) % 97
                )),
                message: Some("Disponible rapidement, je serai présent(e) au passage du bus.".to_owned()),
                preferred_stop_id: at.get(i % at.len().max(1)).copied(),
                consent: true,
            },
            &at,
        )?;
        let (_, token_hash) = auth::candidate_token(auth::random_bytes());
        let (mut application, _) = repo::applications::insert(
            tx,
            repo::applications::New {
                position_id: position.id,
                tour_id: tour.id,
                organisation_id: position.organisation_id,
                fields: &fields,
                token_hash,
                privacy_notice_version: "2026-11",
                source: "web",
                now: repo::now(),
            },
        )
        .await?;
        for to in demo_fate(i) {
            if *to == ApplicationStatus::Hired {
                match crate::routes::applications::hire(tx, position.id).await {
                    Ok(()) => {}
                    Err(e) if e.code() == "position_filled" => break,
                    Err(e) => return Err(e),
                }
            }
            let from = ApplicationStatus::parse(&application.status).map_err(|e| ApiError::internal(e.message))?;
            let by = if *to == ApplicationStatus::Withdrawn {
                repo::applications::By::Candidate
            } else {
                repo::applications::By::Staff(organiser_id)
            };
            application = repo::applications::set_status(tx, &application, *to)
                .await?
                .ok_or_else(|| ApiError::internal("a demo application changed while loading"))?;
            repo::applications::add_event(tx, application.id, (Some(from), *to), by, None, repo::now()).await?;
        }
        made += 1;
    }
    if made > 0 {
        report.created.push(format!("{made} applications"));
    } else {
        report.found.push(format!("{APPLICATIONS} applications"));
    }
    Ok(())
}

/// The instant of `h:m` on `day` in `tz` (the earlier one, should the clock go back).
fn local(tz: chrono_tz::Tz, day: NaiveDate, h: u32, m: u32) -> ApiResult<chrono::DateTime<Utc>> {
    let time = NaiveTime::from_hms_opt(h, m, 0).ok_or_else(|| ApiError::internal("no such time"))?;
    tz.from_local_datetime(&day.and_time(time))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| ApiError::internal("no such local time"))
}

/// Interview slots of every employer at every stop (09:30 to 12:00, twenty minutes, two seats
/// each), and a seat for each application at the interview stage, at its preferred stop.
async fn load_slots(
    tx: &impl ConnectionTrait,
    tour: &tour::Model,
    employers: &[&organisation::Model],
    report: &mut Report,
) -> ApiResult<()> {
    let tz = crate::routes::stops::tour_zone(tour)?;
    let stops = repo::stops::all_for_tour(tx, tour.id).await?;
    let capacity = Capacity::parse(2).map_err(|e| ApiError::internal(e.message))?;
    let mut created = 0;
    for org in employers {
        for stop in &stops {
            if !repo::slots::of_employer_at(tx, stop.id, org.id).await?.is_empty() {
                continue;
            }
            let day = stop.arrives_at.with_timezone(&tz).date_naive();
            let place = repo::slots::Place {
                stop_id: stop.id,
                tour_id: tour.id,
                organisation_id: org.id,
            };
            for times in grid(local(tz, day, 9, 30)?, local(tz, day, 12, 0)?, 20)? {
                let written = repo::slots::Written {
                    times,
                    capacity,
                    position_id: None,
                };
                repo::slots::insert(tx, place, written).await?;
                created += 1;
            }
        }
    }
    if created > 0 {
        report.created.push(format!("{created} interview slots"));
    }
    let filter = repo::applications::Filter {
        tour_id: Some(tour.id),
        status: Some(ApplicationStatus::Interview),
        ..Default::default()
    };
    let page = crate::http::PageRequest {
        limit: 500,
        after: None,
    };
    let mut booked = Vec::new();
    for application in repo::applications::list(tx, &filter, &page).await? {
        let Some(stop_id) = application.preferred_stop_id else {
            continue;
        };
        if repo::slots::active_booking(tx, application.id).await?.is_some() {
            continue;
        }
        let slots = repo::slots::of_employer_at(tx, stop_id, application.organisation_id).await?;
        if let Some(slot) = slots.iter().find(|s| s.booked < s.capacity) {
            crate::seats::book(tx, &application, slot, false, repo::now()).await?;
            booked.push(application.id);
        }
    }
    // The demo's story is not news: its candidates are not written to.
    repo::outbox::discard(tx, &booked).await?;
    if !booked.is_empty() {
        report.created.push(format!("{} interview bookings", booked.len()));
    }
    Ok(())
}

/// A name as an e-mail's local part: lower case, accents dropped.
fn ascii(name: &str) -> String {
    name.to_lowercase()
        .chars()
        .map(|c| match c {
            'à' | 'â' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' => 'o',
            'ù' | 'û' => 'u',
            'ç' => 'c',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_offers_about_500_openings_mostly_permanent() {
        let all: Vec<_> = POSITIONS.iter().flat_map(|l| l.iter()).collect();
        let openings: i64 = all.iter().map(|p| p.3).sum();
        assert_eq!(openings, 500);
        let cdi: i64 = all.iter().filter(|p| p.1 == "cdi").map(|p| p.3).sum();
        assert!(cdi * 2 > openings, "mostly CDI: {cdi}");
        assert_eq!(ascii("Lefèvre"), "lefevre");
    }

    #[test]
    fn the_demo_starts_on_the_next_19_october() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(demo_start(d(2026, 11, 22)), d(2027, 10, 19));
        assert_eq!(demo_start(d(2027, 3, 1)), d(2027, 10, 19));
        assert_eq!(demo_start(d(2027, 10, 19)), d(2028, 10, 19));
    }
}
