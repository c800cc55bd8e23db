use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// `email` or `webhook`.
    pub kind: String,
    pub event_type: String,
    /// The candidate it is about.
    pub application_id: Option<Uuid>,
    pub webhook_id: Option<Uuid>,
    /// What to send; `None` once delivered or erased.
    pub payload: Option<String>,
    /// What it was, without personal data.
    pub summary: String,
    /// `pending`, `sending`, `delivered`, `failed` or `cancelled`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub lease_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub delivered_at: Option<DateTimeUtc>,
    /// The enquiry an e-mail is about (erased with the enquirer's data).
    pub enquiry_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
