//! FHIR date, dateTime and instant values as half-open ranges of time (FHIR R4 §2.1.0.2 and
//! search §3.1.1.4.2 / "date" in the search page): a partial date stands for every instant it
//! covers, so `2020` is all of that year. Used both for indexing resources and for search values.

/// Nanoseconds since 1970-01-01T00:00:00Z: wide enough for years 0001–9999 and 9 fraction digits.
pub type Nanos = i128;

const NANOS_PER_SECOND: Nanos = 1_000_000_000;
const NANOS_PER_DAY: Nanos = 86_400 * NANOS_PER_SECOND;

/// Stand-ins for a Period's missing start or end: far outside any real date.
pub const OPEN_START: Nanos = Nanos::MIN / 4;
pub const OPEN_END: Nanos = Nanos::MAX / 4;

/// `[start, end)`: every instant the value covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateRange {
    pub start: Nanos,
    pub end: Nanos,
}

impl DateRange {
    pub fn overlaps(&self, other: &DateRange) -> bool {
        self.start < other.end && other.start < self.end
    }

    pub fn length(&self) -> Nanos {
        self.end - self.start
    }
}

/// Parses `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, or `YYYY-MM-DDThh:mm[:ss[.f…]][Z|±hh:mm]`.
/// Without a timezone the value is read as UTC (the sandbox's timezone). Fractional seconds may
/// have up to 9 digits. Lenient for search values: a space before the offset is a `+` that a
/// query string decoded as a space.
pub fn parse(text: &str) -> Option<DateRange> {
    let text = text.trim();
    let (date, time) = match text.split_once('T') {
        Some((d, t)) => (d, Some(t)),
        None => (text, None),
    };
    let mut parts = date.split('-');
    let year = digits(parts.next()?, 4)?;
    let month = match parts.next() {
        Some(m) => Some(digits(m, 2)?),
        None => None,
    };
    let day = match parts.next() {
        Some(d) => Some(digits(d, 2)?),
        None => None,
    };
    if parts.next().is_some() || year < 1 {
        return None;
    }
    if let Some(m) = month {
        if !(1..=12).contains(&m) {
            return None;
        }
        if let Some(d) = day {
            if d < 1 || d > days_in_month(year, m) {
                return None;
            }
        }
    }
    match (month, day, time) {
        (None, None, None) => {
            let start = days_from_civil(year, 1, 1) * NANOS_PER_DAY;
            Some(DateRange {
                start,
                end: days_from_civil(year + 1, 1, 1) * NANOS_PER_DAY,
            })
        }
        (Some(m), None, None) => {
            let start = days_from_civil(year, m, 1) * NANOS_PER_DAY;
            Some(DateRange {
                start,
                end: start + i128::from(days_in_month(year, m)) * NANOS_PER_DAY,
            })
        }
        (Some(m), Some(d), None) => {
            let start = days_from_civil(year, m, d) * NANOS_PER_DAY;
            Some(DateRange {
                start,
                end: start + NANOS_PER_DAY,
            })
        }
        (Some(m), Some(d), Some(time)) => parse_time(days_from_civil(year, m, d), time),
        _ => None,
    }
}

/// `hh:mm[:ss[.f…]]` and an optional zone, on the given day.
fn parse_time(day: i128, time: &str) -> Option<DateRange> {
    let zone_at = time.find(['Z', 'z', '+', '-', ' ']);
    let (clock, zone) = match zone_at {
        Some(i) => time.split_at(i),
        None => (time, ""),
    };
    let offset_seconds = parse_zone(zone)?;
    let mut fields = clock.split(':');
    let hour = digits(fields.next()?, 2)?;
    let minute = digits(fields.next()?, 2)?;
    let (second, fraction, precision) = match fields.next() {
        None => (0, 0, 60 * NANOS_PER_SECOND),
        Some(s) => {
            let (whole, frac) = match s.split_once('.') {
                Some((w, f)) => (w, Some(f)),
                None => (s, None),
            };
            let second = digits(whole, 2)?;
            match frac {
                None => (second, 0, NANOS_PER_SECOND),
                Some(f) => {
                    if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) {
                        return None;
                    }
                    let scale = 10_i128.pow(9 - f.len() as u32);
                    let value: i128 = f.parse().ok()?;
                    (second, value * scale, scale)
                }
            }
        }
    };
    if fields.next().is_some() || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let seconds =
        day * 86_400 + i128::from(hour * 3600 + minute * 60 + second) - i128::from(offset_seconds);
    let start = seconds * NANOS_PER_SECOND + fraction;
    Some(DateRange {
        start,
        end: start + precision,
    })
}

fn parse_zone(zone: &str) -> Option<i64> {
    match zone {
        "" | "Z" | "z" => Some(0),
        _ => {
            let sign = match zone.as_bytes().first()? {
                b'+' | b' ' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (h, m) = zone[1..].split_once(':')?;
            let (h, m) = (digits(h, 2)?, digits(m, 2)?);
            if h > 14 || m > 59 {
                return None;
            }
            Some(sign * (h * 3600 + m * 60))
        }
    }
}

/// Exactly `len` ASCII digits.
fn digits(text: &str, len: usize) -> Option<i64> {
    if text.len() != len || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i128 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    i128::from(era * 146_097 + doe - 719_468)
}

/// Seconds since the epoch of a range start, for HTTP dates.
/// An instant as FHIR writes it (RFC 3339, UTC), if it is one `time` can represent.
pub fn format_instant(nanos: Nanos) -> Option<String> {
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()?
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

pub fn unix_seconds(nanos: Nanos) -> i64 {
    i64::try_from(nanos.div_euclid(NANOS_PER_SECOND)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Nanos {
        parse(text).unwrap().start
    }

    #[test]
    fn partial_dates_cover_their_whole_span() {
        let year = parse("2020").unwrap();
        assert_eq!(year.start, at("2020-01-01T00:00:00Z"));
        assert_eq!(year.end, at("2021-01-01T00:00:00Z"));
        let feb = parse("2024-02").unwrap();
        assert_eq!(feb.length(), 29 * NANOS_PER_DAY);
        let day = parse("2024-02-29").unwrap();
        assert_eq!(day.length(), NANOS_PER_DAY);
        assert_eq!(at("1970-01-01"), 0);
    }

    #[test]
    fn times_zones_and_fractions() {
        assert_eq!(at("2020-01-01T10:00:00+02:00"), at("2020-01-01T08:00:00Z"));
        assert_eq!(at("2020-01-01T10:00:00 02:00"), at("2020-01-01T08:00:00Z"));
        assert_eq!(at("2020-01-01T10:00:00-05:30"), at("2020-01-01T15:30:00Z"));
        let nine = parse("2020-01-01T00:00:00.123456789Z").unwrap();
        assert_eq!(nine.start - at("2020-01-01"), 123_456_789);
        assert_eq!(nine.length(), 1);
        assert_eq!(
            parse("2020-01-01T10:00Z").unwrap().length(),
            60 * NANOS_PER_SECOND
        );
    }

    #[test]
    fn garbage_is_refused() {
        for bad in [
            "",
            "20",
            "2020-13",
            "2020-02-30",
            "2021-02-29",
            "2020-01-01T25:00:00Z",
            "2020-01-01T10:00:00+15:00",
            "2020-01-01T10:00:00.1234567890Z",
            "abcd",
            "2020-1-1",
            "2020-01-01T",
            "0000",
            "2020-01-01T10:00:00+0200",
            "٢٠٢٠",
        ] {
            assert!(parse(bad).is_none(), "{bad:?}");
        }
    }
}
