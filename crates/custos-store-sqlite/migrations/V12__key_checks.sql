-- Key-check values of the key file this database belongs to
-- (custos_store::KeyCheckStore). Not tenant data.
CREATE TABLE key_checks (
    name  TEXT NOT NULL PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;
