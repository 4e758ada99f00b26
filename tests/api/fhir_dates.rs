//! Date search (docs/fhir-api.md#dates): every prefix against partial dates, days, and instants, for each date
//! parameter of ExplanationOfBenefit, compared with a range oracle written here from the FHIR R4
//! rules: a date stands for the whole range it covers; `eq` is containment, `ne` its negation,
//! `gt`/`lt` an overlap with the range after/before, `ge`/`le` either, `sa`/`eb` entirely
//! after/before, `ap` an overlap with the search range widened by a tenth (at least a day).

use std::collections::BTreeSet;

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::{Date, Month, OffsetDateTime};

use crate::fhir_support::{ALICE, Fhir, Oracle, fixture, key, match_set, spawn_fixture};

type Range = (i128, i128);

const DAY: i128 = 86_400 * 1_000_000_000;
const OPEN_START: i128 = i128::MIN / 4;
const OPEN_END: i128 = i128::MAX / 4;

fn midnight(date: Date) -> i128 {
    date.midnight().assume_utc().unix_timestamp_nanos()
}

/// The range a FHIR date stands for, computed with the `time` crate.
fn range(text: &str) -> Range {
    let parts: Vec<&str> = text.split('-').collect();
    if text.contains('T') {
        let t = OffsetDateTime::parse(text, &Rfc3339).unwrap_or_else(|e| panic!("{text}: {e}"));
        let fraction = text
            .split_once('.')
            .map(|(_, f)| f.chars().take_while(|c| c.is_ascii_digit()).count())
            .unwrap_or(0);
        let precision = 10_i128.pow(9 - fraction as u32);
        let start = t.unix_timestamp_nanos();
        return (start, start + precision);
    }
    let year: i32 = parts[0].parse().unwrap();
    match parts.len() {
        1 => (
            midnight(Date::from_calendar_date(year, Month::January, 1).unwrap()),
            midnight(Date::from_calendar_date(year + 1, Month::January, 1).unwrap()),
        ),
        2 => {
            let month = Month::try_from(parts[1].parse::<u8>().unwrap()).unwrap();
            let first = Date::from_calendar_date(year, month, 1).unwrap();
            let next = if month == Month::December {
                Date::from_calendar_date(year + 1, Month::January, 1).unwrap()
            } else {
                Date::from_calendar_date(year, month.next(), 1).unwrap()
            };
            (midnight(first), midnight(next))
        }
        _ => {
            let d = Date::parse(
                text,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .unwrap();
            (midnight(d), midnight(d) + DAY)
        }
    }
}

fn period(p: &Value) -> Option<Range> {
    let start = p["start"].as_str().map(|s| range(s).0);
    let end = p["end"].as_str().map(|e| range(e).1);
    if start.is_none() && end.is_none() {
        return None;
    }
    Some((start.unwrap_or(OPEN_START), end.unwrap_or(OPEN_END)))
}

/// The values of each date parameter, read straight from the CARIN SearchParameter expressions.
fn values(eob: &Value, param: &str) -> Vec<Range> {
    let items = eob["item"].as_array().cloned().unwrap_or_default();
    let mut out = Vec::new();
    match param {
        "service-date" => {
            out.extend(period(&eob["billablePeriod"]));
            for item in &items {
                out.extend(item["servicedDate"].as_str().map(range));
                out.extend(period(&item["servicedPeriod"]));
            }
        }
        "service-start-date" => {
            out.extend(eob["billablePeriod"]["start"].as_str().map(range));
            for item in &items {
                out.extend(item["servicedDate"].as_str().map(range));
                out.extend(item["servicedPeriod"]["start"].as_str().map(range));
            }
        }
        "billable-period-start" => out.extend(eob["billablePeriod"]["start"].as_str().map(range)),
        "created" => out.extend(eob["created"].as_str().map(range)),
        "_lastUpdated" => out.extend(eob["meta"]["lastUpdated"].as_str().map(range)),
        other => panic!("{other}"),
    }
    out
}

fn satisfies(prefix: &str, s: Range, v: Range) -> bool {
    let contained = v.0 >= s.0 && v.1 <= s.1;
    match prefix {
        "" | "eq" => contained,
        "ne" => !contained,
        "gt" => v.1 > s.1,
        "lt" => v.0 < s.0,
        "ge" => v.1 > s.1 || contained,
        "le" => v.0 < s.0 || contained,
        "sa" => v.0 >= s.1,
        "eb" => v.1 <= s.0,
        "ap" => {
            let margin = ((s.1 - s.0) / 10).max(DAY);
            v.0 < s.1 + margin && s.0 - margin < v.1
        }
        other => panic!("{other}"),
    }
}

const PREFIXES: &[&str] = &["", "eq", "ne", "lt", "gt", "le", "ge", "sa", "eb", "ap"];
const VALUES: &[&str] = &[
    "2020",
    "2021",
    "2020-01",
    "2020-03",
    "2021-06",
    "2020-01-01",
    "2020-03-12",
    "2020-12-31",
    "2021-01-02",
    "2021-06-01",
    "2022-02-28",
    "2023-07-04",
    "2021-06-01T08:00:00Z",
    "2021-06-01T12:00:00+02:00",
    "2021-06-01T17:30:00Z",
    "2020-01-15T15:00:00Z",
    "2023-07-05T12:00:00.123Z",
    "2023-07-05T12:00:00.123456789Z",
];

fn expected(oracle: &Oracle, param: &str, prefix: &str, value: &str) -> BTreeSet<String> {
    let s = range(value);
    oracle
        .visible("alice", "ExplanationOfBenefit")
        .into_iter()
        .filter(|k| {
            values(oracle.get(k).unwrap(), param)
                .into_iter()
                .any(|v| satisfies(prefix, s, v))
        })
        .collect()
}

#[tokio::test]
async fn every_prefix_on_every_date_parameter() {
    let app = spawn_fixture().await;
    let fhir = Fhir::new(&app, ALICE, "patient/*.read").await;
    let oracle = Oracle::new(fixture());
    let mut non_trivial = 0;
    for param in [
        "service-date",
        "service-start-date",
        "billable-period-start",
        "created",
        "_lastUpdated",
    ] {
        for value in VALUES {
            for prefix in PREFIXES {
                let want = expected(&oracle, param, prefix, value);
                let encoded = value.replace('+', "%2B");
                let got = match_set(
                    &fhir
                        .search(&format!("ExplanationOfBenefit?{param}={prefix}{encoded}"))
                        .await,
                );
                assert_eq!(got, want, "{param}={prefix}{value}");
                if !want.is_empty() {
                    non_trivial += 1;
                }
            }
        }
    }
    assert!(
        non_trivial > 300,
        "the fixture exercises the prefixes ({non_trivial})"
    );
}

#[tokio::test]
async fn service_dates_read_items_but_billable_period_start_does_not() {
    let app = spawn_fixture().await;
    let fhir = Fhir::new(&app, ALICE, "patient/*.read").await;
    let ids = |b: &Value| -> Vec<String> { crate::fhir_support::matches(b) };
    // eob-a3: billablePeriod starts 2020-12-31, its item was served 2021-01-02.
    let item_day = "2021-01-02";
    let b = fhir
        .search(&format!("ExplanationOfBenefit?service-date={item_day}"))
        .await;
    assert!(ids(&b).contains(&"ExplanationOfBenefit/eob-a3".to_owned()));
    let b = fhir
        .search(&format!(
            "ExplanationOfBenefit?service-start-date={item_day}"
        ))
        .await;
    assert!(ids(&b).contains(&"ExplanationOfBenefit/eob-a3".to_owned()));
    let b = fhir
        .search(&format!(
            "ExplanationOfBenefit?billable-period-start={item_day}"
        ))
        .await;
    assert!(!ids(&b).contains(&"ExplanationOfBenefit/eob-a3".to_owned()));
    let b = fhir
        .search("ExplanationOfBenefit?billable-period-start=2020-12-31")
        .await;
    assert_eq!(ids(&b), ["ExplanationOfBenefit/eob-a3"]);
    // eob-a4 has item dates only.
    let b = fhir
        .search("ExplanationOfBenefit?service-date=2021-06-15")
        .await;
    assert_eq!(ids(&b), ["ExplanationOfBenefit/eob-a4"]);
    let b = fhir
        .search("ExplanationOfBenefit?billable-period-start=2021-06-15")
        .await;
    assert!(ids(&b).is_empty());
    let b = fhir
        .search("ExplanationOfBenefit?billable-period-start:missing=true")
        .await;
    assert_eq!(ids(&b), ["ExplanationOfBenefit/eob-a4"]);
}

#[tokio::test]
async fn an_unencoded_plus_in_a_timezone_is_read_as_plus() {
    let app = spawn_fixture().await;
    let fhir = Fhir::new(&app, ALICE, "patient/*.read").await;
    // 2020-03-20T23:30:00+02:00 is eob-a2's created instant.
    let raw = fhir
        .search("ExplanationOfBenefit?created=2020-03-20T23:30:00+02:00")
        .await;
    let encoded = fhir
        .search("ExplanationOfBenefit?created=2020-03-20T23:30:00%2B02:00")
        .await;
    assert_eq!(match_set(&raw), match_set(&encoded));
    assert_eq!(
        crate::fhir_support::matches(&raw),
        ["ExplanationOfBenefit/eob-a2"]
    );
    let ge = fhir
        .search("ExplanationOfBenefit?created=ge2023-07-05T14:00:00.123+02:00")
        .await;
    assert_eq!(
        crate::fhir_support::matches(&ge),
        ["ExplanationOfBenefit/eob-a7"]
    );
}

#[tokio::test]
async fn repeated_date_parameters_are_and_commas_are_or() {
    let app = spawn_fixture().await;
    let fhir = Fhir::new(&app, ALICE, "patient/*.read").await;
    let oracle = Oracle::new(fixture());
    let and = fhir
        .search("ExplanationOfBenefit?service-date=ge2020-03&service-date=lt2021-06-02")
        .await;
    let want: BTreeSet<String> = expected(&oracle, "service-date", "ge", "2020-03")
        .intersection(&expected(&oracle, "service-date", "lt", "2021-06-02"))
        .cloned()
        .collect();
    assert_eq!(match_set(&and), want);
    let or = fhir
        .search("ExplanationOfBenefit?billable-period-start=2020-01-01,2022-02-28")
        .await;
    let want: BTreeSet<String> = expected(&oracle, "billable-period-start", "eq", "2020-01-01")
        .union(&expected(
            &oracle,
            "billable-period-start",
            "eq",
            "2022-02-28",
        ))
        .cloned()
        .collect();
    assert_eq!(match_set(&or), want);
    assert_eq!(want.len(), 2);
    // The same answers with the patient named, in either form.
    for patient in ["alice", "Patient/alice"] {
        let with = fhir
            .search(&format!(
                "ExplanationOfBenefit?patient={patient}&billable-period-start=2020-01-01,2022-02-28"
            ))
            .await;
        assert_eq!(match_set(&with), want);
    }
    let _ = key;
}
