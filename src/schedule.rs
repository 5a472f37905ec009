//! Cron schedules (SPEC §8): 6 fields with seconds, or a classic 5-field
//! crontab line read with second 0. Day-of-week numbers mean what they mean
//! in crontab(5) (0 or 7 Sunday, 1 Monday); the `cron` crate numbers Sunday
//! 1, so numbers are translated before it sees them.

use chrono::{DateTime, Utc};

/// A parsed schedule, with the text it was written as.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub text: String,
    inner: cron::Schedule,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid cron expression `{text}`: {message}")]
pub struct ScheduleError {
    pub text: String,
    pub message: String,
}

impl Schedule {
    pub fn parse(_text: &str) -> Result<Schedule, ScheduleError> {
        unimplemented!("Schedule::parse")
    }

    /// The first fire time strictly after `after`, in `tz` (UTC when None).
    pub fn next_after(
        &self,
        _after: DateTime<Utc>,
        _tz: Option<chrono_tz::Tz>,
    ) -> Option<DateTime<Utc>> {
        let _ = &self.inner;
        unimplemented!("Schedule::next_after")
    }
}
