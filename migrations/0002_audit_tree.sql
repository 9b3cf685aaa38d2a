-- The tamper-evident signal log (RFC 6962). The tree over the audit entries (entry seq is leaf
-- seq - 1) is recorded in chunks: the leaf hashes of each complete run of 16 entries in one row,
-- and every completed perfect subtree of 16 leaves or more (level >= 4). Smaller subtrees are
-- composed from the chunk's leaves; the leaves of the last, incomplete chunk from its entries.
-- Also: signed checkpoints, the log's public keys, and match counts per member and hour for
-- transparency reports (query hashes are never stored).

CREATE TABLE audit_leaf_chunks (
  chunk   INTEGER PRIMARY KEY,                    -- leaves 16*chunk .. 16*chunk + 15
  leaves  BLOB NOT NULL CHECK (length(leaves) = 512)
) STRICT;

CREATE TABLE audit_tree_nodes (
  level INTEGER NOT NULL CHECK (level >= 4),
  idx   INTEGER NOT NULL,
  hash  BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER audit_leaf_chunks_no_update BEFORE UPDATE ON audit_leaf_chunks
BEGIN SELECT RAISE(ABORT, 'the audit tree is append-only'); END;
CREATE TRIGGER audit_leaf_chunks_no_delete BEFORE DELETE ON audit_leaf_chunks
BEGIN SELECT RAISE(ABORT, 'the audit tree is append-only'); END;
CREATE TRIGGER audit_tree_nodes_no_update BEFORE UPDATE ON audit_tree_nodes
BEGIN SELECT RAISE(ABORT, 'the audit tree is append-only'); END;
CREATE TRIGGER audit_tree_nodes_no_delete BEFORE DELETE ON audit_tree_nodes
BEGIN SELECT RAISE(ABORT, 'the audit tree is append-only'); END;

CREATE TABLE log_keys (
  kid         TEXT PRIMARY KEY,
  public_jwk  TEXT NOT NULL,
  created_at  TEXT NOT NULL
) STRICT;

CREATE TABLE audit_checkpoints (
  tree_size   INTEGER PRIMARY KEY,
  root_hash   TEXT NOT NULL,
  timestamp   TEXT NOT NULL,
  signature   TEXT NOT NULL
) STRICT;

CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;

CREATE TABLE match_counts (
  member_id   TEXT NOT NULL,
  hour        TEXT NOT NULL,                      -- RFC 3339, truncated to the hour
  queries     INTEGER NOT NULL,
  hits        INTEGER NOT NULL,
  PRIMARY KEY (member_id, hour)
) STRICT, WITHOUT ROWID;

-- Filtering the log by action scans it (auditors' occasional queries); one index fewer keeps the
-- append on the submit path cheaper. Member and time filters keep their indexes.
DROP INDEX audit_entries_by_action;
