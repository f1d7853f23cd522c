-- Who recorded each consent event (issue 13.2): `data_subject`, `admin` or the
-- policy role of the relaying key. Events recorded before this column existed
-- were recorded through an API key or the privacy center; which one is unknown.
ALTER TABLE consent_events ADD COLUMN recorded_by TEXT NOT NULL DEFAULT 'unknown';

-- Erasure drops what the person's browser sent (issue 17.11): clearing
-- `user_agent` is the one change the otherwise append-only ledger allows.
CREATE OR REPLACE FUNCTION consent_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.user_agent IS NULL
       AND (NEW.tenant, NEW.id, NEW.ord, NEW.subject, NEW.purpose, NEW.kind, NEW.policy_version,
            NEW.notice_hash, NEW.channel, NEW.ip_hash, NEW.at, NEW.recorded_by)
           IS NOT DISTINCT FROM
           (OLD.tenant, OLD.id, OLD.ord, OLD.subject, OLD.purpose, OLD.kind, OLD.policy_version,
            OLD.notice_hash, OLD.channel, OLD.ip_hash, OLD.at, OLD.recorded_by)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'consent events are append-only';
END;
$$;
