//! `GET /tours/{id}/stats`: how the campaign is going — positions and openings offered against
//! the tour's target, applications and hires, per stop and per employer. Counted by the
//! database; a partner sees its own organisation's figures only.

use crate::auth::SignedIn;
use crate::error::ApiError;
use crate::error::ApiResult;
use crate::policy::{self, Action, Object};
use crate::repo::{self, stats};
use crate::routes::tours::is_public;
use crate::state::AppState;
use actix_web::get;
use actix_web::web::{Data, Json, Path};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// One stop's figures, by the stop candidates said they prefer.
#[derive(Debug, Serialize, ToSchema)]
pub struct StopFigures {
    pub stop_id: Uuid,
    #[schema(example = "Metz")]
    pub city: String,
    pub applications: i64,
    pub hires: i64,
    /// Candidates checked in at the stop, walk-ins included.
    pub checked_in: i64,
    /// Of them, those who walked in without having applied.
    pub walk_ins: i64,
}

/// One employer's figures.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganisationFigures {
    pub organisation_id: Uuid,
    #[schema(example = "Crédit Mosellan")]
    pub name: String,
    /// Positions offered (drafts not counted).
    pub positions: i64,
    pub openings: i64,
    pub applications: i64,
    pub hires: i64,
}

/// A tour's campaign figures.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "tour_id": "019a6b2e-2222-7e21-9a3f-2b8c4d5e6f70", "positions_target": 500, "positions": 41,
    "openings": 498, "applications": 312, "hires": 27,
    "by_stop": [{ "stop_id": "019a6b2e-3333-7e21-9a3f-2b8c4d5e6f70", "city": "Metz", "applications": 88, "hires": 9,
        "checked_in": 61, "walk_ins": 14 }],
    "by_organisation": [{ "organisation_id": "019a6b2e-1111-7e21-9a3f-2b8c4d5e6f70", "name": "Crédit Mosellan",
        "positions": 12, "openings": 130, "applications": 95, "hires": 8 }]
}))]
pub struct TourStats {
    pub tour_id: Uuid,
    /// How many openings the campaign aims to offer.
    pub positions_target: i32,
    /// Positions offered: open, filled or closed (drafts not counted).
    pub positions: i64,
    /// Their openings, to compare with the target.
    pub openings: i64,
    /// Applications received, whatever became of them.
    pub applications: i64,
    /// Applications that ended in a hire.
    pub hires: i64,
    /// Every stop of the tour, in itinerary order.
    pub by_stop: Vec<StopFigures>,
    /// Every employer with positions or applications in the tour, by name.
    pub by_organisation: Vec<OrganisationFigures>,
}

/// The campaign's figures (organisers; a partner gets its own organisation's only).
#[utoipa::path(tag = "tours", operation_id = "getTourStats", params(("id" = Uuid, Path)), security(("bearer" = [])), responses(
    (status = 200, description = "The figures", body = TourStats),
))]
#[get("/tours/{id}/stats")]
pub async fn tour_stats(signed_in: SignedIn, state: Data<AppState>, id: Path<Uuid>) -> ApiResult<Json<TourStats>> {
    let db = state.db.conn();
    let tour = repo::tours::find(db, id.into_inner())
        .await?
        .ok_or_else(|| ApiError::not_found("tour"))?;
    policy::may(
        &signed_in.actor(),
        Action::Read,
        Object::TourStats {
            public: is_public(&tour),
        },
    )?;
    let scope = policy::organisation_scope(&signed_in.0);
    let f = stats::figures(db, tour.id, scope).await?;
    let arrivals = repo::checkins::arrivals_by_stop(db, tour.id, scope).await?;
    Ok(Json(TourStats {
        tour_id: tour.id,
        positions_target: tour.positions_target,
        positions: f.offer.positions,
        openings: f.offer.openings,
        applications: f.intake.applications,
        hires: f.intake.hires,
        by_stop: f
            .by_stop
            .into_iter()
            .map(|s| {
                let a = arrivals.get(&s.stop_id).copied().unwrap_or_default();
                StopFigures {
                    stop_id: s.stop_id,
                    city: s.city,
                    applications: s.applications,
                    hires: s.hires,
                    checked_in: a.checked_in,
                    walk_ins: a.walk_ins,
                }
            })
            .collect(),
        by_organisation: f
            .by_organisation
            .into_iter()
            .map(|o| OrganisationFigures {
                organisation_id: o.organisation_id,
                name: o.name,
                positions: o.offer.positions,
                openings: o.offer.openings,
                applications: o.intake.applications,
                hires: o.intake.hires,
            })
            .collect(),
    }))
}
