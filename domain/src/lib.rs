//! The vocabulary and the rules of jobtour.
//!
//! Everything here is plain data and pure functions: no web framework, no database, no clock
//! of its own. Values are parsed once at the edge into types that cannot hold invalid data
//! (`Email`, `Password`, `Role`, `TourDates`, `StopTimes`…); the API crate maps [`DomainError`] to HTTP problems.

pub mod error;
pub mod geo;
pub mod organisation;
pub mod text;
pub mod throttle;
pub mod tour;
pub mod user;

pub use error::{DomainError, FieldError, Fields};
