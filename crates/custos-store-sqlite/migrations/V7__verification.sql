-- One-time identity-verification codes: only a keyed hash of each code is kept.
CREATE TABLE verification_challenges (
    tenant      TEXT    NOT NULL REFERENCES tenants (id),
    id          TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    category    TEXT    NOT NULL,
    code_hash   BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL,
    consumed_at INTEGER,
    PRIMARY KEY (tenant, id),
    FOREIGN KEY (tenant, subject) REFERENCES subjects (tenant, id)
) STRICT;
CREATE INDEX verification_by_subject ON verification_challenges (tenant, subject, created_at);
