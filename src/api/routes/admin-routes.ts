/**
 * Administration over HTTP (SPEC §5, admin role): members (create, list, read, change roles,
 * name or suspension), their public keys (register, list, revoke), and taxonomy labels. Every
 * change is audited by the store with the admin's signed request.
 */
import type { Bank } from '../../bank/bank.js';
import { parsePublicJwk } from '../../auth/member-keys.js';
import { NotFoundError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import { keyJson, memberJson } from '../representations.js';
import { defineRoute, type RouteSpec } from '../route.js';
import {
  KeyAddSchema,
  KeyListSchema,
  KeyParamsSchema,
  KeySchema,
  LabelCreateSchema,
  MemberCreateSchema,
  MemberIdParamSchema,
  MemberListSchema,
  MemberPatchSchema,
  MemberSchema,
} from '../schemas.js';

export function adminRoutes(store: Store, bank: Bank): RouteSpec[] {
  const mustGetMember = async (id: string) => {
    const member = await store.getMember(id);
    if (!member) throw new NotFoundError(`No member ${id.slice(0, 64)}`);
    return member;
  };
  return [
    defineRoute({
      method: 'POST',
      path: '/v1/admin/members',
      operationId: 'createMember',
      summary: 'Add a member',
      tag: 'admin',
      access: ['admin'],
      jtiWithChange: true,
      body: MemberCreateSchema,
      responses: { 201: { description: 'The new member', schema: MemberSchema } },
      errors: ['ERR_CONFLICT'],
      async handle({ body, origin }) {
        return { status: 201, body: memberJson(await store.createMember(body, origin)) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/admin/members',
      operationId: 'listMembers',
      summary: 'List members',
      tag: 'admin',
      access: ['admin'],
      responses: { 200: { description: 'Every member', schema: MemberListSchema } },
      async handle() {
        return { body: { members: (await store.listMembers()).map(memberJson) } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/admin/members/{id}',
      operationId: 'getMember',
      summary: 'Read a member',
      tag: 'admin',
      access: ['admin'],
      params: MemberIdParamSchema,
      responses: { 200: { description: 'The member', schema: MemberSchema } },
      errors: ['ERR_NOT_FOUND'],
      async handle({ params }) {
        return { body: memberJson(await mustGetMember(params.id)) };
      },
    }),
    defineRoute({
      method: 'PATCH',
      path: '/v1/admin/members/{id}',
      operationId: 'updateMember',
      summary: "Change a member's name, roles or status",
      description: 'Suspending a member refuses all of its requests at once. The last active admin with a key cannot be suspended or demoted.',
      tag: 'admin',
      access: ['admin'],
      jtiWithChange: true,
      params: MemberIdParamSchema,
      body: MemberPatchSchema,
      responses: { 200: { description: 'The member after the change', schema: MemberSchema } },
      errors: ['ERR_NOT_FOUND', 'ERR_CONFLICT'],
      async handle({ params, body, origin }) {
        return { body: memberJson(await store.updateMember(params.id, body, origin)) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/v1/admin/members/{id}/keys',
      operationId: 'listKeys',
      summary: "List a member's keys",
      tag: 'admin',
      access: ['admin'],
      params: MemberIdParamSchema,
      responses: { 200: { description: 'The keys, active and revoked', schema: KeyListSchema } },
      errors: ['ERR_NOT_FOUND'],
      async handle({ params }) {
        return { body: { keys: (await store.listKeys(params.id)).map(keyJson) } };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/admin/members/{id}/keys',
      operationId: 'addKey',
      summary: 'Register a public key for a member',
      description: "The JWK's own kid is kept when present and unused; otherwise its RFC 7638 thumbprint is the kid. Private JWKs are refused.",
      tag: 'admin',
      access: ['admin'],
      jtiWithChange: true,
      params: MemberIdParamSchema,
      body: KeyAddSchema,
      responses: { 201: { description: 'The registered key and its kid', schema: KeySchema } },
      errors: ['ERR_NOT_FOUND', 'ERR_CONFLICT'],
      async handle({ params, body, origin }) {
        const key = await parsePublicJwk(body.jwk);
        return { status: 201, body: keyJson(await store.addKey(params.id, key, origin)) };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/v1/admin/members/{id}/keys/{kid}',
      operationId: 'revokeKey',
      summary: 'Revoke a key',
      description: 'Requests signed with a revoked key are refused with ERR_KEY_REVOKED from then on.',
      tag: 'admin',
      access: ['admin'],
      jtiWithChange: true,
      params: KeyParamsSchema,
      responses: { 200: { description: 'The revoked key', schema: KeySchema } },
      errors: ['ERR_NOT_FOUND', 'ERR_CONFLICT'],
      async handle({ params, origin }) {
        return { body: keyJson(await store.revokeKey(params.id, params.kid, origin)) };
      },
    }),
    defineRoute({
      method: 'POST',
      path: '/v1/admin/taxonomy',
      operationId: 'addLabel',
      summary: 'Add a taxonomy label',
      tag: 'admin',
      access: ['admin'],
      jtiWithChange: true,
      body: LabelCreateSchema,
      responses: { 201: { description: 'The new label' } },
      errors: ['ERR_CONFLICT'],
      async handle({ body, origin }) {
        return { status: 201, body: await bank.addLabel(body, origin) };
      },
    }),
  ];
}
