//! Signed webhooks: partners push events or documents to `POST /webhooks/{source}` with a
//! signature instead of an API key ([`receive`]), and subscribers are notified of audit entries
//! as they are recorded ([`notify`]). Both directions use the one scheme of [`signature`].

pub mod notify;
pub mod receive;
pub mod signature;

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// A shared secret of a webhook. Its `Debug` output is redacted, and it is never logged or
/// shown by the API.
#[derive(Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct WebhookSecret(String);

impl WebhookSecret {
    /// A secret from its text.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret itself, for signing.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(redacted)")
    }
}

/// What an inbound webhook's body holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BodyKind {
    /// Canonical events, as `POST /v1/events` takes them (JSON, an array, or NDJSON).
    Events,
    /// A partner document in any supported format, as `POST /v1/documents` takes it.
    Document,
}

/// Seconds a signed timestamp may lie from the server's clock, by default.
pub const DEFAULT_TOLERANCE_SECONDS: u64 = 300;

fn default_tolerance() -> u64 {
    DEFAULT_TOLERANCE_SECONDS
}

/// A partner allowed to push to `POST /webhooks/{source}` (`[[webhooks.inbound]]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InboundWebhook {
    /// The name in the path, also recorded as the `source` of every event it sends.
    pub source: String,
    /// The shared secrets; a delivery signed with any of them is accepted (list two while
    /// rotating).
    pub secrets: Vec<WebhookSecret>,
    /// How far (seconds) the signed timestamp may lie from the server's clock, either way.
    #[serde(default = "default_tolerance")]
    pub tolerance_seconds: u64,
    /// `events` or `document`.
    pub body: BodyKind,
}

/// A subscriber notified of audit entries (`[[webhooks.outbound]]`).
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundWebhook {
    /// Its name: the cursor `webhook:<name>` records how far it was notified.
    pub name: String,
    /// Where entries are posted (`http://` or `https://`).
    pub url: String,
    /// The secrets to sign with; each gives one `v1=` signature.
    pub secrets: Vec<WebhookSecret>,
    /// The audit entry kinds to send (`task.decided`, `dead_letter.created`, …), or `*` for all.
    pub kinds: Vec<String>,
}

impl OutboundWebhook {
    /// The kinds it receives, or `None` for every kind.
    pub fn kind_filter(&self) -> Option<&[String]> {
        (!self.kinds.iter().any(|k| k == "*")).then_some(self.kinds.as_slice())
    }

    /// Whether an entry of this kind is sent.
    pub fn wants(&self, kind: &str) -> bool {
        self.kind_filter().is_none_or(|kinds| kinds.iter().any(|k| k == kind))
    }

    /// The name of its durable cursor over the audit chain.
    pub fn cursor(&self) -> String {
        format!("webhook:{}", self.name)
    }
}

/// The `[webhooks]` settings.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhooksConfig {
    /// Partners that push to Backroom.
    pub inbound: Vec<InboundWebhook>,
    /// Subscribers Backroom notifies.
    pub outbound: Vec<OutboundWebhook>,
}

fn is_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 100 && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn check_secrets(at: &str, secrets: &[WebhookSecret]) -> Result<(), String> {
    if secrets.is_empty() {
        return Err(format!("{at}.secrets must list at least one secret"));
    }
    if let Some(i) = secrets.iter().position(|s| s.0.len() < 16) {
        return Err(format!("{at}.secrets[{i}] must be at least 16 characters long"));
    }
    Ok(())
}

impl WebhooksConfig {
    /// Checks every entry; the message names the field (`webhooks.inbound[1].source`) and what
    /// would be accepted. Secrets are never shown.
    pub fn check(&self) -> Result<(), String> {
        let mut sources = BTreeSet::new();
        for (i, w) in self.inbound.iter().enumerate() {
            let at = format!("webhooks.inbound[{i}]");
            if !is_name(&w.source) {
                return Err(format!("{at}.source {:?} must be 1 to 100 letters, digits, '-', '_' or '.'", w.source));
            }
            if !sources.insert(w.source.as_str()) {
                return Err(format!("{at}.source {:?} is configured twice: give each partner one entry", w.source));
            }
            check_secrets(&at, &w.secrets)?;
            if w.tolerance_seconds == 0 {
                return Err(format!("{at}.tolerance_seconds must be at least 1 (default {DEFAULT_TOLERANCE_SECONDS})"));
            }
        }
        let mut names = BTreeSet::new();
        for (i, w) in self.outbound.iter().enumerate() {
            let at = format!("webhooks.outbound[{i}]");
            if !is_name(&w.name) {
                return Err(format!("{at}.name {:?} must be 1 to 100 letters, digits, '-', '_' or '.'", w.name));
            }
            if !names.insert(w.name.as_str()) {
                return Err(format!("{at}.name {:?} is configured twice: names must be unique", w.name));
            }
            match reqwest::Url::parse(&w.url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
                _ => return Err(format!("{at}.url must be an http:// or https:// URL with a host")),
            }
            check_secrets(&at, &w.secrets)?;
            if w.kinds.is_empty() || w.kinds.iter().any(|k| k.trim().is_empty()) {
                return Err(format!(
                    "{at}.kinds must list audit entry kinds such as \"task.decided\", or \"*\" for all"
                ));
            }
        }
        Ok(())
    }

    /// The inbound webhook of a source.
    pub fn inbound(&self, source: &str) -> Option<&InboundWebhook> {
        self.inbound.iter().find(|w| w.source == source)
    }
}

/// A URL as shown by the API and logs: scheme, host, port and path; credentials and the query
/// (which may carry tokens) left out.
pub fn display_url(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(u) => {
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!("{}://{}{port}{}", u.scheme(), u.host_str().unwrap_or(""), u.path())
        }
        Err(_) => "(invalid URL)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_output_and_bad_entries_name_their_field() {
        let w = InboundWebhook {
            source: "acme".into(),
            secrets: vec![WebhookSecret::new("a-very-secret-value-42")],
            tolerance_seconds: 300,
            body: BodyKind::Events,
        };
        assert!(!format!("{w:?}").contains("a-very-secret-value-42"), "{w:?}");
        let config = WebhooksConfig { inbound: vec![w.clone(), w], outbound: vec![] };
        assert!(config.check().unwrap_err().contains("webhooks.inbound[1].source"));
        let short = WebhooksConfig {
            inbound: vec![InboundWebhook {
                source: "acme".into(),
                secrets: vec![WebhookSecret::new("short")],
                tolerance_seconds: 300,
                body: BodyKind::Document,
            }],
            outbound: vec![],
        };
        let err = short.check().unwrap_err();
        assert!(err.contains("webhooks.inbound[0].secrets[0]") && !err.contains("short\""), "{err}");
    }

    #[test]
    fn urls_are_shown_without_credentials_or_query() {
        assert_eq!(
            display_url("https://user:pw@hooks.example.com:8443/in?token=abc"),
            "https://hooks.example.com:8443/in"
        );
    }
}
