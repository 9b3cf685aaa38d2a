/**
 * The configuration from the environment: variables become typed settings, and a value that
 * does not say what it must is refused at start with ERR_CONFIG naming its variable — never
 * read as something else (`Number()` would take a blank as 0, `0x50` as 80, `8e3` as 8000).
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { isSignalbankError } from '../src/errors.js';

function refusal(env: Record<string, string>): { code: string; message: string } | undefined {
  try {
    loadConfig(env);
    return undefined;
  } catch (error) {
    if (!isSignalbankError(error)) throw error;
    return { code: error.code, message: error.message };
  }
}

describe('loadConfig', () => {
  it('reads numbers, durations and flags from their variables, and takes defaults for unset or empty ones', () => {
    const config = loadConfig({ PORT: '9090', SIGNALBANK_RATE_LIMIT_PER_SECOND: '2.5', SIGNALBANK_SHUTDOWN_GRACE_MS: '0', SIGNALBANK_JOB_RETENTION: '7d', SIGNALBANK_DB: '', SIGNALBANK_HOST: '0.0.0.0' });
    expect(config).toMatchObject({ port: 9090, rateLimitPerSecond: 2.5, shutdownGraceMs: 0, jobRetentionMs: 7 * 86_400_000, dbPath: './data/signalbank.db', host: '0.0.0.0' });
    expect(loadConfig({}, { port: 0 }).port).toBe(0);
  });

  const refused: Array<[variable: string, value: string]> = [
    ['PORT', ' '],
    ['PORT', '0x50'],
    ['PORT', '8e3'],
    ['PORT', '-1'],
    ['PORT', '70000'],
    ['PORT', '1.5'],
    ['PORT', 'abc'],
    ['SIGNALBANK_RATE_LIMIT_PER_SECOND', ' '],
    ['SIGNALBANK_RATE_LIMIT_PER_SECOND', '1e3'],
    ['SIGNALBANK_SHUTDOWN_GRACE_MS', '\t'],
    ['SIGNALBANK_DB', ' '],
    ['SIGNALBANK_HOST', '  '],
    ['SIGNALBANK_AUDIENCE', ' '],
    ['SIGNALBANK_LOG_KEY', ' '],
    ['SIGNALBANK_LOG_LEVEL', 'loud'],
    ['SIGNALBANK_INDEX', 'btree'],
  ];
  for (const [variable, value] of refused) {
    it(`refuses ${variable}=${JSON.stringify(value)} with ERR_CONFIG naming the variable`, () => {
      const answer = refusal({ [variable]: value });
      expect(answer?.code).toBe('ERR_CONFIG');
      expect(answer?.message).toContain(`${variable}:`);
    });
  }
});
