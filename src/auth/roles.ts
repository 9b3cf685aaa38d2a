/**
 * Role checks (SPEC §5): each route names the roles that may call it; a member holding none of
 * them is refused with `ERR_FORBIDDEN`. Roles are never implied by one another.
 */
import { ForbiddenError } from '../errors.js';
import type { Member, Role } from '../store/store.js';

/** Roles a route accepts; `any` means every active member. */
export type RouteAccess = readonly Role[] | 'any';

export function assertRole(member: Member, access: RouteAccess): void {
  if (access === 'any') return;
  if (!access.some((role) => member.roles.includes(role))) {
    throw new ForbiddenError('ERR_FORBIDDEN', `This call needs the ${access.join(' or ')} role`);
  }
}
