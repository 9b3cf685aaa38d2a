// The worker pool behind `signalbank hash`: answers equal the in-thread library's, failures
// arrive as the same coded errors, and closing fails what is still queued.
import { describe, expect, it } from 'vitest';
import { HashPool } from '../../src/hashing/hash-pool.js';
import { resolveHashOptions } from '../../src/hashing/hash-options.js';
import { hashImage } from '../../src/library.js';
import { PDQ_DIR } from './reference-vectors.js';

const FILES = ['bridge-mods/square-128x128.jpg', 'misc-images/wee.jpg', 'python-threatexchange/LA.png', 'reg-test-input/labelme-subset/q0122.jpg'].map((f) => `${PDQ_DIR}${f}`);

describe('HashPool', () => {
  it('answers every request like hashImage, whichever worker takes it', async () => {
    const pool = new HashPool({ size: 2 });
    try {
      const options = resolveHashOptions({ dihedral: true });
      const answers = await Promise.all(FILES.map((file) => pool.hash(file, options)));
      for (const [i, file] of FILES.entries()) expect(answers[i]).toEqual(await hashImage(file, { dihedral: true }));
    } finally {
      await pool.close();
    }
  });

  it('rejects with the coded error of a file that cannot be hashed', async () => {
    const pool = new HashPool({ size: 1 });
    try {
      await expect(pool.hash(`${PDQ_DIR}PROVENANCE.md`, resolveHashOptions())).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_IMAGE', name: 'ImageError' });
      await expect(pool.hash(`${PDQ_DIR}no-such.png`, resolveHashOptions())).rejects.toMatchObject({ code: 'ERR_FILE_UNREADABLE' });
    } finally {
      await pool.close();
    }
  });

  it('fails queued requests with ERR_UNAVAILABLE when closed', async () => {
    const pool = new HashPool({ size: 1 });
    const settled = Promise.allSettled(FILES.map((file) => pool.hash(file, resolveHashOptions())));
    await pool.close();
    const outcomes = await settled;
    expect(outcomes.some((o) => o.status === 'rejected' && (o.reason as { code: string }).code === 'ERR_UNAVAILABLE')).toBe(true);
    await expect(pool.hash(FILES[0]!, resolveHashOptions())).rejects.toMatchObject({ code: 'ERR_UNAVAILABLE' });
  });

  it('fails only the running file when its worker dies, and goes on with a new worker', async () => {
    const pool = new HashPool({ size: 1 });
    try {
      const options = resolveHashOptions();
      await pool.hash(FILES[0]!, options); // the worker is up
      const running = pool.hash(`${PDQ_DIR}bridge-mods/aaa-orig.jpg`, options); // large: still running when killed
      // White-box: kill the worker thread mid-task, as an out-of-memory abort would.
      const slots = (pool as unknown as { slots: { worker: { terminate(): Promise<number> } }[] }).slots;
      await slots[0]!.worker.terminate();
      await expect(running).rejects.toMatchObject({ code: 'ERR_INTERNAL' });
      expect(await pool.hash(FILES[2]!, options)).toEqual(await hashImage(FILES[2]!));
    } finally {
      await pool.close();
    }
  });

  it('refuses a pool size that is not a positive integer', () => {
    expect(() => new HashPool({ size: 0 })).toThrow(expect.objectContaining({ code: 'ERR_VALIDATION' }) as Error);
  });
});
