//! Data that changes over time (docs/data.md#data-that-changes): the loaded data is version 1 of
//! every resource; changes (the data's timeline, due when the sandbox clock passes them, and
//! prior-authorization changes made through the control API) make new resources or new versions.
//!
//! The state at any sandbox instant is a function of the loaded data and the changes due by then,
//! applied in time order, so moving the clock forward makes timeline changes appear, and
//! `clock/reset` (which also forgets changes made through the control API) restores the data
//! as loaded. Each distinct state is a `DataView`: a store built from the loaded resources with
//! the changed ones replaced by their newest version (the same indexes, search and compartments
//! as the loaded data, so nothing downstream knows the data changed), plus every version of each
//! changed resource for `_history` and vread. A view is built once, when a request first needs
//! it, and shared by every request at that state; until any change is due, the loaded store
//! itself is served and nothing is rebuilt.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use bytes::Bytes;
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::date::Nanos;
use super::fx_hash::FxHashMap;
use super::prior_auth::{self, PriorAuthChange, PriorAuthError};
use super::search_params::{self, TypeSlot};
use super::store::{Idx, Store};
use super::store_batch::Batch;
use super::store_builder::StoreBuilder;
use crate::json_tree::Tree;

/// What a change does to its resource.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeKind {
    /// The resource as it is from then on (a new resource, or a new version of one), given whole.
    Resource(Arc<Value>),
    /// A decision on, or units used of, a prior authorization: worked out from the version
    /// current when the change is due.
    PriorAuth(PriorAuthChange),
}

/// Where a change came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// The data's timeline: its file and line.
    Timeline(String),
    /// The control API.
    ControlApi,
}

/// One change to the data, at an instant of the sandbox clock.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub at: OffsetDateTime,
    pub resource_type: &'static str,
    pub id: String,
    pub kind: ChangeKind,
    pub origin: Origin,
    /// What the change is, in words, for people (the timeline's `note`, or generated).
    pub note: String,
}

impl Change {
    /// A change to the prior authorization `id` made through the control API, due `at`.
    pub fn made(id: &str, change: PriorAuthChange, at: OffsetDateTime) -> Change {
        Change {
            at,
            resource_type: "ExplanationOfBenefit",
            id: id.to_owned(),
            note: change.describe(),
            kind: ChangeKind::PriorAuth(change),
            origin: Origin::ControlApi,
        }
    }

    fn at_nanos(&self) -> Nanos {
        self.at.unix_timestamp_nanos()
    }
}

/// One version of a resource.
#[derive(Debug, Clone)]
pub struct Version {
    pub version_id: String,
    pub last_updated: Option<Nanos>,
    pub json: Bytes,
}

/// A change checked and ready to record, with the version it will make.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub change: Change,
    pub version: Version,
}

/// A change as a view applied it, for the list of changes.
#[derive(Debug, Clone)]
pub struct Applied {
    pub change: Change,
    /// The version it made, or why it could not be made (a timeline change that no longer fits
    /// the resource, e.g. a decision on an authorization cancelled through the control API).
    pub outcome: Result<String, String>,
}

/// The data at one state: what requests read.
pub struct DataView {
    store: Arc<Store>,
    /// How many of the timeline's changes are applied.
    due: usize,
    /// The control API's changes' generation this view was built at.
    epoch: u64,
    /// Every version of each changed resource, oldest first.
    history: FxHashMap<(TypeSlot, String), Vec<Version>>,
    applied: Vec<Applied>,
}

impl DataView {
    pub(in crate::fhir) fn store(&self) -> &Store {
        &self.store
    }

    /// Every version of a resource, oldest first (a resource never changed has one).
    pub(in crate::fhir) fn versions(&self, n: Idx) -> Vec<Version> {
        let entry = self.store.entry(n);
        if let Some(versions) = self.history.get(&(entry.type_slot, entry.id.to_owned())) {
            return versions.clone();
        }
        vec![Version {
            version_id: entry.version_id.to_owned(),
            last_updated: entry.last_updated,
            json: entry.json(),
        }]
    }

    /// The changes applied in this state, in the order applied.
    pub fn applied(&self) -> &[Applied] {
        &self.applied
    }
}

/// The loaded data and its changes; hands out the `DataView` of any instant.
pub struct LiveData {
    base: Arc<Store>,
    /// Sorted by `at` (ties in data order).
    timeline: Vec<Change>,
    made: Mutex<Vec<Change>>,
    /// Bumped whenever `made` changes, so a view knows whether it is still current.
    epoch: AtomicU64,
    /// The newest views built, newest first: two, so that requests that read the clock just
    /// before and just after a timeline change (and finish in either order) do not rebuild
    /// the data in turn.
    recent: RwLock<Vec<Arc<DataView>>>,
    building: Mutex<()>,
}

/// How many views `recent` keeps.
const RECENT_VIEWS: usize = 2;

/// Why a change could not be made through the control API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeError {
    /// No such resource (of any member).
    NotFound(String),
    /// The change does not apply (`Invalid`: 400, `Conflict`: 409).
    Refused(PriorAuthError),
}

impl LiveData {
    pub fn new(base: Arc<Store>, mut timeline: Vec<Change>) -> LiveData {
        timeline.sort_by_key(Change::at_nanos);
        let view = Arc::new(DataView {
            store: base.clone(),
            due: 0,
            epoch: 0,
            history: FxHashMap::default(),
            applied: Vec::new(),
        });
        LiveData {
            base,
            timeline,
            made: Mutex::new(Vec::new()),
            epoch: AtomicU64::new(0),
            recent: RwLock::new(vec![view]),
            building: Mutex::new(()),
        }
    }

    /// The data as it is at `now` on the sandbox clock.
    pub fn at(&self, now: OffsetDateTime) -> Arc<DataView> {
        let now = now.unix_timestamp_nanos();
        let due = self.timeline.partition_point(|c| c.at_nanos() <= now);
        let epoch = self.epoch.load(Ordering::Acquire);
        if let Some(view) = self.cached(due, epoch) {
            return view;
        }
        let _building = self.building.lock().unwrap_or_else(|p| p.into_inner());
        // Another request may have built it while this one waited.
        let epoch = self.epoch.load(Ordering::Acquire);
        if let Some(view) = self.cached(due, epoch) {
            return view;
        }
        let made = self.made.lock().map(|m| m.clone()).unwrap_or_default();
        let view = Arc::new(self.build(due, epoch, &made));
        if let Ok(mut recent) = self.recent.write() {
            recent.insert(0, view.clone());
            recent.truncate(RECENT_VIEWS);
        }
        view
    }

    fn cached(&self, due: usize, epoch: u64) -> Option<Arc<DataView>> {
        let recent = self.recent.read().ok()?;
        recent
            .iter()
            .find(|view| view.due == due && view.epoch == epoch)
            .cloned()
    }

    /// The timeline, whether due or not, in time order.
    pub fn timeline(&self) -> &[Change] {
        &self.timeline
    }

    /// Makes a change to a prior authorization now, through the control API: checked against
    /// the current version first, so that a refused change is never recorded. Returns the version
    /// it made.
    pub fn change_prior_auth(
        &self,
        id: &str,
        change: PriorAuthChange,
        now: OffsetDateTime,
    ) -> Result<Version, ChangeError> {
        let prepared = self.prepare_prior_auth(id, change, now)?;
        self.record(prepared.change);
        let view = self.at(now);
        let version = search_params::resource("ExplanationOfBenefit")
            .and_then(|(slot, _)| view.history.get(&(slot, id.to_owned())))
            .and_then(|versions| versions.last().cloned());
        version
            .ok_or_else(|| ChangeError::NotFound(format!("ExplanationOfBenefit/{id} is not known")))
    }

    /// A change to a prior authorization checked against its current version at `now`, not yet
    /// recorded: hosted mode stores it in the database first (docs/hosted.md#data-changes), and
    /// records it only once the database has it. It is due at `now`, or at the newest made
    /// change's instant if that is later (another replica's clock may run a little ahead), so
    /// that made changes apply in the order they were made.
    pub fn prepare_prior_auth(
        &self,
        id: &str,
        change: PriorAuthChange,
        now: OffsetDateTime,
    ) -> Result<Prepared, ChangeError> {
        let view = self.at(now);
        let unknown = || ChangeError::NotFound(format!("ExplanationOfBenefit/{id} is not known"));
        let (slot, _) = search_params::resource("ExplanationOfBenefit").ok_or_else(unknown)?;
        let n = view.store.find(slot, id).ok_or_else(unknown)?;
        let entry = view.store.entry(n);
        let current: Value = serde_json::from_slice(entry.json_bytes()).map_err(|_| unknown())?;
        let newest_made = self
            .made
            .lock()
            .ok()
            .and_then(|made| made.last().map(|last| last.at));
        let at = newest_made.map_or(now, |newest| newest.max(now));
        let next =
            prior_auth::apply(&current, &change, &date_of(at)).map_err(ChangeError::Refused)?;
        // The version the view will give it: the next after the current one, as `apply` numbers.
        let version_id = (entry.version_id.parse::<u64>().unwrap_or(1) + 1).to_string();
        let at_millis = millis(at);
        let version = Version {
            json: Bytes::from(stamp(next, &version_id, at_millis)),
            version_id,
            last_updated: Some(at_millis.unix_timestamp_nanos()),
        };
        Ok(Prepared {
            change: Change::made(id, change, at),
            version,
        })
    }

    /// Records a change made through the control API (here, or on another replica in hosted
    /// mode): every view from now on applies it.
    pub fn record(&self, change: Change) {
        if let Ok(mut made) = self.made.lock() {
            made.push(change);
            self.epoch.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// The version `version_id` of the prior authorization `id`, as the data at `now` serves it.
    pub fn prior_auth_version(
        &self,
        id: &str,
        version_id: &str,
        now: OffsetDateTime,
    ) -> Option<Version> {
        let view = self.at(now);
        let (slot, _) = search_params::resource("ExplanationOfBenefit")?;
        view.history
            .get(&(slot, id.to_owned()))?
            .iter()
            .find(|version| version.version_id == version_id)
            .cloned()
    }

    /// Forgets the changes made through the control API (`clock/reset`, `reset`).
    pub fn forget_made(&self) {
        if let Ok(mut made) = self.made.lock() {
            if !made.is_empty() {
                made.clear();
                self.epoch.fetch_add(1, Ordering::AcqRel);
            }
        }
    }

    /// The state with the first `due` timeline changes and every made change applied, in time
    /// order (a timeline change before a made one at the same instant).
    fn build(&self, due: usize, epoch: u64, made: &[Change]) -> DataView {
        let started = std::time::Instant::now();
        let mut changes: Vec<&Change> = self.timeline[..due].iter().chain(made).collect();
        changes.sort_by_key(|c| c.at_nanos());
        if changes.is_empty() {
            return DataView {
                store: self.base.clone(),
                due,
                epoch,
                history: FxHashMap::default(),
                applied: Vec::new(),
            };
        }
        let mut history: FxHashMap<(TypeSlot, String), Vec<Version>> = FxHashMap::default();
        let mut applied = Vec::new();
        for change in changes {
            let outcome = self.apply(change, &mut history);
            if let Err(why) = &outcome {
                tracing::warn!(
                    resource = %format!("{}/{}", change.resource_type, change.id),
                    why = %why,
                    "a change to the data could not be applied"
                );
            }
            applied.push(Applied {
                change: change.clone(),
                outcome,
            });
        }
        let store = rebuild(&self.base, &history);
        tracing::debug!(
            changes = applied.len(),
            build_ms = started.elapsed().as_millis() as u64,
            "data view built"
        );
        DataView {
            store: Arc::new(store),
            due,
            epoch,
            history,
            applied,
        }
    }

    /// Adds the version `change` makes to `history`; returns its version id.
    fn apply(
        &self,
        change: &Change,
        history: &mut FxHashMap<(TypeSlot, String), Vec<Version>>,
    ) -> Result<String, String> {
        let (slot, _) = search_params::resource(change.resource_type)
            .ok_or_else(|| format!("{} is not a served type", change.resource_type))?;
        let key = (slot, change.id.clone());
        if !history.contains_key(&key) {
            if let Some(n) = self.base.find(slot, &change.id) {
                let entry = self.base.entry(n);
                history.insert(
                    key.clone(),
                    vec![Version {
                        version_id: entry.version_id.to_owned(),
                        last_updated: entry.last_updated,
                        json: entry.json(),
                    }],
                );
            }
        }
        let previous = history.get(&key).and_then(|v| v.last());
        let next = match &change.kind {
            ChangeKind::Resource(resource) => {
                let mut resource = Value::clone(resource);
                fill_in(&mut resource, change.at);
                resource
            }
            ChangeKind::PriorAuth(pa_change) => {
                let previous = previous
                    .ok_or_else(|| format!("ExplanationOfBenefit/{} is not known", change.id))?;
                let current: Value = serde_json::from_slice(&previous.json)
                    .map_err(|e| format!("the current version does not parse: {e}"))?;
                prior_auth::apply(&current, pa_change, &date_of(change.at))
                    .map_err(|e| e.to_string())?
            }
        };
        let version = previous
            .map(|v| v.version_id.parse::<u64>().unwrap_or(1) + 1)
            .unwrap_or(1)
            .to_string();
        // To the millisecond, as `meta.lastUpdated` is written, so that the history's
        // `lastModified` and the index agree with the resource.
        let at = millis(change.at);
        let json = stamp(next, &version, at);
        history.entry(key).or_default().push(Version {
            version_id: version.clone(),
            last_updated: Some(at.unix_timestamp_nanos()),
            json: Bytes::from(json),
        });
        Ok(version)
    }
}

/// A timeline resource's placeholders: a string `@at` becomes the instant the change is due,
/// `@date` its date, so a change scheduled relative to start-up can date what it records.
fn fill_in(value: &mut Value, at: OffsetDateTime) {
    match value {
        Value::String(text) if text == "@at" => *text = instant(at),
        Value::String(text) if text == "@date" => *text = date_of(at),
        Value::Array(items) => items.iter_mut().for_each(|v| fill_in(v, at)),
        Value::Object(object) => object.values_mut().for_each(|v| fill_in(v, at)),
        _ => {}
    }
}

/// `resource` with `meta.versionId` and `meta.lastUpdated` set (meta placed after `id`, where
/// the data puts it), as compact JSON.
fn stamp(resource: Value, version: &str, at: OffsetDateTime) -> Vec<u8> {
    let Value::Object(object) = resource else {
        return serde_json::to_vec(&resource).unwrap_or_default();
    };
    let mut meta = match object.get("meta") {
        Some(Value::Object(meta)) => meta.clone(),
        _ => Map::new(),
    };
    let mut stamped_meta = Map::new();
    stamped_meta.insert("versionId".into(), json!(version));
    stamped_meta.insert("lastUpdated".into(), json!(instant(at)));
    for (key, value) in std::mem::take(&mut meta) {
        if key != "versionId" && key != "lastUpdated" {
            stamped_meta.insert(key, value);
        }
    }
    let mut out = Map::new();
    let mut placed = false;
    for (key, value) in object {
        if key == "meta" {
            continue;
        }
        let after_id = key == "id";
        out.insert(key, value);
        if after_id {
            out.insert("meta".into(), Value::Object(stamped_meta.clone()));
            placed = true;
        }
    }
    if !placed {
        out.insert("meta".into(), Value::Object(stamped_meta));
    }
    serde_json::to_vec(&Value::Object(out)).unwrap_or_default()
}

/// An instant as FHIR writes it, to the millisecond.
pub fn instant(at: OffsetDateTime) -> String {
    millis(at).format(&Rfc3339).unwrap_or_default()
}

/// `at` without its sub-millisecond part.
fn millis(at: OffsetDateTime) -> OffsetDateTime {
    at.replace_nanosecond(at.nanosecond() / 1_000_000 * 1_000_000)
        .unwrap_or(at)
}

/// The UTC date of an instant, `YYYY-MM-DD`.
pub fn date_of(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}",
        at.year(),
        u8::from(at.month()),
        at.day()
    )
}

/// A store of the loaded resources with each changed one replaced by its newest version.
fn rebuild(base: &Store, history: &FxHashMap<(TypeSlot, String), Vec<Version>>) -> Store {
    /// Batches stay well under the 4 GiB a batch may hold.
    const BATCH_BYTES: usize = 256 << 20;
    let mut builder = StoreBuilder::with_capacity(base.json_len());
    let mut batch = Batch::with_capacity(BATCH_BYTES.min(base.json_len() + 4096));
    let mut tree = Tree::default();
    for n in (0..base.len()).map(Idx::new) {
        let entry = base.entry(n);
        if history.contains_key(&(entry.type_slot, entry.id.to_owned())) {
            continue;
        }
        if tree.reparse(entry.json_bytes()).is_ok() {
            let _ = batch.add(tree.root(), entry.type_slot, entry.id);
        }
        if batch.json_len() > BATCH_BYTES {
            let full = std::mem::replace(&mut batch, Batch::with_capacity(BATCH_BYTES));
            let _ = builder.append(full);
        }
    }
    let mut newest: Vec<(&(TypeSlot, String), &Version)> = history
        .iter()
        .filter_map(|(key, versions)| Some((key, versions.last()?)))
        .collect();
    newest.sort_by(|a, b| a.0.cmp(b.0));
    let mut changed_tree = Tree::default();
    for ((slot, id), version) in newest {
        if changed_tree.reparse(&version.json).is_ok() {
            let _ = batch.add(changed_tree.root(), *slot, id);
        }
    }
    // A duplicate cannot happen: every (type, id) is added once.
    let _ = builder.append(batch);
    builder.finish().0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fhir::prior_auth::Decision;
    use crate::fhir::store_builder::testing::store_of;
    use time::macros::datetime;

    fn change(
        at: OffsetDateTime,
        resource_type: &'static str,
        id: &str,
        kind: ChangeKind,
    ) -> Change {
        Change {
            at,
            resource_type,
            id: id.to_owned(),
            kind,
            origin: Origin::Timeline(format!("t.ndjson:{id}")),
            note: String::new(),
        }
    }

    fn live() -> LiveData {
        let (store, _) = store_of(&[
            json!({"resourceType":"Patient","id":"p","meta":{"lastUpdated":"2026-01-01T00:00:00Z"}}),
            json!({"resourceType":"Coverage","id":"c","beneficiary":{"reference":"Patient/p"},
                   "period":{"start":"2026-01-01"}}),
        ]);
        LiveData::new(
            Arc::new(store),
            vec![
                change(
                    datetime!(2026-12-05 00:00 UTC),
                    "Coverage",
                    "c",
                    ChangeKind::Resource(Arc::new(json!({"resourceType":"Coverage","id":"c",
                        "beneficiary":{"reference":"Patient/p"},
                        "period":{"start":"2026-01-01","end":"@date"}}))),
                ),
                change(
                    datetime!(2026-12-03 00:00 UTC),
                    "ExplanationOfBenefit",
                    "pa",
                    ChangeKind::PriorAuth(PriorAuthChange::Decide {
                        decision: Decision::Approve,
                        item: None,
                        disposition: None,
                    }),
                ),
            ],
        )
    }

    #[test]
    fn changes_take_effect_in_time_order_as_versions() {
        let live = live();
        let before = live.at(datetime!(2026-12-01 00:00 UTC));
        assert!(before.applied().is_empty());
        let after = live.at(datetime!(2026-12-06 00:00 UTC));
        // The decision on an authorization the data lacks is skipped, not fatal.
        assert_eq!(after.applied().len(), 2);
        assert!(after.applied()[0].outcome.is_err());
        assert_eq!(after.applied()[1].outcome, Ok("2".to_owned()));
        let store = after.store();
        let (slot, _) = search_params::resource("Coverage").unwrap();
        let n = store.find(slot, "c").unwrap();
        let versions = after.versions(n);
        assert_eq!(versions.len(), 2);
        let newest: Value = serde_json::from_slice(&versions[1].json).unwrap();
        assert_eq!(newest["meta"]["versionId"], "2");
        assert_eq!(newest["meta"]["lastUpdated"], "2026-12-05T00:00:00Z");
        assert_eq!(newest["period"]["end"], "2026-12-05");
        // `meta` comes right after `id`.
        let keys: Vec<&String> = newest.as_object().unwrap().keys().collect();
        assert_eq!(keys[..3], ["resourceType", "id", "meta"]);
        // The same instant again is the same view; going back is the loaded data.
        assert!(Arc::ptr_eq(
            &after,
            &live.at(datetime!(2026-12-06 00:00 UTC))
        ));
        let back = live.at(datetime!(2026-12-01 00:00 UTC));
        assert_eq!(
            back.versions(back.store().find(slot, "c").unwrap()).len(),
            1
        );
    }

    #[test]
    fn a_prepared_change_is_the_version_the_data_then_serves() {
        let (store, _) = store_of(&[
            json!({"resourceType":"Patient","id":"p"}),
            json!({"resourceType":"ExplanationOfBenefit","id":"pa","use":"preauthorization",
                   "status":"active","outcome":"queued","patient":{"reference":"Patient/p"},
                   "item":[{"sequence":1,"quantity":{"value":2}}]}),
        ]);
        let live = LiveData::new(Arc::new(store), Vec::new());
        let approve = PriorAuthChange::Decide {
            decision: Decision::Approve,
            item: None,
            disposition: None,
        };
        let now = datetime!(2026-12-01 12:00:00.123456 UTC);
        let first = live.prepare_prior_auth("pa", approve.clone(), now).unwrap();
        // Prepared is not made: nothing changes until it is recorded.
        assert!(live.at(now).applied().is_empty());
        assert_eq!(first.version.version_id, "2");
        live.record(first.change.clone());
        let served = live.prior_auth_version("pa", "2", now).unwrap();
        assert_eq!(served.last_updated, first.version.last_updated);
        let parse = |json: &Bytes| serde_json::from_slice::<Value>(json).unwrap();
        assert_eq!(parse(&served.json), parse(&first.version.json));
        // A later change made "earlier" (another replica's clock a little behind) is due no
        // earlier than the one before it, so made changes apply in the order they were made.
        let pend = PriorAuthChange::Decide {
            decision: Decision::Pend,
            item: None,
            disposition: None,
        };
        let second = live
            .prepare_prior_auth("pa", pend, now - time::Duration::milliseconds(5))
            .unwrap();
        assert_eq!(second.change.at, now);
        assert_eq!(second.version.version_id, "3");
        live.record(second.change);
        let view = live.at(now);
        let outcomes: Vec<_> = view.applied().iter().map(|a| a.outcome.clone()).collect();
        assert_eq!(outcomes, [Ok("2".to_owned()), Ok("3".to_owned())]);
        assert!(live.prepare_prior_auth("nope", approve, now).is_err());
        live.forget_made();
        assert!(live.at(now).applied().is_empty());
    }

    #[test]
    fn instants_are_written_to_the_millisecond() {
        assert_eq!(
            instant(datetime!(2026-12-01 12:00:00.123456789 UTC)),
            "2026-12-01T12:00:00.123Z"
        );
        assert_eq!(date_of(datetime!(2026-12-01 23:30 -05:00)), "2026-12-02");
    }
}
