//! `${NAME}` expansion: every string value of the parsed TOML tree is
//! expanded in place, before serde reads it, so a variable's value is never
//! parsed as TOML (quotes and `=` in a secret stay inside the string).
//! Every value substituted is collected: it is a secret (`crate::secrets`).

use std::ops::Range;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// A `${…}` that cannot be expanded, at the span of the string holding it.
pub(super) struct ExpandError {
    pub(super) span: Range<usize>,
    pub(super) message: String,
}

/// Expands `${NAME}` in every string value of `table`, in place, and adds
/// each non-empty value it substituted to `values`.
pub(super) fn expand_table(
    table: &mut DeTable<'_>,
    env: &dyn Fn(&str) -> Option<String>,
    values: &mut Vec<String>,
) -> Result<(), ExpandError> {
    for (_, value) in table.iter_mut() {
        expand_value(value, env, values)?;
    }
    Ok(())
}

fn expand_value(
    value: &mut Spanned<DeValue<'_>>,
    env: &dyn Fn(&str) -> Option<String>,
    values: &mut Vec<String>,
) -> Result<(), ExpandError> {
    let span = value.span();
    match value.get_mut() {
        DeValue::String(s) if s.contains("${") => {
            let expanded = expand_str(s, env, values).map_err(|message| ExpandError {
                span: span.clone(),
                message,
            })?;
            *s = expanded.into();
        }
        DeValue::Array(items) => {
            for item in items.iter_mut() {
                expand_value(item, env, values)?;
            }
        }
        DeValue::Table(t) => expand_table(t, env, values)?,
        _ => {}
    }
    Ok(())
}

fn expand_str(
    s: &str,
    env: &dyn Fn(&str) -> Option<String>,
    values: &mut Vec<String>,
) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            return Err("`${` without a closing `}`; write ${NAME}".to_owned());
        };
        let name = &after[..end];
        let valid = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(format!(
                "`${{{name}}}` is not a variable name; use letters, digits and _"
            ));
        }
        match env(name) {
            Some(v) => {
                out.push_str(&v);
                if !v.is_empty() && !values.contains(&v) {
                    values.push(v);
                }
            }
            None => {
                return Err(format!(
                    "environment variable {name} is not set; set it or replace ${{{name}}}"
                ))
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use crate::config::testing::{error, parse, TOPIC};
    use crate::config::SourceSpec;

    #[test]
    fn variables_are_expanded_in_parsed_values() {
        let text = format!(
            "[crawler]\nuser_agent = \"${{UA}} (+https://example.org)\"\n\n{TOPIC}\n\
             [[source]]\nname = \"f\"\ntype = \"feed\"\n\
             url = \"https://example.org/feed?token=${{FEED_TOKEN}}\"\n"
        );
        let s = parse(&text).expect("valid");
        assert_eq!(s.http.user_agent, "mentions-ci/2 (+https://example.org)");
        match &s.sources[0].spec {
            // The value's quotes and `=` stay inside the string: no textual substitution.
            SourceSpec::Feed { url, .. } => assert_eq!(
                url.query_pairs()
                    .next()
                    .map(|(k, v)| (k.into_owned(), v.into_owned())),
                Some(("token".to_owned(), "s3cr\"et'=x".to_owned()))
            ),
            other => panic!("expected a feed, got {other:?}"),
        }
    }

    #[test]
    fn expanded_values_are_kept_as_secrets() {
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"f\"\ntype = \"feed\"\n\
             url = \"https://example.org/${{TOKEN}}/feed?token=${{FEED_TOKEN}}\"\n"
        );
        let s = parse(&text).expect("valid");
        assert_eq!(
            s.secrets.mask(s.sources[0].spec.url().as_str()),
            "https://example.org/***/feed?token=***"
        );
        assert!(parse(&text.replace("${TOKEN}", "x"))
            .expect("valid")
            .secrets
            .mask("s3cret")
            .eq("s3cret"));
    }

    #[test]
    fn errors_quoting_an_expanded_value_mask_it() {
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"f\"\ntype = \"feed\"\nurl = \"ftp://h/${{TOKEN}}\"\n"
        );
        assert_eq!(
            error(&text),
            "config.toml:8:7: source \"f\": url: \"ftp://h/***\" is not an http:// or https:// URL"
        );
    }

    #[test]
    fn unset_variable() {
        let text = format!(
            "{TOPIC}\n[[source]]\nname = \"merkur\"\ntype = \"feed\"\n\
             url = \"https://a.example/feed?key=${{MENTIONS_TEST_UNSET}}\"\n"
        );
        assert_eq!(
            error(&text),
            "config.toml:8:7: source \"merkur\": url: environment variable MENTIONS_TEST_UNSET is \
             not set; set it or replace ${MENTIONS_TEST_UNSET}"
        );
        assert_eq!(
            error("[crawler]\nproxy = \"http://${PROXY_HOST:3128\"\n"),
            "config.toml:2:9: crawler.proxy: `${` without a closing `}`; write ${NAME}"
        );
    }
}
