//! The report in JUnit XML (`GET /sandbox/api/report?format=junit`,
//! docs/sandbox-tools.md#report): one test case per check, a failure for each check not met
//! (its expectation, what was seen, and each offending request written out), a skipped test case
//! for each check not applicable. CI systems read this format natively (GitHub Actions test
//! reporters, GitLab, Jenkins), so a client's contract results show as test results.

use std::collections::HashMap;
use std::fmt::Write;

use super::report::{CheckStatus, Report};
use super::request_log::LoggedRequest;

/// XML text and attribute escaping (XML 1.0 §2.4): the five markup characters, and control
/// characters other than tab, newline and return dropped (they are not allowed at all).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// `report` as a JUnit XML document; `entries` are the logged requests it was computed from,
/// to write out the offending ones.
pub fn junit(report: &Report, entries: &[LoggedRequest]) -> String {
    let by_seq: HashMap<u64, &LoggedRequest> = entries.iter().map(|e| (e.seq, e)).collect();
    let failures = report
        .checks
        .values()
        .filter(|c| c.status == CheckStatus::NotMet)
        .count();
    let skipped = report
        .checks
        .values()
        .filter(|c| c.status == CheckStatus::NotApplicable)
        .count();
    let client = report.client_id.as_deref().unwrap_or("all clients");
    let suite = escape(&format!("payer-sandbox contract checks: {client}"));
    let classname = escape(&format!(
        "payer-sandbox.{}",
        report.client_id.as_deref().unwrap_or("all")
    ));
    let tests = report.checks.len();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"{suite}\" tests=\"{tests}\" failures=\"{failures}\" skipped=\"{skipped}\">"
    );
    let timestamp = report
        .last
        .as_deref()
        .map(|t| format!(" timestamp=\"{}\"", escape(t)))
        .unwrap_or_default();
    let _ = writeln!(
        xml,
        "  <testsuite name=\"{suite}\" tests=\"{tests}\" failures=\"{failures}\" skipped=\"{skipped}\" errors=\"0\"{timestamp}>"
    );
    for (id, check) in &report.checks {
        let _ = write!(
            xml,
            "    <testcase classname=\"{classname}\" name=\"{}\"",
            escape(id)
        );
        match check.status {
            CheckStatus::Met => xml.push_str("/>\n"),
            CheckStatus::NotApplicable => {
                let _ = writeln!(
                    xml,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                    escape(&check.detail)
                );
            }
            CheckStatus::NotMet => {
                let mut body = format!("{}\n{}", check.expectation, check.detail);
                if !check.offending.is_empty() {
                    body.push_str("\noffending requests:");
                    for seq in &check.offending {
                        match by_seq.get(seq) {
                            Some(e) => {
                                let query = if e.query.is_empty() {
                                    String::new()
                                } else {
                                    format!("?{}", e.query)
                                };
                                let _ = write!(
                                    body,
                                    "\n  #{seq} {} {} {}{query} -> {}",
                                    e.time, e.method, e.path, e.status
                                );
                            }
                            None => {
                                let _ = write!(body, "\n  #{seq} (no longer in the log)");
                            }
                        }
                    }
                }
                let _ = writeln!(
                    xml,
                    ">\n      <failure message=\"{}\" type=\"not_met\">{}</failure>\n    </testcase>",
                    escape(check.expectation),
                    escape(&body)
                );
            }
        }
    }
    xml.push_str("  </testsuite>\n</testsuites>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sandbox::report::report;

    #[test]
    fn markup_is_escaped_and_control_characters_dropped() {
        assert_eq!(escape("a<b>&\"c'\u{1}\n"), "a&lt;b&gt;&amp;&quot;c&apos;\n");
    }

    #[test]
    fn one_test_case_per_check_with_failures_and_skips() {
        let r = report(&[], Some("app"));
        let xml = junit(&r, &[]);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"));
        assert_eq!(xml.matches("<testcase ").count(), r.checks.len());
        let failures = r
            .checks
            .values()
            .filter(|c| c.status == CheckStatus::NotMet)
            .count();
        assert!(failures > 0);
        assert_eq!(xml.matches("<failure ").count(), failures);
        assert!(xml.contains(&format!("failures=\"{failures}\"")));
        assert!(xml.contains("name=\"discovery\""));
    }
}
