//! Incidents, identity-verification challenges and tenant archives on
//! PostgreSQL: the conformance cases.

use super::fresh;

custos_store::archive_conformance_tests!(match fresh() {
    Some(store) => store,
    None => return,
});
