use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "applications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub position_id: Uuid,
    /// The position's tour (copied: positions never move).
    pub tour_id: Uuid,
    /// The position's employer (copied).
    pub organisation_id: Uuid,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Lower-cased.
    pub email: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    pub message: Option<String>,
    pub preferred_stop_id: Option<Uuid>,
    pub consent_at: DateTimeUtc,
    pub privacy_notice_version: String,
    pub status: String,
    pub source: String,
    /// SHA-256 of the candidate's access token, hex.
    pub token_hash: Option<String>,
    pub version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// When its personal data was erased.
    pub erased_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
