//! Black-box tests: the real server over HTTP, each test on SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

mod common;

mod applications;
mod auth;
mod checkins;
mod clubs;
mod concurrency;
mod contract;
mod demo;
mod edge;
mod enquiries;
mod matrix;
mod notifications;
mod openapi;
mod operations;
mod organisations;
mod pagination;
mod performance;
mod positions;
mod privacy;
mod slots;
mod storage;
mod tours;
mod users;
