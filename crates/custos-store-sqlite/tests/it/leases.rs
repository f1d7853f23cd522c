//! Job leases (`LeaseStore`) and tenant archives (`ArchiveStore`) on SQLite.

use custos_store::{ArchiveCounts, ArchiveRow, ArchiveSink, ArchiveStore, TenantId};
use custos_store_sqlite::SqliteStore;

custos_store::lease_conformance_tests!(SqliteStore::open_temporary().unwrap());

#[derive(Default)]
struct Collect {
    counts: ArchiveCounts,
    rows: Vec<ArchiveRow>,
}

impl ArchiveSink for Collect {
    fn counts(&mut self, counts: &ArchiveCounts) -> custos_store::Result<()> {
        self.counts = *counts;
        Ok(())
    }
    fn row(&mut self, row: ArchiveRow) -> custos_store::Result<()> {
        self.rows.push(row);
        Ok(())
    }
}

/// A filled tenant exported, imported into another file and exported again
/// gives the same rows; the copy's chain verifies.
#[test]
fn archive_round_trips_between_files() {
    let source = SqliteStore::open_temporary().unwrap();
    let tenant = TenantId::new("moved").unwrap();
    let subject = super::fill(&source, &tenant);
    let mut first = Collect::default();
    source.export_tenant(&tenant, &mut first).unwrap();
    let mut expected = ArchiveCounts::default();
    for r in &first.rows {
        expected.add(r);
    }
    assert_eq!(first.counts, expected);
    assert!(first.counts.subjects == 1 && first.counts.audit_entries > 0);

    let target = SqliteStore::open_temporary().unwrap();
    for batch in first.rows.chunks(3) {
        target.import_rows(&tenant, batch).unwrap();
    }
    let mut second = Collect::default();
    target.export_tenant(&tenant, &mut second).unwrap();
    assert_eq!(first.counts, second.counts);
    assert_eq!(first.rows, second.rows);
    custos_store::conformance::verify_audit_chain(&target, &tenant);
    use custos_store::Store;
    assert!(target.subject(&tenant, subject).unwrap().is_some());
    // Importing the tenant again is refused.
    assert!(target.import_rows(&tenant, &first.rows[..1]).is_err());
}

custos_store::archive_conformance_tests!(SqliteStore::open_temporary().unwrap());
