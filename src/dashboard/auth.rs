//! Sign-in for the dashboard when `[server] token` is set. A browser signs
//! in once with the token through a form; the answer sets an HttpOnly,
//! SameSite cookie holding an HMAC-SHA256 of a fixed label under the token,
//! so the cookie is worth exactly as much as the token, is never the token
//! itself, and stops working when the token changes. Scripts may send
//! `Authorization: Bearer <token>` instead. Every comparison is in
//! constant time.

use crate::sources::platform::Secret;
use axum::http::{header, HeaderMap, HeaderValue};
use hmac::{KeyInit, Mac};
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const COOKIE: &str = "mentions_session";
/// How long a sign-in lasts.
const MAX_AGE_SECS: u64 = 30 * 24 * 3600;

/// The cookie value that stands for `token`: hex HMAC-SHA256.
pub fn session_value(token: &Secret) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(token.expose().as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(b"mentions dashboard session v1");
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares in constant time, so the answer's timing says nothing of the token.
pub fn token_matches(offered: &str, token: &Secret) -> bool {
    offered.as_bytes().ct_eq(token.expose().as_bytes()).into()
}

/// The values of the cookies named `name` in the request.
fn cookies<'a>(headers: &'a HeaderMap, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(move |pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

/// Whether the request carries the token (Bearer) or a session cookie for it.
pub fn signed_in(headers: &HeaderMap, token: &Secret) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer.is_some_and(|b| token_matches(b, token)) {
        return true;
    }
    let expected = session_value(token);
    let mut found = false;
    for value in cookies(headers, COOKIE) {
        found |= bool::from(value.as_bytes().ct_eq(expected.as_bytes()));
    }
    found
}

/// Whether the request came through a proxy that speaks HTTPS to the browser.
fn behind_https(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// `Set-Cookie` for a session; `Secure` when the browser talks HTTPS.
pub fn set_cookie(token: &Secret, request: &HeaderMap) -> HeaderValue {
    let secure = if behind_https(request) {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={MAX_AGE_SECS}{secure}",
        session_value(token)
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// `Set-Cookie` that ends the session.
pub fn clear_cookie() -> HeaderValue {
    HeaderValue::from_static("mentions_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0")
}

/// A place to return to after signing in: a path on this server, never
/// another site (`//host`, `/\host`, `https://…`).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.chars().any(|c| c.is_control()) =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_stands_for_the_token_without_being_it() {
        let token = Secret::new("s3cret-token-value");
        let value = session_value(&token);
        assert_eq!(value.len(), 64);
        assert!(!value.contains("s3cret"));
        assert_ne!(value, session_value(&Secret::new("another-token")));

        let mut headers = HeaderMap::new();
        assert!(!signed_in(&headers, &token));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("a=b; {COOKIE}={value}; c=d")).unwrap(),
        );
        assert!(signed_in(&headers, &token));
        assert!(!signed_in(&headers, &Secret::new("another-token")));

        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("{COOKIE}={value}x")).unwrap(),
        );
        assert!(!signed_in(&headers, &token));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer s3cret-token-value"),
        );
        assert!(signed_in(&headers, &token));

        let cookie = set_cookie(&token, &HeaderMap::new());
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
        assert!(!cookie.contains("Secure"));
        let mut proxied = HeaderMap::new();
        proxied.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(set_cookie(&token, &proxied)
            .to_str()
            .unwrap()
            .ends_with("; Secure"));
    }

    #[test]
    fn returns_only_to_this_server() {
        assert_eq!(
            safe_next(Some("/?topic=nk&since=7d")),
            "/?topic=nk&since=7d"
        );
        assert_eq!(safe_next(Some("/mentions/5")), "/mentions/5");
        for bad in [
            "//evil.example/",
            "/\\evil.example",
            "https://evil.example/",
            "x",
            "/\n",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
