// The role catalog (policies/catalog.yaml): which AWS roles exist and their limits. Validated strictly,
// because a typo here (an unknown field silently ignored, a negative duration) changes who gets access.
import { readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
import { z } from 'zod';
import { formatDuration, parseDuration } from '../common/duration.js';
import { noOnCallSchedule, type OnCallSchedule } from '../common/oncall.js';
import { type LoadProblem, PolicyLoadError } from './load-error.js';
import { type Catalog, type CatalogRole, type CatalogWorkload, tokenAttributeNames } from './types.js';

const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
    return z.NEVER;
  }
});

const groups = z
  .array(z.string().min(1))
  .refine((list) => new Set(list).size === list.length, 'duplicate group');

const ARN = /^arn:aws[\w-]*:iam::(\d{12}):role\/[\w+=,.@/-]+$/;
const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const NAME_RULE = 'lowercase letters, digits and dashes, at most 63';

const roleSchema = z
  .strictObject({
    id: z.string().regex(NAME, NAME_RULE),
    description: z.string().min(1),
    arn: z.string().regex(ARN, 'expected arn:aws:iam::<account>:role/<name>'),
    account: z
      .string({ error: 'expected the 12-digit account id as a quoted string' })
      .regex(/^\d{12}$/, 'expected the 12-digit account id'),
    maxDuration: duration,
    maxTotalDuration: duration.optional(),
    approvalsRequired: z.number().int().min(0).max(10),
    approvalTimeout: duration.default(3600),
    // Empty for roles only workloads ask for (policies.cedar names them).
    requesterGroups: groups.default([]),
    reviewerGroups: groups.default([]),
    slackChannel: z.string().min(1).optional(),
    ticketPattern: z
      .string()
      .refine((source) => compiles(source), 'not a valid regular expression')
      .optional(),
    autoApproveMax: duration.optional(),
    breakGlass: z.boolean().default(false),
    // IAM allows 1h..12h for a role's MaxSessionDuration.
    roleMaxSessionSeconds: z.number().int().min(3600).max(43200).default(3600),
    // While a request waits: remind the reviewers who have not acted, then escalate once.
    remindAfter: duration.optional(),
    maxReminders: z.number().int().min(1).max(20).optional(),
    escalateAfter: duration.optional(),
    escalationChannel: z.string().min(1).optional(),
    escalationGroup: z.string().min(1).optional(),
    nudgeInterval: duration.default(1800),
    // Break-glass roles: the post-hoc review's deadline, then escalations on this schedule.
    reviewDeadline: duration.optional(),
    reviewEscalateEvery: duration.optional(),
  })
  .superRefine((role, ctx) => {
    const problem = (path: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [path], message });
    if (ARN.exec(role.arn)?.[1] !== role.account) problem('account', 'does not match the account in arn');
    if (role.maxTotalDuration !== undefined && role.maxTotalDuration < role.maxDuration) {
      problem('maxTotalDuration', 'is shorter than maxDuration');
    }
    if (role.autoApproveMax !== undefined && role.autoApproveMax > role.maxDuration) {
      problem('autoApproveMax', 'is longer than maxDuration');
    }
    if (role.approvalsRequired > 0 && role.reviewerGroups.length === 0) {
      problem('reviewerGroups', 'needs at least one group when approvalsRequired > 0');
    }
    if (role.breakGlass && role.approvalsRequired > 0) {
      problem('approvalsRequired', 'must be 0 for a breakGlass role');
    }
    if (role.maxReminders !== undefined && role.remindAfter === undefined)
      problem('maxReminders', 'needs remindAfter');
    if (role.escalationGroup !== undefined && role.escalateAfter === undefined)
      problem('escalationGroup', 'needs escalateAfter (the group may approve once the request escalates)');
    for (const field of ['remindAfter', 'escalateAfter'] as const) {
      const after = role[field];
      if (role.breakGlass && after !== undefined)
        problem(field, 'a breakGlass role never waits for approval (see reviewDeadline)');
      else if (after !== undefined && after >= role.approvalTimeout)
        problem(
          field,
          `must be shorter than approvalTimeout (${formatDuration(role.approvalTimeout)}): the request times out first`,
        );
    }
    for (const field of ['reviewDeadline', 'reviewEscalateEvery'] as const) {
      if (!role.breakGlass && role[field] !== undefined) problem(field, 'is only for breakGlass roles');
    }
    // Otherwise a request longer than autoApproveMax would need nobody's approval.
    if (!role.breakGlass && role.approvalsRequired === 0 && (role.autoApproveMax ?? 0) < role.maxDuration) {
      problem('approvalsRequired', 'is 0, so autoApproveMax must cover maxDuration (or set breakGlass)');
    }
  });

const instant = z.iso.datetime({ offset: true, error: 'expected a time like 2026-01-05T09:00:00Z' });

// Who is on call when (common/oncall.ts): rotations, and overrides that cover a rotation for a while.
const onCallSchema = z
  .strictObject({
    rotations: z
      .array(
        z.strictObject({
          name: z.string().regex(/^[\w-]{1,64}$/, 'letters, digits, dash and underscore'),
          start: instant,
          shift: duration,
          people: z.array(z.string().min(1)).min(1),
        }),
      )
      .default([]),
    overrides: z
      .array(z.strictObject({ rotation: z.string(), person: z.string().min(1), from: instant, to: instant }))
      .default([]),
  })
  .superRefine(({ rotations, overrides }, ctx) => {
    const names = new Set<string>();
    rotations.forEach((rotation, index) => {
      if (names.has(rotation.name))
        ctx.addIssue({ code: 'custom', path: ['rotations', index, 'name'], message: 'duplicate rotation' });
      names.add(rotation.name);
    });
    overrides.forEach((override, index) => {
      if (!names.has(override.rotation))
        ctx.addIssue({ code: 'custom', path: ['overrides', index, 'rotation'], message: 'no such rotation' });
      if (Date.parse(override.to) <= Date.parse(override.from))
        ctx.addIssue({ code: 'custom', path: ['overrides', index, 'to'], message: 'is not after from' });
    });
  });

// A workload is recognised by a token (every listed attribute equal) or, at the queue door, by
// the role that sent the message (`awsRoles`, resolved to its unique id) or that unique id itself.
const workloadSchema = z
  .strictObject({
    name: z.string().regex(NAME, NAME_RULE),
    description: z.string().min(1),
    tokens: z
      .array(
        z.strictObject({
          issuer: z.string().regex(NAME, NAME_RULE),
          attributes: z
            .partialRecord(z.enum(tokenAttributeNames), z.string().min(1))
            .refine((a) => Object.keys(a).length > 0, 'name at least one attribute to match'),
        }),
      )
      .default([]),
    awsRoles: z.array(z.string().regex(ARN, 'expected arn:aws:iam::<account>:role/<name>')).default([]),
    awsPrincipalIds: z
      .array(z.string().regex(/^(AIDA|AROA)[A-Z0-9]{12,}$/, 'expected an IAM unique id (AIDA... or AROA...)'))
      .default([]),
  })
  .refine(
    (w) => w.tokens.length + w.awsRoles.length + w.awsPrincipalIds.length > 0,
    'needs tokens, awsRoles or awsPrincipalIds: how else would the broker recognise it?',
  );

const catalogSchema = z
  .strictObject({
    roles: z.array(roleSchema).min(1),
    onCall: onCallSchema.optional(),
    workloads: z.array(workloadSchema).default([]),
  })
  .superRefine(({ roles, workloads }, ctx) => {
    const seen = new Set<string>();
    roles.forEach((role, index) => {
      if (seen.has(role.id)) {
        ctx.addIssue({ code: 'custom', path: ['roles', index, 'id'], message: 'duplicate role id' });
      }
      seen.add(role.id);
    });
    // One token, role or unique id names one workload, never two.
    const names = new Set<string>();
    const owners = new Map<string, string>();
    workloads.forEach((workload, index) => {
      const problem = (path: (string | number)[], message: string) =>
        ctx.addIssue({ code: 'custom', path: ['workloads', index, ...path], message });
      if (names.has(workload.name)) problem(['name'], 'duplicate workload name');
      names.add(workload.name);
      const claim = (key: string, path: (string | number)[]) => {
        const owner = owners.get(key);
        if (owner && owner !== workload.name) problem(path, `also matches workload "${owner}"`);
        owners.set(key, workload.name);
      };
      workload.tokens.forEach((t, i) => {
        claim(`token:${t.issuer}:${JSON.stringify(Object.entries(t.attributes).sort())}`, ['tokens', i]);
      });
      workload.awsRoles.forEach((arn, i) => {
        claim(`role:${arn}`, ['awsRoles', i]);
      });
      workload.awsPrincipalIds.forEach((id, i) => {
        claim(`id:${id}`, ['awsPrincipalIds', i]);
      });
    });
  });

type RoleInput = z.output<typeof roleSchema>;
type WorkloadInput = z.output<typeof workloadSchema>;

function compiles(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}

function toCatalogRole(role: RoleInput): CatalogRole {
  return {
    id: role.id,
    description: role.description,
    arn: role.arn,
    account: role.account,
    maxDurationSeconds: role.maxDuration,
    maxTotalDurationSeconds: role.maxTotalDuration ?? role.maxDuration,
    approvalsRequired: role.approvalsRequired,
    approvalTimeoutSeconds: role.approvalTimeout,
    requesterGroups: role.requesterGroups,
    reviewerGroups: role.reviewerGroups,
    ...(role.slackChannel === undefined ? {} : { slackChannel: role.slackChannel }),
    ...(role.ticketPattern === undefined ? {} : { ticketPattern: role.ticketPattern }),
    autoApproveMaxSeconds: role.autoApproveMax ?? 0,
    breakGlass: role.breakGlass,
    roleMaxSessionSeconds: role.roleMaxSessionSeconds,
    followUp: {
      ...(role.remindAfter === undefined ? {} : { remindAfterSeconds: role.remindAfter }),
      maxReminders: role.remindAfter === undefined ? 0 : (role.maxReminders ?? 3),
      ...(role.escalateAfter === undefined ? {} : { escalateAfterSeconds: role.escalateAfter }),
      ...(role.escalationChannel === undefined ? {} : { escalationChannel: role.escalationChannel }),
      ...(role.escalationGroup === undefined ? {} : { escalationGroup: role.escalationGroup }),
      nudgeIntervalSeconds: role.nudgeInterval,
    },
    ...(role.breakGlass
      ? {
          review: {
            deadlineSeconds: role.reviewDeadline ?? 24 * 3600,
            escalateEverySeconds: role.reviewEscalateEvery ?? 4 * 3600,
            ...(role.escalationChannel === undefined ? {} : { escalationChannel: role.escalationChannel }),
          },
        }
      : {}),
  };
}

function toOnCallSchedule(onCall: z.output<typeof onCallSchema> | undefined): OnCallSchedule {
  if (!onCall) return noOnCallSchedule;
  return {
    rotations: onCall.rotations.map((r) => ({
      name: r.name,
      startMs: Date.parse(r.start),
      shiftSeconds: r.shift,
      people: r.people,
    })),
    overrides: onCall.overrides.map((o) => ({
      rotation: o.rotation,
      person: o.person,
      fromMs: Date.parse(o.from),
      toMs: Date.parse(o.to),
    })),
  };
}

function toCatalogWorkload(workload: WorkloadInput): CatalogWorkload {
  return {
    name: workload.name,
    description: workload.description,
    tokens: workload.tokens.map((t) => ({ issuer: t.issuer, attributes: { ...t.attributes } })),
    awsRoles: workload.awsRoles,
    awsPrincipalIds: workload.awsPrincipalIds,
  };
}

/** Reads and validates a catalog file; throws PolicyLoadError naming file, line, role and field. */
export function loadCatalog(file: string): Catalog {
  return parseCatalog(readFileSync(file, 'utf8'), file);
}

export function parseCatalog(text: string, file: string): Catalog {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const at = (offset: number | undefined) => {
    if (offset === undefined) return {};
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    throw new PolicyLoadError(doc.errors.map((err) => ({ file, ...at(err.pos[0]), problem: err.message })));
  }
  const raw: unknown = doc.toJS();
  const parsed = catalogSchema.safeParse(raw, { reportInput: true });
  if (parsed.success) {
    return {
      roles: parsed.data.roles.map(toCatalogRole),
      onCall: toOnCallSchedule(parsed.data.onCall),
      workloads: parsed.data.workloads.map(toCatalogWorkload),
    };
  }

  const problems = parsed.error.issues.flatMap((issue): LoadProblem[] => {
    const path = issue.path.filter((key) => typeof key !== 'symbol');
    const where = describePath(raw, path);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        file,
        ...at(keyNode(doc.getIn(path), key)?.range?.[0] ?? nearestNode(doc, path)?.range?.[0]),
        problem: `${where}unknown field "${key}"`,
      }));
    }
    const missing = issue.code === 'invalid_type' && issue.input === undefined;
    const problem = `${where}${missing ? 'required field is missing' : issue.message}`;
    return [{ file, ...at(nearestNode(doc, path)?.range?.[0]), problem }];
  });
  throw new PolicyLoadError(problems);
}

/** `role "prod-admin", field maxDuration: ` from a zod issue path like ['roles', 1, 'maxDuration']. */
function describePath(raw: unknown, path: (string | number)[]): string {
  const [top, index, ...rest] = path;
  if ((top !== 'roles' && top !== 'workloads') || typeof index !== 'number')
    return path.length > 0 ? `${path.join('.')}: ` : '';
  const list = (raw as Record<string, unknown[] | undefined>)[top];
  const item = list?.[index] as { id?: unknown; name?: unknown } | undefined;
  const key = top === 'roles' ? item?.id : item?.name;
  const kind = top === 'roles' ? 'role' : 'workload';
  const what = typeof key === 'string' ? `${kind} "${key}"` : `${kind} #${index + 1}`;
  return rest.length > 0 ? `${what}, field ${rest.join('.')}: ` : `${what}: `;
}

/** The node at `path`, or its closest existing ancestor (a missing field points at its role). */
function nearestNode(doc: ReturnType<typeof parseDocument>, path: (string | number)[]): Node | undefined {
  for (let end = path.length; end >= 0; end--) {
    const node = end === 0 ? doc.contents : doc.getIn(path.slice(0, end), true);
    if (node && typeof node === 'object' && 'range' in node) return node as Node;
  }
  return undefined;
}

function keyNode(map: unknown, key: string): Node | undefined {
  if (!isMap(map)) return undefined;
  const pair = map.items.find((item) => isScalar(item.key) && item.key.value === key);
  return pair && isScalar(pair.key) ? pair.key : undefined;
}
