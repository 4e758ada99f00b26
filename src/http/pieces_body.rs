//! The HTTP body of a response made of pieces (`crate::fhir::pieces::Pieces`): each piece is one
//! frame, and the exact length is known up front (`Content-Length`), so hyper writes the pieces
//! with vectored writes, straight from the store's bytes, without gathering them into one buffer.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use http_body::{Frame, SizeHint};

use crate::fhir::pieces::Pieces;

struct PiecesBody {
    parts: VecDeque<Bytes>,
    remaining: u64,
}

impl http_body::Body for PiecesBody {
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

/// The body that writes `pieces` as they are.
pub fn body(pieces: Pieces) -> Body {
    let remaining = pieces.len() as u64;
    let parts: VecDeque<Bytes> = pieces
        .into_parts()
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect();
    match parts.len() {
        // One piece (a read): the plain body, as before.
        0 => Body::empty(),
        1 => Body::from(parts.into_iter().next().unwrap_or_default()),
        _ => Body::new(PiecesBody { parts, remaining }),
    }
}
