//! Cron schedules (SPEC §8): 6 fields with seconds, or a classic 5-field
//! crontab line read with second 0. Day-of-week numbers mean what they mean
//! in crontab(5) (0 or 7 Sunday, 1 Monday); the `cron` crate numbers Sunday
//! 1, so numbers are translated before it sees them. As in crontab(5), when
//! both day-of-month and day-of-week are restricted a day matching either
//! fires. Fire times are computed in an IANA zone; a wall-clock time that a
//! DST change repeats fires at its first occurrence only, one it skips does
//! not fire.

use chrono::{DateTime, TimeZone, Utc};
use std::collections::BTreeSet;

/// A parsed schedule, with the text it was written as.
#[derive(Debug, Clone)]
pub struct Schedule {
    pub text: String,
    inner: cron::Schedule,
    /// The day-of-week half when both day fields are restricted (crontab ORs them).
    by_weekday: Option<cron::Schedule>,
}

#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid cron expression `{text}`: {message}")]
pub struct ScheduleError {
    pub text: String,
    pub message: String,
}

/// Each field's name and what it accepts, for error messages.
const FIELDS: [(&str, &str); 6] = [
    ("second", "0-59"),
    ("minute", "0-59"),
    ("hour", "0-23"),
    ("day-of-month", "1-31"),
    ("month", "1-12 or JAN-DEC"),
    ("day-of-week", "0-7 (0 or 7 = Sunday) or SUN-SAT"),
];

/// Enough for the longest DST fold (one hour) of a schedule firing every second.
const MAX_SKIPPED_CANDIDATES: usize = 20_000;

impl Schedule {
    pub fn parse(text: &str) -> Result<Schedule, ScheduleError> {
        let fail = |message: String| ScheduleError {
            text: text.to_owned(),
            message,
        };
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(fail(
                "it is empty; write 6 fields (sec min hour day-of-month month day-of-week) \
                 or a 5-field crontab line"
                    .to_owned(),
            ));
        }
        if let Some(word) = trimmed.strip_prefix('@') {
            let canonical = match word.to_ascii_lowercase().as_str() {
                "yearly" | "annually" => "@yearly",
                "monthly" => "@monthly",
                "weekly" => "@weekly",
                "daily" | "midnight" => "@daily",
                "hourly" => "@hourly",
                _ => {
                    return Err(fail(format!(
                        "unknown shorthand `@{word}`; use @hourly, @daily, @weekly, @monthly or @yearly"
                    )))
                }
            };
            let inner = compile(canonical).map_err(fail)?;
            return Ok(Schedule {
                text: text.to_owned(),
                inner,
                by_weekday: None,
            });
        }

        let mut fields: Vec<String> = trimmed.split_whitespace().map(str::to_owned).collect();
        match fields.len() {
            5 => fields.insert(0, "0".to_owned()),
            6 => {}
            n => {
                return Err(fail(format!(
                    "it has {n} fields; write 6 (sec min hour day-of-month month day-of-week) \
                     or a 5-field crontab line (min hour day-of-month month day-of-week)"
                )))
            }
        }
        let dow =
            translate_day_of_week(&fields[5]).map_err(|m| fail(format!("day-of-week: {m}")))?;
        fields[5] = dow;

        let restricted = |f: &str| !(f.starts_with('*') || f.starts_with('?'));
        let both_days = restricted(&fields[3]) && restricted(&fields[5]);
        let (inner, by_weekday) = if both_days {
            let mut by_month_day = fields.clone();
            by_month_day[5] = "*".to_owned();
            let mut by_weekday = fields.clone();
            by_weekday[3] = "*".to_owned();
            (
                compile_checked(&by_month_day).map_err(fail)?,
                Some(compile_checked(&by_weekday).map_err(fail)?),
            )
        } else {
            (compile_checked(&fields).map_err(fail)?, None)
        };
        Ok(Schedule {
            text: text.to_owned(),
            inner,
            by_weekday,
        })
    }

    /// The first fire time strictly after `after`, in `tz` (UTC when None).
    pub fn next_after(
        &self,
        after: DateTime<Utc>,
        tz: Option<chrono_tz::Tz>,
    ) -> Option<DateTime<Utc>> {
        let tz = tz.unwrap_or(chrono_tz::Tz::UTC);
        let first = next_in(&self.inner, after, tz);
        let second = self.by_weekday.as_ref().and_then(|s| next_in(s, after, tz));
        match (first, second) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

fn next_in(
    schedule: &cron::Schedule,
    after: DateTime<Utc>,
    tz: chrono_tz::Tz,
) -> Option<DateTime<Utc>> {
    let local = after.with_timezone(&tz);
    for candidate in schedule.after(&local).take(MAX_SKIPPED_CANDIDATES) {
        // A repeated wall-clock time fires at its first occurrence only.
        let first = tz.from_local_datetime(&candidate.naive_local()).earliest();
        if first.as_ref() != Some(&candidate) {
            continue;
        }
        let utc = candidate.with_timezone(&Utc);
        // The first occurrence of an ambiguous time can lie before `after`.
        if utc > after {
            return Some(utc);
        }
    }
    None
}

fn compile(expression: &str) -> Result<cron::Schedule, String> {
    expression
        .parse::<cron::Schedule>()
        .map_err(|e| e.to_string())
}

/// Compiles six fields; on failure names the first field the crate rejects.
fn compile_checked(fields: &[String]) -> Result<cron::Schedule, String> {
    match compile(&fields.join(" ")) {
        Ok(s) => Ok(s),
        Err(whole) => {
            for (i, field) in fields.iter().enumerate() {
                let mut probe: Vec<&str> = vec!["0", "*", "*", "*", "*", "*"];
                probe[i] = field;
                if let Err(e) = compile(&probe.join(" ")) {
                    let (name, accepts) = FIELDS.get(i).copied().unwrap_or(("a", "?"));
                    // The crate's own message is a multi-line parser trace; keep only one-liners.
                    let detail = e.trim();
                    let detail = if detail.is_empty() || detail.contains('\n') {
                        String::new()
                    } else {
                        format!(" ({detail})")
                    };
                    return Err(format!(
                        "{name} field `{field}` is not valid{detail}; it takes {accepts}, \
                         with `*`, ranges `a-b`, lists `a,b` and steps `*/n`"
                    ));
                }
            }
            Err(whole.trim().to_owned())
        }
    }
}

/// Rewrites a crontab day-of-week field (0 or 7 = Sunday) into the crate's
/// numbering (1 = Sunday); names pass through unchanged.
fn translate_day_of_week(field: &str) -> Result<String, String> {
    if field == "*" || field == "?" {
        return Ok(field.to_owned());
    }
    let mut days: BTreeSet<u32> = BTreeSet::new();
    let mut named: Vec<&str> = Vec::new();
    for part in field.split(',') {
        if part.is_empty() {
            return Err(format!("`{field}` has an empty list item"));
        }
        let (base, step) = match part.split_once('/') {
            Some((base, step)) => (base, Some(parse_step(step, part)?)),
            None => (part, None),
        };
        if base.chars().any(|c| c.is_ascii_alphabetic()) {
            let names_only = base
                .split('-')
                .all(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_alphabetic()));
            if !names_only {
                return Err(format!(
                    "`{part}` mixes names and numbers; write MON-FRI or 1-5"
                ));
            }
            named.push(part);
            continue;
        }
        let (start, end) = match base {
            "*" | "?" if step.is_none() => return Ok("*".to_owned()),
            "*" | "?" => (0, 7),
            _ => match base.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (parse_day(a, part)?, parse_day(b, part)?);
                    if a > b {
                        return Err(format!(
                            "range `{part}` runs backwards; write it as a list such as 5-7,0-1"
                        ));
                    }
                    (a, b)
                }
                None => {
                    let a = parse_day(base, part)?;
                    // `n/step` runs to the end of the week, like cronie.
                    (a, if step.is_some() { 7 } else { a })
                }
            },
        };
        let step = step.unwrap_or(1);
        let mut day = start;
        while day <= end {
            days.insert(day % 7 + 1);
            day += step;
        }
    }
    let mut items: Vec<String> = days.iter().map(u32::to_string).collect();
    items.extend(named.iter().map(|n| (*n).to_owned()));
    Ok(items.join(","))
}

fn parse_day(text: &str, part: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(n) if n <= 7 => Ok(n),
        _ => {
            let within = if text == part {
                String::new()
            } else {
                format!(" (in `{part}`)")
            };
            Err(format!(
                "`{text}`{within} is not a day of the week; use 0-7 (0 or 7 = Sunday) or names like MON"
            ))
        }
    }
}

fn parse_step(text: &str, part: &str) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err(format!(
            "`{part}`: the step must be a whole number of at least 1"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("test time")
            .with_timezone(&Utc)
    }

    fn fires(expr: &str, from: &str, n: usize, tz: Option<chrono_tz::Tz>) -> Vec<String> {
        let s = Schedule::parse(expr).expect("valid schedule");
        let mut t = utc(from);
        let mut out = Vec::new();
        for _ in 0..n {
            match s.next_after(t, tz) {
                Some(next) => {
                    out.push(next.to_rfc3339());
                    t = next;
                }
                None => break,
            }
        }
        out
    }

    #[test]
    fn every_quarter_hour_with_seconds() {
        assert_eq!(
            fires("0 */15 * * * *", "2026-03-10T10:07:30Z", 3, None),
            [
                "2026-03-10T10:15:00+00:00",
                "2026-03-10T10:30:00+00:00",
                "2026-03-10T10:45:00+00:00"
            ]
        );
    }

    #[test]
    fn strictly_after_a_fire_time() {
        assert_eq!(
            fires("0 */15 * * * *", "2026-03-10T10:15:00Z", 1, None),
            ["2026-03-10T10:30:00+00:00"]
        );
    }

    #[test]
    fn five_fields_fire_at_second_zero() {
        assert_eq!(
            fires("*/10 * * * *", "2026-03-10T10:05:17Z", 2, None),
            ["2026-03-10T10:10:00+00:00", "2026-03-10T10:20:00+00:00"]
        );
    }

    #[test]
    fn weekdays_at_nine() {
        // 2026-03-13 is a Friday.
        assert_eq!(
            fires("0 9 * * 1-5", "2026-03-13T09:00:00Z", 3, None),
            [
                "2026-03-16T09:00:00+00:00",
                "2026-03-17T09:00:00+00:00",
                "2026-03-18T09:00:00+00:00"
            ]
        );
        assert_eq!(
            fires("0 0 9 * * MON-FRI", "2026-03-13T09:00:00Z", 1, None),
            ["2026-03-16T09:00:00+00:00"]
        );
    }

    #[test]
    fn sunday_is_zero_and_seven() {
        // 2026-03-15 is a Sunday.
        for expr in [
            "0 0 * * 0",
            "0 0 * * 7",
            "0 0 0 * * 0",
            "0 0 * * sun",
            "@weekly",
        ] {
            assert_eq!(
                fires(expr, "2026-03-10T12:00:00Z", 2, None),
                ["2026-03-15T00:00:00+00:00", "2026-03-22T00:00:00+00:00"],
                "{expr}"
            );
        }
    }

    #[test]
    fn monday_is_one() {
        assert_eq!(
            fires("0 6 * * 1", "2026-03-10T12:00:00Z", 1, None),
            ["2026-03-16T06:00:00+00:00"]
        );
    }

    #[test]
    fn day_of_week_translation() {
        assert_eq!(translate_day_of_week("1-5").as_deref(), Ok("2,3,4,5,6"));
        assert_eq!(translate_day_of_week("0").as_deref(), Ok("1"));
        assert_eq!(translate_day_of_week("7").as_deref(), Ok("1"));
        assert_eq!(translate_day_of_week("5-7").as_deref(), Ok("1,6,7"));
        assert_eq!(translate_day_of_week("6,0").as_deref(), Ok("1,7"));
        assert_eq!(translate_day_of_week("*/2").as_deref(), Ok("1,3,5,7"));
        assert_eq!(translate_day_of_week("1-5/2").as_deref(), Ok("2,4,6"));
        assert_eq!(translate_day_of_week("MON-FRI").as_deref(), Ok("MON-FRI"));
        assert_eq!(translate_day_of_week("0,sat").as_deref(), Ok("1,sat"));
        assert_eq!(translate_day_of_week("*").as_deref(), Ok("*"));
        assert!(translate_day_of_week("8").is_err());
        assert!(translate_day_of_week("5-1").is_err());
        assert!(translate_day_of_week("*/0").is_err());
        assert!(translate_day_of_week("MON-5").is_err());
    }

    #[test]
    fn weekend_range_that_ends_on_seven() {
        // 2026-03-13 is a Friday: Fri, Sat, Sun.
        assert_eq!(
            fires("0 12 * * 5-7", "2026-03-12T12:00:00Z", 4, None),
            [
                "2026-03-13T12:00:00+00:00",
                "2026-03-14T12:00:00+00:00",
                "2026-03-15T12:00:00+00:00",
                "2026-03-20T12:00:00+00:00"
            ]
        );
    }

    #[test]
    fn month_day_or_weekday_as_in_crontab() {
        // The 1st of the month or any Monday; 2026-04-01 is a Wednesday.
        assert_eq!(
            fires("0 8 1 * 1", "2026-03-28T00:00:00Z", 3, None),
            [
                "2026-03-30T08:00:00+00:00",
                "2026-04-01T08:00:00+00:00",
                "2026-04-06T08:00:00+00:00"
            ]
        );
    }

    #[test]
    fn shorthands() {
        assert_eq!(
            fires("@hourly", "2026-03-10T10:05:00Z", 1, None),
            ["2026-03-10T11:00:00+00:00"]
        );
        assert_eq!(
            fires("@daily", "2026-03-10T10:05:00Z", 1, None),
            ["2026-03-11T00:00:00+00:00"]
        );
    }

    #[test]
    fn computed_in_the_given_zone() {
        let berlin = Some(chrono_tz::Europe::Berlin);
        // 09:00 CET is 08:00 UTC in winter, 07:00 UTC in summer.
        assert_eq!(
            fires("0 9 * * *", "2026-03-01T12:00:00Z", 1, berlin),
            ["2026-03-02T08:00:00+00:00"]
        );
        assert_eq!(
            fires("0 9 * * *", "2026-06-01T12:00:00Z", 1, berlin),
            ["2026-06-02T07:00:00+00:00"]
        );
    }

    #[test]
    fn skipped_wall_time_never_fires_twice() {
        // 2026-03-29 02:00 CET jumps to 03:00 CEST in Berlin: 02:30 does not exist that day.
        let berlin = Some(chrono_tz::Europe::Berlin);
        assert_eq!(
            fires("0 30 2 * * *", "2026-03-27T12:00:00Z", 3, berlin),
            [
                "2026-03-28T01:30:00+00:00",
                "2026-03-30T00:30:00+00:00",
                "2026-03-31T00:30:00+00:00"
            ]
        );
        assert_eq!(
            fires("0 */15 * * * *", "2026-03-29T00:40:00Z", 3, berlin),
            [
                "2026-03-29T00:45:00+00:00", // 01:45 CET
                "2026-03-29T01:00:00+00:00", // 03:00 CEST
                "2026-03-29T01:15:00+00:00"
            ]
        );
    }

    #[test]
    fn repeated_wall_time_fires_once() {
        // 2026-10-25 03:00 CEST falls back to 02:00 CET: 02:30 happens twice.
        let berlin = Some(chrono_tz::Europe::Berlin);
        assert_eq!(
            fires("0 30 2 * * *", "2026-10-24T12:00:00Z", 2, berlin),
            ["2026-10-25T00:30:00+00:00", "2026-10-26T01:30:00+00:00"]
        );
        // Asked during the second pass through 02:xx, it does not fire again.
        assert_eq!(
            fires("0 30 2 * * *", "2026-10-25T01:10:00Z", 1, berlin),
            ["2026-10-26T01:30:00+00:00"]
        );
    }

    #[test]
    fn quarter_hours_through_the_autumn_fold() {
        let berlin = Some(chrono_tz::Europe::Berlin);
        assert_eq!(
            fires("0 */30 * * * *", "2026-10-24T23:40:00Z", 5, berlin),
            [
                "2026-10-25T00:00:00+00:00", // 02:00 CEST
                "2026-10-25T00:30:00+00:00", // 02:30 CEST
                "2026-10-25T02:00:00+00:00", // 03:00 CET; 02:00 and 02:30 CET were seen
                "2026-10-25T02:30:00+00:00",
                "2026-10-25T03:00:00+00:00"
            ]
        );
    }

    #[test]
    fn every_second_through_the_autumn_fold_keeps_going() {
        let berlin = Some(chrono_tz::Europe::Berlin);
        // 01:00:00 UTC is 02:00:00 CET, the start of the repeated hour.
        assert_eq!(
            fires("* * * * * *", "2026-10-25T01:00:00Z", 1, berlin),
            ["2026-10-25T02:00:00+00:00"]
        );
    }

    #[test]
    fn invalid_expressions() {
        let cases = [
            ("", "empty"),
            ("* * *", "3 fields"),
            ("0 0 0 0 * * * *", "8 fields"),
            ("0 61 * * * *", "minute field `61`"),
            ("0 0 25 * * *", "hour field `25`"),
            ("0 0 * * 8", "`8` is not a day of the week"),
            ("0 0 * * 5-1", "runs backwards"),
            ("0 0 * * FOO", "day-of-week field `FOO`"),
            ("@reboot", "unknown shorthand `@reboot`"),
            ("0 0 * 13 *", "month field `13`"),
        ];
        for (expr, expected) in cases {
            let err = Schedule::parse(expr).expect_err(expr);
            let text = err.to_string();
            assert!(
                text.starts_with(&format!("invalid cron expression `{expr}`: ")),
                "{text}"
            );
            assert!(text.contains(expected), "{expr}: {text}");
        }
    }
}
