//! The development agency's enquiry form: enquiries from companies, with the enquirer's
//! consent and a self-service token (stored only as a hash), the organisers' workflow with its
//! history, and the link from a queued e-mail to the enquiry it is about (to erase it with the
//! enquirer's data).

use crate::{index, one_of};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    EnquiryId,
}

#[derive(DeriveIden)]
enum Enquiries {
    Table,
    Id,
    Name,
    Email,
    Company,
    Phone,
    Subject,
    Message,
    ConsentAt,
    PrivacyNoticeVersion,
    Status,
    AssigneeId,
    TokenHash,
    Version,
    CreatedAt,
    UpdatedAt,
    ClosedAt,
    ErasedAt,
}

#[derive(DeriveIden)]
enum EnquiryEvents {
    Table,
    Id,
    EnquiryId,
    FromStatus,
    ToStatus,
    AssigneeId,
    ByUserId,
    CreatedAt,
}

/// As the API knew them when this migration was written.
const SUBJECTS: &[&str] = &["setting_up", "developing", "recruiting", "partnership", "other"];
const STATUSES: &[&str] = &["new", "in_progress", "answered", "closed"];

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Enquiries::Table)
                    .col(uuid(Enquiries::Id).primary_key())
                    // Personal data: null once erased.
                    .col(text_null(Enquiries::Name))
                    .col(text_null(Enquiries::Email))
                    .col(text_null(Enquiries::Company))
                    .col(text_null(Enquiries::Phone))
                    .col(text(Enquiries::Subject))
                    .col(text_null(Enquiries::Message))
                    .col(timestamp_with_time_zone(Enquiries::ConsentAt))
                    .col(text(Enquiries::PrivacyNoticeVersion))
                    .col(text(Enquiries::Status))
                    .col(uuid_null(Enquiries::AssigneeId))
                    .col(text_null(Enquiries::TokenHash))
                    .col(integer(Enquiries::Version))
                    .col(timestamp_with_time_zone(Enquiries::CreatedAt))
                    .col(timestamp_with_time_zone(Enquiries::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Enquiries::ClosedAt))
                    .col(timestamp_with_time_zone_null(Enquiries::ErasedAt))
                    .check(("enquiries_subject", one_of(Enquiries::Subject, SUBJECTS)))
                    .check(("enquiries_status", one_of(Enquiries::Status, STATUSES)))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_enquiries_assignee")
                            .from(Enquiries::Table, Enquiries::AssigneeId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_enquiries_token")
                    .table(Enquiries::Table)
                    .col(Enquiries::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_enquiries_created",
            Enquiries::Table,
            [Enquiries::CreatedAt],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(EnquiryEvents::Table)
                    .col(uuid(EnquiryEvents::Id).primary_key())
                    .col(uuid(EnquiryEvents::EnquiryId))
                    .col(text_null(EnquiryEvents::FromStatus))
                    .col(text(EnquiryEvents::ToStatus))
                    .col(uuid_null(EnquiryEvents::AssigneeId))
                    .col(uuid_null(EnquiryEvents::ByUserId))
                    .col(timestamp_with_time_zone(EnquiryEvents::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_enquiry_events_enquiry")
                            .from(EnquiryEvents::Table, EnquiryEvents::EnquiryId)
                            .to(Enquiries::Table, Enquiries::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "ix_enquiry_events_enquiry",
            EnquiryEvents::Table,
            [EnquiryEvents::EnquiryId, EnquiryEvents::Id],
        )
        .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .add_column(uuid_null(Outbox::EnquiryId))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Outbox::Table)
                    .drop_column(Outbox::EnquiryId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(EnquiryEvents::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Enquiries::Table).to_owned())
            .await
    }
}
