// The role catalog (policies/catalog.yaml): which AWS roles exist and their limits. Validated strictly,
// because a typo here (an unknown field silently ignored, a negative duration) changes who gets access.
import { readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, type Node, parseDocument } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../common/duration.js';
import { type LoadProblem, PolicyLoadError } from './load-error.js';
import type { CatalogRole } from './types.js';

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

const roleSchema = z
  .strictObject({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes, at most 63'),
    description: z.string().min(1),
    arn: z.string().regex(ARN, 'expected arn:aws:iam::<account>:role/<name>'),
    account: z
      .string({ error: 'expected the 12-digit account id as a quoted string' })
      .regex(/^\d{12}$/, 'expected the 12-digit account id'),
    maxDuration: duration,
    maxTotalDuration: duration.optional(),
    approvalsRequired: z.number().int().min(0).max(10),
    approvalTimeout: duration.default(3600),
    requesterGroups: groups.min(1),
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
    // Otherwise a request longer than autoApproveMax would need nobody's approval.
    if (!role.breakGlass && role.approvalsRequired === 0 && (role.autoApproveMax ?? 0) < role.maxDuration) {
      problem('approvalsRequired', 'is 0, so autoApproveMax must cover maxDuration (or set breakGlass)');
    }
  });

const catalogSchema = z.strictObject({ roles: z.array(roleSchema).min(1) }).superRefine(({ roles }, ctx) => {
  const seen = new Set<string>();
  roles.forEach((role, index) => {
    if (seen.has(role.id)) {
      ctx.addIssue({ code: 'custom', path: ['roles', index, 'id'], message: 'duplicate role id' });
    }
    seen.add(role.id);
  });
});

type RoleInput = z.output<typeof roleSchema>;

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
  };
}

/** Reads and validates a catalog file; throws PolicyLoadError naming file, line, role and field. */
export function loadCatalog(file: string): CatalogRole[] {
  return parseCatalog(readFileSync(file, 'utf8'), file);
}

export function parseCatalog(text: string, file: string): CatalogRole[] {
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
  if (parsed.success) return parsed.data.roles.map(toCatalogRole);

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
  if (top !== 'roles' || typeof index !== 'number') return path.length > 0 ? `${path.join('.')}: ` : '';
  const roles = (raw as { roles?: unknown[] }).roles;
  const id = (roles?.[index] as { id?: unknown } | undefined)?.id;
  const role = typeof id === 'string' ? `role "${id}"` : `role #${index + 1}`;
  return rest.length > 0 ? `${role}, field ${rest.join('.')}: ` : `${role}: `;
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
