// "Is this reviewer the requester?" Decided by sub, and by email for identities that reach the
// broker another way (a Slack user mapped by email, a second IdP account). Emails are compared in a
// canonical form, so look-alike addresses of the same person count as the same person. A false
// match only refuses a review (someone else can review); a missed match is self-approval.
// Pure: runs in the grant workflow's validators.
import { remove as toAsciiSkeleton } from 'confusables';

// Zero-width and other invisible characters that render as nothing.
const INVISIBLE = /[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\uFEFF]/g;

/**
 * The canonical form of an email for self-review checks:
 * - trimmed, Unicode NFKC (full-width and compatibility forms folded), invisible characters removed;
 * - confusable characters (Cyrillic `а`, Greek `ο`, ...) mapped to the ASCII letter they imitate
 *   (Unicode TR39-style skeleton, via the `confusables` package);
 * - lower case; a trailing dot of the domain dropped (`corp.example.` is `corp.example`);
 * - a `+tag` sub-address dropped (`alice+x@` is `alice@`): it reaches the same mailbox.
 */
export function canonicalEmail(email: string): string {
  const folded = toAsciiSkeleton(email.normalize('NFKC').replace(INVISIBLE, '').trim())
    .normalize('NFKC')
    .toLowerCase();
  const at = folded.lastIndexOf('@');
  if (at < 0) return folded.replace(/\.+$/, '');
  const local = folded.slice(0, at).replace(/\+.*$/, '');
  const domain = folded.slice(at + 1).replace(/\.+$/, '');
  return `${local}@${domain}`;
}

/** True when two identities are one person: same `sub`, or emails with the same canonical form. */
export function samePerson(
  a: { sub: string; email?: string | undefined },
  b: { sub: string; email?: string | undefined },
): boolean {
  if (a.sub === b.sub) return true;
  if (!a.email || !b.email) return false;
  return canonicalEmail(a.email) === canonicalEmail(b.email);
}

/**
 * Workloads (pipelines, agents, state machines) are named in the catalog; their `sub` carries a
 * prefix no IdP subject of a person has, so a client id never passes for a person's `sub`.
 */
export const WORKLOAD_SUB_PREFIX = 'workload:';
export const workloadSub = (name: string): string => `${WORKLOAD_SUB_PREFIX}${name}`;
/** The catalog name of a workload `sub`, or undefined for a person's. */
export const workloadNameOf = (sub: string): string | undefined =>
  sub.startsWith(WORKLOAD_SUB_PREFIX) ? sub.slice(WORKLOAD_SUB_PREFIX.length) : undefined;
