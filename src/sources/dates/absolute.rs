//! The token reader for dates written with words, dots and slashes:
//! `Di, 24. Nov. 2026 14:05`, `24 de noviembre de 2026 a las 14:05`,
//! `11/24/2026 2:05 PM`, and with a context `gestern, 14:30`,
//! `Today at 9:12 AM`, `Monday at 3:00 PM`, `24. Nov.`.
//!
//! It collects what each token says and builds one date at the end; a token
//! it cannot place, or one that repeats a field, rejects the whole text.

use super::words::{self, Roles};
use super::{parse_zone, resolve, small_number, DateContext, DayOrder};
use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, Utc};

/// An all-numeric date whose first two numbers could each be the month.
#[derive(Clone, Copy)]
struct Either {
    first: u32,
    second: u32,
    year: i32,
}

/// What the tokens said so far.
#[derive(Default)]
struct Found {
    day: Option<u32>,
    month: Option<u32>,
    year: Option<i32>,
    either: Option<Either>,
    time: Option<(u32, u32, u32)>,
    offset: Option<i32>,
    /// Monday = 0; the first one written.
    weekday: Option<u32>,
    /// `mar` tokens: March, or Tuesday in French, Spanish and Italian.
    mar: u32,
    /// Today (0), yesterday (1), the day before (2).
    days_back: Option<u32>,
    /// Bare numbers whose role depends on the others: (value, digit count).
    numbers: Vec<(u32, usize)>,
}

impl Found {
    fn has_date(&self) -> bool {
        self.day.is_some()
            || self.month.is_some()
            || self.year.is_some()
            || self.either.is_some()
            || !self.numbers.is_empty()
    }
}

/// The token at `i` without trailing dots (`Nov.`, `p.m.`).
fn at(tokens: &[String], i: usize) -> Option<&str> {
    tokens.get(i).map(|t| t.trim_end_matches('.'))
}

/// `am`, `a.m.`, `a. m.` and the same for pm at `i`: (is pm, tokens used).
fn meridiem(tokens: &[String], i: usize) -> Option<(bool, usize)> {
    match at(tokens, i)? {
        "am" | "a.m" => Some((false, 1)),
        "pm" | "p.m" => Some((true, 1)),
        "a" if at(tokens, i + 1) == Some("m") => Some((false, 2)),
        "p" if at(tokens, i + 1) == Some("m") => Some((true, 2)),
        _ => None,
    }
}

/// A 12-hour time made 24-hour; hours outside 1–12 are not 12-hour times.
fn twelve_hour((h, m, s): (u32, u32, u32), pm: bool) -> Option<(u32, u32, u32)> {
    if !(1..=12).contains(&h) {
        return None;
    }
    Some((h % 12 + if pm { 12 } else { 0 }, m, s))
}

/// `H:MM` or `H:MM:SS`, returning (hour, minute, second).
fn parse_clock(t: &str, sep: char) -> Option<(u32, u32, u32)> {
    let mut parts = t.split(sep);
    let h = small_number(parts.next()?, 2)?;
    let m = small_number(parts.next()?, 2)?;
    let s = match parts.next() {
        Some(p) => small_number(p, 2)?,
        None => 0,
    };
    if parts.next().is_some() || h > 24 || m > 59 || s > 60 {
        return None;
    }
    Some((h, m, s.min(59)))
}

/// French and Portuguese `14h05` and `14h`.
fn h_clock(t: &str) -> Option<(u32, u32, u32)> {
    let (h, m) = t.split_once('h')?;
    let h = small_number(h, 2)?;
    let m = if m.is_empty() {
        0
    } else if m.len() == 2 {
        small_number(m, 2)?
    } else {
        return None;
    };
    if h > 24 || m > 59 {
        return None;
    }
    Some((h, m, 0))
}

/// Two-digit years as RFC 2822 reads them.
fn full_year(y: u32, len: usize) -> i32 {
    match (len, y) {
        (4, _) => y as i32,
        (_, 0..=49) => 2000 + y as i32,
        _ => 1900 + y as i32,
    }
}

/// Polish `2026r.` and `24.11.2026r.` (r. = roku, "of the year").
fn strip_polish_year(t: &str) -> &str {
    let body = t.strip_suffix("r.").or_else(|| t.strip_suffix('r'));
    match body {
        Some(b) if b.len() >= 4 && b.ends_with(|c: char| c.is_ascii_digit() || c == '.') => b,
        _ => t,
    }
}

/// A year of 1, 2 or 4 digits (three digits are not a year).
fn year_of(t: &str) -> Option<i32> {
    if t.len() == 3 {
        return None;
    }
    Some(full_year(small_number(t, 4)?, t.len()))
}

/// A numeric date, `24.11.2026`, `24.11.26`, `24.11.`, `2026/11/24`,
/// `24-11-2026`, `11/24/2026`: day, month and year if known, else the two
/// readings. Dots are European: day first, and may end the date.
enum Numeric {
    Known(u32, u32, Option<i32>),
    Either(Either),
}

fn numeric_date(t: &str) -> Option<Numeric> {
    let sep = t.chars().find(|c| matches!(c, '.' | '/' | '-'))?;
    if !t.chars().all(|c| c.is_ascii_digit() || c == sep) {
        return None;
    }
    let mut parts = t.split(sep);
    let (a, b, c) = (parts.next()?, parts.next()?, parts.next()?);
    let tail_ok = if sep == '.' {
        parts.all(str::is_empty)
    } else {
        parts.next().is_none() && !c.is_empty()
    };
    if !tail_ok {
        return None;
    }
    if a.len() == 4 {
        let (d, m) = (small_number(c, 2)?, small_number(b, 2)?);
        return Some(Numeric::Known(d, m, Some(small_number(a, 4)? as i32)));
    }
    let (a, b) = (small_number(a, 2)?, small_number(b, 2)?);
    let year = if c.is_empty() {
        None
    } else {
        Some(year_of(c)?)
    };
    Some(if sep == '.' || a > 12 {
        Numeric::Known(a, b, year)
    } else if b > 12 {
        Numeric::Known(b, a, year)
    } else {
        Numeric::Either(Either {
            first: a,
            second: b,
            year: year?,
        })
    })
}

/// Sets a field that may be written once.
fn once<T>(slot: &mut Option<T>, v: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(v);
    Some(())
}

/// Dates written with words, dots or slashes; `None` unless every token is understood.
pub(super) fn parse_words(s: &str, cx: Option<&DateContext>) -> Option<DateTime<Utc>> {
    let tokens = words::tokens(s);
    let mut f = Found::default();
    let mut after_clock = false;
    let mut i = 0;
    while i < tokens.len() {
        let tok = tokens.get(i)?.as_str();
        let bare = tok.trim_end_matches('.');
        let was_clock = std::mem::take(&mut after_clock);
        words::tick(1);

        if let Some((pm, used)) = meridiem(&tokens, i) {
            i += used;
            if was_clock || pm {
                f.time = Some(twelve_hour(f.time?, pm)?);
            } else if used == 2 {
                return None;
            }
            // Otherwise German `am 24. November`: "on".
            continue;
        }
        i += 1;
        if bare == "mis" && at(&tokens, i) == Some("a") && at(&tokens, i + 1) == Some("jour") {
            // French `Mis à jour le …`: "updated".
            i += 2;
            continue;
        }
        // Only words are looked up; numbers and zones are read below.
        let word = if tok.starts_with(|c: char| c.is_alphabetic() || c == '-') {
            words::roles(bare)
        } else {
            Roles::default()
        };
        if let Some(w) = word.weekday {
            f.weekday.get_or_insert(w);
            continue;
        }
        if word.label() || word.connector() {
            continue;
        }
        if bare == "mar" {
            f.mar += 1;
            continue;
        }
        if let Some(m) = word.month {
            if f.either.is_some() {
                return None;
            }
            once(&mut f.month, m)?;
            continue;
        }
        if cx.is_some() {
            if let Some(k) = word.days_back {
                once(&mut f.days_back, k)?;
                continue;
            }
            let phrase = words::DAYS_BACK_PHRASES.iter().find(|(p, _)| {
                p.iter()
                    .enumerate()
                    .all(|(k, w)| at(&tokens, i - 1 + k) == Some(w))
            });
            if let Some((p, k)) = phrase {
                once(&mut f.days_back, *k)?;
                i += p.len() - 1;
                continue;
            }
        }
        if tok.len() > 1 && tok.starts_with(['+', '-']) {
            once(&mut f.offset, parse_zone(tok)?)?;
            continue;
        }
        if tok.len() <= 5 && tok.bytes().all(|b| b.is_ascii_alphabetic()) {
            // With a context (page text, not feeds), a zone name must follow a
            // time, so `Heute ist Dienstag` is not read in Irish time.
            if cx.is_some() && f.time.is_none() {
                return None;
            }
            once(&mut f.offset, parse_zone(tok)?)?;
            continue;
        }
        if !tok.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        if tok.contains(':') {
            // `14:05`, `2:05pm`, `14:05h`.
            let (clock, suffix) = match tok.find(|c: char| c.is_ascii_alphabetic()) {
                Some(p) => (tok.get(..p)?, tok.get(p..)?),
                None => (tok, ""),
            };
            let t = parse_clock(clock, ':')?;
            let t = match suffix.trim_end_matches('.') {
                "" | "h" | "hs" | "uhr" => t,
                "am" | "a.m" => twelve_hour(t, false)?,
                "pm" | "p.m" => twelve_hour(t, true)?,
                _ => return None,
            };
            once(&mut f.time, t)?;
            after_clock = true;
            continue;
        }
        if let Some(t) = h_clock(tok) {
            once(&mut f.time, t)?;
            after_clock = true;
            continue;
        }
        let tok = strip_polish_year(tok);
        let bare = tok.trim_end_matches('.');
        let next = at(&tokens, i);
        let marks_time =
            matches!(next, Some("uhr" | "h" | "uur")) || meridiem(&tokens, i).is_some();
        if tok.matches('.').count() == 1 && !tok.ends_with('.') && marks_time {
            // `14.05 Uhr`, `2.05 pm`.
            once(&mut f.time, parse_clock(tok, '.')?)?;
            after_clock = true;
            continue;
        }
        if bare.contains(['.', '/', '-']) {
            if f.day.is_some() || f.month.is_some() || f.either.is_some() {
                return None;
            }
            match numeric_date(tok)? {
                Numeric::Known(d, m, y) => {
                    f.day = Some(d);
                    f.month = Some(m);
                    // The date's own year wins over a bare one before it, as it always did.
                    f.year = y.or(f.year);
                }
                Numeric::Either(e) => f.either = Some(e),
            }
            continue;
        }
        if let Some(n) = tok.strip_suffix('.') {
            // German ordinal day `24.`; a year may end a sentence: `2026.`.
            if n.len() == 4 {
                once(&mut f.year, year_of(n)?)?;
            } else {
                once(&mut f.day, small_number(n, 2)?)?;
            }
            continue;
        }
        if let Some(d) = ["st", "nd", "rd", "th", "er", "º", "°", "ª"]
            .iter()
            .find_map(|suf| tok.strip_suffix(suf))
        {
            once(&mut f.day, small_number(d, 2)?)?;
            continue;
        }
        if !tok.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        match tok.len() {
            4 => once(&mut f.year, year_of(tok)?)?,
            1 | 2 => {
                let n: u32 = tok.parse().ok()?;
                // Without a context a bare number stays a day or year, as it always was.
                if f.time.is_none() && marks_time && cx.is_some() {
                    // `14 Uhr`, `14 h 05`, `2 PM`.
                    let (t, used) = hour_only(&tokens, i, n)?;
                    f.time = Some(t);
                    i += used;
                    after_clock = true;
                } else {
                    f.numbers.push((n, tok.len()));
                }
            }
            _ => return None,
        }
    }
    build(f, cx)
}

/// An hour written as a number at `i - 1` followed by `Uhr`, `h [MM]` or
/// am/pm: the time and the tokens used after the number.
fn hour_only(tokens: &[String], i: usize, h: u32) -> Option<((u32, u32, u32), usize)> {
    if let Some((pm, used)) = meridiem(tokens, i) {
        return Some((twelve_hour((h, 0, 0), pm)?, used));
    }
    if h > 24 {
        return None;
    }
    let minutes = tokens.get(i + 1).filter(|t| t.len() == 2);
    match (at(tokens, i), minutes.and_then(|m| small_number(m, 2))) {
        (Some("h"), Some(m)) if m <= 59 => Some(((h, m, 0), 2)),
        _ => Some(((h, 0, 0), 1)),
    }
}

/// Builds the instant from what the tokens said.
fn build(mut f: Found, cx: Option<&DateContext>) -> Option<DateTime<Utc>> {
    if f.mar > 0 {
        if f.month.is_none() && (f.day.is_some() || !f.numbers.is_empty()) {
            f.month = Some(3);
        } else {
            f.weekday.get_or_insert(1);
        }
    }
    let date = if let Some(k) = f.days_back {
        if f.has_date() {
            return None;
        }
        cx?.today().checked_sub_days(Days::new(k.into()))?
    } else if !f.has_date() && f.time.is_some() {
        // XenForo's `Monday at 3:00 PM`: a day of the past week.
        last_weekday(f.weekday?, cx?)?
    } else {
        let mut numbers = f.numbers.iter();
        if let Some(e) = f.either {
            if f.year.is_some() {
                return None;
            }
            let (d, m) = pick_order(e, f.weekday, cx.map(|c| c.day_order));
            f.day = Some(d);
            f.month = Some(m);
            f.year = Some(e.year);
        }
        if f.day.is_none() {
            f.day = numbers.next().map(|&(v, _)| v);
        }
        if f.year.is_none() {
            f.year = numbers.next().map(|&(v, len)| full_year(v, len));
        }
        if numbers.next().is_some() {
            return None;
        }
        let (day, month) = (f.day?, f.month?);
        match f.year {
            Some(y) => NaiveDate::from_ymd_opt(y, month, day)?,
            None => infer_year(month, day, cx?)?,
        }
    };
    let naive = match f.time {
        Some((24, 0, 0)) => date.succ_opt()?.and_time(NaiveTime::MIN),
        Some((h, m, s)) => date.and_time(NaiveTime::from_hms_opt(h, m, s)?),
        None => date.and_time(NaiveTime::MIN),
    };
    resolve(naive, f.offset, cx)
}

/// Day and month of `03/04/2026`: the reading whose weekday matches the
/// written one when exactly one does, else the preferred order.
fn pick_order(e: Either, weekday: Option<u32>, order: Option<DayOrder>) -> (u32, u32) {
    let day_first = (e.first, e.second);
    let month_first = (e.second, e.first);
    let fits = |(d, m): (u32, u32)| {
        NaiveDate::from_ymd_opt(e.year, m, d)
            .is_some_and(|x| Some(x.weekday().num_days_from_monday()) == weekday)
    };
    match (fits(day_first), fits(month_first)) {
        (true, false) => day_first,
        (false, true) => month_first,
        _ if order == Some(DayOrder::MonthFirst) => month_first,
        _ => day_first,
    }
}

/// A day and month without a year: the latest such date not after tomorrow.
fn infer_year(month: u32, day: u32, cx: &DateContext) -> Option<NaiveDate> {
    let limit = cx.today().succ_opt()?;
    let this = limit.year();
    (this - 8..=this)
        .rev()
        .filter_map(|y| NaiveDate::from_ymd_opt(y, month, day))
        .find(|d| *d <= limit)
}

/// The latest day before today that is `weekday` (Monday = 0).
fn last_weekday(weekday: u32, cx: &DateContext) -> Option<NaiveDate> {
    let today = cx.today();
    (1..=7)
        .filter_map(|k| today.checked_sub_days(Days::new(k)))
        .find(|d| d.weekday().num_days_from_monday() == weekday)
}
