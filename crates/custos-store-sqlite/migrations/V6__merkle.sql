-- The audit log as an RFC 9162 Merkle tree (docs/audit-proofs.md), kept beside
-- the hash chain of audit_log and written in the same transaction as each entry.

-- Full subtrees: the node (level, idx) is the root over leaves
-- idx·2^level .. (idx+1)·2^level − 1; level 0 holds the leaf hashes (idx = seq − 1).
CREATE TABLE audit_nodes (
    tenant  TEXT    NOT NULL REFERENCES tenants (id),
    level   INTEGER NOT NULL CHECK (level BETWEEN 0 AND 63),
    idx     INTEGER NOT NULL CHECK (idx >= 0),
    hash    BLOB    NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (tenant, level, idx)
) STRICT, WITHOUT ROWID;

-- One row per tenant: the tree's size and right edge (the roots of the full
-- subtrees the leaves decompose into, largest first, 32 bytes each).
CREATE TABLE audit_tree_heads (
    tenant    TEXT    NOT NULL PRIMARY KEY REFERENCES tenants (id),
    size      INTEGER NOT NULL CHECK (size >= 0),
    frontier  BLOB    NOT NULL CHECK (length(frontier) % 32 = 0)
) STRICT, WITHOUT ROWID;

-- Signed tree heads. The signature covers the body of docs/audit-proofs.md §3,
-- rebuilt from these columns.
CREATE TABLE audit_checkpoints (
    tenant     TEXT    NOT NULL REFERENCES tenants (id),
    tree_size  INTEGER NOT NULL CHECK (tree_size >= 0),
    root_hash  BLOB    NOT NULL CHECK (length(root_hash) = 32),
    timestamp  INTEGER NOT NULL,
    signature  BLOB    NOT NULL CHECK (length(signature) = 64),
    PRIMARY KEY (tenant, tree_size)
) STRICT, WITHOUT ROWID;

-- Nodes and checkpoints are append-only; verification would show a change,
-- these refuse it.
CREATE TRIGGER audit_nodes_no_update BEFORE UPDATE ON audit_nodes
BEGIN
    SELECT RAISE(ABORT, 'audit_nodes is append-only');
END;
CREATE TRIGGER audit_nodes_no_delete BEFORE DELETE ON audit_nodes
BEGIN
    SELECT RAISE(ABORT, 'audit_nodes is append-only');
END;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit_checkpoints is append-only');
END;
