//! `StatsStore` and `RetentionStore` on SQLite: the conformance cases.

custos_store::retention_conformance_tests!(
    custos_store_sqlite::SqliteStore::open_temporary().unwrap()
);
