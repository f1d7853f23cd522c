-- One-time identity-verification codes: only a keyed hash of each code is kept.
-- As custos-store-sqlite's V7.
CREATE TABLE verification_challenges (
    tenant      TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    id          TEXT COLLATE "C" NOT NULL,
    subject     TEXT COLLATE "C" NOT NULL,
    category    TEXT COLLATE "C" NOT NULL,
    code_hash   BYTEA  NOT NULL CHECK (octet_length(code_hash) = 32),
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    attempts    BIGINT NOT NULL CHECK (attempts >= 0),
    consumed_at BIGINT,
    PRIMARY KEY (tenant, id),
    FOREIGN KEY (tenant, subject) REFERENCES subjects (tenant, id)
);
CREATE INDEX verification_by_subject ON verification_challenges (tenant, subject, created_at);
