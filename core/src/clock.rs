//! The clock of the lake's records: manifests, ingest records and serving versions stamp their
//! times as UTC ISO-8601 text to the millisecond, e.g. `2026-11-28T16:01:02.123Z`, which sorts
//! like the instants it names.

/// Now, as the records write it.
pub fn now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn stamps_are_utc_to_the_millisecond() {
        let stamp = super::now();
        assert_eq!(stamp.len(), "2026-11-28T16:01:02.123Z".len(), "{stamp}");
        assert!(
            stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T',
            "{stamp}"
        );
        assert!(
            chrono::DateTime::parse_from_rfc3339(&stamp).is_ok(),
            "{stamp}"
        );
    }
}
