//! Private networks. The config is trusted; content is not. A URL that came
//! from content — an item's link, a redirect, a `next` link, a sitemap
//! child — could point the crawler at `127.0.0.1`, the metadata service or
//! the intranet and store what it finds as a mention's excerpt. So every
//! fetch goes to a host named by a configured URL, or to a host whose every
//! address is public.
//!
//! The check sits where the address is known: a DNS resolver that refuses
//! names resolving to private addresses (so DNS rebinding and every
//! redirect hop are covered, because each connection resolves through it),
//! and a check of IP-literal hosts (`127.1`, `2130706433`, `[::1]`), which
//! never reach a resolver, before the first request and on each redirect.
//! `[crawler] allow_private_networks = true` lifts it for intranet installs.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use url::{Host, Url};

/// Decides which hosts may be fetched.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    /// Hosts named by configured URLs, lower-cased: always allowed.
    trusted: BTreeSet<String>,
    allow_private: bool,
}

/// A fetch the guard refused; found again in reqwest's error chain.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{host} is a private or local address; only hosts named in the config may be (set [crawler] allow_private_networks = true for an intranet)")]
pub struct Refused {
    pub host: String,
}

impl Guard {
    pub fn new(trusted: &BTreeSet<String>, allow_private: bool) -> Guard {
        Guard {
            trusted: trusted.iter().map(|h| normal_host(h)).collect(),
            allow_private,
        }
    }

    /// Whether `host` (as written in a URL) is named by the config, or the
    /// check is off.
    pub fn trusts(&self, host: &str) -> bool {
        self.allow_private || self.trusted.contains(&normal_host(host))
    }

    /// Refuses a URL whose host is a private IP literal that is not trusted.
    /// Names are judged when they resolve (`resolver`).
    pub fn check_url(&self, url: &Url) -> Result<(), Refused> {
        let ip = match url.host() {
            Some(Host::Ipv4(ip)) => IpAddr::V4(ip),
            Some(Host::Ipv6(ip)) => IpAddr::V6(ip),
            _ => return Ok(()),
        };
        let host = url.host_str().unwrap_or_default();
        if is_public(ip) || self.trusts(host) {
            Ok(())
        } else {
            Err(Refused {
                host: host.to_owned(),
            })
        }
    }

    /// The resolver the HTTP client connects through.
    pub fn resolver(self: &Arc<Guard>) -> Arc<dyn Resolve> {
        Arc::new(GuardedResolver(Arc::clone(self)))
    }
}

/// `Example.org.` and `[::1]` as `example.org` and `::1`.
fn normal_host(host: &str) -> String {
    host.trim_start_matches('[')
        .trim_end_matches(']')
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

struct GuardedResolver(Arc<Guard>);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = Arc::clone(&self.0);
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !guard.trusts(&host) && addrs.iter().any(|a| !is_public(a.ip())) {
                return Err(Box::new(Refused { host }) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// Whether `ip` is an address on the public internet: not loopback,
/// private, link-local, shared, multicast, unspecified, reserved, or an
/// IPv6 form of such an IPv4 address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        // Shared address space (carrier-grade NAT), 100.64.0.0/10.
        || (a == 100 && (64..128).contains(&b))
        // Reserved, 240.0.0.0/4.
        || a >= 240
        // IETF protocol assignments, 192.0.0.0/24.
        || (a == 192 && b == 0 && ip.octets()[2] == 0))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let segments = ip.segments();
    // IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::/96) carry an IPv4 address.
    let embedded = Ipv4Addr::new(
        (segments[6] >> 8) as u8,
        segments[6] as u8,
        (segments[7] >> 8) as u8,
        segments[7] as u8,
    );
    if segments[..6] == [0; 6] && !ip.is_unspecified() && !ip.is_loopback() {
        return is_public_v4(embedded);
    }
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(embedded);
    }
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // Unique local, fc00::/7.
        || (segments[0] & 0xfe00) == 0xfc00
        // Link-local, fe80::/10, and the old site-local, fec0::/10.
        || (segments[0] & 0xffc0) == 0xfe80
        || (segments[0] & 0xffc0) == 0xfec0
        // Documentation, 2001:db8::/32.
        || (segments[0] == 0x2001 && segments[1] == 0x0db8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_and_local_addresses_are_not_public() {
        for ip in [
            "127.0.0.1",
            "127.1.2.3",
            "10.0.0.1",
            "172.16.5.4",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "172.32.0.1",
            "100.128.0.1",
            "8.8.8.8",
            "2a00:1450:4001::200e",
            "::ffff:93.184.216.34",
        ] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn ip_literals_in_every_spelling_are_refused_unless_trusted() {
        let guard = Guard::new(&BTreeSet::new(), false);
        // The url crate reads the odd IPv4 spellings as the address they mean.
        for url in [
            "http://127.0.0.1/",
            "http://2130706433/",
            "http://0x7f000001/",
            "http://127.1/",
            "http://[::1]:8080/x",
            "http://user:pass@127.0.0.1/",
            "http://[::ffff:7f00:1]/",
        ] {
            let url = Url::parse(url).unwrap();
            assert!(guard.check_url(&url).is_err(), "{url}");
        }
        assert!(guard
            .check_url(&Url::parse("https://93.184.216.34/").unwrap())
            .is_ok());
        // Names are judged by the resolver, not here.
        assert!(guard
            .check_url(&Url::parse("http://localhost/").unwrap())
            .is_ok());

        let trusted: BTreeSet<String> = ["127.0.0.1".to_owned(), "[::1]".to_owned()].into();
        let guard = Guard::new(&trusted, false);
        assert!(guard
            .check_url(&Url::parse("http://127.0.0.1:9000/feed").unwrap())
            .is_ok());
        assert!(guard
            .check_url(&Url::parse("http://[::1]/").unwrap())
            .is_ok());
        assert!(guard
            .check_url(&Url::parse("http://10.0.0.1/").unwrap())
            .is_err());
        let open = Guard::new(&BTreeSet::new(), true);
        assert!(open
            .check_url(&Url::parse("http://10.0.0.1/").unwrap())
            .is_ok());
    }

    #[tokio::test]
    async fn names_resolving_to_private_addresses_are_refused_unless_trusted() {
        let guard = Arc::new(Guard::new(&BTreeSet::new(), false));
        let refused = guard
            .resolver()
            .resolve("localhost".parse().unwrap())
            .await
            .err()
            .expect("localhost is refused");
        assert!(refused.to_string().contains("localhost"), "{refused}");

        let trusted: BTreeSet<String> = ["LocalHost".to_owned()].into();
        let guard = Arc::new(Guard::new(&trusted, false));
        let addrs: Vec<SocketAddr> =
            match guard.resolver().resolve("localhost".parse().unwrap()).await {
                Ok(addrs) => addrs.collect(),
                Err(e) => panic!("{e}"),
            };
        assert!(addrs.iter().all(|a| a.ip().is_loopback()), "{addrs:?}");
    }
}
