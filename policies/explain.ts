// Human reasons for a refused request. Cedar only says which forbids matched (and nothing when no
// permit did), so the engine restates the permit's conditions to say what was missing.
import { formatDuration } from '../common/duration.js';
import type { CatalogRole, Principal } from './types.js';

/** What a matching forbid policy means, keyed by its @id; unknown ids fall back to the id itself. */
const FORBID_REASONS: Record<string, (role: CatalogRole) => string> = {
  'request-needs-reason': () => 'a reason is required',
  'prod-admin-needs-ticket': (role) =>
    role.ticketPattern ? `ticket required matching ${role.ticketPattern}` : 'ticket required',
  'people-ask-for-themselves': () => 'people ask for themselves; only a workload acts for someone',
  'break-glass-only-as-break-glass': (role) =>
    role.breakGlass
      ? `${role.id} is a break-glass role and can only be requested as break-glass`
      : `break-glass is only for break-glass roles, and ${role.id} is not one`,
};

export function explainRefusal(
  role: CatalogRole,
  principal: Principal,
  durationSeconds: number,
  forbidIds: string[],
): string[] {
  const reasons: string[] = [];
  if (principal.kind === 'workload') {
    // Workloads are allowed by policies that name them, not by groups.
    if (forbidIds.length === 0) reasons.push(`no policy lets ${principal.sub} request ${role.id} like this`);
  } else if (!principal.groups.some((group) => role.requesterGroups.includes(group))) {
    reasons.push(
      role.requesterGroups.length > 0
        ? `not in a requester group of ${role.id} (${role.requesterGroups.join(', ')})`
        : `${role.id} is for workloads; people do not request it`,
    );
  }
  if (durationSeconds > role.maxDurationSeconds) {
    reasons.push(
      `duration ${formatDuration(durationSeconds)} exceeds the role maximum ${formatDuration(role.maxDurationSeconds)}`,
    );
  }
  for (const id of forbidIds) reasons.push(FORBID_REASONS[id]?.(role) ?? `refused by policy "${id}"`);
  if (reasons.length === 0) reasons.push('no policy permits this request');
  return reasons;
}
