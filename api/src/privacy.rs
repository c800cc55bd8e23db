//! Candidates' data rights: erasure (GDPR Art. 17) of everything held about a person — every
//! application made with the e-mail, their notes, tokens, idempotency records, interview seats
//! and places in line, and the messages queued or sent to them — leaving anonymous rows so that
//! the campaign's figures stay right; and the retention purge that erases, after the configured
//! months, the people of finished tours.

use crate::db::Db;
use crate::error::ApiResult;
use crate::repo::{self, applications, audit, idempotency, outbox};
use crate::seats;
use chrono::{DateTime, Months, Utc};
use sea_orm::{ConnectionTrait, DbBackend};
use uuid::Uuid;

/// Erases, in the caller's transaction, the person behind `application_id`: that application
/// and every other made with the same e-mail. Their seats go to the first in line. The ids of
/// the applications erased.
pub async fn erase_person(tx: &impl ConnectionTrait, application_id: Uuid, now: DateTime<Utc>) -> ApiResult<Vec<Uuid>> {
    let Some(application) = applications::find_for_update(tx, application_id).await? else {
        return Ok(Vec::new());
    };
    let mut ids = vec![application.id];
    if let Some(email) = &application.email {
        for other in applications::with_email(tx, email).await? {
            if other.id != application.id {
                applications::find_for_update(tx, other.id).await?;
                ids.push(other.id);
            }
        }
    }
    for id in &ids {
        erase_application(tx, *id, now).await?;
    }
    Ok(ids)
}

/// Erases one application's personal data, wherever it is held.
async fn erase_application(tx: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> ApiResult<()> {
    seats::release_all(tx, id, seats::Reason::Erased, now).await?;
    applications::erase(tx, id, now).await?;
    idempotency::forget_resource(tx, id).await?;
    outbox::forget_application(tx, id).await?;
    Ok(())
}

/// Erases, in the caller's transaction, an enquirer's personal data: the enquiry's fields and
/// token, and the e-mails about it.
pub async fn erase_enquiry(tx: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> ApiResult<()> {
    repo::enquiries::erase(tx, id, now).await?;
    outbox::forget_enquiry(tx, id).await?;
    Ok(())
}

/// Erases the enquiries closed more than `months` before `now`, one transaction each; with
/// `dry_run`, only counts them. How many.
pub async fn purge_enquiries(db: &Db, now: DateTime<Utc>, months: u32, dry_run: bool) -> ApiResult<usize> {
    let closed_before = now - Months::new(months);
    let due = repo::enquiries::past_retention(db.conn(), closed_before).await?;
    if dry_run {
        return Ok(due.len());
    }
    for id in &due {
        let tx = db.begin().await?;
        erase_enquiry(&tx, *id, now).await?;
        tx.commit().await?;
        record_purge(db, "enquiries", *id).await?;
    }
    if !due.is_empty() {
        scrub(db).await;
    }
    Ok(due.len())
}

/// The audit log's line for an erasure the retention purge made.
async fn record_purge(db: &Db, object_type: &str, id: Uuid) -> ApiResult<()> {
    let entry = audit::Entry {
        actor_kind: "system",
        user_id: None,
        action: "PURGE retention".to_owned(),
        object_type: object_type.to_owned(),
        object_id: Some(id),
        request_id: String::new(),
        status: 204,
        at: repo::now(),
    };
    audit::insert(db.conn(), entry).await?;
    Ok(())
}

/// SQLite keeps old pages in its write-ahead log until a checkpoint: after an erasure, fold the
/// log into the database file (whose freed cells `secure_delete` zeroes) and empty it. Best
/// effort: readers at that moment may keep a few frames until the next checkpoint.
pub async fn scrub(db: &Db) {
    if db.backend() == DbBackend::Sqlite
        && let Err(e) = db.conn().execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await
    {
        tracing::warn!(error = %e, "could not checkpoint the SQLite log after an erasure");
    }
}

/// What a purge did (or would do).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub applications: usize,
}

/// Erases the applications whose tour ended more than `months` before `now` (one transaction
/// each, so that a long purge holds no lock for long). With `dry_run`, only counts them.
pub async fn purge(db: &Db, now: DateTime<Utc>, months: u32, dry_run: bool) -> ApiResult<Purged> {
    let ended_by = (now.date_naive() - Months::new(months))
        .pred_opt()
        .unwrap_or(now.date_naive());
    let due = applications::past_retention(db.conn(), ended_by).await?;
    if dry_run {
        return Ok(Purged {
            applications: due.len(),
        });
    }
    let mut erased = std::collections::HashSet::new();
    for application in due {
        if erased.contains(&application.id) {
            continue;
        }
        let tx = db.begin().await?;
        let person = erase_person(&tx, application.id, now).await?;
        tx.commit().await?;
        erased.extend(person);
        record_purge(db, "applications", application.id).await?;
    }
    scrub(db).await;
    Ok(Purged {
        applications: erased.len(),
    })
}
