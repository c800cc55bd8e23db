//! Positions, the stops where their employer meets candidates, and the job board: filters,
//! visibility and full-text search (PostgreSQL `tsvector`, SQLite FTS5; see the migration).

use crate::entities::position::{ActiveModel, Column, Entity, Model};
use crate::entities::{position_stop, stop, tour};
use crate::policy::PositionScope;
use chrono::{DateTime, Utc};
use jobtour_domain::position::{ContractType, PositionFields, PositionStatus, Staffing, WorkingTime};
use jobtour_domain::search::SearchTerms;
use jobtour_domain::tour::TourStatus;
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, JoinType, Query, SelectStatement};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, Order,
    QueryFilter, QueryOrder, QueryResult, QuerySelect, QueryTrait, Statement,
};
use std::collections::HashMap;
use std::sync::LazyLock;
use uuid::Uuid;

/// A position as written: its checked fields, staffing, status and closing instant.
#[derive(Debug, Clone)]
pub struct Written {
    pub fields: PositionFields,
    pub staffing: Staffing,
    pub status: PositionStatus,
    /// The end of `closes_on` in the tour's time zone.
    pub closes_at: Option<DateTime<Utc>>,
}

fn columns(w: &Written) -> ActiveModel {
    let f = &w.fields;
    ActiveModel {
        title: Set(f.title.clone()),
        description: Set(f.description.clone()),
        contract_type: Set(f.contract_type.as_str().to_owned()),
        working_time: Set(f.working_time.as_str().to_owned()),
        city: Set(f.city.clone()),
        postcode: Set(f.postcode.clone()),
        sector: Set(f.sector.clone()),
        openings: Set(w.staffing.openings_count()),
        filled: Set(w.staffing.filled()),
        salary_min: Set(f.salary.and_then(|s| s.min)),
        salary_max: Set(f.salary.and_then(|s| s.max)),
        salary_period: Set(f.salary.map(|s| s.period.as_str().to_owned())),
        status: Set(w.status.as_str().to_owned()),
        closes_on: Set(f.closes_on),
        closes_at: Set(w.closes_at),
        ..Default::default()
    }
}

pub async fn insert(
    db: &impl ConnectionTrait,
    organisation_id: Uuid,
    tour_id: Uuid,
    w: &Written,
) -> Result<Model, DbErr> {
    let now = super::now();
    let model = ActiveModel {
        id: Set(Uuid::now_v7()),
        organisation_id: Set(organisation_id),
        tour_id: Set(tour_id),
        version: Set(1),
        created_at: Set(now),
        updated_at: Set(now),
        ..columns(w)
    };
    let model = Entity::insert(model).exec_with_returning(db).await?;
    set_stops(db, model.id, &w.fields.stop_ids).await?;
    index_for_search(db, &model).await?;
    Ok(model)
}

/// Replaces the position's fields if it is still at `version`; `None` when it is not.
pub async fn update(db: &impl ConnectionTrait, id: Uuid, version: i32, w: &Written) -> Result<Option<Model>, DbErr> {
    let model = ActiveModel {
        version: Set(version + 1),
        updated_at: Set(super::now()),
        ..columns(w)
    };
    if !super::update_versioned(db, model, (Column::Id, id), (Column::Version, version)).await? {
        return Ok(None);
    }
    position_stop::Entity::delete_many()
        .filter(position_stop::Column::PositionId.eq(id))
        .exec(db)
        .await?;
    set_stops(db, id, &w.fields.stop_ids).await?;
    let Some(model) = find(db, id).await? else {
        return Ok(None);
    };
    index_for_search(db, &model).await?;
    Ok(Some(model))
}

/// SQLite: the position's title and description in the search index (PostgreSQL's is a
/// generated column).
async fn index_for_search(db: &impl ConnectionTrait, p: &Model) -> Result<(), DbErr> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    super::search::index(db, &[(p.id, &p.title, p.description.as_deref())]).await
}

async fn set_stops(db: &impl ConnectionTrait, position_id: Uuid, stop_ids: &[Uuid]) -> Result<(), DbErr> {
    if stop_ids.is_empty() {
        return Ok(());
    }
    let rows = stop_ids.iter().map(|stop_id| position_stop::ActiveModel {
        position_id: Set(position_id),
        stop_id: Set(*stop_id),
    });
    position_stop::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Records a hire (or its staffing and status otherwise changed by the pipeline) if the
/// position is still at `version`.
pub async fn set_staffing(
    db: &impl ConnectionTrait,
    current: &Model,
    staffing: Staffing,
    status: PositionStatus,
) -> Result<bool, DbErr> {
    let changes = ActiveModel {
        openings: Set(staffing.openings_count()),
        filled: Set(staffing.filled()),
        status: Set(status.as_str().to_owned()),
        version: Set(current.version + 1),
        updated_at: Set(super::now()),
        ..Default::default()
    };
    super::update_versioned(
        db,
        changes,
        (Column::Id, current.id),
        (Column::Version, current.version),
    )
    .await
}

pub async fn delete(db: &impl ConnectionTrait, id: Uuid, version: i32) -> Result<bool, DbErr> {
    super::delete_versioned::<Entity>(db, (Column::Id, id), (Column::Version, version)).await
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).one(db).await
}

/// These rows, by id, in one query.
pub async fn find_many(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<HashMap<Uuid, Model>, DbErr> {
    super::find_many::<Entity>(db, Column::Id, ids, |m| m.id).await
}

/// The tour's position of this employer with this title, if any.
pub async fn find_by_title(
    db: &impl ConnectionTrait,
    tour_id: Uuid,
    organisation_id: Uuid,
    title: &str,
) -> Result<Option<Model>, DbErr> {
    Entity::find()
        .filter(Column::TourId.eq(tour_id))
        .filter(Column::OrganisationId.eq(organisation_id))
        .filter(Column::Title.eq(title))
        .one(db)
        .await
}

/// Reads and locks the position until the transaction ends: hires and edits of one position
/// take their turn (`FOR UPDATE` on PostgreSQL; SQLite's write transaction is the lock).
pub async fn find_for_update(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).lock_exclusive().one(db).await
}

/// Reads the position and keeps it from changing until the transaction ends, letting other
/// readers (concurrent applications) through: an application is never accepted by a position
/// that is being closed at the same moment.
pub async fn find_for_share(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<Model>, DbErr> {
    Entity::find_by_id(id).lock_shared().one(db).await
}

/// The positions of a tour that close on a given day (to recompute when the tour's zone moves).
pub async fn with_closing_day(db: &impl ConnectionTrait, tour_id: Uuid) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::TourId.eq(tour_id))
        .filter(Column::ClosesOn.is_not_null())
        .all(db)
        .await
}

pub async fn set_closes_at(db: &impl ConnectionTrait, id: Uuid, closes_at: Option<DateTime<Utc>>) -> Result<(), DbErr> {
    Entity::update_many()
        .col_expr(Column::ClosesAt, Expr::value(closes_at))
        .filter(Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

#[derive(Debug, FromQueryResult)]
struct StopRow {
    position_id: Uuid,
    stop_id: Uuid,
}

/// The stops of each position, in itinerary order: one query for a whole page.
pub async fn stops_of(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<HashMap<Uuid, Vec<Uuid>>, DbErr> {
    let mut out: HashMap<Uuid, Vec<Uuid>> = ids.iter().map(|id| (*id, Vec::new())).collect();
    if ids.is_empty() {
        return Ok(out);
    }
    let query = Query::select()
        .column((position_stop::Entity, position_stop::Column::PositionId))
        .column((position_stop::Entity, position_stop::Column::StopId))
        .from(position_stop::Entity)
        .inner_join(
            stop::Entity,
            Expr::col((stop::Entity, stop::Column::Id)).equals((position_stop::Entity, position_stop::Column::StopId)),
        )
        .and_where(super::any_of(
            db.get_database_backend(),
            "position_stops",
            "position_id",
            ids,
        ))
        .order_by((stop::Entity, stop::Column::ArrivesAt), Order::Asc)
        .order_by((stop::Entity, stop::Column::Id), Order::Asc)
        .to_owned();
    for row in db.query_all(&query).await? {
        let row = StopRow::from_query_result(&row, "")?;
        out.entry(row.position_id).or_default().push(row.stop_id);
    }
    Ok(out)
}

/// A position with what showing it needs: its employer's name and its stops in itinerary order.
#[derive(Debug)]
pub struct Shown {
    pub position: Model,
    pub employer_name: String,
    pub stop_ids: Vec<Uuid>,
}

impl Shown {
    /// From a row with the position's columns, `employer_name` and `stop_ids`.
    fn from_row(row: &QueryResult) -> Result<Self, DbErr> {
        let stop_ids = row.try_get::<Option<String>>("", "stop_ids")?;
        let stop_ids = stop_ids
            .as_deref()
            .map(|ids| ids.split(',').map(Uuid::parse_str).collect::<Result<Vec<_>, _>>())
            .transpose()
            .map_err(|e| DbErr::Type(format!("a position's stop id: {e}")))?
            .unwrap_or_default();
        Ok(Self {
            position: Model::from_query_result(row, "")?,
            employer_name: row.try_get("", "employer_name")?,
            stop_ids,
        })
    }
}

/// A position's employer's name, for its row `p`: a scalar subquery (an index lookup).
const EMPLOYER_NAME: &str = "(SELECT o.name FROM organisations o WHERE o.id = p.organisation_id)";

/// A position's stops in itinerary order, for its row `p`, as a comma-separated text aggregate,
/// each backend with its own (SQLite's ids are blobs).
fn stop_ids(backend: DbBackend) -> &'static str {
    if backend == DbBackend::Postgres {
        "(SELECT string_agg(ps.stop_id::text, ',' ORDER BY s.arrives_at, s.id) \
          FROM position_stops ps JOIN stops s ON s.id = ps.stop_id WHERE ps.position_id = p.id)"
    } else {
        "(SELECT group_concat(hex(ps.stop_id), ',' ORDER BY s.arrives_at, s.id) \
          FROM position_stops ps JOIN stops s ON s.id = ps.stop_id WHERE ps.position_id = p.id)"
    }
}

/// One position as shown, with its tour's status (what decides whether the public sees it), in
/// one statement answering one row: the public job board's hottest read. The tour's status comes
/// from a scalar subquery too (joined, PostgreSQL's plan read and hashed the whole tours table at
/// every call); the text of the statement is made once.
pub async fn find_shown(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<(Shown, String)>, DbErr> {
    static POSTGRES: LazyLock<String> = LazyLock::new(|| shown_sql(DbBackend::Postgres, "$1"));
    static SQLITE: LazyLock<String> = LazyLock::new(|| shown_sql(DbBackend::Sqlite, "?"));
    let backend = db.get_database_backend();
    let sql = if backend == DbBackend::Postgres {
        &POSTGRES
    } else {
        &SQLITE
    };
    let Some(row) = db
        .query_one_raw(Statement::from_sql_and_values(backend, sql.as_str(), [id.into()]))
        .await?
    else {
        return Ok(None);
    };
    Ok(Some((Shown::from_row(&row)?, row.try_get("", "tour_status")?)))
}

/// `find_shown`'s statement, given the backend and its placeholder.
fn shown_sql(backend: DbBackend, placeholder: &str) -> String {
    use sea_orm::{IdenStatic, Iterable};
    let columns: Vec<String> = Column::iter().map(|c| format!("p.\"{}\"", c.as_str())).collect();
    format!(
        "SELECT {}, (SELECT t.status FROM tours t WHERE t.id = p.tour_id) AS tour_status, \
         {EMPLOYER_NAME} AS employer_name, {} AS stop_ids FROM positions p WHERE p.id = {placeholder}",
        columns.join(", "),
        stop_ids(backend)
    )
}

/// A page's statement (positions' columns, ordered and limited) wrapped so that the
/// same statement answers each row as shown: the subqueries run for the page's rows only, after
/// the inner statement has picked them, and never weigh on its sort. `newest` names the inner
/// statement's output column it is sorted by, descending, to keep the page's order.
fn shown_page(backend: DbBackend, inner: SelectStatement, newest: &'static str) -> SelectStatement {
    let p = Alias::new("p");
    Query::select()
        .column((p.clone(), Asterisk))
        .expr_as(Expr::cust(EMPLOYER_NAME), Alias::new("employer_name"))
        .expr_as(Expr::cust(stop_ids(backend)), Alias::new("stop_ids"))
        .from_subquery(inner, p.clone())
        .order_by((p, Alias::new(newest)), Order::Desc)
        .to_owned()
}

/// The job board's filters, with who is asking.
#[derive(Debug, Clone)]
pub struct Filter {
    pub scope: PositionScope,
    pub status: Option<PositionStatus>,
    pub tour_id: Option<Uuid>,
    pub stop_id: Option<Uuid>,
    pub organisation_id: Option<Uuid>,
    pub contract_type: Option<ContractType>,
    pub working_time: Option<WorkingTime>,
    pub city: Option<String>,
    pub sector: Option<String>,
    pub now: DateTime<Utc>,
}

/// One page of the job board as shown, newest first (ids are UUIDv7: creation order), after
/// `after`; `limit` rows (ask one more to tell whether more follow). One statement.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &Filter,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Shown>, DbErr> {
    let mut q = Entity::find().filter(conditions(filter)).limit(limit);
    if let Some(after) = after {
        q = q.filter(Column::Id.lt(after));
    }
    let inner = q.order_by_desc(Column::Id).into_query();
    let page = shown_page(db.get_database_backend(), inner, "id");
    db.query_all(&page).await?.iter().map(Shown::from_row).collect()
}

/// Where a search result stands. A search answers the positions with every word in their
/// title first (`tier` 1), then the others that match (`tier` 0), newest first within each:
/// an order each database can walk down an index and stop after a page, where ranking by a
/// relevance score would rank every match of a common word first (a fifth of the board for
/// "conseiller"). Newest is the id on PostgreSQL and the place in the search index (`seq`,
/// insertion order) on SQLite, whose FTS5 index hands out matches in that order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub tier: u8,
    pub seq: i64,
    pub id: Uuid,
}

/// One page of the positions matching `terms` as shown, in the order of [`Place`], after `after`.
pub async fn search(
    db: &impl ConnectionTrait,
    filter: &Filter,
    terms: &SearchTerms,
    after: Option<Place>,
    limit: u64,
) -> Result<Vec<(Shown, Place)>, DbErr> {
    let fts5 = match db.get_database_backend() {
        DbBackend::Sqlite => match super::search::fts5_query(db, terms).await? {
            Some(query) => Some(query),
            None => return Ok(Vec::new()),
        },
        _ => None,
    };
    let mut found = Vec::new();
    for tier in [1, 0] {
        let start = match after {
            Some(p) if p.tier < tier => continue,
            Some(p) if p.tier == tier => Some(p),
            _ => None,
        };
        let want = limit - found.len() as u64;
        if let Some(fts5) = &fts5 {
            for (shown, seq) in sqlite_tier(db, filter, fts5, tier, start.map(|p| p.seq), want).await? {
                let id = shown.position.id;
                found.push((shown, Place { tier, seq, id }));
            }
        } else {
            for shown in pg_tier(db, filter, terms, tier, start.map(|p| p.id), want).await? {
                let id = shown.position.id;
                found.push((shown, Place { tier, seq: 0, id }));
            }
        }
        if found.len() as u64 >= limit {
            break;
        }
    }
    Ok(found)
}

fn conditions(f: &Filter) -> Condition {
    let mut c = Condition::all();
    match f.scope {
        PositionScope::All => {}
        PositionScope::Board => c = c.add(on_the_board(f.now)),
        PositionScope::BoardAndOwn(own) => {
            c = c.add(
                Condition::any()
                    .add(on_the_board(f.now))
                    .add(Column::OrganisationId.eq(own)),
            );
        }
    }
    if let Some(status) = f.status {
        c = c.add(Column::Status.eq(status.as_str()));
    }
    if let Some(id) = f.tour_id {
        c = c.add(Column::TourId.eq(id));
    }
    if let Some(id) = f.organisation_id {
        c = c.add(Column::OrganisationId.eq(id));
    }
    if let Some(stop_id) = f.stop_id {
        c = c.add(
            Column::Id.in_subquery(
                Query::select()
                    .column(position_stop::Column::PositionId)
                    .from(position_stop::Entity)
                    .and_where(position_stop::Column::StopId.eq(stop_id))
                    .to_owned(),
            ),
        );
    }
    if let Some(t) = f.contract_type {
        c = c.add(Column::ContractType.eq(t.as_str()));
    }
    if let Some(t) = f.working_time {
        c = c.add(Column::WorkingTime.eq(t.as_str()));
    }
    if let Some(city) = &f.city {
        c = c.add(Column::City.eq(city.as_str()));
    }
    if let Some(sector) = &f.sector {
        c = c.add(Column::Sector.eq(sector.as_str()));
    }
    c
}

/// What the public sees: open positions of published tours, before their closing day ends.
fn on_the_board(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(Column::Status.eq(PositionStatus::Open.as_str()))
        .add(
            Column::TourId.in_subquery(
                Query::select()
                    .column(tour::Column::Id)
                    .from(tour::Entity)
                    .and_where(tour::Column::Status.eq(TourStatus::Published.as_str()))
                    .to_owned(),
            ),
        )
        .add(
            Condition::any()
                .add(Column::ClosesAt.is_null())
                .add(Column::ClosesAt.gt(now)),
        )
}

/// How many of the newest candidates (the filters' rows, search aside) a PostgreSQL search
/// walks before it turns to the full-text index instead.
const SEARCH_WALK: u64 = 2000;

/// PostgreSQL: one page of a search tier, newest first, after `after`. A common word ("conseiller"
/// is in a fifth of the board) fills a page within the newest rows: walking the id index and
/// checking each row stops after a page, where the GIN index would hand over every match to be
/// sorted. A rare word would have the walk go through the whole board: the walk stops after
/// [`SEARCH_WALK`] candidates, and a page it did not fill comes from the GIN index (few matches
/// to sort), ordered by an expression the id index cannot give so that the planner cannot turn
/// it back into a walk. The planner alone picks between the two by its estimate of a word's
/// frequency, which for prefixes of words it has no statistics of is far too high.
async fn pg_tier(
    db: &impl ConnectionTrait,
    filter: &Filter,
    terms: &SearchTerms,
    tier: u8,
    after: Option<Uuid>,
    want: u64,
) -> Result<Vec<Shown>, DbErr> {
    use sea_orm::Iterable;
    let (Some(in_window), Some(anywhere)) = (tsquery_tier(terms, tier, "w"), tsquery_tier(terms, tier, "positions"))
    else {
        return Ok(Vec::new());
    };
    let after_cond = |q: sea_orm::Select<Entity>| match after {
        Some(id) => q.filter(Column::Id.lt(id)),
        None => q,
    };
    let mut window = after_cond(Entity::find().filter(conditions(filter)))
        .order_by_desc(Column::Id)
        .limit(SEARCH_WALK);
    QueryTrait::query(&mut window)
        .expr_as(Expr::cust("\"positions\".\"search\""), Alias::new("search"))
        .expr_as(Expr::cust("\"positions\".\"search_title\""), Alias::new("search_title"));
    let w = Alias::new("w");
    let walk = Query::select()
        .columns(Column::iter().map(|c| (w.clone(), c)))
        .from_subquery(QueryTrait::into_query(window), w.clone())
        .and_where(in_window)
        .order_by((w, Column::Id), Order::Desc)
        .limit(want)
        .to_owned();
    let backend = db.get_database_backend();
    let rows = db.query_all(&shown_page(backend, walk, "id")).await?;
    if rows.len() as u64 >= want {
        return rows.iter().map(Shown::from_row).collect();
    }
    let matching = after_cond(Entity::find().filter(conditions(filter)).filter(anywhere))
        .order_by(Expr::cust("uuid_send(\"positions\".\"id\")"), Order::Desc)
        .limit(want)
        .into_query();
    let rows = db.query_all(&shown_page(backend, matching, "id")).await?;
    rows.iter().map(Shown::from_row).collect()
}

/// PostgreSQL: the condition of a search tier on `table`'s row (1: every word in the title;
/// 0: the other matches). The query text is written into the statement, not bound: a
/// prepared statement would soon be planned once for every word. The words are letters and
/// digits only (`SearchTerms`), so nothing in them is SQL or query syntax; quotes are doubled
/// anyway.
fn tsquery_tier(terms: &SearchTerms, tier: u8, table: &str) -> Option<Expr> {
    let text = super::search::tsquery(terms)?.replace('\'', "''");
    let in_title = format!("\"{table}\".\"search_title\" @@ to_tsquery('french', jobtour_unaccent('{text}'))");
    Some(Expr::cust(if tier == 1 {
        in_title
    } else {
        format!("\"{table}\".\"search\" @@ to_tsquery('french', jobtour_unaccent('{text}')) AND NOT {in_title}")
    }))
}

/// SQLite: one page of a search tier as shown, with each row's place in the index (`seq`), in
/// FTS5's index order (newest first), after the index place `after`; FTS5 hands out matches in
/// that order, so the page ends the walk.
async fn sqlite_tier(
    db: &impl ConnectionTrait,
    filter: &Filter,
    fts5: &str,
    tier: u8,
    after: Option<i64>,
    want: u64,
) -> Result<Vec<(Shown, i64)>, DbErr> {
    let matching = fts5_tier(fts5, tier);
    let mut q = Entity::find().filter(conditions(filter)).limit(want);
    let select = QueryTrait::query(&mut q);
    let seq = Expr::col((Alias::new("positions_fts"), Alias::new("rowid")));
    select
        .join_as(
            JoinType::InnerJoin,
            Alias::new("position_search"),
            Alias::new("s"),
            Expr::col((Alias::new("s"), Alias::new("position_id"))).equals((Entity, Column::Id)),
        )
        .join(
            JoinType::InnerJoin,
            Alias::new("positions_fts"),
            seq.clone().equals((Alias::new("s"), Alias::new("rowid"))),
        )
        .and_where(Expr::cust_with_values("positions_fts MATCH ?", [matching]))
        .expr_as(seq.clone(), Alias::new("seq"))
        .order_by_expr(seq.clone(), Order::Desc);
    if let Some(after) = after {
        select.and_where(seq.lt(after));
    }
    let page = shown_page(db.get_database_backend(), q.into_query(), "seq");
    let rows = db.query_all(&page).await?;
    rows.iter()
        .map(|row| Ok((Shown::from_row(row)?, row.try_get("", "seq")?)))
        .collect()
}

/// SQLite: the FTS5 query of a search tier (1: every word in the title column; 0: the other
/// matches) from the search's query `all`.
fn fts5_tier(all: &str, tier: u8) -> String {
    let title = format!("{{title}} : ({all})");
    if tier == 1 {
        title
    } else {
        format!("({all}) NOT {title}")
    }
}
