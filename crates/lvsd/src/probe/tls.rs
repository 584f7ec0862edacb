//! The TLS client of `SSL_GET` and `genhash -S`, on rustls with the ring provider.
//!
//! keepalived (check_ssl.c, `build_ssl_ctx`) never calls `SSL_CTX_set_verify`, so OpenSSL's
//! default, no verification, applies: any server certificate is accepted, whatever the `SSL`
//! block's `ca`. The handshake's own signatures are still checked, as OpenSSL does. The `SSL`
//! block's `certificate` and `key` are presented when the server asks for a client
//! certificate. SNI is sent only with `enable_sni` (`ssl_connect`).
//!
//! Differences: rustls speaks TLS 1.2 and 1.3 only (keepalived's OpenSSL also 1.0 and 1.1),
//! and cannot read a key encrypted with the `SSL` block's `password`.

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::IpAddr;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;

/// A TLS client configuration, built once per probe.
#[derive(Clone)]
pub struct Tls {
    /// The files it was built from: two probes with the same files make the same client.
    files: Option<keepalived::check::Ssl>,
    config: Arc<ClientConfig>,
}

impl Tls {
    /// The client of the `SSL` block `ssl` (none: no client certificate).
    pub fn new(ssl: Option<&keepalived::check::Ssl>) -> Result<Tls, String> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS setup: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)));
        let identity = match ssl {
            Some(s) => client_identity(s)?,
            None => None,
        };
        let mut config = match identity {
            Some((chain, key)) => builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| format!("SSL certificate and key: {e}"))?,
            None => builder.with_no_client_auth(),
        };
        // The server name is given per connection, and only sent when asked for.
        config.enable_sni = true;
        Ok(Tls {
            files: ssl.cloned(),
            config: Arc::new(config),
        })
    }

    /// The TLS handshake over `tcp`; `sni` is the name to send, if any.
    pub async fn handshake(
        &self,
        tcp: TcpStream,
        sni: Option<&str>,
        peer: IpAddr,
    ) -> Result<TlsStream<TcpStream>, String> {
        // rustls sends no SNI for an address, which is how a connection without SNI is made.
        let name = sni
            .and_then(|n| ServerName::try_from(n.to_string()).ok())
            .unwrap_or(ServerName::IpAddress(peer.into()));
        TlsConnector::from(self.config.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS handshake failed: {e}"))
    }
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tls").field("files", &self.files).finish()
    }
}

impl PartialEq for Tls {
    fn eq(&self, other: &Tls) -> bool {
        self.files == other.files
    }
}

impl Eq for Tls {}

impl Hash for Tls {
    fn hash<H: Hasher>(&self, state: &mut H) {
        if let Some(s) = &self.files {
            (&s.password, &s.ca, &s.certificate, &s.key).hash(state);
        }
    }
}

type Identity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// The client certificate chain and key of the `SSL` block, when it names a certificate.
fn client_identity(ssl: &keepalived::check::Ssl) -> Result<Option<Identity>, String> {
    let Some(cert_file) = &ssl.certificate else {
        return Ok(None);
    };
    let read = |path: &str| std::fs::read(path).map_err(|e| format!("SSL file {path}: {e}"));
    let pem = read(cert_file)?;
    let chain = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("SSL certificate {cert_file}: {e}"))?;
    if chain.is_empty() {
        return Err(format!("SSL certificate {cert_file}: no certificate in it"));
    }
    // OpenSSL reads the key from the certificate's file when no key file is given.
    let key_file = ssl.key.as_deref().unwrap_or(cert_file);
    let pem = read(key_file)?;
    if pem.windows(9).any(|w| w == b"ENCRYPTED") {
        return Err(format!(
            "SSL key {key_file} is encrypted: lvsd cannot use a key that needs the SSL password"
        ));
    }
    let key = rustls_pemfile::private_key(&mut pem.as_slice())
        .map_err(|e| format!("SSL key {key_file}: {e}"))?
        .ok_or_else(|| format!("SSL key {key_file}: no private key in it"))?;
    Ok(Some((chain, key)))
}

/// Accepts any server certificate, as keepalived does, but checks the handshake signatures.
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
