//! OperationOutcome resources (docs/fhir-api.md#errors): every error the FHIR API returns, and the note a lenient
//! search adds about the parameters it ignored. Issue codes are R4 `IssueType` codes.

use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    fn code(self) -> &'static str {
        match self {
            Self::Error => "error",
            Self::Warning => "warning",
        }
    }
}

/// One OperationOutcome with one issue per message.
pub fn operation_outcome(severity: Severity, code: &str, messages: &[String]) -> Value {
    let issues: Vec<Value> = messages
        .iter()
        .map(|message| {
            json!({
                "severity": severity.code(),
                "code": code,
                "diagnostics": message,
            })
        })
        .collect();
    json!({"resourceType": "OperationOutcome", "issue": issues})
}
