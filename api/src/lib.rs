//! The jobtour HTTP API: a request enters in `routes/`, is authorised by `policy`, decided by
//! the `jobtour_domain` crate, persisted by `repo/` and rendered back by `routes/`.

pub mod audit;
pub mod auth;
pub mod cache;
pub mod config;
pub mod db;
pub mod demo;
pub mod edge;
pub mod entities;
pub mod error;
pub mod housekeeping;
pub mod http;
pub mod idempotency;
pub mod limits;
pub mod live;
pub mod messages;
pub mod metrics;
pub mod notify;
pub mod openapi;
pub mod policy;
pub mod privacy;
pub mod repo;
pub mod routes;
pub mod seats;
pub mod spreadsheet;
pub mod startup;
pub mod state;
pub mod telemetry;
