-- custos SQLite schema, version 1. Never edit an applied migration: add V2.
--
-- Conventions: every table holding tenant data has a `tenant` column that leads
-- its primary key or an index, and every query names it. Timestamps are INTEGER
-- microseconds since the Unix epoch; ids are TEXT (hyphenated UUIDs); hashes,
-- wrapped keys and ciphertexts are BLOBs. No column holds a plaintext personal
-- value.

CREATE TABLE tenants (
    id          TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
) STRICT;

CREATE TABLE policy_versions (
    tenant        TEXT    NOT NULL REFERENCES tenants (id),
    number        INTEGER NOT NULL CHECK (number >= 1),
    label         TEXT    NOT NULL,
    text          TEXT    NOT NULL,
    effective_at  INTEGER NOT NULL,
    published_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant, number)
) STRICT;

-- The public id is unique across tenants: it is how a caller's tenant is found.
CREATE TABLE api_keys (
    id          TEXT    NOT NULL PRIMARY KEY,
    tenant      TEXT    NOT NULL REFERENCES tenants (id),
    hash        BLOB    NOT NULL,
    label       TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    purposes    TEXT    NOT NULL, -- JSON array of strings
    admin       INTEGER NOT NULL CHECK (admin IN (0, 1)),
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
) STRICT;
CREATE INDEX api_keys_by_tenant ON api_keys (tenant, id);

CREATE TABLE subjects (
    tenant       TEXT    NOT NULL REFERENCES tenants (id),
    id           TEXT    NOT NULL,
    wrapped_dek  BLOB    NOT NULL,
    kek_version  INTEGER NOT NULL,
    jurisdiction TEXT,
    state        TEXT    NOT NULL CHECK (state IN ('active', 'restricted', 'erased')),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
) STRICT;
-- KEK rotation: subjects still wrapped under an old version.
CREATE INDEX subjects_by_kek_version ON subjects (tenant, kek_version);

CREATE TABLE records (
    tenant        TEXT    NOT NULL,
    id            TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    category      TEXT    NOT NULL,
    ciphertext    BLOB    NOT NULL,
    purpose       TEXT    NOT NULL,
    source        TEXT    NOT NULL,
    collected_at  INTEGER NOT NULL,
    expires_at    INTEGER,
    PRIMARY KEY (tenant, id),
    FOREIGN KEY (tenant, subject) REFERENCES subjects (tenant, id)
) STRICT;
CREATE INDEX records_by_subject ON records (tenant, subject, category);

CREATE TABLE blind_index (
    tenant    TEXT NOT NULL,
    category  TEXT NOT NULL,
    hash      BLOB NOT NULL,
    subject   TEXT NOT NULL,
    PRIMARY KEY (tenant, category, hash, subject),
    FOREIGN KEY (tenant, subject) REFERENCES subjects (tenant, id)
) STRICT, WITHOUT ROWID;
-- Erasure deletes a subject's entries.
CREATE INDEX blind_index_by_subject ON blind_index (tenant, subject);

-- Per-tenant hash chain: seq is 1, 2, … and hash = chain_hash(prev_hash, entry).
CREATE TABLE audit_log (
    tenant      TEXT    NOT NULL REFERENCES tenants (id),
    seq         INTEGER NOT NULL CHECK (seq >= 1),
    at          INTEGER NOT NULL,
    actor       TEXT    NOT NULL,
    key_id      TEXT,
    action      TEXT    NOT NULL,
    purpose     TEXT,
    subject     TEXT,
    categories  TEXT    NOT NULL, -- JSON array of strings
    outcome     TEXT    NOT NULL CHECK (outcome IN ('allow', 'partial', 'deny')),
    reason      TEXT    NOT NULL,
    request_id  TEXT,
    prev_hash   BLOB    NOT NULL,
    hash        BLOB    NOT NULL,
    PRIMARY KEY (tenant, seq)
) STRICT, WITHOUT ROWID;

-- The log is append-only; the chain would show a change, these refuse it.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE idempotency (
    tenant        TEXT    NOT NULL REFERENCES tenants (id),
    key           TEXT    NOT NULL,
    request_hash  BLOB    NOT NULL,
    status        INTEGER NOT NULL,
    body          TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (tenant, key)
) STRICT;
