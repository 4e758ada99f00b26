//! The input files (the embedded `seed-data/` or a `--data` directory, in name order) and how
//! they are cut into units of work for the loader's threads: a `.json` file is one unit, an
//! `.ndjson` file is read a few MiB at a time, cut after a newline, so that no file is ever
//! held whole and a large file still keeps every thread busy.

use std::borrow::Cow;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};

use super::loader::{DataSource, LoadError};

static SEED_DATA: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/seed-data");

/// Drops the embedded data's pages from memory (docs/data.md#data-sources): once loaded, the
/// store holds its own copy, and the bytes in the binary are only read again by another load,
/// which faults them back in from the executable. Without this, every page of `seed-data/` that
/// loading read stays resident for the life of the process.
pub fn release_embedded() {
    #[cfg(target_os = "linux")]
    release_dir(&SEED_DATA);
}

#[cfg(target_os = "linux")]
fn release_dir(dir: &Dir<'static>) {
    // SAFETY: sysconf only reads a system constant.
    let page = usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096);
    for file in dir.files() {
        let bytes = file.contents();
        let start = bytes.as_ptr() as usize;
        let first = start.div_ceil(page) * page;
        let last = (start + bytes.len()) / page * page;
        if last > first {
            // SAFETY: [first, last) lies inside this file's bytes, which live in the executable's
            // read-only, file-backed mapping: MADV_DONTNEED drops the resident pages, and a later
            // read faults the same bytes back in from the file. Nothing is written or freed.
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    last - first,
                    libc::MADV_DONTNEED,
                );
            }
        }
    }
    for sub in dir.dirs() {
        release_dir(sub);
    }
}

/// About how much of an NDJSON file one unit holds.
const NDJSON_UNIT: usize = 4 << 20;

/// Buffers kept for reuse: enough for every thread's next unit.
const SPARE_BUFFERS: usize = 16;

pub(super) struct InputFile {
    pub name: String,
    /// The size in bytes, as listed.
    pub len: usize,
    content: Content,
}

enum Content {
    Embedded(&'static [u8]),
    Path(PathBuf),
}

impl InputFile {
    /// A file that is not on disk (tests).
    #[cfg(test)]
    pub fn in_memory(name: &str, text: String) -> InputFile {
        Self::from_text(name, text)
    }

    /// A file rewritten before loading (a plan's unlinked claims, `data::unlink`). The text is
    /// kept for the life of the process, as embedded data is: it is small, and loaded once.
    pub fn from_text(name: &str, text: String) -> InputFile {
        InputFile {
            name: name.to_owned(),
            len: text.len(),
            content: Content::Embedded(Box::leak(text.into_boxed_str()).as_bytes()),
        }
    }

    /// The whole file (for error messages that must find something in it: never on the
    /// loading path, which reads files a unit at a time).
    pub fn whole(&self) -> Cow<'static, [u8]> {
        match &self.content {
            Content::Embedded(bytes) => Cow::Borrowed(bytes),
            Content::Path(path) => Cow::Owned(std::fs::read(path).unwrap_or_default()),
        }
    }

    fn is_ndjson(&self) -> bool {
        self.name.ends_with(".ndjson")
    }
}

/// Some resources to parse: a whole JSON file or whole lines of an NDJSON file.
pub(super) struct Unit {
    pub file: u32,
    /// NDJSON: the line number of the first line; 0 for a JSON file.
    pub first_line: u32,
    pub bytes: Cow<'static, [u8]>,
}

impl Unit {
    pub fn is_ndjson(&self) -> bool {
        self.first_line > 0
    }
}

fn is_data_file(name: &str) -> bool {
    (name.ends_with(".json") || name.ends_with(".ndjson")) && !is_timeline_file(name)
}

/// A timeline of changes rather than resources (docs/data.md#timeline-format):
/// `timeline.ndjson`, or any `*.timeline.ndjson`.
fn is_timeline_file(name: &str) -> bool {
    let file_name = name.rsplit(['/', '\\']).next().unwrap_or(name);
    file_name == "timeline.ndjson" || file_name.ends_with(".timeline.ndjson")
}

/// The timeline files, in name order, each read whole (they are small): `(name, text)`.
pub(super) fn timelines(source: &DataSource) -> Result<Vec<(String, Vec<u8>)>, LoadError> {
    if let Some(dir) = embedded_dir(source)? {
        let mut files = Vec::new();
        collect_embedded_by(dir, is_timeline_file, &mut files);
        files.sort_by(|a, b| a.name.cmp(&b.name));
        return Ok(files
            .into_iter()
            .filter_map(|f| match f.content {
                Content::Embedded(bytes) => Some((f.name, bytes.to_vec())),
                Content::Path(_) => None,
            })
            .collect());
    }
    match source {
        DataSource::Embedded | DataSource::EmbeddedFolder(_) => Ok(Vec::new()),
        DataSource::Directory(root) => {
            let mut paths = Vec::new();
            walk_by(root, is_timeline_file, &mut paths)?;
            paths.sort();
            paths
                .into_iter()
                .map(|path| {
                    let name = path.display().to_string();
                    std::fs::read(&path)
                        .map(|bytes| (name.clone(), bytes))
                        .map_err(|e| LoadError(format!("{name}: cannot read: {e}")))
                })
                .collect()
        }
    }
}

/// The folders, at the top of the data, that hold the public provider directory and formulary
/// (docs/data.md#data-sources): their files are not member data.
pub(super) const PUBLIC_FOLDERS: [&str; 2] = ["directory", "formulary"];

/// The folder, at the top of the data, that holds the other plans of a network (the embedded
/// `seed-data/plans/`, docs/plans.md), each a data set of its own: never this plan's member data,
/// so that `--data seed-data` serves the Demo Health Plan's data as the embedded copy does.
const PLANS_FOLDER: &str = "plans";

fn is_plans_folder(dir: &Path, depth: usize) -> bool {
    depth == 0 && dir.file_name().is_some_and(|n| n == PLANS_FOLDER)
}

/// Whether `dir`, found at `depth` below the data's root, is one of `PUBLIC_FOLDERS`.
fn is_public_folder(dir: &Path, depth: usize) -> bool {
    depth == 0
        && dir
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| PUBLIC_FOLDERS.contains(&n))
}

/// The embedded folder a source reads: the whole seed data, or one plan's folder in it.
fn embedded_dir(source: &DataSource) -> Result<Option<&'static Dir<'static>>, LoadError> {
    match source {
        DataSource::Embedded => Ok(Some(&SEED_DATA)),
        DataSource::EmbeddedFolder(folder) => SEED_DATA
            .get_dir(folder.as_str())
            .map(Some)
            .ok_or_else(|| LoadError(format!("seed-data/{folder}: no such embedded folder"))),
        DataSource::Directory(_) => Ok(None),
    }
}

/// An embedded file's bytes (a plan's logo), by its path under `seed-data/`.
pub fn embedded_file(path: &str) -> Option<&'static [u8]> {
    SEED_DATA.get_file(path).map(|f| f.contents())
}

/// The member data's files: every data file but those of `PUBLIC_FOLDERS`.
pub(super) fn list(source: &DataSource) -> Result<Vec<InputFile>, LoadError> {
    if let Some(dir) = embedded_dir(source)? {
        let mut files = Vec::new();
        collect_embedded_by(dir, is_data_file, &mut files);
        files.sort_by(|a, b| a.name.cmp(&b.name));
        return Ok(files);
    }
    match source {
        DataSource::Embedded | DataSource::EmbeddedFolder(_) => Ok(Vec::new()),
        DataSource::Directory(root) => {
            let mut paths = Vec::new();
            walk_by(root, is_data_file, &mut paths)?;
            paths.sort();
            if paths.is_empty() {
                return Err(LoadError(format!(
                    "{}: no .json or .ndjson files found",
                    root.display()
                )));
            }
            Ok(on_disk(paths))
        }
    }
}

/// Files on disk, by path, as the loader reads them.
fn on_disk(paths: Vec<PathBuf>) -> Vec<InputFile> {
    paths
        .into_iter()
        .map(|path| InputFile {
            name: path.display().to_string(),
            len: std::fs::metadata(&path).map_or(0, |m| m.len() as usize),
            content: Content::Path(path),
        })
        .collect()
}

/// The data files of one of `PUBLIC_FOLDERS` (none when the folder is absent).
pub(super) fn list_public(source: &DataSource, folder: &str) -> Result<Vec<InputFile>, LoadError> {
    if let Some(root) = embedded_dir(source)? {
        let mut files = Vec::new();
        let path = root.path().join(folder);
        if let Some(dir) = root.get_dir(path) {
            collect_embedded_at(dir, is_data_file, &mut files, 1);
        }
        files.sort_by(|a, b| a.name.cmp(&b.name));
        return Ok(files);
    }
    match source {
        DataSource::Embedded | DataSource::EmbeddedFolder(_) => Ok(Vec::new()),
        DataSource::Directory(root) => {
            let dir = root.join(folder);
            let mut paths = Vec::new();
            if dir.is_dir() {
                walk_at(&dir, is_data_file, &mut paths, 1)?;
            }
            paths.sort();
            Ok(on_disk(paths))
        }
    }
}

fn collect_embedded_by(dir: &Dir<'static>, wanted: fn(&str) -> bool, out: &mut Vec<InputFile>) {
    collect_embedded_at(dir, wanted, out, 0);
}

fn collect_embedded_at(
    dir: &Dir<'static>,
    wanted: fn(&str) -> bool,
    out: &mut Vec<InputFile>,
    depth: usize,
) {
    for file in dir.files() {
        let name = file.path().display().to_string();
        if wanted(&name) {
            out.push(InputFile {
                name: format!("seed-data/{name}"),
                len: file.contents().len(),
                content: Content::Embedded(file.contents()),
            });
        }
    }
    for sub in dir.dirs() {
        if is_public_folder(sub.path(), depth) || is_plans_folder(sub.path(), depth) {
            continue;
        }
        collect_embedded_at(sub, wanted, out, depth + 1);
    }
}

fn walk_by(dir: &Path, wanted: fn(&str) -> bool, out: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    walk_at(dir, wanted, out, 0)
}

fn walk_at(
    dir: &Path,
    wanted: fn(&str) -> bool,
    out: &mut Vec<PathBuf>,
    depth: usize,
) -> Result<(), LoadError> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| LoadError(format!("{}: cannot read directory: {e}", dir.display())))?;
    for entry in entries {
        let entry = entry
            .map_err(|e| LoadError(format!("{}: cannot read directory: {e}", dir.display())))?;
        let path = entry.path();
        if path.is_dir() {
            if is_public_folder(&path, depth) || is_plans_folder(&path, depth) {
                continue;
            }
            walk_at(&path, wanted, out, depth + 1)?;
        } else if wanted(&path.to_string_lossy()) {
            out.push(path);
        }
    }
    Ok(())
}

/// Hands out the units of all files in order.
pub(super) struct Units<'f> {
    files: &'f [InputFile],
    next_file: usize,
    ndjson: Option<Ndjson>,
    embedded: Option<EmbeddedNdjson>,
    /// Buffers of units already parsed, to read the next ones into: fresh memory costs a page
    /// fault per page.
    spare: Vec<Vec<u8>>,
}

/// An NDJSON file being read: the bytes after the last whole line read so far.
struct Ndjson {
    file: u32,
    name: String,
    reader: Box<dyn Read + Send>,
    carry: Vec<u8>,
    line: u32,
}

impl<'f> Units<'f> {
    pub fn new(files: &'f [InputFile]) -> Self {
        Units {
            files,
            next_file: 0,
            ndjson: None,
            embedded: None,
            spare: Vec::new(),
        }
    }

    /// Takes back a unit's buffer for reuse.
    pub fn recycle(&mut self, unit: Unit) {
        if let Cow::Owned(bytes) = unit.bytes {
            if self.spare.len() < SPARE_BUFFERS {
                self.spare.push(bytes);
            }
        }
    }

    /// The next unit; `None` when every file is done.
    pub fn next_unit(&mut self) -> Option<Result<Unit, LoadError>> {
        loop {
            if let Some(embedded) = &mut self.embedded {
                match embedded.next_unit() {
                    Some(unit) => return Some(Ok(unit)),
                    None => self.embedded = None,
                }
            }
            if let Some(ndjson) = &mut self.ndjson {
                match ndjson.next_unit(&mut self.spare) {
                    Ok(Some(unit)) => return Some(Ok(unit)),
                    Ok(None) => self.ndjson = None,
                    Err(e) => {
                        self.ndjson = None;
                        return Some(Err(e));
                    }
                }
            }
            let index = self.next_file;
            let file = self.files.get(index)?;
            self.next_file += 1;
            let opened: Result<Box<dyn Read + Send>, LoadError> = match &file.content {
                Content::Embedded(bytes) if !file.is_ndjson() => {
                    return Some(Ok(Unit {
                        file: index as u32,
                        first_line: 0,
                        bytes: Cow::Borrowed(bytes),
                    }));
                }
                Content::Embedded(bytes) => {
                    self.embedded = Some(EmbeddedNdjson {
                        file: index as u32,
                        rest: bytes,
                        line: 1,
                    });
                    continue;
                }
                Content::Path(path) if !file.is_ndjson() => {
                    return Some(
                        std::fs::read(path)
                            .map(|bytes| Unit {
                                file: index as u32,
                                first_line: 0,
                                bytes: Cow::Owned(bytes),
                            })
                            .map_err(|e| cannot_read(&file.name, &e)),
                    );
                }
                Content::Path(path) => File::open(path)
                    .map(|f| Box::new(f) as Box<dyn Read + Send>)
                    .map_err(|e| cannot_read(&file.name, &e)),
            };
            match opened {
                Ok(reader) => {
                    self.ndjson = Some(Ndjson {
                        file: index as u32,
                        name: file.name.clone(),
                        reader,
                        carry: Vec::new(),
                        line: 1,
                    })
                }
                Err(e) => return Some(Err(e)),
            }
        }
    }
}

/// An embedded NDJSON file being cut into units: slices of the bytes in the executable, not
/// copies, so that a resource whose line is what the server serves is served from those bytes
/// (`Batch::serving_from`). Cut where `Ndjson` cuts the same file read from disk.
struct EmbeddedNdjson {
    file: u32,
    /// What is not handed out yet.
    rest: &'static [u8],
    line: u32,
}

impl EmbeddedNdjson {
    fn next_unit(&mut self) -> Option<Unit> {
        if self.rest.is_empty() {
            return None;
        }
        let newline = |b: &u8| *b == b'\n';
        let len = self.rest.len();
        // As `Ndjson::next_unit` reads: after the last newline within a unit's length, else
        // within twice that, and so on.
        let cut = if len < NDJSON_UNIT {
            len
        } else {
            let (mut searched, mut end) = (0, NDJSON_UNIT);
            loop {
                if let Some(at) = self
                    .rest
                    .get(searched..end)
                    .and_then(|window| window.iter().rposition(newline))
                {
                    break searched + at + 1;
                }
                if end >= len {
                    break len;
                }
                searched = end;
                end = end.saturating_mul(2).min(len);
            }
        };
        let (unit, rest) = self.rest.split_at(cut.min(self.rest.len()));
        self.rest = rest;
        let first_line = self.line;
        self.line = self.line.saturating_add(count_newlines(unit) as u32);
        Some(Unit {
            file: self.file,
            first_line,
            bytes: Cow::Borrowed(unit),
        })
    }
}

fn cannot_read(name: &str, e: &std::io::Error) -> LoadError {
    LoadError(format!("{name}: cannot read: {e}"))
}

impl Ndjson {
    /// About `NDJSON_UNIT` bytes of whole lines (more if one line is longer), or the rest of
    /// the file.
    fn next_unit(&mut self, spare: &mut Vec<Vec<u8>>) -> Result<Option<Unit>, LoadError> {
        let mut bytes = spare.pop().unwrap_or_default();
        bytes.clear();
        bytes.reserve(NDJSON_UNIT + NDJSON_UNIT / 8);
        bytes.append(&mut self.carry);
        let mut at_end = false;
        let mut searched = 0;
        let cut = loop {
            let before = bytes.len();
            // Up to a unit, then (for a line longer than that) doubling.
            let want = NDJSON_UNIT.saturating_sub(before).max(before);
            (&mut self.reader)
                .take(want as u64)
                .read_to_end(&mut bytes)
                .map_err(|e| cannot_read(&self.name, &e))?;
            if bytes.len() == before {
                at_end = true;
                break bytes.len();
            }
            if bytes.len() >= NDJSON_UNIT {
                if let Some(newline) = bytes[searched..].iter().rposition(|&b| b == b'\n') {
                    break searched + newline + 1;
                }
                searched = bytes.len();
            }
        };
        if at_end && bytes.is_empty() {
            return Ok(None);
        }
        self.carry
            .extend_from_slice(bytes.get(cut..).unwrap_or_default());
        bytes.truncate(cut);
        let first_line = self.line;
        self.line = self.line.saturating_add(count_newlines(&bytes) as u32);
        Ok(Some(Unit {
            file: self.file,
            first_line,
            bytes: Cow::Owned(bytes),
        }))
    }
}

/// Counted in runs of 255 bytes into a byte-sized counter, which the compiler turns into wide
/// vector compares (a plain `filter().count()` does a few bytes at a time).
fn count_newlines(bytes: &[u8]) -> usize {
    bytes
        .chunks(255)
        .map(|run| run.iter().fold(0u8, |n, &b| n + u8::from(b == b'\n')))
        .map(usize::from)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndjson_is_cut_after_newlines_and_lines_are_counted() {
        let line = format!(
            "{{\"resourceType\":\"Patient\",\"pad\":\"{}\"}}\n",
            "x".repeat(1000)
        );
        let text = line.repeat(10_000);
        let files = [InputFile {
            name: "big.ndjson".to_owned(),
            len: text.len(),
            content: Content::Embedded(Box::leak(text.clone().into_boxed_str()).as_bytes()),
        }];
        let mut units = Units::new(&files);
        let mut joined = Vec::new();
        let mut expected_line = 1;
        while let Some(unit) = units.next_unit() {
            let unit = unit.unwrap();
            assert!(
                matches!(unit.bytes, Cow::Borrowed(_)),
                "embedded units are the executable's bytes"
            );
            assert_eq!(unit.first_line, expected_line);
            assert!(unit.bytes.ends_with(b"\n"));
            let newlines = unit.bytes.iter().filter(|&&b| b == b'\n').count();
            assert_eq!(count_newlines(&unit.bytes), newlines);
            expected_line += newlines as u32;
            joined.extend_from_slice(&unit.bytes);
        }
        assert!(expected_line > 1 && joined == text.as_bytes());
    }

    #[test]
    fn an_embedded_file_and_the_same_file_on_disk_are_cut_into_the_same_units() {
        // Lines of many lengths, one longer than a unit, and no newline at the very end.
        let mut text = String::new();
        for i in 0..9_000 {
            text.push_str(&format!(
                "{{\"n\":{i},\"pad\":\"{}\"}}\n",
                "y".repeat(i % 977)
            ));
        }
        text.push_str(&format!(
            "{{\"long\":\"{}\"}}\n",
            "z".repeat(NDJSON_UNIT + 10)
        ));
        text.push_str("{\"last\":true}");
        let dir = std::env::temp_dir().join(format!("payer-sandbox-units-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("cut.ndjson");
        std::fs::write(&path, &text).unwrap();
        let cut = |content: Content| {
            let files = [InputFile {
                name: "cut.ndjson".to_owned(),
                len: text.len(),
                content,
            }];
            let mut units = Units::new(&files);
            let mut all = Vec::new();
            while let Some(unit) = units.next_unit() {
                let unit = unit.unwrap();
                all.push((unit.first_line, unit.bytes.into_owned()));
            }
            all
        };
        let embedded = cut(Content::Embedded(
            Box::leak(text.clone().into_boxed_str()).as_bytes(),
        ));
        let read = cut(Content::Path(path));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(embedded.len() > 2, "{} units", embedded.len());
        assert_eq!(embedded, read);
    }
}
