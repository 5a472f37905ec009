//! TLS for the PostgreSQL connection, as libpq's `sslmode` means it:
//!
//! - `disable`: plaintext only;
//! - `prefer` (the default, as in libpq): TLS when the server offers it,
//!   plaintext when it answers that it does not; the certificate is not
//!   checked (unless `sslrootcert` names a CA, as libpq does with a root
//!   certificate file);
//! - `require`: TLS or no connection; the certificate is not checked
//!   (again unless `sslrootcert` is given);
//! - `verify-ca`: TLS with a certificate that chains to a trusted CA;
//! - `verify-full`: that, and the certificate names the host in the URL.
//!
//! `sslrootcert=PATH` is a PEM file of the CA certificates to trust; without
//! it (or with `sslrootcert=system`) the `verify-*` modes trust the system's
//! CA store. tokio-postgres knows only `disable`, `prefer` and `require`,
//! so `PgTarget::parse` takes both parameters out of the URL and keeps them
//! here; the rustls that reqwest already brings does the TLS.

use super::PgError;
use crate::tls::CertCheck;
use rustls::client::danger::{ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, RootCertStore};
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};

/// `sslmode`, as libpq names the choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<SslMode, PgError> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            // libpq's `allow` tries plaintext first; nothing here needs it.
            other => {
                return Err(PgError::Url(format!(
                    "sslmode={other} is not known; use disable, prefer, require, verify-ca or verify-full"
                )))
            }
        })
    }

    /// What tokio-postgres is told: whether to ask for TLS and whether it must be had.
    pub(super) fn driver_mode(self) -> tokio_postgres::config::SslMode {
        use tokio_postgres::config::SslMode as Driver;
        match self {
            SslMode::Disable => Driver::Disable,
            SslMode::Prefer => Driver::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => Driver::Require,
        }
    }
}

/// The TLS parameters of a PostgreSQL URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: SslMode,
    /// `sslrootcert`: a PEM file of trusted CAs; None for the system's store.
    pub root_cert: Option<PathBuf>,
}

/// Takes `sslmode` and `sslrootcert` out of the query of `url` (the rest
/// is left as written, for the driver) and reads them.
pub(super) fn take_params(url: &str) -> Result<(String, TlsSettings), PgError> {
    let mut settings = TlsSettings {
        mode: SslMode::Prefer,
        root_cert: None,
    };
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), settings));
    };
    let mut kept = Vec::new();
    for pair in query.split('&') {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decode = |s: &str| {
            url::form_urlencoded::parse(format!("x={s}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        };
        match decode(key).as_str() {
            "sslmode" => settings.mode = SslMode::parse(&decode(value))?,
            "sslrootcert" => {
                let path = decode(value);
                settings.root_cert = match path.as_str() {
                    "" | "system" => None,
                    _ => Some(PathBuf::from(path)),
                };
            }
            "sslcert" | "sslkey" | "sslpassword" | "sslcrl" => {
                return Err(PgError::Url(format!(
                    "{} is not supported: mentions does not present a client certificate",
                    decode(key)
                )))
            }
            _ => kept.push(pair),
        }
    }
    let url = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((url, settings))
}

/// What the certificate must satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Check {
    /// Encryption only (`prefer`, `require` without a CA).
    Nothing,
    /// Chains to a trusted CA (`verify-ca`; `prefer`/`require` with `sslrootcert`).
    Chain,
    /// Chains and names the host (`verify-full`).
    ChainAndName,
}

/// The connector handed to the pool: makes one TLS session per connection.
#[derive(Clone)]
pub struct MakeRustls {
    config: Arc<ClientConfig>,
}

impl std::fmt::Debug for MakeRustls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MakeRustls")
    }
}

impl MakeRustls {
    /// A connector for `settings`; reads the CA file now, so a missing or
    /// unreadable one is a start-up error naming the file.
    pub(super) fn new(settings: &TlsSettings) -> Result<MakeRustls, PgError> {
        // ring, not AWS-LC: AWS-LC seeds its random generator from CPU
        // jitter on first use, about 50 ms of CPU in every process that
        // opens a connection (a `report` from cron pays it each time).
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let check = match (settings.mode, &settings.root_cert) {
            (SslMode::VerifyFull, _) => Check::ChainAndName,
            (SslMode::VerifyCa, _) | (_, Some(_)) => Check::Chain,
            _ => Check::Nothing,
        };
        let webpki = match (check, settings.mode) {
            (Check::Nothing, _) | (_, SslMode::Disable) => None,
            _ => {
                let roots = roots(settings.root_cert.as_ref())?;
                let verifier =
                    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                        .build()
                        .map_err(|e| PgError::Url(format!("TLS cannot be set up: {e}")))?;
                Some(verifier)
            }
        };
        let config = crate::tls::client_config(provider, Verifier { check, webpki })
            .map_err(|e| PgError::Url(format!("TLS cannot be set up: {e}")))?;
        Ok(MakeRustls {
            config: Arc::new(config),
        })
    }
}

/// The CAs `sslrootcert` names, or the system's.
fn roots(path: Option<&PathBuf>) -> Result<RootCertStore, PgError> {
    let mut roots = RootCertStore::empty();
    match path {
        Some(path) => {
            let unreadable = |e: &dyn std::fmt::Display| {
                PgError::Url(format!(
                    "sslrootcert {} cannot be read: {e}",
                    path.display()
                ))
            };
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
                .map_err(|e| unreadable(&e))?
                .collect::<Result<_, _>>()
                .map_err(|e| unreadable(&e))?;
            let (added, _) = roots.add_parsable_certificates(certs);
            if added == 0 {
                return Err(PgError::Url(format!(
                    "sslrootcert {} holds no usable PEM certificate",
                    path.display()
                )));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _) = roots.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(PgError::Url(
                    "sslmode verify-ca or verify-full without sslrootcert needs the system's CA certificates, and none were found; name a CA file with sslrootcert=PATH".to_owned(),
                ));
            }
        }
    }
    Ok(roots)
}

/// Checks the server's certificate as far as the mode asks; the handshake's
/// signatures are always checked (`crate::tls`).
#[derive(Debug)]
struct Verifier {
    check: Check,
    webpki: Option<Arc<WebPkiServerVerifier>>,
}

impl CertCheck for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // None exactly when the mode checks nothing (`MakeRustls::new`).
        let Some(webpki) = &self.webpki else {
            return Ok(ServerCertVerified::assertion());
        };
        let verified =
            webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now);
        match verified {
            // The name is checked after the chain: a name error means the chain is good.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if self.check == Check::Chain => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }
}

impl<S> MakeTlsConnect<S> for MakeRustls
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type TlsConnect = RustlsConnect;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<RustlsConnect, io::Error> {
        let name = ServerName::try_from(domain.to_owned()).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{domain:?} is not a host name TLS can check"),
            )
        })?;
        Ok(RustlsConnect {
            config: Arc::clone(&self.config),
            name,
        })
    }
}

/// One connection's handshake.
pub struct RustlsConnect {
    config: Arc<ClientConfig>,
    name: ServerName<'static>,
}

impl<S> TlsConnect<S> for RustlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = RustlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<RustlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let connector = tokio_rustls::TlsConnector::from(self.config);
            let stream = connector.connect(self.name, stream).await?;
            Ok(RustlsStream(stream))
        })
    }
}

/// A TLS session to the server. No channel binding is offered, so SCRAM
/// authentication runs as it does over plaintext (`SCRAM-SHA-256`).
pub struct RustlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for RustlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for RustlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for RustlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_parameters_are_taken_out_of_the_url() {
        let (url, tls) = take_params(
            "postgres://u:p%26w@db.example:6543/m?sslmode=verify-full&application_name=x&sslrootcert=%2Fetc%2Fca.pem",
        )
        .unwrap();
        assert_eq!(
            url,
            "postgres://u:p%26w@db.example:6543/m?application_name=x"
        );
        assert_eq!(
            tls,
            TlsSettings {
                mode: SslMode::VerifyFull,
                root_cert: Some(PathBuf::from("/etc/ca.pem")),
            }
        );
        let (url, tls) = take_params("postgres://db.example/m").unwrap();
        assert_eq!(url, "postgres://db.example/m");
        assert_eq!(tls.mode, SslMode::Prefer);
        let (url, tls) = take_params("postgres://db/m?sslmode=require&sslrootcert=system").unwrap();
        assert_eq!(url, "postgres://db/m");
        assert_eq!((tls.mode, tls.root_cert), (SslMode::Require, None));
        let err = take_params("postgres://db/m?sslmode=allow").unwrap_err();
        assert!(err.to_string().contains("verify-full"), "{err}");
        let err = take_params("postgres://db/m?sslcert=/c.pem").unwrap_err();
        assert!(err.to_string().contains("client certificate"), "{err}");
    }

    use crate::store::postgres::testdb::TestDb;
    use crate::store::postgres::{PgTarget, Postgres};
    use rcgen::{CertifiedIssuer, KeyPair};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// PostgreSQL's SSLRequest: length 8, code 80877103.
    const SSL_REQUEST: [u8; 8] = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];

    /// A CA made for the test, as an issuer and as a PEM file in `dir`.
    fn ca(dir: &std::path::Path, name: &str) -> (CertifiedIssuer<'static, KeyPair>, PathBuf) {
        let ca = crate::tls::testing::ca(name);
        let path = dir.join(format!("{name}.pem"));
        std::fs::write(&path, ca.pem()).unwrap();
        (ca, path)
    }

    /// A plaintext-only front for the test server, as a server without TLS
    /// behaves: answers an SSLRequest with 'N' and forwards everything else
    /// to `upstream`. Counts the SSLRequests it refused.
    async fn plain_proxy(upstream: String) -> (u16, Arc<AtomicUsize>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let refused = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&refused);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (upstream, counted) = (upstream.clone(), Arc::clone(&counted));
                tokio::spawn(async move {
                    let Ok(mut plain) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let mut first = [0u8; 8];
                    if socket.read_exact(&mut first).await.is_err() {
                        return;
                    }
                    if first == SSL_REQUEST {
                        counted.fetch_add(1, Ordering::SeqCst);
                        if socket.write_all(b"N").await.is_err() {
                            return;
                        }
                    } else if plain.write_all(&first).await.is_err() {
                        return;
                    }
                    let _ = tokio::io::copy_bidirectional(&mut socket, &mut plain).await;
                });
            }
        });
        (port, refused)
    }

    /// A TLS-only front for the test server: answers an SSLRequest with
    /// 'S', does the handshake with a certificate for `db.internal` that
    /// `ca` signed, and forwards the plaintext to `upstream`. A client that
    /// starts in plaintext is hung up on. Counts completed handshakes.
    async fn tls_proxy(
        ca: &CertifiedIssuer<'static, KeyPair>,
        upstream: String,
    ) -> (u16, Arc<AtomicUsize>) {
        let acceptor = crate::tls::testing::acceptor(ca, "db.internal");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let handshakes = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&handshakes);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let (acceptor, upstream, counted) =
                    (acceptor.clone(), upstream.clone(), Arc::clone(&counted));
                tokio::spawn(async move {
                    let mut first = [0u8; 8];
                    if socket.read_exact(&mut first).await.is_err() || first != SSL_REQUEST {
                        return;
                    }
                    if socket.write_all(b"S").await.is_err() {
                        return;
                    }
                    let Ok(mut tls) = acceptor.accept(socket).await else {
                        return;
                    };
                    counted.fetch_add(1, Ordering::SeqCst);
                    let Ok(mut plain) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        (port, handshakes)
    }

    /// Connects to `url` and asks one question; the error as text.
    async fn ask(url: &str) -> Result<i32, String> {
        let target = PgTarget::parse(url).map_err(|e| e.to_string())?;
        let pg = Postgres::connect_unmigrated(&target, 1)
            .await
            .map_err(|e| e.to_string())?;
        let client = pg.client().await.map_err(|e| e.to_string())?;
        let row = client
            .query_one("SELECT 41 + 1", &[])
            .await
            .map_err(|e| e.to_string())?;
        Ok(row.get(0))
    }

    #[tokio::test]
    async fn sslmode_verifies_as_libpq_does_through_a_tls_front() {
        let Some(db) = TestDb::create("tls_modes").await else {
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let (good_ca, good) = ca(dir.path(), "good-ca");
        let (_, wrong) = ca(dir.path(), "wrong-ca");
        let plain = url::Url::parse(db.url()).unwrap();
        let upstream = format!(
            "{}:{}",
            plain.host_str().unwrap(),
            plain.port().unwrap_or(5432)
        );
        let (port, handshakes) = tls_proxy(&good_ca, upstream.clone()).await;
        // The test server's user, a password that must never be shown, the
        // proxy's port, and the name the certificate is for (or another).
        let via = |host: &str, query: &str| {
            let mut u = plain.clone();
            u.set_host(Some(host)).unwrap();
            u.set_port(Some(port)).unwrap();
            u.set_password(Some("Pa55-w0rd")).unwrap();
            format!("{u}?hostaddr=127.0.0.1&{query}")
        };
        let at = format!("db.internal:{port}/{}", db.name());
        let count = || handshakes.load(Ordering::SeqCst);
        let root = |p: &PathBuf| format!("sslrootcert={}", p.display());

        // verify-full with the CA that signed the certificate, for the name it names.
        let full = format!("sslmode=verify-full&{}", root(&good));
        assert_eq!(ask(&via("db.internal", &full)).await, Ok(42));
        assert_eq!(count(), 1);

        // A CA that did not sign it.
        let err = ask(&via(
            "db.internal",
            &format!("sslmode=verify-full&{}", root(&wrong)),
        ))
        .await
        .unwrap_err();
        assert!(
            err.starts_with(&format!("cannot connect to PostgreSQL at {at}: ")),
            "{err}"
        );
        assert!(
            err.contains("invalid peer certificate: UnknownIssuer"),
            "{err}"
        );
        assert!(!err.contains("Pa55-w0rd"), "{err}");

        // The right CA, another host name: verify-full refuses, verify-ca does not ask.
        let err = ask(&via("other.internal", &full)).await.unwrap_err();
        assert!(
            err.starts_with(&format!(
                "cannot connect to PostgreSQL at other.internal:{port}/{}: ",
                db.name()
            )),
            "{err}"
        );
        assert!(
            err.contains("not valid for name \"other.internal\""),
            "{err}"
        );
        let ca_only = format!("sslmode=verify-ca&{}", root(&good));
        assert_eq!(ask(&via("other.internal", &ca_only)).await, Ok(42));
        assert_eq!(count(), 2);

        // require and prefer encrypt without checking the certificate.
        assert_eq!(ask(&via("other.internal", "sslmode=require")).await, Ok(42));
        assert_eq!(ask(&via("other.internal", "sslmode=prefer")).await, Ok(42));
        assert_eq!(count(), 4);

        // disable speaks plaintext, which the TLS-only front hangs up on.
        let err = ask(&via("db.internal", "sslmode=disable"))
            .await
            .unwrap_err();
        assert!(
            err.starts_with(&format!("cannot connect to PostgreSQL at {at}: ")),
            "{err}"
        );
        assert_eq!(count(), 4);

        // A server without TLS: prefer (the default) goes on in plaintext,
        // require does not, disable does not ask.
        let (plain_port, refused) = plain_proxy(upstream).await;
        let mut plain = plain.clone();
        plain.set_port(Some(plain_port)).unwrap();
        assert_eq!(ask(plain.as_str()).await, Ok(42));
        assert_eq!(ask(&format!("{plain}?sslmode=prefer")).await, Ok(42));
        assert_eq!(refused.load(Ordering::SeqCst), 2);
        let err = ask(&format!("{plain}?sslmode=require")).await.unwrap_err();
        assert!(err.contains("server does not support TLS"), "{err}");
        assert_eq!(refused.load(Ordering::SeqCst), 3);
        assert_eq!(ask(&format!("{plain}?sslmode=disable")).await, Ok(42));
        assert_eq!(refused.load(Ordering::SeqCst), 3);
        assert_eq!(count(), 4);
    }

    #[test]
    fn a_missing_ca_file_is_named() {
        let err = MakeRustls::new(&TlsSettings {
            mode: SslMode::VerifyFull,
            root_cert: Some(PathBuf::from("/nonexistent/ca.pem")),
        })
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("sslrootcert /nonexistent/ca.pem cannot be read"),
            "{err}"
        );
    }
}
