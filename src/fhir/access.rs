//! Who is looking (SPEC §6.1): a token's member and scopes, and the two questions every read,
//! search and include asks of them — may this token use this type at all (else 403), and is this
//! resource inside the member's compartment (else it does not exist for the token: 404, or left
//! out of a search).

use crate::oauth::scopes::{GrantedScopes, Interaction};

use super::store::{Idx, Store};

pub struct Viewer<'a> {
    pub store: &'a Store,
    /// The member's Patient; `None` when the token's Patient is not in the data (sees nothing).
    pub member: Option<Idx>,
    pub scopes: &'a GrantedScopes,
}

impl<'a> Viewer<'a> {
    pub fn new(store: &'a Store, patient_id: &str, scopes: &'a GrantedScopes) -> Self {
        Viewer {
            store,
            member: store.patient(patient_id),
            scopes,
        }
    }

    pub fn permits(&self, resource_type: &str, interaction: Interaction) -> bool {
        self.scopes.permits(resource_type, interaction)
    }

    /// Inside the member's compartment.
    pub fn sees(&self, n: Idx) -> bool {
        self.member.is_some_and(|m| self.store.is_visible(m, n))
    }

    /// What `_include`, `_revinclude` and `$everything` may add: inside the compartment and of
    /// a type the scopes let the token read.
    pub fn may_add(&self, n: Idx) -> bool {
        self.sees(n) && self.permits(self.store.entry(n).resource_type(), Interaction::Read)
    }

    /// The member's resources of one type, in default order.
    pub fn visible_list(&self, type_slot: usize) -> &'a [Idx] {
        match self.member {
            Some(m) => self.store.visible_list(m, type_slot),
            None => &[],
        }
    }
}
