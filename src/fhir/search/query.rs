//! Parsing a search request (FHIR R4 search; docs/fhir-api.md#search) from its decoded name/value pairs into
//! filters (repeated parameter = AND, comma = OR) and result controls. A malformed value of a
//! known parameter, or a modifier the server does not support, is an error (400); an unknown
//! parameter is only noted, so the caller can report it or, under `Prefer: handling=strict`,
//! refuse it.

use crate::fhir::date::{self, DateRange, Nanos};
use crate::fhir::extract::{Reference, normalise};
use crate::fhir::search_params::{self, ParamDef, ParamIndex, ParamType, ResourceDef, TypeSlot};

/// `_count` when the request names none, and the most one page holds (docs/fhir-api.md#result-controls).
pub const DEFAULT_COUNT: usize = 50;
pub const MAX_COUNT: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Sa,
    Eb,
    Ap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modifier {
    None,
    Missing,
    Not,
    Exact,
    Contains,
    /// `reference:Type`: only references to that type.
    Type(&'static str),
}

#[derive(Debug, Clone, PartialEq)]
pub enum FilterValue {
    /// `system` `None`: any system; `Some(None)`: no system (`|code`); `code` `None`: `system|`.
    Token {
        system: Option<Option<String>>,
        code: Option<String>,
    },
    Date(Prefix, DateRange),
    Reference {
        resource_type: Option<String>,
        id: String,
    },
    Text(String),
    Uri(String),
    Missing(bool),
}

#[derive(Debug, Clone)]
pub struct Filter {
    pub param: ParamIndex,
    pub def: &'static ParamDef,
    pub modifier: Modifier,
    /// Any of these (comma = OR).
    pub values: Vec<FilterValue>,
    /// A chained parameter (`location.address-city=Boston`): `param` is the reference, and the
    /// resource matches when one of its targets matches `inner` (FHIR R4 search §3.1.1.4.12,
    /// one level).
    pub chain: Option<Chain>,
}

#[derive(Debug, Clone)]
pub struct Chain {
    /// The type the chain reaches: the first of the reference's targets that has the
    /// parameter.
    pub target: TypeSlot,
    pub inner: Box<Filter>,
}

/// `_include` / `_revinclude`: `source:param[:target]`, or `source:*`.
#[derive(Debug, Clone)]
pub struct IncludeSpec {
    pub source_slot: TypeSlot,
    /// `None` for `*`: every reference parameter of the source type.
    pub param: Option<ParamIndex>,
    pub target: Option<&'static str>,
    pub iterate: bool,
}

#[derive(Debug, Clone)]
pub enum SortKey {
    LastUpdated { descending: bool },
    Date { param: ParamIndex, descending: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Summary {
    Full,
    Count,
    /// `_summary=data`: without the narrative.
    Data,
}

#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub filters: Vec<Filter>,
    pub count: usize,
    pub offset: usize,
    pub includes: Vec<IncludeSpec>,
    pub revincludes: Vec<IncludeSpec>,
    pub sort: Vec<SortKey>,
    pub summary: Summary,
    /// `_total=none` drops `Bundle.total`.
    pub total: bool,
    pub elements: Option<Vec<String>>,
    /// Parameters ignored, each with the reason, for the OperationOutcome entry.
    pub ignored: Vec<String>,
    /// The pairs paging links repeat: the parameters the server used, but `_count` and
    /// `_offset` (FHIR R4 search: the `self` link shows what was actually applied).
    pub echo: Vec<(String, String)>,
    /// `$everything`'s `_type`: only these type slots (`None`: every type).
    pub types: Option<Vec<TypeSlot>>,
    /// `$everything`'s `_since`: only resources updated at or after this instant.
    pub since: Option<Nanos>,
}

/// `Prefer: handling` (FHIR R4 search §3.1.1.3.4 "Handling errors"): lenient, the default,
/// ignores unknown parameters and says so in the Bundle; strict refuses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Handling {
    #[default]
    Lenient,
    Strict,
}

impl SearchRequest {
    fn new() -> Self {
        SearchRequest {
            filters: Vec::new(),
            count: DEFAULT_COUNT,
            offset: 0,
            includes: Vec::new(),
            revincludes: Vec::new(),
            sort: Vec::new(),
            summary: Summary::Full,
            total: true,
            elements: None,
            ignored: Vec::new(),
            echo: Vec::new(),
            types: None,
            since: None,
        }
    }

    /// Under strict handling, any ignored parameter is an error.
    pub fn check(&self, handling: Handling) -> Result<(), QueryError> {
        if handling == Handling::Strict && !self.ignored.is_empty() {
            return Err(QueryError(self.ignored.join("; ")));
        }
        Ok(())
    }

    fn used(&mut self, name: &str, value: &str) {
        if name != "_count" && name != "_offset" {
            self.echo.push((name.to_owned(), value.to_owned()));
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError(pub String);

/// Parameters accepted and without effect on the result.
const NO_EFFECT: &[&str] = &["_format", "_pretty"];

/// Whether chained parameters are run (public data) or ignored and reported (member data,
/// docs/fhir-api.md#not-supported).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chains {
    Run,
    Ignore,
}

pub fn parse(
    def: &'static ResourceDef,
    pairs: &[(String, String)],
) -> Result<SearchRequest, QueryError> {
    parse_with(def, pairs, Chains::Ignore)
}

pub fn parse_with(
    def: &'static ResourceDef,
    pairs: &[(String, String)],
    chains: Chains,
) -> Result<SearchRequest, QueryError> {
    let mut request = SearchRequest::new();
    for (raw_name, value) in pairs {
        let name = raw_name.trim();
        if value.is_empty() {
            continue;
        }
        if NO_EFFECT.contains(&name) {
            request.used(name, value);
            continue;
        }
        let (base, modifier) = match name.split_once(':') {
            Some((b, m)) => (b, Some(m)),
            None => (name, None),
        };
        match base {
            "_count" => request.count = parse_count(value)?,
            "_offset" => request.offset = parse_number(name, value)?,
            "_include" | "_revinclude" => {
                let iterate = match modifier {
                    None => false,
                    Some("iterate" | "recurse") => true,
                    Some(other) => {
                        return Err(QueryError(format!(
                            "{base}:{other}: unsupported modifier (use :iterate)"
                        )));
                    }
                };
                let mut kept = Vec::new();
                for item in value.split(',') {
                    match parse_include(item.trim(), iterate) {
                        Ok(spec) => {
                            kept.push(item.trim());
                            if base == "_include" {
                                request.includes.push(spec);
                            } else {
                                request.revincludes.push(spec);
                            }
                        }
                        Err(why) => request.ignored.push(format!("{base}={item}: {why}")),
                    }
                }
                if !kept.is_empty() {
                    request.used(name, &kept.join(","));
                }
            }
            "_sort" => {
                let mut kept = Vec::new();
                for key in value.split(',') {
                    match parse_sort(def, key.trim()) {
                        Some(k) => {
                            kept.push(key.trim());
                            request.sort.push(k);
                        }
                        None => request.ignored.push(format!(
                            "_sort={key}: not a sortable parameter of {}",
                            def.name
                        )),
                    }
                }
                if !kept.is_empty() {
                    request.used(name, &kept.join(","));
                }
            }
            "_summary" => {
                match value.as_str() {
                    "count" => request.summary = Summary::Count,
                    "data" => request.summary = Summary::Data,
                    "false" => request.summary = Summary::Full,
                    other => {
                        request.ignored.push(format!(
                            "_summary={other}: not supported (count, data and false are); full resources returned"
                        ));
                        continue;
                    }
                }
                request.used(name, value);
            }
            "_total" => {
                match value.as_str() {
                    "none" => request.total = false,
                    "estimate" | "accurate" => request.total = true,
                    other => {
                        return Err(QueryError(format!(
                            "_total={other}: use none, estimate or accurate"
                        )));
                    }
                }
                request.used(name, value);
            }
            "_elements" => {
                request.elements = Some(
                    value
                        .split(',')
                        .map(|e| e.trim().to_owned())
                        .filter(|e| !e.is_empty())
                        .collect(),
                );
                request.used(name, value);
            }
            _ => match def.find(base) {
                Some((param, param_def)) => {
                    request
                        .filters
                        .push(parse_filter(param, param_def, modifier, value)?);
                    request.used(name, value);
                }
                None => match base.split_once('.') {
                    Some((outer, inner)) if chains == Chains::Run => {
                        match parse_chain(def, outer, inner, modifier, value)? {
                            Some(filter) => {
                                request.filters.push(filter);
                                request.used(name, value);
                            }
                            None => request.ignored.push(format!(
                                "{name}: not a chained parameter of {} (one level: a reference parameter, then a parameter of its target)",
                                def.name
                            )),
                        }
                    }
                    Some(_) => request.ignored.push(format!(
                        "{name}: chained parameters are not supported on the Patient Access API"
                    )),
                    None => request
                        .ignored
                        .push(format!("{name}: unknown search parameter for {}", def.name)),
                },
            },
        }
    }
    Ok(request)
}

/// `Patient/{id}/$everything`'s parameters (FHIR R4 Patient-everything): `_count` and `_offset`
/// page it like a search, `_type` (comma list) and `_since` (an instant) narrow it; anything
/// else is noted as ignored, like an unknown search parameter.
pub fn parse_everything(pairs: &[(String, String)]) -> Result<SearchRequest, QueryError> {
    let mut request = SearchRequest::new();
    for (raw_name, value) in pairs {
        let name = raw_name.trim();
        if value.is_empty() {
            continue;
        }
        match name {
            "_count" => request.count = parse_count(value)?,
            "_offset" => request.offset = parse_number(name, value)?,
            "_type" => {
                let mut slots = Vec::new();
                let mut kept = Vec::new();
                for t in value.split(',').map(str::trim) {
                    match search_params::resource(t) {
                        Some((slot, _)) => {
                            slots.push(slot);
                            kept.push(t);
                        }
                        None => request
                            .ignored
                            .push(format!("_type={t}: not a type this server serves")),
                    }
                }
                request.types.get_or_insert_with(Vec::new).extend(slots);
                if !kept.is_empty() {
                    request.used(name, &kept.join(","));
                }
            }
            "_since" => {
                let range = date::parse(&value.replace(' ', "+"))
                    .ok_or_else(|| QueryError(format!("_since={value}: not a FHIR instant")))?;
                request.since = Some(range.start);
                request.used(name, value);
            }
            _ if NO_EFFECT.contains(&name) => request.used(name, value),
            other => request
                .ignored
                .push(format!("{other}: not a parameter of $everything")),
        }
    }
    Ok(request)
}

fn parse_number(name: &str, value: &str) -> Result<usize, QueryError> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(QueryError(format!(
            "{name}={value}: must be a non-negative integer"
        )));
    }
    // All digits: only overflow can fail, and a huge number means "as many as possible".
    Ok(value.parse().unwrap_or(usize::MAX))
}

fn parse_count(value: &str) -> Result<usize, QueryError> {
    Ok(parse_number("_count", value)?.min(MAX_COUNT))
}

fn parse_include(item: &str, iterate: bool) -> Result<IncludeSpec, String> {
    let mut parts = item.split(':');
    let source = parts.next().unwrap_or_default();
    let param = parts.next().ok_or("expected Type:parameter")?;
    let target = parts.next();
    if parts.next().is_some() {
        return Err("expected Type:parameter[:targetType]".to_owned());
    }
    let (source_slot, source_def) =
        search_params::resource(source).ok_or_else(|| format!("unknown type {source}"))?;
    let target = match target {
        None => None,
        Some(t) => Some(
            search_params::resource(t)
                .map(|(_, d)| d.name)
                .ok_or_else(|| format!("unknown target type {t}"))?,
        ),
    };
    let param = if param == "*" {
        None
    } else {
        match source_def.find(param) {
            Some((index, def)) if def.kind == ParamType::Reference => Some(index),
            Some(_) => return Err(format!("{param} is not a reference parameter")),
            None => return Err(format!("{source} has no search parameter {param}")),
        }
    };
    Ok(IncludeSpec {
        source_slot,
        param,
        target,
        iterate,
    })
}

fn parse_sort(def: &ResourceDef, key: &str) -> Option<SortKey> {
    let (descending, name) = match key.strip_prefix('-') {
        Some(name) => (true, name),
        None => (false, key),
    };
    if name == "_lastUpdated" {
        return Some(SortKey::LastUpdated { descending });
    }
    match def.find(name) {
        Some((param, p)) if p.kind == ParamType::Date => Some(SortKey::Date { param, descending }),
        _ => None,
    }
}

fn parse_filter(
    param: ParamIndex,
    def: &'static ParamDef,
    modifier: Option<&str>,
    value: &str,
) -> Result<Filter, QueryError> {
    let name = def.name;
    let modifier = match (modifier, def.kind) {
        (None, _) => Modifier::None,
        (Some("missing"), _) => Modifier::Missing,
        (Some("not"), ParamType::Token) => Modifier::Not,
        (Some("exact"), ParamType::String) => Modifier::Exact,
        (Some("contains"), ParamType::String) => Modifier::Contains,
        (Some(t), ParamType::Reference) if def.targets.contains(&t) => Modifier::Type(
            def.targets
                .iter()
                .copied()
                .find(|x| *x == t)
                .unwrap_or_default(),
        ),
        (Some(other), _) => {
            return Err(QueryError(format!(
                "{name}:{other}: modifier not supported for this {} parameter",
                def.kind.code()
            )));
        }
    };
    let mut values = Vec::new();
    for item in split_escaped(value, ',') {
        if item.is_empty() {
            continue;
        }
        let parsed = if modifier == Modifier::Missing {
            match item.as_str() {
                "true" => FilterValue::Missing(true),
                "false" => FilterValue::Missing(false),
                _ => {
                    return Err(QueryError(format!(
                        "{name}:missing={item}: must be true or false"
                    )));
                }
            }
        } else {
            match def.kind {
                ParamType::Token => token_value(&item),
                ParamType::Date => date_value(name, &item)?,
                ParamType::Reference => reference_value(name, &item, modifier)?,
                ParamType::String => FilterValue::Text(if modifier == Modifier::Exact {
                    item.clone()
                } else {
                    normalise(&item)
                }),
                ParamType::Uri => FilterValue::Uri(item.clone()),
            }
        };
        values.push(parsed);
    }
    Ok(Filter {
        param,
        def,
        modifier,
        values,
        chain: None,
    })
}

/// `outer.inner[:modifier]=value`: a chain through the reference parameter `outer` of `def`
/// to the parameter `inner` of its first target type that has one. `Ok(None)`: not a chain
/// this server runs (the caller reports it as ignored).
fn parse_chain(
    def: &'static ResourceDef,
    outer: &str,
    inner: &str,
    modifier: Option<&str>,
    value: &str,
) -> Result<Option<Filter>, QueryError> {
    let Some((param, outer_def)) = def
        .find(outer)
        .filter(|(_, p)| p.kind == ParamType::Reference)
    else {
        return Ok(None);
    };
    for target in outer_def.targets {
        let Some((slot, target_def)) = search_params::resource(target) else {
            continue;
        };
        if let Some((inner_param, inner_def)) = target_def.find(inner) {
            let inner = parse_filter(inner_param, inner_def, modifier, value)?;
            return Ok(Some(Filter {
                param,
                def: outer_def,
                modifier: Modifier::None,
                values: Vec::new(),
                chain: Some(Chain {
                    target: slot,
                    inner: Box::new(inner),
                }),
            }));
        }
    }
    Ok(None)
}

/// Splits on unescaped `sep` and removes the escapes (FHIR R4 search §3.1.1.4.8 "Escaping").
fn split_escaped(text: &str, sep: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(next) if next == sep => {
                    parts.last_mut().into_iter().for_each(|p| p.push(next))
                }
                Some(next) => parts.last_mut().into_iter().for_each(|p| {
                    p.push('\\');
                    p.push(next);
                }),
                None => parts.last_mut().into_iter().for_each(|p| p.push('\\')),
            },
            c if c == sep => parts.push(String::new()),
            c => parts.last_mut().into_iter().for_each(|p| p.push(c)),
        }
    }
    parts
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (c, chars.clone().next()) {
            ('\\', Some(next @ ('\\' | '|' | '$' | ','))) => {
                out.push(next);
                chars.next();
            }
            _ => out.push(c),
        }
    }
    out
}

fn token_value(item: &str) -> FilterValue {
    let parts = split_escaped(item, '|');
    match parts.as_slice() {
        [code] => FilterValue::Token {
            system: None,
            code: Some(unescape(code)),
        },
        [system, code] => FilterValue::Token {
            system: Some((!system.is_empty()).then(|| unescape(system))),
            code: (!code.is_empty()).then(|| unescape(code)),
        },
        _ => {
            // More than one `|`: the code keeps the rest (identifier values may contain one).
            let (system, code) = item.split_once('|').unwrap_or((item, ""));
            FilterValue::Token {
                system: Some((!system.is_empty()).then(|| unescape(system))),
                code: Some(unescape(code)),
            }
        }
    }
}

fn date_value(name: &str, item: &str) -> Result<FilterValue, QueryError> {
    let prefixes = [
        ("eq", Prefix::Eq),
        ("ne", Prefix::Ne),
        ("gt", Prefix::Gt),
        ("lt", Prefix::Lt),
        ("ge", Prefix::Ge),
        ("le", Prefix::Le),
        ("sa", Prefix::Sa),
        ("eb", Prefix::Eb),
        ("ap", Prefix::Ap),
    ];
    let starts_with_letters =
        item.len() >= 2 && item.as_bytes()[..2].iter().all(u8::is_ascii_alphabetic);
    let (prefix, rest) = if starts_with_letters {
        let prefix = prefixes
            .iter()
            .find(|(text, _)| item.starts_with(text))
            .map(|(_, p)| *p)
            .ok_or_else(|| {
                QueryError(format!(
                    "{name}={item}: unknown prefix (use eq, ne, gt, lt, ge, le, sa, eb or ap)"
                ))
            })?;
        (prefix, &item[2..])
    } else {
        (Prefix::Eq, item)
    };
    // A `+` offset sent unencoded arrives as a space.
    let lenient = rest.trim().replace(' ', "+");
    let range = date::parse(&lenient).ok_or_else(|| {
        QueryError(format!(
            "{name}={item}: not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm:ss[.f][Z|±hh:mm])"
        ))
    })?;
    Ok(FilterValue::Date(prefix, range))
}

fn reference_value(name: &str, item: &str, modifier: Modifier) -> Result<FilterValue, QueryError> {
    let item = item.trim();
    if let Some(r) = Reference::parse(item) {
        if let Modifier::Type(t) = modifier {
            if *r.resource_type != *t {
                return Err(QueryError(format!(
                    "{name}:{t}={item}: the value names another type"
                )));
            }
        }
        return Ok(FilterValue::Reference {
            resource_type: Some(r.resource_type.into()),
            id: r.id.into(),
        });
    }
    if item.contains('/') || item.contains(':') {
        return Err(QueryError(format!(
            "{name}={item}: expected id, Type/id or an absolute URL ending in Type/id"
        )));
    }
    Ok(FilterValue::Reference {
        resource_type: match modifier {
            Modifier::Type(t) => Some(t.to_owned()),
            _ => None,
        },
        id: item.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eob() -> &'static ResourceDef {
        search_params::resource("ExplanationOfBenefit").unwrap().1
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn tokens_prefixes_and_references() {
        let r = parse(
            eob(),
            &pairs(&[
                ("type", "s|c,|bare,sys|,plain"),
                ("service-date", "ge2020-01-01T00:00:00 05:00"),
                ("patient", "Patient/p1"),
            ]),
        )
        .unwrap();
        assert_eq!(r.filters.len(), 3);
        assert_eq!(
            r.filters[0].values,
            vec![
                FilterValue::Token {
                    system: Some(Some("s".into())),
                    code: Some("c".into())
                },
                FilterValue::Token {
                    system: Some(None),
                    code: Some("bare".into())
                },
                FilterValue::Token {
                    system: Some(Some("sys".into())),
                    code: None
                },
                FilterValue::Token {
                    system: None,
                    code: Some("plain".into())
                },
            ]
        );
        assert!(matches!(
            r.filters[1].values[0],
            FilterValue::Date(Prefix::Ge, _)
        ));
        assert_eq!(
            r.filters[2].values[0],
            FilterValue::Reference {
                resource_type: Some("Patient".into()),
                id: "p1".into()
            }
        );
    }

    #[test]
    fn bad_values_are_errors_unknown_names_are_notes() {
        for (name, value) in [
            ("service-date", "xx2020"),
            ("service-date", "2020-13-01"),
            ("_count", "-1"),
            ("_count", "ten"),
            ("type:exact", "x"),
            ("patient", "a/b/c:d"),
            ("_total", "maybe"),
        ] {
            assert!(
                parse(eob(), &pairs(&[(name, value)])).is_err(),
                "{name}={value}"
            );
        }
        let r = parse(eob(), &pairs(&[("foo", "bar"), ("_include", "Nope:x")])).unwrap();
        assert_eq!(r.ignored.len(), 2);
        let r = parse(eob(), &pairs(&[("_count", "99999999999999999999999")])).unwrap();
        assert_eq!(r.count, MAX_COUNT);
    }

    #[test]
    fn escapes() {
        assert_eq!(split_escaped(r"a\,b,c", ','), vec!["a,b", "c"]);
        assert_eq!(
            token_value(r"s|a\|b"),
            FilterValue::Token {
                system: Some(Some("s".into())),
                code: Some("a|b".into())
            }
        );
    }
}
