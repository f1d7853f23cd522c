-- Processor mode (S-1, V-3, L-1, L-8): a request about data held for a controller
-- waits in `routed` for the controller's instruction. SQLite cannot alter a CHECK,
-- so the table is rebuilt: create the new one, copy, drop, rename. No table
-- references rights_requests, so dropping it with foreign keys on is safe.
CREATE TABLE rights_requests_v9 (
    tenant           TEXT    NOT NULL REFERENCES tenants (id),
    id               TEXT    NOT NULL,
    subject          TEXT,
    right_kind       TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('received', 'routed', 'verified', 'in_progress', 'fulfilled', 'rejected')),
    jurisdiction     TEXT,
    channel          TEXT    NOT NULL,
    received_at      INTEGER NOT NULL,
    due_at           INTEGER NOT NULL,
    extended_until   INTEGER,
    extension_reason TEXT,
    closed_at        INTEGER,
    rejection_reason TEXT,
    PRIMARY KEY (tenant, id)
) STRICT;

INSERT INTO rights_requests_v9 (tenant, id, subject, right_kind, state, jurisdiction, channel,
    received_at, due_at, extended_until, extension_reason, closed_at, rejection_reason)
SELECT tenant, id, subject, right_kind, state, jurisdiction, channel,
    received_at, due_at, extended_until, extension_reason, closed_at, rejection_reason
FROM rights_requests;

DROP TABLE rights_requests;
ALTER TABLE rights_requests_v9 RENAME TO rights_requests;
CREATE INDEX rights_requests_by_due ON rights_requests (tenant, state, due_at);
