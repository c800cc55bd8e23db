use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "positions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub tour_id: Uuid,
    pub title: String,
    pub description: Option<String>,
    pub contract_type: String,
    pub working_time: String,
    pub city: String,
    pub postcode: Option<String>,
    pub sector: Option<String>,
    pub openings: i32,
    /// Hires so far.
    pub filled: i32,
    pub salary_min: Option<i32>,
    pub salary_max: Option<i32>,
    pub salary_period: Option<String>,
    pub status: String,
    pub closes_on: Option<Date>,
    /// The end of `closes_on` in the tour's time zone.
    pub closes_at: Option<DateTimeUtc>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
