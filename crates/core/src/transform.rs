//! The `transform` stage's pure logic, and the injected clock it reads time from.

use serde::{Deserialize, Serialize};
use time::{OffsetDateTime, UtcOffset};

use crate::item::ExecutionId;
use crate::message::ValidMessage;

/// The value of `transformation_applied` in every transform output.
pub const TRANSFORMATION_APPLIED: &str = "uppercase_data_source";

/// A source of the current time. Injected, so the core stays pure and tests control time.
pub trait Clock: Send + Sync {
    /// The current instant.
    fn now(&self) -> OffsetDateTime;
}

/// Wall-clock time, UTC (`OffsetDateTime::now_utc`).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that always returns the same instant (for tests and replays).
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub OffsetDateTime);

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        self.0
    }
}

/// The transform stage's output; stored verbatim as the item's `transformed_data`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransformOutput {
    /// `data_source`, upper-cased (Unicode-aware: `"straße.csv"` becomes `"STRASSE.CSV"`).
    pub data_source: String,
    /// `processing_type`, unchanged.
    pub processing_type: String,
    /// When the transform ran, RFC 3339 in UTC with millisecond precision.
    pub processed_at: String,
    /// The execution id of the message (`{ENVIRONMENT}-esm-{messageId}`).
    pub execution_id: String,
    /// Always [`TRANSFORMATION_APPLIED`].
    pub transformation_applied: String,
}

/// Transforms a validated message.
#[must_use]
pub fn transform(
    message: &ValidMessage,
    execution_id: &ExecutionId,
    now: OffsetDateTime,
) -> TransformOutput {
    TransformOutput {
        data_source: message.data_source().to_uppercase(),
        processing_type: message.processing_type().to_owned(),
        processed_at: format_rfc3339_utc(now),
        execution_id: execution_id.as_str().to_owned(),
        transformation_applied: TRANSFORMATION_APPLIED.to_owned(),
    }
}

/// Formats an instant as RFC 3339 in UTC with millisecond precision, e.g.
/// `2024-05-01T12:00:00.123Z`. Total: instants outside years 0–9999 (which RFC 3339 cannot
/// express) are clamped to the nearest representable one.
#[must_use]
pub fn format_rfc3339_utc(instant: OffsetDateTime) -> String {
    let utc = instant.to_offset(UtcOffset::UTC);
    if utc.year() < 0 {
        return "0000-01-01T00:00:00.000Z".to_owned();
    }
    if utc.year() > 9999 {
        return "9999-12-31T23:59:59.999Z".to_owned();
    }
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        utc.year(),
        u8::from(utc.month()),
        utc.day(),
        utc.hour(),
        utc.minute(),
        utc.second(),
        utc.millisecond()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::validate;
    use time::macros::datetime;

    fn message(data_source: &str) -> ValidMessage {
        let body = serde_json::json!({"data_source": data_source, "processing_type": "standard"});
        validate(&body.to_string()).unwrap()
    }

    #[test]
    fn upper_cases_unicode_aware() {
        let id = ExecutionId::new("dev", "m-1");
        let now = datetime!(2024-05-01 12:00:00.123456 UTC);
        let cases = [
            ("test.csv", "TEST.CSV"),
            ("straße.csv", "STRASSE.CSV"),
            ("ǆ-file", "Ǆ-FILE"),
            ("ﬁle.txt", "FILE.TXT"),
            ("éèê", "ÉÈÊ"),
            ("日本.csv", "日本.CSV"),
            ("ALREADY", "ALREADY"),
        ];
        for (input, expected) in cases {
            let out = transform(&message(input), &id, now);
            assert_eq!(out.data_source, expected, "{input}");
        }
    }

    #[test]
    fn output_has_every_field() {
        let id = ExecutionId::new("dev", "m-1");
        let out = transform(
            &message("straße.csv"),
            &id,
            datetime!(2024-05-01 14:00:00.5 +02:00),
        );
        assert_eq!(
            serde_json::to_value(&out).unwrap(),
            serde_json::json!({
                "data_source": "STRASSE.CSV",
                "processing_type": "standard",
                "processed_at": "2024-05-01T12:00:00.500Z",
                "execution_id": "dev-esm-m-1",
                "transformation_applied": "uppercase_data_source",
            })
        );
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        let cases = [
            (
                datetime!(2024-05-01 12:00:00 UTC),
                "2024-05-01T12:00:00.000Z",
            ),
            (
                datetime!(2024-12-31 23:30:00.9999 -01:00),
                "2025-01-01T00:30:00.999Z",
            ),
            (
                datetime!(0000-01-01 00:00:00 UTC),
                "0000-01-01T00:00:00.000Z",
            ),
            (
                datetime!(9999-12-31 23:59:59.999 UTC),
                "9999-12-31T23:59:59.999Z",
            ),
        ];
        for (instant, expected) in cases {
            assert_eq!(format_rfc3339_utc(instant), expected);
            assert!(OffsetDateTime::parse(
                expected,
                &time::format_description::well_known::Rfc3339
            )
            .is_ok());
        }
    }

    #[test]
    fn fixed_clock_is_fixed() {
        let t = datetime!(2024-05-01 12:00:00 UTC);
        assert_eq!(FixedClock(t).now(), t);
        assert!(SystemClock.now().year() >= 2024);
    }
}
