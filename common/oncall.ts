// Who is on call now: a policy input (the Cedar context attribute `onCall`). The catalog's `onCall`
// section supplies rotations and overrides (policies/catalog.ts); a pager integration can take its
// place later by implementing OnCallSource. Pure: no clock of its own, no I/O.
import { canonicalEmail } from './identity.js';

/** The one interface policy evaluation needs. */
export interface OnCallSource {
  isOnCall(person: { sub: string; email?: string | undefined }, at: Date): boolean;
}

/** People take turns: `people[0]` the shift starting at `startMs`, then `people[1]`, and round again. */
export interface OnCallRotation {
  name: string;
  startMs: number;
  shiftSeconds: number;
  /** OIDC subs or email addresses. */
  people: string[];
}

/** Someone covers a rotation from `fromMs` until `toMs` in place of whoever's turn it is. */
export interface OnCallOverride {
  rotation: string;
  person: string;
  fromMs: number;
  toMs: number;
}

export interface OnCallSchedule {
  rotations: OnCallRotation[];
  overrides: OnCallOverride[];
}

export const noOnCallSchedule: OnCallSchedule = { rotations: [], overrides: [] };

/** Who holds a rotation at `atMs` (undefined before its first shift). */
export function onCallNow(
  schedule: OnCallSchedule,
  rotation: OnCallRotation,
  atMs: number,
): string | undefined {
  const override = schedule.overrides.find(
    (o) => o.rotation === rotation.name && o.fromMs <= atMs && atMs < o.toMs,
  );
  if (override) return override.person;
  if (atMs < rotation.startMs || rotation.people.length === 0) return undefined;
  const shift = Math.floor((atMs - rotation.startMs) / (rotation.shiftSeconds * 1000));
  return rotation.people[shift % rotation.people.length];
}

/** An identifier from the schedule names this person: their `sub`, or their email (canonical forms). */
export function names(identifier: string, person: { sub: string; email?: string | undefined }): boolean {
  if (identifier === person.sub) return true;
  return (
    identifier.includes('@') &&
    person.email !== undefined &&
    canonicalEmail(identifier) === canonicalEmail(person.email)
  );
}

export function scheduleSource(schedule: OnCallSchedule): OnCallSource {
  return {
    isOnCall(person, at) {
      const atMs = at.getTime();
      return schedule.rotations.some((rotation) => {
        const holder = onCallNow(schedule, rotation, atMs);
        return holder !== undefined && names(holder, person);
      });
    },
  };
}
