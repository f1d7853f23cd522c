-- Records kept after their subject's erasure because the law requires them
-- (legal obligation, legal claims): re-sealed under the tenant's hold key (the
-- subject's data key is destroyed), isolated from live records, with the purpose
-- that keeps them, the reason and the date they become deletable.
CREATE TABLE held_records (
    tenant        TEXT    NOT NULL REFERENCES tenants (id),
    id            TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    category      TEXT    NOT NULL,
    ciphertext    BLOB    NOT NULL,
    purpose       TEXT    NOT NULL,
    source        TEXT    NOT NULL,
    collected_at  INTEGER NOT NULL,
    held_for      TEXT    NOT NULL,
    reason        TEXT    NOT NULL,
    held_at       INTEGER NOT NULL,
    until         INTEGER,
    PRIMARY KEY (tenant, id),
    FOREIGN KEY (tenant, subject) REFERENCES subjects (tenant, id)
) STRICT;
CREATE INDEX held_records_by_subject ON held_records (tenant, subject);
CREATE INDEX held_records_by_until ON held_records (tenant, until);
