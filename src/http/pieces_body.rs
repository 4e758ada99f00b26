//! The HTTP body of a response made of pieces (`crate::fhir::pieces::Pieces`, or a gzip body's
//! parts): a few large shared buffers go out as frames of their own, with the exact length up
//! front (`Content-Length`), so hyper writes them with one vectored write and nothing is copied;
//! many pieces are gathered into one buffer first.
//!
//! Why the two: a search whose entries were already written (`crate::fhir` keeps them) is two
//! pieces, its per-request head and the shared entries, and sending both as they are saves a
//! 400 KB copy per request. A Bundle assembled per request is one piece per resource, and one
//! frame per piece was measured slower than one copy: hyper polls the body once per frame and
//! writes at most 16 buffers per `writev`, so a 400 KB Bundle of 140 pieces took more syscalls
//! and more polling (`benches/load.py --only 2`, 3,840-4,326 req/s with p99 52 ms against
//! 5,003-6,172 with p99 20 ms for one buffer; benches/README.md has the runs).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};

use crate::fhir::pieces::Pieces;

/// At most this many pieces go out as frames of their own; more are gathered into one buffer.
const MAX_FRAMES: usize = 4;

struct FramesBody {
    parts: VecDeque<Bytes>,
    remaining: u64,
}

impl http_body::Body for FramesBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let Some(part) = self.parts.pop_front() else {
            return Poll::Ready(None);
        };
        self.remaining = self.remaining.saturating_sub(part.len() as u64);
        Poll::Ready(Some(Ok(Frame::data(part))))
    }

    fn is_end_stream(&self) -> bool {
        self.parts.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining)
    }
}

/// The body that writes `pieces`.
pub fn body(pieces: Pieces) -> Body {
    parts_body(pieces.into_parts())
}

/// The body that writes `parts` in order: as they are if there are few, else gathered.
pub fn parts_body(parts: Vec<Bytes>) -> Body {
    let mut parts: VecDeque<Bytes> = parts.into_iter().filter(|p| !p.is_empty()).collect();
    match parts.len() {
        0 => Body::empty(),
        1 => Body::from(parts.pop_front().unwrap_or_default()),
        n if n <= MAX_FRAMES => {
            let remaining = parts.iter().map(|p| p.len() as u64).sum();
            Body::new(FramesBody { parts, remaining })
        }
        _ => Body::from(parts.make_contiguous().concat()),
    }
}
