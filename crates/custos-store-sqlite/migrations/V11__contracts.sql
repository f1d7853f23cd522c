-- Consumer contracts (orders, memberships, returns): the engine state as one JSON
-- document, versioned for compare-and-set, with the columns lists and the clock job
-- need. No personal value: the subject by id, payments by processor reference.
CREATE TABLE contracts (
    tenant     TEXT    NOT NULL REFERENCES tenants (id),
    id         TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('order', 'membership', 'return')),
    status     TEXT    NOT NULL,
    state      TEXT    NOT NULL,
    next_due   INTEGER,
    version    INTEGER NOT NULL CHECK (version >= 1),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
) STRICT;

CREATE INDEX contracts_by_subject ON contracts (tenant, subject, created_at, id);
CREATE INDEX contracts_due ON contracts (tenant, next_due, id) WHERE next_due IS NOT NULL;
