//! `LifecycleStore` on SQLite: the conformance cases.

use custos_store_sqlite::SqliteStore;

custos_store::lifecycle_conformance_tests!(SqliteStore::open_temporary().unwrap());
