//! The in-memory resource store, loaded once at start-up: resources by type and id.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

#[derive(Debug, Default)]
pub struct Store {
    by_type: HashMap<String, HashMap<String, Arc<Value>>>,
}

impl Store {
    pub fn new(resources: Vec<Value>) -> Self {
        let mut by_type: HashMap<String, HashMap<String, Arc<Value>>> = HashMap::new();
        for resource in resources {
            let (Some(t), Some(id)) = (
                resource["resourceType"].as_str().map(str::to_owned),
                resource["id"].as_str().map(str::to_owned),
            ) else {
                continue;
            };
            by_type.entry(t).or_default().insert(id, Arc::new(resource));
        }
        Self { by_type }
    }

    pub fn get(&self, resource_type: &str, id: &str) -> Option<&Arc<Value>> {
        self.by_type.get(resource_type)?.get(id)
    }

    pub fn count(&self, resource_type: &str) -> usize {
        self.by_type.get(resource_type).map_or(0, HashMap::len)
    }

    pub fn len(&self) -> usize {
        self.by_type.values().map(HashMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
