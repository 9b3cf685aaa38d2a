import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestService, type TestService } from '../support/test-service.js';

let t: TestService;
beforeAll(async () => {
  t = await startTestService();
});
afterAll(async () => t?.stop());

it('serves a signed submit and match', async () => {
  const alice = await t.member('alice', ['submitter', 'matcher']);
  const hash = 'd8f8f0cce0f4a84f0e370a22028f67f0b36e2ed596623e1d33e6b39c4e9c9b22';
  const submitted = await alice.client.submit([{ type: 'pdq', hash, labels: ['suicide'], media: 'image', quality: 100 }]);
  expect(submitted.results[0]?.status).toBe('created');
  const found = await alice.client.matchOne({ type: 'pdq', hash });
  expect(found.matches).toHaveLength(1);
  const health = await fetch(`${t.service.url}/readyz`);
  expect(health.status).toBe(200);
  const doc = await (await fetch(`${t.service.url}/openapi.json`)).json();
  expect(doc).toHaveProperty('openapi', '3.1.0');
});
