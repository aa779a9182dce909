// The inline deny policy a role's revocation ledger owns.
import type { LedgerEntry } from './grant.js';

export const REVOCATION_POLICY_NAME = 'jit-revocation-ledger';
/** IAM's limit on the sum of a role's inline policy sizes, whitespace excluded. */
export const ROLE_INLINE_POLICY_LIMIT = 10_240;

/**
 * Denies everything to each listed session (`aws:userid` = `<RoleId>:<session name>`) and, when
 * the ledger has overflowed, to every session of the role issued before `issuedBefore`.
 * Returns null when there is nothing to deny.
 */
export function revocationPolicyDocument(entries: LedgerEntry[], issuedBefore?: string): string | null {
  const statements: object[] = [];
  if (entries.length > 0) {
    statements.push({
      Sid: 'JitRevokedSessions',
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: { StringEquals: { 'aws:userid': entries.map((e) => e.assumedRoleId).sort() } },
    });
  }
  if (issuedBefore) {
    statements.push({
      Sid: 'JitRevokedBefore',
      Effect: 'Deny',
      Action: '*',
      Resource: '*',
      Condition: { DateLessThan: { 'aws:TokenIssueTime': issuedBefore } },
    });
  }
  return statements.length === 0 ? null : JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

/** How IAM counts a policy against the limit: its characters without whitespace. */
export const policySize = (document: string) => document.replace(/\s/g, '').length;

export const roleNameFromArn = (arn: string) => arn.slice(arn.lastIndexOf('/') + 1);
