//! The e-commerce event, version 1: JSON on the wire, validated on read.
//!
//! ```json
//! {"version": 1, "event_id": "…uuid…", "event_time": "2026-11-29T10:00:00.250Z",
//!  "session_id": "s-42", "id_client": 1234, "type": "achat",
//!  "produit": "Écharpe", "montant": 41.5, "pays": "France"}
//! ```
//!
//! `id_client` is NULL for an anonymous visitor; `produit` is set for every type but a page view
//! of the home page (NULL); `montant` is set for purchases only, and required there. A version
//! other than 1 is refused, so a newer producer cannot be misread silently.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

/// The schema version this code writes and reads.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventType {
    PageVue,
    AjoutPanier,
    Achat,
    PanierAbandonne,
}

impl EventType {
    pub const ALL: [EventType; 4] = [
        EventType::PageVue,
        EventType::AjoutPanier,
        EventType::Achat,
        EventType::PanierAbandonne,
    ];

    /// The wire name (`page_vue`, …).
    pub fn name(self) -> &'static str {
        match self {
            EventType::PageVue => "page_vue",
            EventType::AjoutPanier => "ajout_panier",
            EventType::Achat => "achat",
            EventType::PanierAbandonne => "panier_abandonne",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// One event, as the processor uses it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub event_id: String,
    /// Milliseconds since the Unix epoch (UTC).
    pub event_time_ms: i64,
    pub session_id: String,
    pub id_client: Option<i64>,
    pub kind: EventType,
    pub produit: Option<String>,
    /// In cents; purchases only.
    pub montant_cents: Option<i64>,
    pub pays: String,
}

/// The wire form.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    version: u32,
    event_id: String,
    event_time: String,
    session_id: String,
    id_client: Option<i64>,
    #[serde(rename = "type")]
    kind: String,
    produit: Option<String>,
    montant: Option<f64>,
    pays: String,
}

/// Why an event was refused (sent to the dead-letter topic with this text).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Invalid {
    #[error("malformed JSON: {0}")]
    Malformed(String),
    #[error("schema version {0} is not supported (this processor reads version {SCHEMA_VERSION})")]
    Version(u32),
    #[error("unknown type {0:?} (expected page_vue, ajout_panier, achat or panier_abandonne)")]
    UnknownType(String),
    #[error("event_time {0:?} is not an RFC 3339 timestamp")]
    Time(String),
    #[error("{0}")]
    Rule(String),
}

impl Event {
    /// Reads and validates one message.
    pub fn parse(bytes: &[u8]) -> Result<Self, Invalid> {
        let wire: Wire =
            serde_json::from_slice(bytes).map_err(|e| Invalid::Malformed(e.to_string()))?;
        if wire.version != SCHEMA_VERSION {
            return Err(Invalid::Version(wire.version));
        }
        let kind = EventType::from_name(&wire.kind).ok_or(Invalid::UnknownType(wire.kind))?;
        let event_time_ms = DateTime::parse_from_rfc3339(&wire.event_time)
            .map_err(|_| Invalid::Time(wire.event_time.clone()))?
            .timestamp_millis();
        let rule = |text: &str| Err(Invalid::Rule(text.to_string()));
        if wire.event_id.trim().is_empty() {
            return rule("event_id is empty");
        }
        if wire.session_id.trim().is_empty() {
            return rule("session_id is empty");
        }
        if wire.pays.trim().is_empty() {
            return rule("pays is empty");
        }
        let montant_cents = match (kind, wire.montant) {
            (EventType::Achat, None) => return rule("a purchase (achat) needs a montant"),
            (EventType::Achat, Some(m)) if !m.is_finite() || m <= 0.0 => {
                return Err(Invalid::Rule(format!(
                    "montant {m} is not a positive amount"
                )));
            }
            (EventType::Achat, Some(m)) => Some((m * 100.0).round() as i64),
            (_, Some(_)) => return rule("only a purchase (achat) carries a montant"),
            (_, None) => None,
        };
        Ok(Event {
            event_id: wire.event_id,
            event_time_ms,
            session_id: wire.session_id,
            id_client: wire.id_client,
            kind,
            produit: wire.produit,
            montant_cents,
            pays: wire.pays,
        })
    }

    /// The wire form of this event.
    pub fn to_json(&self) -> String {
        let wire = Wire {
            version: SCHEMA_VERSION,
            event_id: self.event_id.clone(),
            event_time: format_time(self.event_time_ms),
            session_id: self.session_id.clone(),
            id_client: self.id_client,
            kind: self.kind.name().to_string(),
            produit: self.produit.clone(),
            montant: self.montant_cents.map(|c| c as f64 / 100.0),
            pays: self.pays.clone(),
        };
        // A struct of strings and numbers always serialises.
        serde_json::to_string(&wire).unwrap_or_default()
    }
}

/// `2026-11-29T10:00:00.250Z`.
pub fn format_time(ms: i64) -> String {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_are_named_as_the_api_serves_them() {
        assert_eq!(
            EventType::ALL.map(EventType::name),
            lake_mongo::stream::EVENT_TYPES
        );
    }

    fn purchase() -> Event {
        Event {
            event_id: "e-1".into(),
            event_time_ms: 1_764_410_400_250,
            session_id: "s-1".into(),
            id_client: Some(12),
            kind: EventType::Achat,
            produit: Some("Écharpe".into()),
            montant_cents: Some(4150),
            pays: "France".into(),
        }
    }

    #[test]
    fn an_event_reads_back_as_written() {
        let json = purchase().to_json();
        assert!(
            json.contains(r#""event_time":"2025-11-29T10:00:00.250Z""#),
            "{json}"
        );
        assert!(json.contains(r#""type":"achat""#), "{json}");
        assert_eq!(Event::parse(json.as_bytes()), Ok(purchase()));
    }

    #[test]
    fn bad_events_are_refused_with_the_reason() {
        let good = purchase().to_json();
        let cases = [
            ("{not json".to_string(), "malformed JSON"),
            (
                good.replace(r#""type":"achat""#, r#""type":"clic""#),
                "unknown type \"clic\"",
            ),
            (
                good.replace(r#","pays":"France""#, ""),
                "missing field `pays`",
            ),
            (
                good.replace(r#""montant":41.5"#, r#""montant":null"#),
                "needs a montant",
            ),
            (
                good.replace(r#""montant":41.5"#, r#""montant":-3.0"#),
                "not a positive amount",
            ),
            (
                good.replace(r#""version":1"#, r#""version":2"#),
                "schema version 2",
            ),
            (
                good.replace("2025-11-29T10:00:00.250Z", "hier"),
                "not an RFC 3339",
            ),
            (
                good.replace(r#""session_id":"s-1""#, r#""session_id":"""#),
                "session_id is empty",
            ),
            (
                good.replace(r#""pays":"France""#, r#""pays":"France","extra":1"#),
                "unknown field `extra`",
            ),
        ];
        for (message, reason) in cases {
            let refused = Event::parse(message.as_bytes()).expect_err(&message);
            assert!(refused.to_string().contains(reason), "{message}: {refused}");
        }
    }

    #[test]
    fn only_purchases_carry_an_amount() {
        let mut view = purchase();
        view.kind = EventType::PageVue;
        let json = view.to_json();
        let refused = Event::parse(json.as_bytes()).expect_err("a view with an amount");
        assert!(refused.to_string().contains("only a purchase"), "{refused}");
    }
}
