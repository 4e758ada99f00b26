//! A response body as the byte strings it is made of (docs/fhir-api.md#bundles): the bytes a
//! Bundle writes per request (its opening, each entry's `fullUrl` and `search`), and between
//! them each resource's stored JSON, shared with the store rather than copied. The server writes
//! the pieces with vectored writes, so a 300 KB Bundle costs no 300 KB copy per request.

use bytes::Bytes;

/// Written bytes shorter than this are gathered with their neighbours: a piece costs a slot in
/// the vectored write, and copying a few hundred bytes is cheaper than a slot.
const GATHER_BELOW: usize = 512;

#[derive(Debug, Clone, Default)]
pub struct Pieces {
    parts: Vec<Bytes>,
    /// Written bytes not yet made a piece.
    written: Vec<u8>,
    /// The length of `parts`.
    shared_len: usize,
}

impl Pieces {
    pub fn new() -> Self {
        Self::default()
    }

    /// Bytes written for this response.
    pub fn write(&mut self, bytes: &[u8]) {
        self.written.extend_from_slice(bytes);
    }

    /// The buffer that bytes written for this response go to.
    pub fn written(&mut self) -> &mut Vec<u8> {
        &mut self.written
    }

    /// Bytes shared with the store: kept as they are, unless short enough to gather.
    pub fn share(&mut self, bytes: Bytes) {
        if bytes.len() < GATHER_BELOW {
            self.write(&bytes);
            return;
        }
        self.end_written();
        self.shared_len += bytes.len();
        self.parts.push(bytes);
    }

    fn end_written(&mut self) {
        if !self.written.is_empty() {
            let written = std::mem::take(&mut self.written);
            self.shared_len += written.len();
            self.parts.push(Bytes::from(written));
        }
    }

    /// The body's length in bytes.
    pub fn len(&self) -> usize {
        self.shared_len + self.written.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The pieces, in order.
    pub fn into_parts(mut self) -> Vec<Bytes> {
        self.end_written();
        self.parts
    }

    /// The body in one buffer (a copy: for tests and for what must read it whole).
    pub fn to_bytes(&self) -> Bytes {
        let mut whole = Vec::with_capacity(self.len());
        for part in &self.parts {
            whole.extend_from_slice(part);
        }
        whole.extend_from_slice(&self.written);
        Bytes::from(whole)
    }
}

impl From<Bytes> for Pieces {
    fn from(bytes: Bytes) -> Self {
        Pieces {
            shared_len: bytes.len(),
            parts: vec![bytes],
            written: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_bytes_are_kept_and_short_writes_gathered() {
        let stored = Bytes::from(vec![b'x'; 2000]);
        let mut pieces = Pieces::new();
        pieces.write(b"{\"a\":");
        pieces.share(stored.clone());
        pieces.write(b",");
        pieces.share(Bytes::from_static(b"\"short\""));
        pieces.write(b"}");
        assert_eq!(pieces.len(), 5 + 2000 + 1 + 7 + 1);
        let whole = pieces.to_bytes();
        let parts = pieces.into_parts();
        assert_eq!(parts.len(), 3, "the short shared bytes are gathered");
        assert_eq!(parts[1].as_ptr(), stored.as_ptr(), "not copied");
        assert_eq!(parts.concat(), whole.to_vec());
        assert!(whole.starts_with(b"{\"a\":xx") && whole.ends_with(b",\"short\"}"));
        assert!(Pieces::new().into_parts().is_empty());
    }
}
