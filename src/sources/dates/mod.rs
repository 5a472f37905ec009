//! Date parsing for feeds and pages: RFC 3339, RFC 2822 (also with German
//! day and month names), and common German/English formats.
//!
//! Two readers: a strict ISO 8601 / RFC 3339 one for `YYYY-MM-DD…`, and a
//! token reader for everything written with words or dots (RFC 2822,
//! `24.11.2026 14:05`, `November 24, 2026 2:05 PM`, …). Every token must be
//! understood, so garbage yields `None` instead of a wrong date.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

/// Parses a date as found in feeds and pages; naive times are read as UTC.
pub fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() || s.len() > 200 {
        return None;
    }
    if let Some(d) = parse_epoch(s) {
        return Some(d);
    }
    if let Some(d) = parse_iso(s) {
        return Some(d);
    }
    parse_words(s)
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
fn parse_iso(s: &str) -> Option<DateTime<Utc>> {
    let (y, rest) = digits(s, 4)?;
    let rest = rest.strip_prefix('-')?;
    let (m, rest) = digits(rest, 2)?;
    let rest = rest.strip_prefix('-')?;
    let (d, rest) = digits(rest, 2)?;
    let date = NaiveDate::from_ymd_opt(y as i32, m, d)?;
    if rest.is_empty() {
        return Some(date.and_time(NaiveTime::MIN).and_utc());
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
    let naive = date.and_time(time);
    let zone = rest.trim_start();
    let offset = if zone.is_empty() {
        0
    } else {
        parse_zone(zone)?
    };
    apply_offset(naive, offset)
}

/// Converts a local time with `offset` seconds east of UTC to UTC.
fn apply_offset(naive: NaiveDateTime, offset: i32) -> Option<DateTime<Utc>> {
    let tz = FixedOffset::east_opt(offset)?;
    Some(tz.from_local_datetime(&naive).single()?.with_timezone(&Utc))
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

/// English and German weekday names and abbreviations.
fn is_weekday(t: &str) -> bool {
    matches!(
        t,
        "mon"
            | "monday"
            | "tue"
            | "tues"
            | "tuesday"
            | "wed"
            | "wednesday"
            | "thu"
            | "thur"
            | "thurs"
            | "thursday"
            | "fri"
            | "friday"
            | "sat"
            | "saturday"
            | "sun"
            | "sunday"
            | "mo"
            | "montag"
            | "di"
            | "dienstag"
            | "mi"
            | "mittwoch"
            | "do"
            | "donnerstag"
            | "fr"
            | "freitag"
            | "sa"
            | "samstag"
            | "sonnabend"
            | "so"
            | "sonntag"
    )
}

/// English and German month names and abbreviations (lower case).
fn month_number(t: &str) -> Option<u32> {
    Some(match t {
        "jan" | "january" | "januar" | "jän" | "jänner" => 1,
        "feb" | "february" | "februar" => 2,
        "mar" | "march" | "mär" | "märz" | "mrz" | "maerz" => 3,
        "apr" | "april" => 4,
        "may" | "mai" => 5,
        "jun" | "june" | "juni" => 6,
        "jul" | "july" | "juli" => 7,
        "aug" | "august" => 8,
        "sep" | "sept" | "september" => 9,
        "oct" | "october" | "okt" | "oktober" => 10,
        "nov" | "november" => 11,
        "dec" | "december" | "dez" | "dezember" => 12,
        _ => return None,
    })
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

/// 1 to `max_len` ASCII digits.
fn small_number(t: &str, max_len: usize) -> Option<u32> {
    if t.is_empty() || t.len() > max_len || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// Two-digit years as RFC 2822 reads them.
fn full_year(y: u32, len: usize) -> i32 {
    match (len, y) {
        (4, _) => y as i32,
        (_, 0..=49) => 2000 + y as i32,
        _ => 1900 + y as i32,
    }
}

/// Dates written with words or dots: RFC 2822, German and English forms.
fn parse_words(s: &str) -> Option<DateTime<Utc>> {
    // Drop `(CET)`-style comments and turn commas into separators.
    let mut cleaned = String::with_capacity(s.len());
    let mut depth = 0u32;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => cleaned.push(' '),
            _ if depth == 0 => cleaned.push(c),
            _ => {}
        }
    }
    let tokens: Vec<String> = cleaned.split_whitespace().map(str::to_lowercase).collect();

    let mut day: Option<u32> = None;
    let mut month: Option<u32> = None;
    let mut year: Option<i32> = None;
    let mut time: Option<(u32, u32, u32)> = None;
    let mut offset: Option<i32> = None;
    // Bare numbers whose role depends on the others: (value, digit count).
    let mut numbers: Vec<(u32, usize)> = Vec::new();

    let mut i = 0;
    while i < tokens.len() {
        let tok = tokens.get(i)?.as_str();
        let next = tokens.get(i + 1).map(String::as_str);
        i += 1;
        let bare = tok.trim_end_matches('.');

        if is_weekday(bare) || matches!(bare, "um" | "at" | "uhr" | "den" | "the" | "of") {
            continue;
        }
        if bare == "am" || bare == "a.m" {
            // German "am 24. November" means "on"; only after a time is it AM.
            if time.is_some() && i >= 2 && tokens.get(i - 2).is_some_and(|t| t.contains(':')) {
                let (h, m, s) = time?;
                if !(1..=12).contains(&h) {
                    return None;
                }
                time = Some((h % 12, m, s));
            }
            continue;
        }
        if bare == "pm" || bare == "p.m" {
            let (h, m, s) = time?;
            if !(1..=12).contains(&h) {
                return None;
            }
            time = Some((h % 12 + 12, m, s));
            continue;
        }
        if tok.contains(':') && time.is_none() {
            // `2:05pm` with the suffix attached.
            let (clock, suffix) = match tok.find(|c: char| c.is_ascii_alphabetic()) {
                Some(p) => (tok.get(..p)?, tok.get(p..)?),
                None => (tok, ""),
            };
            let (h, m, s) = parse_clock(clock, ':')?;
            time = Some(match suffix.trim_end_matches('.') {
                "" => (h, m, s),
                "am" | "a.m" if (1..=12).contains(&h) => (h % 12, m, s),
                "pm" | "p.m" if (1..=12).contains(&h) => (h % 12 + 12, m, s),
                "h" | "uhr" => (h, m, s),
                _ => return None,
            });
            continue;
        }
        if tok.starts_with(['+', '-'])
            || (tok.len() <= 5
                && tok.bytes().all(|b| b.is_ascii_alphabetic())
                && month_number(bare).is_none())
        {
            if offset.is_some() {
                return None;
            }
            offset = Some(parse_zone(tok)?);
            continue;
        }
        if let Some(m) = month_number(bare) {
            if month.is_some() {
                return None;
            }
            month = Some(m);
            continue;
        }
        let dots = tok.matches('.').count();
        if dots >= 2 && tok.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            // `24.11.2026` (a trailing dot is tolerated).
            let mut parts = tok.split('.');
            let d = small_number(parts.next()?, 2)?;
            let m = small_number(parts.next()?, 2)?;
            let y_str = parts.next()?;
            let y = small_number(y_str, 4)?;
            if y_str.len() == 3 || parts.any(|p| !p.is_empty()) || day.is_some() || month.is_some()
            {
                return None;
            }
            day = Some(d);
            month = Some(m);
            year = Some(full_year(y, y_str.len()));
            continue;
        }
        if dots == 1 && next == Some("uhr") && time.is_none() {
            // `14.05 Uhr`.
            time = Some(parse_clock(tok, '.')?);
            continue;
        }
        if let Some(d) = tok.strip_suffix('.') {
            // German ordinal day `24.`.
            if day.is_some() {
                return None;
            }
            day = Some(small_number(d, 2)?);
            continue;
        }
        if let Some(d) = ["st", "nd", "rd", "th"]
            .iter()
            .find_map(|suf| tok.strip_suffix(suf))
        {
            if day.is_some() {
                return None;
            }
            day = Some(small_number(d, 2)?);
            continue;
        }
        if tok.bytes().all(|b| b.is_ascii_digit()) {
            match tok.len() {
                4 if year.is_none() => year = Some(full_year(tok.parse().ok()?, 4)),
                1 | 2 => numbers.push((tok.parse().ok()?, tok.len())),
                _ => return None,
            }
            continue;
        }
        return None;
    }

    let mut numbers = numbers.into_iter();
    if day.is_none() {
        day = numbers.next().map(|(v, _)| v);
    }
    if year.is_none() {
        year = numbers.next().map(|(v, len)| full_year(v, len));
    }
    if numbers.next().is_some() {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(year?, month?, day?)?;
    let naive = match time {
        Some((24, 0, 0)) => date.succ_opt()?.and_time(NaiveTime::MIN),
        Some((h, m, s)) => date.and_time(NaiveTime::from_hms_opt(h, m, s)?),
        None => date.and_time(NaiveTime::MIN),
    };
    apply_offset(naive, offset.unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> Option<DateTime<Utc>> {
        Some(DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc))
    }

    #[test]
    fn rfc3339() {
        let want = utc("2026-11-24T13:05:00Z");
        assert_eq!(parse_date("2026-11-24T14:05:00+01:00"), want);
        assert_eq!(parse_date("2026-11-24T13:05:00Z"), want);
        assert_eq!(parse_date("2026-11-24t13:05:00z"), want);
        assert_eq!(parse_date("2026-11-24 14:05:00+01:00"), want);
        assert_eq!(parse_date("2026-11-24T14:05:00+0100"), want);
        assert_eq!(parse_date("2026-11-24T08:05:00-05:00"), want);
        assert_eq!(parse_date("  2026-11-24T13:05:00Z\n"), want);
        assert_eq!(parse_date("2026-11-24T13:05Z"), want);
        assert_eq!(
            parse_date("2026-11-24T14:05:00.123456+01:00"),
            utc("2026-11-24T13:05:00.123456Z")
        );
        assert_eq!(
            parse_date("2026-11-24T13:05:00.5Z"),
            utc("2026-11-24T13:05:00.500Z")
        );
    }

    #[test]
    fn iso_date_and_naive() {
        assert_eq!(parse_date("2026-11-24"), utc("2026-11-24T00:00:00Z"));
        assert_eq!(
            parse_date("2026-11-24T14:05:00"),
            utc("2026-11-24T14:05:00Z")
        );
        assert_eq!(parse_date("2026-11-24 14:05"), utc("2026-11-24T14:05:00Z"));
    }

    #[test]
    fn rfc2822() {
        let want = utc("2026-11-24T13:05:00Z");
        assert_eq!(parse_date("Tue, 24 Nov 2026 14:05:00 +0100"), want);
        assert_eq!(parse_date("Tue, 24 Nov 2026 13:05:00 GMT"), want);
        assert_eq!(parse_date("Tue, 24 Nov 2026 13:05:00 UT"), want);
        assert_eq!(parse_date("24 Nov 2026 13:05:00 Z"), want);
        assert_eq!(parse_date("Tue, 24 Nov 2026 08:05:00 EST"), want);
        assert_eq!(parse_date("Tue, 24 Nov 2026 05:05:00 PST"), want);
        assert_eq!(parse_date("Tue, 24 Nov 2026 14:05:00 CET"), want);
        assert_eq!(parse_date("Tue, 24 Nov 2026 15:05:00 CEST"), want);
        assert_eq!(parse_date("Tue, 24 Nov 2026 15:05:00 MESZ"), want);
        assert_eq!(parse_date("Tue, 24 Nov 2026 14:05:00 +0100 (CET)"), want);
        assert_eq!(parse_date("Tue, 24 Nov 2026 14:05 +0100"), want);
        assert_eq!(parse_date("24 Nov 26 13:05:00 GMT"), want);
        assert_eq!(
            parse_date("Thu, 3 Dec 2026 09:00:00 -0000"),
            utc("2026-12-03T09:00:00Z")
        );
        assert_eq!(
            parse_date("Wednesday, 25 November 2026 13:05:00 GMT"),
            utc("2026-11-25T13:05:00Z")
        );
    }

    #[test]
    fn rfc2822_german_names() {
        assert_eq!(
            parse_date("Mo, 24 Nov 2026 14:05:00 +0100"),
            utc("2026-11-24T13:05:00Z")
        );
        assert_eq!(parse_date("Di, 3 Mär 2026"), utc("2026-03-03T00:00:00Z"));
        assert_eq!(
            parse_date("Do, 01 Okt 2026 10:00:00 +0200"),
            utc("2026-10-01T08:00:00Z")
        );
        assert_eq!(
            parse_date("So, 6 Dez 2026 10:00:00 MEZ"),
            utc("2026-12-06T09:00:00Z")
        );
        assert_eq!(
            parse_date("Mi, 13 Mai 2026 10:00:00 MESZ"),
            utc("2026-05-13T08:00:00Z")
        );
    }

    #[test]
    fn german_formats() {
        let want = utc("2026-11-24T14:05:00Z");
        assert_eq!(parse_date("24.11.2026 14:05"), want);
        assert_eq!(parse_date("24.11.2026, 14:05 Uhr"), want);
        assert_eq!(parse_date("24.11.2026 um 14:05 Uhr"), want);
        assert_eq!(parse_date("24.11.2026 14.05 Uhr"), want);
        assert_eq!(parse_date("24. November 2026 14:05"), want);
        assert_eq!(parse_date("am 24. November 2026 um 14:05 Uhr"), want);
        assert_eq!(parse_date("Dienstag, 24. November 2026, 14:05 Uhr"), want);
        assert_eq!(parse_date("24.11.2026"), utc("2026-11-24T00:00:00Z"));
        assert_eq!(parse_date("3. März 2026"), utc("2026-03-03T00:00:00Z"));
        assert_eq!(parse_date("3.3.26"), utc("2026-03-03T00:00:00Z"));
    }

    #[test]
    fn english_formats() {
        let want = utc("2026-11-24T14:05:00Z");
        assert_eq!(parse_date("November 24, 2026 2:05 PM"), want);
        assert_eq!(parse_date("November 24, 2026 2:05pm"), want);
        assert_eq!(parse_date("Nov 24, 2026 at 2:05 p.m."), want);
        assert_eq!(
            parse_date("November 24, 2026 12:30 AM"),
            utc("2026-11-24T00:30:00Z")
        );
        assert_eq!(parse_date("Nov 24, 2026"), utc("2026-11-24T00:00:00Z"));
        assert_eq!(parse_date("24 November 2026"), utc("2026-11-24T00:00:00Z"));
        assert_eq!(
            parse_date("Tuesday, November 24th, 2026"),
            utc("2026-11-24T00:00:00Z")
        );
        assert_eq!(parse_date("Sept. 3, 2026"), utc("2026-09-03T00:00:00Z"));
    }

    #[test]
    fn epoch_seconds() {
        assert_eq!(parse_date("1795525500"), utc("2026-11-24T13:05:00Z"));
        assert_eq!(parse_date("1795525500000"), utc("2026-11-24T13:05:00Z"));
    }

    #[test]
    fn garbage_is_none() {
        for s in [
            "",
            "   ",
            "gestern",
            "vor 3 Stunden",
            "2026",
            "2026-13-01",
            "2026-02-30",
            "2026-11-24T25:00:00Z",
            "2026-11-24T14:05:00+99:00",
            "32.11.2026",
            "24.11.",
            "November 2026",
            "Nov 24",
            "24 Nov 2026 14:05:00 XYZT",
            "13:05 PM 24 Nov 2026",
            "Tue, 24 Nov 2026 14:05:00 +0100 +0200",
            "ä.ö.ü",
            "2026-11-24Tä",
            "😀, 24 Nov 2026",
            "99999999999999999999",
            "1.2.3.4.5",
        ] {
            assert_eq!(parse_date(s), None, "{s:?}");
        }
    }
}
