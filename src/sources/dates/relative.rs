//! "N units ago" in eight languages — `vor 3 Stunden`, `3 hours ago`,
//! `il y a 2 jours`, `hace 1 día`, `3 ore fa`, `3 uur geleden`,
//! `há 3 horas`, `3 godziny temu`, `5 min. ago`, `vor 1 Std. 5 Min.` — and
//! "just now", counted back from the context's `now`.
//!
//! Seconds, minutes and hours are exact durations; days, weeks, months and
//! years step the calendar in the context's zone, so `vor 2 Tagen` keeps the
//! wall-clock time across a DST change.

use super::words::{self, Unit};
use super::{resolve, small_number, DateContext};
use chrono::{DateTime, Days, Months, TimeDelta, Utc};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Item {
    /// `vor`, `hace`, `il y a`: the amount follows.
    Before,
    /// `ago`, `fa`, `temu`: the amount precedes.
    After,
    Number(u32),
    /// `a`, `an`, `einer`, `une`.
    One,
    /// `few`, `wenigen`, `quelques`.
    Few,
    /// A unit, and whether it means one on its own (Polish `godzinę`).
    Unit(Unit, bool),
}

/// `3h`, `5min`, `2d`, `1w`, `3mo`, `2y`: a number with its unit attached.
fn glued(t: &str) -> Option<(u32, Unit)> {
    let split = t.find(|c: char| !c.is_ascii_digit())?;
    let (n, u) = t.split_at(split);
    Some((small_number(n, 6)?, words::roles(u).unit?))
}

/// What each word says; `None` at a word that has no place in "N units ago".
fn items(words_in: &[&str]) -> Option<Vec<Item>> {
    // Dots end abbreviations: `Std.`, `min.`.
    let toks: Vec<&str> = words_in.iter().map(|t| t.trim_end_matches('.')).collect();
    let mut items = Vec::new();
    let mut i = 0;
    while let Some(&t) = toks.get(i) {
        i += 1;
        let word = words::roles(t);
        if t == "il" && toks.get(i) == Some(&"y") && toks.get(i + 1) == Some(&"a") {
            items.push(Item::Before);
            i += 2;
        } else if word.ago_before() {
            items.push(Item::Before);
        } else if word.ago_after() {
            items.push(Item::After);
        } else if t == "an" {
            // English `an hour`, French `un an` (a year).
            let counted = matches!(items.last(), Some(Item::Number(_) | Item::One));
            items.push(if counted {
                Item::Unit(Unit::Year, false)
            } else {
                Item::One
            });
        } else if t.bytes().all(|b| b.is_ascii_digit()) {
            items.push(Item::Number(small_number(t, 6)?));
        } else if word.one() {
            items.push(Item::One);
        } else if word.few() {
            items.push(Item::Few);
        } else if word.ago_filler() {
            continue;
        } else if let Some(u) = word.unit {
            items.push(Item::Unit(u, word.implicit_one()));
        } else {
            let (n, u) = glued(t)?;
            items.push(Item::Number(n));
            items.push(Item::Unit(u, false));
        }
    }
    Some(items)
}

/// `now` or `now` minus the amount written; `None` unless every word is understood.
pub(super) fn parse_ago(s: &str, cx: &DateContext) -> Option<DateTime<Utc>> {
    let folded = words::tokens(s);
    // Apostrophes join words (`un'ora`, `l'instant`).
    let plain: Vec<&str> = folded
        .iter()
        .flat_map(|t| t.split('\''))
        .filter(|t| !t.is_empty() && !words::roles(t).label())
        .collect();
    if words::is_now_phrase(&plain.join(" ")) {
        return Some(cx.now);
    }
    let items = items(&plain)?;
    let body: &[Item] = match (items.first(), items.last()) {
        (Some(Item::Before), _) => items.get(1..)?,
        (_, Some(Item::After)) => items.get(..items.len() - 1)?,
        _ => return None,
    };
    let mut seconds: i64 = 0;
    let mut days: u64 = 0;
    let mut months: u32 = 0;
    let mut count: Option<Item> = None;
    let mut units = 0;
    for &item in body {
        match item {
            Item::Number(_) | Item::One if count.is_none() => count = Some(item),
            // `a few`, `ein paar`.
            Item::Few if matches!(count, None | Some(Item::One)) => count = Some(item),
            Item::Unit(unit, alone) => {
                let n = match count.take() {
                    Some(Item::Number(n)) => n,
                    Some(Item::One) => 1,
                    Some(Item::Few) if unit == Unit::Second => 0,
                    None if alone => 1,
                    _ => return None,
                };
                units += 1;
                let n64 = i64::from(n);
                match unit {
                    Unit::Second => seconds = seconds.checked_add(n64)?,
                    Unit::Minute => seconds = seconds.checked_add(n64 * 60)?,
                    Unit::Hour => seconds = seconds.checked_add(n64 * 3600)?,
                    Unit::Day => days = days.checked_add(n.into())?,
                    Unit::Week => days = days.checked_add(u64::from(n) * 7)?,
                    Unit::Month => months = months.checked_add(n)?,
                    Unit::Year => months = months.checked_add(n.checked_mul(12)?)?,
                }
            }
            _ => return None,
        }
    }
    if units == 0 || count.is_some() {
        return None;
    }
    let mut at = cx.now;
    if days > 0 || months > 0 {
        let local = cx.now.with_timezone(&cx.tz).naive_local();
        let local = local
            .checked_sub_months(Months::new(months))?
            .checked_sub_days(Days::new(days))?;
        at = resolve(local, None, Some(cx))?;
    }
    at.checked_sub_signed(TimeDelta::try_seconds(seconds)?)
}
