//! The topic query language of SPEC §3: lexer, parser and a compiled matcher
//! over normalised tokens (see `text`). Terms go through the same
//! normalisation and tokenising as texts, so a query term and the text it
//! should find always agree on case folding, `ß`/`ss` and word boundaries.
//!
//! Grammar (NOT binds tightest, then AND, then OR; juxtaposition is AND):
//!
//! ```text
//! or    := and ("OR" and)*
//! and   := unary (["AND"] unary)*
//! unary := "NOT" unary | term | phrase | "(" or ")"
//! ```

use crate::text;

/// A query could not be compiled; `position` is a 1-based character column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at position {position}")]
pub struct QueryError {
    pub position: usize,
    pub message: String,
}

impl QueryError {
    fn new(position: usize, message: impl Into<String>) -> Self {
        QueryError {
            position,
            message: message.into(),
        }
    }
}

/// A compiled topic query.
#[derive(Debug, Clone)]
pub struct Query {
    source: String,
    root: Node,
    /// The leaves, for finding them all in one pass over a text; None for
    /// a query of more than 64 terms, which is matched term by term.
    leaves: Option<Leaves>,
}

/// The terms of a query in tree order (depth first, left to right), and
/// which of them a text token can start, by its first byte: a text is read
/// once for all of them instead of once per term.
#[derive(Debug, Clone)]
struct Leaves {
    terms: Vec<Term>,
    /// Bit k of `by_first[b]`: term k's first token begins with byte b.
    by_first: Box<[u64; 256]>,
}

impl Leaves {
    fn of(root: &Node) -> Option<Leaves> {
        let mut terms = Vec::new();
        root.leaves(&mut terms);
        if terms.len() > 64 {
            return None;
        }
        let mut by_first = Box::new([0u64; 256]);
        for (k, t) in terms.iter().enumerate() {
            // Parsing never makes an empty token; a term with one could not
            // be indexed by its first byte.
            let first = t.tokens.first().and_then(|w| w.as_bytes().first())?;
            by_first[usize::from(*first)] |= 1 << k;
        }
        Some(Leaves {
            terms: terms.into_iter().cloned().collect(),
            by_first,
        })
    }

    /// Bit k set: term k occurs in `text`. A term can only start at a
    /// token with its first token's first byte (`token_matches` compares
    /// it), so only those positions are tried.
    fn find<S: AsRef<str>>(&self, text: &[S]) -> u64 {
        let all = u64::MAX >> (64 - self.terms.len().max(1));
        let mut found = 0u64;
        for (i, token) in text.iter().enumerate() {
            let Some(&b) = token.as_ref().as_bytes().first() else {
                continue;
            };
            let mut candidates = self.by_first[usize::from(b)] & !found;
            while candidates != 0 {
                let k = candidates.trailing_zeros() as usize;
                candidates &= candidates - 1;
                if self.terms.get(k).is_some_and(|t| t.matches_at(text, i)) {
                    found |= 1 << k;
                }
            }
            if found == all {
                break;
            }
        }
        found
    }
}

/// The compiled matcher: a boolean tree whose leaves are normalised terms.
#[derive(Debug, Clone)]
enum Node {
    Term(Term),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
}

/// One leaf: a sequence of normalised tokens that must appear consecutively;
/// with `prefix`, the last one only has to begin the text's token.
#[derive(Debug, Clone)]
struct Term {
    tokens: Vec<String>,
    prefix: bool,
    /// How the user wrote it, as sent to a platform's search box.
    search: String,
}

impl Term {
    fn matches<S: AsRef<str>>(&self, text: &[S]) -> bool {
        if self.tokens.is_empty() {
            return false; // parsing never builds such a term
        }
        (0..text.len()).any(|at| self.matches_at(text, at))
    }

    /// Whether the term occurs in `text` starting at token `at`.
    fn matches_at<S: AsRef<str>>(&self, text: &[S], at: usize) -> bool {
        let n = self.tokens.len();
        let last = n.saturating_sub(1);
        text.get(at..at + n).is_some_and(|window| {
            window
                .iter()
                .zip(&self.tokens)
                .enumerate()
                .all(|(i, (have, want))| {
                    token_matches(have.as_ref(), want, self.prefix && i == last)
                })
        })
    }
}

/// Whether a text's token is `want` (or, as a prefix, begins with it). The
/// first bytes are compared before the rest: most tokens differ there.
fn token_matches(have: &str, want: &str, prefix: bool) -> bool {
    let (h, w) = (have.as_bytes(), want.as_bytes());
    let long_enough = if prefix {
        h.len() >= w.len()
    } else {
        h.len() == w.len()
    };
    long_enough && h.first() == w.first() && h.get(..w.len()).is_some_and(|start| start == w)
}

impl Node {
    fn matches<S: AsRef<str>>(&self, text: &[S]) -> bool {
        match self {
            Node::Term(t) => t.matches(text),
            Node::And(all) => all.iter().all(|n| n.matches(text)),
            Node::Or(any) => any.iter().any(|n| n.matches(text)),
            Node::Not(n) => !n.matches(text),
        }
    }

    /// The terms in tree order, as `Leaves` numbers them.
    fn leaves<'a>(&'a self, out: &mut Vec<&'a Term>) {
        match self {
            Node::Term(t) => out.push(t),
            Node::And(ns) | Node::Or(ns) => ns.iter().for_each(|n| n.leaves(out)),
            Node::Not(n) => n.leaves(out),
        }
    }

    /// `matches` with the terms found already (`Leaves::find`); `next` is
    /// the number of this node's first term. Every node is visited, so the
    /// numbering stays in step with `leaves`.
    fn holds(&self, found: u64, next: &mut usize) -> bool {
        match self {
            Node::Term(_) => {
                let k = *next;
                *next += 1;
                found >> k & 1 == 1
            }
            Node::And(all) => all.iter().fold(true, |acc, n| n.holds(found, next) & acc),
            Node::Or(any) => any.iter().fold(false, |acc, n| n.holds(found, next) | acc),
            Node::Not(n) => !n.holds(found, next),
        }
    }

    fn positive_terms<'a>(&'a self, negated: bool, out: &mut Vec<&'a Term>) {
        match self {
            Node::Term(t) if !negated => out.push(t),
            Node::Term(_) => {}
            Node::And(ns) | Node::Or(ns) => ns.iter().for_each(|n| n.positive_terms(negated, out)),
            // Parity, so that `NOT NOT x` still counts `x` as wanted.
            Node::Not(n) => n.positive_terms(!negated, out),
        }
    }
}

impl Query {
    pub fn parse(source: &str) -> Result<Query, QueryError> {
        let lexemes = lex(source)?;
        if lexemes.is_empty() {
            return Err(QueryError::new(1, "empty query"));
        }
        let mut parser = Parser {
            lexemes,
            next: 0,
            depth: 0,
        };
        let root = parser.or()?;
        if let Some(lx) = parser.peek() {
            // `or` only stops early at a `)` it did not open.
            return Err(unmatched_close(lx.position));
        }
        Ok(Query {
            source: source.to_owned(),
            leaves: Leaves::of(&root),
            root,
        })
    }

    /// The query as it was written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the normalised tokens of a text (`text::tokens`) match.
    pub fn matches<S: AsRef<str>>(&self, tokens: &[S]) -> bool {
        match &self.leaves {
            Some(leaves) => self.root.holds(leaves.find(tokens), &mut 0),
            None => self.root.matches(tokens),
        }
    }

    /// The terms and phrases not under a NOT, as they would be typed into a
    /// platform's search box (`search` default), e.g. `nordkorea "north korea"`.
    /// They keep the user's spelling (platforms fold on their own; `ß` stays
    /// `ß`), drop a prefix `*`, quote phrases, and appear once each.
    pub fn positive_terms(&self) -> Vec<String> {
        let mut terms = Vec::new();
        self.root.positive_terms(false, &mut terms);
        let mut seen: Vec<(&[String], bool)> = Vec::new();
        let mut out = Vec::new();
        for t in terms {
            let key = (t.tokens.as_slice(), t.prefix);
            if !seen.contains(&key) {
                seen.push(key);
                out.push(t.search.clone());
            }
        }
        out
    }

    /// The positive terms found in `tokens` (normalised text), each as its
    /// normalised tokens (`north korea`; a prefix term ends in `*`), once
    /// each, in query order: what made a text match.
    pub fn matched_terms<S: AsRef<str>>(&self, tokens: &[S]) -> Vec<String> {
        let mut terms = Vec::new();
        self.root.positive_terms(false, &mut terms);
        let mut out: Vec<String> = Vec::new();
        for t in terms.into_iter().filter(|t| t.matches(tokens)) {
            let mut shown = t.tokens.join(" ");
            if t.prefix {
                shown.push('*');
            }
            if !out.contains(&shown) {
                out.push(shown);
            }
        }
        out
    }
}

/// One part of a query rewritten for a news search, and what is at its
/// top, so that an enclosing AND or OR knows when to add parentheses.
struct Searched {
    text: String,
    top: Top,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Top {
    One,
    And,
    Or,
}

impl Term {
    /// The term as a news search writes it: phrases (and words that split
    /// into several tokens) in double quotes, a prefix without its `*`.
    fn quoted(&self) -> String {
        if self.search.starts_with('"') {
            self.search.clone()
        } else if self.tokens.len() > 1 || self.search.starts_with(['-', '+']) {
            format!("\"{}\"", self.search)
        } else {
            self.search.clone()
        }
    }
}

impl Node {
    /// This node in Google News syntax (juxtaposition is AND, `OR`, quotes,
    /// `-` excludes), or None when the syntax cannot narrow it down and the
    /// search must take everything (the local match does the rest). The
    /// search asks for at least what the query matches, never less.
    fn google_news(&self) -> Option<Searched> {
        match self {
            Node::Term(t) => Some(Searched {
                text: t.quoted(),
                top: Top::One,
            }),
            Node::And(all) => {
                let parts: Vec<Searched> = all.iter().filter_map(Node::google_news).collect();
                join_and(parts)
            }
            Node::Or(any) => {
                let mut parts = Vec::with_capacity(any.len());
                for n in any {
                    // An alternative that takes everything makes the OR take everything.
                    let part = n.google_news()?;
                    parts.push(if part.top == Top::And {
                        format!("({})", part.text)
                    } else {
                        part.text
                    });
                }
                Some(Searched {
                    top: if parts.len() > 1 { Top::Or } else { Top::One },
                    text: parts.join(" OR "),
                })
            }
            Node::Not(inner) => inner.google_news_excluded(),
        }
    }

    /// What excludes this node: `-term`; `NOT (a OR b)` is `-a -b`. A NOT
    /// over an AND has no form in the syntax and excludes nothing.
    fn google_news_excluded(&self) -> Option<Searched> {
        match self {
            Node::Term(t) => Some(Searched {
                text: format!("-{}", t.quoted()),
                top: Top::One,
            }),
            Node::Not(inner) => inner.google_news(),
            Node::Or(any) => join_and(any.iter().filter_map(Node::google_news_excluded).collect()),
            Node::And(_) => None,
        }
    }
}

/// Parts side by side (AND), an OR among them in parentheses; None when
/// there is no part.
fn join_and(parts: Vec<Searched>) -> Option<Searched> {
    match parts.len() {
        0 => None,
        1 => parts.into_iter().next(),
        _ => Some(Searched {
            text: parts
                .into_iter()
                .map(|p| {
                    if p.top == Top::Or {
                        format!("({})", p.text)
                    } else {
                        p.text
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
            top: Top::And,
        }),
    }
}

impl Query {
    /// The query in Google News search syntax: `AND` becomes juxtaposition,
    /// `OR` stays, phrases keep their quotes, `NOT x` becomes `-x`, and a
    /// prefix loses its `*` (the search has no wildcard). Where the syntax
    /// cannot say something (a NOT over an AND), the search asks for more,
    /// never less: the local match still decides. None when nothing in the
    /// query narrows the search.
    pub fn google_news(&self) -> Option<String> {
        self.root.google_news().map(|s| s.text)
    }

    /// The positive terms as GDELT's search writes them: phrases and words
    /// that split into several tokens in double quotes, prefixes without
    /// their `*`, each once.
    pub fn gdelt_terms(&self) -> Vec<String> {
        let mut terms = Vec::new();
        self.root.positive_terms(false, &mut terms);
        let mut seen: Vec<(&[String], bool)> = Vec::new();
        let mut out = Vec::new();
        for t in terms {
            let key = (t.tokens.as_slice(), t.prefix);
            if !seen.contains(&key) {
                seen.push(key);
                out.push(t.quoted());
            }
        }
        out
    }
}

impl std::fmt::Display for Query {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.source)
    }
}

impl std::str::FromStr for Query {
    type Err = QueryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Query::parse(s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    And,
    Or,
    Not,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::And => "AND",
            Op::Or => "OR",
            Op::Not => "NOT",
        }
    }
}

#[derive(Debug)]
enum LexKind {
    Open,
    Close,
    Op(Op),
    Term(Term),
}

#[derive(Debug)]
struct Lexeme {
    /// 1-based character column of the lexeme's first character.
    position: usize,
    kind: LexKind,
}

fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '(' | ')' | '"')
}

fn lex(source: &str) -> Result<Vec<Lexeme>, QueryError> {
    let mut out = Vec::new();
    let mut chars = source.char_indices().enumerate().peekable();
    while let Some((col, (start, c))) = chars.next() {
        let position = col + 1;
        let kind = match c {
            c if c.is_whitespace() => continue,
            '(' => LexKind::Open,
            ')' => LexKind::Close,
            '"' => {
                let mut end = None;
                for (_, (i, c)) in chars.by_ref() {
                    if c == '"' {
                        end = Some(i);
                        break;
                    }
                }
                let end = end.ok_or_else(|| QueryError::new(position, "unterminated quote"))?;
                let inner = source.get(start + 1..end).unwrap_or_default();
                let tokens = text::tokens(inner);
                if tokens.is_empty() {
                    return Err(QueryError::new(position, "empty phrase"));
                }
                LexKind::Term(Term {
                    tokens,
                    prefix: false,
                    search: format!("\"{}\"", text::collapse_ws(inner)),
                })
            }
            _ => {
                let mut end = start + c.len_utf8();
                while let Some(&(_, (i, c))) = chars.peek() {
                    if !is_word_char(c) {
                        break;
                    }
                    end = i + c.len_utf8();
                    chars.next();
                }
                let word = source.get(start..end).unwrap_or_default();
                match word {
                    "AND" => LexKind::Op(Op::And),
                    "OR" => LexKind::Op(Op::Or),
                    "NOT" => LexKind::Op(Op::Not),
                    _ => LexKind::Term(word_term(word, position)?),
                }
            }
        };
        out.push(Lexeme { position, kind });
    }
    Ok(out)
}

/// A bare word: a whole token, a prefix (`word*`), or a phrase when it
/// splits into several tokens (`jong-un`).
fn word_term(word: &str, position: usize) -> Result<Term, QueryError> {
    let (stem, prefix) = match word.strip_suffix('*') {
        Some(stem) => (stem, true),
        None => (word, false),
    };
    let tokens = text::tokens(stem);
    if tokens.is_empty() {
        let message = if stem.chars().all(|c| c == '*') {
            "a lone '*' is not a term; put it after a word (`russland*`)".to_owned()
        } else {
            format!("`{word}` has no letters or digits to match")
        };
        return Err(QueryError::new(position, message));
    }
    Ok(Term {
        tokens,
        prefix,
        search: stem.to_owned(),
    })
}

fn unmatched_close(position: usize) -> QueryError {
    QueryError::new(
        position,
        "unbalanced parentheses: this ')' has no matching '('",
    )
}

fn missing_left(op: Op, position: usize) -> QueryError {
    QueryError::new(
        position,
        format!("dangling operator: {} needs a term on its left", op.name()),
    )
}

fn missing_right(op: Op, position: usize) -> QueryError {
    QueryError::new(
        position,
        format!("dangling operator: {} needs a term on its right", op.name()),
    )
}

/// Deepest nesting of parentheses and NOTs a query may have; the parser
/// and the matcher recurse once per level.
const MAX_DEPTH: usize = 64;

struct Parser {
    lexemes: Vec<Lexeme>,
    next: usize,
    /// Parentheses and NOTs open around the current position.
    depth: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Lexeme> {
        self.lexemes.get(self.next)
    }

    fn peek_op(&self) -> Option<(Op, usize)> {
        match self.peek() {
            Some(Lexeme {
                kind: LexKind::Op(op),
                position,
            }) => Some((*op, *position)),
            _ => None,
        }
    }

    /// Whether the next lexeme can begin an operand.
    fn at_operand(&self) -> bool {
        matches!(
            self.peek().map(|l| &l.kind),
            Some(LexKind::Term(_) | LexKind::Open | LexKind::Op(Op::Not))
        )
    }

    fn or(&mut self) -> Result<Node, QueryError> {
        if let Some((Op::Or, pos)) = self.peek_op() {
            return Err(missing_left(Op::Or, pos));
        }
        let mut parts = vec![self.and()?];
        while let Some((Op::Or, pos)) = self.peek_op() {
            self.next += 1;
            if !self.at_operand() {
                return Err(missing_right(Op::Or, pos));
            }
            parts.push(self.and()?);
        }
        Ok(flatten(parts, false))
    }

    fn and(&mut self) -> Result<Node, QueryError> {
        if let Some((Op::And, pos)) = self.peek_op() {
            return Err(missing_left(Op::And, pos));
        }
        let mut parts = vec![self.unary()?];
        loop {
            if let Some((Op::And, pos)) = self.peek_op() {
                self.next += 1;
                if !self.at_operand() {
                    return Err(missing_right(Op::And, pos));
                }
            } else if !self.at_operand() {
                break;
            }
            parts.push(self.unary()?);
        }
        Ok(flatten(parts, true))
    }

    fn unary(&mut self) -> Result<Node, QueryError> {
        let Some(lx) = self.lexemes.get(self.next) else {
            // Callers check `at_operand` first; an empty query is caught earlier.
            return Err(QueryError::new(1, "empty query"));
        };
        let position = lx.position;
        if !matches!(lx.kind, LexKind::Term(_)) {
            if self.depth >= MAX_DEPTH {
                return Err(QueryError::new(
                    position,
                    format!("nested more than {MAX_DEPTH} levels deep; simplify the query"),
                ));
            }
            self.depth += 1;
            let node = self.nested();
            self.depth -= 1;
            return node;
        }
        self.nested()
    }

    /// The operand at the cursor: a NOT, a term or a parenthesised group.
    fn nested(&mut self) -> Result<Node, QueryError> {
        let Some(lx) = self.lexemes.get_mut(self.next) else {
            return Err(QueryError::new(1, "empty query"));
        };
        let position = lx.position;
        match &mut lx.kind {
            LexKind::Op(Op::Not) => {
                self.next += 1;
                if !self.at_operand() {
                    return Err(missing_right(Op::Not, position));
                }
                Ok(Node::Not(Box::new(self.unary()?)))
            }
            LexKind::Term(term) => {
                // Leaves are moved out of the lexeme list, not cloned.
                let term = std::mem::replace(
                    term,
                    Term {
                        tokens: Vec::new(),
                        prefix: false,
                        search: String::new(),
                    },
                );
                self.next += 1;
                Ok(Node::Term(term))
            }
            LexKind::Open => {
                self.next += 1;
                if let Some(Lexeme {
                    kind: LexKind::Close,
                    position: close,
                }) = self.peek()
                {
                    return Err(QueryError::new(*close, "empty parentheses"));
                }
                if self.peek().is_none() {
                    return Err(unclosed(position));
                }
                let inner = self.or()?;
                match self.peek() {
                    Some(Lexeme {
                        kind: LexKind::Close,
                        ..
                    }) => {
                        self.next += 1;
                        Ok(inner)
                    }
                    _ => Err(unclosed(position)),
                }
            }
            LexKind::Close => Err(unmatched_close(position)),
            LexKind::Op(op) => Err(missing_left(*op, position)),
        }
    }
}

fn unclosed(position: usize) -> QueryError {
    QueryError::new(position, "unbalanced parentheses: this '(' is never closed")
}

/// One operand stays itself; nested groups of the same operator merge.
fn flatten(parts: Vec<Node>, and: bool) -> Node {
    if parts.len() == 1 {
        if let Some(only) = parts.into_iter().next() {
            return only;
        }
        return Node::And(Vec::new());
    }
    let mut out = Vec::with_capacity(parts.len());
    for p in parts {
        match (p, and) {
            (Node::And(inner), true) | (Node::Or(inner), false) => out.extend(inner),
            (p, _) => out.push(p),
        }
    }
    if and {
        Node::And(out)
    } else {
        Node::Or(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{html_to_text, tokens};

    fn q(s: &str) -> Query {
        match Query::parse(s) {
            Ok(q) => q,
            Err(e) => panic!("{s:?} should parse: {e}"),
        }
    }

    fn hit(query: &str, text: &str) -> bool {
        q(query).matches(&tokens(&html_to_text(text)))
    }

    fn err(s: &str) -> (usize, String) {
        match Query::parse(s) {
            Ok(q) => panic!("{s:?} should not parse, got {q:?}"),
            Err(e) => (e.position, e.message),
        }
    }

    #[test]
    fn term_matches_a_whole_token() {
        assert!(hit("putin", "Putin trifft Kim in Pjöngjang"));
        assert!(!hit("putin", "Putins Besuch in Pjöngjang"));
        assert!(!hit("putin", "Rasputin"));
        assert!(hit("Putin", "Kreml: PUTIN spricht"));
    }

    #[test]
    fn tags_and_entities_are_gone_before_matching() {
        assert!(hit("russland", "#<span>Russland</span>"));
        assert!(hit("#russland", "#<span>Russland</span>"));
        assert!(!hit("span", "#<span>Russland</span>"));
        assert!(hit(
            "\"russland ukraine\"",
            "Russland&nbsp;&amp;&nbsp;Ukraine"
        ));
        assert!(!hit("amp", "Russland &amp; Ukraine"));
    }

    #[test]
    fn sharp_s_and_capitals_fold_together() {
        assert!(hit("fußball", "FUSSBALL-WM: Nordkorea qualifiziert"));
        assert!(hit("FUSSBALL", "Fußball in Pjöngjang"));
        assert!(hit("fussball", "Fußball-WM"));
        assert!(hit("Fußball*", "Fußballspiel abgesagt"));
        assert!(hit("köln", "KÖLN"));
    }

    #[test]
    fn hyphenated_word_is_a_phrase() {
        assert!(hit("jong-un", "Kim Jong-un empfängt Putin"));
        assert!(hit("jong-un", "Kim Jong Un empfängt Putin"));
        assert!(!hit("jong-un", "Jong hat un-gewöhnlich viel"));
        assert!(!hit("jong-un", "Kim Jong-il"));
        assert!(hit("wm", "Fußball-WM 2026"));
        assert!(hit("fußball-wm", "Die Fussball WM"));
    }

    #[test]
    fn phrase_matches_consecutive_tokens_across_hyphens() {
        assert!(hit(
            "\"kim jong-un\"",
            "Machthaber Kim Jong-un reist nach Moskau"
        ));
        assert!(hit("\"kim jong-un\"", "kim jong un"));
        assert!(hit("\"Kim Jong Un\"", "Kim Jong-un"));
        assert!(!hit("\"kim jong-un\"", "Kim und Jong-un"));
        assert!(!hit("\"kim jong-un\"", "Kim Jong"));
        assert!(hit("\"north korea\"", "North Korea sends troops"));
        assert!(!hit("\"north korea\"", "Korea's north"));
    }

    #[test]
    fn prefix_star_matches_token_beginnings() {
        assert!(hit("russland*", "Russlands Armee in Kursk"));
        assert!(hit("russland*", "Russland"));
        assert!(!hit("russland*", "Weißrussland"));
        assert!(!hit("putin", "Putins Krieg"));
        assert!(hit("putin*", "Putins Krieg"));
        // The prefix applies to the last token of a split word.
        assert!(hit("jong-u*", "Kim Jong-un"));
        assert!(!hit("jong-u*", "Kim Jong-il"));
    }

    #[test]
    fn lower_case_operators_are_terms() {
        assert!(hit("rock and roll", "Rock and Roll"));
        assert!(!hit("rock and roll", "Rock & Roll"));
        assert!(hit("a or b", "a or b"));
        assert!(!hit("a or b", "a"));
        assert!(hit("not", "this is not it"));
    }

    #[test]
    fn juxtaposition_is_and() {
        assert!(hit("nordkorea russland", "Russland und Nordkorea"));
        assert!(!hit("nordkorea russland", "Nordkorea testet Rakete"));
        assert!(hit("nordkorea (russland OR china)", "Nordkorea und China"));
        assert!(!hit("nordkorea (russland OR china)", "Russland und China"));
    }

    #[test]
    fn and_binds_tighter_than_or() {
        // a OR (b AND c)
        assert!(hit("a OR b AND c", "a"));
        assert!(hit("a OR b AND c", "b c"));
        assert!(!hit("a OR b AND c", "b"));
        assert!(!hit("a OR b AND c", "c"));
        // (a AND b) OR c
        assert!(hit("a AND b OR c", "c"));
        assert!(!hit("a AND b OR c", "a"));
        assert!(hit("(a OR b) AND c", "b c"));
        assert!(!hit("(a OR b) AND c", "a"));
    }

    #[test]
    fn not_binds_tightest() {
        // (NOT a) OR b
        assert!(hit("NOT a OR b", "a b"));
        assert!(hit("NOT a OR b", "c"));
        assert!(!hit("NOT a OR b", "a"));
        // (NOT a) AND b
        assert!(hit("NOT a b", "b"));
        assert!(!hit("NOT a b", "a b"));
        // x NOT y == x AND NOT y; a OR (b AND NOT c)
        assert!(hit("x NOT y", "x"));
        assert!(!hit("x NOT y", "x y"));
        assert!(!hit("x NOT y", "y"));
        assert!(hit("a OR b NOT c", "a c"));
        assert!(!hit("a OR b NOT c", "b c"));
        assert!(hit("a OR b NOT c", "b"));
        assert!(hit("NOT (a OR b)", "c"));
        assert!(!hit("NOT (a OR b)", "b"));
        assert!(hit("NOT NOT a", "a"));
        assert!(hit("a AND NOT b", "a"));
        assert!(!hit("a AND NOT b", "a b"));
    }

    const SPEC_QUERY: &str =
        r#"(nordkorea* OR "north korea") AND (russland* OR russia* OR putin OR kursk) NOT fußball"#;

    #[test]
    fn spec_example_on_real_headlines() {
        let query = q(SPEC_QUERY);
        let matching = [
            "Nordkorea schickt weitere Soldaten nach Russland",
            "Kursk: Nordkoreanische Truppen kämpfen an der Seite Russlands",
            "Putin empfängt Kim – Nordkoreas Machthaber in Moskau",
            "North Korea and Russia sign mutual defence pact",
            "<p>Why <b>North&nbsp;Korea</b> is sending troops to Kursk</p>",
            "Russian drones, North Korean shells? No: North Korea ships shells to Russia's army",
        ];
        let not_matching = [
            // no Russia side
            "Nordkorea feuert erneut ballistische Rakete ab",
            "North Korean defectors arrive in Seoul",
            // no North Korea side
            "Putin droht dem Westen mit neuen Waffen",
            // "north" and "korea" not consecutive
            "Korea's north welcomes Russian envoy",
            // excluded by NOT, in both spellings
            "Fußball: Nordkorea schlägt Russland 2:1",
            "FUSSBALL-WM-Qualifikation: Nordkorea gegen Russland abgesagt",
            // putin must be a whole token
            "Nordkorea: Putins Besuch verschoben",
        ];
        for h in matching {
            assert!(
                query.matches(&tokens(&html_to_text(h))),
                "should match: {h}"
            );
        }
        for h in not_matching {
            assert!(
                !query.matches(&tokens(&html_to_text(h))),
                "should not match: {h}"
            );
        }
        assert!(!query.matches::<&str>(&[]));
    }

    #[test]
    fn google_news_syntax_asks_for_at_least_what_the_query_matches() {
        assert_eq!(
            q(SPEC_QUERY).google_news().as_deref(),
            Some(r#"(nordkorea OR "north korea") (russland OR russia OR putin OR kursk) -fußball"#)
        );
        assert_eq!(
            q(r#"kim jong-un OR "Kim Jong Un""#)
                .google_news()
                .as_deref(),
            Some(r#"(kim "jong-un") OR "Kim Jong Un""#)
        );
        // De Morgan where the syntax allows it; a NOT over an AND excludes nothing.
        assert_eq!(
            q("nordkorea NOT (fußball OR handball)")
                .google_news()
                .as_deref(),
            Some("nordkorea -fußball -handball")
        );
        assert_eq!(
            q("nordkorea NOT (fußball AND wm)").google_news().as_deref(),
            Some("nordkorea")
        );
        assert_eq!(q("NOT NOT kursk").google_news().as_deref(), Some("kursk"));
        // An alternative that cannot be narrowed makes the whole OR take everything.
        assert_eq!(
            q("kursk AND (putin OR NOT (a AND b))")
                .google_news()
                .as_deref(),
            Some("kursk")
        );
        assert_eq!(q("NOT (a AND b)").google_news(), None);
    }

    #[test]
    fn gdelt_terms_quote_phrases_and_drop_prefix_stars() {
        assert_eq!(
            q(SPEC_QUERY).gdelt_terms(),
            [
                "nordkorea",
                "\"north korea\"",
                "russland",
                "russia",
                "putin",
                "kursk"
            ]
        );
        assert_eq!(
            q("jong-un OR Jong-Un OR \"jong-un\" NOT x").gdelt_terms(),
            ["\"jong-un\""]
        );
    }

    #[test]
    fn positive_terms_are_what_a_search_box_gets() {
        assert_eq!(
            q(SPEC_QUERY).positive_terms(),
            [
                "nordkorea",
                "\"north korea\"",
                "russland",
                "russia",
                "putin",
                "kursk"
            ]
        );
        assert_eq!(
            q(r#"Kim "Jong   Un" jong-un NOT (a OR b) NOT NOT c kim"#).positive_terms(),
            // `jong-un` is the same phrase as `"Jong Un"`, so it is sent once.
            ["Kim", "\"Jong Un\"", "c"]
        );
        assert!(q("NOT fußball").positive_terms().is_empty());
        assert_eq!(q("Fußball*").positive_terms(), ["Fußball"]);
    }

    #[test]
    fn matched_terms_are_the_positive_terms_found() {
        let query = q(SPEC_QUERY);
        let text = crate::text::tokens("Nordkorea schickt Truppen nach Kursk; North Korea denies");
        assert_eq!(
            query.matched_terms(&text),
            ["nordkorea*", "north korea", "kursk"]
        );
        let query = q("Fußball* NOT (Handball) Bundesliga");
        let text = crate::text::tokens("FUSSBALLER der Bundesliga, kein Handball");
        assert_eq!(query.matched_terms(&text), ["fussball*", "bundesliga"]);
        assert!(query
            .matched_terms(&crate::text::tokens("Tennis"))
            .is_empty());
    }

    #[test]
    fn leading_not_is_allowed() {
        assert!(hit("NOT fußball", "Nordkorea"));
        assert!(!hit("NOT fußball", "Fussball"));
    }

    #[test]
    fn keeps_its_source() {
        assert_eq!(q(SPEC_QUERY).as_str(), SPEC_QUERY);
        assert_eq!(q("a b").to_string(), "a b");
    }

    #[test]
    fn errors_name_the_position() {
        let dl =
            |op: &str, side: &str| format!("dangling operator: {op} needs a term on its {side}");
        assert_eq!(err(""), (1, "empty query".into()));
        assert_eq!(err("   \t "), (1, "empty query".into()));
        let open = "unbalanced parentheses: this '(' is never closed".to_owned();
        let close = "unbalanced parentheses: this ')' has no matching '('".to_owned();
        assert_eq!(err("(a OR b"), (1, open.clone()));
        assert_eq!(err("x AND ((a OR b)"), (7, open.clone()));
        assert_eq!(err("a ("), (3, open));
        assert_eq!(err("a OR b)"), (7, close.clone()));
        assert_eq!(err(")"), (1, close.clone()));
        assert_eq!(err("(a) b)"), (6, close));
        assert_eq!(err("a AND"), (3, dl("AND", "right")));
        assert_eq!(err("OR b"), (1, dl("OR", "left")));
        assert_eq!(err("a AND OR b"), (3, dl("AND", "right")));
        assert_eq!(err("a OR"), (3, dl("OR", "right")));
        assert_eq!(err("AND b"), (1, dl("AND", "left")));
        assert_eq!(err("a NOT"), (3, dl("NOT", "right")));
        assert_eq!(err("(a OR) b"), (4, dl("OR", "right")));
        assert_eq!(err("a (AND b)"), (4, dl("AND", "left")));
        assert_eq!(err("a NOT OR b"), (3, dl("NOT", "right")));
        assert_eq!(err("a ()"), (4, "empty parentheses".into()));
        assert_eq!(err("kim \"jong un"), (5, "unterminated quote".into()));
        assert_eq!(err("a \"\""), (3, "empty phrase".into()));
        assert_eq!(err("a \" - \""), (3, "empty phrase".into()));
        assert_eq!(
            err("a OR *"),
            (
                6,
                "a lone '*' is not a term; put it after a word (`russland*`)".into()
            )
        );
        assert_eq!(
            err("a -"),
            (3, "`-` has no letters or digits to match".into())
        );
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        assert_eq!(err("fußball über AND").0, 14);
        assert_eq!(err("„Köln“ (").0, 8);
        let e = Query::parse("ß OR").err();
        assert_eq!(
            e.map(|e| e.to_string()),
            Some("dangling operator: OR needs a term on its right at position 3".into())
        );
    }

    #[test]
    fn nesting_is_capped_so_no_query_exhausts_the_stack() {
        let deep = format!("{}nordkorea{}", "(".repeat(100_000), ")".repeat(100_000));
        let (_, message) = err(&deep);
        assert!(message.contains("nested more than 64 levels"), "{message}");
        let nots = format!("{}nordkorea", "NOT ".repeat(100_000));
        assert!(Query::parse(&nots).is_err());
        let fine = format!("{}nordkorea{}", "(".repeat(60), ")".repeat(60));
        assert!(hit(&fine, "Nordkorea"));
    }

    #[test]
    fn queries_of_many_terms_match_in_one_pass_or_term_by_term() {
        let words = |n: usize| (0..n).map(|i| format!("w{i}")).collect::<Vec<_>>();
        for n in [63, 64, 65, 100] {
            let query = q(&words(n).join(" OR "));
            assert_eq!(query.leaves.is_some(), n <= 64, "{n} terms");
            let last = format!("w{}", n - 1);
            assert!(query.matches(&tokens(&format!("x {last}"))), "{n} terms");
            assert!(!query.matches(&tokens("x w")), "{n} terms");
            let all = q(&words(n).join(" "));
            assert!(all.matches(&tokens(&words(n).join(" "))));
            assert!(!all.matches(&tokens(&words(n - 1).join(" "))));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Whatever a config holds, parsing answers Ok or an error at a position
        /// inside the query, and a parsed query matches any text without panicking.
        #[test]
        fn any_text_parses_or_fails_cleanly(
            source in r#"[a-zäöüß*"() -]{0,12}( (AND|OR|NOT) [a-zäöüß*"() -]{0,12}){0,6}"#,
            text in "\\PC{0,200}",
        ) {
            match Query::parse(&source) {
                Ok(query) => {
                    let _ = query.matches(&tokens(&text));
                    let _ = query.positive_terms();
                }
                Err(e) => proptest::prop_assert!(e.position >= 1 && e.position <= source.chars().count() + 1, "{e:?} for {source:?}"),
            }
        }

        /// Finding every term in one pass (`Leaves`) answers what matching
        /// the tree term by term answers.
        #[test]
        fn one_pass_matches_as_term_by_term(
            source in r#"(NOT )?("?[a-dß]{1,3}\*?( [a-dß]{1,2})?"?)( (AND|OR|NOT|AND NOT|OR \(|\)|) ?"?[a-dß]{1,3}\*?"?\)?){0,8}"#,
            text in "[a-dß ,.]{0,80}",
        ) {
            if let Ok(query) = Query::parse(&source) {
                let text = tokens(&text);
                proptest::prop_assert!(query.leaves.is_some());
                proptest::prop_assert_eq!(query.matches(&text), query.root.matches(&text), "{} on {:?}", source, text);
            }
        }

        #[test]
        fn arbitrary_unicode_never_panics(source in "\\PC{0,300}") {
            let _ = Query::parse(&source);
        }
    }
}
