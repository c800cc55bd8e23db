//! sea-orm models: the shape of the tables, no behaviour. Rules live in `jobtour_domain`,
//! queries in `crate::repo`.

pub mod application;
pub mod application_event;
pub mod audit_log;
pub mod booking;
pub mod checkin;
pub mod enquiry;
pub mod enquiry_event;
pub mod idempotency_key;
pub mod login_throttle;
pub mod membership;
pub mod organisation;
pub mod outbox;
pub mod position;
pub mod position_stop;
pub mod session;
pub mod slot;
pub mod stop;
pub mod stream_ticket;
pub mod tour;
pub mod tour_partner;
pub mod user;
pub mod waiting_place;
pub mod webhook;
pub mod webhook_delivery;
