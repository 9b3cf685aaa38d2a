-- Job queries and results stored in blocks of consecutive lines instead of one row per line
-- (docs/decisions.md "Job lines in blocks"): a million-line job was two million row inserts and a
-- million row deletes on the request thread. A job's lines 1..total are split into blocks as the
-- body is read; each block is either still to run (a row of job_query_blocks) or answered (a row
-- of job_result_blocks, written in the same transaction as the query block is deleted) — so the
-- two tables' ranges never overlap, and the query blocks left are exactly the unfinished work.

-- Lines first_line..last_line of a job not answered yet, as JSON
-- {"q": [[line, type, hash, maxDistance, ref|null], …], "r": [[line, result line], …]}: the valid
-- queries (normalised) and the result lines of the lines refused when the body was read.
CREATE TABLE job_query_blocks (
  job_id      INTEGER NOT NULL,
  first_line  INTEGER NOT NULL,
  last_line   INTEGER NOT NULL,
  refused     INTEGER NOT NULL,                -- how many of its lines were refused (already counted in jobs.done)
  lines       TEXT NOT NULL,
  PRIMARY KEY (job_id, first_line),
  CHECK (first_line >= 1 AND last_line >= first_line AND refused BETWEEN 0 AND last_line - first_line + 1)
) STRICT, WITHOUT ROWID;

-- Result lines of a job whose lines lie in first_line..last_line, in line order, each ending in a
-- newline: every line of the range once answered; only the refused ones when the job ended before
-- the block ran.
CREATE TABLE job_result_blocks (
  job_id      INTEGER NOT NULL,
  first_line  INTEGER NOT NULL,
  last_line   INTEGER NOT NULL,
  lines       INTEGER NOT NULL,                -- how many result lines it holds
  results     TEXT NOT NULL,
  PRIMARY KEY (job_id, first_line),
  CHECK (first_line >= 1 AND last_line >= first_line AND lines BETWEEN 0 AND last_line - first_line + 1)
) STRICT, WITHOUT ROWID;

-- Rows of the one-row-per-line tables become blocks of one line.
INSERT INTO job_query_blocks (job_id, first_line, last_line, refused, lines)
  SELECT job_id, line, line, 0, json_object('q', json_array(json_array(line, type, hash, max_distance, ref)), 'r', json_array())
  FROM job_queries;
INSERT INTO job_result_blocks (job_id, first_line, last_line, lines, results)
  SELECT job_id, line, line, 1, result || char(10) FROM job_results;

DROP TABLE job_queries;
DROP TABLE job_results;
