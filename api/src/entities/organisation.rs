use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organisations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    /// JSON array of strings.
    pub sectors: String,
    pub city: Option<String>,
    pub website: Option<String>,
    pub contact_email: Option<String>,
    pub description: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// Head count.
    pub employees: Option<i32>,
    /// Number of sites.
    pub centres: Option<i32>,
    pub founded_on: Option<Date>,
    /// `active` or `merged`.
    pub status: String,
    /// The club a merged club went into.
    pub merged_into_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
