// The people directory: who a verified email address is (OIDC `sub` and groups). Slack clicks carry
// no token, so a Slack reviewer is mapped through here. The source is a
// YAML/JSON file the operator exports from the IdP; it is re-read when it changes.
import { readFileSync, statSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import type { Principal } from '../common/grant.js';

const fileSchema = z.object({
  users: z.array(
    z.object({
      sub: z.string().min(1),
      email: z.email(),
      groups: z.array(z.string().min(1)).default([]),
      /** A disabled person maps to nobody. */
      disabled: z.boolean().default(false),
    }),
  ),
});

export class DirectoryError extends Error {
  override name = 'DirectoryError';
}

export interface Directory {
  /** The person with this verified email, or undefined (unknown, disabled, or ambiguous). */
  byEmail(email: string): Principal | undefined;
  /** Everyone the directory maps (enabled, unambiguous): whom reviewer reminders consider. */
  people(): Principal[];
}

const normalize = (email: string) => email.trim().toLowerCase();

function load(path: string): Map<string, Principal> {
  let parsed: z.infer<typeof fileSchema>;
  try {
    parsed = fileSchema.parse(parse(readFileSync(path, 'utf8')));
  } catch (err) {
    throw new DirectoryError(`directory ${path}: ${(err as Error).message}`);
  }
  const byEmail = new Map<string, Principal>();
  const seen = new Set<string>();
  const ambiguous = new Set<string>();
  for (const user of parsed.users) {
    const key = normalize(user.email);
    // Disabled entries count too: which of two entries wins must not depend on their order.
    if (seen.has(key)) ambiguous.add(key);
    seen.add(key);
    if (!user.disabled) byEmail.set(key, { sub: user.sub, email: user.email, groups: user.groups });
  }
  // Two people behind one address: refuse to guess which of them clicked.
  for (const key of ambiguous) byEmail.delete(key);
  return byEmail;
}

/** A directory backed by `path`; a broken file keeps the last good copy (and says so once). */
export function fileDirectory(path: string, onReloadError?: (err: Error) => void): Directory {
  // ctime and inode change on every write or replacement, even when a copy keeps the old mtime.
  const version = () => {
    const st = statSync(path);
    return `${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  };
  let entries = load(path);
  let loaded = version();
  const current = () => {
    try {
      const seen = version();
      if (seen !== loaded) {
        loaded = seen;
        entries = load(path);
      }
    } catch (err) {
      onReloadError?.(err as Error);
    }
    return entries;
  };
  return {
    byEmail: (email) => current().get(normalize(email)),
    people: () => [...current().values()],
  };
}
