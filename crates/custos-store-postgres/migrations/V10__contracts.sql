-- Consumer contracts (orders, memberships, returns): the engine state as one JSON
-- document, versioned for compare-and-set. As custos-store-sqlite's V11.
CREATE TABLE contracts (
    tenant     TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    id         TEXT COLLATE "C" NOT NULL,
    subject    TEXT COLLATE "C" NOT NULL,
    kind       TEXT COLLATE "C" NOT NULL CHECK (kind IN ('order', 'membership', 'return')),
    status     TEXT COLLATE "C" NOT NULL,
    state      TEXT   NOT NULL,
    next_due   BIGINT,
    version    BIGINT NOT NULL CHECK (version >= 1),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE INDEX contracts_by_subject ON contracts (tenant, subject, created_at, id);
CREATE INDEX contracts_due ON contracts (tenant, next_due, id) WHERE next_due IS NOT NULL;
