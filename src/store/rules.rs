//! Exclusion rules as the write path applies them: how domains and authors
//! are compared, which domain a mention is on, and the domain and author
//! rules a crawl's commit checks each new item against. Apart from the
//! exclusions themselves (`exclusions`) so that writing a crawl
//! (`mentions`) and excluding (which creates topics through `mentions`)
//! do not import each other.

use rusqlite::Transaction;

/// A domain as compared: lower-case, without a leading `www.` or a final dot.
pub fn domain_key(domain: &str) -> String {
    let d = domain.trim().trim_end_matches('.').to_lowercase();
    match d.strip_prefix("www.") {
        Some(rest) if !rest.is_empty() => rest.to_owned(),
        _ => d,
    }
}

/// An author as compared: trimmed and lower-cased by Unicode's rules (SQLite's
/// `lower` folds ASCII only, so the comparison is made here).
pub(super) fn author_key(author: &str) -> String {
    author.trim().to_lowercase()
}

/// The instance a platform mention was seen on: the host of its link (its
/// URL, else its identity), for mentions without a web host.
pub(super) fn instance_of(link: &str) -> Option<String> {
    let url = url::Url::parse(link).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    url.host_str().map(str::to_lowercase)
}

/// SQL: the mention `m` is on domain `:d` (a `domain_key`).
pub(super) const ON_DOMAIN: &str =
    "(m.host IN (:d, 'www.' || :d) OR m.instance IN (:d, 'www.' || :d))";

/// The rows `Rules::push` takes, in either backend's SQL.
pub(super) const SELECT_RULES: &str =
    "SELECT id, what, topic_id, domain, source_id, author FROM exclusion
     WHERE what != 'mention' ORDER BY id";

/// The domain and author rules, read once per crawl commit.
pub(super) struct Rules {
    /// (rule id, topic or all, domain key)
    domains: Vec<(i64, Option<i64>, String)>,
    /// (rule id, source, author, lower-case)
    authors: Vec<(i64, i64, String)>,
}

impl Rules {
    pub fn load(tx: &Transaction<'_>) -> rusqlite::Result<Rules> {
        let mut rules = Rules::empty();
        let mut stmt = tx.prepare_cached(SELECT_RULES)?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let what: String = r.get(1)?;
            rules.push(
                r.get(0)?,
                &what,
                r.get(2)?,
                r.get::<_, Option<String>>(3)?.as_deref(),
                r.get(4)?,
                r.get::<_, Option<String>>(5)?.as_deref(),
            );
        }
        Ok(rules)
    }

    /// No rules (then `push` each row of `exclusion`).
    pub fn empty() -> Rules {
        Rules {
            domains: Vec::new(),
            authors: Vec::new(),
        }
    }

    /// Takes in one row of `exclusion` (id, what, topic_id, domain,
    /// source_id, author), as either backend reads it; rows of what
    /// `mention` are no rule for arriving items and are passed over.
    pub fn push(
        &mut self,
        id: i64,
        what: &str,
        topic_id: Option<i64>,
        domain: Option<&str>,
        source_id: Option<i64>,
        author: Option<&str>,
    ) {
        match what {
            "domain" => self
                .domains
                .push((id, topic_id, domain.unwrap_or_default().to_owned())),
            "author" => self.authors.push((
                id,
                source_id.unwrap_or(-1),
                author_key(author.unwrap_or_default()),
            )),
            _ => {}
        }
    }

    /// The rule that excludes an item as `source` stores it for `topic`,
    /// if any: by its domain (web host or platform instance) or its author.
    pub fn excluding(
        &self,
        topic: i64,
        source: i64,
        domain: Option<&str>,
        author: Option<&str>,
    ) -> Option<i64> {
        if !self.domains.is_empty() {
            if let Some(domain) = domain.map(domain_key) {
                let hit = self
                    .domains
                    .iter()
                    .find(|(_, t, d)| *d == domain && t.is_none_or(|t| t == topic));
                if let Some((id, _, _)) = hit {
                    return Some(*id);
                }
            }
        }
        let author = author_key(author?);
        self.authors
            .iter()
            .find(|(_, s, a)| *s == source && *a == author)
            .map(|(id, _, _)| *id)
    }
}
