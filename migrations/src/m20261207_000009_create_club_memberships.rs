//! Professional clubs: an organisation's figures (head count, sites, founding date), the
//! memberships of organisations in clubs with their history (a membership ends, it is never
//! deleted), and mergers (a merged club keeps its row, marked `merged` with the club it went
//! into). One open membership per club and member: a partial unique index, so that concurrent
//! joins and mergers cannot duplicate one.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Organisations {
    Table,
    Id,
    Employees,
    Centres,
    FoundedOn,
    Status,
    MergedIntoId,
}

#[derive(DeriveIden)]
enum Memberships {
    Table,
    Id,
    ClubId,
    MemberId,
    JoinedOn,
    LeftOn,
    CreatedAt,
}

#[sea_orm_migration::async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        for column in [
            integer_null(Organisations::Employees),
            integer_null(Organisations::Centres),
            date_null(Organisations::FoundedOn),
            text(Organisations::Status).default("active").to_owned(),
            uuid_null(Organisations::MergedIntoId),
        ] {
            manager
                .alter_table(Table::alter().table(Organisations::Table).add_column(column).to_owned())
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Memberships::Table)
                    .col(uuid(Memberships::Id).primary_key())
                    .col(uuid(Memberships::ClubId))
                    .col(uuid(Memberships::MemberId))
                    .col(date(Memberships::JoinedOn))
                    // The first day it no longer belongs; `null` while it does.
                    .col(date_null(Memberships::LeftOn))
                    .col(timestamp_with_time_zone(Memberships::CreatedAt))
                    .check((
                        "memberships_not_own",
                        Expr::col(Memberships::ClubId).ne(Expr::col(Memberships::MemberId)),
                    ))
                    .check((
                        "memberships_dates",
                        Expr::col(Memberships::LeftOn)
                            .is_null()
                            .or(Expr::col(Memberships::LeftOn).gte(Expr::col(Memberships::JoinedOn))),
                    ))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_memberships_club")
                            .from(Memberships::Table, Memberships::ClubId)
                            .to(Organisations::Table, Organisations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_memberships_member")
                            .from(Memberships::Table, Memberships::MemberId)
                            .to(Organisations::Table, Organisations::Id)
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        // Partial indexes: the same SQL on both databases.
        db.execute_unprepared(
            "CREATE UNIQUE INDEX ux_memberships_open ON memberships (club_id, member_id) WHERE left_on IS NULL",
        )
        .await?;
        db.execute_unprepared("CREATE INDEX ix_memberships_club ON memberships (club_id, id)")
            .await?;
        db.execute_unprepared("CREATE INDEX ix_memberships_member ON memberships (member_id) WHERE left_on IS NULL")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Memberships::Table).to_owned())
            .await?;
        for column in [
            Organisations::MergedIntoId,
            Organisations::Status,
            Organisations::FoundedOn,
            Organisations::Centres,
            Organisations::Employees,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Organisations::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
