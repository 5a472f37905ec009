//! Date reading for feeds and pages: dates as people write them, in eight
//! languages, read to an instant in UTC.
//!
//! [`parse_date`] reads absolute dates (RFC 3339, RFC 2822, ISO, epoch
//! seconds, numeric and worded forms); a time without a zone is UTC.
//! [`parse_date_in`] reads the same and more against a [`DateContext`]: times
//! without a zone are in the configured timezone, `heute`/`yesterday` and
//! `vor 3 Stunden`/`3 hours ago` count back from the fetch time, and a day
//! and month without a year are the latest such day not after tomorrow.
//!
//! Every token must be understood, so garbage yields `None` instead of a
//! wrong date: a wrong date is worse than none (the caller marks it undated).
//! Dates in the future are returned as written; the store clamps them to the
//! time first seen. Input over 200 bytes is refused, so reading is cheap.
//!
//! Readers: `parse_iso` (strict `YYYY-MM-DD…` and `YYYYMMDD`), `relative`
//! (`N units ago`, `just now`), `absolute` (a token reader for everything
//! written with words, dots or slashes), over the vocabulary in `words`.

mod absolute;
mod relative;
mod words;

use chrono::{
    DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;

/// Longest input read; longer text is not a date.
const MAX_LEN: usize = 200;

/// How to read an all-numeric date whose first two numbers could both be
/// the month, like `03/04/2026`. Dots (`03.04.2026`) are always day first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DayOrder {
    /// `03/04/2026` is 3 April: the European reading, and the default.
    #[default]
    DayFirst,
    /// `03/04/2026` is March 4: the US reading.
    MonthFirst,
}

/// What a date is read against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateContext {
    /// The fetch time: relative dates count back from it.
    pub now: DateTime<Utc>,
    /// The zone of times written without one (`[crawler] timezone`, else UTC).
    pub tz: Tz,
    /// How to read `03/04/2026`; a weekday in the text decides when it can.
    pub day_order: DayOrder,
}

impl DateContext {
    /// Reads against `now` in `tz`, ambiguous numeric dates day first.
    pub fn new(now: DateTime<Utc>, tz: Tz) -> Self {
        DateContext {
            now,
            tz,
            day_order: DayOrder::DayFirst,
        }
    }

    /// Today's date where the reader lives.
    fn today(&self) -> NaiveDate {
        self.now.with_timezone(&self.tz).date_naive()
    }
}

/// Parses an absolute date as found in feeds and pages; naive times are read
/// as UTC. Relative forms (`gestern`, `3 hours ago`) and dates without a year
/// need a context: see [`parse_date_in`].
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    read(s, None)
}

/// Parses a date as people write it, against `cx`: everything
/// [`parse_date`] reads (naive times in `cx.tz` instead of UTC), plus
/// `heute, 14:30`, `Yesterday at 9:12 AM`, `vor 3 Stunden`, `il y a 2 jours`,
/// `just now`, `Monday at 3:00 PM` (the last Monday before today), and
/// `24. Nov` / `Nov 24` (the latest such day not after tomorrow).
/// A day or time alone (`heute`, `24.11.`) is read at midnight.
pub fn parse_date_in(s: &str, cx: &DateContext) -> Option<DateTime<Utc>> {
    read(s, Some(cx))
}

fn read(s: &str, cx: Option<&DateContext>) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() || s.len() > MAX_LEN {
        return None;
    }
    if let Some(d) = parse_epoch(s) {
        return Some(d);
    }
    if let Some(d) = parse_iso(s, cx).or_else(|| parse_iso_basic(s, cx)) {
        return Some(d);
    }
    if let Some(cx) = cx {
        if let Some(d) = relative::parse_ago(s, cx) {
            return Some(d);
        }
    }
    parse_rfc2822(s).or_else(|| absolute::parse_words(s, cx))
}

/// The date most feeds write, `Thu, 23 Oct 2025 17:29:00 +0000` (RFC 2822:
/// an English weekday and comma or none, day, English month, four-digit
/// year, `HH:MM:SS`, and a numeric zone or `GMT`, `UT`, `UTC`, `Z`), read
/// without the word reader; anything else is None and goes to the word
/// reader, which reads these the same (a property test compares them).
fn parse_rfc2822(s: &str) -> Option<DateTime<Utc>> {
    const WEEKDAYS: [&str; 7] = ["Mon,", "Tue,", "Wed,", "Thu,", "Fri,", "Sat,", "Sun,"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = s.split(' ');
    let mut day = parts.next()?;
    if WEEKDAYS.contains(&day) {
        day = parts.next()?;
    }
    let day = small_number(day, 2)?;
    let month_name = parts.next()?;
    let month = MONTHS.iter().position(|m| *m == month_name)?;
    let year = parts.next()?;
    if year.len() != 4 {
        return None;
    }
    let year = small_number(year, 4)?;
    let mut clock = parts.next()?.split(':');
    let (h, m, sec) = (
        small_number(clock.next()?, 2)?,
        small_number(clock.next()?, 2)?,
        small_number(clock.next()?, 2)?,
    );
    if clock.next().is_some() || h > 23 || m > 59 || sec > 59 {
        return None;
    }
    let zone = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    let offset = match zone {
        "GMT" | "UT" | "UTC" | "Z" => 0,
        _ if zone.len() == 5 && (zone.starts_with('+') || zone.starts_with('-')) => {
            parse_zone(zone)?
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(year).ok()?,
        u32::try_from(month + 1).ok()?,
        day,
    )?;
    let naive = date.and_time(NaiveTime::from_hms_opt(h, m, sec)?);
    resolve(naive, Some(offset), None)
}

/// Unix epoch seconds (9–11 digits) or milliseconds (12–13 digits).
fn parse_epoch(s: &str) -> Option<DateTime<Utc>> {
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = s.parse().ok()?;
    match s.len() {
        9..=11 => DateTime::from_timestamp(n, 0),
        12..=13 => DateTime::from_timestamp_millis(n),
        _ => None,
    }
}

/// Reads exactly `n` ASCII digits at the start of `s`.
fn digits(s: &str, n: usize) -> Option<(u32, &str)> {
    let head = s.get(..n)?;
    if !head.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((head.parse().ok()?, s.get(n..)?))
}

/// `YYYY-MM-DD`, optionally followed by `T`/space, `HH:MM[:SS[.frac]]` and a zone.
fn parse_iso(s: &str, cx: Option<&DateContext>) -> Option<DateTime<Utc>> {
    let (y, rest) = digits(s, 4)?;
    let rest = rest.strip_prefix('-')?;
    let (m, rest) = digits(rest, 2)?;
    let rest = rest.strip_prefix('-')?;
    let (d, rest) = digits(rest, 2)?;
    let date = NaiveDate::from_ymd_opt(y as i32, m, d)?;
    if rest.is_empty() {
        return resolve(date.and_time(NaiveTime::MIN), None, cx);
    }
    let rest = rest.strip_prefix(['T', 't', ' ']).map(str::trim_start)?;
    let (h, rest) = digits(rest, 2)?;
    let rest = rest.strip_prefix(':')?;
    let (mi, mut rest) = digits(rest, 2)?;
    let mut sec = 0;
    let mut nanos = 0;
    if let Some(r) = rest.strip_prefix(':') {
        let (se, r) = digits(r, 2)?;
        sec = se;
        rest = r;
        if let Some(r) = rest.strip_prefix(['.', ',']) {
            let len = r.bytes().take_while(u8::is_ascii_digit).count();
            if len == 0 {
                return None;
            }
            let frac = r.get(..len)?;
            // Keep nanosecond precision; extra digits are dropped.
            let padded: String = frac.chars().chain("000000000".chars()).take(9).collect();
            nanos = padded.parse().ok()?;
            rest = r.get(len..)?;
        }
    }
    let time = NaiveTime::from_hms_nano_opt(h, mi, sec.min(59), nanos)?;
    let zone = rest.trim_start();
    let offset = if zone.is_empty() {
        None
    } else {
        Some(parse_zone(zone)?)
    };
    resolve(date.and_time(time), offset, cx)
}

/// ISO basic format: `YYYYMMDD`, optionally `THHMM[SS]` and `Z` or `±HHMM`.
fn parse_iso_basic(s: &str, cx: Option<&DateContext>) -> Option<DateTime<Utc>> {
    let (y, rest) = digits(s, 4)?;
    let (m, rest) = digits(rest, 2)?;
    let (d, rest) = digits(rest, 2)?;
    if !(1900..=2100).contains(&y) {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(y as i32, m, d)?;
    if rest.is_empty() {
        return resolve(date.and_time(NaiveTime::MIN), None, cx);
    }
    let rest = rest.strip_prefix(['T', 't'])?;
    let (h, rest) = digits(rest, 2)?;
    let (mi, mut rest) = digits(rest, 2)?;
    let mut sec = 0;
    if let Some((se, r)) = digits(rest, 2) {
        sec = se;
        rest = r;
    }
    let time = NaiveTime::from_hms_opt(h, mi, sec.min(59))?;
    let offset = if rest.is_empty() {
        None
    } else {
        Some(parse_zone(rest)?)
    };
    resolve(date.and_time(time), offset, cx)
}

/// The instant of a wall-clock time: at `offset` seconds east of UTC when the
/// text gave a zone, else in the context's zone (UTC without a context).
/// A time a DST change repeats is the earlier one; a time it skips is read
/// with the offset before the change (02:30 on a spring-forward night is 03:30).
fn resolve(
    naive: NaiveDateTime,
    offset: Option<i32>,
    cx: Option<&DateContext>,
) -> Option<DateTime<Utc>> {
    if let Some(offset) = offset {
        let tz = FixedOffset::east_opt(offset)?;
        return Some(tz.from_local_datetime(&naive).single()?.with_timezone(&Utc));
    }
    let Some(cx) = cx else {
        return Some(naive.and_utc());
    };
    if let Some(t) = cx.tz.from_local_datetime(&naive).earliest() {
        return Some(t.with_timezone(&Utc));
    }
    // In a gap: find the offset in force just before it.
    for back in 1..=26 {
        let before = naive.checked_sub_signed(TimeDelta::hours(back))?;
        if let Some(t) = cx.tz.from_local_datetime(&before).earliest() {
            let east = TimeDelta::seconds(t.offset().fix().local_minus_utc().into());
            return Some(naive.checked_sub_signed(east)?.and_utc());
        }
    }
    None
}

/// A zone: `Z`, `±HH:MM`, `±HHMM`, `±HH`, or a name like `GMT` or `MESZ`.
/// Returns seconds east of UTC.
fn parse_zone(z: &str) -> Option<i32> {
    if let Some(sign) = match z.as_bytes().first() {
        Some(b'+') => Some(1),
        Some(b'-') => Some(-1),
        _ => None,
    } {
        let body = z.get(1..)?;
        let (h, rest) = digits(body, 2)?;
        let m = if rest.is_empty() {
            0
        } else {
            let rest = rest.strip_prefix(':').unwrap_or(rest);
            let (m, tail) = digits(rest, 2)?;
            if !tail.is_empty() {
                return None;
            }
            m
        };
        if h > 23 || m > 59 {
            return None;
        }
        return Some(sign * (h as i32 * 3600 + m as i32 * 60));
    }
    let hours = match z.to_ascii_uppercase().as_str() {
        "Z" | "UT" | "UTC" | "GMT" | "WET" => 0,
        "BST" | "CET" | "MEZ" | "WEST" | "IST" => 1,
        "CEST" | "MESZ" | "EET" | "OEZ" => 2,
        "EEST" | "OESZ" => 3,
        "EDT" => -4,
        "EST" | "CDT" => -5,
        "CST" | "MDT" => -6,
        "MST" | "PDT" => -7,
        "PST" => -8,
        _ => return None,
    };
    Some(hours * 3600)
}

/// 1 to `max_len` ASCII digits.
fn small_number(t: &str, max_len: usize) -> Option<u32> {
    if t.is_empty() || t.len() > max_len || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

#[cfg(test)]
#[cfg(test)]
mod tests;
