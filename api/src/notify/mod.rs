//! Notifications: what the candidate and the employer's systems are told when something
//! happens. Each is written to the outbox in the transaction of the change that causes it —
//! rolled back with it, never lost when the mail server or a partner's server is down — and
//! delivered later by the [`courier`].
//!
//! E-mails go to the candidate (most are written when sent, see [`Letter`]); webhook calls to the subscriptions of the position's employer
//! (a partner only hears about its own positions) and carry ids, never personal data.

pub mod courier;
pub mod mail;

use crate::entities::{application, booking, enquiry, position, slot};
use crate::error::{ApiError, ApiResult};
use crate::repo::{self, outbox, webhooks};
use crate::seats::Reason;
use chrono::{DateTime, Utc};
use jobtour_domain::application::ApplicationStatus;
use jobtour_domain::webhook::EventType;
use mail::{Cancelled, Candidate, Interview, Mail};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

/// What an e-mail will say, as queued. Most are written when they are sent, from the rows as
/// they are then (the booking path stays short, and the queue holds ids, not personal data);
/// a cancellation is written at once, since what it cancels may be gone by then.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "letter", rename_all = "snake_case")]
pub enum Letter {
    /// Application received, with the self-service link (the token is known only now).
    Received { link: String },
    /// The application moved to `to` (`interview`, `offered`, `rejected`).
    Status { to: String },
    /// A seat was taken, by the candidate or from the waiting list.
    Booked { booking_id: Uuid, from_line: bool },
    /// Written already.
    Written(Mail),
}

/// An application arrived: the candidate gets the self-service `link`, the employer
/// `application.created`.
pub async fn application_received(
    tx: &impl ConnectionTrait,
    application: &application::Model,
    link: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let letter = Letter::Received { link: link.to_owned() };
    email(tx, application.id, "application.received", &letter, now).await?;
    let data = json!({
        "application_id": application.id,
        "position_id": application.position_id,
        "tour_id": application.tour_id,
        "status": application.status,
        "preferred_stop_id": application.preferred_stop_id,
    });
    webhook(
        tx,
        application.organisation_id,
        EventType::ApplicationCreated,
        data,
        now,
    )
    .await
}

/// The application moved along the pipeline: the candidate hears of an interview, an offer
/// or a rejection; the employer gets `application.status_changed`.
pub async fn status_changed(
    tx: &impl ConnectionTrait,
    application: &application::Model,
    from: ApplicationStatus,
    to: ApplicationStatus,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    if mail::tells(to) {
        let letter = Letter::Status {
            to: to.as_str().to_owned(),
        };
        email(
            tx,
            application.id,
            &format!("application.{}", to.as_str()),
            &letter,
            now,
        )
        .await?;
    }
    let data = json!({
        "application_id": application.id,
        "position_id": application.position_id,
        "from": from.as_str(),
        "to": to.as_str(),
    });
    webhook(
        tx,
        application.organisation_id,
        EventType::ApplicationStatusChanged,
        data,
        now,
    )
    .await
}

/// A seat was taken: by the candidate, or given to it from the waiting list (`from_line`).
pub async fn booked(
    tx: &impl ConnectionTrait,
    booking: &booking::Model,
    slot: &slot::Model,
    application: &application::Model,
    from_line: bool,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let letter = Letter::Booked {
        booking_id: booking.id,
        from_line,
    };
    let event = if from_line { "booking.won" } else { "booking.confirmed" };
    email(tx, application.id, event, &letter, now).await?;
    let data = json!({
        "booking_id": booking.id,
        "application_id": application.id,
        "position_id": application.position_id,
        "slot_id": slot.id,
        "stop_id": slot.stop_id,
        "starts_at": slot.starts_at,
        "ends_at": slot.ends_at,
        "from_waiting_list": from_line,
    });
    webhook(tx, slot.organisation_id, EventType::BookingCreated, data, now).await
}

/// A booking ended. The candidate is written to when it did not ask for something that says
/// so already (a move to another slot, a rejection, an erasure).
pub async fn cancelled(
    tx: &impl ConnectionTrait,
    booking: &booking::Model,
    reason: Reason,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let Some(slot_id) = booking.slot_id else {
        return Ok(());
    };
    let Some(slot) = repo::slots::find(tx, slot_id).await? else {
        return Ok(());
    };
    let application = find_application(tx, booking.application_id).await?;
    let why = match reason {
        Reason::Candidate => Some(Cancelled::ByCandidate),
        Reason::Withdrawn => Some(Cancelled::Withdrawn),
        Reason::SlotDeleted => Some(Cancelled::SlotDeleted),
        Reason::Moved | Reason::Rejected | Reason::Erased => None,
    };
    if let Some(why) = why {
        let about = About::load(tx, &application).await?;
        if let Some(c) = about.candidate() {
            let interview = interview(tx, booking.id, &slot).await?;
            let letter = Letter::Written(mail::cancelled(&c, &interview, why));
            email(tx, application.id, "booking.cancelled", &letter, now).await?;
        }
    }
    let data = json!({
        "booking_id": booking.id,
        "application_id": application.id,
        "position_id": application.position_id,
        "slot_id": slot.id,
        "reason": reason.as_str(),
    });
    webhook(tx, slot.organisation_id, EventType::BookingCancelled, data, now).await
}

/// The position's last opening was filled.
pub async fn position_filled(
    tx: &impl ConnectionTrait,
    position: &position::Model,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let data = json!({
        "position_id": position.id,
        "tour_id": position.tour_id,
        "openings": position.openings,
        "filled": position.filled,
    });
    webhook(tx, position.organisation_id, EventType::PositionFilled, data, now).await
}

/// An enquiry arrived: the enquirer gets an acknowledgement with its self-service `link`.
pub async fn enquiry_received(
    tx: &impl ConnectionTrait,
    enquiry: &enquiry::Model,
    link: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let (Some(to), Some(name)) = (&enquiry.email, &enquiry.name) else {
        return Ok(());
    };
    let m = mail::enquiry_received(to, name, mail::enquiry_subject(&enquiry.subject), link);
    enquiry_email(tx, enquiry.id, "enquiry.received", m, now).await
}

/// An enquiry was given to the organiser writing at `to`.
pub async fn enquiry_assigned(
    tx: &impl ConnectionTrait,
    enquiry: &enquiry::Model,
    to: &str,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let company = enquiry.company.as_deref().unwrap_or("une entreprise");
    let m = mail::enquiry_assigned(to, company, mail::enquiry_subject(&enquiry.subject), enquiry.id);
    enquiry_email(tx, enquiry.id, "enquiry.assigned", m, now).await
}

/// Queues a written e-mail about an enquiry (its payload wiped when the enquirer is erased).
async fn enquiry_email(
    tx: &impl ConnectionTrait,
    enquiry_id: Uuid,
    event: &str,
    mail: Mail,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let new = outbox::New {
        id: Uuid::now_v7(),
        kind: "email",
        event_type: event.to_owned(),
        application_id: None,
        enquiry_id: Some(enquiry_id),
        webhook_id: None,
        summary: mail.subject.clone(),
        payload: serde_json::to_string(&Letter::Written(mail)).map_err(ApiError::internal)?,
    };
    outbox::enqueue(tx, new, now).await?;
    Ok(())
}

/// Writes a queued letter about `application_id`, from the rows as they are now. `None`:
/// nothing to send any more (the person was erased, the booking is over).
pub async fn write(db: &impl ConnectionTrait, application_id: Option<Uuid>, letter: Letter) -> ApiResult<Option<Mail>> {
    if let Letter::Written(mail) = letter {
        return Ok(Some(mail));
    }
    let Some(id) = application_id else {
        return Ok(None);
    };
    let Some(application) = repo::applications::find(db, id).await? else {
        return Ok(None);
    };
    let about = About::load(db, &application).await?;
    let Some(c) = about.candidate() else {
        return Ok(None);
    };
    Ok(match letter {
        Letter::Received { link } => Some(mail::received(&c, &link)),
        Letter::Status { to } => ApplicationStatus::parse(&to).ok().and_then(|to| mail::status(&c, to)),
        Letter::Booked { booking_id, from_line } => {
            let Some(booking) = repo::slots::find_booking(db, booking_id).await? else {
                return Ok(None);
            };
            let slot = match booking.slot_id {
                Some(id) if booking.status == "active" => repo::slots::find(db, id).await?,
                _ => None,
            };
            match slot {
                Some(slot) => Some(mail::booked(&c, &interview(db, booking.id, &slot).await?, from_line)),
                None => None,
            }
        }
        Letter::Written(mail) => Some(mail),
    })
}

/// What an e-mail about an application needs: the position and its employer.
struct About<'a> {
    application: &'a application::Model,
    title: String,
    employer: String,
}

impl<'a> About<'a> {
    async fn load(tx: &impl ConnectionTrait, application: &'a application::Model) -> ApiResult<Self> {
        let position = repo::positions::find(tx, application.position_id)
            .await?
            .ok_or_else(|| ApiError::internal("an application's position is gone"))?;
        let employer = repo::organisations::find(tx, application.organisation_id)
            .await?
            .map(|o| o.name)
            .unwrap_or_default();
        Ok(Self {
            application,
            title: position.title,
            employer,
        })
    }

    /// The candidate to write to; `None` once erased.
    fn candidate(&self) -> Option<Candidate<'_>> {
        Some(Candidate {
            email: self.application.email.as_deref()?,
            first_name: self.application.first_name.as_deref().unwrap_or_default(),
            title: &self.title,
            employer: &self.employer,
        })
    }
}

async fn find_application(tx: &impl ConnectionTrait, id: Uuid) -> ApiResult<application::Model> {
    repo::applications::find(tx, id)
        .await?
        .ok_or_else(|| ApiError::internal("a booking's application is gone"))
}

/// The slot as an interview: times in its tour's zone, the stop's place.
async fn interview(tx: &impl ConnectionTrait, booking_id: Uuid, slot: &slot::Model) -> ApiResult<Interview> {
    let tour = repo::tours::find(tx, slot.tour_id)
        .await?
        .ok_or_else(|| ApiError::internal("a slot's tour is gone"))?;
    let tz = crate::routes::stops::tour_zone(&tour)?;
    let place = repo::stops::find(tx, slot.stop_id)
        .await?
        .map(|stop| crate::routes::stops::place(&stop))
        .unwrap_or_default();
    Ok(Interview {
        booking_id,
        starts_at: slot.starts_at.with_timezone(&tz),
        ends_at: slot.ends_at.with_timezone(&tz),
        place,
    })
}

/// Queues an e-mail about `application_id` (so that an erasure finds it). Its summary, kept
/// after delivery, says what it was without saying about whom (the subject, once written).
async fn email(
    tx: &impl ConnectionTrait,
    application_id: Uuid,
    event: &str,
    letter: &Letter,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    let summary = match letter {
        Letter::Written(mail) => mail.subject.clone(),
        _ => event.to_owned(),
    };
    let new = outbox::New {
        id: Uuid::now_v7(),
        kind: "email",
        event_type: event.to_owned(),
        application_id: Some(application_id),
        enquiry_id: None,
        webhook_id: None,
        summary,
        payload: serde_json::to_string(letter).map_err(ApiError::internal)?,
    };
    outbox::enqueue(tx, new, now).await?;
    Ok(())
}

/// Queues one call per webhook of `organisation_id` listening to `event`. The body is final
/// (`{id, type, created_at, data}`); it is signed when sent.
async fn webhook(
    tx: &impl ConnectionTrait,
    organisation_id: Uuid,
    event: EventType,
    data: Value,
    now: DateTime<Utc>,
) -> ApiResult<()> {
    for hook in webhooks::subscribed(tx, organisation_id, event).await? {
        let id = Uuid::now_v7();
        let body = json!({ "id": id, "type": event.as_str(), "created_at": now, "data": data });
        let new = outbox::New {
            id,
            kind: "webhook",
            event_type: event.as_str().to_owned(),
            application_id: None,
            enquiry_id: None,
            webhook_id: Some(hook.id),
            summary: event.as_str().to_owned(),
            payload: body.to_string(),
        };
        outbox::enqueue(tx, new, now).await?;
    }
    Ok(())
}
