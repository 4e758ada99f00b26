//! The network of health plans (docs/plans.md): each plan has an id, a name and branding, its
//! own data, issuer, signing key and behaviour profile. The default plan (`test`, also
//! `demoplan`) is served at the root (`/r4`) exactly as before there were plans; every other plan
//! lives under `/plans/{id}`. This module holds what a plan *is*; `state` and `http` hold what
//! each plan runs.

pub mod brands;
pub mod file;
pub mod profile;

use std::borrow::Cow;

use crate::data::DataSource;
use crate::ids::PlanId;

pub use profile::Profile;

/// The default plan's id, and the other name 1upHealth's authorize URLs give it.
pub const DEFAULT_PLAN: &str = "test";
pub const DEFAULT_PLAN_ALIAS: &str = "demoplan";

/// Where the plans other than the default live: `/plans/{id}`.
pub const PLANS_PREFIX: &str = "/plans";

/// A plan's logo, served at its brand's URL.
#[derive(Debug, Clone)]
pub struct Logo {
    pub bytes: Cow<'static, [u8]>,
    pub content_type: &'static str,
}

impl Logo {
    /// The media type a logo file's name implies, if it is one the brands Bundle can point to.
    pub fn content_type_of(name: &str) -> Option<&'static str> {
        let lower = name.to_ascii_lowercase();
        if lower.ends_with(".svg") {
            Some("image/svg+xml")
        } else if lower.ends_with(".png") {
            Some("image/png")
        } else {
            None
        }
    }
}

/// One plan of the network.
#[derive(Debug, Clone)]
pub struct Plan {
    pub id: PlanId,
    /// Other names of the plan in `/oauth2/authorize/{system}`.
    pub aliases: Vec<String>,
    pub name: String,
    /// The brand colour (`#rrggbb`) of its sign-in pages.
    pub color: String,
    pub logo: Logo,
    pub profile: Profile,
    /// The plan's data; `None` for the default plan, whose data `--data` names.
    pub data: Option<DataSource>,
    /// A PEM (PKCS#8 RSA) signing key of its own, else one of the embedded sandbox keys.
    pub signing_key: Option<String>,
}

impl Plan {
    /// The Demo Health Plan, as it was before there were plans.
    pub fn default_plan() -> Self {
        Plan {
            id: PlanId::from(DEFAULT_PLAN),
            aliases: vec![DEFAULT_PLAN_ALIAS.to_owned()],
            name: "Demo Health Plan".to_owned(),
            color: "#0b5394".to_owned(),
            logo: Logo {
                bytes: Cow::Borrowed(include_bytes!("demo-health-plan.svg")),
                content_type: "image/svg+xml",
            },
            profile: Profile::default(),
            data: None,
            signing_key: None,
        }
    }

    pub fn is_default(&self) -> bool {
        self.id == DEFAULT_PLAN
    }

    /// Where the plan's URLs start, below the server's public URL: nothing for the default
    /// plan, `/plans/{id}` for the others.
    pub fn prefix(&self) -> String {
        if self.is_default() {
            String::new()
        } else {
            format!("{PLANS_PREFIX}/{}", self.id)
        }
    }

    /// Whether `system` (in `/oauth2/authorize/{system}`) names this plan.
    pub fn is_named(&self, system: &str) -> bool {
        self.id == system || self.aliases.iter().any(|a| a == system)
    }
}

/// Whether `id` can name a plan: lowercase letters, digits and `-`, as it appears in URLs and
/// in sign-in attempt ids (`{plan}.{random}`).
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 40
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
}
