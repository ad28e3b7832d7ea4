//! The one signing scheme of webhooks, used to check what partners send and to sign what
//! Backroom sends.
//!
//! A delivery carries two headers:
//!
//! ```text
//! Backroom-Timestamp: 1764151200
//! Backroom-Signature: v1=5f0c…e2, v1=a91b…07
//! ```
//!
//! where each `v1=` value is the lower-case hex of `HMAC-SHA256(secret, "<timestamp>.<raw body>")`.
//! A sender holding several secrets (while one is being rotated out) sends one `v1=` value per
//! secret; a receiver accepts the delivery when any value matches any of its secrets. Values of
//! other schemes are ignored. Comparisons are constant-time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::WebhookSecret;

/// The header holding the Unix time (seconds) the delivery was signed at.
pub const TIMESTAMP_HEADER: &str = "backroom-timestamp";
/// The header holding the signatures.
pub const SIGNATURE_HEADER: &str = "backroom-signature";
/// The scheme prefix of a signature value.
const SCHEME: &str = "v1=";

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &WebhookSecret, timestamp: i64, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret.expose().as_bytes()).unwrap_or_else(|_| unreachable!());
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The hex signature of `body` at `timestamp` with one secret.
pub fn sign(secret: &WebhookSecret, timestamp: i64, body: &[u8]) -> String {
    hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
}

/// The `Backroom-Signature` header value: one `v1=` value per secret, comma-separated.
pub fn signature_header(secrets: &[WebhookSecret], timestamp: i64, body: &[u8]) -> String {
    secrets.iter().map(|s| format!("{SCHEME}{}", sign(s, timestamp, body))).collect::<Vec<_>>().join(",")
}

/// Why a delivery's signature was refused. The messages never show a secret or an expected
/// signature.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// A header is absent.
    #[error("the `{0}` header is missing: sign the delivery (see the Webhooks section of the documentation)")]
    Missing(&'static str),
    /// `Backroom-Timestamp` is not a Unix time in seconds.
    #[error("the `Backroom-Timestamp` header must be the Unix time in whole seconds, such as 1764151200")]
    BadTimestamp,
    /// `Backroom-Signature` holds no `v1=` value of 64 hex digits.
    #[error("the `Backroom-Signature` header holds no `v1=<64 hex digits>` value")]
    BadSignature,
    /// No signature matches any secret for this timestamp and body.
    #[error("no signature in `Backroom-Signature` matches the body and timestamp with a secret of this source")]
    Mismatch,
    /// The signature matches, but the timestamp is too far from now.
    #[error(
        "the delivery was signed at {timestamp}, {distance} s from this server's clock ({now}); at most {tolerance} s are accepted: sign each delivery when sending it"
    )]
    Expired {
        /// The signed timestamp.
        timestamp: i64,
        /// The server's time.
        now: i64,
        /// How far apart they are, in seconds.
        distance: u64,
        /// The tolerance of the source.
        tolerance: u64,
    },
}

/// A delivery whose signature checked out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// The signed timestamp.
    pub timestamp: i64,
    /// What identifies the delivery whatever subset of signatures the sender included: its
    /// signature with the first of the receiver's secrets. Recorded to refuse replays.
    pub receipt: String,
}

/// Checks a delivery: the signature first (so that an unsigned caller learns nothing about the
/// clock), then that `timestamp` lies within `tolerance` seconds of `now` either way.
pub fn verify(
    secrets: &[WebhookSecret],
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
    tolerance: u64,
) -> Result<Verified, SignatureError> {
    let timestamp = timestamp.ok_or(SignatureError::Missing("Backroom-Timestamp"))?;
    let signature = signature.ok_or(SignatureError::Missing("Backroom-Signature"))?;
    let timestamp: i64 = timestamp.trim().parse().map_err(|_| SignatureError::BadTimestamp)?;
    let candidates: Vec<Vec<u8>> = signature
        .split(',')
        .filter_map(|part| part.trim().strip_prefix(SCHEME))
        .filter_map(|value| hex::decode(value.trim()).ok())
        .filter(|bytes| bytes.len() == 32)
        .collect();
    if candidates.is_empty() {
        return Err(SignatureError::BadSignature);
    }
    let matched =
        secrets.iter().any(|secret| candidates.iter().any(|c| mac(secret, timestamp, body).verify_slice(c).is_ok()));
    if !matched {
        return Err(SignatureError::Mismatch);
    }
    let distance = now.abs_diff(timestamp);
    if distance > tolerance {
        return Err(SignatureError::Expired { timestamp, now, distance, tolerance });
    }
    let receipt = secrets.first().map(|s| sign(s, timestamp, body)).unwrap_or_default();
    Ok(Verified { timestamp, receipt })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> WebhookSecret {
        WebhookSecret::new(s)
    }

    #[test]
    fn a_known_vector_signs_as_hmac_sha256_of_timestamp_dot_body() {
        // Computed independently (Python's hmac module): HMAC-SHA256("key", "1.{}").
        let sig = sign(&secret("key"), 1, b"{}");
        assert_eq!(sig, "1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224");
        assert_ne!(sig, sign(&secret("key"), 2, b"{}"));
        assert_ne!(sig, sign(&secret("other"), 1, b"{}"));
    }

    #[test]
    fn any_listed_signature_with_any_secret_verifies() {
        let (old, new) = (secret("old-secret-0123456789"), secret("new-secret-0123456789"));
        let (only_old, only_new) = (std::slice::from_ref(&old), std::slice::from_ref(&new));
        let header = signature_header(only_new, 100, b"body");
        let ok = verify(&[old.clone(), new.clone()], Some("100"), Some(&format!("v0=abc, {header}")), b"body", 100, 5)
            .expect("rotated secret verifies");
        assert_eq!(ok.receipt, sign(&old, 100, b"body"), "the receipt does not depend on which secret signed");
        assert_eq!(verify(only_old, Some("100"), Some(&header), b"body", 100, 5), Err(SignatureError::Mismatch));
        assert_eq!(verify(only_new, Some("100"), Some(&header), b"tampered", 100, 5), Err(SignatureError::Mismatch));
        assert_eq!(verify(only_new, Some("100"), Some("v1=zz"), b"body", 100, 5), Err(SignatureError::BadSignature));
        assert_eq!(
            verify(only_new, None, Some(&header), b"body", 100, 5),
            Err(SignatureError::Missing("Backroom-Timestamp"))
        );
        assert_eq!(verify(only_new, Some("soon"), Some(&header), b"body", 100, 5), Err(SignatureError::BadTimestamp));
        assert!(matches!(
            verify(&[new], Some("100"), Some(&header), b"body", 106, 5),
            Err(SignatureError::Expired { distance: 6, .. })
        ));
    }
}
