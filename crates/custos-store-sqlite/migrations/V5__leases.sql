-- Job leases (custos_store::LeaseStore): one row per job that several
-- instances could run; the holder runs it until `expires_at` (microseconds).
-- Not tenant data: a job's pass covers every tenant.
CREATE TABLE leases (
    job         TEXT    NOT NULL PRIMARY KEY,
    holder      TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL
) STRICT;
