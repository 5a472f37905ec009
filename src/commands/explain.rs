//! `mentions explain ID|URL`: one mention, the query terms that matched
//! it, and every sighting merged into it with the rule that merged it. A
//! URL that is a mention of several topics is explained once per topic; a
//! URL that is no mention gets what is known of it (which sources saw it
//! and which topics it did not match).
//!
//! Exit status: 0 when it is a mention (excluded or not); 1 when the id or
//! URL is no mention (what is known is still printed for a URL).

use super::{open_reads, print, Failure};
use crate::cli::TextOrJson;
use crate::config::Settings;
use crate::listing::{self, Explanation, UrlFacts};
use crate::report;
use std::process::ExitCode;

pub(super) fn explain(
    settings: &Settings,
    target: &str,
    topic: Option<&str>,
    format: TextOrJson,
) -> Result<ExitCode, Failure> {
    if let Some(name) = topic {
        report::select_topics(settings, Some(name)).map_err(Failure::Usage)?;
    }
    let target = target.trim();
    if target.is_empty() {
        return Err(Failure::Usage(
            "explain needs a mention's id (as list shows it) or a URL".into(),
        ));
    }
    let store = open_reads(settings)?;
    let store = store.as_ref();
    if !target.is_empty() && target.bytes().all(|b| b.is_ascii_digit()) {
        let id: i64 = target
            .parse()
            .map_err(|_| Failure::Usage(format!("{target} is too large to be a mention's id")))?;
        let Some(x) = listing::explain_mention(store, settings, id)? else {
            return Err(Failure::Runtime(format!(
                "no mention has id {id} (mentions list shows the ids)"
            )));
        };
        if let Some(name) = topic.filter(|t| *t != x.explained.mention.topic) {
            return Err(Failure::Runtime(format!(
                "mention {id} is a mention of topic {}, not of {name}",
                x.explained.mention.topic
            )));
        }
        print(&render(&[x], format))?;
        return Ok(ExitCode::SUCCESS);
    }
    match listing::explain_url(store, settings, target)? {
        UrlFacts::Mentions(all) => {
            let topics: Vec<String> = all
                .iter()
                .map(|x| x.explained.mention.topic.clone())
                .collect();
            let chosen: Vec<Explanation> = all
                .into_iter()
                .filter(|x| topic.is_none_or(|t| t == x.explained.mention.topic))
                .collect();
            if chosen.is_empty() {
                return Err(Failure::Runtime(format!(
                    "{target} is a mention of topic {}, not of {}",
                    topics.join(", "),
                    topic.unwrap_or_default()
                )));
            }
            print(&render(&chosen, format))?;
            Ok(ExitCode::SUCCESS)
        }
        UrlFacts::NotAMention(facts) => {
            let text = match format {
                TextOrJson::Text => facts.text(),
                TextOrJson::Json => listing::pretty(&facts.json()),
            };
            print(&text)?;
            // What is known of a URL is an answer, not an error.
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// One explanation: its text, or its JSON object; several: their texts
/// apart by a blank line, or a JSON array.
fn render(all: &[Explanation], format: TextOrJson) -> String {
    match format {
        TextOrJson::Text => all
            .iter()
            .map(Explanation::text)
            .collect::<Vec<_>>()
            .join("\n"),
        TextOrJson::Json if all.len() == 1 => listing::pretty(&all[0].json()),
        TextOrJson::Json => listing::pretty(&all.iter().map(Explanation::json).collect::<Vec<_>>()),
    }
}
