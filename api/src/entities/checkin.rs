use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "checkins")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub stop_id: Uuid,
    /// The stop's tour (copied).
    pub tour_id: Uuid,
    pub application_id: Uuid,
    /// The employer of the application's position (copied).
    pub organisation_id: Uuid,
    /// Registered at the bus without having applied before.
    pub walk_in: bool,
    /// Let in by an organiser outside the stop's hours.
    pub forced: bool,
    /// When the code was scanned (an offline phone's queue says when).
    pub scanned_at: DateTimeUtc,
    /// When the server recorded it.
    pub created_at: DateTimeUtc,
    pub by_user_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
