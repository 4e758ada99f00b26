//! The plans file (docs/plans.md#the-plans-file): `--plans FILE`, and the embedded network in
//! the same format. TOML, parsed by the `toml` crate, whose errors name the line and column;
//! the checks after parsing name the line of the plan they concern. Paths in a user's file are
//! relative to the file; in the embedded network, to the embedded `seed-data/`.

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::{DEFAULT_PLAN, DEFAULT_PLAN_ALIAS, Logo, Plan, Profile, valid_id};
use crate::data::{DataSource, embedded_file};
use crate::ids::PlanId;

/// The embedded network's plans besides the default.
const EMBEDDED: &str = include_str!("network.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NetworkFile {
    #[serde(default)]
    plan: Vec<Spanned<PlanEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct PlanEntry {
    id: String,
    name: String,
    data: String,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default = "default_color")]
    color: String,
    logo: Option<String>,
    signing_key: Option<String>,
    #[serde(default)]
    profile: Profile,
}

fn default_color() -> String {
    "#334e68".to_owned()
}

/// Where a file's relative paths point.
enum Base<'a> {
    Embedded,
    Dir(&'a Path),
}

/// The embedded network's plans (the default plan is not among them).
pub fn embedded() -> Result<Vec<Plan>, String> {
    parse(EMBEDDED, "the embedded network", &Base::Embedded)
}

/// `--plans FILE`: the plans it defines, every problem named with the file and line.
pub fn load(path: &Path) -> Result<Vec<Plan>, String> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: cannot read: {e}"))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    parse(&text, &shown, &Base::Dir(dir))
}

fn parse(text: &str, shown: &str, base: &Base) -> Result<Vec<Plan>, String> {
    let file: NetworkFile = toml::from_str(text).map_err(|e| format!("{shown}: {e}"))?;
    let mut seen: HashSet<String> = [DEFAULT_PLAN.to_owned(), DEFAULT_PLAN_ALIAS.to_owned()]
        .into_iter()
        .collect();
    let mut plans = Vec::new();
    for spanned in file.plan {
        let line = 1 + text[..spanned.span().start.min(text.len())]
            .bytes()
            .filter(|&b| b == b'\n')
            .count();
        let entry = spanned.into_inner();
        let at = format!("{shown}: line {line}: plan {:?}", entry.id);
        plans.push(plan(entry, base, &mut seen).map_err(|e| format!("{at}: {e}"))?);
    }
    Ok(plans)
}

fn plan(entry: PlanEntry, base: &Base, seen: &mut HashSet<String>) -> Result<Plan, String> {
    for name in std::iter::once(&entry.id).chain(&entry.aliases) {
        if !valid_id(name) {
            return Err(format!(
                "{name:?} is not a plan id: use lowercase letters, digits and -"
            ));
        }
        if !seen.insert(name.clone()) {
            return Err(format!(
                "{name:?} is already taken (by the default plan, `test`/`demoplan`, or an earlier plan)"
            ));
        }
    }
    if entry.name.trim().is_empty() {
        return Err("name is empty".to_owned());
    }
    if !is_color(&entry.color) {
        return Err(format!("color {:?} is not #rrggbb", entry.color));
    }
    entry.profile.check()?;
    let data = match base {
        Base::Embedded => DataSource::EmbeddedFolder(entry.data.clone()),
        Base::Dir(dir) => {
            let path = dir.join(&entry.data);
            if !path.is_dir() {
                return Err(format!("data {}: not a directory", path.display()));
            }
            DataSource::Directory(path)
        }
    };
    let logo = match &entry.logo {
        Some(name) => logo(base, name)?,
        None => initials_logo(&entry.name, &entry.color),
    };
    let signing_key = match (&entry.signing_key, base) {
        (Some(name), Base::Dir(dir)) => {
            let path: PathBuf = dir.join(name);
            let pem = std::fs::read_to_string(&path)
                .map_err(|e| format!("signing-key {}: cannot read: {e}", path.display()))?;
            if !pem.contains("-----BEGIN PRIVATE KEY-----") {
                return Err(format!(
                    "signing-key {}: not a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----)",
                    path.display()
                ));
            }
            Some(pem)
        }
        (Some(_), Base::Embedded) => {
            return Err("the embedded network's keys are the embedded ones".to_owned());
        }
        (None, _) => None,
    };
    Ok(Plan {
        id: PlanId::from(entry.id),
        aliases: entry.aliases,
        name: entry.name,
        color: entry.color,
        logo,
        profile: entry.profile,
        data: Some(data),
        signing_key,
    })
}

fn is_color(color: &str) -> bool {
    color.len() == 7 && color.starts_with('#') && color[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn logo(base: &Base, name: &str) -> Result<Logo, String> {
    let content_type = Logo::content_type_of(name)
        .ok_or_else(|| format!("logo {name:?}: use an .svg or a .png file"))?;
    let bytes: Cow<'static, [u8]> = match base {
        Base::Embedded => Cow::Borrowed(
            embedded_file(name).ok_or_else(|| format!("logo {name:?}: no such embedded file"))?,
        ),
        Base::Dir(dir) => {
            let path = dir.join(name);
            Cow::Owned(
                std::fs::read(&path)
                    .map_err(|e| format!("logo {}: cannot read: {e}", path.display()))?,
            )
        }
    };
    Ok(Logo {
        bytes,
        content_type,
    })
}

/// A plan without a logo file gets its initials on its colour.
fn initials_logo(name: &str, color: &str) -> Logo {
    let initials: String = name
        .split_whitespace()
        .filter_map(|w| w.chars().next())
        .filter(|c| c.is_alphanumeric())
        .take(2)
        .collect();
    let svg = format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64"><rect width="64" height="64" rx="12" fill="{color}"/><text x="32" y="41" font-family="Arial,Helvetica,sans-serif" font-size="24" font-weight="700" text-anchor="middle" fill="#fff">{initials}</text></svg>"##
    );
    Logo {
        bytes: Cow::Owned(svg.into_bytes()),
        content_type: "image/svg+xml",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> Result<Vec<Plan>, String> {
        parse(text, "plans.toml", &Base::Dir(Path::new(".")))
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let e = parse_text("[[plan]]\nid = \"a\"\nname = \"A\"\ndata = \"src\"\nwhat = 1\n")
            .unwrap_err();
        assert!(e.starts_with("plans.toml: "), "{e}");
        assert!(e.contains("line 5"), "{e}");
        let e = parse_text(
            "[[plan]]\nid = \"a\"\nname = \"A\"\ndata = \"src\"\n\n[[plan]]\nid = \"a\"\nname = \"B\"\ndata = \"src\"\n",
        )
        .unwrap_err();
        assert!(e.contains("line 6") && e.contains("already taken"), "{e}");
        let e = parse_text("[[plan]]\nid = \"test\"\nname = \"A\"\ndata = \"src\"\n").unwrap_err();
        assert!(e.contains("already taken"), "{e}");
        let e = parse_text(
            "[[plan]]\nid = \"a\"\nname = \"A\"\ndata = \"src\"\n[plan.profile]\nrefresh-tokens = \"sometimes\"\n",
        )
        .unwrap_err();
        assert!(e.contains("line 6") && e.contains("sometimes"), "{e}");
        let e = parse_text("[[plan]]\nid = \"a\"\nname = \"A\"\ndata = \"nowhere\"\n").unwrap_err();
        assert!(e.contains("line 1") && e.contains("not a directory"), "{e}");
    }

    #[test]
    fn the_embedded_network_parses() {
        let plans = embedded().unwrap();
        assert!(plans.len() >= 2);
        assert!(plans.iter().all(|p| !p.is_default()));
    }
}
