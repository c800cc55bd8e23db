//! Black-box tests: the real server over HTTP, each test on SQLite and on PostgreSQL.

mod common;

mod auth;
mod concurrency;
mod contract;
mod matrix;
mod openapi;
mod operations;
mod organisations;
mod pagination;
mod users;
