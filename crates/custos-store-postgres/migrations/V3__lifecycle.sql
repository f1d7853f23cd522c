-- Records kept after their subject's erasure because the law requires them
-- (legal obligation, legal claims): re-sealed under the tenant's hold key,
-- isolated from live records, with the purpose that keeps them, the reason and
-- the date they become deletable. As custos-store-sqlite's V4; `ord` stands in
-- for SQLite's rowid.
CREATE TABLE held_records (
    tenant        TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    id            TEXT COLLATE "C" NOT NULL,
    ord           BIGINT GENERATED ALWAYS AS IDENTITY,
    subject       TEXT COLLATE "C" NOT NULL,
    category      TEXT COLLATE "C" NOT NULL,
    ciphertext    BYTEA  NOT NULL,
    purpose       TEXT   NOT NULL,
    source        TEXT   NOT NULL,
    collected_at  BIGINT NOT NULL,
    held_for      TEXT   NOT NULL,
    reason        TEXT   NOT NULL,
    held_at       BIGINT NOT NULL,
    until         BIGINT,
    PRIMARY KEY (tenant, id),
    FOREIGN KEY (tenant, subject) REFERENCES subjects (tenant, id)
);
CREATE INDEX held_records_by_subject ON held_records (tenant, subject);
CREATE INDEX held_records_by_until ON held_records (tenant, until);
