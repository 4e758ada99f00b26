//! Changing a prior authorization (docs/data.md#changing-a-prior-authorization): a decision
//! (approve, partially approve, deny, pend, cancel) or units used, applied to the current version
//! of a Da Vinci PDex 2.0.0 "PDex Prior Authorization" (an ExplanationOfBenefit with `use`
//! `preauthorization`, with the Da Vinci PAS 2.0.1 item extensions) to give its next version.
//!
//! The encoding is the one the embedded data uses (and the conformance suite checks): the X12
//! 306 review action on each item's and the header's `submitted` adjudication; units approved
//! as the `allowedunits` adjudication and the PAS `itemAuthorizedDetail` quantity; units used as
//! `consumedunits` and the `utilized` total's PDex `PriorAuthorizationUtilization`; a denial's
//! reason as a `denialreason` adjudication with an X12 claim adjustment reason code. Plain JSON
//! in, plain JSON out: the store gives the change its version and `meta.lastUpdated`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

const PDEX: &str = "http://hl7.org/fhir/us/davinci-pdex/StructureDefinition/";
const PAS: &str = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/";
const DISCRIMINATOR: &str =
    "http://hl7.org/fhir/us/davinci-pdex/CodeSystem/PDexAdjudicationDiscriminator";
const VALUE_CODES: &str =
    "http://hl7.org/fhir/us/davinci-pdex/CodeSystem/PriorAuthorizationValueCodes";
const X12_306: &str = "https://codesystem.x12.org/005010/306";
const CARC: &str = "https://x12.org/codes/claim-adjustment-reason-codes";
const UCUM: &str = "http://unitsofmeasure.org";

/// The X12 claim adjustment reason codes a denial may give, with their texts: the ones a
/// utilization review uses (the profile binds the reason to X12 CARC and CMS RARC).
pub const DENIAL_REASONS: &[(&str, &str)] = &[
    (
        "50",
        "These are non-covered services because this is not deemed a 'medical necessity' by the payer.",
    ),
    ("96", "Non-covered charge(s)."),
    (
        "150",
        "Payer deems the information submitted does not support this level of service.",
    ),
    (
        "151",
        "Payment adjusted because the payer deems the information submitted does not support this many/frequency of services.",
    ),
    (
        "197",
        "Precertification/notification/authorization/pre-treatment absent.",
    ),
    (
        "204",
        "This service/equipment/drug is not covered under the patient's current benefit plan.",
    ),
];

/// A decision on some or all of a prior authorization's items. Serialised as hosted mode stores
/// a change made through the control API (docs/hosted.md#data-changes): keep the form stable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// X12 306 A1: every requested unit approved.
    Approve,
    /// A2: `units` approved of those requested; the rest denied for `reason`.
    Partial { units: u32, reason: String },
    /// A3: nothing approved, for `reason` (a CARC code of `DENIAL_REASONS`).
    Deny { reason: String },
    /// A4: back to waiting for a decision (`outcome` `queued`).
    Pend,
    /// C: withdrawn; `status` `cancelled` (the whole authorization).
    Cancel,
}

impl Decision {
    fn action(&self) -> (&'static str, &'static str) {
        match self {
            Self::Approve => ("A1", "Certified in total"),
            Self::Partial { .. } => ("A2", "Certified - partial"),
            Self::Deny { .. } => ("A3", "Not Certified"),
            Self::Pend => ("A4", "Pended"),
            Self::Cancel => ("C", "Cancelled"),
        }
    }

    /// The word the request log and the API use.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Approve => "approve",
            Self::Partial { .. } => "partial",
            Self::Deny { .. } => "deny",
            Self::Pend => "pend",
            Self::Cancel => "cancel",
        }
    }
}

/// One change to a prior authorization. Serialised, like `Decision`, as hosted mode stores it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriorAuthChange {
    /// Decide `item` (a `sequence`), or every item when `None`. `disposition` replaces the
    /// generated text when given.
    Decide {
        decision: Decision,
        item: Option<u32>,
        disposition: Option<String>,
    },
    /// Record `units` more used of `item`'s approved units.
    Use { item: u32, units: u32 },
}

impl PriorAuthChange {
    /// A short description, for the list of changes.
    pub fn describe(&self) -> String {
        match self {
            Self::Decide { decision, item, .. } => match item {
                Some(seq) => format!("decision: {} (item {seq})", decision.name()),
                None => format!("decision: {}", decision.name()),
            },
            Self::Use { item, units } => format!("{units} units used (item {item})"),
        }
    }
}

/// Why a change cannot be made: what the caller asked is malformed (`Invalid`, 400) or does not
/// fit the authorization's state (`Conflict`, 409).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriorAuthError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
}

/// A decision as the control API and the data's timeline write it
/// (docs/sandbox-tools.md#data-changes).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    /// `approve`, `partial`, `deny`, `pend` or `cancel`.
    pub decision: String,
    /// `partial`: the units approved.
    #[serde(default)]
    pub units: Option<u32>,
    /// `deny` and `partial`: an X12 claim adjustment reason code of `DENIAL_REASONS`.
    #[serde(default)]
    pub reason: Option<String>,
    /// Only this item (its `sequence`); every item when left out.
    #[serde(default)]
    pub item: Option<u32>,
    /// The `disposition` text; generated when left out.
    #[serde(default)]
    pub disposition: Option<String>,
}

impl DecisionRequest {
    pub fn into_change(self) -> Result<PriorAuthChange, PriorAuthError> {
        let reason = |what: &str| {
            self.reason.clone().ok_or_else(|| {
                PriorAuthError::Invalid(format!(
                    "{what} needs a reason: one of the X12 claim adjustment reason codes {}",
                    reason_codes()
                ))
            })
        };
        let decision = match self.decision.as_str() {
            "approve" => Decision::Approve,
            "partial" => Decision::Partial {
                units: self.units.ok_or_else(|| {
                    PriorAuthError::Invalid("partial needs units: how many are approved".into())
                })?,
                reason: reason("partial")?,
            },
            "deny" => Decision::Deny {
                reason: reason("deny")?,
            },
            "pend" => Decision::Pend,
            "cancel" => Decision::Cancel,
            other => {
                return Err(PriorAuthError::Invalid(format!(
                    "decision {other:?} is not one of approve, partial, deny, pend, cancel"
                )));
            }
        };
        if self.units.is_some() && !matches!(decision, Decision::Partial { .. }) {
            return Err(PriorAuthError::Invalid(
                "units is only for a partial approval".to_owned(),
            ));
        }
        Ok(PriorAuthChange::Decide {
            decision,
            item: self.item,
            disposition: self.disposition,
        })
    }
}

/// Units used, as the control API and the data's timeline write it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UseRequest {
    pub units: u32,
    /// The item's `sequence` (the first item when left out).
    #[serde(default = "first_item")]
    pub item: u32,
}

fn first_item() -> u32 {
    1
}

impl UseRequest {
    pub fn into_change(self) -> PriorAuthChange {
        PriorAuthChange::Use {
            item: self.item,
            units: self.units,
        }
    }
}

fn reason_codes() -> String {
    DENIAL_REASONS
        .iter()
        .map(|(c, _)| *c)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The denial reason's text, if `code` is one a decision may give.
pub fn denial_reason(code: &str) -> Option<&'static str> {
    DENIAL_REASONS
        .iter()
        .find(|(c, _)| *c == code)
        .map(|(_, text)| *text)
}

/// Whether `resource` is a prior authorization (an ExplanationOfBenefit with `use`
/// `preauthorization`).
pub fn is_prior_authorization(resource: &Value) -> bool {
    resource["resourceType"] == "ExplanationOfBenefit" && resource["use"] == "preauthorization"
}

/// The next version of `current` after `change`, decided on `today` (`YYYY-MM-DD`, the sandbox
/// clock's date: the PAS issue date of what it approves).
pub fn apply(
    current: &Value,
    change: &PriorAuthChange,
    today: &str,
) -> Result<Value, PriorAuthError> {
    if !is_prior_authorization(current) {
        return Err(PriorAuthError::Invalid(format!(
            "{}/{} is not a prior authorization (an ExplanationOfBenefit with use preauthorization)",
            current["resourceType"].as_str().unwrap_or("?"),
            current["id"].as_str().unwrap_or("?")
        )));
    }
    let mut next = current.clone();
    match change {
        PriorAuthChange::Decide {
            decision,
            item,
            disposition,
        } => decide(&mut next, decision, *item, disposition.as_deref(), today)?,
        PriorAuthChange::Use { item, units } => record_use(&mut next, *item, *units)?,
    }
    Ok(next)
}

fn decide(
    pa: &mut Value,
    decision: &Decision,
    only: Option<u32>,
    disposition: Option<&str>,
    today: &str,
) -> Result<(), PriorAuthError> {
    if pa["status"] == "cancelled" {
        return Err(PriorAuthError::Conflict(
            "the prior authorization is cancelled: it can no longer be decided".to_owned(),
        ));
    }
    if let Decision::Deny { reason } | Decision::Partial { reason, .. } = decision {
        if denial_reason(reason).is_none() {
            return Err(PriorAuthError::Invalid(format!(
                "reason {reason:?} is not one of the X12 claim adjustment reason codes offered: {}",
                reason_codes()
            )));
        }
    }
    if matches!(decision, Decision::Cancel) && only.is_some() {
        return Err(PriorAuthError::Invalid(
            "cancel applies to the whole prior authorization: leave out item".to_owned(),
        ));
    }
    let number = number(pa);
    let provider = pa["provider"].clone();
    let items = pa["item"]
        .as_array_mut()
        .ok_or_else(|| PriorAuthError::Invalid("the prior authorization has no items".into()))?;
    if let Some(seq) = only {
        if !items.iter().any(|i| i["sequence"] == seq) {
            return Err(PriorAuthError::Invalid(format!(
                "the prior authorization has no item {seq}"
            )));
        }
    }
    for item in items.iter_mut() {
        if only.is_some_and(|seq| item["sequence"] != seq) {
            continue;
        }
        decide_item(item, decision, &number, &provider, today)?;
    }
    if matches!(decision, Decision::Cancel) {
        pa["status"] = json!("cancelled");
    }
    let actions: Vec<String> = pa["item"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| action_of(&i["adjudication"]))
                .collect()
        })
        .unwrap_or_default();
    let overall = overall_action(&actions);
    let any_decided = actions.iter().any(|a| a != "A4");
    pa["outcome"] = json!(if any_decided { "complete" } else { "queued" });
    if let Some(header) = pa["adjudication"]
        .as_array_mut()
        .and_then(|a| a.first_mut())
    {
        set_review_action(header, overall, &number);
    }
    set_period(pa);
    set_eligible_total(pa);
    let text = match disposition {
        Some(text) => text.to_owned(),
        None => generated_disposition(overall, today),
    };
    if let Some(object) = pa.as_object_mut() {
        object.insert("disposition".into(), json!(text));
    }
    Ok(())
}

fn decide_item(
    item: &mut Value,
    decision: &Decision,
    number: &str,
    provider: &Value,
    today: &str,
) -> Result<(), PriorAuthError> {
    let requested = item["quantity"]["value"].as_u64().unwrap_or(1) as u32;
    let unit = item["quantity"]["unit"]
        .as_str()
        .unwrap_or("unit")
        .to_owned();
    let used = adjudication_value(item, "consumedunits");
    let approved = match decision {
        Decision::Approve => Some(requested),
        Decision::Partial { units, .. } => {
            if *units == 0 || *units >= requested {
                return Err(PriorAuthError::Invalid(format!(
                    "a partial approval approves between 1 and {} of the {requested} units requested",
                    requested.saturating_sub(1)
                )));
            }
            Some(*units)
        }
        Decision::Deny { .. } | Decision::Pend => None,
        // A cancelled authorization keeps what it had approved, as the embedded data does.
        Decision::Cancel => Some(adjudication_value(item, "allowedunits").unwrap_or(0)),
    };
    if let (Some(used), false) = (used, matches!(decision, Decision::Cancel)) {
        if approved.unwrap_or(0) < used {
            return Err(PriorAuthError::Conflict(format!(
                "item {} has {used} units used already: it cannot be approved for fewer",
                item["sequence"]
            )));
        }
    }
    let (code, display) = decision.action();
    let Some(object) = item.as_object_mut() else {
        return Ok(());
    };
    // Item extensions: the trace number stays; the decision's own are rewritten.
    let mut extensions: Vec<Value> = object
        .get("extension")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let keep_authorization = matches!(decision, Decision::Cancel);
    if !keep_authorization {
        extensions.retain(|e| {
            let url = e["url"].as_str().unwrap_or("");
            url.ends_with("extension-itemTraceNumber")
                || url.ends_with("extension-authorizationNumber")
        });
        let sequence = object.get("sequence").and_then(Value::as_u64).unwrap_or(1);
        if !matches!(decision, Decision::Pend) {
            extensions.push(json!({
                "url": format!("{PAS}extension-administrationReferenceNumber"),
                "valueString": format!("UM{}{sequence:02}", tail(number, 6)),
            }));
        }
        if let Some(units) = approved.filter(|&u| u > 0) {
            let period = object.get("servicedPeriod").cloned().unwrap_or(Value::Null);
            extensions.push(json!({
                "url": format!("{PAS}extension-itemPreAuthIssueDate"), "valueDate": today}));
            if !period.is_null() {
                extensions.push(json!({
                    "url": format!("{PAS}extension-itemPreAuthPeriod"), "valuePeriod": period}));
            }
            let product = object
                .get("productOrService")
                .cloned()
                .unwrap_or(Value::Null);
            extensions.push(json!({
                "url": format!("{PAS}extension-itemAuthorizedDetail"),
                "extension": [
                    {"url": "productOrServiceCode", "valueCodeableConcept": pas_code(&product)},
                    {"url": "quantity", "valueQuantity": units_of(units, &unit)},
                ],
            }));
            extensions.push(json!({
                "url": format!("{PAS}extension-itemAuthorizedProvider"),
                "extension": [
                    {"url": "provider", "valueReference": provider},
                    {"url": "providerType", "valueCodeableConcept": {"coding": [
                        {"system": "https://codesystem.x12.org/005010/98", "code": "SJ",
                         "display": "Service Provider"}]}},
                ],
            }));
        }
        // PAS orders the authorization number after the period; keep a stable order.
        extensions.sort_by_key(|e| extension_rank(e["url"].as_str().unwrap_or("")));
    }
    object.insert("extension".into(), Value::Array(extensions));

    let mut adjudication: Vec<Value> = object
        .get("adjudication")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let submitted = adjudication
        .iter()
        .find(|a| category_code(a) == "submitted")
        .cloned()
        .unwrap_or_else(|| {
            json!({"category": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/adjudication",
            "code": "submitted", "display": "Submitted Amount"}]}})
        });
    let mut submitted = submitted;
    set_review_action_code(&mut submitted, code, display, number);
    let mut out = vec![submitted];
    if let Some(units) = approved.filter(|_| !matches!(decision, Decision::Deny { .. })) {
        out.push(json!({"category": discriminator("allowedunits"), "value": units}));
        if let Some(used) = used {
            out.push(json!({"category": discriminator("consumedunits"), "value": used}));
        }
    }
    match decision {
        Decision::Deny { reason } | Decision::Partial { reason, .. } => {
            out.push(json!({"category": discriminator("denialreason"), "reason": {"coding": [
                {"system": CARC, "code": reason, "display": denial_reason(reason).unwrap_or("")}]}}));
        }
        Decision::Cancel => out.extend(
            adjudication
                .drain(..)
                .filter(|a| category_code(a) == "denialreason"),
        ),
        Decision::Approve | Decision::Pend => {}
    }
    object.insert("adjudication".into(), Value::Array(out));
    Ok(())
}

fn record_use(pa: &mut Value, seq: u32, units: u32) -> Result<(), PriorAuthError> {
    if units == 0 {
        return Err(PriorAuthError::Invalid(
            "units must be at least 1".to_owned(),
        ));
    }
    if pa["status"] == "cancelled" {
        return Err(PriorAuthError::Conflict(
            "the prior authorization is cancelled: no units can be used".to_owned(),
        ));
    }
    let items = pa["item"]
        .as_array_mut()
        .ok_or_else(|| PriorAuthError::Invalid("the prior authorization has no items".into()))?;
    let item = items
        .iter_mut()
        .find(|i| i["sequence"] == seq)
        .ok_or_else(|| {
            PriorAuthError::Invalid(format!("the prior authorization has no item {seq}"))
        })?;
    let approved = adjudication_value(item, "allowedunits")
        .filter(|&a| a > 0 && action_of(&item["adjudication"]) != "A3")
        .ok_or_else(|| {
            PriorAuthError::Conflict(format!("item {seq} has no approved units to use"))
        })?;
    let used = adjudication_value(item, "consumedunits").unwrap_or(0);
    if used + units > approved {
        return Err(PriorAuthError::Conflict(format!(
            "item {seq} has {approved} units approved and {used} used: {units} more would exceed them"
        )));
    }
    let unit = item["quantity"]["unit"]
        .as_str()
        .unwrap_or("unit")
        .to_owned();
    let per_unit = per_unit_amount(item);
    if let Some(adjudication) = item["adjudication"].as_array_mut() {
        match adjudication
            .iter_mut()
            .find(|a| category_code(a) == "consumedunits")
        {
            Some(consumed) => consumed["value"] = json!(used + units),
            None => {
                let at = adjudication
                    .iter()
                    .position(|a| category_code(a) == "allowedunits")
                    .map_or(adjudication.len(), |p| p + 1);
                adjudication.insert(
                    at,
                    json!({"category": discriminator("consumedunits"), "value": used + units}),
                );
            }
        }
    }
    let totals = pa["total"].as_array_mut();
    let Some(totals) = totals else {
        return Ok(());
    };
    let added = per_unit * f64::from(units);
    match totals.iter_mut().find(|t| category_code(t) == "utilized") {
        Some(utilized) => {
            let before = utilized["extension"][0]["valueQuantity"]["value"]
                .as_u64()
                .unwrap_or(0);
            utilized["extension"][0]["valueQuantity"] = units_of(before as u32 + units, &unit);
            let amount = utilized["amount"]["value"].as_f64().unwrap_or(0.0) + added;
            utilized["amount"] = money(amount);
        }
        None => totals.push(json!({
            "extension": [{"url": format!("{PDEX}PriorAuthorizationUtilization"),
                           "valueQuantity": units_of(units, &unit)}],
            "category": {"coding": [{"system": VALUE_CODES, "code": "utilized", "display": "Utilized"}]},
            "amount": money(added),
        })),
    }
    Ok(())
}

/// The authorization number (the first `preAuthRef`).
fn number(pa: &Value) -> String {
    pa["preAuthRef"][0].as_str().unwrap_or_default().to_owned()
}

fn tail(s: &str, n: usize) -> &str {
    let start = s.len().saturating_sub(n);
    s.get(start..).unwrap_or(s)
}

fn category_code(adjudication: &Value) -> &str {
    adjudication["category"]["coding"][0]["code"]
        .as_str()
        .unwrap_or("")
}

fn adjudication_value(item: &Value, code: &str) -> Option<u32> {
    item["adjudication"]
        .as_array()?
        .iter()
        .find(|a| category_code(a) == code)
        .and_then(|a| a["value"].as_u64())
        .map(|v| v as u32)
}

/// The X12 306 action on the `submitted` adjudication of an adjudication list.
fn action_of(adjudication: &Value) -> String {
    adjudication
        .as_array()
        .and_then(|list| list.iter().find(|a| category_code(a) == "submitted"))
        .and_then(|a| a["extension"].as_array())
        .and_then(|exts| {
            exts.iter().find(|e| {
                e["url"]
                    .as_str()
                    .is_some_and(|u| u.ends_with("extension-reviewAction"))
            })
        })
        .and_then(|e| e["extension"].as_array())
        .and_then(|subs| {
            subs.iter().find(|s| {
                s["url"]
                    .as_str()
                    .is_some_and(|u| u.ends_with("reviewActionCode"))
            })
        })
        .and_then(|s| s["valueCodeableConcept"]["coding"][0]["code"].as_str())
        .unwrap_or("A4")
        .to_owned()
}

/// The header's action from the items': as the embedded data derives it.
fn overall_action(actions: &[String]) -> &'static str {
    let all = |code: &str| !actions.is_empty() && actions.iter().all(|a| a == code);
    if all("A4") {
        "A4"
    } else if actions.iter().any(|a| a == "C") {
        "C"
    } else if all("A3") {
        "A3"
    } else if all("A1") {
        "A1"
    } else if actions.iter().any(|a| a == "A4") {
        // Some items decided, others still pended: the review goes on.
        "A4"
    } else {
        "A2"
    }
}

fn action_display(code: &str) -> &'static str {
    match code {
        "A1" => "Certified in total",
        "A2" => "Certified - partial",
        "A3" => "Not Certified",
        "C" => "Cancelled",
        _ => "Pended",
    }
}

fn set_review_action(adjudication: &mut Value, code: &str, number: &str) {
    set_review_action_code(adjudication, code, action_display(code), number);
}

fn set_review_action_code(adjudication: &mut Value, code: &str, display: &str, number: &str) {
    let mut subs = Vec::new();
    if code != "A4" {
        subs.push(json!({"url": "number", "valueString": number}));
    }
    subs.push(json!({
        "url": format!("{PDEX}extension-reviewActionCode"),
        "valueCodeableConcept": {"coding": [{"system": X12_306, "code": code, "display": display}]},
    }));
    if let Some(object) = adjudication.as_object_mut() {
        let mut rebuilt = Map::new();
        rebuilt.insert(
            "extension".into(),
            json!([{"url": format!("{PDEX}extension-reviewAction"), "extension": subs}]),
        );
        for (key, value) in std::mem::take(object) {
            if key != "extension" {
                rebuilt.insert(key, value);
            }
        }
        *object = rebuilt;
    }
}

/// `preAuthRefPeriod`: the span of the approved items' service periods, when any is approved.
fn set_period(pa: &mut Value) {
    let approved: Vec<(String, String)> = pa["item"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter(|i| adjudication_value(i, "allowedunits").is_some_and(|u| u > 0))
                .filter_map(|i| {
                    Some((
                        i["servicedPeriod"]["start"].as_str()?.to_owned(),
                        i["servicedPeriod"]["end"].as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let Some(object) = pa.as_object_mut() else {
        return;
    };
    let start = approved.iter().map(|(s, _)| s).min();
    let end = approved.iter().map(|(_, e)| e).max();
    match (start, end) {
        (Some(start), Some(end)) => {
            let period = json!([{"start": start, "end": end}]);
            object.insert("preAuthRefPeriod".into(), period);
        }
        _ => {
            object.remove("preAuthRefPeriod");
        }
    }
}

/// The `eligible` total: what the approved units are worth at the requested price per unit.
fn set_eligible_total(pa: &mut Value) {
    let eligible: f64 = pa["item"]
        .as_array()
        .map(|items| {
            items
                .iter()
                .map(|i| {
                    let approved = if action_of(&i["adjudication"]) == "A3" {
                        0
                    } else {
                        adjudication_value(i, "allowedunits").unwrap_or(0)
                    };
                    per_unit_amount(i) * f64::from(approved)
                })
                .sum()
        })
        .unwrap_or(0.0);
    let Some(totals) = pa["total"].as_array_mut() else {
        return;
    };
    totals.retain(|t| category_code(t) != "eligible");
    if eligible > 0.0 {
        let at = totals
            .iter()
            .position(|t| category_code(t) == "submitted")
            .map_or(0, |p| p + 1);
        totals.insert(
            at,
            json!({"category": {"coding": [{"system": VALUE_CODES, "code": "eligible", "display": "Eligible"}]},
                   "amount": money(eligible)}),
        );
    }
}

/// The requested price of one unit: the item's submitted amount over its requested units.
fn per_unit_amount(item: &Value) -> f64 {
    let requested = item["quantity"]["value"].as_f64().unwrap_or(1.0).max(1.0);
    let submitted = item["adjudication"]
        .as_array()
        .and_then(|list| list.iter().find(|a| category_code(a) == "submitted"))
        .and_then(|a| a["amount"]["value"].as_f64())
        .unwrap_or(0.0);
    submitted / requested
}

fn money(amount: f64) -> Value {
    let cents = (amount * 100.0).round() / 100.0;
    if cents.fract() == 0.0 {
        json!({"value": cents as i64, "currency": "USD"})
    } else {
        json!({"value": cents, "currency": "USD"})
    }
}

fn units_of(value: u32, unit: &str) -> Value {
    json!({"value": value, "unit": unit, "system": UCUM, "code": format!("{{{unit}}}")})
}

fn discriminator(code: &str) -> Value {
    let display = match code {
        "allowedunits" => "allowed units",
        "consumedunits" => "consumed units",
        _ => "Denial Reason",
    };
    json!({"coding": [{"system": DISCRIMINATOR, "code": code, "display": display}]})
}

/// PAS binds the authorized product code to a value set that spells HCPCS with `http`.
fn pas_code(product: &Value) -> Value {
    let mut product = product.clone();
    if let Some(codings) = product["coding"].as_array_mut() {
        for coding in codings {
            if coding["system"] == "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets" {
                coding["system"] = json!("http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets");
            }
        }
    }
    product
}

/// The order the embedded data writes item extensions in.
fn extension_rank(url: &str) -> usize {
    [
        "extension-itemTraceNumber",
        "extension-administrationReferenceNumber",
        "extension-itemPreAuthIssueDate",
        "extension-itemPreAuthPeriod",
        "extension-authorizationNumber",
        "extension-itemAuthorizedDetail",
        "extension-itemAuthorizedProvider",
    ]
    .iter()
    .position(|suffix| url.ends_with(suffix))
    .unwrap_or(usize::MAX)
}

fn generated_disposition(action: &str, today: &str) -> String {
    match action {
        "A1" => format!("Approved on {today}."),
        "A2" => format!("Partially approved on {today}: some units requested were not approved."),
        "A3" => format!("Denied on {today}."),
        "C" => format!("Cancelled on {today}."),
        _ => format!("Pending review since {today}."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending() -> Value {
        json!({
            "resourceType": "ExplanationOfBenefit", "id": "pa", "status": "active",
            "use": "preauthorization", "outcome": "queued", "preAuthRef": ["PA-000123"],
            "provider": {"reference": "Organization/org"},
            "item": [
                {"sequence": 1, "extension": [{"url": format!("{PAS}extension-itemTraceNumber"),
                    "valueIdentifier": {"value": "PA-000123-1"}}],
                 "productOrService": {"coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "97110"}]},
                 "servicedPeriod": {"start": "2026-12-01", "end": "2027-02-28"},
                 "quantity": {"value": 12, "unit": "visit"},
                 "adjudication": [{"category": {"coding": [{"code": "submitted"}]}, "amount": {"value": 1200, "currency": "USD"}}]},
            ],
            "adjudication": [{"category": {"coding": [{"code": "submitted"}]}, "amount": {"value": 1200, "currency": "USD"}}],
            "total": [{"category": {"coding": [{"system": VALUE_CODES, "code": "submitted"}]}, "amount": {"value": 1200, "currency": "USD"}}],
        })
    }

    fn decide(pa: &Value, decision: Decision) -> Result<Value, PriorAuthError> {
        apply(
            pa,
            &PriorAuthChange::Decide {
                decision,
                item: None,
                disposition: None,
            },
            "2026-12-03",
        )
    }

    #[test]
    fn a_change_keeps_its_stored_form() {
        // Hosted mode stores changes in this form (docs/hosted.md#data-changes): a replica of
        // another build must still read them.
        let partial = PriorAuthChange::Decide {
            decision: Decision::Partial {
                units: 4,
                reason: "151".into(),
            },
            item: Some(1),
            disposition: None,
        };
        let stored = serde_json::to_value(&partial).unwrap();
        assert_eq!(
            stored,
            json!({"decide": {"decision": {"partial": {"units": 4, "reason": "151"}},
                   "item": 1, "disposition": null}})
        );
        assert_eq!(
            serde_json::from_value::<PriorAuthChange>(stored).unwrap(),
            partial
        );
        let used = PriorAuthChange::Use { item: 1, units: 2 };
        let stored = serde_json::to_value(&used).unwrap();
        assert_eq!(stored, json!({"use": {"item": 1, "units": 2}}));
        assert_eq!(
            serde_json::from_value::<PriorAuthChange>(stored).unwrap(),
            used
        );
        assert_eq!(
            serde_json::to_value(PriorAuthChange::Decide {
                decision: Decision::Pend,
                item: None,
                disposition: None
            })
            .unwrap()["decide"]["decision"],
            "pend"
        );
    }

    #[test]
    fn approving_then_using_units() {
        let approved = decide(&pending(), Decision::Approve).unwrap();
        assert_eq!(approved["outcome"], "complete");
        assert_eq!(action_of(&approved["adjudication"]), "A1");
        assert_eq!(
            adjudication_value(&approved["item"][0], "allowedunits"),
            Some(12)
        );
        assert_eq!(approved["preAuthRefPeriod"][0]["end"], "2027-02-28");
        assert_eq!(approved["total"][1]["amount"]["value"], 1200);
        let used = apply(&approved, &PriorAuthChange::Use { item: 1, units: 5 }, "x").unwrap();
        assert_eq!(
            adjudication_value(&used["item"][0], "consumedunits"),
            Some(5)
        );
        assert_eq!(
            used["total"][2]["extension"][0]["valueQuantity"]["value"],
            5
        );
        let err = apply(&used, &PriorAuthChange::Use { item: 1, units: 8 }, "x").unwrap_err();
        assert!(matches!(err, PriorAuthError::Conflict(_)), "{err}");
        // Approving fewer than already used is refused.
        let err = decide(
            &used,
            Decision::Partial {
                units: 4,
                reason: "151".into(),
            },
        )
        .unwrap_err();
        assert!(matches!(err, PriorAuthError::Conflict(_)), "{err}");
    }

    #[test]
    fn partial_deny_pend_and_cancel() {
        let partial = decide(
            &pending(),
            Decision::Partial {
                units: 6,
                reason: "151".into(),
            },
        )
        .unwrap();
        assert_eq!(action_of(&partial["item"][0]["adjudication"]), "A2");
        assert_eq!(
            adjudication_value(&partial["item"][0], "allowedunits"),
            Some(6)
        );
        assert_eq!(partial["total"][1]["amount"]["value"], 600);
        let denied = decide(
            &partial,
            Decision::Deny {
                reason: "50".into(),
            },
        )
        .unwrap();
        assert_eq!(action_of(&denied["adjudication"]), "A3");
        assert_eq!(adjudication_value(&denied["item"][0], "allowedunits"), None);
        assert!(denied.get("preAuthRefPeriod").is_none());
        assert_eq!(denied["total"].as_array().unwrap().len(), 1);
        let use_denied = apply(&denied, &PriorAuthChange::Use { item: 1, units: 1 }, "x");
        assert!(matches!(use_denied, Err(PriorAuthError::Conflict(_))));
        let pended = decide(&denied, Decision::Pend).unwrap();
        assert_eq!(pended["outcome"], "queued");
        let cancelled = decide(
            &decide(&pended, Decision::Approve).unwrap(),
            Decision::Cancel,
        )
        .unwrap();
        assert_eq!(cancelled["status"], "cancelled");
        assert_eq!(action_of(&cancelled["adjudication"]), "C");
        assert_eq!(
            adjudication_value(&cancelled["item"][0], "allowedunits"),
            Some(12)
        );
        assert!(matches!(
            decide(&cancelled, Decision::Approve),
            Err(PriorAuthError::Conflict(_))
        ));
    }

    #[test]
    fn bad_requests_are_invalid() {
        let pa = pending();
        for decision in [
            Decision::Deny {
                reason: "999".into(),
            },
            Decision::Partial {
                units: 12,
                reason: "151".into(),
            },
            Decision::Partial {
                units: 0,
                reason: "151".into(),
            },
        ] {
            assert!(matches!(
                decide(&pa, decision),
                Err(PriorAuthError::Invalid(_))
            ));
        }
        let claim = json!({"resourceType": "ExplanationOfBenefit", "use": "claim"});
        assert!(matches!(
            decide(&claim, Decision::Approve),
            Err(PriorAuthError::Invalid(_))
        ));
    }
}
