//! TLS of the HTTP client: rustls with the ring provider, and the system's
//! root certificates read at the first https handshake rather than when the
//! client is built. reqwest's own rustls set-up reads every certificate of
//! the system bundle and of `SSL_CERT_DIR` up front (about 38 M instructions,
//! 10 ms, in every process, although many configurations fetch only http),
//! and uses AWS-LC, which seeds its random generator from CPU jitter on
//! first use (about 50 ms of CPU per process). The certificates are checked
//! as reqwest's platform verifier checks them on Linux: WebPKI against the
//! system's roots.

use crate::tls::CertCheck;
use rustls::client::danger::{ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, RootCertStore};
use std::sync::{Arc, OnceLock};

/// Where the trusted roots come from: the system's, or a test's own.
type LoadRoots = Box<dyn Fn() -> Result<RootCertStore, String> + Send + Sync>;

/// The client's TLS configuration: TLS 1.2 and 1.3, HTTP/2 offered by
/// ALPN (as reqwest offers it), certificates checked against the system's
/// roots once the first server presents one.
pub fn client_config() -> Result<ClientConfig, String> {
    config_with(Box::new(system_roots))
}

fn config_with(load: LoadRoots) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let check = LazyRoots {
        provider: Arc::clone(&provider),
        load,
        webpki: OnceLock::new(),
    };
    let mut config = crate::tls::client_config(provider, check)
        .map_err(|e| format!("TLS cannot be set up: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The system's root certificates (the bundle and `SSL_CERT_DIR`, as
/// `rustls-native-certs` finds them); certificates that cannot be parsed
/// are skipped, as the platform verifier skips them.
fn system_roots() -> Result<RootCertStore, String> {
    let found = rustls_native_certs::load_native_certs();
    for e in &found.errors {
        tracing::warn!("cannot load a CA root certificate: {e}");
    }
    let mut roots = RootCertStore::empty();
    let (_, ignored) = roots.add_parsable_certificates(found.certs);
    if ignored > 0 {
        tracing::warn!("{ignored} of the system's CA root certificates were ignored (unreadable)");
    }
    if roots.is_empty() {
        return Err("no CA certificates were loaded from the system".to_owned());
    }
    Ok(roots)
}

/// WebPKI against roots loaded at the first certificate to check (the
/// handshake's signatures are checked by the provider: `crate::tls`).
struct LazyRoots {
    provider: Arc<CryptoProvider>,
    load: LoadRoots,
    webpki: OnceLock<Result<Arc<WebPkiServerVerifier>, String>>,
}

impl std::fmt::Debug for LazyRoots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyRoots")
            .field("loaded", &self.webpki.get().is_some())
            .finish_non_exhaustive()
    }
}

impl LazyRoots {
    fn webpki(&self) -> Result<&Arc<WebPkiServerVerifier>, rustls::Error> {
        self.webpki
            .get_or_init(|| {
                let roots = (self.load)()?;
                WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots),
                    Arc::clone(&self.provider),
                )
                .build()
                .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| rustls::Error::General(e.clone()))
    }
}

impl CertCheck for LazyRoots {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.webpki()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::testing::{acceptor, ca};
    use rcgen::{CertifiedIssuer, KeyPair};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// An https server on 127.0.0.1 with a certificate for that address
    /// signed by `ca`, answering every request with `ok`.
    async fn serve(ca: &CertifiedIssuer<'static, KeyPair>) -> u16 {
        let acceptor = acceptor(ca, "127.0.0.1");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(socket).await else {
                        return;
                    };
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.ends_with(b"\r\n\r\n") {
                        match tls.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    let _ = tls
                        .write_all(
                            b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                        )
                        .await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        port
    }

    /// A client trusting only `root`, counting how often its roots are loaded.
    fn client(root: CertificateDer<'static>, loads: Arc<AtomicUsize>) -> reqwest::Client {
        client_with(Box::new(move || {
            loads.fetch_add(1, Ordering::SeqCst);
            let mut roots = RootCertStore::empty();
            roots.add(root.clone()).map_err(|e| e.to_string())?;
            Ok(roots)
        }))
    }

    fn client_with(load: LoadRoots) -> reqwest::Client {
        reqwest::Client::builder()
            .tls_backend_preconfigured(config_with(load).unwrap())
            .no_proxy()
            .build()
            .unwrap()
    }

    /// `url` fetched by `client`: the error and its causes, as one line.
    async fn refusal(client: &reqwest::Client, url: &str) -> String {
        let err = client.get(url).send().await.unwrap_err();
        let mut chain = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(e) = source {
            chain.push_str(&format!(": {e}"));
            source = e.source();
        }
        chain
    }

    #[tokio::test]
    async fn roots_are_loaded_at_the_first_https_handshake_and_checked() {
        let trusted = ca("Test CA");
        let port = serve(&trusted).await;
        let loads = Arc::new(AtomicUsize::new(0));
        let client = client(trusted.der().clone(), Arc::clone(&loads));
        assert_eq!(
            loads.load(Ordering::SeqCst),
            0,
            "not before any https fetch"
        );
        let url = format!("https://127.0.0.1:{port}/feed.xml");
        for _ in 0..2 {
            let answer = client.get(&url).send().await.unwrap();
            assert_eq!(answer.status(), 200);
            assert_eq!(answer.text().await.unwrap(), "ok");
        }
        assert_eq!(loads.load(Ordering::SeqCst), 1, "once per client");
    }

    #[tokio::test]
    async fn a_certificate_no_trusted_root_signed_is_refused() {
        let (trusted, other) = (ca("Trusted CA"), ca("Other CA"));
        let port = serve(&other).await;
        let loads = Arc::new(AtomicUsize::new(0));
        let client = client(trusted.der().clone(), Arc::clone(&loads));
        let chain = refusal(&client, &format!("https://127.0.0.1:{port}/")).await;
        assert!(chain.contains("UnknownIssuer"), "{chain}");
        assert_eq!(loads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn roots_that_cannot_be_loaded_fail_https_fetches_not_the_client() {
        let port = serve(&ca("Test CA")).await;
        let client = client_with(Box::new(|| {
            Err("no CA certificates were loaded from the system".to_owned())
        }));
        let chain = refusal(&client, &format!("https://127.0.0.1:{port}/")).await;
        assert!(
            chain.contains("no CA certificates were loaded from the system"),
            "{chain}"
        );
    }
}
