//! gzip on the wire (docs/fhir-api.md#compression): every JSON response (FHIR, discovery, the
//! control API) of at least `MIN_GZIP_LEN` bytes is sent gzipped to a client that accepts it
//! (RFC 9110 §12.5.3, `compression::negotiate`), with `Content-Encoding: gzip`; every JSON
//! response says `Vary: Accept-Encoding`, since its encoding depends on that header. The bytes
//! come from `compression::gzip`: a body already sent once is not compressed again. ETags are
//! weak (`W/"…"`), so one validator holds for both encodings (RFC 9110 §8.8.1). Pages (HTML),
//! `HEAD`, errors without a body and responses that already have a `Content-Encoding` pass as
//! they are. `request_context::layer` calls [`respond`] on every response it sends.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::Response;

use crate::compression::{MIN_GZIP_LEN, ResponseCoding, SegmentCache, gzip_parts, negotiate};
use crate::http::pieces_body::parts_body;

/// The longest JSON body read into memory to compress: every JSON body the server makes is
/// already whole in memory, and far smaller.
const MAX_COMPRESSED_INPUT: usize = 256 * 1024 * 1024;

/// What the request asks of the response's encoding, read before the request is handled.
#[derive(Debug, Clone, Copy)]
pub struct Wanted {
    coding: ResponseCoding,
    is_head: bool,
}

pub fn wanted(request: &Request) -> Wanted {
    Wanted {
        coding: negotiate(
            request
                .headers()
                .get_all(header::ACCEPT_ENCODING)
                .iter()
                .filter_map(|v| v.to_str().ok()),
        ),
        is_head: request.method() == Method::HEAD,
    }
}

/// `response` in the encoding `wanted`, with `Vary`. Called by `request_context::layer` on every
/// response, rather than being a middleware of its own: one layer less on every request
/// (benches/README.md measured the separate layer at 5-10% of the cheapest read).
pub async fn respond(cache: &SegmentCache, wanted: Wanted, mut response: Response) -> Response {
    if response.status() == StatusCode::NOT_MODIFIED {
        // The 304 of a read names what the 200 would vary on (RFC 9110 §15.4.5).
        response
            .headers_mut()
            .append(header::VARY, HeaderValue::from_static("accept-encoding"));
        return response;
    }
    if !is_json(&response) || response.headers().contains_key(header::CONTENT_ENCODING) {
        return response;
    }
    response
        .headers_mut()
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    // Identity when the client refuses every coding the server has too: the one it can read.
    if wanted.is_head || wanted.coding != ResponseCoding::Gzip {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let identity = match frames(body).await {
        Ok(identity) => identity,
        Err(e) => {
            tracing::error!("a response body could not be read to compress it: {e}");
            return Response::from_parts(parts, Body::empty());
        }
    };
    if identity.iter().map(Bytes::len).sum::<usize>() < MIN_GZIP_LEN {
        return Response::from_parts(parts, parts_body(identity));
    }
    let gzipped = gzip_parts(&identity, cache);
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    Response::from_parts(parts, parts_body(gzipped.into_chunks()))
}

/// The body's data frames as they are: a body the server keeps in shared buffers stays those
/// buffers, so that their compressed form is found by the buffer (`gzip_parts`).
async fn frames(mut body: Body) -> Result<Vec<Bytes>, String> {
    use http_body::Body as _;
    let mut frames = Vec::new();
    let mut len = 0usize;
    while let Some(frame) =
        std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await
    {
        let Ok(data) = frame.map_err(|e| e.to_string())?.into_data() else {
            continue; // Trailers: a JSON response has none.
        };
        len += data.len();
        if len > MAX_COMPRESSED_INPUT {
            return Err(format!("longer than {MAX_COMPRESSED_INPUT} bytes"));
        }
        frames.push(data);
    }
    Ok(frames)
}

/// JSON of any kind: `application/json`, `application/fhir+json`, `application/jwk-set+json`…
fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| {
            let media = media.trim().to_ascii_lowercase();
            media == "application/json" || media.ends_with("+json")
        })
}
