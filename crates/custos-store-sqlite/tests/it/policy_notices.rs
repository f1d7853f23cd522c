//! `PolicyNoticeStore`: a policy version and its change notices stored as one unit.

use custos_store::{
    OutboxMessage, PolicyNoticeStore, PolicyVersion, RequestStore, Store, StoreError, TenantId,
    Uuid,
};

use crate::{at, draft, fill};

fn fresh() -> Option<custos_store_sqlite::SqliteStore> {
    Some(custos_store_sqlite::SqliteStore::open_temporary().unwrap())
}

fn version(n: u32) -> PolicyVersion {
    PolicyVersion {
        number: n,
        label: format!("v{n}"),
        text: "text".into(),
        effective_at: at(10),
        published_at: at(1),
    }
}

#[test]
fn a_version_and_its_notices_are_stored_together_or_not_at_all() {
    let Some(store) = fresh() else { return };
    let tenant = TenantId::new("notices").unwrap();
    let s = fill(&store, &tenant);
    assert_eq!(store.notice_recipients(&tenant).unwrap(), vec![(s, None)]);
    let m = OutboxMessage {
        id: Uuid::new_v4(),
        subject: Some(s),
        kind: "policy.change".into(),
        payload: "{}".into(),
        created_at: at(1),
        attempts: 0,
        next_attempt_at: at(1),
        delivered_at: None,
        last_error: None,
    };
    store
        .publish_with_notices(
            &tenant,
            &version(1),
            std::slice::from_ref(&m),
            &draft("policy.publish"),
        )
        .unwrap();
    assert_eq!(store.policy_versions(&tenant).unwrap().len(), 1);
    assert_eq!(store.outbox_of(&tenant, s).unwrap().len(), 1);
    let again = OutboxMessage {
        id: Uuid::new_v4(),
        ..m
    };
    assert!(matches!(
        store.publish_with_notices(&tenant, &version(3), &[again], &draft("policy.publish")),
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.policy_versions(&tenant).unwrap().len(), 1);
    assert_eq!(store.outbox_of(&tenant, s).unwrap().len(), 1);
}
