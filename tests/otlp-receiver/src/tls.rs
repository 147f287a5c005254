//! The receiver's TLS material, generated at start with `rcgen`, and the rustls server
//! configurations of its `tls` and `mtls` fronts.
//!
//! Every file is written to a new directory `<temp>/otlp-receiver-<pid>-<n>`, removed when the
//! receiver exits normally:
//! - `ca.pem`: the CA that signed the server certificate (give it to the client as its root);
//! - `wrong-ca.pem`: an unrelated CA (the server's certificate does not verify against it);
//! - `client-ca.pem`: the CA that signed the client certificate (the `mtls` front requires it);
//! - `client.pem`, `client-key.pem`: the client certificate and its PKCS#8 key;
//! - `other-key.pem`: a PKCS#8 key that does not match `client.pem`;
//! - `not-pem.pem`: text that is not PEM.
//!
//! The server certificate (`server.pem`, `server-key.pem`) names `127.0.0.1` (IP SAN) and
//! `localhost` (DNS SAN).

use std::{
    fs,
    path::{Path, PathBuf},
    sync::Arc,
};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::{
    crypto::ring::default_provider,
    pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
    server::WebPkiClientVerifier,
    RootCertStore, ServerConfig,
};
use serde_json::{json, Value};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The generated files, and the two server configurations.
pub struct Tls {
    pub dir: PathBuf,
    /// No client certificate asked for.
    pub server: Arc<ServerConfig>,
    /// A client certificate signed by `client-ca.pem` required.
    pub mutual: Arc<ServerConfig>,
}

impl Tls {
    /// Generates every certificate and key into a new directory under the system's temp
    /// directory. ALPN offers `h2` and `http/1.1`, preferring `h2` if `prefer_h2`.
    pub fn generate(prefer_h2: bool) -> Result<Self, Error> {
        let dir = new_dir()?;
        match Self::generate_in(dir.clone(), prefer_h2) {
            Ok(tls) => Ok(tls),
            Err(error) => {
                let _ = fs::remove_dir_all(&dir);
                Err(error)
            }
        }
    }

    fn generate_in(dir: PathBuf, prefer_h2: bool) -> Result<Self, Error> {
        let ca = new_ca("otlp-receiver test CA")?;
        let wrong_ca = new_ca("otlp-receiver unrelated CA")?;
        let client_ca = new_ca("otlp-receiver client CA")?;

        let server_key = KeyPair::generate()?;
        let mut server_params =
            CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?;
        server_params
            .distinguished_name
            .push(DnType::CommonName, "otlp-receiver");
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = server_params.signed_by(&server_key, &ca)?;

        let client_key = KeyPair::generate()?;
        let mut client_params = CertificateParams::new(vec!["otlp-test-client".to_owned()])?;
        client_params
            .distinguished_name
            .push(DnType::CommonName, "otlp-test-client");
        client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client_cert = client_params.signed_by(&client_key, &client_ca)?;
        let other_key = KeyPair::generate()?;

        let write = |name: &str, text: &str| fs::write(dir.join(name), text);
        write("ca.pem", &ca.pem())?;
        write("wrong-ca.pem", &wrong_ca.pem())?;
        write("client-ca.pem", &client_ca.pem())?;
        write("server.pem", &server_cert.pem())?;
        write("server-key.pem", &server_key.serialize_pem())?;
        write("client.pem", &client_cert.pem())?;
        write("client-key.pem", &client_key.serialize_pem())?;
        write("other-key.pem", &other_key.serialize_pem())?;
        write(
            "not-pem.pem",
            "this is not a PEM file: no -----BEGIN line, just text\n",
        )?;

        let provider = Arc::new(default_provider());
        let chain = vec![server_cert.der().clone(), ca.der().clone()];
        let key = || PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
        // The server's preference wins: a gRPC receiver prefers h2, an HTTP one http/1.1 (what
        // OTLP/HTTP exporters send); a client offering only one of them gets it either way.
        let alpn = if prefer_h2 {
            vec![b"h2".to_vec(), b"http/1.1".to_vec()]
        } else {
            vec![b"http/1.1".to_vec(), b"h2".to_vec()]
        };

        let mut server = ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain.clone(), key())?;
        server.alpn_protocols = alpn.clone();

        let mut client_roots = RootCertStore::empty();
        client_roots.add(CertificateDer::from(client_ca.der().to_vec()))?;
        let verifier =
            WebPkiClientVerifier::builder_with_provider(Arc::new(client_roots), provider.clone())
                .build()?;
        let mut mutual = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_client_cert_verifier(verifier)
            .with_single_cert(chain, key())?;
        mutual.alpn_protocols = alpn;

        Ok(Self {
            dir,
            server: Arc::new(server),
            mutual: Arc::new(mutual),
        })
    }

    /// The paths the tests use, for the JSON line on stdout.
    pub fn paths(&self) -> Value {
        let path = |name: &str| self.dir.join(name).to_string_lossy().into_owned();
        json!({
            "dir": self.dir.to_string_lossy(),
            "ca": path("ca.pem"),
            "wrongCa": path("wrong-ca.pem"),
            "clientCa": path("client-ca.pem"),
            "clientCert": path("client.pem"),
            "clientKey": path("client-key.pem"),
            "otherKey": path("other-key.pem"),
            "notPem": path("not-pem.pem"),
        })
    }

    /// Removes the directory and everything in it.
    pub fn remove(&self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A self-signed CA that may sign certificates.
fn new_ca(name: &str) -> Result<CertifiedIssuer<'static, KeyPair>, Error> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    Ok(CertifiedIssuer::self_signed(params, KeyPair::generate()?)?)
}

/// `<temp>/otlp-receiver-<pid>-<n>` with the first `n` not taken.
fn new_dir() -> Result<PathBuf, Error> {
    let base = std::env::temp_dir();
    let pid = std::process::id();
    for n in 0..1000 {
        let dir: PathBuf = Path::new(&base).join(format!("otlp-receiver-{pid}-{n}"));
        match fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(error) => return Err(error.into()),
        }
    }
    Err(format!(
        "no free otlp-receiver-{pid}-<n> directory in {}",
        base.display()
    )
    .into())
}
