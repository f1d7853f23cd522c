-- Retention: anonymous aggregates, legal holds, and the index the sweep walks.
-- As custos-store-sqlite's V10.
CREATE TABLE aggregates (
    tenant    TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    purpose   TEXT COLLATE "C" NOT NULL,
    category  TEXT COLLATE "C" NOT NULL,
    bucket    TEXT COLLATE "C" NOT NULL,
    count     BIGINT NOT NULL CHECK (count >= 0),
    PRIMARY KEY (tenant, purpose, category, bucket)
);

CREATE TABLE legal_holds (
    tenant     TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    id         TEXT COLLATE "C" NOT NULL,
    subject    TEXT COLLATE "C" NOT NULL,
    record     TEXT COLLATE "C",
    reason     TEXT   NOT NULL,
    placed_at  BIGINT NOT NULL,
    until      BIGINT,
    PRIMARY KEY (tenant, id),
    FOREIGN KEY (tenant, subject) REFERENCES subjects (tenant, id)
);
CREATE INDEX legal_holds_by_subject ON legal_holds (tenant, subject);

CREATE INDEX records_by_expiry ON records (tenant, expires_at, id) WHERE expires_at IS NOT NULL;
