-- The consent ledger: append-only events; current state is derived (latest event).
CREATE TABLE consent_events (
    tenant         TEXT    NOT NULL REFERENCES tenants (id),
    id             TEXT    NOT NULL,
    subject        TEXT    NOT NULL,
    purpose        TEXT    NOT NULL,
    kind           TEXT    NOT NULL CHECK (kind IN ('granted', 'withdrawn', 'objected', 'objection_lifted')),
    policy_version INTEGER NOT NULL,
    notice_hash    BLOB    NOT NULL,
    channel        TEXT    NOT NULL,
    ip_hash        BLOB,
    user_agent     TEXT,
    at             INTEGER NOT NULL,
    PRIMARY KEY (tenant, id),
    FOREIGN KEY (tenant, subject) REFERENCES subjects (tenant, id)
) STRICT;
CREATE INDEX consent_by_subject ON consent_events (tenant, subject, purpose, at);

CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
BEGIN SELECT RAISE(ABORT, 'consent events are append-only'); END;
