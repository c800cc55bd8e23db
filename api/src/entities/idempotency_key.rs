use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "idempotency_keys")]
pub struct Model {
    /// The operation, e.g. `createApplication`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub scope: String,
    /// SHA-256 of the client's key, hex.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key_hash: String,
    /// SHA-256 of the request: path and canonical body.
    pub fingerprint: String,
    /// `in_flight` or `done`.
    pub state: String,
    pub status_code: Option<i32>,
    pub location: Option<String>,
    pub etag: Option<String>,
    /// The answer's body, secrets left out.
    pub body: Option<String>,
    pub secret_salt: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// The resource the answer is about (erasure removes the record with it).
    pub resource_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
