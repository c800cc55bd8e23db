//! The courier: a task inside the server that delivers the outbox — e-mails over SMTP,
//! webhook calls over HTTP — with retries and exponential backoff for a day.
//!
//! Several servers on one PostgreSQL database share the work without ever sending one message
//! twice at once: a message is claimed (`FOR UPDATE SKIP LOCKED`) and leased to one courier;
//! another takes it again only once the lease has run out (its courier died). On SQLite one
//! writer claims at a time. A message whose delivery is not known for sure (the process died
//! after sending, before recording it) is sent again: delivery is at least once, and each
//! carries a stable id (`Message-ID`, `Jobtour-Event-Id`) for the receiver to drop a repeat.

use super::Letter;
use crate::auth::hex;
use crate::config::NotifySettings;
use crate::db::Db;
use crate::entities::outbox::Model as Message;
use crate::metrics::Metrics;
use crate::repo::{self, outbox, webhooks};
use chrono::{TimeDelta, Utc};
use futures_util::StreamExt;
use hmac::{KeyInit, Mac};
use jobtour_domain::outbox::Backoff;
use jobtour_domain::webhook;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use uuid::Uuid;

/// How long a claimed message is a courier's own: longer than a whole batch may take (two
/// waves of deliveries, each cut off at [`DELIVERY_TIMEOUT`]), so that no other courier takes
/// it while it is being sent.
const LEASE: TimeDelta = TimeDelta::seconds(120);
/// Messages claimed at once, and delivered side by side.
const BATCH: u64 = 16;
const IN_FLIGHT: usize = 8;
/// The longest one delivery may take, all steps included.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(45);
const _: () = assert!(
    (BATCH as usize).div_ceil(IN_FLIGHT) as u64 * DELIVERY_TIMEOUT.as_secs() < LEASE.num_seconds() as u64,
    "a batch must be delivered within its lease"
);
/// A partner's server answers within this, or the call has failed.
pub const WEBHOOK_TIMEOUT: Duration = Duration::from_secs(5);
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// What became of a message that did not fail.
#[derive(Debug)]
enum Sent {
    /// Delivered; with what it said, without personal data, when it was written now.
    Delivered(Option<String>),
    /// Nothing to send any more (the person was erased, the booking is over).
    Dropped,
}

/// Why a delivery did not happen.
#[derive(Debug)]
enum Failure {
    /// Try again later (connection refused, timeout, 4xx/5xx from a partner, SMTP 4xx).
    Retry(String),
    /// Trying again cannot help (SMTP 5xx, a refused target, a broken message).
    Final(String),
}

/// What delivers the outbox.
#[derive(Clone)]
pub struct Courier {
    db: Db,
    smtp: Option<AsyncSmtpTransport<Tokio1Executor>>,
    from: Mailbox,
    http: reqwest::Client,
    allow_private: bool,
    backoff: Backoff,
    poll: Duration,
    metrics: Metrics,
}

impl std::fmt::Debug for Courier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Courier")
            .field("smtp", &self.smtp.is_some())
            .field("allow_private", &self.allow_private)
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

impl Courier {
    pub fn new(db: Db, settings: &NotifySettings, metrics: Metrics) -> anyhow::Result<Self> {
        let smtp = match &settings.smtp_url {
            Some(url) => Some(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)?
                    .timeout(Some(SMTP_TIMEOUT))
                    .build(),
            ),
            None => None,
        };
        let mut http = reqwest::Client::builder()
            .timeout(WEBHOOK_TIMEOUT)
            .connect_timeout(WEBHOOK_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("jobtour-webhooks/", env!("CARGO_PKG_VERSION")));
        if !settings.webhook_allow_private {
            http = http.dns_resolver(Arc::new(PublicOnly));
        }
        Ok(Self {
            db,
            smtp,
            from: settings.mail_from.parse()?,
            http: http.build()?,
            allow_private: settings.webhook_allow_private,
            backoff: Backoff::daily(TimeDelta::milliseconds(
                i64::try_from(settings.outbox_retry_base_ms).unwrap_or(30_000),
            )),
            poll: Duration::from_millis(settings.outbox_poll_ms),
            metrics,
        })
    }

    /// Delivers until the handle is aborted: a round, then a pause when there was nothing
    /// more to claim.
    pub fn spawn(self) -> JoinHandle<()> {
        tokio::spawn(async move {
            loop {
                match self.round().await {
                    Ok(n) if n as u64 == BATCH => continue,
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "the outbox could not be read"),
                }
                tokio::time::sleep(self.poll).await;
            }
        })
    }

    /// Claims the messages due and delivers them; how many were claimed.
    pub async fn round(&self) -> Result<usize, sea_orm::DbErr> {
        let now = repo::now();
        let claimed = outbox::claim_due(self.db.conn(), now, now + LEASE, BATCH).await?;
        let n = claimed.len();
        futures_util::stream::iter(claimed)
            .for_each_concurrent(IN_FLIGHT, |m| async move {
                if let Err(e) = self.settle(&m).await {
                    tracing::warn!(outbox_id = %m.id, error = %e, "a delivery could not be recorded");
                }
            })
            .await;
        Ok(n)
    }

    /// Delivers one message and records how it went.
    async fn settle(&self, m: &Message) -> Result<(), sea_orm::DbErr> {
        let delivery = async {
            match m.kind.as_str() {
                "email" => self.send_mail(m).await,
                _ => self.call_webhook(m).await,
            }
        };
        let outcome = tokio::time::timeout(DELIVERY_TIMEOUT, delivery)
            .await
            .unwrap_or_else(|_| Err(Failure::Retry("the delivery took too long".to_owned())));
        let now = repo::now();
        match outcome {
            Ok(sent) => {
                let (delivered, summary) = match sent {
                    Sent::Delivered(summary) => (true, summary),
                    Sent::Dropped => (false, None),
                };
                outbox::settled(self.db.conn(), m, delivered, summary.as_deref(), now).await?;
                let outcome = if delivered { "delivered" } else { "dropped" };
                self.metrics.outbox_delivery(&m.kind, outcome);
                tracing::info!(outbox_id = %m.id, kind = %m.kind, event = %m.event_type, attempt = m.attempts, outcome);
            }
            Err(failure) => {
                let (next, error) = match failure {
                    Failure::Retry(e) => (self.backoff.next_attempt(attempt(m), m.created_at, now), e),
                    Failure::Final(e) => (None, e),
                };
                outbox::not_delivered(self.db.conn(), m, next, &error).await?;
                let outcome = if next.is_some() { "retried" } else { "failed" };
                self.metrics.outbox_delivery(&m.kind, outcome);
                tracing::warn!(outbox_id = %m.id, kind = %m.kind, event = %m.event_type, attempt = m.attempts,
                    retry_at = ?next, error = %error, "not delivered");
            }
        }
        Ok(())
    }

    async fn send_mail(&self, m: &Message) -> Result<Sent, Failure> {
        let letter: Letter = payload(m)?;
        let mail = super::write(self.db.conn(), m.application_id, letter)
            .await
            .map_err(|e| Failure::Retry(format!("could not write the e-mail: {}", e.code())))?;
        let Some(mail) = mail else {
            return Ok(Sent::Dropped);
        };
        let subject = mail.subject.clone();
        let Some(smtp) = &self.smtp else {
            // No mail server configured: say so without the address or the text.
            tracing::info!(outbox_id = %m.id, event = %m.event_type, "no JOBTOUR_SMTP_URL: e-mail not sent, marked sent");
            return Ok(Sent::Delivered(Some(subject)));
        };
        let message = self.compose(m.id, mail)?;
        smtp.send(message)
            .await
            .map(|_| Sent::Delivered(Some(subject)))
            .map_err(|e| {
                // The server's own words may quote the address: keep its code only.
                match e.status() {
                    Some(code) if e.is_permanent() => Failure::Final(format!("SMTP {code}: refused for good")),
                    Some(code) => Failure::Retry(format!("SMTP {code}: refused for now")),
                    None if e.is_timeout() => Failure::Retry("the mail server did not answer in time".to_owned()),
                    None => Failure::Retry("the mail server could not be reached".to_owned()),
                }
            })
    }

    fn compose(&self, id: Uuid, mail: super::mail::Mail) -> Result<lettre::Message, Failure> {
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|_| Failure::Final("the recipient's address is not valid".to_owned()))?;
        let builder = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            .message_id(Some(format!("<{id}@jobtour>")));
        let text = SinglePart::plain(mail.text);
        let built = match mail.calendar {
            None => builder.singlepart(text),
            Some(ics) => {
                let calendar = ContentType::parse("text/calendar; charset=utf-8; method=PUBLISH")
                    .map_err(|e| Failure::Final(e.to_string()))?;
                builder.multipart(
                    MultiPart::mixed()
                        .singlepart(text)
                        .singlepart(Attachment::new("entretien.ics".to_owned()).body(ics, calendar)),
                )
            }
        };
        built.map_err(|e| Failure::Final(format!("the e-mail could not be built: {e}")))
    }

    async fn call_webhook(&self, m: &Message) -> Result<Sent, Failure> {
        let body: String = m
            .payload
            .clone()
            .ok_or_else(|| Failure::Final("nothing to send".to_owned()))?;
        let hook_id = m.webhook_id.ok_or_else(|| Failure::Final("no webhook".to_owned()))?;
        let hook = webhooks::find(self.db.conn(), hook_id)
            .await
            .map_err(|e| Failure::Retry(e.to_string()))?
            .ok_or_else(|| Failure::Final("the webhook was deleted".to_owned()))?;
        let outcome = self.post(&hook.url, &hook.secret, m.id, body).await;
        let (status, error) = match &outcome {
            Ok(status) => (Some(*status), None),
            Err((status, Failure::Retry(e) | Failure::Final(e))) => (*status, Some(e.clone())),
        };
        outbox::record_attempt(self.db.conn(), m, hook.id, status, error, repo::now())
            .await
            .map_err(|e| Failure::Retry(e.to_string()))?;
        outcome.map(|_| Sent::Delivered(None)).map_err(|(_, f)| f)
    }

    /// POSTs a signed body; the status on a 2xx, else the status (if any) and why.
    async fn post(&self, url: &str, secret: &str, id: Uuid, body: String) -> Result<u16, (Option<u16>, Failure)> {
        let target = webhook::target(url).map_err(|e| (None, Failure::Final(e.message)))?;
        if !self.allow_private
            && let Some(refused) = webhook::literal_address(&target).and_then(webhook::refused_address)
        {
            return Err((None, Failure::Final(refused.message)));
        }
        let t = Utc::now().timestamp();
        let res = self
            .http
            .post(target)
            .header("content-type", "application/json")
            .header("jobtour-event-id", id.to_string())
            .header("jobtour-signature", signature(secret, t, &body))
            .body(body)
            .send()
            .await
            .map_err(|e| (None, Failure::Retry(describe(&e))))?;
        let status = res.status().as_u16();
        if res.status().is_success() {
            Ok(status)
        } else {
            Err((Some(status), Failure::Retry(format!("answered {status}"))))
        }
    }
}

/// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body.as_bytes());
    format!("t={t},v1={}", hex(&mac.finalize().into_bytes()))
}

fn payload<T: serde::de::DeserializeOwned>(m: &Message) -> Result<T, Failure> {
    let raw = m
        .payload
        .as_deref()
        .ok_or_else(|| Failure::Final("nothing to send".to_owned()))?;
    serde_json::from_str(raw).map_err(|e| Failure::Final(format!("unreadable message: {e}")))
}

fn attempt(m: &Message) -> u32 {
    u32::try_from(m.attempts).unwrap_or(1)
}

/// A failed call, in a few words (reqwest's chain, without the URL).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    let mut cause = String::new();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        cause = s.to_string();
        source = s.source();
    }
    if cause.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {cause}")
    }
}

/// Resolves webhook hosts and keeps public addresses only, so that a name cannot lead the
/// server into its own network (the check is on the very addresses it connects to, so a name
/// that changes its answer between two lookups gains nothing).
struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let all: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = all.iter().copied().filter(|a| webhook::is_public(a.ip())).collect();
            if public.is_empty() {
                let refusal = all
                    .first()
                    .and_then(|a| webhook::refused_address(a.ip()))
                    .map_or_else(|| format!("{host} has no address"), |r| r.message);
                return Err(refusal.into());
            }
            let addrs: reqwest::dns::Addrs = Box::new(public.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_follow_the_documented_scheme() {
        // HMAC-SHA256("secret", "1700000000.{}"), computed independently.
        assert_eq!(
            signature("secret", 1_700_000_000, "{}"),
            "t=1700000000,v1=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
        );
    }
}
