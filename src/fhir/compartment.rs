//! The only road from outside the FHIR core to member data (docs/access.md#scope-enforcement).
//!
//! `MemberData::open` answers the three questions every read, search and `$everything` asks, in
//! one call: is the type served here (else 404), do the caller's rights cover this interaction
//! on it (else 403), and whose compartment is it (the member's own, and nothing else). What it
//! returns, a `Compartment`, has private fields and offers only reads, searches and
//! `$everything` that are already confined to that member: a resource outside the compartment
//! reads as one that does not exist, and a search, an `_include` or `$everything` never adds one.
//! The raw store's read API is private to `crate::fhir`, so a handler cannot go around it.
//!
//! The caller's rights come in through `AccessRights`, which the OAuth core implements for its
//! grants; this module knows nothing of tokens.

use std::cell::OnceCell;
use std::fmt;
use std::sync::Arc;

use super::pieces::Pieces;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::apis::Api;
use super::date::Nanos;
use super::granular;
use super::live::{Change, DataView, LiveData, Version};
use super::search::matching::matches;
use super::search::query::Filter;
use super::search::{self, Handling, QueryError, render};
use super::search_params::{self, ParamIndex, ResourceDef, TypeSlot};
use super::store::{Idx, Indexed, Store, StoredResource};

/// What a caller may do with a type, as SMART scopes grant it: read (`.read`, `.r`) and search
/// (`.read`, `.s`), the two FHIR interactions a read-only server offers (FHIR R4 http §3.1.0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Read,
    Search,
}

impl Permission {
    pub fn verb(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Search => "search",
        }
    }
}

/// What rights grant of one type for one interaction (docs/access.md#granular-scopes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    Nothing,
    /// Every resource of the type in the compartment.
    Everything,
    /// Only the resources one of these constraint queries matches (`category=…|laboratory`).
    Matching(Vec<String>),
}

/// What a caller proves about itself: the member it acts for and what it may do. The OAuth
/// core's access grant implements it.
pub trait AccessRights {
    /// The member's Patient id.
    fn patient_id(&self) -> &str;
    /// What the rights grant of `resource_type` for `interaction`.
    fn grant(&self, resource_type: &str, interaction: Permission) -> Grant;
    /// The rights in words, for a 403's diagnostics (e.g. the granted scopes).
    fn describe(&self) -> String;

    /// Whether the rights cover `interaction` on `resource_type` at all.
    fn permits(&self, resource_type: &str, interaction: Permission) -> bool {
        self.grant(resource_type, interaction) != Grant::Nothing
    }
}

/// A `Grant` ready to test resources with: the constraint queries parsed for their type.
enum Rule {
    Nothing,
    Everything,
    /// Any of these filter lists (each one: every filter must match).
    AnyOf(Vec<Vec<Filter>>),
}

impl Rule {
    fn of(rights: &dyn AccessRights, def: &ResourceDef, interaction: Permission) -> Rule {
        match rights.grant(def.name, interaction) {
            Grant::Nothing => Rule::Nothing,
            Grant::Everything => Rule::Everything,
            // The OAuth core only grants constraints that parse; one that does not (the data
            // changed under a live token) lets nothing through rather than everything.
            Grant::Matching(queries) => Rule::AnyOf(
                queries
                    .iter()
                    .filter_map(|q| granular::parse(def.name, q).ok())
                    .collect(),
            ),
        }
    }

    fn allows(&self, store: &Store, n: Idx) -> bool {
        match self {
            Rule::Nothing => false,
            Rule::Everything => true,
            Rule::AnyOf(lists) => {
                let entry = store.entry(n);
                lists
                    .iter()
                    .any(|filters| filters.iter().all(|f| matches(store, &entry, f)))
            }
        }
    }
}

/// Why a compartment could not be opened, or a read or search in it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessError {
    /// The type is not one this server serves: 404.
    UnknownType(String),
    /// The rights do not cover the interaction on the type: 403.
    Forbidden {
        resource_type: &'static str,
        interaction: Permission,
        rights: String,
    },
    /// No such resource, or not in the member's compartment: 404 (existence is not disclosed).
    NotFound(String),
    /// A malformed request (a bad parameter value, or an unknown one under strict handling): 400.
    Invalid(String),
}

impl From<QueryError> for AccessError {
    fn from(e: QueryError) -> Self {
        AccessError::Invalid(e.0)
    }
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownType(t) => write!(f, "resource type {t} is not served here"),
            Self::Forbidden {
                resource_type,
                interaction,
                rights,
            } => write!(
                f,
                "the granted scopes ({rights}) do not allow {} of {resource_type}",
                interaction.verb()
            ),
            Self::NotFound(m) | Self::Invalid(m) => f.write_str(m),
        }
    }
}

/// The member data, as the rest of the server may reach it: the data at one instant
/// (`at`), whose one operation opens a member's compartment.
#[derive(Clone)]
pub struct MemberData {
    live: Arc<LiveData>,
}

/// How long a prior authorization stays in the Patient Access API after its last change
/// (docs/data.md#retention): CMS-0057-F's minimum, one year.
pub const PRIOR_AUTH_RETENTION_DAYS: i64 = 365;

impl MemberData {
    /// The loaded data, with its timeline of scheduled changes.
    pub fn new(store: Arc<Store>, timeline: Vec<Change>) -> Self {
        Self {
            live: Arc::new(LiveData::new(store, timeline)),
        }
    }

    /// The data as it is at `now` (the request's one reading of the sandbox clock).
    pub fn at(&self, now: OffsetDateTime) -> DataAt {
        DataAt {
            view: self.live.at(now),
            now,
        }
    }

    /// Its changes: the timeline, and those the control API makes.
    pub fn changes(&self) -> &LiveData {
        &self.live
    }
}

/// The member data at one instant: the same for the whole of a request.
pub struct DataAt {
    view: Arc<DataView>,
    now: OffsetDateTime,
}

impl DataAt {
    /// The member's compartment of one type, once the type is known to be served and the rights
    /// cover the interaction on it.
    pub fn open<'a>(
        &'a self,
        rights: &'a dyn AccessRights,
        resource_type: &str,
        interaction: Permission,
    ) -> Result<Compartment<'a>, AccessError> {
        let (type_slot, def) = search_params::resource(resource_type)
            .filter(|(_, def)| Api::PatientAccess.serves(def.name))
            .ok_or_else(|| AccessError::UnknownType(resource_type.to_owned()))?;
        if !rights.permits(def.name, interaction) {
            return Err(AccessError::Forbidden {
                resource_type: def.name,
                interaction,
                rights: rights.describe(),
            });
        }
        let store = self.view.store();
        Ok(Compartment {
            store,
            view: Some(&self.view),
            scope: Scope::Member(store.patient(rights.patient_id())),
            rights,
            type_slot,
            def,
            search_rule: Rule::of(rights, def, Permission::Search),
            read_rules: OnceCell::new(),
            retention: Retention::at(self.now),
        })
    }

    /// How many resources the data holds in all (for start-up figures, not for any caller).
    pub fn len(&self) -> usize {
        self.view.store().len()
    }

    pub fn is_empty(&self) -> bool {
        self.view.store().is_empty()
    }
}

/// Which prior authorizations have dropped out (docs/data.md#retention): those whose last
/// change (`meta.lastUpdated`) is more than `PRIOR_AUTH_RETENTION_DAYS` before now.
struct Retention {
    eob: Option<(TypeSlot, ParamIndex)>,
    cutoff: Nanos,
}

impl Retention {
    /// Nothing drops out (public data holds no prior authorization).
    fn none() -> Retention {
        Retention {
            eob: None,
            cutoff: 0,
        }
    }

    fn at(now: OffsetDateTime) -> Retention {
        let eob = search_params::resource("ExplanationOfBenefit")
            .and_then(|(slot, def)| Some((slot, def.find("use")?.0)));
        let cutoff = (now - time::Duration::days(PRIOR_AUTH_RETENTION_DAYS)).unix_timestamp_nanos();
        Retention { eob, cutoff }
    }

    fn retired(&self, store: &Store, entry: &StoredResource) -> bool {
        let Some((slot, use_param)) = self.eob else {
            return false;
        };
        entry.type_slot == slot
            && entry.last_updated.is_some_and(|lu| lu < self.cutoff)
            && entry.values(use_param).iter().any(|v| {
                matches!(v, Indexed::Token { code, .. } if store.text(*code) == "preauthorization")
            })
    }
}

/// Where the server is and when it answers: what a Bundle's URLs and `meta.lastUpdated` need.
#[derive(Debug, Clone, Copy)]
pub struct Site<'a> {
    /// The absolute FHIR base URL, without a trailing slash.
    pub base: &'a str,
    /// The request's one reading of the sandbox clock.
    pub now: OffsetDateTime,
    /// The plan's search behaviour (docs/plans.md#behaviour-profiles).
    pub rules: &'a search::SearchRules,
}

/// A searchset Bundle, and the `next` link it offers (for the request log).
#[derive(Debug, Clone)]
pub struct SearchResult {
    pub body: Pieces,
    pub next: Option<String>,
}

/// One member's resources of one type, as a caller with the given rights may see them.
pub struct Compartment<'a> {
    store: &'a Store,
    /// The state of changing data it reads (`None`: public data, which never changes).
    view: Option<&'a DataView>,
    scope: Scope,
    rights: &'a dyn AccessRights,
    type_slot: TypeSlot,
    def: &'static ResourceDef,
    /// What a search of this type may return.
    search_rule: Rule,
    /// What may be read of each type (by slot): reads, `_include`, `_revinclude`, `$everything`.
    /// Worked out on first use, so that a plain search pays nothing for it.
    read_rules: OnceCell<Vec<Rule>>,
    retention: Retention,
}

impl<'a> Compartment<'a> {
    pub fn resource_type(&self) -> &'static str {
        self.def.name
    }

    /// The resource with this id, if it is in the compartment.
    pub fn read(&self, id: &str) -> Result<StoredResource<'a>, AccessError> {
        self.store
            .find(self.type_slot, id)
            .filter(|&n| self.sees(n) && self.allowed(n, Permission::Read))
            .map(|n| self.store.entry(n))
            .ok_or_else(|| AccessError::NotFound(format!("{}/{id} is not known", self.def.name)))
    }

    /// Every version of the resource with this id, oldest first, if the resource (as it is now)
    /// is in the compartment and readable: history is never wider than a read.
    pub fn history(&self, id: &str) -> Result<Vec<Version>, AccessError> {
        let current = self.read(id)?;
        Ok(match self.view {
            Some(view) => view.versions(current.number()),
            None => vec![Version {
                version_id: current.version_id.to_owned(),
                last_updated: current.last_updated,
                json: current.json(),
            }],
        })
    }

    /// A search of the type (FHIR R4 search), confined to the compartment before totals and
    /// paging. Unknown parameters are reported in the Bundle, or refused under strict handling.
    pub fn search(
        &self,
        pairs: &[(String, String)],
        handling: Handling,
        site: &Site,
    ) -> Result<SearchResult, AccessError> {
        let chains = if self.chains_allowed() {
            search::Chains::Run
        } else {
            search::Chains::Ignore
        };
        let (pairs, ignored) = site.rules.filter(pairs);
        let mut request = search::parse_with(self.def, &pairs, chains)?;
        site.rules.apply(&pairs, &mut request, ignored);
        request.check(handling)?;
        let page = search::run(self, &request);
        let url = format!("{}/{}", site.base, self.def.name);
        Ok(self.render(&url, &request, &page, site))
    }

    /// `Patient/{id}/$everything` (FHIR R4 Patient-everything): the member's Patient, then every
    /// resource of the compartment the rights let the caller read, through the search pipeline
    /// (its paging, links, strict handling and OperationOutcome note).
    pub fn everything(
        &self,
        id: &str,
        pairs: &[(String, String)],
        handling: Handling,
        site: &Site,
    ) -> Result<SearchResult, AccessError> {
        let patient = self.read(id)?;
        let mut request = search::parse_everything(pairs)?;
        site.rules.apply(pairs, &mut request, Vec::new());
        request.check(handling)?;
        let page = search::run_everything(self, patient.number(), &request);
        let url = format!("{}/{}/{id}/$everything", site.base, self.def.name);
        Ok(self.render(&url, &request, &page, site))
    }

    fn render(
        &self,
        url: &str,
        request: &search::SearchRequest,
        page: &search::Page,
        site: &Site,
    ) -> SearchResult {
        let now = site.now.format(&Rfc3339).unwrap_or_default();
        let target = render::BundleUrls {
            base: site.base,
            search_url: url,
            now: &now,
        };
        let (body, next) = render::render(self.store, &target, request, page);
        SearchResult { body, next }
    }

    // What the search engine, includes and `$everything` ask, inside the FHIR core only.

    pub(in crate::fhir) fn store(&self) -> &'a Store {
        self.store
    }

    pub(in crate::fhir) fn type_slot(&self) -> TypeSlot {
        self.type_slot
    }

    pub(in crate::fhir) fn permits(&self, resource_type: &str, interaction: Permission) -> bool {
        self.rights.permits(resource_type, interaction)
    }

    /// Inside the member's compartment (in public data: anything).
    pub(in crate::fhir) fn sees(&self, n: Idx) -> bool {
        match self.scope {
            Scope::Member(member) => member.is_some_and(|m| self.store.is_visible(m, n)),
            Scope::Public => true,
        }
    }

    /// Whether the rights let the caller have this resource for `interaction`: its type is
    /// granted, and a granular scope's constraint, if that is all it has, matches it.
    pub(in crate::fhir) fn allowed(&self, n: Idx, interaction: Permission) -> bool {
        let entry = self.store.entry(n);
        if self.retention.retired(self.store, &entry) {
            return false;
        }
        let slot = entry.type_slot;
        let rule = match interaction {
            Permission::Search if slot == self.type_slot => &self.search_rule,
            _ => match self.read_rules().get(slot.index()) {
                Some(rule) => rule,
                None => return false,
            },
        };
        rule.allows(self.store, n)
    }

    fn read_rules(&self) -> &[Rule] {
        self.read_rules.get_or_init(|| {
            search_params::slots()
                .map(|(_, def)| Rule::of(self.rights, def, Permission::Read))
                .collect()
        })
    }

    /// What `_include`, `_revinclude` and `$everything` may add: inside the compartment and
    /// readable under the rights.
    pub(in crate::fhir) fn may_add(&self, n: Idx) -> bool {
        self.sees(n) && self.allowed(n, Permission::Read)
    }

    /// The member's resources of one type (in public data: all of them), in default order.
    pub(in crate::fhir) fn visible_list(&self, type_slot: TypeSlot) -> &'a [Idx] {
        match self.scope {
            Scope::Member(Some(m)) => self.store.visible_list(m, type_slot),
            Scope::Member(None) => &[],
            Scope::Public => self.store.all_of_type(type_slot),
        }
    }

    /// Whether chained parameters may be searched: in public data only, where a chain cannot
    /// reach anything a read could not (docs/fhir-api.md#not-supported).
    pub(in crate::fhir) fn chains_allowed(&self) -> bool {
        self.scope == Scope::Public
    }
}

/// Whose resources a compartment holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// One member's (`None`: a member whose Patient is not in the data, who sees nothing).
    Member(Option<Idx>),
    /// Everything in a public API's store, which holds no member data at all.
    Public,
}

/// The public data of one API (the provider directory, the formulary): its own store, loaded
/// from its own files, which the loader refuses member types in (docs/directory.md). Opening
/// it needs no rights, and it cannot reach member data: there is none in it.
#[derive(Clone)]
pub struct PublicData {
    api: Api,
    store: Arc<Store>,
}

/// The rights anyone has on public data: every interaction on every type the API serves.
struct Anyone;

impl AccessRights for Anyone {
    fn patient_id(&self) -> &str {
        ""
    }

    fn grant(&self, _resource_type: &str, _interaction: Permission) -> Grant {
        Grant::Everything
    }

    fn describe(&self) -> String {
        "public data: no token needed".to_owned()
    }
}

static ANYONE: Anyone = Anyone;

impl PublicData {
    pub fn new(api: Api, store: Arc<Store>) -> Self {
        Self { api, store }
    }

    pub fn api(&self) -> Api {
        self.api
    }

    /// The resources of one type, if the API serves it (else 404).
    pub fn open(&self, resource_type: &str) -> Result<Compartment<'_>, AccessError> {
        let (type_slot, def) = search_params::resource(resource_type)
            .filter(|(_, def)| self.api.serves(def.name))
            .ok_or_else(|| AccessError::UnknownType(resource_type.to_owned()))?;
        Ok(Compartment {
            store: &self.store,
            view: None,
            scope: Scope::Public,
            rights: &ANYONE,
            type_slot,
            def,
            search_rule: Rule::Everything,
            read_rules: OnceCell::new(),
            retention: Retention::none(),
        })
    }

    /// How many resources it holds.
    pub fn len(&self) -> usize {
        self.store.len()
    }

    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }
}
