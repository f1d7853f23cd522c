-- The audit log as an RFC 9162 Merkle tree (docs/audit-proofs.md), kept beside
-- the hash chain of audit_log and written in the same transaction as each entry.

-- The tenant's head row (locked by every append) also holds the tree's size and
-- right edge: the roots of the full subtrees the leaves decompose into, largest
-- first, 32 bytes each.
ALTER TABLE audit_heads
    ADD COLUMN tree_size BIGINT NOT NULL DEFAULT 0 CHECK (tree_size >= 0),
    ADD COLUMN frontier  BYTEA  NOT NULL DEFAULT ''::bytea
        CHECK (octet_length(frontier) % 32 = 0);

-- Full subtrees: the node (level, idx) is the root over leaves
-- idx·2^level .. (idx+1)·2^level − 1; level 0 holds the leaf hashes (idx = seq − 1).
CREATE TABLE audit_nodes (
    tenant  TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    level   INTEGER NOT NULL CHECK (level BETWEEN 0 AND 63),
    idx     BIGINT  NOT NULL CHECK (idx >= 0),
    hash    BYTEA   NOT NULL CHECK (octet_length(hash) = 32),
    PRIMARY KEY (tenant, level, idx)
);

-- Signed tree heads. The signature covers the body of docs/audit-proofs.md §3,
-- rebuilt from these columns.
CREATE TABLE audit_checkpoints (
    tenant     TEXT COLLATE "C" NOT NULL REFERENCES tenants (id),
    tree_size  BIGINT NOT NULL CHECK (tree_size >= 0),
    root_hash  BYTEA  NOT NULL CHECK (octet_length(root_hash) = 32),
    timestamp  BIGINT NOT NULL,
    signature  BYTEA  NOT NULL CHECK (octet_length(signature) = 64),
    PRIMARY KEY (tenant, tree_size)
);

CREATE FUNCTION audit_tree_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END;
$$;
CREATE TRIGGER audit_nodes_no_update BEFORE UPDATE OR DELETE ON audit_nodes
    FOR EACH ROW EXECUTE FUNCTION audit_tree_append_only();
CREATE TRIGGER audit_nodes_no_truncate BEFORE TRUNCATE ON audit_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION audit_tree_append_only();
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_tree_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_tree_append_only();
