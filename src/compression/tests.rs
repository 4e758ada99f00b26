//! Tests of gzip bodies against real decoders: flate2's `GzDecoder` (which checks the trailer's
//! CRC-32 and ISIZE), the system's `gzip` when installed, and the sizes that compressing
//! resources one by one costs on a member's data.

use std::io::{Read, Write};

use bytes::Bytes;
use flate2::read::GzDecoder;
use proptest::prelude::*;

use super::*;

/// Gunzips `body` with flate2 (one member, nothing after it) and checks the trailer by hand too.
fn gunzip(body: &Gzipped) -> Vec<u8> {
    let bytes: Vec<u8> = body.chunks().concat();
    assert_eq!(bytes.len() as u64, body.encoded_len());
    let mut decoder = GzDecoder::new(&bytes[..]);
    let mut out = Vec::new();
    decoder.read_to_end(&mut out).expect("a valid gzip member");
    assert!(decoder.into_inner().is_empty(), "bytes after the member");
    let trailer = &bytes[bytes.len() - 8..];
    assert_eq!(trailer[..4], crc32fast::hash(&out).to_le_bytes());
    assert_eq!(trailer[4..], (out.len() as u32).to_le_bytes());
    assert_eq!(body.crc32(), crc32fast::hash(&out));
    assert_eq!(body.identity_len(), out.len() as u64);
    out
}

/// Deterministic bytes: JSON-like text when `text`, else noise that DEFLATE cannot shrink.
fn sample(len: usize, seed: u64, text: bool) -> Vec<u8> {
    let mut x = seed | 1;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    if !text {
        return (0..len).map(|_| next() as u8).collect();
    }
    const WORDS: &[&str] = &[
        "{\"resourceType\":\"Observation\",",
        "\"status\":\"final\",",
        "\"code\":{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"8867-4\"}]},",
        "\"valueQuantity\":{\"value\":",
        "72",
        ",\"unit\":\"beats/minute\"}",
        "\"id\":\"",
        "}",
    ];
    let mut out = Vec::with_capacity(len + 80);
    while out.len() < len {
        let word = WORDS[(next() % WORDS.len() as u64) as usize];
        out.extend_from_slice(word.as_bytes());
        out.extend_from_slice(format!("{}", next() % 1000).as_bytes());
    }
    out.truncate(len);
    out
}

/// How a piece goes into the body.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Segment,
    Piece,
    Slice,
}

fn piece_strategy() -> impl Strategy<Value = (Kind, Vec<u8>)> {
    let kind = prop_oneof![Just(Kind::Segment), Just(Kind::Piece), Just(Kind::Slice)];
    // Empty, tiny, around the coalescing threshold, a resource's size, and over one stored block.
    let len = prop_oneof![
        3 => 0usize..8,
        3 => 8usize..2_000,
        1 => (COALESCE_FROM - 2)..(COALESCE_FROM + 2),
        2 => 2_000usize..20_000,
        1 => 65_530usize..140_000,
    ];
    (kind, len, any::<u64>(), any::<bool>())
        .prop_map(|(kind, len, seed, text)| (kind, sample(len, seed, text)))
}

const COALESCE_FROM: usize = COALESCE_BELOW;

fn assemble(pieces: &[(Kind, Vec<u8>)]) -> Gzipped {
    let mut body = GzipBody::new();
    for (kind, bytes) in pieces {
        match kind {
            Kind::Segment => body.segment(&Segment::compress(bytes)),
            Kind::Piece => body.piece(Bytes::copy_from_slice(bytes)),
            Kind::Slice => body.piece_slice(bytes),
        }
    }
    body.finish()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any sequence of pieces, zero included, gunzips to their concatenation.
    #[test]
    fn a_body_gunzips_to_its_pieces(pieces in proptest::collection::vec(piece_strategy(), 0..10)) {
        let body = assemble(&pieces);
        let want: Vec<u8> = pieces.iter().flat_map(|(_, b)| b.iter().copied()).collect();
        prop_assert_eq!(gunzip(&body), want);
    }
}

#[test]
fn zero_pieces_make_an_empty_gzip_member() {
    let body = GzipBody::new().finish();
    assert_eq!(gunzip(&body), b"");
    // Header, the final empty stored block, CRC 0, ISIZE 0.
    assert_eq!(body.encoded_len(), 10 + 5 + 8);
}

#[test]
fn a_segment_reused_in_two_bodies_at_different_places_stays_correct() {
    let resource = sample(30_000, 7, true);
    let segment = Segment::compress(&resource);

    let mut first = GzipBody::new();
    first.segment(&segment);
    first.piece_slice(b",");
    first.segment(&segment);
    let first = first.finish();

    let mut second = GzipBody::new();
    second.piece(Bytes::from_static(b"{\"entry\":["));
    second.piece(Bytes::from(sample(70_000, 9, false)));
    second.segment(&segment);
    second.piece_slice(b"]}");
    let second = second.finish();

    assert_eq!(
        gunzip(&first),
        [&resource[..], b",", &resource[..]].concat()
    );
    let mut want = b"{\"entry\":[".to_vec();
    want.extend_from_slice(&sample(70_000, 9, false));
    want.extend_from_slice(&resource);
    want.extend_from_slice(b"]}");
    assert_eq!(gunzip(&second), want);
}

#[test]
fn segments_and_large_pieces_are_shared_not_copied() {
    let segment = Segment::compress(&sample(10_000, 3, true));
    let large = Bytes::from(sample(100_000, 4, false));
    let mut body = GzipBody::new();
    body.piece_slice(b"[");
    body.segment(&segment);
    body.piece(large.clone());
    body.piece_slice(b"]");
    let body = body.finish();
    let pointers: Vec<*const u8> = body.chunks().iter().map(|c| c.as_ptr()).collect();
    assert!(pointers.contains(&segment.deflate().as_ptr()));
    // The large piece is two stored blocks' payloads, both slices of its own buffer.
    assert!(pointers.contains(&large.as_ptr()));
    assert!(pointers.contains(&large[65_535..].as_ptr()));
    // Header and "[" | segment | block header | payload | block header | payload |
    // "]", the final block and the trailer.
    assert_eq!(body.chunks().len(), 7);
}

#[test]
fn small_pieces_share_one_stored_block() {
    let mut body = GzipBody::new();
    for _ in 0..100 {
        body.piece(Bytes::from_static(b"{\"a\":1},"));
    }
    let body = body.finish();
    // Header, one stored block (5 + 800), the final block, the trailer.
    assert_eq!(body.encoded_len(), 10 + 5 + 800 + 5 + 8);
    assert_eq!(gunzip(&body), b"{\"a\":1},".repeat(100));
}

#[test]
fn gzip_whole_round_trips() {
    let json = sample(50_000, 11, true);
    let body = gzip_whole(&json);
    assert_eq!(gunzip(&body), json);
    assert!(body.encoded_len() < json.len() as u64 / 3);
    assert_eq!(gunzip(&gzip_whole(b"")), b"");
}

/// The system's gzip (not Rust, not flate2) agrees; skipped where it is not installed.
#[test]
fn the_system_gzip_agrees() {
    use std::process::{Command, Stdio};
    let pieces = vec![
        (
            Kind::Piece,
            b"{\"resourceType\":\"Bundle\",\"entry\":[".to_vec(),
        ),
        (Kind::Segment, sample(40_000, 21, true)),
        (Kind::Slice, b",".to_vec()),
        (Kind::Piece, sample(80_000, 22, false)),
        (Kind::Segment, sample(3_000, 23, true)),
        (Kind::Segment, Vec::new()),
        (Kind::Slice, b"]}".to_vec()),
    ];
    let want: Vec<u8> = pieces.iter().flat_map(|(_, b)| b.iter().copied()).collect();
    let body: Vec<u8> = assemble(&pieces).chunks().concat();
    let run = |args: &[&str]| {
        let mut child = match Command::new("gzip")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(child) => child,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => panic!("gzip: {e}"),
        };
        let mut stdin = child.stdin.take().unwrap();
        let input = body.clone();
        // Written from another thread so that a full stdout pipe cannot stall the write.
        let writer = std::thread::spawn(move || stdin.write_all(&input));
        let output = child.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(
            output.status.success(),
            "gzip {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Some(output.stdout)
    };
    let Some(_) = run(&["-t"]) else {
        eprintln!("gzip is not installed: skipped");
        return;
    };
    assert_eq!(run(&["-dc"]), Some(want));
}

/// What compressing resources one by one costs: a member's searchset Bundle, each resource a
/// segment and the Bundle's glue stored blocks, against gzip of the whole Bundle at levels 6
/// and 1. `cargo test --lib compression::tests::sizes -- --nocapture` prints the figures.
#[test]
fn sizes_of_members_bundles() {
    for member in ["member-01-jason-argonaut", "member-02-rosa-delgado"] {
        let path = format!("{}/seed-data/{member}.json", env!("CARGO_MANIFEST_DIR"));
        let seed: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let resources: Vec<(String, String, Vec<u8>)> = seed["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let r = &e["resource"];
                let kind = r["resourceType"].as_str().unwrap().to_owned();
                let id = r["id"].as_str().unwrap().to_owned();
                (kind, id, serde_json::to_vec(r).unwrap())
            })
            .collect();

        // Once, as at load.
        let started = std::time::Instant::now();
        let segments: Vec<Segment> = resources.iter().map(|r| Segment::compress(&r.2)).collect();
        let compress_time = started.elapsed();

        // Per request: the glue around each entry, as `BundleWriter` writes it.
        let started = std::time::Instant::now();
        let mut body = GzipBody::new();
        let mut identity = Vec::new();
        let glue = |body: &mut GzipBody, identity: &mut Vec<u8>, text: &str| {
            body.piece_slice(text.as_bytes());
            identity.extend_from_slice(text.as_bytes());
        };
        glue(
            &mut body,
            &mut identity,
            &format!(
                "{{\"resourceType\":\"Bundle\",\"meta\":{{\"lastUpdated\":\"2026-11-23T09:59:01Z\"}},\
                 \"type\":\"searchset\",\"total\":{},\"entry\":[",
                resources.len()
            ),
        );
        let mut pieces = 1;
        for (i, ((kind, id, json), segment)) in resources.iter().zip(&segments).enumerate() {
            let comma = if i == 0 { "" } else { "," };
            glue(
                &mut body,
                &mut identity,
                &format!(
                    "{comma}{{\"fullUrl\":\"https://sandbox.example/fhir/{kind}/{id}\",\"resource\":"
                ),
            );
            body.segment(segment);
            identity.extend_from_slice(json);
            glue(
                &mut body,
                &mut identity,
                ",\"search\":{\"mode\":\"match\"}}",
            );
            pieces += 3;
        }
        glue(&mut body, &mut identity, "]}");
        let body = body.finish();
        let assemble_time = started.elapsed();
        assert_eq!(gunzip(&body), identity);

        let whole = |level: u32| {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
            encoder.write_all(&identity).unwrap();
            encoder.finish().unwrap().len()
        };
        let (level6, level1) = (whole(6), whole(1));
        let segmented = body.encoded_len() as usize;
        println!(
            "{member}: {} resources, {pieces} pieces, {} chunks; identity {} B; \
             segments {segmented} B ({:.1}%), whole level 6 {level6} B ({:.1}%), \
             whole level 1 {level1} B ({:.1}%); segments are {:.2}x level 6's size; \
             compressing the segments {compress_time:?} (once), assembling {assemble_time:?} \
             (debug build)",
            resources.len(),
            body.chunks().len(),
            identity.len(),
            100.0 * segmented as f64 / identity.len() as f64,
            100.0 * level6 as f64 / identity.len() as f64,
            100.0 * level1 as f64 / identity.len() as f64,
            segmented as f64 / level6 as f64,
        );
        // Separate resources lose what they have in common (on this data, most of what level 6
        // finds across a Bundle), but gzip still pays several times over. (A segment that fell
        // back to stored blocks would fail this.)
        assert!(segmented < identity.len() / 3);
    }
}
