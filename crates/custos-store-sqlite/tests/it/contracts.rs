//! Consumer contracts on SQLite: the conformance cases.

use custos_store_sqlite::SqliteStore;

custos_store::contract_conformance_tests!(SqliteStore::open_temporary().unwrap());
