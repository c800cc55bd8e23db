//! A tour's campaign figures, counted by the database (aggregate queries, one per figure
//! group), optionally limited to one employer.

use crate::entities::{application, position, stop};
use jobtour_domain::application::ApplicationStatus;
use jobtour_domain::position::PositionStatus;
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Func, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Order};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Positions offered (not drafts) and their openings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, FromQueryResult)]
pub struct Offer {
    pub positions: i64,
    pub openings: i64,
}

/// Applications received and hires made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, FromQueryResult)]
pub struct Intake {
    pub applications: i64,
    pub hires: i64,
}

/// One stop's figures (by the stop candidates preferred).
#[derive(Debug, Clone, FromQueryResult)]
pub struct ByStop {
    pub stop_id: Uuid,
    pub city: String,
    pub applications: i64,
    pub hires: i64,
}

/// One employer's figures.
#[derive(Debug, Clone)]
pub struct ByOrganisation {
    pub organisation_id: Uuid,
    pub name: String,
    pub offer: Offer,
    pub intake: Intake,
}

/// Everything `GET /tours/{id}/stats` shows but the target.
#[derive(Debug, Clone)]
pub struct Figures {
    pub offer: Offer,
    pub intake: Intake,
    pub by_stop: Vec<ByStop>,
    pub by_organisation: Vec<ByOrganisation>,
}

#[derive(Debug, FromQueryResult)]
struct OfferRow {
    organisation_id: Uuid,
    positions: i64,
    openings: i64,
}

#[derive(Debug, FromQueryResult)]
struct IntakeRow {
    organisation_id: Uuid,
    applications: i64,
    hires: i64,
}

/// The tour's figures; only `organisation`'s when given.
pub async fn figures(db: &impl ConnectionTrait, tour_id: Uuid, organisation: Option<Uuid>) -> Result<Figures, DbErr> {
    let offer = one::<Offer>(db, offer_query(tour_id, organisation)).await?;
    let intake = one::<Intake>(db, intake_query(tour_id, organisation)).await?;
    let by_stop = all::<ByStop>(db, by_stop_query(tour_id, organisation)).await?;

    let mut offers = offer_query(tour_id, organisation);
    offers
        .column((position::Entity, position::Column::OrganisationId))
        .group_by_col((position::Entity, position::Column::OrganisationId));
    let mut intakes = intake_query(tour_id, organisation);
    intakes
        .column((application::Entity, application::Column::OrganisationId))
        .group_by_col((application::Entity, application::Column::OrganisationId));
    let mut rows: BTreeMap<Uuid, (Offer, Intake)> = BTreeMap::new();
    for r in all::<OfferRow>(db, offers).await? {
        rows.entry(r.organisation_id).or_default().0 = Offer {
            positions: r.positions,
            openings: r.openings,
        };
    }
    for r in all::<IntakeRow>(db, intakes).await? {
        rows.entry(r.organisation_id).or_default().1 = Intake {
            applications: r.applications,
            hires: r.hires,
        };
    }
    let ids: Vec<Uuid> = rows.keys().copied().collect();
    let names = super::organisations::names(db, &ids).await?;
    let mut by_organisation: Vec<ByOrganisation> = rows
        .into_iter()
        .map(|(id, (offer, intake))| ByOrganisation {
            organisation_id: id,
            name: names.get(&id).cloned().unwrap_or_default(),
            offer,
            intake,
        })
        .collect();
    by_organisation.sort_by(|a, b| a.name.cmp(&b.name).then(a.organisation_id.cmp(&b.organisation_id)));
    Ok(Figures {
        offer,
        intake,
        by_stop,
        by_organisation,
    })
}

/// `coalesce(sum(expr), 0)`: a sum that is 0, not null, over no rows.
pub(super) fn total(expr: Expr) -> Expr {
    Func::coalesce([Func::sum(expr).into(), Expr::val(0i64)]).into()
}

/// 1 for a hire, 0 otherwise. Integers (not bigints): PostgreSQL sums those as a bigint, while
/// it sums bigints as numeric.
fn hired(column: (application::Entity, application::Column)) -> Expr {
    Expr::case(Expr::col(column).eq(ApplicationStatus::Hired.as_str()), 1i32)
        .finally(0i32)
        .into()
}

fn offer_query(tour_id: Uuid, organisation: Option<Uuid>) -> SelectStatement {
    use position::{Column as C, Entity as P};
    let mut q = Query::select();
    q.expr_as(Expr::col((P, C::Id)).count(), Alias::new("positions"))
        .expr_as(total(Expr::col((P, C::Openings))), Alias::new("openings"))
        .from(P)
        .and_where(Expr::col((P, C::TourId)).eq(tour_id))
        .and_where(Expr::col((P, C::Status)).ne(PositionStatus::Draft.as_str()));
    if let Some(org) = organisation {
        q.and_where(Expr::col((P, C::OrganisationId)).eq(org));
    }
    q
}

fn intake_query(tour_id: Uuid, organisation: Option<Uuid>) -> SelectStatement {
    use application::{Column as C, Entity as A};
    let mut q = Query::select();
    q.expr_as(Expr::col((A, C::Id)).count(), Alias::new("applications"))
        .expr_as(total(hired((A, C::Status))), Alias::new("hires"))
        .from(A)
        .and_where(Expr::col((A, C::TourId)).eq(tour_id));
    if let Some(org) = organisation {
        q.and_where(Expr::col((A, C::OrganisationId)).eq(org));
    }
    q
}

/// Every stop of the tour, in itinerary order, with the applications that preferred it.
fn by_stop_query(tour_id: Uuid, organisation: Option<Uuid>) -> SelectStatement {
    use application::{Column as C, Entity as A};
    let mut on = Condition::all().add(Expr::col((A, C::PreferredStopId)).equals((stop::Entity, stop::Column::Id)));
    if let Some(org) = organisation {
        on = on.add(Expr::col((A, C::OrganisationId)).eq(org));
    }
    Query::select()
        .expr_as(Expr::col((stop::Entity, stop::Column::Id)), Alias::new("stop_id"))
        .column((stop::Entity, stop::Column::City))
        .expr_as(Expr::col((A, C::Id)).count(), Alias::new("applications"))
        .expr_as(total(hired((A, C::Status))), Alias::new("hires"))
        .from(stop::Entity)
        .left_join(A, on)
        .and_where(Expr::col((stop::Entity, stop::Column::TourId)).eq(tour_id))
        .group_by_col((stop::Entity, stop::Column::Id))
        .group_by_col((stop::Entity, stop::Column::City))
        .group_by_col((stop::Entity, stop::Column::ArrivesAt))
        .order_by((stop::Entity, stop::Column::ArrivesAt), Order::Asc)
        .order_by((stop::Entity, stop::Column::Id), Order::Asc)
        .to_owned()
}

pub(super) async fn one<T: FromQueryResult + Default>(
    db: &impl ConnectionTrait,
    q: SelectStatement,
) -> Result<T, DbErr> {
    match db.query_one(&q).await? {
        Some(row) => T::from_query_result(&row, ""),
        None => Ok(T::default()),
    }
}

pub(super) async fn all<T: FromQueryResult>(db: &impl ConnectionTrait, q: SelectStatement) -> Result<Vec<T>, DbErr> {
    db.query_all(&q)
        .await?
        .iter()
        .map(|row| T::from_query_result(row, ""))
        .collect()
}
