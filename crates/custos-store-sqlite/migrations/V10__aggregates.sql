-- Retention: anonymous aggregates, legal holds, and the index the sweep walks.
--
-- Aggregates are counts per (purpose, category, bucket): no subject, no record
-- id, no value, no time. Erasure never touches them.
CREATE TABLE aggregates (
    tenant    TEXT    NOT NULL REFERENCES tenants (id),
    purpose   TEXT    NOT NULL,
    category  TEXT    NOT NULL,
    bucket    TEXT    NOT NULL,
    count     INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (tenant, purpose, category, bucket)
) STRICT, WITHOUT ROWID;

-- Legal holds on a subject (record NULL) or one record: deletion waits.
CREATE TABLE legal_holds (
    tenant     TEXT    NOT NULL REFERENCES tenants (id),
    id         TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    record     TEXT,
    reason     TEXT    NOT NULL,
    placed_at  INTEGER NOT NULL,
    until      INTEGER,
    PRIMARY KEY (tenant, id),
    FOREIGN KEY (tenant, subject) REFERENCES subjects (tenant, id)
) STRICT;
CREATE INDEX legal_holds_by_subject ON legal_holds (tenant, subject);

-- The sweep's keyset walk: records due, oldest expiry first.
CREATE INDEX records_by_expiry ON records (tenant, expires_at, id) WHERE expires_at IS NOT NULL;
