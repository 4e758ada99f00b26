//! The URLs of the other plans that live outside their prefix (docs/plans.md#urls): 1upHealth
//! names the plan in the authorize URL (`/oauth2/authorize/{system}`), and a sign-in attempt's
//! pages (`/oauth2/login/{attempt}`) belong to the plan whose id starts the attempt id
//! (`{plan}.…`). Both are rewritten, before routing, to the plan's own routes under
//! `/plans/{id}`; the request log keeps the URL the client sent.

use std::sync::Arc;

use axum::extract::{OriginalUri, Request, State};
use axum::http::Uri;

use crate::http::routes;
use crate::plans::PLANS_PREFIX;
use crate::state::AppState;

/// The other plans' ids and aliases.
#[derive(Clone, Default)]
pub struct PlanIndex(Arc<Vec<(String, Vec<String>)>>);

impl PlanIndex {
    pub fn of(states: &[AppState]) -> Self {
        Self(Arc::new(
            states
                .iter()
                .filter(|s| !s.plan.is_default())
                .map(|s| (s.plan.id.to_string(), s.plan.aliases.clone()))
                .collect(),
        ))
    }

    fn id_of(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(id, aliases)| id == name || aliases.iter().any(|a| a == name))
            .map(|(id, _)| id.as_str())
    }

    /// The plan route `path` is rewritten to, if it is one of another plan's shared URLs.
    pub fn rewrite(&self, path: &str) -> Option<String> {
        if self.0.is_empty() {
            return None;
        }
        if let Some(system) = path
            .strip_prefix(routes::AUTHORIZE)
            .and_then(|rest| rest.strip_prefix('/'))
        {
            let id = self.id_of(system.trim_end_matches('/'))?;
            return Some(format!("{PLANS_PREFIX}/{id}{}", routes::AUTHORIZE));
        }
        let attempt = path.strip_prefix(routes::LOGIN_PREFIX)?;
        let (plan, _) = attempt.split_once('.')?;
        let id = self.id_of(plan)?;
        Some(format!("{PLANS_PREFIX}/{id}{path}"))
    }
}

/// The request, with its URI rewritten when it is another plan's shared URL.
pub async fn rewrite(State(index): State<PlanIndex>, mut request: Request) -> Request {
    if let Some(path) = index.rewrite(request.uri().path()) {
        // The request log and faults speak of the URL the client sent.
        if request.extensions().get::<OriginalUri>().is_none() {
            let original = OriginalUri(request.uri().clone());
            request.extensions_mut().insert(original);
        }
        let rewritten = match request.uri().query() {
            Some(query) => format!("{path}?{query}"),
            None => path,
        };
        if let Ok(uri) = rewritten.parse::<Uri>() {
            *request.uri_mut() = uri;
        }
    }
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_other_plans_shared_urls_go_to_their_routes() {
        let index = PlanIndex(Arc::new(vec![(
            "cascade".to_owned(),
            vec!["cha".to_owned()],
        )]));
        assert_eq!(
            index.rewrite("/oauth2/authorize/cascade").as_deref(),
            Some("/plans/cascade/oauth2/authorize")
        );
        assert_eq!(
            index.rewrite("/oauth2/authorize/cha").as_deref(),
            Some("/plans/cascade/oauth2/authorize")
        );
        assert_eq!(
            index
                .rewrite("/oauth2/login/cascade.ab12/verify")
                .as_deref(),
            Some("/plans/cascade/oauth2/login/cascade.ab12/verify")
        );
        assert_eq!(index.rewrite("/oauth2/authorize/test"), None);
        assert_eq!(index.rewrite("/oauth2/authorize"), None);
        assert_eq!(index.rewrite("/oauth2/login/ab12/verify"), None);
        assert_eq!(index.rewrite("/oauth2/login/other.ab12"), None);
        assert_eq!(index.rewrite("/r4/Patient"), None);
    }
}
