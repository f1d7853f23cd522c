-- Rights requests with their statutory clock.
CREATE TABLE rights_requests (
    tenant           TEXT    NOT NULL REFERENCES tenants (id),
    id               TEXT    NOT NULL,
    subject          TEXT,
    right_kind       TEXT    NOT NULL,
    state            TEXT    NOT NULL CHECK (state IN ('received', 'verified', 'in_progress', 'fulfilled', 'rejected')),
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
CREATE INDEX rights_requests_by_due ON rights_requests (tenant, state, due_at);

-- Notices owed to people, written with their cause and delivered by a job.
CREATE TABLE outbox (
    tenant          TEXT    NOT NULL REFERENCES tenants (id),
    id              TEXT    NOT NULL,
    subject         TEXT,
    kind            TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER,
    last_error      TEXT,
    PRIMARY KEY (tenant, id)
) STRICT;
CREATE INDEX outbox_due ON outbox (tenant, delivered_at, next_attempt_at);
