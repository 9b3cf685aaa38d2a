-- Batch matching jobs (SPEC §5 "Jobs"). A job row, the queries still to run (deleted in the
-- same transaction as their results are written, so the rows left are exactly the unfinished
-- work), and one result per input line, kept until the retention sweep removes the job.
-- A job is 'receiving' while its body streams in: never shown, never run, and discarded at
-- start if the service stopped before the upload was acknowledged.

CREATE TABLE jobs (
  id            INTEGER PRIMARY KEY,
  public_id     TEXT NOT NULL UNIQUE,            -- opaque id shown to the owner
  member_id     TEXT NOT NULL REFERENCES members(id),
  status        TEXT NOT NULL CHECK (status IN ('receiving', 'queued', 'running', 'done', 'failed', 'cancelled')),
  match_limit   INTEGER NOT NULL CHECK (match_limit BETWEEN 1 AND 100),
  total         INTEGER NOT NULL DEFAULT 0,      -- input lines
  done          INTEGER NOT NULL DEFAULT 0,      -- lines with a result (error lines included)
  error_lines   INTEGER NOT NULL DEFAULT 0,      -- lines refused when the body was read
  created_at    TEXT NOT NULL,
  started_at    TEXT,
  finished_at   TEXT,
  error         TEXT                             -- JSON {code, message} of a failed job
) STRICT;
CREATE INDEX jobs_by_member ON jobs (member_id, id);
CREATE INDEX jobs_by_status ON jobs (status, id);

-- Valid queries not answered yet, normalised (lower-case hex, the type's radius resolved).
CREATE TABLE job_queries (
  job_id        INTEGER NOT NULL,
  line          INTEGER NOT NULL,
  type          TEXT NOT NULL,
  hash          TEXT NOT NULL,
  max_distance  INTEGER NOT NULL,
  ref           TEXT,
  PRIMARY KEY (job_id, line)
) STRICT, WITHOUT ROWID;

-- One NDJSON result line per input line (without the newline), in line order by key.
CREATE TABLE job_results (
  job_id        INTEGER NOT NULL,
  line          INTEGER NOT NULL,
  result        TEXT NOT NULL,
  PRIMARY KEY (job_id, line)
) STRICT, WITHOUT ROWID;
