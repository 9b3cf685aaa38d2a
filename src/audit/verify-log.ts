/**
 * What an auditor runs (`signalbank audit verify`): downloads the signal log and checks, without
 * trusting the service,
 *  1. the current checkpoint's signature (log key) and that the entries served hash to its root;
 *  2. consistency with a checkpoint the auditor saved earlier: the first entries still hash to
 *     its root, and the service's consistency proof verifies;
 *  3. each entry's request JWS against the member key that was active at the time (keys are
 *     learnt from the log's own key.add / key.revoke entries), its actor, kid, time, method and
 *     target;
 *  4. where entries disagree with the leaf hashes the service recorded when it appended them,
 *     which entries were rewritten, removed, inserted, reordered or renumbered, by seq.
 * Memory is 32 bytes per entry; entries are streamed.
 */
import { compactVerify, decodeProtectedHeader, importJWK, type JWK } from 'jose';
import { CLOCK_SKEW_SECONDS, parseRequestToken, type RequestClaims } from '../auth/request-token.js';
import { AuditError } from '../errors.js';
import type { AuditEntry, Checkpoint } from '../store/store.js';
import { canonicalJson } from './canonical-json.js';
import { verifyCheckpoint } from './checkpoint.js';
import { leafHash, MerkleFrontier, verifyConsistency } from './merkle-tree.js';

export interface LogSource {
  logKeys(): Promise<{ kid: string; publicJwk: JWK }[]>;
  checkpoint(): Promise<unknown>;
  /** Every entry, oldest first, in pages. */
  entries(): AsyncIterable<readonly AuditEntry[]>;
  /** The leaf hashes the service recorded, oldest first, in pages. */
  leaves(): AsyncIterable<readonly { seq: number; hash: string }[]>;
  consistencyProof(from: number, to: number): Promise<string[]>;
}

export type FindingKind = 'checkpoint' | 'root' | 'inconsistent' | 'rewritten' | 'missing' | 'inserted' | 'reordered' | 'renumbered' | 'signature' | 'order';

export interface Finding {
  readonly kind: FindingKind;
  readonly seq?: number;
  readonly message: string;
}

export interface VerifyResult {
  readonly ok: boolean;
  readonly checkpoint: Checkpoint | undefined;
  readonly entries: number;
  readonly signedRequests: number;
  readonly unsignedEntries: number;
  readonly saved?: { readonly treeSize: number; readonly consistent: boolean };
  readonly findings: readonly Finding[];
  readonly ms: number;
}

export interface VerifyOptions {
  /** A checkpoint saved by an earlier verification (or the last line of an export). */
  readonly saved?: unknown;
  readonly onProgress?: (entries: number) => void;
  /** At most this many findings are listed (the rest are counted). */
  readonly maxFindings?: number;
}

/** How far (in seq) a moved entry is looked for. */
const MOVE_WINDOW = 64;
/** Time a request may take between its token's expiry and its commit (a large job upload). */
const MAX_PROCESSING_SECONDS = 15 * 60;

/** The method and target each signed action must have been requested with. */
const ACTION_REQUESTS: Record<string, (entry: AuditEntry) => { method: string; target: RegExp }> = {
  'signal.submit': () => ({ method: 'POST', target: /^\/v1\/signals$/ }),
  'signal.retract': (e) => ({ method: 'DELETE', target: new RegExp(`^/v1/signals/${escape(e.subject)}/submission$`) }),
  'opinion.set': (e) => ({ method: 'POST', target: new RegExp(`^/v1/signals/${escape(e.subject)}/opinions$`) }),
  'member.create': () => ({ method: 'POST', target: /^\/v1\/admin\/members$/ }),
  'member.update': (e) => ({ method: 'PATCH', target: new RegExp(`^/v1/admin/members/${escape(e.subject)}$`) }),
  'key.add': (e) => ({ method: 'POST', target: new RegExp(`^/v1/admin/members/${escape(String(e.data['member']))}/keys$`) }),
  'key.revoke': (e) => ({ method: 'DELETE', target: new RegExp(`^/v1/admin/members/${escape(String(e.data['member']))}/keys/${escape(encodeURIComponent(e.subject))}$`) }),
  'taxonomy.add': () => ({ method: 'POST', target: /^\/v1\/admin\/taxonomy$/ }),
  'job.create': () => ({ method: 'POST', target: /^\/v1\/jobs(\?.*)?$/ }),
  'job.cancel': (e) => ({ method: 'DELETE', target: new RegExp(`^/v1/jobs/${escape(e.subject)}$`) }),
};

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

interface KnownKey {
  readonly member: string;
  readonly jwk: JWK;
  readonly alg: string;
  revokedAt: string | undefined;
}

/** Verifies request JWSs against the key history the log itself records. */
class ProofChecker {
  private readonly keys = new Map<string, KnownKey>();
  private lastProof: string | undefined;
  private lastResult: { claims: RequestClaims } | { error: string } | undefined;
  /** Still in the leading run of unsigned operator entries that `init` writes. */
  private inInit = true;
  signedRequests = 0;

  async check(entry: AuditEntry): Promise<string | undefined> {
    if (entry.proof !== null) this.inInit = false;
    const problem = entry.proof === null ? this.checkUnsigned(entry) : await this.checkSigned(entry, entry.proof);
    this.learn(entry);
    return problem;
  }

  /** Only `init` acts without a member's signature: it writes the first entries (the first admin and its key). */
  private checkUnsigned(entry: AuditEntry): string | undefined {
    if (entry.actor !== 'operator' || entry.kid !== null) return `an entry by ${entry.actor} carries no request signature`;
    if (!this.inInit) return `an unsigned operator entry (${entry.action}) after initialisation: no member asked for it`;
    return undefined;
  }

  private async checkSigned(entry: AuditEntry, proof: string): Promise<string | undefined> {
    if (proof !== this.lastProof) {
      this.lastProof = proof;
      this.lastResult = await this.verify(proof);
      this.signedRequests++;
    }
    const result = this.lastResult!;
    if ('error' in result) return result.error;
    const { claims } = result;
    let header: { kid?: unknown };
    try {
      header = decodeProtectedHeader(proof);
    } catch {
      return 'the request signature is not a compact JWS';
    }
    if (header.kid !== entry.kid) return `the entry names key ${String(entry.kid)} but the request was signed with ${String(header.kid)}`;
    if (claims.iss !== entry.actor) return `the entry names actor ${entry.actor} but the request was signed by ${claims.iss}`;
    const at = Date.parse(entry.at) / 1000;
    if (at < claims.iat - CLOCK_SKEW_SECONDS || at > claims.exp + CLOCK_SKEW_SECONDS + MAX_PROCESSING_SECONDS) {
      return `the entry's time ${entry.at} lies outside the request's validity`;
    }
    const expected = ACTION_REQUESTS[entry.action]?.(entry);
    if (expected && (claims.htm !== expected.method || !expected.target.test(claims.htu))) {
      return `a ${entry.action} entry was made by a ${claims.htm} ${claims.htu} request`;
    }
    return undefined;
  }

  private async verify(proof: string): Promise<{ claims: RequestClaims } | { error: string }> {
    let parsed;
    try {
      parsed = parseRequestToken(proof);
    } catch {
      return { error: 'the request signature is malformed' };
    }
    const key = this.keys.get(parsed.header.kid);
    if (!key) return { error: `the request was signed with key ${parsed.header.kid}, which the log never added` };
    if (key.member !== parsed.claims.iss) return { error: `key ${parsed.header.kid} belongs to ${key.member}, not ${parsed.claims.iss}` };
    if (key.revokedAt !== undefined && Date.parse(key.revokedAt) / 1000 < parsed.claims.iat - CLOCK_SKEW_SECONDS) {
      return { error: `key ${parsed.header.kid} was revoked at ${key.revokedAt}, before the request was signed` };
    }
    try {
      await compactVerify(proof, await importJWK(key.jwk, key.alg), { algorithms: [key.alg] });
    } catch {
      return { error: `the request signature does not verify with key ${parsed.header.kid}` };
    }
    return { claims: parsed.claims };
  }

  private learn(entry: AuditEntry): void {
    if (entry.action === 'key.add') {
      const { member, jwk, alg } = entry.data as { member?: unknown; jwk?: unknown; alg?: unknown };
      if (typeof member === 'string' && typeof jwk === 'object' && jwk !== null && typeof alg === 'string') {
        this.keys.set(entry.subject, { member, jwk: jwk, alg, revokedAt: undefined });
      }
    } else if (entry.action === 'key.revoke') {
      const key = this.keys.get(entry.subject);
      if (key && key.revokedAt === undefined) key.revokedAt = entry.at;
    }
  }
}

/** 32-byte hashes by seq (1-based), growing as they arrive. */
class LeafTable {
  private bytes = Buffer.alloc(32 * 1024);
  private present = new Uint8Array(1024);
  maxSeq = 0;

  set(seq: number, hash: Uint8Array): void {
    while (seq * 32 > this.bytes.length) {
      const bigger = Buffer.alloc(this.bytes.length * 2);
      this.bytes.copy(bigger);
      this.bytes = bigger;
      const flags = new Uint8Array(this.present.length * 2);
      flags.set(this.present);
      this.present = flags;
    }
    this.bytes.set(hash, (seq - 1) * 32);
    this.present[seq - 1] = 1;
    this.maxSeq = Math.max(this.maxSeq, seq);
  }

  has(seq: number): boolean {
    return seq >= 1 && seq <= this.maxSeq && this.present[seq - 1] === 1;
  }

  get(seq: number): Buffer {
    return this.bytes.subarray((seq - 1) * 32, seq * 32);
  }

  /** Root of the tree of leaves 1…size; undefined when one is absent. */
  root(size: number): Buffer | undefined {
    const frontier = new MerkleFrontier();
    for (let seq = 1; seq <= size; seq++) {
      if (!this.has(seq)) return undefined;
      frontier.append(this.get(seq));
    }
    return frontier.root();
  }
}

const entryLeaf = (entry: AuditEntry): Buffer => leafHash(canonicalJson(entry));

export async function verifyLog(source: LogSource, options: VerifyOptions = {}): Promise<VerifyResult> {
  const started = performance.now();
  const findings: Finding[] = [];
  let hidden = 0;
  const report = (finding: Finding) => {
    if (findings.length < (options.maxFindings ?? 1000)) findings.push(finding);
    else hidden++;
  };

  const keys = await source.logKeys();
  let checkpoint: Checkpoint | undefined;
  try {
    checkpoint = await verifyCheckpoint(await source.checkpoint(), keys);
  } catch (error) {
    report({ kind: 'checkpoint', message: `current checkpoint: ${error instanceof Error ? error.message : String(error)}` });
  }

  // The leaf hashes the service recorded at append time: the reference that localises tampering.
  const recorded = new LeafTable();
  for await (const page of source.leaves()) for (const leaf of page) recorded.set(leaf.seq, Buffer.from(leaf.hash, 'hex'));

  const served = new LeafTable();
  const proofs = new ProofChecker();
  const seen = new Set<number>();
  /** seq at which the entry is served → seq it was recorded at, for moved entries. */
  const movedFrom = new Map<number, number>();
  const unexplained: number[] = [];
  let lastShift = 0;
  let previousSeq = 0;
  let count = 0;
  let unsigned = 0;
  for await (const page of source.entries()) {
    for (const entry of page) {
      count++;
      if (entry.proof === null) unsigned++;
      if (entry.seq <= previousSeq || seen.has(entry.seq)) report({ kind: 'order', seq: entry.seq, message: `entry ${entry.seq} is served out of order or twice` });
      previousSeq = Math.max(previousSeq, entry.seq);
      seen.add(entry.seq);
      const leaf = entryLeaf(entry);
      served.set(entry.seq, leaf);
      if (!(recorded.has(entry.seq) && recorded.get(entry.seq).equals(leaf))) {
        const origin = findOrigin(entry, recorded, lastShift);
        if (origin === undefined) unexplained.push(entry.seq);
        else {
          movedFrom.set(entry.seq, origin);
          lastShift = origin - entry.seq;
        }
      }
      const problem = await proofs.check(entry);
      if (problem) report({ kind: 'signature', seq: entry.seq, message: problem });
    }
    options.onProgress?.(count);
  }

  localise(recorded, served, movedFrom, unexplained, report);

  if (checkpoint) {
    const root = served.root(checkpoint.treeSize);
    if (!root || root.toString('hex') !== checkpoint.rootHash || served.maxSeq < checkpoint.treeSize) {
      report({ kind: 'root', message: `the entries served do not hash to the checkpoint's root for tree size ${checkpoint.treeSize}` });
    }
  }

  let saved: VerifyResult['saved'];
  if (options.saved !== undefined) {
    try {
      const earlier = await verifyCheckpoint(options.saved, keys);
      const root = served.root(earlier.treeSize);
      let consistent = root?.toString('hex') === earlier.rootHash;
      if (!consistent) report({ kind: 'inconsistent', message: `the first ${earlier.treeSize} entries no longer hash to the saved checkpoint of ${earlier.timestamp}: the log was rewritten` });
      if (checkpoint && earlier.treeSize <= checkpoint.treeSize) {
        const proof = earlier.treeSize === checkpoint.treeSize ? [] : await source.consistencyProof(earlier.treeSize, checkpoint.treeSize);
        const proven = verifyConsistency(earlier.treeSize, checkpoint.treeSize, proof.map((h) => Buffer.from(h, 'hex')), Buffer.from(earlier.rootHash, 'hex'), Buffer.from(checkpoint.rootHash, 'hex'));
        if (!proven) report({ kind: 'inconsistent', message: `the service cannot prove its checkpoint of ${checkpoint.treeSize} entries extends the saved one of ${earlier.treeSize}` });
        consistent &&= proven;
      } else if (checkpoint) {
        consistent = false;
        report({ kind: 'inconsistent', message: `the saved checkpoint covers ${earlier.treeSize} entries but the log now has ${checkpoint.treeSize}: entries were removed` });
      }
      saved = { treeSize: earlier.treeSize, consistent };
    } catch (error) {
      if (!(error instanceof AuditError)) throw error;
      report({ kind: 'checkpoint', message: `saved checkpoint: ${error.message}` });
    }
  }
  if (hidden > 0) findings.push({ kind: findings.at(-1)?.kind ?? 'rewritten', message: `… and ${hidden} more findings` });
  return {
    ok: findings.length === 0 && checkpoint !== undefined,
    checkpoint,
    entries: count,
    signedRequests: proofs.signedRequests,
    unsignedEntries: unsigned,
    ...(saved && { saved }),
    findings,
    ms: Math.round(performance.now() - started),
  };
}

/** The seq an entry was recorded at, if its content is there under another seq (nearby). */
function findOrigin(entry: AuditEntry, recorded: LeafTable, hint: number): number | undefined {
  const tries = [hint, ...Array.from({ length: 2 * MOVE_WINDOW }, (_, i) => (i % 2 === 0 ? 1 : -1) * (Math.floor(i / 2) + 1))];
  for (const shift of tries) {
    const seq = entry.seq + shift;
    if (shift === 0 || !recorded.has(seq)) continue;
    if (entryLeaf({ ...entry, seq }).equals(recorded.get(seq))) return seq;
  }
  return undefined;
}

/** Turns per-entry disagreements into findings: rewritten, missing, inserted, reordered, renumbered. */
function localise(recorded: LeafTable, served: LeafTable, movedFrom: ReadonlyMap<number, number>, unexplained: readonly number[], report: (f: Finding) => void): void {
  const claimed = new Set(movedFrom.values());
  const unexplainedSet = new Set(unexplained);
  for (let seq = 1; seq <= recorded.maxSeq; seq++) {
    if (!recorded.has(seq)) continue;
    if (served.has(seq) && served.get(seq).equals(recorded.get(seq))) continue;
    if (claimed.has(seq)) continue;
    if (unexplainedSet.has(seq)) report({ kind: 'rewritten', seq, message: `entry ${seq} differs from what was appended` });
    else report({ kind: 'missing', seq, message: `entry ${seq} was appended but is no longer in the log` });
  }
  for (const seq of unexplained) {
    if (!recorded.has(seq) || claimed.has(seq)) report({ kind: 'inserted', seq, message: `entry ${seq} was never appended through the log` });
  }
  // Moved entries: swaps are reorderings; runs with one shift are renumberings after a removal or insertion.
  const moves = [...movedFrom].sort((a, b) => a[0] - b[0]);
  const swapped = new Set<number>();
  for (const [at, from] of moves) if (movedFrom.get(from) === at) swapped.add(at);
  let run: { start: number; end: number; shift: number } | undefined;
  const flush = () => {
    if (run) report({ kind: 'renumbered', seq: run.start, message: `entries ${run.start}–${run.end} were renumbered (originally ${run.start + run.shift}–${run.end + run.shift})` });
    run = undefined;
  };
  for (const [at, from] of moves) {
    if (swapped.has(at)) {
      flush();
      report({ kind: 'reordered', seq: at, message: `entry ${at} holds what was appended as entry ${from}` });
      continue;
    }
    const shift = from - at;
    if (run && run.shift === shift && run.end === at - 1) run.end = at;
    else {
      flush();
      run = { start: at, end: at, shift };
    }
  }
  flush();
}
