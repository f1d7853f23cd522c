-- custos PostgreSQL schema, version 1. Never edit an applied migration: add V2.
--
-- The same tables as the SQLite schema (custos-store-sqlite/migrations), in
-- PostgreSQL's dialect. Every table holding tenant data has a `tenant` column
-- that leads its primary key or an index, and every query names it. Timestamps
-- are BIGINT microseconds since the Unix epoch; ids are TEXT (hyphenated UUIDs);
-- hashes, wrapped keys and ciphertexts are BYTEA; lists of names are TEXT[]. No
-- column holds a plaintext personal value.
--
-- Text keys use the "C" collation: ordering is by bytes, as in SQLite, whatever
-- the database's locale, and comparisons skip the locale's rules.

CREATE TABLE tenants (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    name        TEXT   NOT NULL,
    created_at  BIGINT NOT NULL
);

-- One row per tenant: the head of its audit chain. An append locks it
-- (SELECT … FOR UPDATE), so concurrent writers on any number of custos
-- instances take turns per tenant and never take the same seq.
CREATE TABLE audit_heads (
    tenant  TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES tenants (id),
    seq     BIGINT NOT NULL CHECK (seq >= 0),
    hash    BYTEA  NOT NULL CHECK (octet_length(hash) = 32)
);

CREATE TABLE policy_versions (
    tenant        TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    number        BIGINT NOT NULL CHECK (number >= 1),
    label         TEXT   NOT NULL,
    text          TEXT   NOT NULL,
    effective_at  BIGINT NOT NULL,
    published_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant, number)
);

-- The public id is unique across tenants: it is how a caller's tenant is found.
CREATE TABLE api_keys (
    id          TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    tenant      TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    hash        BYTEA   NOT NULL CHECK (octet_length(hash) = 32),
    label       TEXT    NOT NULL,
    role        TEXT    NOT NULL,
    purposes    TEXT[]  NOT NULL,
    admin       BOOLEAN NOT NULL,
    created_at  BIGINT  NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant, id);

CREATE TABLE subjects (
    tenant       TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    id           TEXT COLLATE "C" NOT NULL,
    wrapped_dek  BYTEA  NOT NULL,
    kek_version  BIGINT NOT NULL CHECK (kek_version BETWEEN 0 AND 4294967295),
    jurisdiction TEXT,
    state        TEXT   NOT NULL CHECK (state IN ('active', 'restricted', 'erased')),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);
-- KEK rotation: subjects still wrapped under an old version.
CREATE INDEX subjects_by_kek_version ON subjects (tenant, kek_version);

-- `ord` keeps insertion order, which SQLite's rowid gives for free: a subject's
-- records are read back in the order they were written.
CREATE TABLE records (
    tenant        TEXT COLLATE "C" NOT NULL,
    id            TEXT COLLATE "C" NOT NULL,
    ord           BIGINT GENERATED ALWAYS AS IDENTITY,
    subject       TEXT COLLATE "C" NOT NULL,
    category      TEXT COLLATE "C" NOT NULL,
    ciphertext    BYTEA  NOT NULL,
    purpose       TEXT   NOT NULL,
    source        TEXT   NOT NULL,
    collected_at  BIGINT NOT NULL,
    expires_at    BIGINT,
    PRIMARY KEY (tenant, id),
    FOREIGN KEY (tenant, subject) REFERENCES subjects (tenant, id)
);
CREATE INDEX records_by_subject ON records (tenant, subject, category);

CREATE TABLE blind_index (
    tenant    TEXT COLLATE "C" NOT NULL,
    category  TEXT COLLATE "C" NOT NULL,
    hash      BYTEA NOT NULL CHECK (octet_length(hash) = 32),
    subject   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (tenant, category, hash, subject),
    FOREIGN KEY (tenant, subject) REFERENCES subjects (tenant, id)
);
-- Erasure deletes a subject's entries.
CREATE INDEX blind_index_by_subject ON blind_index (tenant, subject);

-- Per-tenant hash chain: seq is 1, 2, … and hash = chain_hash(prev_hash, entry).
CREATE TABLE audit_log (
    tenant      TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    seq         BIGINT NOT NULL CHECK (seq >= 1),
    at          BIGINT NOT NULL,
    actor       TEXT   NOT NULL,
    key_id      TEXT,
    action      TEXT   NOT NULL,
    purpose     TEXT,
    subject     TEXT,
    categories  TEXT[] NOT NULL,
    outcome     TEXT   NOT NULL CHECK (outcome IN ('allow', 'partial', 'deny')),
    reason      TEXT   NOT NULL,
    request_id  TEXT,
    prev_hash   BYTEA  NOT NULL CHECK (octet_length(prev_hash) = 32),
    hash        BYTEA  NOT NULL CHECK (octet_length(hash) = 32),
    PRIMARY KEY (tenant, seq)
);

-- The log is append-only; the chain would show a change, these refuse it.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE idempotency (
    tenant        TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    key           TEXT COLLATE "C" NOT NULL,
    request_hash  BYTEA   NOT NULL CHECK (octet_length(request_hash) = 32),
    status        INTEGER NOT NULL CHECK (status BETWEEN 0 AND 65535),
    body          TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    PRIMARY KEY (tenant, key)
);
