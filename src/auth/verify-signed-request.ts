/**
 * Verifies a signed request (SPEC §3) in two steps. `verifyHeaders` runs before the body is read:
 * token shape, algorithm, the key named by `kid` and owned by `iss`, the signature, member status,
 * audience, times, method and URL — so an unauthenticated client cannot make the server read a
 * large body. `verifyBody` then checks the body digest and finally consumes the `jti`, so that a
 * request refused for any other reason does not burn it. Each failure has its own code.
 *
 * Whether a key is revoked is told only to a token its key really signed: an unsigned probe of a
 * `kid` learns no more than that the signature is invalid.
 */
import { AuthError, ForbiddenError } from '../errors.js';
import type { Member, RequestJti, Store } from '../store/store.js';
import type { JtiKeeping, ReplayGuard } from './replay-guard.js';
import { importVerificationKey, signatureVerifies, type VerificationKey } from './request-signature.js';
import {
  CLOCK_SKEW_SECONDS,
  MAX_LIFETIME_SECONDS,
  parseRequestToken,
  tokenFromAuthorization,
  type RequestClaims,
} from './request-token.js';

export interface SignedRequest {
  readonly authorization: string | undefined;
  /** HTTP method, upper case. */
  readonly method: string;
  /** The request target exactly as sent: path and query. */
  readonly target: string;
}

/** A request whose headers verified; its body digest and jti are still to be checked. */
export interface HeaderVerifiedRequest {
  readonly member: Member;
  readonly kid: string;
  readonly token: string;
  readonly claims: RequestClaims;
}

export interface RequestVerifierOptions {
  readonly store: Pick<Store, 'getKey' | 'getMember'>;
  readonly replay: ReplayGuard;
  readonly audience: string;
  /** Milliseconds since the epoch. */
  readonly clock: () => number;
}

const KEY_CACHE_LIMIT = 10_000;

export class RequestVerifier {
  private readonly keys = new Map<string, { thumbprint: string; key: VerificationKey }>();

  constructor(private readonly options: RequestVerifierOptions) {}

  async verifyHeaders(request: SignedRequest): Promise<HeaderVerifiedRequest> {
    const parsed = parseRequestToken(tokenFromAuthorization(request.authorization));
    const { token, header, claims } = parsed;
    const stored = await this.options.store.getKey(header.kid);
    if (!stored || stored.memberId !== claims.iss) throw new AuthError('ERR_KEY_UNKNOWN', `No key ${header.kid} for member ${claims.iss}`);
    if (stored.alg !== header.alg) throw new AuthError('ERR_SIGNATURE_INVALID', `Key ${header.kid} does not sign with ${header.alg}`);
    const key = await this.publicKey(stored.kid, stored.thumbprint, () => importVerificationKey(stored.publicJwk, stored.alg));
    if (!(await signatureVerifies(parsed, key))) throw new AuthError('ERR_SIGNATURE_INVALID', 'The signature does not verify with the named key');
    if (stored.status === 'revoked') throw new AuthError('ERR_KEY_REVOKED', `Key ${header.kid} was revoked`);
    const member = await this.options.store.getMember(claims.iss);
    if (!member) throw new AuthError('ERR_KEY_UNKNOWN', `No member ${claims.iss}`);
    if (member.status === 'suspended') throw new ForbiddenError('ERR_MEMBER_SUSPENDED', `Member ${member.id} is suspended`);
    if (claims.aud !== this.options.audience) throw new AuthError('ERR_AUDIENCE', `The token is for audience ${JSON.stringify(claims.aud.slice(0, 64))}, not this service`);
    if (claims.exp - claims.iat > MAX_LIFETIME_SECONDS) {
      throw new AuthError('ERR_LIFETIME_TOO_LONG', `A request token may live at most ${MAX_LIFETIME_SECONDS} s (exp - iat)`);
    }
    const now = this.options.clock() / 1000;
    if (now > claims.exp + CLOCK_SKEW_SECONDS) throw new AuthError('ERR_EXPIRED', 'The request token has expired');
    if (claims.iat > now + CLOCK_SKEW_SECONDS) throw new AuthError('ERR_NOT_YET_VALID', 'The request token was issued in the future; check the clock');
    if (claims.htm !== request.method) throw new AuthError('ERR_METHOD_MISMATCH', `The token was signed for ${claims.htm.slice(0, 16)}, not ${request.method}`);
    if (claims.htu !== request.target) throw new AuthError('ERR_URL_MISMATCH', 'The token was signed for another request target (path and query)');
    return { member, kid: stored.kid, token, claims };
  }

  /** Refuses, before the request costs anything, a jti this member used within its token's lifetime. */
  assertNotKnownReplay(request: HeaderVerifiedRequest): void {
    if (this.options.replay.isKnownReplay(request.member.id, request.claims.jti)) throw replayError();
  }

  /**
   * Checks the body digest (base64url SHA-256 of the body bytes), then consumes the jti, kept as
   * `keeping` says (`JtiKeeping`); answers it as the store keeps it.
   */
  async verifyBody(request: HeaderVerifiedRequest, digest: string, keeping: JtiKeeping): Promise<RequestJti> {
    if (request.claims.bd !== digest) throw new AuthError('ERR_BODY_DIGEST', 'The body does not match the signed digest (bd)');
    const used = await this.options.replay.accept(request.member.id, request.claims.jti, request.claims.exp, keeping, this.options.clock() / 1000);
    if (!used) throw replayError();
    return used;
  }

  /** After a `with-change` request: records its jti unless the request's change already did. */
  async ensureJtiRecorded(used: RequestJti): Promise<void> {
    await this.options.replay.ensureRecorded(used);
  }

  private async publicKey(kid: string, thumbprint: string, load: () => Promise<VerificationKey>): Promise<VerificationKey> {
    const cached = this.keys.get(kid);
    if (cached?.thumbprint === thumbprint) return cached.key;
    const key = await load();
    if (this.keys.size >= KEY_CACHE_LIMIT) this.keys.delete(this.keys.keys().next().value!);
    this.keys.set(kid, { thumbprint, key });
    return key;
  }
}

const replayError = (): AuthError => new AuthError('ERR_REPLAY', 'This jti was used before; every request needs a new one');
