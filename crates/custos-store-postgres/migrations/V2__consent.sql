-- The consent ledger: append-only events; current state is derived (latest
-- event). As custos-store-sqlite's V2; `ord` stands in for SQLite's rowid to
-- order events with the same time.
CREATE TABLE consent_events (
    tenant         TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    id             TEXT COLLATE "C" NOT NULL,
    ord            BIGINT GENERATED ALWAYS AS IDENTITY,
    subject        TEXT COLLATE "C" NOT NULL,
    purpose        TEXT COLLATE "C" NOT NULL,
    kind           TEXT   NOT NULL CHECK (kind IN ('granted', 'withdrawn', 'objected', 'objection_lifted')),
    policy_version BIGINT NOT NULL CHECK (policy_version BETWEEN 0 AND 4294967295),
    notice_hash    BYTEA  NOT NULL CHECK (octet_length(notice_hash) = 32),
    channel        TEXT   NOT NULL,
    ip_hash        BYTEA  CHECK (octet_length(ip_hash) = 32),
    user_agent     TEXT,
    at             BIGINT NOT NULL,
    PRIMARY KEY (tenant, id),
    FOREIGN KEY (tenant, subject) REFERENCES subjects (tenant, id)
);
CREATE INDEX consent_by_subject ON consent_events (tenant, subject, purpose, at);

CREATE FUNCTION consent_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'consent events are append-only';
END;
$$;
CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
    FOR EACH ROW EXECUTE FUNCTION consent_events_append_only();
