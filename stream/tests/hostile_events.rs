//! Hostile events for the stream processor's decoder (proptest, bounded cases): arbitrary
//! bytes never panic it, and events built field by field from valid and invalid values are
//! accepted exactly when the schema's rules (stream/src/event.rs, worked out here on their own)
//! say so; an accepted event reads back the same from its own JSON.

use lake_stream::event::{Event, EventType};
use proptest::prelude::*;
use serde_json::{Value, json};

/// A field's value and whether the schema accepts it.
fn valued<T: Into<Value>>(value: T, valid: bool) -> (Value, bool) {
    (value.into(), valid)
}

fn version() -> impl Strategy<Value = (Value, bool)> {
    prop_oneof![
        20 => Just(valued(1, true)),
        1 => Just(valued(2, false)),
        1 => Just(valued(0, false)),
        1 => Just(valued("1", false)),
    ]
}

/// (value, valid, is a purchase)
fn kind() -> impl Strategy<Value = (Value, bool, bool)> {
    prop_oneof![
        4 => Just((json!("page_vue"), true, false)),
        4 => Just((json!("ajout_panier"), true, false)),
        8 => Just((json!("achat"), true, true)),
        4 => Just((json!("panier_abandonne"), true, false)),
        1 => Just((json!("ACHAT"), false, false)),
        1 => Just((json!("achat "), false, false)),
        1 => Just((json!(3), false, false)),
        1 => "[a-z_]{0,12}".prop_map(|s| {
            let known = EventType::from_name(&s);
            (json!(s), known.is_some(), known == Some(EventType::Achat))
        }),
    ]
}

fn time() -> impl Strategy<Value = (Value, bool)> {
    prop_oneof![
        8 => Just(valued("2026-11-29T10:00:00.250Z", true)),
        8 => Just(valued("2026-11-29T10:00:00+01:00", true)),
        1 => Just(valued("2026-13-01T00:00:00Z", false)),
        1 => Just(valued("2026-11-29 10:00:00", false)),
        1 => Just(valued("", false)),
        1 => Just(valued(1_764_410_400_250_i64, false)),
    ]
}

/// A required text field: blank, missing (null) or not a string is refused.
fn required_text() -> impl Strategy<Value = (Value, bool)> {
    prop_oneof![
        16 => "[a-zA-Z0-9-]{1,12}".prop_map(|s| valued(s, true)),
        4 => Just(valued("Écharpe \u{0}", true)),
        1 => Just(valued("   ", false)),
        1 => Just(valued("", false)),
        1 => Just((Value::Null, false)),
        1 => Just(valued(12, false)),
    ]
}

fn montant() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        4 => Just(None),
        2 => Just(Some(Value::Null)),
        8 => (1i64..10_000_000).prop_map(|c| Some(json!(c as f64 / 100.0))),
        1 => Just(Some(json!(0.0))),
        1 => Just(Some(json!(-5.0))),
        1 => Just(Some(json!("41.50"))),
    ]
}

fn id_client() -> impl Strategy<Value = (Value, bool)> {
    prop_oneof![
        4 => Just((Value::Null, true)),
        8 => any::<i64>().prop_map(|n| valued(n, true)),
        1 => Just(valued("12", false)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: lake_testkit::proptest_cases(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_bytes_never_panic_the_decoder(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = Event::parse(&bytes);
    }

    #[test]
    fn an_event_is_accepted_exactly_when_its_fields_follow_the_rules(
        version in version(),
        kind in kind(),
        time in time(),
        event_id in required_text(),
        session_id in required_text(),
        pays in required_text(),
        montant in montant(),
        id_client in id_client(),
        extra_field in prop::bool::weighted(0.1),
    ) {
        let mut object = json!({
            "version": version.0,
            "event_id": event_id.0,
            "event_time": time.0,
            "session_id": session_id.0,
            "id_client": id_client.0,
            "type": kind.0,
            "produit": "Écharpe",
            "pays": pays.0,
        });
        if let Some(m) = &montant {
            object["montant"] = m.clone();
        }
        if extra_field {
            object["inconnu"] = json!(1);
        }
        let is_purchase = kind.2;
        let montant_ok = match &montant {
            // A purchase needs a positive amount; no other event may carry one.
            Some(Value::Number(n)) => is_purchase && n.as_f64().is_some_and(|m| m > 0.0),
            Some(Value::Null) | None => !is_purchase,
            Some(_) => false,
        };
        let expected = version.1 && kind.1 && time.1 && event_id.1 && session_id.1 && pays.1
            && id_client.1 && montant_ok && !extra_field;

        let bytes = serde_json::to_vec(&object).expect("json");
        let parsed = Event::parse(&bytes);
        prop_assert_eq!(parsed.is_ok(), expected, "{} gave {:?}", object, parsed);
        if let Ok(event) = parsed {
            prop_assert_eq!(Event::parse(event.to_json().as_bytes()), Ok(event));
        }
    }
}
