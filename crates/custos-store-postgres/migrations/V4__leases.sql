-- Job leases (custos_store::LeaseStore): one row per job that several
-- `custos serve` instances could run; the holder runs it until `expires_at`
-- (microseconds). Not tenant data: a job's pass covers every tenant.
CREATE TABLE leases (
    job         TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    holder      TEXT   NOT NULL,
    expires_at  BIGINT NOT NULL
);

-- Rights requests and the outbox, as custos-store-sqlite's V3: the notice
-- delivery job that the lease above guards reads the outbox. IF NOT EXISTS in
-- case another migration brings them first.
CREATE TABLE IF NOT EXISTS rights_requests (
    tenant           TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    id               TEXT COLLATE "C" NOT NULL,
    subject          TEXT COLLATE "C",
    right_kind       TEXT   NOT NULL,
    state            TEXT   NOT NULL CHECK (state IN ('received', 'verified', 'in_progress', 'fulfilled', 'rejected')),
    jurisdiction     TEXT,
    channel          TEXT   NOT NULL,
    received_at      BIGINT NOT NULL,
    due_at           BIGINT NOT NULL,
    extended_until   BIGINT,
    extension_reason TEXT,
    closed_at        BIGINT,
    rejection_reason TEXT,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX IF NOT EXISTS rights_requests_by_due ON rights_requests (tenant, state, due_at);

CREATE TABLE IF NOT EXISTS outbox (
    tenant          TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    id              TEXT COLLATE "C" NOT NULL,
    subject         TEXT COLLATE "C",
    kind            TEXT   NOT NULL,
    payload         TEXT   NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL CHECK (attempts BETWEEN 0 AND 4294967295),
    next_attempt_at BIGINT NOT NULL,
    delivered_at    BIGINT,
    last_error      TEXT,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (tenant, delivered_at, next_attempt_at);
