//! TLS of the `otlp` layer (rustls with the ring provider, no OpenSSL): which certificate
//! authorities verify an `https` receiver and which certificate identifies us to it.
//!
//! - Roots: the `certificate` file when given (its authorities only, as the OpenTelemetry SDKs
//!   do), else the system's root certificates (`rustls-native-certs`: the distribution's
//!   bundle, `SSL_CERT_FILE`, `SSL_CERT_DIR`), else, on a system without any, the bundled
//!   Mozilla roots (`webpki-roots`).
//! - Mutual TLS: `clientCertificate` and `clientKey`, both or neither; the key must match.
//!
//! Every file is read and checked when the layer is built, so a missing file, a file that is
//! not PEM or a key of another certificate is a config error naming the option and the path.

use std::{
    fs,
    sync::{Arc, OnceLock},
};

use rustls::{
    pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer},
    ClientConfig, RootCertStore,
};

use crate::error::Error;

/// One file option, with where it came from for messages: `layers[0].certificate` or
/// `layers[0]: environment variable OTEL_EXPORTER_OTLP_CERTIFICATE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileOption {
    pub(crate) path: String,
    pub(crate) origin: String,
}

/// The TLS files of an `otlp` layer, resolved from the config and the environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct TlsFiles {
    /// The layer's field in the config, `layers[0]`.
    pub(crate) field: String,
    pub(crate) certificate: Option<FileOption>,
    pub(crate) client_certificate: Option<FileOption>,
    pub(crate) client_key: Option<FileOption>,
}

/// A rustls client config and the words that say what verifies the receiver.
pub(crate) struct TlsClient {
    pub(crate) config: ClientConfig,
    /// `the system's root certificates`, `the certificate authorities in <path>`, ...
    pub(crate) verified_by: String,
}

/// Builds the client config of `files`.
pub(crate) fn client_config(files: &TlsFiles) -> Result<TlsClient, Error> {
    let (roots, verified_by) = match &files.certificate {
        Some(file) => {
            let mut store = RootCertStore::empty();
            for certificate in read_certificates(file)? {
                store.add(certificate).map_err(|error| {
                    Error::invalid_config(format!(
                        "{}: `{}` holds a certificate that cannot be a trust anchor: {error}",
                        file.origin, file.path
                    ))
                })?;
            }
            (
                Arc::new(store),
                format!("the certificate authorities in `{}`", file.path),
            )
        }
        None => {
            let (store, source) = system_roots();
            (Arc::clone(store), (*source).to_owned())
        }
    };
    let builder =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|error| Error::invalid_config(format!("cannot set up TLS: {error}")))?
            .with_root_certificates(roots);
    let config = match (&files.client_certificate, &files.client_key) {
        (None, None) => builder.with_no_client_auth(),
        (Some(certificate), Some(key)) => {
            let chain = read_certificates(certificate)?;
            let key_der = read_key(key)?;
            builder
                .with_client_auth_cert(chain, key_der)
                .map_err(|error| match error {
                    rustls::Error::InconsistentKeys(_) => Error::invalid_config(format!(
                        "{}: the private key in `{}` does not match the certificate in `{}` \
                         ({}); give the key the certificate was made for",
                        key.origin, key.path, certificate.path, certificate.origin
                    )),
                    other => Error::invalid_config(format!(
                        "{}: cannot use the key in `{}` with the certificate in `{}`: {other}",
                        key.origin, key.path, certificate.path
                    )),
                })?
        }
        (Some(given), None) | (None, Some(given)) => {
            let field = &files.field;
            let missing = if files.client_key.is_none() {
                format!("{field}.clientKey (or OTEL_EXPORTER_OTLP_CLIENT_KEY)")
            } else {
                format!("{field}.clientCertificate (or OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE)")
            };
            return Err(Error::invalid_config(format!(
                "{}: mutual TLS needs both clientCertificate and clientKey, and {missing} is \
                 not set; give both files or neither",
                given.origin
            )));
        }
    };
    Ok(TlsClient {
        config,
        verified_by,
    })
}

/// The client config of an endpoint without TLS: the connector needs one, it is never used.
pub(crate) fn plain_client_config() -> Result<ClientConfig, Error> {
    Ok(
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|error| Error::invalid_config(format!("cannot set up TLS: {error}")))?
            .with_root_certificates(RootCertStore::empty())
            .with_no_client_auth(),
    )
}

/// The system's root certificates, loaded once per process; the bundled Mozilla roots when
/// the system has none.
fn system_roots() -> &'static (Arc<RootCertStore>, &'static str) {
    static ROOTS: OnceLock<(Arc<RootCertStore>, &'static str)> = OnceLock::new();
    ROOTS.get_or_init(|| {
        let mut store = RootCertStore::empty();
        let loaded = rustls_native_certs::load_native_certs();
        let (added, _ignored) = store.add_parsable_certificates(loaded.certs);
        if added > 0 {
            (Arc::new(store), "the system's root certificates")
        } else {
            store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
            (
                Arc::new(store),
                "the bundled Mozilla root certificates (the system has none)",
            )
        }
    })
}

fn read_file(file: &FileOption) -> Result<Vec<u8>, Error> {
    fs::read(&file.path).map_err(|error| {
        Error::invalid_config(format!(
            "{}: cannot read `{}`: {error}; give the path of a PEM file",
            file.origin, file.path
        ))
    })
}

fn read_certificates(file: &FileOption) -> Result<Vec<CertificateDer<'static>>, Error> {
    let bytes = read_file(file)?;
    let certificates = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| {
            Error::invalid_config(format!(
                "{}: `{}` is not a valid PEM file: {error}",
                file.origin, file.path
            ))
        })?;
    if certificates.is_empty() {
        return Err(Error::invalid_config(format!(
            "{}: `{}` is not PEM: it holds no `-----BEGIN CERTIFICATE-----` block; give a \
             PEM certificate file (convert DER with `openssl x509 -inform der -in FILE`)",
            file.origin, file.path
        )));
    }
    Ok(certificates)
}

fn read_key(file: &FileOption) -> Result<PrivateKeyDer<'static>, Error> {
    let bytes = read_file(file)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|error| {
        let why = match error {
            rustls::pki_types::pem::Error::NoItemsFound => {
                "it holds no `-----BEGIN PRIVATE KEY-----` (PKCS#8), `RSA PRIVATE KEY` or \
                 `EC PRIVATE KEY` block"
                    .to_owned()
            }
            other => other.to_string(),
        };
        Error::invalid_config(format!(
            "{}: `{}` is not a PEM private key: {why}",
            file.origin, file.path
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn option(path: &str, origin: &str) -> Option<FileOption> {
        Some(FileOption {
            path: path.to_owned(),
            origin: origin.to_owned(),
        })
    }

    fn error_of(mut files: TlsFiles) -> String {
        files.field = "layers[0]".to_owned();
        match client_config(&files) {
            Ok(_) => panic!("expected an error"),
            Err(error) => error.message().to_owned(),
        }
    }

    #[test]
    fn without_files_the_system_or_bundled_roots_verify() {
        let client = client_config(&TlsFiles::default()).unwrap();
        assert!(client.verified_by.contains("root certificates"));
    }

    #[test]
    fn bad_files_name_the_option_and_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem").display().to_string();
        let message = error_of(TlsFiles {
            certificate: option(&missing, "layers[0].certificate"),
            ..TlsFiles::default()
        });
        assert!(
            message.starts_with("layers[0].certificate: cannot read"),
            "{message}"
        );
        assert!(message.contains(&missing), "{message}");

        let garbage = dir.path().join("garbage.pem");
        fs::write(&garbage, "not a certificate\n").unwrap();
        let garbage = garbage.display().to_string();
        let message = error_of(TlsFiles {
            certificate: option(&garbage, "layers[0].certificate"),
            ..TlsFiles::default()
        });
        assert!(message.contains("is not PEM"), "{message}");
        let message = error_of(TlsFiles {
            client_certificate: option(&garbage, "layers[0].clientCertificate"),
            client_key: option(&garbage, "layers[0].clientKey"),
            ..TlsFiles::default()
        });
        assert!(
            message.starts_with("layers[0].clientCertificate:") && message.contains("not PEM"),
            "{message}"
        );

        let message = error_of(TlsFiles {
            client_certificate: option(&garbage, "layers[0].clientCertificate"),
            ..TlsFiles::default()
        });
        assert!(
            message.contains("needs both clientCertificate and clientKey")
                && message.contains("layers[0].clientKey (or OTEL_EXPORTER_OTLP_CLIENT_KEY)"),
            "{message}"
        );
    }
}
