//! When a notification that could not be delivered is tried again: exponential backoff,
//! capped, for a bounded time.

use chrono::{DateTime, TimeDelta, Utc};

/// The retry schedule: the `n`-th failed attempt waits `base · 2^(n-1)`, at most `cap`; a
/// message is given up (failed) once the next attempt would come later than `give_up_after`
/// its creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: TimeDelta,
    pub cap: TimeDelta,
    pub give_up_after: TimeDelta,
}

impl Backoff {
    /// The schedule of the outbox: doubling from `base`, at most an hour apart, for a day.
    pub fn daily(base: TimeDelta) -> Self {
        Self {
            base,
            cap: TimeDelta::hours(1),
            give_up_after: TimeDelta::hours(24),
        }
    }

    /// How long to wait after the `attempt`-th failure (1 for the first).
    pub fn delay(&self, attempt: u32) -> TimeDelta {
        let doublings = attempt.saturating_sub(1).min(30);
        self.base
            .checked_mul(1 << doublings)
            .map_or(self.cap, |d| d.min(self.cap))
    }

    /// When to try again after the `attempt`-th failure at `now` of a message created at
    /// `created_at`; `None`: give up.
    pub fn next_attempt(&self, attempt: u32, created_at: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let at = now + self.delay(attempt);
        (at <= created_at + self.give_up_after).then_some(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn delays_double_up_to_the_cap() {
        let b = Backoff::daily(TimeDelta::seconds(30));
        let delays: Vec<i64> = (1..=9).map(|n| b.delay(n).num_seconds()).collect();
        assert_eq!(delays, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(b.delay(u32::MAX), TimeDelta::hours(1));
    }

    #[test]
    fn a_message_is_given_up_after_a_day() {
        let b = Backoff::daily(TimeDelta::seconds(30));
        let created = DateTime::<Utc>::UNIX_EPOCH;
        let late = created + TimeDelta::hours(23) + TimeDelta::minutes(30);
        assert!(b.next_attempt(40, created, late).is_none());
        assert_eq!(
            b.next_attempt(1, created, created),
            Some(created + TimeDelta::seconds(30))
        );
    }

    proptest! {
        #[test]
        fn retries_wait_longer_and_end_within_the_day(base_ms in 10i64..3_600_000, attempt in 1u32..200, elapsed_s in 0i64..100_000) {
            let b = Backoff::daily(TimeDelta::milliseconds(base_ms));
            prop_assert!(b.delay(attempt) <= b.delay(attempt + 1));
            prop_assert!(b.delay(attempt) <= b.cap && b.delay(attempt) >= TimeDelta::zero());
            let created = DateTime::<Utc>::UNIX_EPOCH;
            let now = created + TimeDelta::seconds(elapsed_s);
            if let Some(at) = b.next_attempt(attempt, created, now) {
                prop_assert!(at > now);
                prop_assert!(at <= created + b.give_up_after);
            }
        }
    }
}
