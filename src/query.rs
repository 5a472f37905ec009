//! The topic query language of SPEC §3: lexer, parser and a compiled matcher
//! over normalised tokens (see `text`).

/// A query could not be compiled; `position` is a 1-based character column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at position {position}")]
pub struct QueryError {
    pub position: usize,
    pub message: String,
}

/// A compiled topic query.
#[derive(Debug, Clone)]
pub struct Query {
    _todo: (),
}

impl Query {
    pub fn parse(_source: &str) -> Result<Query, QueryError> {
        unimplemented!("query::Query::parse")
    }

    /// Whether the normalised tokens of a text (`text::tokens`) match.
    pub fn matches<S: AsRef<str>>(&self, _tokens: &[S]) -> bool {
        unimplemented!("query::Query::matches")
    }

    /// The terms and phrases not under a NOT, as they would be typed into a
    /// platform's search box (`search` default), e.g. `nordkorea "north korea"`.
    pub fn positive_terms(&self) -> Vec<String> {
        unimplemented!("query::Query::positive_terms")
    }
}
