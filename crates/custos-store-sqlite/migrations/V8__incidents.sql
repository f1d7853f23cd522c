-- Breach incidents, one JSON document each, versioned for compare-and-set.
CREATE TABLE incidents (
    tenant   TEXT    NOT NULL REFERENCES tenants (id),
    id       TEXT    NOT NULL,
    version  INTEGER NOT NULL,
    document TEXT    NOT NULL,
    PRIMARY KEY (tenant, id)
) STRICT;
