//! Canonical URLs (SPEC §4 rule 1): the identity of a web mention. Two links
//! to the same article that differ only in tracking or session parameters,
//! parameter order, fragment, default port or the case of scheme and host
//! become the same URL. The path is kept as it is: on many sites `/a` and
//! `/a/` are different pages.

use url::Url;

/// Query parameter names dropped exactly (compared in lower case).
const DROPPED: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "mc_cid",
    "mc_eid",
    "igshid",
    "yclid",
    "_ga",
    "sid",
    "phpsessid",
    "jsessionid",
];

/// Query parameter name prefixes dropped (compared in lower case).
const DROPPED_PREFIXES: &[&str] = &["utm_", "pk_", "mtm_"];

/// The canonical form of `url`: scheme and host lower-cased, default port
/// and fragment dropped, tracking and session parameters dropped, remaining
/// query parameters sorted.
pub fn canonical(url: &Url) -> Url {
    canonicalize(url.clone())
}

/// [`canonical`] of a URL the caller owns.
fn canonicalize(mut url: Url) -> Url {
    // `Url` already lower-cases scheme and host and drops default ports of
    // http(s) when parsing; the rest is ours.
    url.set_fragment(None);
    // User info is never part of an identity (nor sent: see http::guard).
    let _ = url.set_username("");
    let _ = url.set_password(None);
    // The path is only lower-cased (a copy) when it has a parameter at all.
    if url.path().contains(';') && url.path().to_ascii_lowercase().contains(";jsessionid=") {
        let path = strip_jsessionid(url.path());
        url.set_path(&path);
    }
    if let Some(query) = url.query() {
        let mut pairs: Vec<&str> = query
            .split('&')
            .filter(|pair| !pair.is_empty() && !is_tracking(pair))
            .collect();
        // Stable by key, then value; each pair keeps its raw encoding.
        pairs.sort_by_key(|pair| pair.split_once('=').unwrap_or((pair, "")));
        let sorted = pairs.join("&");
        url.set_query((!sorted.is_empty()).then_some(sorted.as_str()));
    }
    url
}

/// Whether a raw `key=value` pair is a tracking or session parameter.
fn is_tracking(pair: &str) -> bool {
    // A pair without `%` or `+` decodes to itself: its name is what comes
    // before the first `=`, its value the rest (as `form_urlencoded` reads it).
    if !pair.contains(['%', '+']) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        return is_tracking_decoded(key, value);
    }
    let Some((key, value)) = url::form_urlencoded::parse(pair.as_bytes()).next() else {
        return false;
    };
    is_tracking_decoded(&key, &value)
}

/// [`is_tracking`] of a decoded name and value; names compared in ASCII
/// lower case, without making a lower-case copy.
fn is_tracking_decoded(key: &str, value: &str) -> bool {
    let key = key.as_bytes();
    DROPPED.iter().any(|d| key.eq_ignore_ascii_case(d.as_bytes()))
        || DROPPED_PREFIXES
            .iter()
            .any(|p| key.get(..p.len()).is_some_and(|k| k.eq_ignore_ascii_case(p.as_bytes())))
        // phpBB and vBulletin put a 32-hex session id in `s`; `s` is a search
        // term elsewhere (WordPress `?s=putin`).
        || (key.eq_ignore_ascii_case(b"s")
            && value.len() == 32
            && value.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Removes `;jsessionid=…` path parameters (Java servlet session ids).
fn strip_jsessionid(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    // ASCII lower-casing keeps byte offsets, so they index `rest` too.
    while let Some(at) = rest.to_ascii_lowercase().find(";jsessionid=") {
        out.push_str(rest.get(..at).unwrap_or_default());
        let tail = rest.get(at + 1..).unwrap_or_default();
        rest = match tail.find([';', '/']) {
            Some(end) => tail.get(end..).unwrap_or_default(),
            None => "",
        };
    }
    out.push_str(rest);
    out
}

/// Parses `link` (absolute, or relative to `base`) and canonicalises it.
/// Only http and https links are accepted.
pub fn canonical_str(link: &str, base: Option<&Url>) -> Option<Url> {
    let link = link.trim();
    if link.is_empty() {
        return None;
    }
    canonical_http(Url::options().base_url(base).parse(link).ok()?)
}

/// The canonical form of a parsed URL, if it is an http(s) URL with a
/// host: `canonical_str` for a link its reader parsed already.
pub fn canonical_http(url: Url) -> Option<Url> {
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return None;
    }
    Some(canonicalize(url))
}

/// The host as shown in reports (`www.merkur.de`): lower case, `www.` kept.
pub fn host(url: &Url) -> String {
    url.host_str().unwrap_or_default().to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_is_no_part_of_an_identity() {
        let u = Url::parse("https://user:secret@news.example.org/a?x=1").unwrap();
        assert_eq!(canonical(&u).as_str(), "https://news.example.org/a?x=1");
    }

    fn c(s: &str) -> String {
        match canonical_str(s, None) {
            Some(u) => u.to_string(),
            None => panic!("{s:?} should be a valid http(s) URL"),
        }
    }

    fn idempotent(s: &str) {
        let once = canonical_str(s, None);
        let twice = once.as_ref().map(canonical);
        assert_eq!(once, twice, "{s}");
    }

    #[test]
    fn the_brief_example() {
        assert_eq!(
            c("https://Example.org:443/a?b=2&a=1&utm_source=x#frag"),
            "https://example.org/a?a=1&b=2"
        );
    }

    #[test]
    fn scheme_and_host_lower_cased() {
        assert_eq!(
            c("HTTPS://WWW.Merkur.DE/Politik/"),
            "https://www.merkur.de/Politik/"
        );
    }

    #[test]
    fn default_port_dropped_other_ports_kept() {
        assert_eq!(c("http://example.org:80/x"), "http://example.org/x");
        assert_eq!(c("https://example.org:443/x"), "https://example.org/x");
        assert_eq!(c("http://example.org:443/x"), "http://example.org:443/x");
        assert_eq!(
            c("https://example.org:8443/x"),
            "https://example.org:8443/x"
        );
        let mut u = Url::parse("https://example.org/x").expect("valid");
        assert!(u.set_port(Some(443)).is_ok());
        assert_eq!(canonical(&u).as_str(), "https://example.org/x");
    }

    #[test]
    fn fragment_dropped() {
        assert_eq!(c("https://example.org/a#comments"), "https://example.org/a");
        assert_eq!(c("https://example.org/a?x=1#"), "https://example.org/a?x=1");
    }

    #[test]
    fn tracking_parameters_dropped_case_insensitively() {
        assert_eq!(
            c("https://www.merkur.de/politik/nordkorea-russland-93412345.html?utm_source=twitter&utm_medium=social&UTM_Campaign=x&pk_campaign=rss&pk_kwd=a&mtm_source=nl&fbclid=IwAR0abc&GCLID=1&dclid=2&msclkid=3&mc_cid=4&mc_eid=5&igshid=6&yclid=7&_ga=2.1.2.3&sid=9&PHPSESSID=abc&jsessionid=def"),
            "https://www.merkur.de/politik/nordkorea-russland-93412345.html"
        );
        // Only whole names or the listed prefixes: these are real parameters.
        assert_eq!(
            c("https://example.org/?utm=1&sidebar=0&page=2&pk=7"),
            "https://example.org/?page=2&pk=7&sidebar=0&utm=1"
        );
        // Percent-encoded names are recognised too.
        assert_eq!(
            c("https://example.org/a?utm%5Fsource=x&id=1"),
            "https://example.org/a?id=1"
        );
    }

    #[test]
    fn forum_session_s_only_when_it_is_a_session_id() {
        assert_eq!(
            c("https://forum.example.org/viewtopic.php?t=123&s=0123456789abcdef0123456789ABCDEF"),
            "https://forum.example.org/viewtopic.php?t=123"
        );
        assert_eq!(
            c("https://forum.example.org/showthread.php?S=0123456789abcdef0123456789abcdef&t=9"),
            "https://forum.example.org/showthread.php?t=9"
        );
        // WordPress search and shorter values stay.
        assert_eq!(
            c("https://blog.example.org/?s=putin"),
            "https://blog.example.org/?s=putin"
        );
        assert_eq!(
            c("https://example.org/?s=0123456789abcdef0123456789abcdeg"),
            "https://example.org/?s=0123456789abcdef0123456789abcdeg"
        );
    }

    /// `is_tracking` as first written: every pair decoded, its name
    /// lower-cased into a copy.
    fn is_tracking_by_copy(pair: &str) -> bool {
        let Some((key, value)) = url::form_urlencoded::parse(pair.as_bytes()).next() else {
            return false;
        };
        let key = key.to_ascii_lowercase();
        DROPPED.contains(&key.as_str())
            || DROPPED_PREFIXES.iter().any(|p| key.starts_with(p))
            || (key == "s" && value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit()))
    }

    #[test]
    fn tracking_names_are_read_as_the_decoding_reads_them() {
        let hex = "0123456789abcdef0123456789ABCDEF";
        let pairs = [
            "utm_source=x".to_owned(),
            "UTM_Campaign=y".into(),
            "utm".into(),
            "utm_".into(),
            "Utm_=1".into(),
            "ut".into(),
            "utm%5Fsource=x".into(),
            "utm%5fsource".into(),
            "utm+source=x".into(),
            "fbclid".into(),
            "FBCLID=".into(),
            "fbclid=a=b".into(),
            "=fbclid".into(),
            "fbclid2=1".into(),
            "fbcli=1".into(),
            format!("s={hex}"),
            format!("S={hex}"),
            format!("s={}", &hex[1..]),
            format!("s={hex}0"),
            format!("s={}%46", &hex[1..]),
            format!("s%3D={hex}"),
            format!("s+={hex}"),
            format!("%73={hex}"),
            format!("s={}g", &hex[1..]),
            "s=short".into(),
            "pk_kwd".into(),
            "pk=7".into(),
            "sidebar=0".into(),
            "sid=9".into(),
            "%73id=1".into(),
            "mtm_source=nl".into(),
            "ü=1".into(),
            "ütm_x=1".into(),
            "_ga=2.1".into(),
            "+_ga=1".into(),
            "phpsessid".into(),
            "PHPSESSID=abc".into(),
            "%ZZ=1".into(),
            "%=1".into(),
            "=".into(),
            "==".into(),
        ];
        for pair in &pairs {
            assert_eq!(is_tracking(pair), is_tracking_by_copy(pair), "{pair}");
        }
    }

    #[test]
    fn remaining_parameters_sorted_by_key_then_value_raw_encoding_kept() {
        assert_eq!(
            c("https://example.org/s?q=nord%20korea&b=2&a=z&a=y&c=%C3%9F+x"),
            "https://example.org/s?a=y&a=z&b=2&c=%C3%9F+x&q=nord%20korea"
        );
        assert_eq!(
            c("https://example.org/s?b&a=1&&"),
            "https://example.org/s?a=1&b"
        );
        assert_eq!(
            c("https://example.org/s?b=&a=1"),
            "https://example.org/s?a=1&b="
        );
        // `a` sorts before `a-b`: keys compare on their own, not with the `=`.
        assert_eq!(
            c("https://example.org/s?a-b=1&a=2"),
            "https://example.org/s?a=2&a-b=1"
        );
    }

    #[test]
    fn empty_query_removed() {
        assert_eq!(c("https://example.org/a?"), "https://example.org/a");
        assert_eq!(
            c("https://example.org/a?utm_source=x"),
            "https://example.org/a"
        );
        assert_eq!(c("https://example.org/a?&&"), "https://example.org/a");
    }

    #[test]
    fn jsessionid_path_parameter_removed() {
        assert_eq!(
            c("https://shop.example.org/item.do;jsessionid=1A2B3C4D5E6F?id=42"),
            "https://shop.example.org/item.do?id=42"
        );
        assert_eq!(
            c("https://example.org/a;JSESSIONID=XYZ/b;v=1"),
            "https://example.org/a/b;v=1"
        );
        assert_eq!(
            c("https://example.org/a;x=1;jsessionid=XYZ;y=2"),
            "https://example.org/a;x=1;y=2"
        );
    }

    #[test]
    fn path_kept_as_it_is() {
        assert_eq!(c("https://example.org/a/"), "https://example.org/a/");
        assert_eq!(c("https://example.org/a"), "https://example.org/a");
        assert_eq!(c("https://example.org"), "https://example.org/");
        assert_eq!(
            c("https://example.org/Ärger%20x"),
            "https://example.org/%C3%84rger%20x"
        );
    }

    #[test]
    fn canonical_is_idempotent() {
        for s in [
            "https://Example.org:443/a?b=2&a=1&utm_source=x#frag",
            "https://example.org/s?q=nord%20korea&b=2&a=z&a=y&c=%C3%9F+x",
            "https://example.org/s?b=&a=1&&",
            "https://example.org/a;JSESSIONID=XYZ/b;v=1?",
            "https://example.org/?q=a b&x=\"y\"",
            "https://user:pw@example.org:8080/p?z",
        ] {
            idempotent(s);
        }
    }

    #[test]
    fn relative_links_resolve_and_only_http_is_accepted() {
        let base = Url::parse("https://www.merkur.de/politik/index.html").expect("valid");
        let b = Some(&base);
        assert_eq!(
            canonical_str("  /welt/nordkorea-93.html?utm_medium=rss#top \n", b).map(String::from),
            Some("https://www.merkur.de/welt/nordkorea-93.html".into())
        );
        assert_eq!(
            canonical_str("artikel-1.html", b).map(String::from),
            Some("https://www.merkur.de/politik/artikel-1.html".into())
        );
        assert_eq!(
            canonical_str("//cdn.merkur.de/x", b).map(String::from),
            Some("https://cdn.merkur.de/x".into())
        );
        assert_eq!(canonical_str("/welt/x.html", None), None);
        assert_eq!(canonical_str("mailto:redaktion@merkur.de", b), None);
        assert_eq!(canonical_str("javascript:void(0)", b), None);
        assert_eq!(canonical_str("ftp://example.org/file", None), None);
        assert_eq!(canonical_str("   ", b), None);
        assert_eq!(canonical_str("http://", None), None);
        assert_eq!(canonical_str("https://exa mple.org/", None), None);
    }

    #[test]
    fn host_is_lower_case_and_keeps_www() {
        let u = Url::parse("https://WWW.Merkur.de/politik/").expect("valid");
        assert_eq!(host(&u), "www.merkur.de");
        let u = Url::parse("https://jacobin.de/").expect("valid");
        assert_eq!(host(&u), "jacobin.de");
    }
}
