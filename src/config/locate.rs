//! Where things are in the config text: byte spans become `file:line:col`
//! messages naming the `[[topic]]`/`[[source]]`/`[[alert]]` entry and the key,
//! and the parser's, `${VAR}` expansion's and serde's span-only errors are
//! described through an index of every key.

use super::expand::ExpandError;
use super::ConfigError;
use std::fmt::Display;
use std::ops::Range;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// The file being read, for messages.
pub(super) struct Cx<'a> {
    /// The path as messages print it.
    pub(super) file: String,
    pub(super) text: &'a str,
}

impl Cx<'_> {
    /// `file:line[:col]: owner: key: message`.
    pub(super) fn err(
        &self,
        span: Option<Range<usize>>,
        with_column: bool,
        owner: Option<&str>,
        key: Option<&str>,
        message: impl Display,
    ) -> ConfigError {
        let mut out = self.file.clone();
        if let Some(span) = span {
            let (line, col) = line_col(self.text, span.start);
            out.push_str(&format!(":{line}"));
            if with_column {
                out.push_str(&format!(":{col}"));
            }
        }
        out.push_str(": ");
        if let Some(owner) = owner {
            out.push_str(owner);
            out.push_str(": ");
        }
        if let Some(key) = key {
            out.push_str(key);
            out.push_str(": ");
        }
        out.push_str(&message.to_string());
        ConfigError { message: out }
    }

    /// An error at a value's span, with line and column.
    pub(super) fn at(
        &self,
        span: Range<usize>,
        owner: Option<&str>,
        key: &str,
        m: impl Display,
    ) -> ConfigError {
        self.err(Some(span), true, owner, Some(key), m)
    }

    /// A required key is absent: the error points at the table's first line.
    pub(super) fn missing(
        &self,
        table: Range<usize>,
        owner: &str,
        key: &str,
        hint: &str,
    ) -> ConfigError {
        self.err(
            Some(table),
            false,
            Some(owner),
            None,
            format!("missing key `{key}`; {hint}"),
        )
    }

    /// A TOML syntax error, at the line and column the parser names.
    pub(super) fn syntax_err(&self, e: &toml::de::Error) -> ConfigError {
        let message = e.message().trim().to_owned();
        self.err(
            e.span(),
            true,
            None,
            None,
            format_args!("TOML syntax error: {message}"),
        )
    }

    /// A `${…}` that cannot be expanded, named by the entry and key holding it.
    pub(super) fn expand_err(&self, e: ExpandError, index: &Index) -> ConfigError {
        let (owner, key) = index.describe(&e.span);
        self.err(
            Some(e.span),
            true,
            owner.as_deref(),
            key.as_deref(),
            e.message,
        )
    }

    /// A serde error in the words of the config: keys, not Rust types.
    pub(super) fn serde_err(&self, e: &toml::de::Error, index: &Index) -> ConfigError {
        let raw = e.message().trim();
        let (owner, key) = match e.span() {
            Some(span) => index.describe(&span),
            None => (None, None),
        };
        let (message, with_column, key) = if let Some(rest) = raw.strip_prefix("unknown field ") {
            let (name, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
            let expected = expected.trim_start_matches("one of ").replace('`', "");
            let mut m = format!("unknown key {name}");
            if !expected.is_empty() {
                m.push_str(&format!(" (expected one of {expected})"));
            }
            m.push_str("; remove it or correct its spelling");
            // The key is named in the message; the parent path says where it sits.
            let parent = key.and_then(|k| k.rsplit_once('.').map(|(p, _)| p.to_owned()));
            (m, true, parent)
        } else if let Some(name) = raw.strip_prefix("missing field ") {
            (format!("missing key {name}; add it"), false, key)
        } else {
            // serde names Rust types; say what to write instead.
            let m = raw
                .replace("expected i64", "expected a whole number")
                .replace("expected f64", "expected a number")
                .replace(
                    "expected a sequence",
                    "expected a list such as [\"a\", \"b\"]",
                );
            (m, true, key)
        };
        self.err(
            e.span(),
            with_column,
            owner.as_deref(),
            key.as_deref(),
            message,
        )
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub(super) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut cut = offset.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let before = text.get(..cut).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let col = before.get(line_start..).unwrap_or("").chars().count() + 1;
    (line, col)
}

/// Where each key and value sits, and which `[[topic]]`/`[[source]]`/`[[alert]]`
/// entry encloses an offset, so serde's span-only errors can be described.
pub(super) struct Index {
    keys: Vec<(Range<usize>, String)>,
    owners: Vec<(Range<usize>, String)>,
}

impl Index {
    pub(super) fn build(root: &DeTable<'_>) -> Index {
        let mut index = Index {
            keys: Vec::new(),
            owners: Vec::new(),
        };
        for (key, value) in root.iter() {
            let name = key.get_ref().as_ref();
            if let (DeValue::Array(items), "topic" | "source" | "alert") = (value.get_ref(), name) {
                for (i, item) in items.iter().enumerate() {
                    if let DeValue::Table(table) = item.get_ref() {
                        let mut extent = item.span();
                        for (k, v) in table.iter() {
                            extent.start = extent.start.min(k.span().start);
                            extent.end = extent.end.max(v.span().end);
                        }
                        index.owners.push((extent, owner_label(name, i, table)));
                        index.walk_table(table, "");
                    }
                }
                continue;
            }
            index.keys.push((key.span(), name.to_owned()));
            index.walk_value(value, name);
        }
        index
    }

    fn walk_table(&mut self, table: &DeTable<'_>, prefix: &str) {
        for (key, value) in table.iter() {
            let path = if prefix.is_empty() {
                key.get_ref().to_string()
            } else {
                format!("{prefix}.{}", key.get_ref())
            };
            self.keys.push((key.span(), path.clone()));
            self.walk_value(value, &path);
        }
    }

    fn walk_value(&mut self, value: &Spanned<DeValue<'_>>, path: &str) {
        self.keys.push((value.span(), path.to_owned()));
        match value.get_ref() {
            DeValue::Table(t) => self.walk_table(t, path),
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.walk_value(item, &format!("{path}[{i}]"));
                }
            }
            _ => {}
        }
    }

    /// The enclosing entry's label and the innermost key at `span`.
    pub(super) fn describe(&self, span: &Range<usize>) -> (Option<String>, Option<String>) {
        let smallest = |list: &[(Range<usize>, String)]| {
            list.iter()
                .filter(|(r, _)| r.start <= span.start && span.start < r.end.max(r.start + 1))
                .min_by_key(|(r, _)| r.end - r.start)
                .map(|(_, s)| s.clone())
        };
        (smallest(&self.owners), smallest(&self.keys))
    }
}

fn owner_label(array: &str, i: usize, table: &DeTable<'_>) -> String {
    let string = |key: &str| match table.get(key).map(Spanned::get_ref) {
        Some(DeValue::String(s)) => Some(s.to_string()),
        _ => None,
    };
    match (array, string("name"), string("topic")) {
        ("alert", _, Some(topic)) => format!("alert #{} (topic \"{topic}\")", i + 1),
        (_, Some(name), _) if array != "alert" => format!("{array} \"{name}\""),
        _ => format!("{array} #{}", i + 1),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::testing::{env, error, TOPIC};
    use crate::config::Settings;
    use std::path::Path;

    #[test]
    fn syntax_error_names_line_and_column() {
        assert_eq!(
            error("[crawler]\ntimeout = \"30s\"\nretries = = 2\n"),
            "config.toml:3:11: TOML syntax error: extra `=`, expected nothing"
        );
        let e = error("[[topic]]\nname = \"nk\nquery = \"x\"\n");
        assert!(e.starts_with("config.toml:2:"), "{e}");
        assert!(e.contains("TOML syntax error"), "{e}");
    }

    #[test]
    fn unknown_top_level_key() {
        assert_eq!(
            error("[crawler]\ntimeout = \"30s\"\n\n[reprot]\nlanguage = \"de\"\n"),
            "config.toml:4:2: unknown key `reprot` (expected one of database, crawler, report, \
             server, topic, source, alert); remove it or correct its spelling"
        );
    }

    #[test]
    fn unknown_crawler_key() {
        let e = error("[crawler]\nretries = 2\ntimeot = \"30s\"\n");
        assert!(
            e.starts_with("config.toml:3:1: crawler: unknown key `timeot` (expected one of user_agent, timeout,"),
            "{e}"
        );
    }

    #[test]
    fn unknown_source_key() {
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"merkur\"\ntype = \"feed\"\n\
             url = \"https://www.merkur.de/politik/rssfeed.rdf\"\nfulltext = true\n"
        );
        let e = error(&text);
        assert!(
            e.starts_with("config.toml:9:1: source \"merkur\": unknown key `fulltext` (expected one of name, type,"),
            "{e}"
        );
    }

    #[test]
    fn error_names_the_full_path() {
        let e =
            Settings::parse_with_env("colour = 1\n", Path::new("/etc/mentions/config.toml"), &env)
                .expect_err("unknown key");
        assert!(
            e.message
                .starts_with("/etc/mentions/config.toml:1:1: unknown key `colour`"),
            "{e}"
        );
    }
}
