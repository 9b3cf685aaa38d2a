/**
 * The one contract every `Store` engine must honour. Each engine's test file calls
 * `describeStoreContract` with a factory; nothing here knows which engine it is testing.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/audit/canonical-json.js';
import { leafHash, MerkleFrontier, verifyConsistency, verifyInclusion } from '../../src/audit/merkle-tree.js';
import type { AuditOrigin, NewKey, SignalChange, SignalRecord, Store, SubmissionInput, Verdict } from '../../src/store/store.js';
import type { SignalStatus } from '../../src/signals/signal-status.js';
import { codeOf } from '../support/error-code.js';

export interface StoreHarness {
  readonly store: Store;
  /** Advances the store's clock. */
  tick(ms?: number): void;
  close(): Promise<void>;
}

const PDQ_A = 'd8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22';
const PDQ_B = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
const MD5_A = 'd41d8cd98f00b204e9800998ecf8427e';

const origin = (actor: string): AuditOrigin => ({ actor, kid: `${actor}-key`, proof: `proof-of-${actor}` });
const item = (overrides: Partial<SubmissionInput> = {}): SubmissionInput => ({
  type: 'pdq',
  hash: PDQ_A,
  labels: ['suicide'],
  media: 'image',
  quality: 100,
  ...overrides,
});
/** An item of a type without quality (blockhash, md5, sha256). */
const plainItem = (type: SubmissionInput['type'], hash: string, labels: string[] = ['suicide']): SubmissionInput => ({ type, hash, labels, media: 'image' });
const key = (n: number, preferredKid?: string): NewKey => ({
  preferredKid,
  alg: 'EdDSA',
  publicJwk: { kty: 'OKP', crv: 'Ed25519', x: `x${n}` },
  thumbprint: `thumb-${n}`,
});

export function describeStoreContract(engine: string, open: () => Promise<StoreHarness>): void {
  describe(`Store contract: ${engine}`, () => {
    let h: StoreHarness;
    let store: Store;
    const system: AuditOrigin = { actor: 'system', kid: null, proof: null };

    beforeEach(async () => {
      h = await open();
      store = h.store;
      await store.createMember({ id: 'admin', name: 'Admin', roles: ['admin'] }, system);
      await store.addKey('admin', key(0, 'admin-key'), system);
      for (const id of ['alpha', 'beta', 'gamma']) {
        await store.createMember({ id, name: id.toUpperCase(), roles: ['submitter', 'matcher'] }, origin('admin'));
      }
    });
    afterEach(async () => h.close());

    describe('members', () => {
      it('creates, reads, lists and refuses duplicates', async () => {
        const member = await store.getMember('alpha');
        expect(member).toMatchObject({ id: 'alpha', name: 'ALPHA', roles: ['submitter', 'matcher'], status: 'active' });
        expect((await store.listMembers()).map((m) => m.id)).toEqual(['admin', 'alpha', 'beta', 'gamma']);
        expect(await codeOf(store.createMember({ id: 'alpha', name: 'again', roles: [] }, origin('admin')))).toBe('ERR_CONFLICT');
        expect(await store.getMember('nobody')).toBeUndefined();
      });

      it('updates name, roles and status, and refuses an unknown member', async () => {
        h.tick();
        const updated = await store.updateMember('alpha', { name: 'Alpha Inc', roles: ['matcher'], status: 'suspended' }, origin('admin'));
        expect(updated).toMatchObject({ name: 'Alpha Inc', roles: ['matcher'], status: 'suspended' });
        expect(updated.updatedAt > updated.createdAt).toBe(true);
        expect(await codeOf(store.updateMember('nobody', { name: 'x' }, origin('admin')))).toBe('ERR_NOT_FOUND');
      });

      it('answers a member and a key as they are after each change, from the very next read', async () => {
        await store.addKey('alpha', key(1, 'alpha-1'), origin('admin'));
        // Read first, so that an engine that keeps what it read must notice each change below.
        expect(await store.getMember('alpha')).toMatchObject({ status: 'active', roles: ['submitter', 'matcher'] });
        expect((await store.getKey('alpha-1'))?.status).toBe('active');
        const suspended = await store.updateMember('alpha', { status: 'suspended', roles: ['matcher'] }, origin('admin'));
        expect(suspended).toMatchObject({ status: 'suspended', roles: ['matcher'] });
        expect(await store.getMember('alpha')).toMatchObject({ status: 'suspended', roles: ['matcher'] });
        await store.updateMember('alpha', { status: 'active' }, origin('admin'));
        expect((await store.getMember('alpha'))?.status).toBe('active');
        await store.revokeKey('alpha', 'alpha-1', origin('admin'));
        expect((await store.getKey('alpha-1'))?.status).toBe('revoked');
        // A refused change leaves what is read as it was.
        expect(await codeOf(store.updateMember('admin', { status: 'suspended' }, origin('admin')))).toBe('ERR_CONFLICT');
        expect((await store.getMember('admin'))?.status).toBe('active');
      });

      it('never leaves the bank without an active admin holding a key', async () => {
        expect(await codeOf(store.updateMember('admin', { status: 'suspended' }, origin('admin')))).toBe('ERR_CONFLICT');
        expect(await codeOf(store.updateMember('admin', { roles: ['matcher'] }, origin('admin')))).toBe('ERR_CONFLICT');
        expect(await codeOf(store.revokeKey('admin', 'admin-key', origin('admin')))).toBe('ERR_CONFLICT');
        expect(await store.getMember('admin')).toMatchObject({ status: 'active', roles: ['admin'] });
        expect((await store.getKey('admin-key'))?.status).toBe('active');
        // With a second admin holding a key, the first may step down.
        await store.updateMember('beta', { roles: ['admin'] }, origin('admin'));
        await store.addKey('beta', key(9), origin('admin'));
        await store.updateMember('admin', { status: 'suspended' }, origin('admin'));
        expect((await store.getMember('admin'))?.status).toBe('suspended');
      });
    });

    describe('keys', () => {
      it('uses the preferred kid when free, else the thumbprint', async () => {
        const first = await store.addKey('alpha', key(1, 'alpha-1'), origin('admin'));
        expect(first).toMatchObject({ kid: 'alpha-1', memberId: 'alpha', alg: 'EdDSA', status: 'active', revokedAt: null });
        const second = await store.addKey('beta', key(2, 'alpha-1'), origin('admin'));
        expect(second.kid).toBe('thumb-2');
        const third = await store.addKey('beta', key(3), origin('admin'));
        expect(third.kid).toBe('thumb-3');
        expect((await store.listKeys('beta')).map((k) => k.kid).sort()).toEqual(['thumb-2', 'thumb-3']);
        expect(await store.getKey('alpha-1')).toMatchObject({ publicJwk: { kty: 'OKP', crv: 'Ed25519', x: 'x1' } });
      });

      it('refuses a key already registered, to this or another member', async () => {
        await store.addKey('alpha', key(1), origin('admin'));
        expect(await codeOf(store.addKey('alpha', key(1, 'other'), origin('admin')))).toBe('ERR_CONFLICT');
        expect(await codeOf(store.addKey('beta', key(1), origin('admin')))).toBe('ERR_CONFLICT');
        expect(await codeOf(store.addKey('nobody', key(5), origin('admin')))).toBe('ERR_NOT_FOUND');
        expect(await store.getKey('other')).toBeUndefined();
      });

      it('revokes only the member’s own key', async () => {
        await store.addKey('alpha', key(1, 'alpha-1'), origin('admin'));
        expect(await codeOf(store.revokeKey('beta', 'alpha-1', origin('admin')))).toBe('ERR_NOT_FOUND');
        expect(await codeOf(store.revokeKey('alpha', 'missing', origin('admin')))).toBe('ERR_NOT_FOUND');
        h.tick();
        const revoked = await store.revokeKey('alpha', 'alpha-1', origin('admin'));
        expect(revoked.status).toBe('revoked');
        expect(revoked.revokedAt).not.toBeNull();
        expect((await store.revokeKey('alpha', 'alpha-1', origin('admin'))).revokedAt).toBe(revoked.revokedAt);
      });
    });

    describe('replay guard', () => {
      it('accepts a jti once per member and forgets expired ones', async () => {
        expect(await store.consumeJti('alpha', 'j-0123456789abcdef', 1000)).toBe(true);
        expect(await store.consumeJti('alpha', 'j-0123456789abcdef', 1000)).toBe(false);
        expect(await store.consumeJti('beta', 'j-0123456789abcdef', 1000)).toBe(true);
        expect(await store.consumeJti('alpha', 'j-later-0123456789', 3000)).toBe(true);
        expect(await store.pruneJtis(2000)).toBe(2);
        expect(await store.consumeJti('alpha', 'j-later-0123456789', 3000)).toBe(false);
      });

      it("records the origin's jti with the change it makes, and refuses the whole change when the jti was used", async () => {
        const withJti = (jti: string): AuditOrigin => ({ ...origin('alpha'), jti: { memberId: 'alpha', jti, expiresAtSeconds: 5000 } });
        expect(await store.isJtiUsed('alpha', 'j-with-change-0001')).toBe(false);
        await store.submitSignals('alpha', [item()], withJti('j-with-change-0001'));
        expect(await store.isJtiUsed('alpha', 'j-with-change-0001')).toBe(true);
        expect(await store.isJtiUsed('beta', 'j-with-change-0001')).toBe(false);
        expect(await store.consumeJti('alpha', 'j-with-change-0001', 5000)).toBe(false);
        // Used before (here by consumeJti): the change is refused and nothing of it is kept.
        expect(await store.consumeJti('alpha', 'j-used-before-0002', 5000)).toBe(true);
        expect(await codeOf(store.submitSignals('alpha', [item({ hash: PDQ_B })], withJti('j-used-before-0002')))).toBe('ERR_REPLAY');
        expect(await store.findSignal('pdq', PDQ_B, 'alpha')).toBeUndefined();
        // A change that fails before its audit entry records nothing.
        expect(await codeOf(store.retractSubmission('alpha', 'sig_missing', withJti('j-failed-0003')))).toBe('ERR_NOT_FOUND');
        expect(await store.isJtiUsed('alpha', 'j-failed-0003')).toBe(false);
        // Kept until it expires, like any other.
        expect(await store.pruneJtis(6000)).toBe(2);
        expect(await store.isJtiUsed('alpha', 'j-with-change-0001')).toBe(false);
      });
    });

    describe('taxonomy', () => {
      it('holds the SPEC labels and takes new ones once', async () => {
        const labels = await store.listLabels();
        expect(labels.map((l) => `${l.kind}:${l.name}`)).toEqual([
          'category:self_harm',
          'category:suicide',
          'modifier:challenge',
          'modifier:graphic',
          'modifier:instructional',
          'modifier:promotional',
        ]);
        await store.addLabel({ name: 'eating_disorder', kind: 'category', description: 'Promotes disordered eating.' }, origin('admin'));
        expect((await store.listLabels()).some((l) => l.name === 'eating_disorder')).toBe(true);
        expect(await codeOf(store.addLabel({ name: 'suicide', kind: 'modifier', description: 'x' }, origin('admin')))).toBe('ERR_CONFLICT');
      });
    });

    describe('submissions', () => {
      it('creates, keeps unchanged, updates and adds, per item in order', async () => {
        const [created] = await store.submitSignals('alpha', [item()], origin('alpha'));
        expect(created).toMatchObject({ status: 'created', previousStatus: null });
        expect(created?.signal).toMatchObject({ type: 'pdq', hash: PDQ_A, labels: ['suicide'], submitters: 1, status: 'active', media: 'image' });
        h.tick();
        const results = await store.submitSignals(
          'alpha',
          [item(), item({ labels: ['graphic', 'suicide'] }), plainItem('md5', MD5_A, ['self_harm'])],
          origin('alpha'),
        );
        expect(results.map((r) => r.status)).toEqual(['unchanged', 'updated', 'created']);
        expect(results[1]?.signal.labels).toEqual(['graphic', 'suicide']);
        const [added] = await store.submitSignals('beta', [item({ labels: ['self_harm'], ref: 'beta-ref-1' })], origin('beta'));
        expect(added?.status).toBe('added');
        expect(added?.signal).toMatchObject({ submitters: 2, labels: ['graphic', 'self_harm', 'suicide'], status: 'active' });
        expect(added?.signal.id).toBe(created?.signal.id);
      });

      it('treats a repeated item in one batch as a re-submission', async () => {
        const results = await store.submitSignals('alpha', [item(), item(), item({ ref: 'r' })], origin('alpha'));
        expect(results.map((r) => r.status)).toEqual(['created', 'unchanged', 'updated']);
      });

      it('retracts only an active submission of the caller, and re-adds', async () => {
        const [created] = await store.submitSignals('alpha', [item()], origin('alpha'));
        const id = created!.signal.id;
        await store.submitSignals('beta', [item({ labels: ['self_harm'] })], origin('beta'));
        expect(await codeOf(store.retractSubmission('gamma', id, origin('gamma')))).toBe('ERR_NOT_FOUND');
        expect(await codeOf(store.retractSubmission('alpha', 'no-such-signal', origin('alpha')))).toBe('ERR_NOT_FOUND');
        const first = await store.retractSubmission('alpha', id, origin('alpha'));
        expect(first.signal).toMatchObject({ submitters: 1, labels: ['self_harm'], status: 'active' });
        expect(await codeOf(store.retractSubmission('alpha', id, origin('alpha')))).toBe('ERR_NOT_FOUND');
        const last = await store.retractSubmission('beta', id, origin('beta'));
        expect(last).toMatchObject({ previousStatus: 'active', signal: { submitters: 0, labels: [], status: 'retracted' } });
        const [again] = await store.submitSignals('alpha', [item()], origin('alpha'));
        expect(again).toMatchObject({ status: 'added', previousStatus: 'retracted', signal: { id, submitters: 1, status: 'active' } });
      });

      it('commits changes in the order they were called, whichever answers first', async () => {
        const [created] = await store.submitSignals('alpha', [item()], origin('alpha'));
        const id = created!.signal.id;
        // Called without waiting: the relabelling first, then the retraction.
        const relabel = store.submitSignals('alpha', [item({ labels: ['self_harm'] })], origin('alpha'));
        const retract = store.retractSubmission('alpha', id, origin('alpha'));
        const opinion = store.setOpinion('beta', id, { verdict: 'confirm' }, origin('beta'));
        const [[updated], retracted, opined] = await Promise.all([relabel, retract, opinion]);
        expect(updated).toMatchObject({ status: 'updated', signal: { labels: ['self_harm'], status: 'active' } });
        expect(retracted).toMatchObject({ previousStatus: 'active', signal: { status: 'retracted' } });
        expect(opined).toMatchObject({ previousStatus: 'retracted', signal: { status: 'retracted' } });
        const entries = await store.listAuditEntries({ limit: 100 });
        expect(entries.slice(-3).map((entry) => entry.action)).toEqual(['signal.submit', 'signal.retract', 'opinion.set']);
      });
    });

    describe('change feed', () => {
      it('lists a row per public change in commit order, the signal as it was, a delete by key only', async () => {
        expect(await store.lastChangeSeq()).toBe(0);
        const [created] = await store.submitSignals('alpha', [item()], origin('alpha'));
        const id = created!.signal.id;
        await store.submitSignals('alpha', [item(), item({ ref: 'own-ref' })], origin('alpha')); // nothing public changed
        await store.submitSignals('beta', [item({ labels: ['self_harm'] })], origin('beta'));
        await store.retractSubmission('alpha', id, origin('alpha'));
        await store.retractSubmission('beta', id, origin('beta'));
        await store.setOpinion('gamma', id, { verdict: 'confirm' }, origin('gamma')); // on a retracted signal: nothing
        const rows = await store.listChanges(0, 100);
        expect(rows.map((r) => r.op)).toEqual(['upsert', 'upsert', 'upsert', 'delete']);
        expect(rows.map((r) => r.seq)).toEqual([...rows.map((r) => r.seq)].sort((a, b) => a - b));
        expect(new Set(rows.map((r) => r.seq)).size).toBe(4);
        expect(JSON.parse(rows[1]!.signal)).toMatchObject({ id, submitters: 2, labels: ['self_harm', 'suicide'] });
        expect(JSON.parse(rows[1]!.signal)).not.toHaveProperty('mine');
        expect(JSON.parse(rows[3]!.signal)).toEqual({ id, type: 'pdq', hash: PDQ_A });
        expect(await store.lastChangeSeq()).toBe(rows[3]!.seq);
        expect(await store.listChanges(rows[1]!.seq, 1)).toEqual([rows[2]]);
        expect(await store.listChanges(rows[3]!.seq, 10)).toEqual([]);
      });
    });

    describe('opinions', () => {
      it('counts verdicts and applies the dispute rule', async () => {
        const [created] = await store.submitSignals('alpha', [item()], origin('alpha'));
        const id = created!.signal.id;
        const fp = await store.setOpinion('beta', id, { verdict: 'false_positive' }, origin('beta'));
        expect(fp).toMatchObject({ previousStatus: 'active', signal: { status: 'disputed', opinions: { confirm: 0, falsePositive: 1, disputeLabels: 0 } } });
        const confirmed = await store.setOpinion('gamma', id, { verdict: 'confirm' }, origin('gamma'));
        expect(confirmed.signal).toMatchObject({ status: 'active', opinions: { confirm: 1, falsePositive: 1 } });
        const relabel = await store.setOpinion('gamma', id, { verdict: 'dispute_labels', labels: ['self_harm'], reason: 'not suicide' }, origin('gamma'));
        expect(relabel.signal).toMatchObject({ status: 'disputed', opinions: { confirm: 0, falsePositive: 1, disputeLabels: 1 } });
        expect(await codeOf(store.setOpinion('alpha', id, { verdict: 'confirm' }, origin('alpha')))).toBe('ERR_CONFLICT');
        expect(await codeOf(store.setOpinion('beta', 'missing', { verdict: 'confirm' }, origin('beta')))).toBe('ERR_NOT_FOUND');
      });

      it('does not count the opinion of a member who then submits the signal', async () => {
        const [created] = await store.submitSignals('alpha', [item()], origin('alpha'));
        const id = created!.signal.id;
        await store.setOpinion('beta', id, { verdict: 'false_positive' }, origin('beta'));
        const [added] = await store.submitSignals('beta', [item()], origin('beta'));
        expect(added?.signal).toMatchObject({ submitters: 2, status: 'active', opinions: { falsePositive: 0 } });
      });
    });

    describe('the status rule with several submitters', () => {
      const opinionGivers = ['delta', 'epsilon', 'zeta'];
      type Step = [what: string, act: (id: string) => Promise<SignalChange>, expected: { status: SignalStatus; submitters: number; confirm: number; falsePositive: number; disputeLabels: number }];
      const opinion = (member: string, verdict: Verdict) => (id: string) =>
        store.setOpinion(member, id, verdict === 'dispute_labels' ? { verdict, labels: ['self_harm'], reason: 'not suicide' } : { verdict }, origin(member));
      const submit = (member: string) => async () => (await store.submitSignals(member, [item()], origin(member)))[0]!;
      const retract = (member: string) => (id: string) => store.retractSubmission(member, id, origin(member));
      const counts = (status: SignalStatus, submitters: number, confirm: number, falsePositive: number, disputeLabels = 0) => ({ status, submitters, confirm, falsePositive, disputeLabels });

      // alpha and beta submit; gamma, delta, epsilon and zeta give opinions. Each step names the
      // branch of `false positives >= submitters + confirmations` it lands on.
      const STEPS: Step[] = [
        ['one false positive against two submitters: active', opinion('gamma', 'false_positive'), counts('active', 2, 0, 1)],
        ['two false positives against two submitters (equal): disputed', opinion('delta', 'false_positive'), counts('disputed', 2, 0, 2)],
        ['a confirmation outweighs them again: active', opinion('epsilon', 'confirm'), counts('active', 2, 1, 2)],
        ['a third false positive equals submitters plus confirmations: disputed', opinion('zeta', 'false_positive'), counts('disputed', 2, 1, 3)],
        ['a false positive turned into a label dispute no longer counts: active', opinion('zeta', 'dispute_labels'), counts('active', 2, 1, 2, 1)],
        ['the confirmation turned into a false positive: disputed', opinion('epsilon', 'false_positive'), counts('disputed', 2, 0, 3, 1)],
        ['a member with a false positive submits: its opinion stops counting and it is a submitter: active', submit('gamma'), counts('active', 3, 0, 2, 1)],
        ['a submitter retracts: two false positives against two submitters: disputed', retract('alpha'), counts('disputed', 2, 0, 2, 1)],
        ['the member who had given an opinion retracts: its false positive counts again', retract('gamma'), counts('disputed', 1, 0, 3, 1)],
        ['the last submitter retracts: retracted, whatever the opinions', retract('beta'), counts('retracted', 0, 0, 3, 1)],
      ];

      it('lands on each branch of the rule, as each change answers it and as it reads afterwards', async () => {
        for (const member of opinionGivers) await store.createMember({ id: member, name: member.toUpperCase(), roles: ['matcher'] }, origin('admin'));
        const [created] = await store.submitSignals('alpha', [item()], origin('alpha'));
        const id = created!.signal.id;
        expect((await store.submitSignals('beta', [item()], origin('beta')))[0]?.signal).toMatchObject({ submitters: 2, status: 'active' });
        for (const [what, act, expected] of STEPS) {
          const { signal } = await act(id);
          const seen = (shown: SignalRecord | undefined) => ({ what, status: shown?.status, submitters: shown?.submitters, ...shown?.opinions });
          const wanted = { what, ...expected };
          expect(seen(signal)).toEqual(wanted);
          expect(seen((await store.getSignal(id, undefined))?.signal)).toEqual(wanted);
        }
      });

      it('refuses an opinion from a current submitter and counts nothing for it', async () => {
        const [created] = await store.submitSignals('alpha', [item()], origin('alpha'));
        const id = created!.signal.id;
        await store.submitSignals('beta', [item()], origin('beta'));
        await store.setOpinion('gamma', id, { verdict: 'false_positive' }, origin('gamma'));
        expect(await codeOf(store.setOpinion('beta', id, { verdict: 'false_positive' }, origin('beta')))).toBe('ERR_CONFLICT');
        expect((await store.getSignal(id, undefined))?.signal).toMatchObject({ status: 'active', submitters: 2, opinions: { confirm: 0, falsePositive: 1, disputeLabels: 0 } });
        expect((await store.getSignal(id, 'beta'))?.mine?.opinion).toBeUndefined();
      });
    });

    describe('reading signals', () => {
      it('shows the caller’s own part and nobody else’s identity', async () => {
        const [created] = await store.submitSignals('alpha', [item({ ref: 'alpha-internal-7' })], origin('alpha'));
        const id = created!.signal.id;
        await store.setOpinion('beta', id, { verdict: 'confirm' }, origin('beta'));
        const mine = await store.getSignal(id, 'alpha');
        expect(mine?.mine?.submission).toMatchObject({ status: 'active', labels: ['suicide'], quality: 100, ref: 'alpha-internal-7' });
        expect(mine?.mine?.opinion).toBeUndefined();
        const theirs = await store.getSignal(id, 'beta');
        expect(theirs?.mine).toEqual({ opinion: expect.objectContaining({ verdict: 'confirm' }) as unknown });
        const stranger = await store.findSignal('pdq', PDQ_A, 'gamma');
        expect(stranger?.mine).toBeUndefined();
        expect(JSON.stringify(stranger?.signal)).not.toMatch(/alpha|beta|internal-7/);
        expect(await store.getSignal('missing', 'alpha')).toBeUndefined();
        expect(await store.findSignal('pdq', PDQ_B, undefined)).toBeUndefined();
      });

      it('answers by row id and lists index entries without retracted signals', async () => {
        const outcomes = await store.submitSignals('alpha', [item(), item({ hash: PDQ_B }), plainItem('blockhash', PDQ_A)], origin('alpha'));
        const [a, b] = outcomes.map((o) => o.signal);
        const byRow = await store.getSignalsByRowIds([a!.rowId, b!.rowId, 999_999]);
        expect([...byRow.keys()].sort()).toEqual([a!.rowId, b!.rowId].sort());
        await store.setOpinion('beta', b!.id, { verdict: 'false_positive' }, origin('beta'));
        await store.retractSubmission('alpha', a!.id, origin('alpha'));
        const batches = [];
        for await (const batch of store.indexEntries('pdq', 1)) batches.push(batch);
        expect(batches).toHaveLength(1);
        expect([...batches[0]!.ids]).toEqual([b!.rowId]);
        expect(Buffer.from(batches[0]!.hashes).toString('hex')).toBe(PDQ_B);
        expect(batches[0]!.disputed).toEqual([b!.rowId]);
      });

      it('lists index entries page by page, each id with its own hash, per type', async () => {
        const pdq = Array.from({ length: 5 }, (_, i) => `${'0123456789abcdef'[i]!.repeat(2)}${PDQ_A.slice(2)}`);
        const outcomes = await store.submitSignals('alpha', [...pdq.map((hash) => item({ hash })), plainItem('blockhash', PDQ_B)], origin('alpha'));
        const hashOf = new Map(outcomes.map((o) => [o.signal.rowId, o.signal.hash]));
        const read = async (type: 'pdq' | 'blockhash', size: number) => {
          const pages: [number, string][][] = [];
          for await (const batch of store.indexEntries(type, size)) {
            pages.push([...batch.ids].map((id, i) => [id, Buffer.from(batch.hashes.subarray(i * 32, i * 32 + 32)).toString('hex')]));
          }
          return pages;
        };
        const pages = await read('pdq', 2);
        expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
        for (const [id, hash] of pages.flat()) expect(hash).toBe(hashOf.get(id));
        expect(pages.flat().map(([, hash]) => hash).sort()).toEqual([...pdq].sort());
        expect(await read('blockhash', 2)).toEqual([[[outcomes[5]!.signal.rowId, PDQ_B]]]);
      });
    });

    describe('audit entries', () => {
      it('appends one entry per change with its origin, none for an unchanged item', async () => {
        const before = (await store.listAuditEntries({ after: 0, limit: 1000 })).length;
        const [created] = await store.submitSignals('alpha', [item(), item()], origin('alpha'));
        await store.setOpinion('beta', created!.signal.id, { verdict: 'confirm' }, origin('beta'));
        await store.retractSubmission('alpha', created!.signal.id, origin('alpha'));
        const entries = (await store.listAuditEntries({ after: 0, limit: 1000 })).slice(before);
        expect(entries.map((e) => [e.actor, e.action, e.subject])).toEqual([
          ['alpha', 'signal.submit', created!.signal.id],
          ['beta', 'opinion.set', created!.signal.id],
          ['alpha', 'signal.retract', created!.signal.id],
        ]);
        expect(entries[0]).toMatchObject({ kid: 'alpha-key', proof: 'proof-of-alpha', data: { type: 'pdq', hash: PDQ_A, result: 'created' } });
        const seqs = (await store.listAuditEntries({ after: 0, limit: 1000 })).map((e) => e.seq);
        expect(seqs).toEqual(seqs.map((_, i) => i + 1));
        expect((await store.listAuditEntries({ after: seqs.length - 1, limit: 10 })).map((e) => e.seq)).toEqual([seqs.length]);
      });

      it('appends nothing for a rejected change', async () => {
        const before = (await store.listAuditEntries({ after: 0, limit: 1000 })).length;
        await codeOf(store.createMember({ id: 'alpha', name: 'dup', roles: [] }, origin('admin')));
        await codeOf(store.retractSubmission('alpha', 'missing', origin('alpha')));
        await codeOf(store.updateMember('admin', { status: 'suspended' }, origin('admin')));
        expect((await store.listAuditEntries({ after: 0, limit: 1000 })).length).toBe(before);
      });
    });

    describe('audit tree', () => {
      it('keeps the Merkle tree over the entries as served, with proofs that verify', async () => {
        const [created] = await store.submitSignals('alpha', [item(), item({ hash: PDQ_B })], origin('alpha'));
        await store.setOpinion('beta', created!.signal.id, { verdict: 'false_positive' }, origin('beta'));
        await store.retractSubmission('alpha', created!.signal.id, origin('alpha'));
        const entries = await store.listAuditEntries({ limit: 1000 });
        const frontier = new MerkleFrontier();
        for (const entry of entries) frontier.append(leafHash(canonicalJson(entry)));
        const head = await store.auditTreeHead();
        expect(head).toEqual({ treeSize: entries.length, rootHash: frontier.root().toString('hex') });
        const leaves = await store.auditLeaves(0, 1000);
        expect(leaves.map((l) => l.seq)).toEqual(entries.map((e) => e.seq));
        expect(leaves.every((l, i) => l.hash === leafHash(canonicalJson(entries[i])).toString('hex'))).toBe(true);
        const hex = (list: string[]) => list.map((h) => Buffer.from(h, 'hex'));
        for (const seq of [1, 3, entries.length]) {
          const { leafHash: leaf, proof } = await store.auditInclusionProof(seq, head.treeSize);
          expect(verifyInclusion(Buffer.from(leaf, 'hex'), seq - 1, head.treeSize, hex(proof), Buffer.from(head.rootHash, 'hex'))).toBe(true);
        }
        const older = await store.auditRootAt(3);
        const proof = await store.auditConsistencyProof(3, head.treeSize);
        expect(verifyConsistency(3, head.treeSize, hex(proof), Buffer.from(older, 'hex'), Buffer.from(head.rootHash, 'hex'))).toBe(true);
        expect(await codeOf(store.auditInclusionProof(head.treeSize + 1, head.treeSize))).toBe('ERR_VALIDATION');
        expect(await codeOf(store.auditConsistencyProof(1, head.treeSize + 1))).toBe('ERR_VALIDATION');
      });

      it('answers roots and proofs for every tree size across recorded chunks and the open tail', async () => {
        for (let i = 0; i < 66; i++) await store.createMember({ id: `extra-${i}`, name: `${i}`, roles: [] }, origin('admin'));
        const entries = await store.listAuditEntries({ limit: 1000 });
        const leaves = entries.map((e) => leafHash(canonicalJson(e)));
        const head = await store.auditTreeHead();
        expect(head.treeSize).toBe(entries.length);
        const hex = (list: string[]) => list.map((x) => Buffer.from(x, 'hex'));
        const roots: string[] = [];
        const frontier = new MerkleFrontier();
        for (const leaf of leaves) {
          frontier.append(leaf);
          roots.push(frontier.root().toString('hex'));
        }
        expect(head.rootHash).toBe(roots.at(-1));
        for (let size = 1; size <= entries.length; size += 3) {
          expect(await store.auditRootAt(size)).toBe(roots[size - 1]);
          const proof = await store.auditConsistencyProof(size, entries.length);
          expect(verifyConsistency(size, entries.length, hex(proof), Buffer.from(roots[size - 1]!, 'hex'), Buffer.from(head.rootHash, 'hex'))).toBe(true);
          const inclusion = await store.auditInclusionProof(size, entries.length);
          expect(inclusion.leafHash).toBe(leaves[size - 1]!.toString('hex'));
          expect(verifyInclusion(leaves[size - 1]!, size - 1, entries.length, hex(inclusion.proof), Buffer.from(head.rootHash, 'hex'))).toBe(true);
        }
        expect((await store.auditLeaves(0, 1000)).map((l) => l.hash)).toEqual(leaves.map((l) => l.toString('hex')));
      });

      it('filters entries by member, action and time', async () => {
        await store.submitSignals('alpha', [item()], origin('alpha'));
        h.tick(60_000);
        const later = new Date(Date.parse((await store.listAuditEntries({ limit: 1000 })).at(-1)!.at) + 30_000).toISOString();
        await store.submitSignals('beta', [item({ hash: PDQ_B })], origin('beta'));
        expect((await store.listAuditEntries({ limit: 100, member: 'beta' })).map((e) => e.action)).toEqual(['signal.submit']);
        expect((await store.listAuditEntries({ limit: 100, action: 'member.create' })).map((e) => e.subject)).toEqual(['admin', 'alpha', 'beta', 'gamma']);
        expect((await store.listAuditEntries({ limit: 100, since: later })).map((e) => e.actor)).toEqual(['beta']);
        expect((await store.listAuditEntries({ limit: 100, until: later })).every((e) => e.actor !== 'beta')).toBe(true);
        expect((await store.listAuditEntries({ limit: 2, after: 1 })).map((e) => e.seq)).toEqual([2, 3]);
      });

      it('keeps checkpoints and log keys', async () => {
        expect(await store.latestCheckpoint()).toBeUndefined();
        const head = await store.auditTreeHead();
        await store.saveCheckpoint({ ...head, timestamp: '2026-01-01T00:00:00.000Z', signature: 'sig' });
        expect(await store.latestCheckpoint()).toEqual({ ...head, timestamp: '2026-01-01T00:00:00.000Z', signature: 'sig' });
        await store.addLogKey({ kid: 'log-1', publicJwk: { kty: 'OKP', crv: 'Ed25519', x: 'abc' }, createdAt: '2026-01-01T00:00:00.000Z' });
        expect((await store.listLogKeys()).map((k) => k.kid)).toEqual(['log-1']);
      });

      it('reports transparency figures for a window', async () => {
        const [a] = await store.submitSignals('alpha', [item({ labels: ['graphic', 'suicide'] }), plainItem('md5', MD5_A, ['self_harm'])], origin('alpha'));
        await store.submitSignals('beta', [item()], origin('beta'));
        await store.retractSubmission('alpha', a!.signal.id, origin('alpha'));
        // Now beta alone submits it, with label suicide: one false positive disputes it, once.
        await store.setOpinion('gamma', a!.signal.id, { verdict: 'false_positive' }, origin('gamma'));
        await store.setOpinion('gamma', a!.signal.id, { verdict: 'false_positive' }, origin('gamma'));
        await store.retractSubmission('beta', a!.signal.id, origin('beta'));
        await store.addMatchCounts([{ memberId: 'gamma', hour: '2026-01-01T00:00:00.000Z', queries: 10, hits: 2 }]);
        await store.addMatchCounts([{ memberId: 'gamma', hour: '2026-01-01T00:00:00.000Z', queries: 5, hits: 1 }]);
        const report = await store.auditReport(undefined, undefined);
        expect(report.signals.created).toEqual([
          { type: 'md5', label: 'self_harm', count: 1 },
          { type: 'pdq', label: 'graphic', count: 1 },
          { type: 'pdq', label: 'suicide', count: 1 },
        ]);
        expect(report.signals.retracted).toEqual([{ type: 'pdq', label: 'suicide', count: 1 }]);
        expect(report.signals.disputed).toEqual([{ type: 'pdq', label: 'suicide', count: 1 }]);
        expect(report.submissions).toEqual([
          { member: 'alpha', submitted: 2, retracted: 1 },
          { member: 'beta', submitted: 1, retracted: 1 },
        ]);
        expect(report.opinions).toEqual([{ verdict: 'false_positive', count: 2 }]);
        expect(report.matches).toEqual([{ member: 'gamma', queries: 15, hits: 3 }]);
        expect(report.membership.map((m) => m.action)).toEqual(['member.create', 'key.add', 'member.create', 'member.create', 'member.create']);
        const empty = await store.auditReport('2099-01-01T00:00:00.000Z', undefined);
        expect(empty.signals.created).toEqual([]);
        expect(empty.matches).toEqual([]);
      });
    });
  });
}
