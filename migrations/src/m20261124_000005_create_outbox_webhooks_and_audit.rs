//! Candidates' data rights and reliable notifications: the outbox (e-mails and webhook calls
//! written in the transaction that causes them, delivered by a worker), partners' webhooks and
//! their delivery attempts, the audit log, and what erasure needs to find everything again.

use crate::{index, one_of};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Applications {
    Table,
    Id,
    ErasedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKeys {
    Table,
    ResourceId,
}

#[derive(DeriveIden)]
enum Webhooks {
    Table,
    Id,
    OrganisationId,
    Url,
    Events,
    Secret,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    Kind,
    EventType,
    ApplicationId,
    WebhookId,
    Payload,
    Summary,
    Status,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    LastError,
    CreatedAt,
    DeliveredAt,
}

#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    Id,
    OutboxId,
    WebhookId,
    Attempt,
    StatusCode,
    Error,
    At,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    ActorKind,
    UserId,
    Action,
    ObjectType,
    ObjectId,
    RequestId,
    Status,
    At,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // When an application's personal data was erased (it stays, anonymous, for the figures).
        manager
            .alter_table(
                Table::alter()
                    .table(Applications::Table)
                    .add_column(timestamp_with_time_zone_null(Applications::ErasedAt))
                    .to_owned(),
            )
            .await?;
        // Which resource an idempotency record answered with (the answer may hold personal data).
        manager
            .alter_table(
                Table::alter()
                    .table(IdempotencyKeys::Table)
                    .add_column(uuid_null(IdempotencyKeys::ResourceId))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_idempotency_keys_resource",
            IdempotencyKeys::Table,
            [IdempotencyKeys::ResourceId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Webhooks::Table)
                    .col(uuid(Webhooks::Id).primary_key())
                    .col(uuid(Webhooks::OrganisationId))
                    .col(text(Webhooks::Url))
                    // A JSON array of event types.
                    .col(text(Webhooks::Events))
                    // The signing secret (HMAC-SHA256); shown once, kept to sign.
                    .col(text(Webhooks::Secret))
                    .col(timestamp_with_time_zone(Webhooks::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhooks_organisation")
                            .from(Webhooks::Table, Webhooks::OrganisationId)
                            .to(Organisations::Table, Organisations::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_webhooks_organisation",
            Webhooks::Table,
            [Webhooks::OrganisationId, Webhooks::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(uuid(Outbox::Id).primary_key())
                    .col(text(Outbox::Kind))
                    .col(text(Outbox::EventType))
                    // The candidate it is about, so that erasure finds it.
                    .col(uuid_null(Outbox::ApplicationId))
                    .col(uuid_null(Outbox::WebhookId))
                    // What to send (an e-mail, a webhook body); wiped once delivered or erased.
                    .col(text_null(Outbox::Payload))
                    // What it was, without personal data (an e-mail's subject), kept for the export.
                    .col(text(Outbox::Summary))
                    .col(text(Outbox::Status))
                    .col(integer(Outbox::Attempts))
                    .col(timestamp_with_time_zone(Outbox::NextAttemptAt))
                    // While a worker delivers it: other workers leave it alone until then.
                    .col(timestamp_with_time_zone_null(Outbox::LeaseUntil))
                    .col(text_null(Outbox::LastError))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .col(timestamp_with_time_zone_null(Outbox::DeliveredAt))
                    .check(("outbox_kind", one_of(Outbox::Kind, &["email", "webhook"])))
                    .check((
                        "outbox_status",
                        one_of(
                            Outbox::Status,
                            &["pending", "sending", "delivered", "failed", "cancelled"],
                        ),
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_outbox_application")
                            .from(Outbox::Table, Outbox::ApplicationId)
                            .to(Applications::Table, Applications::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_outbox_webhook")
                            .from(Outbox::Table, Outbox::WebhookId)
                            .to(Webhooks::Table, Webhooks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The worker's question: what is due, oldest first.
        index(
            manager,
            "idx_outbox_due",
            Outbox::Table,
            [Outbox::Status, Outbox::NextAttemptAt],
        )
        .await?;
        index(
            manager,
            "idx_outbox_application",
            Outbox::Table,
            [Outbox::ApplicationId],
        )
        .await?;
        index(
            manager,
            "idx_outbox_webhook",
            Outbox::Table,
            [Outbox::WebhookId, Outbox::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(uuid(WebhookDeliveries::Id).primary_key())
                    .col(uuid(WebhookDeliveries::OutboxId))
                    .col(uuid(WebhookDeliveries::WebhookId))
                    .col(integer(WebhookDeliveries::Attempt))
                    .col(integer_null(WebhookDeliveries::StatusCode))
                    .col(text_null(WebhookDeliveries::Error))
                    .col(timestamp_with_time_zone(WebhookDeliveries::At))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_deliveries_outbox")
                            .from(WebhookDeliveries::Table, WebhookDeliveries::OutboxId)
                            .to(Outbox::Table, Outbox::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_deliveries_webhook")
                            .from(WebhookDeliveries::Table, WebhookDeliveries::WebhookId)
                            .to(Webhooks::Table, Webhooks::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_webhook_deliveries_webhook",
            WebhookDeliveries::Table,
            [WebhookDeliveries::WebhookId, WebhookDeliveries::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(uuid(AuditLog::Id).primary_key())
                    .col(text(AuditLog::ActorKind))
                    .col(uuid_null(AuditLog::UserId))
                    // The operation, e.g. `PATCH /api/v1/positions/{id}`.
                    .col(text(AuditLog::Action))
                    .col(text(AuditLog::ObjectType))
                    .col(uuid_null(AuditLog::ObjectId))
                    .col(text(AuditLog::RequestId))
                    .col(integer(AuditLog::Status))
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .check((
                        "audit_log_actor",
                        one_of(AuditLog::ActorKind, &["staff", "candidate", "system"]),
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "idx_audit_log_object",
            AuditLog::Table,
            [
                AuditLog::ObjectType.into_iden(),
                AuditLog::ObjectId.into_iden(),
                AuditLog::Id.into_iden(),
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditLog::Table.into_iden(),
            WebhookDeliveries::Table.into_iden(),
            Outbox::Table.into_iden(),
            Webhooks::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        manager
            .drop_index(Index::drop().name("idx_idempotency_keys_resource").to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(IdempotencyKeys::Table)
                    .drop_column(IdempotencyKeys::ResourceId)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Applications::Table)
                    .drop_column(Applications::ErasedAt)
                    .to_owned(),
            )
            .await
    }
}
