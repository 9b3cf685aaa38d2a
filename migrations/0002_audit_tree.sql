-- The tamper-evident signal log (RFC 6962): every completed perfect subtree of the Merkle tree
-- over the audit entries (level 0 = the leaf hash of entry seq = idx + 1), written in the same
-- transaction as the entry; signed checkpoints; the log's public keys; match counts per member
-- and hour for transparency reports (query hashes are never stored).

CREATE TABLE audit_tree_nodes (
  level INTEGER NOT NULL,
  idx   INTEGER NOT NULL,
  hash  BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;

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
