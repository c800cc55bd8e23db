//! Spans of time with a start and an end — a stop's stay, an interview slot — and the one rule
//! they share: two spans overlap when they have an instant in common (touching ends do not).

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A span of time, start included, end excluded.
pub trait Interval: Copy {
    fn start(self) -> DateTime<Utc>;
    fn end(self) -> DateTime<Utc>;

    /// Whether the two spans share any instant (one ending as the other starts do not).
    fn overlaps(self, other: impl Interval) -> bool {
        self.start() < other.end() && other.start() < self.end()
    }

    /// Whether this span lies wholly inside `outer`.
    fn inside(self, outer: impl Interval) -> bool {
        outer.start() <= self.start() && self.end() <= outer.end()
    }
}

/// The first of `others` that `span` overlaps.
pub fn first_overlap<T: Interval>(span: T, others: impl IntoIterator<Item = (Uuid, T)>) -> Option<Uuid> {
    others
        .into_iter()
        .find(|(_, other)| span.overlaps(*other))
        .map(|(id, _)| id)
}
