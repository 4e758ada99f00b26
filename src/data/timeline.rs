//! The data's timeline (docs/data.md#timeline-format): changes scheduled on the sandbox clock,
//! read from `timeline.ndjson` and `*.timeline.ndjson` files beside the resources, one change per
//! line. Every problem is a start-up error naming the file and line.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::loader::LoadError;
use super::validate::is_valid_id;
use crate::fhir::live::{Change, ChangeKind, Origin};
use crate::fhir::prior_auth::{DecisionRequest, UseRequest};
use crate::fhir::search_params;

/// When a scheduled change is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// At this instant.
    At(OffsetDateTime),
    /// This long after the server starts (its sandbox clock at start-up).
    After(Duration),
}

/// A change of the timeline, before the server's start fixes `After` to an instant.
#[derive(Debug, Clone, PartialEq)]
pub struct Scheduled {
    pub when: When,
    /// The change, with `at` still to be set.
    change: Change,
}

impl Scheduled {
    /// The change, due at its instant for a server started at `start`.
    pub fn resolve(&self, start: OffsetDateTime) -> Change {
        let at = match self.when {
            When::At(at) => at,
            When::After(after) => start + after,
        };
        Change {
            at,
            ..self.change.clone()
        }
    }
}

/// One line, as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    #[serde(default)]
    at: Option<String>,
    #[serde(default)]
    after: Option<String>,
    #[serde(default)]
    note: Option<String>,
    #[serde(default)]
    resource: Option<Value>,
    #[serde(default)]
    prior_authorization: Option<String>,
    #[serde(default)]
    decide: Option<DecisionRequest>,
    #[serde(default, rename = "use")]
    use_units: Option<UseRequest>,
}

/// Every change of one timeline file, in line order.
pub fn parse(name: &str, text: &[u8]) -> Result<Vec<Scheduled>, LoadError> {
    let text =
        std::str::from_utf8(text).map_err(|_| LoadError(format!("{name}: not UTF-8 text")))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let place = format!("{name}:{}", i + 1);
        let error = |what: String| LoadError(format!("{place}: {what}"));
        let parsed: Line =
            serde_json::from_str(line).map_err(|e| error(format!("not a timeline entry: {e}")))?;
        out.push(entry(parsed, &place).map_err(error)?);
    }
    Ok(out)
}

fn entry(line: Line, place: &str) -> Result<Scheduled, String> {
    let when = match (&line.at, &line.after) {
        (Some(at), None) => When::At(
            OffsetDateTime::parse(at, &Rfc3339)
                .map_err(|_| format!("at {at:?} is not an instant with a time zone"))?,
        ),
        (None, Some(after)) => When::After(
            duration(after)
                .ok_or_else(|| format!("after {after:?} is not a duration such as P3D or PT12H"))?,
        ),
        _ => return Err("give exactly one of at (an instant) and after (a duration)".to_owned()),
    };
    let (resource_type, id, kind, generated) = match (
        line.resource,
        line.prior_authorization,
        line.decide,
        line.use_units,
    ) {
        (Some(resource), None, None, None) => {
            let resource_type = resource["resourceType"]
                .as_str()
                .ok_or("the resource has no resourceType")?;
            let (_, def) = search_params::resource(resource_type)
                .ok_or_else(|| format!("{resource_type} is not a type the server serves"))?;
            let id = resource["id"]
                .as_str()
                .filter(|id| is_valid_id(id))
                .ok_or_else(|| format!("the {resource_type} has no valid id"))?
                .to_owned();
            let note = format!("{resource_type}/{id} as given");
            (def.name, id, ChangeKind::Resource(Arc::new(resource)), note)
        }
        (None, Some(id), Some(decide), None) => {
            let change = decide.into_change().map_err(|e| e.to_string())?;
            let note = change.describe();
            (
                "ExplanationOfBenefit",
                id,
                ChangeKind::PriorAuth(change),
                note,
            )
        }
        (None, Some(id), None, Some(used)) => {
            let change = used.into_change();
            let note = change.describe();
            (
                "ExplanationOfBenefit",
                id,
                ChangeKind::PriorAuth(change),
                note,
            )
        }
        _ => {
            return Err(
                "give either resource, or prior_authorization with one of decide and use"
                    .to_owned(),
            );
        }
    };
    Ok(Scheduled {
        when,
        change: Change {
            at: OffsetDateTime::UNIX_EPOCH,
            resource_type,
            id,
            kind,
            origin: Origin::Timeline(place.to_owned()),
            note: line.note.unwrap_or(generated),
        },
    })
}

/// An ISO 8601 duration of weeks, days, hours, minutes and seconds (`P2W`, `P3D`, `PT12H`,
/// `P1DT6H30M`): months and years have no fixed length and are refused.
fn duration(text: &str) -> Option<Duration> {
    let rest = text.strip_prefix('P')?;
    let (date, time) = match rest.split_once('T') {
        Some((date, time)) => (date, Some(time)),
        None => (rest, None),
    };
    let mut total = Duration::ZERO;
    let mut any = false;
    let mut take = |part: &str, units: &[(char, i64)]| -> Option<()> {
        let mut number = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let (_, seconds) = units.iter().find(|(u, _)| *u == c)?;
            let n: i64 = number.parse().ok()?;
            total += Duration::seconds(n.checked_mul(*seconds)?);
            number.clear();
            any = true;
        }
        number.is_empty().then_some(())
    };
    take(date, &[('W', 7 * 86_400), ('D', 86_400)])?;
    if let Some(time) = time {
        if time.is_empty() {
            return None;
        }
        take(time, &[('H', 3_600), ('M', 60), ('S', 1)])?;
    }
    any.then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("P3D"), Some(Duration::days(3)));
        assert_eq!(duration("P2W"), Some(Duration::days(14)));
        assert_eq!(duration("PT12H"), Some(Duration::hours(12)));
        assert_eq!(
            duration("P1DT6H30M"),
            Some(Duration::days(1) + Duration::minutes(390))
        );
        for bad in ["3D", "P", "PT", "P1M", "P1Y", "PT1.5H", "P3", "P3DT"] {
            assert_eq!(duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn entries_and_their_errors() {
        let good = concat!(
            r#"{"after":"P3D","note":"posts","resource":{"resourceType":"Coverage","id":"c"}}"#,
            "\n\n",
            r#"{"at":"2027-01-05T09:00:00Z","prior_authorization":"pa","decide":{"decision":"approve"}}"#,
            "\n",
            r#"{"after":"P9D","prior_authorization":"pa","use":{"units":2}}"#,
        );
        let entries = parse("t.ndjson", good.as_bytes()).unwrap();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].when, When::After(Duration::days(3)));
        let start = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(entries[0].resolve(start).at, start + Duration::days(3));
        assert_eq!(entries[0].resolve(start).note, "posts");
        assert_eq!(
            entries[1].resolve(start).origin,
            Origin::Timeline("t.ndjson:3".into())
        );
        assert_eq!(entries[2].resolve(start).note, "2 units used (item 1)");

        let cases = [
            (
                r#"{"resource":{"resourceType":"Coverage","id":"c"}}"#,
                "exactly one of at",
            ),
            (
                r#"{"after":"P1M","resource":{"resourceType":"Coverage","id":"c"}}"#,
                "not a duration",
            ),
            (
                r#"{"at":"2027-01-05","resource":{"resourceType":"Coverage","id":"c"}}"#,
                "time zone",
            ),
            (
                r#"{"after":"P1D","resource":{"resourceType":"Claim","id":"c"}}"#,
                "not a type",
            ),
            (
                r#"{"after":"P1D","resource":{"resourceType":"Coverage","id":"a b"}}"#,
                "valid id",
            ),
            (
                r#"{"after":"P1D","prior_authorization":"pa"}"#,
                "either resource",
            ),
            (
                r#"{"after":"P1D","prior_authorization":"pa","decide":{"decision":"maybe"}}"#,
                "approve, partial",
            ),
            (
                r#"{"after":"P1D","prior_authorization":"pa","decide":{"decision":"deny"}}"#,
                "needs a reason",
            ),
            (r#"{"after":"P1D","when":"soon"}"#, "unknown field"),
            ("{oops", "not a timeline entry"),
        ];
        for (line, expected) in cases {
            let text = format!("\n{line}\n");
            let err = parse("t.ndjson", text.as_bytes()).unwrap_err();
            assert!(err.0.starts_with("t.ndjson:2: "), "{err}");
            assert!(err.0.contains(expected), "{line}: {err}");
        }
    }
}
