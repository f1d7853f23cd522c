//! Consumer contracts on PostgreSQL: the conformance cases.

use super::fresh;

custos_store::contract_conformance_tests!(match fresh() {
    Some(store) => store,
    None => return,
});
