//! `StatsStore` and `RetentionStore` on PostgreSQL: the conformance cases
//! (skipped without `CUSTOS_TEST_DATABASE_URL`).

use super::fresh;

custos_store::retention_conformance_tests!(match fresh() {
    Some(store) => store,
    None => return,
});
