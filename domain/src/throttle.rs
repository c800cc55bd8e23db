//! Failed-login throttling: after too many failures inside a window, a key (an account or a
//! client address) is locked for a while. Pure arithmetic on instants; the API stores the state.

use chrono::{DateTime, TimeDelta, Utc};

/// How many failures, within which window, lock a key for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    pub max_failures: u32,
    pub window: TimeDelta,
    pub lockout: TimeDelta,
}

impl ThrottlePolicy {
    /// One account: 10 failures in 15 minutes lock it for 15 minutes.
    pub const ACCOUNT: Self = Self {
        max_failures: 10,
        window: TimeDelta::minutes(15),
        lockout: TimeDelta::minutes(15),
    };
    /// One client address: more room (a bus stop shares one address), same lockout.
    pub const ADDRESS: Self = Self {
        max_failures: 100,
        window: TimeDelta::minutes(15),
        lockout: TimeDelta::minutes(15),
    };
}

/// What is remembered about one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleState {
    pub failures: u32,
    pub window_started_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
}

impl ThrottleState {
    /// How long the key stays locked, if it is locked at `now`.
    pub fn locked_for(&self, now: DateTime<Utc>) -> Option<TimeDelta> {
        self.locked_until
            .map(|until| until - now)
            .filter(|left| *left > TimeDelta::zero())
    }

    /// The state after one more failure at `now`: a window that has run out starts afresh,
    /// and reaching the limit locks the key.
    pub fn after_failure(previous: Option<Self>, policy: ThrottlePolicy, now: DateTime<Utc>) -> Self {
        let mut state = match previous {
            Some(s) if now - s.window_started_at < policy.window => s,
            _ => Self {
                failures: 0,
                window_started_at: now,
                locked_until: None,
            },
        };
        state.failures = state.failures.saturating_add(1);
        if state.failures >= policy.max_failures {
            state.locked_until = Some(now + policy.lockout);
            // The next failure after the lockout starts a new count.
            state.failures = 0;
            state.window_started_at = now;
        }
        state
    }
}

/// Writes counted in fixed one-minute windows (a burst may reach twice the limit across a
/// window's edge; simple, and one row per client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MinuteWindow {
    pub start: DateTime<Utc>,
    /// Seconds until the next window opens (at least 1): the `Retry-After` of a refusal.
    pub seconds_left: u64,
}

impl MinuteWindow {
    pub fn at(now: DateTime<Utc>) -> Self {
        let seconds = now.timestamp();
        let start = seconds - seconds.rem_euclid(60);
        Self {
            start: DateTime::from_timestamp(start, 0).unwrap_or(now),
            seconds_left: u64::try_from(start + 60 - seconds).unwrap_or(60).max(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minute_windows_start_on_the_minute_and_say_how_long_is_left() {
        let w = MinuteWindow::at(t(3) + TimeDelta::milliseconds(45_500));
        assert_eq!(w.start, t(3));
        assert_eq!(w.seconds_left, 15);
        assert_eq!(MinuteWindow::at(t(3)).seconds_left, 60);
        assert_eq!(MinuteWindow::at(t(4) - TimeDelta::milliseconds(1)).seconds_left, 1);
    }

    fn t(minutes: i64) -> DateTime<Utc> {
        DateTime::UNIX_EPOCH + TimeDelta::minutes(minutes)
    }

    const P: ThrottlePolicy = ThrottlePolicy {
        max_failures: 3,
        window: TimeDelta::minutes(10),
        lockout: TimeDelta::minutes(5),
    };

    #[test]
    fn the_limit_locks_the_key_for_the_lockout() {
        let mut s = None;
        for _ in 0..2 {
            s = Some(ThrottleState::after_failure(s, P, t(0)));
            assert_eq!(s.unwrap().locked_for(t(0)), None);
        }
        let locked = ThrottleState::after_failure(s, P, t(1));
        assert_eq!(locked.locked_for(t(1)), Some(TimeDelta::minutes(5)));
        assert_eq!(locked.locked_for(t(6)), None);
    }

    #[test]
    fn old_failures_are_forgotten() {
        let s = ThrottleState::after_failure(None, P, t(0));
        let s = ThrottleState::after_failure(Some(s), P, t(1));
        let s = ThrottleState::after_failure(Some(s), P, t(20));
        assert_eq!(s.failures, 1);
        assert_eq!(s.locked_for(t(20)), None);
    }
}
