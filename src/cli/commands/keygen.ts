/**
 * `signalbank keygen`: a new Ed25519 (default) or P-256 key pair for a member. The private JWK is
 * written to a file with mode 0600; the public JWK goes to stdout, ready for `key add`.
 */
import { Option, type Command } from 'commander';
import { open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { generateMemberKeyPair } from '../../auth/member-keys.js';
import { ConflictError } from '../../errors.js';
import { createOutput } from '../output.js';

/** A usage error (exit 2) for anything else, as commander checks choices before running. */
const ALGORITHMS = ['EdDSA', 'ES256'] as const;

export function register(program: Command): void {
  program
    .command('keygen')
    .description('generate a key pair; the private JWK goes to a file (0600), the public JWK to stdout')
    .addOption(new Option('--alg <alg>', 'EdDSA (Ed25519) or ES256 (P-256)').choices(ALGORITHMS).default('EdDSA'))
    .option('--out <path>', 'private JWK file (default ./signalbank-<kid prefix>.private.jwk.json)')
    .option('--json', 'machine-readable output')
    .action(async (flags: { alg: (typeof ALGORITHMS)[number]; out?: string; json?: boolean }) => {
      const pair = await generateMemberKeyPair(flags.alg);
      const path = resolve(flags.out ?? `signalbank-${pair.kid.slice(0, 12)}.private.jwk.json`);
      let file;
      try {
        file = await open(path, 'wx', 0o600);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new ConflictError(`${path} already exists; choose another --out`);
        throw error;
      }
      try {
        await file.writeFile(`${JSON.stringify(pair.privateJwk, null, 2)}\n`);
      } finally {
        await file.close();
      }
      const out = createOutput(flags.json ?? false);
      out.record({ kid: pair.kid, alg: pair.alg, publicJwk: pair.publicJwk, privateKeyPath: path }, JSON.stringify(pair.publicJwk));
      if (!flags.json) out.note(`private key written to ${path} (mode 0600); register the public JWK with: signalbank key add <member> <file>`);
    });
}
