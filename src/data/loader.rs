//! Loading the data: every file's resources parsed, checked and turned into what the store keeps
//! one at a time (never the whole data set as parsed JSON), on as many threads as there are
//! cores, then indexed. Units of input (`sources`) are handed out in order and their results
//! joined in that same order, so what is loaded, which of two duplicates is reported and every
//! message are the same whatever the threads' timing. Errors name the file (and line) and the
//! problem; nothing is served half-loaded.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Instant;

use serde_json::Value;

use super::members::{MemberFacts, Members};
use super::parse::{self, Origin};
use super::sources::{self, InputFile, Unit, Units};
use super::{Dataset, timeline, validate};
use crate::fhir::apis::Api;
use crate::fhir::live::{self, Change, ChangeKind};
use crate::fhir::search_params;
use crate::fhir::{Batch, Dangling, Store, StoreBuilder};

/// At most this many parsing threads, however many cores.
const MAX_THREADS: usize = 8;

#[derive(Debug, Clone)]
pub enum DataSource {
    /// The embedded `seed-data/`: the default plan's data.
    Embedded,
    /// One folder of the embedded `seed-data/` (an embedded plan's data, `plans/{id}`).
    EmbeddedFolder(String),
    Directory(PathBuf),
}

/// Why the data could not be loaded: always names the file (and line, where there is one) and
/// the problem, as one message, since a person reads it at start-up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LoadError(pub String);

pub fn load(source: &DataSource) -> Result<Dataset, LoadError> {
    load_with(source, true)
}

/// `load`, with claims unlinked from Coverage when `eob_coverage_links` is false
/// (docs/plans.md#behaviour-profiles).
pub fn load_with(source: &DataSource, eob_coverage_links: bool) -> Result<Dataset, LoadError> {
    let mut files = sources::list(source)?;
    if !eob_coverage_links {
        let started = std::time::Instant::now();
        files = super::unlink::unlink_coverage(&files)?;
        tracing::debug!(
            ms = started.elapsed().as_millis() as u64,
            "claims unlinked from Coverage"
        );
    }
    let mut dataset = load_files(&files)?;
    let mut scheduled = Vec::new();
    for (name, text) in sources::timelines(source)? {
        scheduled.extend(timeline::parse(&name, &text)?);
    }
    check_timeline(&dataset.store, &scheduled)?;
    dataset.timeline = scheduled;
    Ok(dataset)
}

/// The public data of one API (docs/directory.md): the files of its folder (`directory/`,
/// `formulary/`), loaded as member data is. Only the API's types may be there, and every
/// reference must resolve: anything else stops start-up.
pub fn load_public(source: &DataSource, api: Api) -> Result<Store, LoadError> {
    let folder = match api {
        Api::Directory => "directory",
        Api::Formulary => "formulary",
        Api::PatientAccess => return Ok(Store::default()),
    };
    let files = sources::list_public(source, folder)?;
    if files.is_empty() {
        return Ok(Store::default());
    }
    let place = match source {
        DataSource::Embedded => format!("seed-data/{folder}/"),
        DataSource::EmbeddedFolder(root) => format!("seed-data/{root}/{folder}/"),
        DataSource::Directory(root) => format!("{}/", root.join(folder).display()),
    };
    let (store, skipped, dangling) = load_store(&files)?;
    if let Some((resource_type, _)) = skipped.iter().next() {
        return Err(LoadError(format!(
            "{place}: {resource_type} is not a type payer-sandbox serves"
        )));
    }
    if let Some(resource_type) = store.types().find(|t| !api.serves(t)) {
        return Err(LoadError(format!(
            "{place}: {resource_type} does not belong in the {folder} (it serves {})",
            api.types()
                .iter()
                .map(|t| t.name)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if let Some(example) = dangling.examples.first() {
        // Name the file that holds the first one: the index kept no origins, so look for it.
        let needle = format!("{example}\"");
        let file = files
            .iter()
            .find(|f| {
                f.whole()
                    .windows(needle.len())
                    .any(|w| w == needle.as_bytes())
            })
            .map_or(place.clone(), |f| f.name.clone());
        return Err(LoadError(format!(
            "{file}: {} reference(s) resolve to nothing in the {folder}, e.g. {}",
            dangling.count,
            dangling.examples.join(", ")
        )));
    }
    Ok(store)
}

/// A timeline's prior-authorization changes must name one: in the data, or made by an earlier
/// entry of the timeline.
fn check_timeline(store: &Store, scheduled: &[timeline::Scheduled]) -> Result<(), LoadError> {
    let epoch = time::OffsetDateTime::UNIX_EPOCH;
    let changes: Vec<Change> = scheduled.iter().map(|s| s.resolve(epoch)).collect();
    for (i, change) in changes.iter().enumerate() {
        if !matches!(change.kind, ChangeKind::PriorAuth(_)) {
            continue;
        }
        let made_earlier = changes[..i].iter().any(|c| {
            matches!(c.kind, ChangeKind::Resource(_))
                && c.resource_type == change.resource_type
                && c.id == change.id
        });
        if !made_earlier && !store.contains(change.resource_type, &change.id) {
            let place = match &change.origin {
                live::Origin::Timeline(place) => place.as_str(),
                live::Origin::ControlApi => "",
            };
            return Err(LoadError(format!(
                "{place}: prior_authorization {} is not an ExplanationOfBenefit of the data",
                change.id
            )));
        }
    }
    Ok(())
}

/// What one unit of input became. `error` is the first problem in the unit: what comes
/// before it is kept, so that an earlier duplicate is still reported first.
#[derive(Default)]
struct Parsed {
    batch: Batch,
    origins: Vec<Origin>,
    facts: MemberFacts,
    skipped: BTreeMap<String, usize>,
    error: Option<LoadError>,
}

fn parse_unit(unit: &Unit, names: &[String]) -> Parsed {
    let mut parsed = Parsed {
        batch: Batch::with_capacity(unit.bytes.len() + unit.bytes.len() / 16),
        ..Parsed::default()
    };
    // Embedded data lives as long as the process: a resource whose line is already what the
    // server serves is served from the binary's own bytes (docs/data.md#seed-data).
    if let Cow::Borrowed(input) = unit.bytes {
        parsed.batch.serving_from(input);
    }
    let result = parse::resources(unit, names, &mut |resource, origin| {
        let (resource_type, id) = validate::identify(resource, || origin.describe(names))?;
        let Some((slot, _)) = search_params::resource(resource_type) else {
            *parsed.skipped.entry(resource_type.to_owned()).or_default() += 1;
            return Ok(());
        };
        parsed.facts.note(resource_type, resource);
        parsed.batch.add(resource, slot, id).map_err(|_| {
            LoadError(format!(
                "{}: more than 4 GiB of JSON in one file",
                origin.describe(names)
            ))
        })?;
        parsed.origins.push(origin.clone());
        Ok(())
    });
    parsed.error = result.err();
    parsed
}

/// The units' results joined in order.
struct Joined {
    builder: StoreBuilder,
    origins: Vec<Origin>,
    facts: MemberFacts,
    skipped: BTreeMap<String, usize>,
    /// Time spent joining, for the debug log.
    busy: std::time::Duration,
}

impl Joined {
    fn add(&mut self, parsed: Parsed, names: &[String]) -> Result<(), LoadError> {
        let Parsed {
            batch,
            origins,
            facts,
            skipped,
            error,
        } = parsed;
        self.origins.extend(origins);
        if let Err(duplicate) = self.builder.append(batch) {
            let describe = |at: usize| {
                self.origins
                    .get(at)
                    .map(|o| o.describe(names))
                    .unwrap_or_default()
            };
            return Err(validate::duplicate(
                &duplicate.resource,
                &describe(duplicate.again),
                &describe(duplicate.first),
            ));
        }
        self.facts.extend(facts);
        for (resource_type, count) in skipped {
            *self.skipped.entry(resource_type).or_default() += count;
        }
        error.map_or(Ok(()), Err)
    }
}

/// The units, numbered in the order handed out.
struct Numbered<'f> {
    handed_out: usize,
    units: Units<'f>,
}

/// One thread's work: units taken in turn and parsed, each result sent with its number, until
/// there are no more or one has failed (later units are then not needed).
fn parse_units(
    units: &Mutex<Numbered<'_>>,
    stop: &AtomicBool,
    names: &[String],
    results: &mpsc::Sender<(usize, Parsed)>,
) {
    while !stop.load(Ordering::Relaxed) {
        let next = match units.lock() {
            Ok(mut numbered) => numbered.units.next_unit().map(|unit| {
                numbered.handed_out += 1;
                (numbered.handed_out - 1, unit)
            }),
            Err(_) => None,
        };
        let Some((seq, unit)) = next else { break };
        let parsed = match unit {
            Ok(unit) => {
                let parsed = parse_unit(&unit, names);
                if let Ok(mut numbered) = units.lock() {
                    numbered.units.recycle(unit);
                }
                parsed
            }
            Err(e) => Parsed {
                error: Some(e),
                ..Parsed::default()
            },
        };
        if parsed.error.is_some() {
            stop.store(true, Ordering::Relaxed);
        }
        if results.send((seq, parsed)).is_err() {
            break;
        }
    }
}

/// The threads' results joined in their numbers' order, whatever order they arrive in; the
/// first problem in that order is the one reported.
fn join_in_order(
    received: mpsc::Receiver<(usize, Parsed)>,
    names: &[String],
    input_bytes: usize,
) -> Result<Joined, LoadError> {
    let mut joined = Joined {
        builder: StoreBuilder::with_capacity(input_bytes),
        origins: Vec::new(),
        facts: MemberFacts::default(),
        skipped: BTreeMap::new(),
        busy: std::time::Duration::ZERO,
    };
    let mut waiting = BTreeMap::new();
    let mut next = 0;
    for (seq, parsed) in received {
        waiting.insert(seq, parsed);
        while let Some(parsed) = waiting.remove(&next) {
            next += 1;
            let joining = Instant::now();
            joined.add(parsed, names)?;
            joined.busy += joining.elapsed();
        }
    }
    Ok(joined)
}

fn load_files(files: &[InputFile]) -> Result<Dataset, LoadError> {
    let (store, skipped, dangling, facts) = parse_and_index(files)?;
    let mut warnings = validate::warnings(&skipped, &dangling);
    let (members, member_warnings) = Members::from_facts(facts);
    warnings.extend(member_warnings);
    Ok(Dataset {
        store: Arc::new(store),
        timeline: Vec::new(),
        members: Arc::new(members),
        warnings,
    })
}

/// A store of `files`, with the types skipped (not served) and the references that resolve to
/// nothing: for public data, which derives no members.
fn load_store(
    files: &[InputFile],
) -> Result<(Store, BTreeMap<String, usize>, Dangling), LoadError> {
    let (store, skipped, dangling, _) = parse_and_index(files)?;
    Ok((store, skipped, dangling))
}

type Indexed = (Store, BTreeMap<String, usize>, Dangling, MemberFacts);

fn parse_and_index(files: &[InputFile]) -> Result<Indexed, LoadError> {
    let started = Instant::now();
    let names: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, MAX_THREADS);
    let units = Mutex::new(Numbered {
        handed_out: 0,
        units: Units::new(files),
    });
    let stop = AtomicBool::new(false);
    let joined = std::thread::scope(|scope| {
        let (results, received) = mpsc::channel();
        for _ in 0..threads {
            let results = results.clone();
            let (units, stop, names) = (&units, &stop, &names);
            scope.spawn(move || parse_units(units, stop, names, &results));
        }
        drop(results);
        let input_bytes = files.iter().map(|f| f.len).sum();
        let joined = join_in_order(received, &names, input_bytes);
        if joined.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        joined
    })?;
    let parsed_in = started.elapsed();

    let Joined {
        builder,
        facts,
        skipped,
        origins,
        busy,
    } = joined;
    drop(origins);
    let resources = builder.len();
    let (store, dangling) = builder.finish();
    tracing::debug!(
        files = files.len(),
        resources,
        threads,
        parse_ms = parsed_in.as_millis() as u64,
        join_ms = busy.as_millis() as u64,
        index_ms = (started.elapsed() - parsed_in).as_millis() as u64,
        "data loaded"
    );
    Ok((store, skipped, dangling, facts))
}

/// The data's resources as JSON values, in file order, checked as `load` checks them (ids,
/// duplicates; unserved types left out) but not indexed: for tests and tools that compare what
/// is served with the data. Every resource is held at once: small data only.
pub fn resources(source: &DataSource) -> Result<Vec<Value>, LoadError> {
    let files = sources::list(source)?;
    let names: Vec<String> = files.iter().map(|f| f.name.clone()).collect();
    let mut units = Units::new(&files);
    let mut seen: HashMap<(String, String), String> = HashMap::new();
    let mut out = Vec::new();
    while let Some(unit) = units.next_unit() {
        parse::resources(&unit?, &names, &mut |resource, origin| {
            let (resource_type, id) =
                validate::identify(resource, || origin.describe(names.as_slice()))?;
            if !search_params::is_served(resource_type) {
                return Ok(());
            }
            let here = origin.describe(&names);
            let key = (resource_type.to_owned(), id.to_owned());
            if let Some(first) = seen.get(&key) {
                return Err(validate::duplicate(
                    &format!("{resource_type}/{id}"),
                    &here,
                    first,
                ));
            }
            seen.insert(key, here);
            out.push(resource.to_value());
            Ok(())
        })?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn load_texts(files: &[(&str, String)]) -> Result<Dataset, LoadError> {
        let files: Vec<InputFile> = files
            .iter()
            .map(|(name, text)| InputFile::in_memory(name, text.clone()))
            .collect();
        load_files(&files)
    }

    #[test]
    fn embedded_seed_data_loads_cleanly() {
        let data = load(&DataSource::Embedded).expect("embedded data loads");
        assert!(!data.store.is_empty());
        assert!(!data.members.all().is_empty());
        assert!(data.warnings.is_empty(), "{:?}", data.warnings);
        let values = resources(&DataSource::Embedded).unwrap();
        assert_eq!(values.len(), data.store.len());
        // The same files on disk are the same data: the other plans' folder is not read.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seed-data");
        let on_disk = load(&DataSource::Directory(dir)).expect("seed-data loads from disk");
        assert_eq!(on_disk.store.len(), data.store.len());
        assert_eq!(on_disk.members.all(), data.members.all());
        let plan = load(&DataSource::EmbeddedFolder("plans/cascade".into())).unwrap();
        assert!(!plan.members.all().is_empty());
        assert!(
            plan.members
                .all()
                .iter()
                .all(|m| m.patient_id.starts_with("cascade-"))
        );
    }

    /// The embedded directory and formulary are served from the executable's own bytes: each
    /// line of their NDJSON is already what the server serves (`meta.versionId` included), so
    /// nothing of them is copied (docs/data.md#seed-data).
    #[test]
    fn the_embedded_public_data_is_served_from_the_executables_bytes() {
        let plans = [
            DataSource::Embedded,
            DataSource::EmbeddedFolder("plans/cascade".into()),
            DataSource::EmbeddedFolder("plans/lakeshore".into()),
        ];
        let mut checked = 0;
        for (source, (api, folder)) in plans.iter().flat_map(|source| {
            [(Api::Directory, "directory"), (Api::Formulary, "formulary")].map(|a| (source, a))
        }) {
            let files = sources::list_public(source, folder).unwrap();
            if files.is_empty() {
                continue; // Lakeshore has no formulary of its own.
            }
            checked += 1;
            let store = load_public(source, api).unwrap();
            let embedded: Vec<&'static [u8]> = files
                .iter()
                .filter_map(|f| {
                    sources::embedded_file(f.name.strip_prefix("seed-data/").unwrap_or(&f.name))
                })
                .collect();
            assert_eq!(embedded.len(), files.len(), "{folder}");
            let inside = |json: &[u8]| {
                embedded.iter().any(|file| {
                    let range = file.as_ptr_range();
                    range.contains(&json.as_ptr()) && json.as_ptr_range().end <= range.end
                })
            };
            assert!(store.len() > 20, "{folder}: {} resources", store.len());
            let copied: Vec<String> = store
                .every_json()
                .filter(|json| !inside(json))
                .map(|json| String::from_utf8_lossy(json).chars().take(120).collect())
                .collect();
            assert!(copied.is_empty(), "{folder}: copied: {copied:?}");
        }
        assert_eq!(checked, 5, "three directories and two formularies");
        // The same files read from disk (as with --data) are copied, and serve the same bytes.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("seed-data");
        let on_disk = load_public(&DataSource::Directory(dir), Api::Directory).unwrap();
        let from_binary = load_public(&DataSource::Embedded, Api::Directory).unwrap();
        assert!(on_disk.every_json().eq(from_binary.every_json()));
    }

    /// `directory/` and `formulary/` at the top of the data are not member data.
    #[test]
    fn the_public_folders_are_not_member_data() {
        let dir = std::env::temp_dir().join(format!("payer-sandbox-public-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["directory", "formulary", "members/directory"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        let patient = json!({"resourceType":"Patient","id":"a"}).to_string();
        std::fs::write(dir.join("p.json"), &patient).unwrap();
        std::fs::write(dir.join("directory/p.json"), &patient).unwrap();
        std::fs::write(dir.join("formulary/p.json"), &patient).unwrap();
        let data = load(&DataSource::Directory(dir.clone())).unwrap();
        assert_eq!(data.store.len(), 1);
        // Only at the top: deeper folders of that name are member data like any other.
        std::fs::write(
            dir.join("members/directory/q.json"),
            json!({"resourceType":"Patient","id":"q"}).to_string(),
        )
        .unwrap();
        assert_eq!(
            load(&DataSource::Directory(dir.clone()))
                .unwrap()
                .store
                .len(),
            2
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn duplicates_are_errors_naming_both_files() {
        let patient = json!({"resourceType":"Patient","id":"a"}).to_string();
        let err =
            load_texts(&[("f0.json", patient.clone()), ("f1.json", patient.clone())]).unwrap_err();
        assert_eq!(
            err.0,
            "f1.json: duplicate Patient/a (first defined in f0.json)"
        );
        let lines = format!("{patient}\n{patient}\n");
        let err = load_texts(&[("p.ndjson", lines)]).unwrap_err();
        assert_eq!(
            err.0,
            "p.ndjson:2: duplicate Patient/a (first defined in p.ndjson:1)"
        );
    }

    #[test]
    fn the_first_problem_in_file_order_is_reported() {
        let ok = json!({"resourceType":"Patient","id":"a"}).to_string();
        let err = load_texts(&[
            ("a.json", ok.clone()),
            ("b.json", "{oops".to_owned()),
            ("c.json", ok),
        ])
        .unwrap_err();
        assert!(err.0.starts_with("b.json: invalid JSON"), "{err}");
        let err =
            load_texts(&[("p.json", json!({"resourceType":"Patient"}).to_string())]).unwrap_err();
        assert_eq!(err.0, "p.json: Patient has no id");
    }

    #[test]
    fn dangling_references_and_unserved_types_warn() {
        let data = load_texts(&[
            (
                "c.json",
                json!({"resourceType":"Coverage","id":"c","beneficiary":{"reference":"Patient/gone"}})
                    .to_string(),
            ),
            ("x.json", json!({"resourceType":"Claim","id":"x"}).to_string()),
        ])
        .unwrap();
        assert_eq!(data.store.len(), 1);
        assert_eq!(data.warnings.len(), 2, "{:?}", data.warnings);
        assert!(data.warnings[0].contains("Claim"));
        assert!(data.warnings[1].contains("Patient/gone"));
    }

    /// A file of several units: lines are numbered across them.
    #[test]
    fn errors_in_later_units_name_the_line() {
        let mut lines = String::new();
        for i in 0..30_000 {
            let patient =
                json!({"resourceType":"Patient","id":format!("p{i}"),"pad":"x".repeat(300)});
            lines.push_str(&patient.to_string());
            lines.push('\n');
        }
        lines.push_str("{\"resourceType\":\"Patient\",\"id\":\"p1\"}\n");
        let err = load_texts(&[("a.ndjson", lines.clone())]).unwrap_err();
        assert_eq!(
            err.0,
            "a.ndjson:30001: duplicate Patient/p1 (first defined in a.ndjson:2)"
        );
        lines.push_str("{oops\n");
        let err = load_texts(&[("a.ndjson", lines.replace("\"p1\"}\n", "\"q\"}\n"))]).unwrap_err();
        assert!(err.0.starts_with("a.ndjson:30002: invalid JSON"), "{err}");
    }

    /// Many units on several threads: the result is the same as one file read in order.
    #[test]
    fn units_are_joined_in_order() {
        let mut lines = String::new();
        for i in 0..20_000 {
            let patient = json!({"resourceType":"Patient","id":format!("p{i}"),
                "meta":{"lastUpdated":format!("2020-01-01T00:00:{:02}Z", i % 60)},
                "identifier":[{"type":{"coding":[{"code":"MB"}]},"value":format!("M{}", i % 15_000)}],
                "name":[{"family":"F","given":["G"]}],"address":[{"postalCode":"02114"}],
                "pad":"x".repeat(300)});
            lines.push_str(&patient.to_string());
            lines.push('\n');
        }
        let data = load_texts(&[("a.ndjson", lines)]).unwrap();
        assert_eq!(data.store.len(), 20_000);
        assert_eq!(data.members.all().len(), 15_000);
        assert_eq!(data.members.all()[0].patient_id, "p0");
        assert_eq!(data.members.by_member_id("M1").unwrap().patient_id, "p1");
        assert_eq!(data.warnings.len(), 5_000);
        assert!(data.warnings[0].starts_with("Patient/p15000 has member ID M0"));
    }
}
