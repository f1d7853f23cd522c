//! The JSON Schema of the policy file, generated from the model so it cannot drift.

use crate::model::Policy;

/// The schema as pretty-printed JSON.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Policy);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}
