//! Bundles written straight from the stored bytes (docs/fhir-api.md): a `searchset` is assembled by
//! concatenating each entry's already-serialised resource, so a page costs no re-serialisation
//! unless `_elements` or `_summary=data` asks for a subset of a resource.

use bytes::Bytes;
use serde_json::Value;

use super::pieces::Pieces;
use super::store::StoredResource;

const SUBSETTED: &str = "http://terminology.hl7.org/CodeSystem/v3-ObservationValue";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Match,
    Include,
}

impl Mode {
    fn code(self) -> &'static str {
        match self {
            Self::Match => "match",
            Self::Include => "include",
        }
    }
}

pub struct BundleWriter {
    pieces: Pieces,
    base: String,
    entries: usize,
}

impl BundleWriter {
    /// Opens a `searchset` Bundle; `base` is the absolute FHIR base for `fullUrl`s.
    pub fn searchset(
        base: &str,
        last_updated: &str,
        total: Option<usize>,
        links: &[(&str, String)],
    ) -> Self {
        let mut pieces = Pieces::new();
        let buf = pieces.written();
        buf.reserve(1024);
        buf.extend_from_slice(b"{\"resourceType\":\"Bundle\",\"meta\":{\"lastUpdated\":");
        push_str(buf, last_updated);
        buf.extend_from_slice(b"},\"type\":\"searchset\"");
        if let Some(total) = total {
            buf.extend_from_slice(format!(",\"total\":{total}").as_bytes());
        }
        if !links.is_empty() {
            buf.extend_from_slice(b",\"link\":[");
            for (i, (relation, url)) in links.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                buf.extend_from_slice(b"{\"relation\":");
                push_str(buf, relation);
                buf.extend_from_slice(b",\"url\":");
                push_str(buf, url);
                buf.push(b'}');
            }
            buf.push(b']');
        }
        BundleWriter {
            pieces,
            base: base.to_owned(),
            entries: 0,
        }
    }

    /// Writes only what follows a searchset's head: `,"entry":[…]}`, or `}` without entries.
    /// Its [`finish`](Self::finish) gives bytes that [`finish_with`](Self::finish_with) puts
    /// after any head, so that the entries can be written once and kept (`super::rendered`).
    pub fn entries_only(base: &str) -> Self {
        BundleWriter {
            pieces: Pieces::new(),
            base: base.to_owned(),
            entries: 0,
        }
    }

    /// The Bundle: this head, then `entries` as an [`entries_only`](Self::entries_only) writer
    /// finished them, shared rather than copied.
    pub fn finish_with(mut self, entries: Bytes) -> Pieces {
        debug_assert_eq!(self.entries, 0, "a head with entries of its own");
        self.pieces.share(entries);
        self.pieces
    }

    fn open_entry(&mut self) {
        let buf = self.pieces.written();
        if self.entries == 0 {
            buf.extend_from_slice(b",\"entry\":[");
        } else {
            buf.push(b',');
        }
        self.entries += 1;
    }

    /// One stored resource, its bytes shared with the store; `json` replaces them when the
    /// resource was subsetted.
    pub fn entry(&mut self, entry: &StoredResource, mode: Mode, json: Option<&[u8]>) {
        self.open_entry();
        let full_url = format!("{}/{}/{}", self.base, entry.resource_type(), entry.id);
        let buf = self.pieces.written();
        buf.extend_from_slice(b"{\"fullUrl\":");
        push_str(buf, &full_url);
        buf.extend_from_slice(b",\"resource\":");
        match json {
            Some(json) => self.pieces.write(json),
            None => self.pieces.share(entry.json()),
        }
        let buf = self.pieces.written();
        buf.extend_from_slice(b",\"search\":{\"mode\":\"");
        buf.extend_from_slice(mode.code().as_bytes());
        buf.extend_from_slice(b"\"}}");
    }

    /// An OperationOutcome about the search itself (`search.mode` `outcome`).
    pub fn outcome(&mut self, outcome: &Value) {
        self.open_entry();
        let buf = self.pieces.written();
        buf.extend_from_slice(b"{\"resource\":");
        buf.extend_from_slice(outcome.to_string().as_bytes());
        buf.extend_from_slice(b",\"search\":{\"mode\":\"outcome\"}}");
    }

    pub fn finish(mut self) -> Pieces {
        let entries = self.entries;
        let buf = self.pieces.written();
        if entries > 0 {
            buf.push(b']');
        }
        buf.push(b'}');
        self.pieces
    }
}

/// One version in a `history` Bundle.
pub struct HistoryEntry<'a> {
    pub version_id: &'a str,
    pub last_updated: Option<super::date::Nanos>,
    pub json: &'a [u8],
}

/// A `history` Bundle of one resource's versions, in the order given (newest first, as FHIR R4
/// http §3.1.0.9 orders them): each entry with its `request` (POST for the first version, PUT
/// for later ones) and `response` (status, ETag, last modified), as FHIR R4 requires of a
/// history entry.
pub fn history<'a>(
    site: &super::compartment::Site,
    resource_type: &str,
    id: &str,
    versions: impl ExactSizeIterator<Item = HistoryEntry<'a>>,
) -> Bytes {
    let now = site
        .now
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let url = format!("{}/{resource_type}/{id}", site.base);
    let mut buf = Vec::with_capacity(8 * 1024);
    buf.extend_from_slice(b"{\"resourceType\":\"Bundle\",\"meta\":{\"lastUpdated\":");
    push_str(&mut buf, &now);
    buf.extend_from_slice(
        format!("}},\"type\":\"history\",\"total\":{}", versions.len()).as_bytes(),
    );
    buf.extend_from_slice(b",\"link\":[{\"relation\":\"self\",\"url\":");
    push_str(&mut buf, &format!("{url}/_history"));
    buf.extend_from_slice(b"}],\"entry\":[");
    for (i, version) in versions.enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        let first = version.version_id == "1";
        let entry_meta = serde_json::json!({
            "request": {
                "method": if first { "POST" } else { "PUT" },
                "url": format!("{resource_type}/{id}"),
            },
            "response": {
                "status": if first { "201 Created" } else { "200 OK" },
                "etag": format!("W/\"{}\"", version.version_id),
                "lastModified": version.last_updated.and_then(super::date::format_instant),
            },
        });
        buf.extend_from_slice(b"{\"fullUrl\":");
        push_str(&mut buf, &url);
        buf.extend_from_slice(b",\"resource\":");
        buf.extend_from_slice(version.json);
        buf.extend_from_slice(b",\"request\":");
        buf.extend_from_slice(entry_meta["request"].to_string().as_bytes());
        buf.extend_from_slice(b",\"response\":");
        buf.extend_from_slice(entry_meta["response"].to_string().as_bytes());
        buf.push(b'}');
    }
    buf.extend_from_slice(b"]}");
    Bytes::from(buf)
}

fn push_str(buf: &mut Vec<u8>, text: &str) {
    // Serialising a &str into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *buf, text);
}

/// A copy of a stored resource with only `elements` (plus `resourceType`, `id` and `meta`), or
/// without its narrative, tagged SUBSETTED as FHIR requires.
pub fn subset(json: &[u8], elements: Option<&[String]>, drop_text: bool) -> Option<Vec<u8>> {
    if elements.is_none() && !drop_text {
        return None;
    }
    let Ok(Value::Object(mut map)) = serde_json::from_slice::<Value>(json) else {
        return None;
    };
    if let Some(elements) = elements {
        map.retain(|key, _| {
            matches!(key.as_str(), "resourceType" | "id" | "meta")
                || elements.iter().any(|e| e == key)
        });
    }
    if drop_text {
        map.remove("text");
    }
    let meta = map
        .entry("meta")
        .or_insert_with(|| Value::Object(serde_json::Map::new()));
    if let Value::Object(meta) = meta {
        let tags = meta
            .entry("tag")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(tags) = tags {
            tags.push(serde_json::json!({"system": SUBSETTED, "code": "SUBSETTED"}));
        }
    }
    serde_json::to_vec(&Value::Object(map)).ok()
}
