//! `mentions exclude`: takes mentions out of every count — by id, every
//! mention of a domain (for one topic or all), or every mention of an
//! author within a source — and says what changed. Domain and author
//! exclusions also hold for items stored later.

use super::{open_writes, print, Failure};
use crate::config::Settings;
use crate::listing;
use crate::report;
use crate::store::{ExcludeTarget, RuleError};
use std::fmt::Write as _;
use std::process::ExitCode;

/// What to exclude, as the flags say it.
pub(super) enum Target {
    Mentions(Vec<i64>),
    Domain {
        domain: String,
        topic: Option<String>,
    },
    Author {
        author: String,
        source: String,
    },
}

pub(super) fn exclude(
    settings: &Settings,
    target: Target,
    reason: Option<&str>,
) -> Result<ExitCode, Failure> {
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let now = chrono::Utc::now();
    let out = match target {
        Target::Mentions(ids) => {
            let mut store = open_writes(settings)?;
            let mut found = Vec::with_capacity(ids.len());
            for &id in &ids {
                match store.mention(id)? {
                    Some(m) => found.push(m),
                    None => {
                        return Err(Failure::Usage(format!(
                            "no mention has id {id} (mentions list shows the ids); nothing was excluded"
                        )))
                    }
                }
            }
            let mut named = std::collections::HashSet::new();
            found.retain(|m| named.insert(m.id));
            let ids: Vec<i64> = found.iter().map(|m| m.id).collect();
            store
                .exclude(&ExcludeTarget::Mentions(ids), reason, now)?
                .map_err(|e| Failure::Usage(e.to_string()))?;
            let mut out = String::new();
            for m in &found {
                let what = format!(
                    "mention {} of {} ({}: {})",
                    m.id,
                    m.topic,
                    m.domain.as_deref().unwrap_or(&m.source),
                    shorten(&m.title)
                );
                match m.excluded_by {
                    Some(rule) => {
                        let _ = writeln!(out, "{what} was already excluded (exclusion {rule})");
                    }
                    None => {
                        let _ = writeln!(out, "excluded {what}");
                    }
                }
            }
            out
        }
        Target::Domain { domain, topic } => {
            let domain = listing::parse_domain("--domain", &domain).map_err(Failure::Usage)?;
            if let Some(name) = &topic {
                report::select_topics(settings, Some(name)).map_err(Failure::Usage)?;
            }
            let mut store = open_writes(settings)?;
            let change = store
                .exclude(
                    &ExcludeTarget::Domain {
                        domain: domain.clone(),
                        topic: topic.clone(),
                    },
                    reason,
                    now,
                )?
                .map_err(|e| Failure::Usage(e.to_string()))?;
            let scope = topic.map_or_else(|| "every topic".to_owned(), |t| format!("topic {t}"));
            let rule = change.rule.unwrap_or_default();
            let key = crate::store::domain_key(&domain);
            let www = if key.parse::<std::net::IpAddr>().is_ok() {
                String::new()
            } else {
                format!(" (and www.{key})")
            };
            changed_line(
                change.changed,
                change.unchanged,
                &format!("of {key}{www} for {scope}"),
                rule,
            )
        }
        Target::Author { author, source } => {
            let author = author.trim().to_owned();
            if author.is_empty() {
                return Err(Failure::Usage("--author needs a name".into()));
            }
            let mut store = open_writes(settings)?;
            let change = match store.exclude(
                &ExcludeTarget::Author {
                    author: author.clone(),
                    source: source.clone(),
                },
                reason,
                now,
            )? {
                Ok(change) => change,
                Err(RuleError::UnknownSource(name)) => {
                    let configured = settings.sources.iter().any(|s| s.name == name);
                    return Err(Failure::Usage(if configured {
                        format!("source {name:?} has stored nothing yet; exclude its authors after a crawl")
                    } else {
                        format!(
                            "no source named {name:?} in {} or the database",
                            settings.path.display()
                        )
                    }));
                }
            };
            changed_line(
                change.changed,
                change.unchanged,
                &format!("by {author} from source {source}"),
                change.rule.unwrap_or_default(),
            )
        }
    };
    print(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// `excluded 6 mentions of spam.example for topic nk (exclusion 3); later
/// items are excluded too`.
fn changed_line(changed: u64, unchanged: u64, what: &str, rule: i64) -> String {
    let mut out = format!(
        "excluded {changed} mention{} {what} (exclusion {rule})",
        if changed == 1 { "" } else { "s" }
    );
    if unchanged > 0 {
        let _ = write!(out, "; {unchanged} more were excluded already");
    }
    out.push_str("; later items are excluded too\n");
    out
}

/// A title cut to fit a line.
fn shorten(title: &str) -> String {
    const MAX: usize = 60;
    let flat: String = title
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= MAX {
        flat
    } else {
        flat.chars().take(MAX - 1).collect::<String>() + "…"
    }
}
