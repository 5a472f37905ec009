//! `mentions include`: lets excluded mentions count again — by id, or by
//! removing whole exclusions (`--exclusion N`, the numbers `exclusions`
//! shows), which also ends a domain or author rule for later items.

use super::{open_writes, print, Failure};
use crate::config::Settings;
use crate::listing;
use std::fmt::Write as _;
use std::process::ExitCode;

pub(super) fn include(
    settings: &Settings,
    ids: &[i64],
    exclusions: &[i64],
) -> Result<ExitCode, Failure> {
    let mut store = open_writes(settings)?;
    let mut out = String::new();
    if !exclusions.is_empty() {
        let mut rules = Vec::with_capacity(exclusions.len());
        for &n in exclusions {
            match store.exclusion(n)? {
                Some(e) => rules.push(e),
                None => {
                    return Err(Failure::Usage(format!(
                        "no exclusion has number {n} (mentions exclusions lists them); nothing was changed"
                    )))
                }
            }
        }
        let mut named = std::collections::HashSet::new();
        rules.retain(|e| named.insert(e.id));
        for e in rules {
            let Some(change) = store.remove_exclusion(e.id)? else {
                continue;
            };
            let n = change.changed;
            let _ = write!(
                out,
                "removed exclusion {} ({}): {n} mention{} count{} again",
                e.id,
                listing::exclusion_words(&e),
                if n == 1 { "" } else { "s" },
                if n == 1 { "s" } else { "" }
            );
            if e.what != "mention" {
                out.push_str("; later items are no longer excluded");
            }
            out.push('\n');
        }
    }
    let mut found = Vec::with_capacity(ids.len());
    for &id in ids {
        match store.mention(id)? {
            Some(m) => found.push(m),
            None => {
                return Err(Failure::Usage(format!(
                    "no mention has id {id} (mentions list shows the ids); nothing was included"
                )))
            }
        }
    }
    let mut named = std::collections::HashSet::new();
    found.retain(|m| named.insert(m.id));
    // The rules behind them, read before the mention exclusions go.
    let mut rules = Vec::new();
    for m in &found {
        if let Some(rule) = m.excluded_by {
            rules.extend(store.exclusion(rule)?);
        }
    }
    if !found.is_empty() {
        let ids: Vec<i64> = found.iter().map(|m| m.id).collect();
        store.include(&ids)?;
    }
    for m in &found {
        let rule = m.excluded_by.and_then(|r| rules.iter().find(|e| e.id == r));
        match (m.excluded_by, rule) {
            (None, _) => {
                let _ = writeln!(out, "mention {} was not excluded", m.id);
            }
            (Some(_), Some(e)) if e.what != "mention" => {
                let _ = writeln!(
                    out,
                    "mention {} of {} counts again; exclusion {} ({}) still holds for its other and later items",
                    m.id,
                    m.topic,
                    e.id,
                    listing::exclusion_words(e)
                );
            }
            (Some(_), _) => {
                let _ = writeln!(out, "mention {} of {} counts again", m.id, m.topic);
            }
        }
    }
    print(&out)?;
    Ok(ExitCode::SUCCESS)
}
