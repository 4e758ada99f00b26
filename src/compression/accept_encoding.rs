//! Which content coding a response gets: `Accept-Encoding` negotiation (RFC 9110 §12.5.3) between
//! the two codings this server can send, gzip and identity (none), from the header's values as
//! plain strings.
//!
//! The rules, and where each comes from:
//!
//! - **No `Accept-Encoding` field** (no values at all): any coding is acceptable to the user agent
//!   (§12.5.3), but nothing says it can decode one, so the answer is `Identity`, as common
//!   servers do.
//! - **An empty field value** "implies that the user agent does not want any content coding"
//!   (§12.5.3): `Identity`.
//! - **Several fields or values** make one comma-separated list (§5.3); empty list elements are
//!   skipped (§5.6.1).
//! - **Codings are case-insensitive** (§8.4.1), and **`x-gzip` is `gzip`** (§8.4.1.3).
//! - **Weights** (§12.4.2): `;q=` with `0`, `0.5`, `1`, `1.000` (at most three decimals, at most
//!   1); no weight means 1; the parameter name `q` is case-insensitive (§5.6.6); **`q=0` means
//!   "not acceptable"**. An element whose weight is malformed (`q=abc`, `q=1.5`, `q=0.1234`, a
//!   `q` without a value) is ignored, as if the client had not sent it, rather than guessed at;
//!   other parameters are ignored.
//! - **`*`** "matches any available content coding not explicitly listed" (§12.5.3): it gives
//!   gzip its weight unless `gzip` (or `x-gzip`) is listed, and likewise identity unless
//!   `identity` is listed.
//! - **Identity is acceptable by default**, "unless specifically excluded by the Accept-Encoding
//!   header field stating either `identity;q=0` or `*;q=0` without a more specific entry for
//!   `identity`" (§12.5.3).
//! - **Gzip is acceptable only when listed** (as `gzip`, `x-gzip` or through `*`) with a weight
//!   above 0.
//! - **The highest weight wins** (§12.5.3: "the acceptable content coding with the highest
//!   non-zero qvalue is preferred"). Ties go to gzip: the compressed body costs this server
//!   nothing extra and the client said it takes either. Identity that is acceptable only by
//!   default (not listed, no `*`) has no weight of its own and so loses to any acceptable gzip.
//! - **Neither acceptable** (identity excluded and gzip not acceptable): `NotAcceptable`. RFC 9110
//!   says a server "SHOULD send a response without any content coding unless the identity coding
//!   is indicated as unacceptable"; when it is, the caller chooses between 406 and sending
//!   identity anyway (which RFC 7231 moved towards for interoperability).
//! - Unknown codings (`br`, `zstd`, `compress`, junk tokens) are ignored: they cannot change the
//!   answer except through `*`'s "not explicitly listed". Duplicates: the highest weight given
//!   counts (`gzip;q=0, x-gzip` lists gzip as acceptable). Nothing in a header value can panic.

/// What to send, as negotiated from `Accept-Encoding`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseCoding {
    Gzip,
    Identity,
    /// Identity is refused and gzip is not acceptable either.
    NotAcceptable,
}

/// Bodies shorter than this are sent as identity. Below about a kilobyte, a response with its
/// headers already fits in one TCP segment (an MSS of about 1,400 bytes), so compressing it saves
/// no packet or round trip, while the gzip framing (18 bytes, plus 5 per stored block) and the
/// `Content-Encoding` and `Vary` headers eat much of what it would save; 1 KiB is also what
/// common servers and CDNs start compressing at.
pub const MIN_GZIP_LEN: usize = 1024;

/// A weight in thousandths: 0 ..= 1000 (§12.4.2 allows at most three decimals).
type Weight = u16;

/// Negotiates from the `Accept-Encoding` field's values (one string per field line; none when
/// the request has no such field).
pub fn negotiate<'a>(values: impl IntoIterator<Item = &'a str>) -> ResponseCoding {
    let mut present = false;
    let mut gzip: Option<Weight> = None;
    let mut identity: Option<Weight> = None;
    let mut star: Option<Weight> = None;
    for value in values {
        present = true;
        for element in value.split(',') {
            let Some((coding, weight)) = parse_element(element) else {
                continue;
            };
            let slot =
                if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                    &mut gzip
                } else if coding.eq_ignore_ascii_case("identity") {
                    &mut identity
                } else if coding == "*" {
                    &mut star
                } else {
                    continue;
                };
            *slot = Some(slot.map_or(weight, |seen| seen.max(weight)));
        }
    }
    if !present {
        return ResponseCoding::Identity;
    }
    // `*` stands in for whichever of the two is not listed.
    let gzip = gzip.or(star).unwrap_or(0);
    let identity_acceptable = identity.or(star).is_none_or(|w| w > 0);
    // Weight for preference: identity acceptable only by default has none (loses to gzip).
    let identity_weight = identity.or(star).unwrap_or(0);
    match (gzip > 0, identity_acceptable) {
        (true, true) if identity_weight > gzip => ResponseCoding::Identity,
        (true, _) => ResponseCoding::Gzip,
        (false, true) => ResponseCoding::Identity,
        (false, false) => ResponseCoding::NotAcceptable,
    }
}

/// One list element, `coding *( OWS ";" OWS param )`: its coding token and weight, or `None` if
/// it is empty or malformed.
fn parse_element(element: &str) -> Option<(&str, Weight)> {
    let mut parts = element.split(';');
    let coding = parts.next()?.trim_matches(is_ows);
    if coding.is_empty() || !coding.bytes().all(is_tchar) {
        return None;
    }
    let mut weight = 1000;
    for param in parts {
        let (name, value) = match param.split_once('=') {
            Some((name, value)) => (name.trim_matches(is_ows), value.trim_matches(is_ows)),
            None => (param.trim_matches(is_ows), ""),
        };
        if name.eq_ignore_ascii_case("q") {
            weight = parse_qvalue(value)?;
        }
    }
    Some((coding, weight))
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )` (RFC 9110 §12.4.2), in
/// thousandths.
fn parse_qvalue(text: &str) -> Option<Weight> {
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, fraction),
        None => (text, ""),
    };
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Right-pad to thousandths: "5" is 500, "05" is 50.
    let thousandths = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0, |n: Weight, digit| n * 10 + Weight::from(digit - b'0'));
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// Optional whitespace (RFC 9110 §5.6.3): space and horizontal tab.
fn is_ows(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// A token character (RFC 9110 §5.6.2).
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
mod tests {
    use super::ResponseCoding::{Gzip, Identity, NotAcceptable};
    use super::*;

    #[test]
    fn the_table() {
        let cases: &[(&[&str], ResponseCoding)] = &[
            // No field, an empty field, and what browsers and clients send.
            (&[], Identity),
            (&[""], Identity),
            (&["  "], Identity),
            (&["gzip"], Gzip),
            (&["gzip, deflate, br, zstd"], Gzip),
            (&["br"], Identity),
            (&["deflate, br"], Identity),
            // Case, whitespace, the x-gzip alias, several field lines, empty elements.
            (&["GZIP"], Gzip),
            (&["X-Gzip"], Gzip),
            (&["\t gzip \t"], Gzip),
            (&["br", "gzip"], Gzip),
            (&[",, ,gzip,"], Gzip),
            (&["gzip ; Q=0.5"], Gzip),
            // Weights: q=0 refuses; identity preferred only when explicitly weighted higher.
            (&["gzip;q=0"], Identity),
            (&["gzip;q=0.000"], Identity),
            (&["gzip;q=0.001"], Gzip),
            (&["gzip;q=0.5"], Gzip),
            (&["gzip;q=1.0"], Gzip),
            (&["gzip;q=1.000"], Gzip),
            (&["gzip;q=0.5, identity;q=0.8"], Identity),
            (&["gzip;q=0.8, identity;q=0.5"], Gzip),
            (&["gzip;q=0.5, identity;q=0.5"], Gzip),
            (&["gzip, identity"], Gzip),
            (&["identity"], Identity),
            (&["gzip;q=1.0, identity; q=0.5, *;q=0"], Gzip),
            (&["compress;q=0.5, gzip;q=1.0"], Gzip),
            // Refusing identity.
            (&["identity;q=0"], NotAcceptable),
            (&["identity;q=0, gzip"], Gzip),
            (&["gzip;q=0, identity;q=0"], NotAcceptable),
            (&["br, identity;q=0"], NotAcceptable),
            // The wildcard.
            (&["*"], Gzip),
            (&["*;q=0"], NotAcceptable),
            (&["*;q=0, gzip"], Gzip),
            (&["*;q=0, identity"], Identity),
            (&["*;q=0, identity;q=0.1"], Identity),
            (&["*;q=0, gzip;q=0"], NotAcceptable),
            (&["*, gzip;q=0"], Identity),
            (&["*, gzip;q=0, identity;q=0"], NotAcceptable),
            (&["*;q=0.3, identity;q=0.5"], Identity),
            (&["*;q=0.5, gzip;q=0.4"], Identity),
            // Duplicates count at their highest weight.
            (&["gzip;q=0, x-gzip"], Gzip),
            (&["gzip;q=0, gzip;q=0"], Identity),
            // Malformed weights drop their element.
            (&["gzip;q=abc"], Identity),
            (&["gzip;q=1.5"], Identity),
            (&["gzip;q=2"], Identity),
            (&["gzip;q=-1"], Identity),
            (&["gzip;q=0.1234"], Identity),
            (&["gzip;q="], Identity),
            (&["gzip;q"], Identity),
            (&["gzip;q=.5"], Identity),
            (&["gzip;q=0.5.5"], Identity),
            (&["identity;q=x, *;q=0"], NotAcceptable),
            (&["gzip;q=abc, identity;q=0"], NotAcceptable),
            // Other parameters are ignored; junk tokens too.
            (&["gzip;level=9"], Gzip),
            (&["gzip;;"], Gzip),
            (&["gz ip"], Identity),
            (&["\"gzip\""], Identity),
            (&["gzíp, ;q=1, =, ;, *;"], Gzip),
        ];
        for (values, want) in cases {
            assert_eq!(negotiate(values.iter().copied()), *want, "{values:?}");
        }
    }

    #[test]
    fn qvalues() {
        assert_eq!(parse_qvalue("0"), Some(0));
        assert_eq!(parse_qvalue("0."), Some(0));
        assert_eq!(parse_qvalue("0.5"), Some(500));
        assert_eq!(parse_qvalue("0.05"), Some(50));
        assert_eq!(parse_qvalue("0.999"), Some(999));
        assert_eq!(parse_qvalue("1"), Some(1000));
        assert_eq!(parse_qvalue("1.00"), Some(1000));
        assert_eq!(parse_qvalue("1.001"), None);
        assert_eq!(parse_qvalue("00.5"), None);
        assert_eq!(parse_qvalue("+0.5"), None);
        assert_eq!(parse_qvalue(""), None);
    }

    proptest::proptest! {
        /// Any string at all, in any number of field lines, gives an answer.
        #[test]
        fn junk_never_panics(values in proptest::collection::vec(".{0,40}", 0..4)) {
            let _ = negotiate(values.iter().map(String::as_str));
        }

        /// Header-shaped junk: tokens, separators and weights in any order.
        #[test]
        fn header_shaped_junk_never_panics(
            value in r"([a-zA-Z*\-]{0,6}|;|,|=|q|0|1|\.|[0-9]{1,4}| |\t){0,20}"
        ) {
            let _ = negotiate([value.as_str()]);
        }
    }
}
