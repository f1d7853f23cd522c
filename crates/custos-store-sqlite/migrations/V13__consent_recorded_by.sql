-- Who recorded each consent event (issue 13.2): `data_subject`, `admin` or the
-- policy role of the relaying key. Events recorded before this column existed
-- were recorded through an API key or the privacy center; which one is unknown.
ALTER TABLE consent_events ADD COLUMN recorded_by TEXT NOT NULL DEFAULT 'unknown';
