//! Professional clubs: their members, with the history of who belonged when
//! (`/organisations/{id}/members`), and mergers of clubs (`POST /organisations/merge`), which
//! move every member over in one transaction and freeze the clubs that went.

use crate::auth::{Actor, SignedIn};
use crate::entities::{membership, organisation};
use crate::error::{ApiError, ApiResult};
use crate::http::{self, Page, PageRequest};
use crate::openapi::text;
use crate::policy::{self, Action, Object};
use crate::repo;
use crate::routes::organisations::Organisation;
use crate::state::AppState;
use actix_web::http::header;
use actix_web::web::{Data, Json, Path, Query};
use actix_web::{HttpResponse, delete, get, post, put};
use chrono::{NaiveDate, Utc};
use jobtour_domain::DomainError;
use jobtour_domain::club::{Merger, Party, may_join};
use jobtour_domain::organisation::{OrganisationFields, OrganisationInput, OrganisationKind, OrganisationStatus};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// The most clubs one merger takes.
const MAX_MERGED: usize = 20;

/// A club's current members, with their head counts and sites summed (unknown ones count 0).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({ "members": 80, "employees": 6000, "centres": 80 }))]
pub struct MembershipFigures {
    pub members: i64,
    pub employees: i64,
    pub centres: i64,
}

/// A club an organisation belongs to.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClubOf {
    pub id: Uuid,
    #[schema(example = "Lorraine Contact Client")]
    pub name: String,
    #[schema(value_type = String, format = Date)]
    pub joined_on: NaiveDate,
}

/// An organisation's membership of a club.
#[derive(Debug, Serialize, ToSchema)]
pub struct Member {
    pub club_id: Uuid,
    pub organisation: MemberOrganisation,
    #[schema(value_type = String, format = Date)]
    pub joined_on: NaiveDate,
    /// The first day it no longer belonged; `null` while it does.
    #[schema(value_type = Option<String>, format = Date)]
    pub left_on: Option<NaiveDate>,
}

/// A member, as a club's list shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberOrganisation {
    pub id: Uuid,
    #[schema(example = "Arvato Metz")]
    pub name: String,
    pub kind: String,
    pub employees: Option<i32>,
    pub centres: Option<i32>,
}

/// When the membership begins.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MembershipBody {
    /// Default: today (Paris).
    #[schema(value_type = Option<String>, format = Date, example = "2016-03-30")]
    pub joined_on: Option<NaiveDate>,
}

/// Which members.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MemberQuery {
    /// The members on this day (`joined_on ≤ at < left_on`); default today (Paris).
    #[param(value_type = Option<String>, format = Date)]
    pub at: Option<NaiveDate>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A new club that merged clubs go into.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({ "name": "Lorraine Contact Client", "city": "Metz", "sectors": ["relation client"] }))]
pub struct NewClub {
    #[schema(schema_with = text::name)]
    pub name: String,
    #[serde(default)]
    #[schema(schema_with = text::sectors, required = false)]
    pub sectors: Vec<String>,
    #[schema(schema_with = text::name_or_null, required = false)]
    pub city: Option<String>,
    #[schema(schema_with = text::web_url_or_null, required = false)]
    pub website: Option<String>,
    #[schema(schema_with = text::email_or_null, required = false)]
    pub contact_email: Option<String>,
    #[schema(schema_with = text::long_or_null, required = false)]
    pub description: Option<String>,
    /// Default: the merger's `effective_on`.
    #[schema(value_type = Option<String>, format = Date)]
    pub founded_on: Option<NaiveDate>,
}

/// A merger of clubs: into a new club (`into`) or an existing one (`into_id`), one of the two.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "from": ["019a6b2e-1111-7e21-9a3f-2b8c4d5e6f70", "019a6b2e-2222-7e21-9a3f-2b8c4d5e6f70"],
    "into": { "name": "Lorraine Contact Client" }, "effective_on": "2016-03-30"
}))]
pub struct MergeRequest {
    /// The clubs that merge: at least two.
    #[schema(min_items = 2, max_items = 20)]
    pub from: Vec<Uuid>,
    pub into: Option<NewClub>,
    pub into_id: Option<Uuid>,
    /// From this day the members belong to the club merged into; their old memberships end.
    #[schema(value_type = String, format = Date)]
    pub effective_on: NaiveDate,
}

/// What a merger did.
#[derive(Debug, Serialize, ToSchema)]
pub struct MergeResult {
    /// The club the others went into, as it is now.
    pub club: Organisation,
    /// The clubs that went (now `merged`).
    pub merged: Vec<Uuid>,
    /// Organisations that became members of the club (each once).
    pub members_moved: u64,
    /// Memberships of the merged clubs that ended on `effective_on`.
    pub memberships_ended: u64,
}

/// Today, in the campaign's time zone.
pub fn today() -> NaiveDate {
    Utc::now().with_timezone(&chrono_tz::Europe::Paris).date_naive()
}

/// What the club rules need of an organisation.
pub fn party(m: &organisation::Model) -> ApiResult<Party> {
    Ok(Party {
        id: m.id,
        kind: OrganisationKind::parse(&m.kind).map_err(|e| ApiError::internal(e.message))?,
        status: OrganisationStatus::parse(&m.status).map_err(|e| ApiError::internal(e.message))?,
    })
}

/// The organisation as `GET /organisations/{id}` shows it: with its current clubs and, for a
/// club, its current members' figures.
pub async fn detailed(db: &impl ConnectionTrait, m: organisation::Model) -> ApiResult<Organisation> {
    let day = today();
    let memberships = repo::memberships::clubs_of(db, m.id, day).await?;
    let names = repo::organisations::names(db, &memberships.iter().map(|c| c.club_id).collect::<Vec<_>>()).await?;
    let clubs = memberships
        .into_iter()
        .map(|c| ClubOf {
            id: c.club_id,
            name: names.get(&c.club_id).cloned().unwrap_or_default(),
            joined_on: c.joined_on,
        })
        .collect();
    let figures = if m.kind == OrganisationKind::Club.as_str() {
        let f = repo::memberships::figures_on(db, m.id, day).await?;
        Some(MembershipFigures {
            members: f.members,
            employees: f.employees,
            centres: f.centres,
        })
    } else {
        None
    };
    let mut body = Organisation::from(m);
    body.membership = figures;
    body.clubs = Some(clubs);
    Ok(body)
}

/// Makes an organisation a member of a club (organisers), from `joined_on` (default today):
/// 201, or 200 when it is a member already (the membership unchanged). Only a club has members
/// (409 `not_a_club`), not itself (409 `own_member`), and a merged club none any more (409
/// `organisation_merged`). The body may be empty.
#[utoipa::path(tag = "organisations", operation_id = "putMember",
    params(("id" = Uuid, Path, description = "The club"), ("organisation_id" = Uuid, Path, description = "The member")),
    request_body(content = Option<MembershipBody>, description = "Optional"), security(("bearer" = [])), responses(
    (status = 201, description = "A member from `joined_on`", body = Member),
    (status = 200, description = "A member already", body = Member),
    (status = 409, description = "`not_a_club`, `own_member`, `organisation_merged`", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[put("/organisations/{id}/members/{organisation_id}")]
pub async fn put_member(
    signed_in: SignedIn,
    state: Data<AppState>,
    path: Path<(Uuid, Uuid)>,
    body: http::OptionalJson<MembershipBody>,
) -> ApiResult<HttpResponse> {
    policy::may(&signed_in.actor(), Action::Update, Object::Memberships)?;
    let (club_id, member_id) = path.into_inner();
    let body = body.0.unwrap_or_default();
    let joined_on = body.joined_on.unwrap_or_else(today);
    let (member, created) = state
        .db
        .transaction(async |tx| {
            // The club's row lock makes concurrent joins of one club take turns.
            let club = lock_one(tx, club_id).await?;
            let member = repo::organisations::find(tx, member_id)
                .await?
                .ok_or_else(|| ApiError::not_found("organisation"))?;
            may_join(party(&club)?, party(&member)?)?;
            if let Some(open) = repo::memberships::open(tx, club_id, member_id).await? {
                return Ok((render_one(open, member), false));
            }
            let m = repo::memberships::insert(tx, club_id, member_id, joined_on, repo::now()).await?;
            repo::memberships::touch(tx, &[club_id, member_id]).await?;
            Ok((render_one(m, member), true))
        })
        .await?;
    let status = if created {
        actix_web::http::StatusCode::CREATED
    } else {
        actix_web::http::StatusCode::OK
    };
    Ok(HttpResponse::build(status).json(member))
}

/// Ends an organisation's membership of a club today (organisers): the history stays
/// (`left_on` set; `GET …/members?at=` an earlier day still shows it). 404 when it is not a
/// member.
#[utoipa::path(tag = "organisations", operation_id = "removeMember",
    params(("id" = Uuid, Path, description = "The club"), ("organisation_id" = Uuid, Path, description = "The member")),
    security(("bearer" = [])), responses(
    (status = 204, description = "Ended"),
    (status = 409, description = "`not_a_club`, `own_member`, `organisation_merged`", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[delete("/organisations/{id}/members/{organisation_id}")]
pub async fn remove_member(
    signed_in: SignedIn,
    state: Data<AppState>,
    path: Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    policy::may(&signed_in.actor(), Action::Update, Object::Memberships)?;
    let (club_id, member_id) = path.into_inner();
    state
        .db
        .transaction(async |tx| {
            let club = lock_one(tx, club_id).await?;
            party(&club)?.open_club()?;
            if club_id == member_id {
                return Err(DomainError::OwnMember.into());
            }
            let open = repo::memberships::open(tx, club_id, member_id)
                .await?
                .ok_or_else(|| ApiError::not_found("membership"))?;
            repo::memberships::end_one(tx, open.id, today()).await?;
            repo::memberships::touch(tx, &[club_id, member_id])
                .await
                .map_err(ApiError::from)
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The members of a club on a day (`?at=`, default today), in the order they joined; anyone
/// may read it. 409 `not_a_club` for another kind of organisation.
#[utoipa::path(tag = "organisations", operation_id = "listMembers",
    params(("id" = Uuid, Path, description = "The club"), MemberQuery), responses(
    (status = 200, description = "One page of members", body = Page<Member>),
    (status = 409, description = "`not_a_club`", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/organisations/{id}/members")]
pub async fn list_members(
    state: Data<AppState>,
    actor: Actor,
    id: Path<Uuid>,
    query: Query<MemberQuery>,
) -> ApiResult<HttpResponse> {
    let club_id = id.into_inner();
    policy::may(&actor, Action::Read, Object::Organisation { id: club_id })?;
    let db = state.db.conn();
    let club = repo::organisations::find(db, club_id)
        .await?
        .ok_or_else(|| ApiError::not_found("organisation"))?;
    if party(&club)?.kind != OrganisationKind::Club {
        return Err(DomainError::NotAClub { id: club_id }.into());
    }
    let q = query.into_inner();
    let page = PageRequest::<Uuid>::parse(q.limit, q.cursor.as_deref())?;
    let rows = repo::memberships::page_on(db, club_id, q.at.unwrap_or_else(today), &page).await?;
    let page = http::page_of(rows, page.limit, |m| m.id, |m| m);
    let members =
        repo::organisations::find_many(db, &page.items.iter().map(|m| m.member_id).collect::<Vec<_>>()).await?;
    let items = page
        .items
        .into_iter()
        .filter_map(|m| {
            let member = members.get(&m.member_id)?.clone();
            Some(render_one(m, member))
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: page.next_cursor,
    }))
}

/// Merges clubs (organisers), in one transaction: into a new club (`into`) or an existing one
/// (`into_id`); every current member of the clubs that go becomes a member of it from
/// `effective_on` (once, however many of them it belonged to), their memberships end that day,
/// and they are marked `merged` with `merged_into_id`, refusing changes and members from then
/// on. The tours they organised keep them as organiser. Refused: a club merged into itself (409
/// `merge_into_itself`), another kind of organisation (409 `not_a_club`), a club merged already
/// (409 `organisation_merged`, also the loser of two concurrent mergers of one club).
#[utoipa::path(tag = "organisations", operation_id = "mergeClubs", request_body = MergeRequest,
    security(("bearer" = [])), responses(
    (status = 201, description = "Merged", body = MergeResult, headers(("Location" = String, description = "The club merged into"))),
    (status = 409, description = "`merge_into_itself`, `not_a_club`, `organisation_merged`", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/organisations/merge")]
pub async fn merge(signed_in: SignedIn, state: Data<AppState>, body: Json<MergeRequest>) -> ApiResult<HttpResponse> {
    policy::may(&signed_in.actor(), Action::Create, Object::Memberships)?;
    let b = body.into_inner();
    if b.from.len() > MAX_MERGED {
        return Err(ApiError::invalid_field(
            "from",
            "too_many",
            format!("at most {MAX_MERGED} clubs"),
        ));
    }
    let new_club = match (b.into, b.into_id) {
        (Some(club), None) => Some(
            OrganisationFields::parse(OrganisationInput {
                name: club.name,
                kind: OrganisationKind::Club.as_str().to_owned(),
                sectors: club.sectors,
                city: club.city,
                website: club.website,
                contact_email: club.contact_email,
                description: club.description,
                employees: None,
                centres: None,
                founded_on: Some(club.founded_on.unwrap_or(b.effective_on)),
            })
            .map_err(prefix_into)?,
        ),
        (None, Some(_)) => None,
        _ => {
            return Err(ApiError::invalid_field(
                "into",
                "required",
                "give either `into` (a new club) or `into_id` (an existing one)",
            ));
        }
    };
    let (from, effective_on) = (b.from, b.effective_on);
    let result = state
        .db
        .transaction(async |tx| {
            let mut ids: Vec<Uuid> = from.clone();
            ids.extend(b.into_id);
            let locked = repo::organisations::find_many_for_update(tx, &ids).await?;
            let find = |id: Uuid| -> ApiResult<Party> {
                party(locked.iter().find(|m| m.id == id).ok_or_else(|| {
                    ApiError::invalid_field("from", "not_found", format!("no such organisation {id}"))
                })?)
            };
            let parties = from.iter().map(|id| find(*id)).collect::<ApiResult<Vec<_>>>()?;
            let into = match (&new_club, b.into_id) {
                (Some(fields), _) => repo::organisations::insert(tx, fields.clone()).await?,
                (None, Some(id)) => locked
                    .iter()
                    .find(|m| m.id == id)
                    .cloned()
                    .ok_or_else(|| ApiError::invalid_field("into_id", "not_found", "no such organisation"))?,
                (None, None) => return Err(ApiError::internal("a merger without a club to go into")),
            };
            let merger = Merger::check(&parties, party(&into)?)?;
            let (members_moved, memberships_ended) = carry_out(tx, &merger, effective_on).await?;
            let club = repo::organisations::find(tx, merger.into)
                .await?
                .ok_or_else(|| ApiError::internal("the club merged into is gone"))?;
            Ok(MergeResult {
                club: detailed(tx, club).await?,
                merged: merger.from.clone(),
                members_moved,
                memberships_ended,
            })
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/organisations/{}", result.club.id)))
        .json(result))
}

/// Writes a checked merger, the clubs locked by the caller's transaction: the members of the
/// clubs that go join the club they go into from `effective_on` (each once, but for those
/// there already), their memberships end that day, and they are marked merged. How many joined,
/// and how many memberships ended.
pub async fn carry_out(
    tx: &sea_orm::DatabaseTransaction,
    merger: &Merger,
    effective_on: NaiveDate,
) -> ApiResult<(u64, u64)> {
    let members = repo::memberships::open_members(tx, &merger.from).await?;
    let already: HashSet<Uuid> = repo::memberships::open_members(tx, &[merger.into])
        .await?
        .into_iter()
        .collect();
    let newcomers = merger.newcomers(&members, &already);
    let ended = repo::memberships::end_all_in(tx, &merger.from, effective_on).await?;
    for member in &newcomers {
        repo::memberships::insert(tx, merger.into, *member, effective_on, repo::now()).await?;
    }
    repo::organisations::mark_merged(tx, &merger.from, merger.into).await?;
    // The tours they organised now show where they went: their ETags move too.
    repo::tours::touch_organised_by(tx, &merger.from).await?;
    let mut touched: Vec<Uuid> = members;
    touched.push(merger.into);
    repo::memberships::touch(tx, &touched).await?;
    Ok((newcomers.len() as u64, ended))
}

/// Field errors of the new club, named under `into`.
fn prefix_into(e: DomainError) -> DomainError {
    match e {
        DomainError::Invalid(fields) => DomainError::Invalid(
            fields
                .into_iter()
                .map(|mut f| {
                    f.field = format!("into.{}", f.field);
                    f
                })
                .collect(),
        ),
        e => e,
    }
}

/// The organisation, locked until the transaction ends.
async fn lock_one(tx: &sea_orm::DatabaseTransaction, id: Uuid) -> ApiResult<organisation::Model> {
    repo::organisations::find_for_update(tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("organisation"))
}

fn render_one(m: membership::Model, member: organisation::Model) -> Member {
    Member {
        club_id: m.club_id,
        organisation: MemberOrganisation {
            id: member.id,
            name: member.name,
            kind: member.kind,
            employees: member.employees,
            centres: member.centres,
        },
        joined_on: m.joined_on,
        left_on: m.left_on,
    }
}
