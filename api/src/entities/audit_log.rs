use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `staff`, `candidate` or `system`.
    pub actor_kind: String,
    pub user_id: Option<Uuid>,
    /// The operation, e.g. `PATCH /api/v1/positions/{id}`.
    pub action: String,
    pub object_type: String,
    pub object_id: Option<Uuid>,
    pub request_id: String,
    /// The answer's status.
    pub status: i32,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
