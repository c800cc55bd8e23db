//! The vocabulary and the rules of jobtour.
//!
//! Everything here is plain data and pure functions: no web framework, no database, no clock
//! of its own. Values are parsed once at the edge into types that cannot hold invalid data
//! (`Email`, `Phone`, `TourDates`, `Staffing`…); the API crate maps [`DomainError`] to HTTP
//! problems.

pub mod application;
pub mod checkin;
pub mod club;
pub mod enquiry;
pub mod error;
pub mod geo;
pub mod interval;
pub mod organisation;
pub mod outbox;
pub mod position;
pub mod search;
pub mod slot;
pub mod text;
pub mod throttle;
pub mod tour;
pub mod user;
pub mod webhook;

pub use error::{DomainError, FieldError, Fields};

/// Declares an enum whose variants travel as fixed strings, and says each name once: `ALL`,
/// `as_str`, and `parse`, which refuses anything else with `invalid_choice` listing the
/// choices.
///
/// ```
/// jobtour_domain::wire_enum! {
///     /// A colour.
///     pub enum Colour { Red = "red", DarkBlue = "dark_blue" }
/// }
/// assert_eq!(Colour::parse("dark_blue"), Ok(Colour::DarkBlue));
/// assert_eq!(Colour::Red.as_str(), "red");
/// assert_eq!(Colour::parse("green").unwrap_err().message, "must be one of: red, dark_blue");
/// ```
#[macro_export]
macro_rules! wire_enum {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: [Self; [$($wire),+].len()] = [$(Self::$variant),+];

            /// The name on the wire and in the database.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire),+
                }
            }

            /// The variant with this wire name.
            pub fn parse(raw: &str) -> Result<Self, $crate::error::Invalid> {
                match raw {
                    $($wire => Ok(Self::$variant),)+
                    _ => Err($crate::error::Invalid::new(
                        "invalid_choice",
                        concat!("must be one of: ", $crate::wire_enum!(@join $($wire),+)),
                    )),
                }
            }
        }
    };
    (@join $first:literal $(, $rest:literal)*) => {
        concat!($first $(, ", ", $rest)*)
    };
}

/// Moves a workflow from `from` to `to` when `to` is among `allowed` (staying put is always
/// allowed); otherwise the refusal lists what is.
pub fn transition<S: Copy + PartialEq>(
    from: S,
    to: S,
    allowed: &[S],
    name: impl Fn(S) -> &'static str,
) -> Result<S, DomainError> {
    if to == from || allowed.contains(&to) {
        Ok(to)
    } else {
        Err(DomainError::InvalidTransition {
            from: name(from),
            to: name(to),
            allowed: allowed.iter().map(|s| name(*s)).collect(),
        })
    }
}
