-- Breach incidents, one JSON document each, versioned for compare-and-set.
-- As custos-store-sqlite's V8.
CREATE TABLE incidents (
    tenant   TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    id       TEXT COLLATE "C" NOT NULL,
    version  BIGINT NOT NULL CHECK (version >= 0),
    document TEXT   NOT NULL,
    PRIMARY KEY (tenant, id)
);
