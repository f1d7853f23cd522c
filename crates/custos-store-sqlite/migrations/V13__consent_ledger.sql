-- Who recorded each consent event (issue 13.2): `data_subject`, `admin` or the
-- policy role of the relaying key. Events recorded before this column existed
-- were recorded through an API key or the privacy center; which one is unknown.
ALTER TABLE consent_events ADD COLUMN recorded_by TEXT NOT NULL DEFAULT 'unknown';

-- Erasure drops what the person's browser sent (issue 17.11): clearing
-- `user_agent` is the one change the otherwise append-only ledger allows.
DROP TRIGGER consent_events_no_update;
CREATE TRIGGER consent_events_no_update BEFORE UPDATE ON consent_events
WHEN NOT (
    NEW.user_agent IS NULL
    AND NEW.tenant IS OLD.tenant AND NEW.id IS OLD.id AND NEW.subject IS OLD.subject
    AND NEW.purpose IS OLD.purpose AND NEW.kind IS OLD.kind
    AND NEW.policy_version IS OLD.policy_version AND NEW.notice_hash IS OLD.notice_hash
    AND NEW.channel IS OLD.channel AND NEW.ip_hash IS OLD.ip_hash AND NEW.at IS OLD.at
    AND NEW.recorded_by IS OLD.recorded_by
)
BEGIN SELECT RAISE(ABORT, 'consent events are append-only'); END;
