//! A national campaign's worth of data, for benchmarks: `jobtour demo --scale N` adds N open
//! positions (French titles and descriptions, real cities, every sector and contract type) over
//! up to 50 published tours of five stops and up to 1 000 employers, and one application for
//! every ten positions, beside the demo campaign.
//!
//! Every row's id is derived from its number, and rows are inserted a thousand at a time with
//! `ON CONFLICT DO NOTHING`: loading a scale twice changes nothing, a larger scale adds only
//! what is missing, and an interrupted load resumes where it stopped.

use crate::db::Db;
use crate::entities::{application, organisation, position, position_stop, stop, tour, tour_partner};
use crate::error::ApiResult;
use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, Statement,
};
use std::time::Instant;
use uuid::Uuid;

/// Rows per INSERT: under SQLite's 32 766 bound parameters with the widest row (23 columns).
const BATCH: usize = 1_000;
/// Positions per tour before another tour is added (at most 50).
const POSITIONS_PER_TOUR: usize = 20_000;
/// Employers taking part in each tour.
const EMPLOYERS_PER_TOUR: usize = 20;

/// What a scaled load wrote (rows already there are not counted).
#[derive(Debug, Default)]
pub struct ScaleReport {
    pub tours: u64,
    pub employers: u64,
    pub positions: u64,
    pub applications: u64,
}

/// The shape of the campaign for `n` positions.
#[derive(Debug, Clone, Copy)]
struct Shape {
    positions: usize,
    tours: usize,
    employers: usize,
}

impl Shape {
    fn of(positions: usize) -> Self {
        Self {
            positions,
            tours: positions.div_ceil(POSITIONS_PER_TOUR).clamp(1, 50),
            employers: (positions / 1_000).clamp(EMPLOYERS_PER_TOUR, 1_000),
        }
    }

    fn tour_of(self, k: usize) -> usize {
        k % self.tours
    }

    /// The employers of tour `t` are `EMPLOYERS_PER_TOUR` consecutive ones, wrapping.
    fn employer_of(self, k: usize) -> usize {
        let t = self.tour_of(k);
        (t * EMPLOYERS_PER_TOUR + (k / self.tours) % EMPLOYERS_PER_TOUR) % self.employers
    }
}

/// Loads the scaled campaign, organised by `organiser` (the demo's club), printing progress.
pub async fn load(db: &Db, n: usize, organiser: Uuid, first_day: NaiveDate) -> ApiResult<ScaleReport> {
    let shape = Shape::of(n);
    let started = Instant::now();
    let mut report = ScaleReport::default();
    let now = Utc::now();

    let employers = (0..shape.employers).map(|e| {
        let (name, sector) = EMPLOYER_KINDS[e % EMPLOYER_KINDS.len()];
        organisation::ActiveModel {
            id: Set(id(Kind::Employer, e)),
            name: Set(format!("{name} {}", CITIES[e % CITIES.len()].0)),
            kind: Set("employer".to_owned()),
            sectors: Set(serde_json::json!([sector]).to_string()),
            city: Set(Some(CITIES[e % CITIES.len()].0.to_owned())),
            website: Set(None),
            contact_email: Set(None),
            description: Set(None),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
            employees: Set(None),
            centres: Set(None),
            founded_on: Set(None),
            status: Set("active".to_owned()),
            merged_into_id: Set(None),
        }
    });
    report.employers = insert(db.conn(), organisation::Entity::insert_many(employers)).await?;

    for t in 0..shape.tours {
        // A tour a week from the demo's, Monday to Friday, each through five cities.
        let starts_on = first_day + Days::new(7 * (t as u64 + 1));
        let tour = tour::ActiveModel {
            id: Set(id(Kind::Tour, t)),
            name: Set(format!("Tournée de l'emploi n°{}", t + 1)),
            description: Set(Some("Campagne nationale : un bus par région.".to_owned())),
            starts_on: Set(starts_on),
            ends_on: Set(starts_on + Days::new(4)),
            timezone: Set("Europe/Paris".to_owned()),
            status: Set("published".to_owned()),
            organiser_organisation_id: Set(organiser),
            positions_target: Set(i32::try_from(shape.positions / shape.tours).unwrap_or(i32::MAX)),
            version: Set(1),
            created_at: Set(now),
            updated_at: Set(now),
        };
        report.tours += insert(db.conn(), tour::Entity::insert_many([tour])).await?;
        let partners = (0..EMPLOYERS_PER_TOUR.min(shape.employers)).map(|i| tour_partner::ActiveModel {
            tour_id: Set(id(Kind::Tour, t)),
            organisation_id: Set(id(Kind::Employer, (t * EMPLOYERS_PER_TOUR + i) % shape.employers)),
            role: Set("employer".to_owned()),
            created_at: Set(now),
        });
        insert(db.conn(), tour_partner::Entity::insert_many(partners)).await?;
        let tour_stops = (0..5).map(|d| {
            let (city, postcode, lat, lon) = CITIES[(t * 5 + d) % CITIES.len()];
            let day = starts_on + Days::new(d as u64);
            stop::ActiveModel {
                id: Set(id(Kind::Stop, t * 5 + d)),
                tour_id: Set(id(Kind::Tour, t)),
                city: Set(city.to_owned()),
                postcode: Set(Some(postcode.to_owned())),
                venue: Set(Some("Place de la mairie".to_owned())),
                address: Set(None),
                latitude: Set(lat),
                longitude: Set(lon),
                arrives_at: Set(paris(day, 9)),
                departs_at: Set(paris(day, 17)),
                notes: Set(None),
                version: Set(1),
                created_at: Set(now),
                updated_at: Set(now),
            }
        });
        // One statement for the five, so a tour has all or none; the overlap check (a trigger on
        // SQLite) fires before ON CONFLICT could skip them, so they are looked for first.
        let have = stop::Entity::find()
            .filter(stop::Column::TourId.eq(id(Kind::Tour, t)))
            .count(db.conn())
            .await?;
        if have == 0 {
            insert(db.conn(), stop::Entity::insert_many(tour_stops)).await?;
        }
    }

    for start in (0..shape.positions).step_by(BATCH) {
        let range = start..(start + BATCH).min(shape.positions);
        let rows: Vec<_> = range
            .clone()
            .map(|k| scaled_position(shape, k, first_day, now))
            .collect();
        // A batch whole or not at all, its search index with it: a load resumed after an
        // interruption finds each batch complete or absent.
        let tx = db.begin().await?;
        let inserted = insert(&tx, position::Entity::insert_many(rows.clone())).await?;
        if inserted > 0 && db.backend() == DbBackend::Sqlite {
            let texts: Vec<_> = rows
                .iter()
                .filter_map(|p| {
                    let description = p.description.try_as_ref()?.as_deref();
                    Some((*p.id.try_as_ref()?, p.title.try_as_ref()?.as_str(), description))
                })
                .collect();
            crate::repo::search::index(&tx, &texts).await?;
        }
        report.positions += inserted;
        let links = range.clone().map(|k| position_stop::ActiveModel {
            position_id: Set(id(Kind::Position, k)),
            stop_id: Set(id(Kind::Stop, shape.tour_of(k) * 5 + k % 5)),
        });
        insert(&tx, position_stop::Entity::insert_many(links)).await?;
        let applications = range
            .clone()
            .filter(|k| k.is_multiple_of(10))
            .map(|k| scaled_application(shape, k, now));
        report.applications += insert(&tx, application::Entity::insert_many(applications)).await?;
        tx.commit().await?;
        if range.end % 50_000 == 0 || range.end == shape.positions {
            println!(
                "positions {}/{} ({:.0} s)",
                range.end,
                shape.positions,
                started.elapsed().as_secs_f64()
            );
        }
    }
    analyze(db).await?;
    Ok(report)
}

async fn insert<A>(db: &impl ConnectionTrait, rows: sea_orm::InsertMany<A>) -> ApiResult<u64>
where
    A: sea_orm::ActiveModelTrait,
{
    use sea_orm::TryInsertResult;
    match rows.on_conflict_do_nothing().exec_without_returning(db).await? {
        TryInsertResult::Inserted(n) => Ok(n),
        TryInsertResult::Empty | TryInsertResult::Conflicted => Ok(0),
    }
}

/// Fresh planner statistics, so that the first queries over the new rows use their indexes.
async fn analyze(db: &Db) -> ApiResult<()> {
    let sql = match db.backend() {
        DbBackend::Sqlite => "PRAGMA optimize=0x10002",
        _ => "ANALYZE",
    };
    db.conn().execute_raw(Statement::from_string(db.backend(), sql)).await?;
    Ok(())
}

fn scaled_position(shape: Shape, k: usize, first_day: NaiveDate, now: DateTime<Utc>) -> position::ActiveModel {
    let r = mix(k as u64);
    let (title, sector) = TITLES[(r % TITLES.len() as u64) as usize];
    let (city, postcode, _, _) = CITIES[((r >> 8) % CITIES.len() as u64) as usize];
    let employer = EMPLOYER_KINDS[shape.employer_of(k) % EMPLOYER_KINDS.len()].0;
    let contract = match (r >> 16) % 20 {
        0..12 => "cdi",
        12..16 => "cdd",
        16..18 => "interim",
        18 => "apprenticeship",
        _ => "internship",
    };
    let description = format!(
        "{employer} recrute à {city}. {} {} {}",
        PHRASES[((r >> 24) % PHRASES.len() as u64) as usize],
        PHRASES[((r >> 32) % PHRASES.len() as u64) as usize],
        PHRASES[((r >> 40) % PHRASES.len() as u64) as usize],
    );
    let salary = 1_800 + ((r >> 48) % 20) as i32 * 50;
    // Applications close a little over a year after the first tour.
    let closes_on = first_day + Days::new(400);
    position::ActiveModel {
        id: Set(id(Kind::Position, k)),
        organisation_id: Set(id(Kind::Employer, shape.employer_of(k))),
        tour_id: Set(id(Kind::Tour, shape.tour_of(k))),
        title: Set((*title).to_owned()),
        description: Set(Some(description)),
        contract_type: Set(contract.to_owned()),
        working_time: Set(if r.is_multiple_of(5) { "part_time" } else { "full_time" }.to_owned()),
        city: Set(city.to_owned()),
        postcode: Set(Some(postcode.to_owned())),
        sector: Set(Some((*sector).to_owned())),
        openings: Set(1 + (r % 5) as i32),
        filled: Set(0),
        salary_min: Set(Some(salary)),
        salary_max: Set(Some(salary + 400)),
        salary_period: Set(Some("month".to_owned())),
        status: Set("open".to_owned()),
        closes_on: Set(Some(closes_on)),
        closes_at: Set(Some(paris(closes_on + Days::new(1), 0))),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

fn scaled_application(shape: Shape, k: usize, now: DateTime<Utc>) -> application::ActiveModel {
    let (first, last) = NAMES[k / 10 % NAMES.len()];
    let status = [
        "submitted",
        "submitted",
        "screening",
        "interview",
        "rejected",
        "withdrawn",
    ][k / 10 % 6];
    application::ActiveModel {
        id: Set(id(Kind::Application, k)),
        position_id: Set(id(Kind::Position, k)),
        tour_id: Set(id(Kind::Tour, shape.tour_of(k))),
        organisation_id: Set(id(Kind::Employer, shape.employer_of(k))),
        first_name: Set(Some(first.to_owned())),
        last_name: Set(Some(last.to_owned())),
        email: Set(Some(format!("candidat{k}@exemple.fr"))),
        phone: Set(None),
        message: Set(None),
        preferred_stop_id: Set(None),
        consent_at: Set(now),
        privacy_notice_version: Set("2026-11".to_owned()),
        status: Set(status.to_owned()),
        source: Set("web".to_owned()),
        token_hash: Set(None),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        erased_at: Set(None),
    }
}

/// `hour`:00 in Paris on `day`.
fn paris(day: NaiveDate, hour: u32) -> DateTime<Utc> {
    chrono_tz::Europe::Paris
        .from_local_datetime(&day.and_hms_opt(hour, 0, 0).unwrap_or_default())
        .earliest()
        .map_or_else(|| day.and_time(Default::default()).and_utc(), |t| t.with_timezone(&Utc))
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Employer = 1,
    Tour,
    Stop,
    Position,
    Application,
}

/// A UUIDv7 (so that id order is creation order, as for rows the API makes) whose time is a
/// fixed instant plus the row's number in milliseconds, and whose random bits come from the
/// kind and the number: the same row always gets the same id.
fn id(kind: Kind, n: usize) -> Uuid {
    // 2026-01-01T00:00:00Z, before anything the API creates.
    const EPOCH_MS: u64 = 1_767_225_600_000;
    let bits = mix(((kind as u64) << 40) | n as u64);
    let random = [bits.to_le_bytes(), mix(bits).to_le_bytes()].concat();
    let random: [u8; 10] = random[..10].try_into().unwrap_or_default();
    uuid::Builder::from_unix_timestamp_millis(EPOCH_MS + ((kind as u64) << 32) + n as u64, &random).into_uuid()
}

/// SplitMix64: well-spread bits from a counter.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// (title, sector)
const TITLES: &[(&str, &str)] = &[
    ("Conseiller clientèle (H/F)", "banking"),
    ("Conseillère relation client", "insurance"),
    ("Téléconseiller en réception d'appels", "telecoms"),
    ("Technicien support informatique", "software"),
    ("Chargé d'accueil téléphonique", "public"),
    ("Gestionnaire sinistres automobile", "insurance"),
    ("Superviseur d'équipe de téléconseillers", "telecoms"),
    ("Manager de plateau relation client", "banking"),
    ("Commercial sédentaire B2B", "energy"),
    ("Assistant administratif et commercial", "retail"),
    ("Chargé de recouvrement amiable", "banking"),
    ("Technicien hotline niveau 2", "software"),
    ("Conseiller commercial en agence", "retail"),
    ("Responsable de service client", "transport"),
    ("Formateur métiers de la relation client", "media"),
    ("Analyste qualité des appels", "health"),
    ("Chargé de clientèle entreprises", "energy"),
    ("Conseiller en mutuelle santé", "health"),
    ("Agent de réservation voyages", "tourism"),
    ("Opérateur de télésurveillance", "industry"),
];

const PHRASES: &[&str] = &[
    "Formation assurée, débutants acceptés.",
    "Vous accompagnez nos clients par téléphone, e-mail et chat.",
    "Horaires du lundi au vendredi, de 8 h à 19 h.",
    "Mutuelle, tickets restaurant et prime trimestrielle.",
    "Une expérience en centre d'appels est un plus.",
    "Vous maîtrisez les outils bureautiques.",
    "Poste accessible aux personnes en situation de handicap.",
    "Télétravail possible après la période d'intégration.",
    "Vous aimez le contact et le travail en équipe.",
    "Parcours d'évolution vers la supervision.",
    "L'anglais courant est apprécié.",
    "Rencontrez-nous sur le bus de l'emploi.",
];

/// (name, sector)
const EMPLOYER_KINDS: &[(&str, &str)] = &[
    ("Banque Populaire", "banking"),
    ("Assurances Mutuelles", "insurance"),
    ("Télécom Services", "telecoms"),
    ("Logiciels Support", "software"),
    ("Énergies Clients", "energy"),
    ("Distribution Contact", "retail"),
    ("Transports Régionaux", "transport"),
    ("Santé Conseil", "health"),
    ("Voyages Réservation", "tourism"),
    ("Industrie Services", "industry"),
];

/// (city, postcode, latitude, longitude)
const CITIES: &[(&str, &str, f64, f64)] = &[
    ("Metz", "57000", 49.1193, 6.1757),
    ("Nancy", "54000", 48.6936, 6.1834),
    ("Strasbourg", "67000", 48.5734, 7.7521),
    ("Reims", "51100", 49.2583, 4.0317),
    ("Lille", "59000", 50.6292, 3.0573),
    ("Amiens", "80000", 49.8941, 2.2958),
    ("Rouen", "76000", 49.4432, 1.0999),
    ("Caen", "14000", 49.1829, -0.3707),
    ("Rennes", "35000", 48.1173, -1.6778),
    ("Nantes", "44000", 47.2184, -1.5536),
    ("Angers", "49000", 47.4784, -0.5632),
    ("Tours", "37000", 47.3941, 0.6848),
    ("Orléans", "45000", 47.9030, 1.9093),
    ("Dijon", "21000", 47.3220, 5.0415),
    ("Besançon", "25000", 47.2378, 6.0241),
    ("Lyon", "69001", 45.7640, 4.8357),
    ("Grenoble", "38000", 45.1885, 5.7245),
    ("Clermont-Ferrand", "63000", 45.7772, 3.0870),
    ("Limoges", "87000", 45.8336, 1.2611),
    ("Poitiers", "86000", 46.5802, 0.3404),
    ("Bordeaux", "33000", 44.8378, -0.5792),
    ("Toulouse", "31000", 43.6047, 1.4442),
    ("Montpellier", "34000", 43.6108, 3.8767),
    ("Marseille", "13001", 43.2965, 5.3698),
    ("Nice", "06000", 43.7102, 7.2620),
    ("Perpignan", "66000", 42.6887, 2.8948),
    ("Pau", "64000", 43.2951, -0.3708),
    ("Brest", "29200", 48.3904, -4.4861),
    ("Le Mans", "72000", 48.0061, 0.1996),
    ("Mulhouse", "68100", 47.7508, 7.3359),
    ("Épinal", "88000", 48.1724, 6.4496),
    ("Thionville", "57100", 49.3579, 6.1684),
];

const NAMES: &[(&str, &str)] = &[
    ("Camille", "Martin"),
    ("Léa", "Bernard"),
    ("Hugo", "Dubois"),
    ("Inès", "Thomas"),
    ("Lucas", "Robert"),
    ("Chloé", "Richard"),
    ("Nathan", "Petit"),
    ("Manon", "Durand"),
    ("Yanis", "Leroy"),
    ("Sarah", "Moreau"),
    ("Enzo", "Simon"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_distinct_and_in_creation_order() {
        assert_eq!(id(Kind::Position, 7), id(Kind::Position, 7));
        assert_ne!(id(Kind::Position, 7), id(Kind::Application, 7));
        assert!(id(Kind::Position, 7) < id(Kind::Position, 8));
        assert_eq!(id(Kind::Position, 7).get_version_num(), 7);
    }

    #[test]
    fn a_million_positions_spread_over_fifty_tours_and_a_thousand_employers() {
        let shape = Shape::of(1_000_000);
        assert_eq!((shape.tours, shape.employers), (50, 1_000));
        let small = Shape::of(300);
        assert_eq!((small.tours, small.employers), (1, EMPLOYERS_PER_TOUR));
        // Every position's employer takes part in its tour.
        for k in 0..10_000 {
            let t = shape.tour_of(k);
            let e = shape.employer_of(k);
            assert!((0..EMPLOYERS_PER_TOUR).any(|i| (t * EMPLOYERS_PER_TOUR + i) % shape.employers == e));
        }
    }
}
