//! Session certificates: a CA, the coordinator's server certificate and one
//! client certificate per party (`hekit-mpc gen-certs`), and the binding of
//! a TLS connection to the party id its certificate names.
//!
//! A party certificate carries the DNS SAN `party-<id>.hekit-mpc` and the
//! common name `hekit-mpc party <id>`; the coordinator certificate names the
//! hosts it is reached at (DNS names or IP addresses). The coordinator
//! requires a client certificate chaining to the session CA (mutual TLS)
//! and takes the party id from it, so a party cannot act in another's name.
//!
//! [`SessionCa::verify_party_cert`] is the one check of a party certificate
//! outside the TLS handshake (chain to the session CA for client
//! authentication, and the `party-<id>.hekit-mpc` name): the parties run it
//! on every end-to-end key announcement relayed by the coordinator, and the
//! coordinator on every `Hello` (see [`crate::e2e`]).

use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName, TrustAnchor, UnixTime};
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// The SAN DNS name of party `id`.
pub fn party_dns_name(id: u32) -> String {
    format!("party-{id}.hekit-mpc")
}

fn tls(e: impl std::fmt::Display) -> Error {
    Error::Tls(e.to_string())
}

fn write_private(path: &Path, data: &str) -> Result<()> {
    #[cfg(unix)]
    {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(path)?;
        f.write_all(data.as_bytes())?;
        Ok(())
    }
    #[cfg(not(unix))]
    {
        std::fs::write(path, data)?;
        Ok(())
    }
}

/// Writes `ca.pem`, `ca.key`, `coordinator.pem`, `coordinator.key` and
/// `party-<i>.pem`, `party-<i>.key` for `i = 1..=parties` into `dir`.
/// `hosts` are the coordinator's names (DNS names or IP addresses).
pub fn generate(dir: &Path, parties: u32, hosts: &[String]) -> Result<()> {
    if parties == 0 || parties >= 1 << 20 {
        return Err(Error::config(format!("{parties} parties")));
    }
    if hosts.is_empty() {
        return Err(Error::config(
            "the coordinator needs at least one host name",
        ));
    }
    std::fs::create_dir_all(dir)?;
    let ca_key = KeyPair::generate().map_err(tls)?;
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(tls)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.distinguished_name
        .push(DnType::CommonName, "hekit-mpc session CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).map_err(tls)?;
    std::fs::write(dir.join("ca.pem"), ca_cert.pem())?;
    write_private(&dir.join("ca.key"), &ca_key.serialize_pem())?;

    let key = KeyPair::generate().map_err(tls)?;
    let mut p = CertificateParams::new(hosts.to_vec()).map_err(tls)?;
    p.distinguished_name
        .push(DnType::CommonName, "hekit-mpc coordinator");
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let cert = p.signed_by(&key, &ca_cert, &ca_key).map_err(tls)?;
    std::fs::write(dir.join("coordinator.pem"), cert.pem())?;
    write_private(&dir.join("coordinator.key"), &key.serialize_pem())?;

    for id in 1..=parties {
        let key = KeyPair::generate().map_err(tls)?;
        let mut p = CertificateParams::new(vec![party_dns_name(id)]).map_err(tls)?;
        p.distinguished_name
            .push(DnType::CommonName, format!("hekit-mpc party {id}"));
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let cert = p.signed_by(&key, &ca_cert, &ca_key).map_err(tls)?;
        std::fs::write(dir.join(format!("party-{id}.pem")), cert.pem())?;
        write_private(&dir.join(format!("party-{id}.key")), &key.serialize_pem())?;
    }
    Ok(())
}

/// Whether `ee` is valid for party `id`'s name `party-<id>.hekit-mpc`.
fn names_party(ee: &webpki::EndEntityCert<'_>, id: u32) -> bool {
    ServerName::try_from(party_dns_name(id))
        .is_ok_and(|name| ee.verify_is_valid_for_subject_name(&name).is_ok())
}

/// Why a party certificate was refused by [`SessionCa::verify_party_cert`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CertFault {
    /// Not a parseable X.509 certificate.
    Malformed(String),
    /// Does not chain to the session CA (for client authentication).
    Untrusted(String),
    /// Chains to the CA but does not name the expected party.
    WrongName,
}

/// Signature algorithms accepted in certificate chains (webpki, ring).
static CHAIN_ALGS: &[&dyn rustls_pki_types::SignatureVerificationAlgorithm] = &[
    webpki::ring::ECDSA_P256_SHA256,
    webpki::ring::ECDSA_P256_SHA384,
    webpki::ring::ECDSA_P384_SHA256,
    webpki::ring::ECDSA_P384_SHA384,
    webpki::ring::ED25519,
    webpki::ring::RSA_PKCS1_2048_8192_SHA256,
    webpki::ring::RSA_PKCS1_2048_8192_SHA384,
    webpki::ring::RSA_PKCS1_2048_8192_SHA512,
];

/// The session CA: the trust anchor of party certificates.
#[derive(Clone, Debug)]
pub struct SessionCa {
    anchor: TrustAnchor<'static>,
    fingerprint: [u8; 32],
}

impl SessionCa {
    /// The CA of the first certificate in PEM `pem` (`ca.pem`).
    pub fn from_pem(pem: &[u8]) -> Result<Self> {
        let der = CertificateDer::from_pem_slice(pem)
            .map_err(|e| Error::Tls(format!("session CA certificate: {e}")))?;
        Self::from_der(&der)
    }

    /// The CA of DER certificate `der`.
    pub fn from_der(der: &CertificateDer<'_>) -> Result<Self> {
        let anchor = webpki::anchor_from_trusted_cert(der)
            .map_err(|e| Error::Tls(format!("session CA certificate: {e}")))?
            .to_owned();
        Ok(Self {
            anchor,
            fingerprint: Sha256::digest(der.as_ref()).into(),
        })
    }

    /// SHA-256 of the CA certificate (DER).
    pub fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }

    /// Verifies that `cert` chains to this CA (client authentication, now)
    /// and names party `id`; returns the parsed certificate (whose public
    /// key then verifies the party's signatures).
    pub fn verify_party_cert<'a>(
        &self,
        cert: &'a CertificateDer<'a>,
        id: u32,
    ) -> std::result::Result<webpki::EndEntityCert<'a>, CertFault> {
        let ee = webpki::EndEntityCert::try_from(cert)
            .map_err(|e| CertFault::Malformed(e.to_string()))?;
        ee.verify_for_usage(
            CHAIN_ALGS,
            std::slice::from_ref(&self.anchor),
            &[],
            UnixTime::now(),
            webpki::KeyUsage::client_auth(),
            None,
            None,
        )
        .map_err(|e| CertFault::Untrusted(e.to_string()))?;
        if !names_party(&ee, id) {
            return Err(CertFault::WrongName);
        }
        Ok(ee)
    }
}

/// The party id named by a (CA-verified) client certificate: the unique
/// `id ∈ 1..=parties` whose `party-<id>.hekit-mpc` name the certificate is
/// valid for.
pub fn party_id(cert: &CertificateDer<'_>, parties: u32) -> Result<u32> {
    let ee = webpki::EndEntityCert::try_from(cert).map_err(tls)?;
    let mut found = None;
    for id in 1..=parties {
        if names_party(&ee, id) {
            if found.is_some() {
                return Err(Error::Tls("certificate names several parties".into()));
            }
            found = Some(id);
        }
    }
    found.ok_or_else(|| Error::Tls(format!("certificate names no party in 1..={parties}")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn party_certificates_name_their_party() {
        let dir = std::env::temp_dir().join(format!("hekit-mpc-certs-{}", std::process::id()));
        generate(&dir, 3, &["localhost".into(), "127.0.0.1".into()]).unwrap();
        for id in 1..=3u32 {
            let pem = std::fs::read_to_string(dir.join(format!("party-{id}.pem"))).unwrap();
            let der = pem_to_der(&pem);
            assert_eq!(party_id(&CertificateDer::from(der), 3).unwrap(), id);
        }
        let pem = std::fs::read_to_string(dir.join("coordinator.pem")).unwrap();
        assert!(party_id(&CertificateDer::from(pem_to_der(&pem)), 3).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }

    fn pem_to_der(pem: &str) -> Vec<u8> {
        let b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        base64_decode(&b64)
    }

    fn base64_decode(s: &str) -> Vec<u8> {
        let val = |c: u8| -> u32 {
            match c {
                b'A'..=b'Z' => (c - b'A') as u32,
                b'a'..=b'z' => (c - b'a' + 26) as u32,
                b'0'..=b'9' => (c - b'0' + 52) as u32,
                b'+' => 62,
                _ => 63,
            }
        };
        let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
        let mut out = Vec::new();
        for chunk in bytes.chunks(4) {
            let mut acc = 0u32;
            for (i, &c) in chunk.iter().enumerate() {
                acc |= val(c) << (18 - 6 * i);
            }
            let n = chunk.len() * 6 / 8;
            for i in 0..n {
                out.push((acc >> (16 - 8 * i)) as u8);
            }
        }
        out
    }
}
