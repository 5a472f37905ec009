//! Secrets: the values that `${VAR}` put into the config are shown as `***`
//! wherever text leaves the process — output, logs, error messages, the
//! database and the HTTP endpoint. Loading the config registers the values
//! (with the spellings a URL or a JSON string gives them) in one
//! process-wide list; `mask` replaces every occurrence in a text. Values of
//! fewer than `MIN_LEN` characters are not masked: a three-letter value
//! would blank out ordinary words and numbers all over the output.

use std::borrow::Cow;
use std::io::Write;
use std::sync::RwLock;
use url::Url;

/// What a secret is replaced with.
pub const MASK: &str = "***";

/// Shorter values are left alone (see the module docs).
pub const MIN_LEN: usize = 4;

/// Every registered spelling, longest first.
static REGISTRY: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Adds `values` (what `${VAR}` expanded to) to the process-wide list that
/// `mask` hides. Values stay registered: a reload may drop a variable, but
/// what it held has been a secret and may still sit in a message.
pub fn register<'a>(values: impl IntoIterator<Item = &'a str>) {
    Secrets::new(values).register();
}

/// `text` with every registered secret replaced by `***`.
pub fn mask(text: &str) -> Cow<'_, str> {
    let registry = REGISTRY.read().unwrap_or_else(|p| p.into_inner());
    mask_with(&registry, text)
}

/// The spellings of a set of values, for masking without the process-wide
/// list (e.g. the config's own errors, before it is registered).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    spellings: Vec<String>,
}

impl Secrets {
    pub fn new<'a>(values: impl IntoIterator<Item = &'a str>) -> Secrets {
        let mut spellings = Vec::new();
        for value in values {
            for form in spellings_of(value) {
                if !spellings.contains(&form) {
                    spellings.push(form);
                }
            }
        }
        sort_longest_first(&mut spellings);
        Secrets { spellings }
    }

    /// `text` with these secrets replaced by `***`.
    pub fn mask<'t>(&self, text: &'t str) -> Cow<'t, str> {
        mask_with(&self.spellings, text)
    }

    /// Adds these secrets to the process-wide list.
    pub fn register(&self) {
        let mut registry = REGISTRY.write().unwrap_or_else(|p| p.into_inner());
        let before = registry.len();
        for spelling in &self.spellings {
            if !registry.contains(spelling) {
                registry.push(spelling.clone());
            }
        }
        if registry.len() != before {
            sort_longest_first(&mut registry);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.spellings.is_empty()
    }
}

/// Never prints the values themselves.
impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} spellings)", self.spellings.len())
    }
}

/// The ways `value` can be written out: as is; percent-encoded as the url
/// crate writes it in a query, a path, a path segment, user info and a
/// form-encoded query; and each of those escaped inside a JSON string and
/// in Rust's `{:?}`. Empty when the value is too short to mask.
fn spellings_of(value: &str) -> Vec<String> {
    if value.chars().count() < MIN_LEN {
        return Vec::new();
    }
    let mut base = vec![value.to_owned()];
    if let Ok(mut url) = Url::parse("http://h/") {
        url.set_query(Some(value));
        base.extend(url.query().map(str::to_owned));
        url.set_path(value);
        base.push(url.path().trim_start_matches('/').to_owned());
        url.set_path("/");
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.clear().push(value);
        }
        base.push(url.path().trim_start_matches('/').to_owned());
        if url.set_password(Some(value)).is_ok() {
            base.extend(url.password().map(str::to_owned));
        }
    }
    base.push(url::form_urlencoded::byte_serialize(value.as_bytes()).collect());
    let mut all = Vec::new();
    for form in base {
        let json = serde_json::to_string(&form).unwrap_or_default();
        let debug = format!("{form:?}");
        for spelling in [
            json.trim_matches('"').to_owned(),
            debug.trim_matches('"').to_owned(),
            form,
        ] {
            if spelling.chars().count() >= MIN_LEN && !all.contains(&spelling) {
                all.push(spelling);
            }
        }
    }
    all
}

fn sort_longest_first(spellings: &mut [String]) {
    spellings.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
}

/// Replaces every stretch of `text` covered by an occurrence of any of
/// `spellings` with one `***`; overlapping occurrences (of one value or of
/// two) merge, so no piece of either is left showing.
fn mask_with<'t>(spellings: &[String], text: &'t str) -> Cow<'t, str> {
    let mut covered: Vec<(usize, usize)> = Vec::new();
    for needle in spellings {
        let step = needle.chars().next().map_or(1, char::len_utf8);
        let mut from = 0;
        while let Some(at) = text.get(from..).and_then(|rest| rest.find(needle.as_str())) {
            let start = from + at;
            covered.push((start, start + needle.len()));
            from = start + step;
        }
    }
    if covered.is_empty() {
        return Cow::Borrowed(text);
    }
    covered.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    let mut i = 0;
    while i < covered.len() {
        let (start, mut end) = covered[i];
        i += 1;
        while i < covered.len() && covered[i].0 <= end {
            end = end.max(covered[i].1);
            i += 1;
        }
        out.push_str(&text[done..start]);
        out.push_str(MASK);
        done = end;
    }
    out.push_str(&text[done..]);
    Cow::Owned(out)
}

/// A `tracing_subscriber` writer that masks each log line before it reaches
/// `inner` (stderr in the binary). The line is held until the event is
/// written whole, so a secret split across two writes is still found.
pub struct MaskedWriter<M>(pub M);

impl<'a, M> tracing_subscriber::fmt::MakeWriter<'a> for MaskedWriter<M>
where
    M: tracing_subscriber::fmt::MakeWriter<'a>,
{
    type Writer = MaskedLine<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        MaskedLine {
            line: Vec::new(),
            inner: self.0.make_writer(),
        }
    }
}

/// One log event on its way out; masked and written when dropped.
pub struct MaskedLine<W: Write> {
    line: Vec<u8>,
    inner: W,
}

impl<W: Write> Write for MaskedLine<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.line.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<W: Write> Drop for MaskedLine<W> {
    fn drop(&mut self) {
        if self.line.is_empty() {
            return;
        }
        let text = String::from_utf8_lossy(&self.line);
        // A log line that cannot be written has nowhere else to go.
        let _ = self
            .inner
            .write_all(mask(&text).as_bytes())
            .and_then(|()| self.inner.flush());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(values: &[&str], text: &str) -> String {
        Secrets::new(values.iter().copied()).mask(text).into_owned()
    }

    #[test]
    fn every_occurrence_is_replaced() {
        assert_eq!(
            masked(
                &["s3cret-key"],
                "GET /feed?key=s3cret-key failed; key s3cret-key"
            ),
            "GET /feed?key=*** failed; key ***"
        );
        assert!(matches!(
            Secrets::new(["s3cret-key"]).mask("nothing here"),
            Cow::Borrowed("nothing here")
        ));
    }

    #[test]
    fn url_encoded_spellings_are_masked() {
        let value = "k3y s3cr\"et/ä:@{x}";
        let secrets = Secrets::new([value]);
        let mut url = Url::parse("http://reader@127.0.0.1:8080/feed.xml").unwrap();
        url.query_pairs_mut().append_pair("key", value);
        assert_eq!(
            secrets.mask(url.as_str()),
            "http://reader@127.0.0.1:8080/feed.xml?key=***"
        );
        // As written into the config string and parsed: query, path, user info.
        let query = Url::parse(&format!("http://h/feed?key={value}")).unwrap();
        assert_eq!(
            query.as_str(),
            "http://h/feed?key=k3y%20s3cr%22et/%C3%A4:@{x}"
        );
        assert_eq!(secrets.mask(query.as_str()), "http://h/feed?key=***");
        let mut path = Url::parse("http://h/").unwrap();
        path.path_segments_mut()
            .unwrap()
            .push(value)
            .push("feed.xml");
        assert_eq!(secrets.mask(path.as_str()), "http://h/***/feed.xml");
        let mut userinfo = Url::parse("http://reader@h/feed.xml").unwrap();
        userinfo.set_password(Some(value)).unwrap();
        assert_eq!(
            userinfo.as_str(),
            "http://reader:k3y%20s3cr%22et%2F%C3%A4%3A%40%7Bx%7D@h/feed.xml"
        );
        assert_eq!(
            secrets.mask(userinfo.as_str()),
            "http://reader:***@h/feed.xml"
        );
        // In JSON and in Debug output the quote is escaped.
        assert_eq!(
            secrets.mask(&serde_json::json!({ "e": value }).to_string()),
            r#"{"e":"***"}"#
        );
        assert_eq!(secrets.mask(&format!("{:?}", value)), "\"***\"");
    }

    #[test]
    fn a_path_secret_written_into_the_url_text() {
        let secrets = Secrets::new(["p4th{s3cret}"]);
        let url = Url::parse("http://h/p4th{s3cret}/feed.xml").unwrap();
        assert_eq!(url.as_str(), "http://h/p4th%7Bs3cret%7D/feed.xml");
        assert_eq!(secrets.mask(url.as_str()), "http://h/***/feed.xml");
    }

    #[test]
    fn overlapping_values_leave_nothing_showing() {
        // Two values that overlap in the text, and one inside another.
        assert_eq!(masked(&["abcdef", "defghi"], "x abcdefghi y"), "x *** y");
        assert_eq!(
            masked(&["token", "my-token-2"], "a my-token-2 b token"),
            "a *** b ***"
        );
        // A value overlapping itself.
        assert_eq!(masked(&["aaaa"], "baaaaab"), "b***b");
        // Next to each other: one mask.
        assert_eq!(masked(&["wxyz", "1234"], "wxyz1234!"), "***!");
    }

    #[test]
    fn short_and_empty_values_are_not_masked() {
        assert!(Secrets::new(["", "abc", "äöü"]).is_empty());
        assert_eq!(masked(&["abc", "8080"], "abc at :8080"), "abc at :***");
    }

    #[test]
    fn multibyte_text_around_a_secret() {
        assert_eq!(masked(&["gehéim"], "€ gehéimgehéim €"), "€ *** €");
    }

    #[test]
    fn the_debug_form_hides_the_values() {
        assert_eq!(
            format!("{:?}", Secrets::new(["s3cret-key", "other-one"])),
            "Secrets(2 spellings)"
        );
    }

    /// A `MakeWriter` into a shared buffer.
    #[derive(Clone, Default)]
    struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn log_lines_are_masked_whole() {
        register(["log-s3cret-value"]);
        let buffer = Buffer::default();
        let make = MaskedWriter({
            let b = buffer.clone();
            move || b.clone()
        });
        {
            use tracing_subscriber::fmt::MakeWriter;
            let mut line = make.make_writer();
            // Split across writes, as a formatter may.
            line.write_all(b"WARN fetch http://h/?k=log-s3c").unwrap();
            line.write_all(b"ret-value failed\n").unwrap();
        }
        assert_eq!(
            String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap(),
            "WARN fetch http://h/?k=*** failed\n"
        );
        assert_eq!(mask("a log-s3cret-value b"), "a *** b");
    }
}
