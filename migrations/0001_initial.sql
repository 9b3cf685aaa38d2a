-- signalbank schema v1: members and keys, the replay guard, the label taxonomy, signals with
-- their submissions and opinions, the append-only audit log and the signal change feed.
-- Times are RFC 3339 strings in UTC with milliseconds; JSON columns hold arrays or objects.

CREATE TABLE members (
  id          TEXT PRIMARY KEY CHECK (id GLOB '[a-z]*' AND length(id) BETWEEN 2 AND 63),
  name        TEXT NOT NULL,
  roles       TEXT NOT NULL,                       -- JSON array of role names
  status      TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL
) STRICT;

CREATE TABLE member_keys (
  kid         TEXT PRIMARY KEY,
  member_id   TEXT NOT NULL REFERENCES members(id),
  alg         TEXT NOT NULL CHECK (alg IN ('EdDSA', 'ES256')),
  public_jwk  TEXT NOT NULL,                       -- JSON, public members only
  thumbprint  TEXT NOT NULL UNIQUE,                -- RFC 7638, so one key belongs to one member
  status      TEXT NOT NULL CHECK (status IN ('active', 'revoked')),
  created_at  TEXT NOT NULL,
  revoked_at  TEXT
) STRICT;
CREATE INDEX member_keys_by_member ON member_keys (member_id);

-- jti values of state-changing requests, kept until they expire (SPEC §3 replay guard).
CREATE TABLE used_jtis (
  member_id   TEXT NOT NULL,
  jti         TEXT NOT NULL,
  expires_at  INTEGER NOT NULL,                    -- epoch seconds
  PRIMARY KEY (member_id, jti)
) STRICT, WITHOUT ROWID;
CREATE INDEX used_jtis_by_expiry ON used_jtis (expires_at);

CREATE TABLE labels (
  name        TEXT PRIMARY KEY CHECK (name GLOB '[a-z]*' AND length(name) BETWEEN 2 AND 64),
  kind        TEXT NOT NULL CHECK (kind IN ('category', 'modifier')),
  description TEXT NOT NULL,
  created_at  TEXT NOT NULL
) STRICT;
INSERT INTO labels (name, kind, description, created_at) VALUES
  ('suicide',       'category', 'Depicts or encourages suicide.',                          '1970-01-01T00:00:00.000Z'),
  ('self_harm',     'category', 'Depicts or encourages self-harm.',                        '1970-01-01T00:00:00.000Z'),
  ('graphic',       'modifier', 'Graphic depiction: injuries, blood, method in use.',       '1970-01-01T00:00:00.000Z'),
  ('instructional', 'modifier', 'Gives methods or instructions.',                          '1970-01-01T00:00:00.000Z'),
  ('promotional',   'modifier', 'Glorifies, promotes or encourages the behaviour.',         '1970-01-01T00:00:00.000Z'),
  ('challenge',     'modifier', 'Part of a challenge or trend that spreads the behaviour.', '1970-01-01T00:00:00.000Z');

-- One row per distinct (type, hash). The aggregate columns are derived from the active
-- submissions and opinions and rewritten in the same transaction as every change to them.
CREATE TABLE signals (
  id              INTEGER PRIMARY KEY,             -- internal; the Hamming index id
  public_id       TEXT NOT NULL UNIQUE,            -- opaque id shown to members
  type            TEXT NOT NULL CHECK (type IN ('pdq', 'blockhash', 'md5', 'sha256')),
  hash            BLOB NOT NULL,
  media           TEXT NOT NULL CHECK (media IN ('image', 'video')),
  status          TEXT NOT NULL CHECK (status IN ('active', 'disputed', 'retracted')),
  labels          TEXT NOT NULL,                   -- JSON array, union over active submissions
  submitters      INTEGER NOT NULL,
  confirms        INTEGER NOT NULL,
  false_positives INTEGER NOT NULL,
  dispute_labels  INTEGER NOT NULL,
  first_seen      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  UNIQUE (type, hash)
) STRICT;

CREATE TABLE submissions (
  signal_id   INTEGER NOT NULL REFERENCES signals(id),
  member_id   TEXT NOT NULL REFERENCES members(id),
  status      TEXT NOT NULL CHECK (status IN ('active', 'retracted')),
  labels      TEXT NOT NULL,
  media       TEXT NOT NULL CHECK (media IN ('image', 'video')),
  quality     INTEGER,
  ref         TEXT,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  PRIMARY KEY (signal_id, member_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX submissions_by_member ON submissions (member_id, status);

CREATE TABLE opinions (
  signal_id   INTEGER NOT NULL REFERENCES signals(id),
  member_id   TEXT NOT NULL REFERENCES members(id),
  verdict     TEXT NOT NULL CHECK (verdict IN ('confirm', 'false_positive', 'dispute_labels')),
  labels      TEXT,
  reason      TEXT,
  created_at  TEXT NOT NULL,
  updated_at  TEXT NOT NULL,
  PRIMARY KEY (signal_id, member_id)
) STRICT, WITHOUT ROWID;

-- The signal log (SPEC §5). A request's JWS is stored once and shared by the entries it made.
CREATE TABLE audit_proofs (
  id          INTEGER PRIMARY KEY,
  jws         TEXT NOT NULL
) STRICT;

CREATE TABLE audit_entries (
  seq         INTEGER PRIMARY KEY,
  at          TEXT NOT NULL,
  actor       TEXT NOT NULL,
  kid         TEXT,
  action      TEXT NOT NULL,
  subject     TEXT NOT NULL,
  data        TEXT NOT NULL,                       -- JSON object
  proof_id    INTEGER REFERENCES audit_proofs(id)
) STRICT;
CREATE INDEX audit_entries_by_actor ON audit_entries (actor, seq);
CREATE INDEX audit_entries_by_action ON audit_entries (action, seq);
CREATE INDEX audit_entries_by_time ON audit_entries (at);

CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
BEGIN SELECT RAISE(ABORT, 'audit entries are append-only'); END;
CREATE TRIGGER audit_proofs_no_update BEFORE UPDATE ON audit_proofs
BEGIN SELECT RAISE(ABORT, 'audit proofs are append-only'); END;
CREATE TRIGGER audit_proofs_no_delete BEFORE DELETE ON audit_proofs
BEGIN SELECT RAISE(ABORT, 'audit proofs are append-only'); END;

-- Every state change of a signal, in order, with the signal as it was after the change
-- (the change feed for mirrors, SPEC §5).
CREATE TABLE signal_changes (
  seq         INTEGER PRIMARY KEY AUTOINCREMENT,
  signal_id   INTEGER NOT NULL REFERENCES signals(id),
  op          TEXT NOT NULL CHECK (op IN ('upsert', 'delete')),
  at          TEXT NOT NULL,
  snapshot    TEXT NOT NULL                        -- JSON, the member-facing signal
) STRICT;
