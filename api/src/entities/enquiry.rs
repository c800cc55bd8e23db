use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "enquiries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub name: Option<String>,
    /// Lower-cased.
    pub email: Option<String>,
    pub company: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    pub subject: String,
    pub message: Option<String>,
    pub consent_at: DateTimeUtc,
    pub privacy_notice_version: String,
    pub status: String,
    pub assignee_id: Option<Uuid>,
    /// SHA-256 of the enquirer's access token, hex.
    pub token_hash: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub closed_at: Option<DateTimeUtc>,
    pub erased_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
