// The token issuers the API trusts. The single-issuer settings (OIDC_ISSUER, OIDC_AUDIENCE,
// OIDC_GROUPS_CLAIM) are the default issuer of people; JIT_ISSUERS_FILE adds more: another IdP, the
// issuer of CI pipelines (GitHub Actions) or of AI agents' client-credentials tokens. Each has its
// own audience, algorithm allow-list and, for workloads, a mapping from claims to the attributes
// the catalog recognises workloads by and policies read. Checked at start-up: a problem names the
// file, its line and the field.
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { type TokenAttribute, tokenAttributeNames } from '../../policies/types.js';

export interface IssuerConfig {
  /** What the catalog's workload `tokens` entries call it. */
  name: string;
  /** `iss`, exactly as in the tokens and the discovery document. */
  issuer: string;
  /** The `aud` a token must carry. Two entries may share an issuer when their audiences differ. */
  audience: string;
  kind: 'person' | 'workload';
  /** Asymmetric JWS algorithms only. */
  algorithms: string[];
  /** People: the claim with their groups. */
  groupsClaim: string;
  /** Workloads: attribute <- claim. */
  claims: Partial<Record<TokenAttribute, string>>;
  clockToleranceSeconds: number;
}

// Asymmetric only. `none` would accept unsigned tokens and HS* would let anyone holding the issuer's
// public key (everyone) sign tokens with it as the HMAC secret.
export const DEFAULT_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'EdDSA',
];
const asymmetric = z
  .array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']))
  .min(1);

const issuerSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lowercase letters, digits and dashes, at most 63'),
    issuer: z.url({ protocol: /^https?$/ }),
    audience: z.string().min(1),
    kind: z.enum(['person', 'workload']),
    algorithms: asymmetric.optional(),
    groupsClaim: z.string().min(1).optional(),
    claims: z.partialRecord(z.enum(tokenAttributeNames), z.string().min(1)).optional(),
    clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
  })
  .superRefine((entry, ctx) => {
    if (entry.kind === 'workload' && (!entry.claims || Object.keys(entry.claims).length === 0))
      ctx.addIssue({
        code: 'custom',
        path: ['claims'],
        message: 'a workload issuer maps at least one claim (e.g. clientId: client_id)',
      });
    if (entry.kind === 'person' && entry.claims)
      ctx.addIssue({ code: 'custom', path: ['claims'], message: 'only workload issuers map claims' });
    if (entry.kind === 'workload' && entry.groupsClaim)
      ctx.addIssue({ code: 'custom', path: ['groupsClaim'], message: 'workloads have no groups' });
  });

const fileSchema = z.strictObject({ issuers: z.array(issuerSchema).min(1) });

export class IssuersFileError extends Error {
  override name = 'IssuersFileError';
}

/** The default issuer of people, from the single-issuer settings. */
export function defaultPersonIssuer(opts: {
  issuer: string;
  audience: string;
  groupsClaim: string;
  algorithms?: string[] | undefined;
  clockToleranceSeconds?: number | undefined;
}): IssuerConfig {
  return {
    name: 'default',
    issuer: opts.issuer,
    audience: opts.audience,
    kind: 'person',
    algorithms: opts.algorithms ?? DEFAULT_ALGORITHMS,
    groupsClaim: opts.groupsClaim,
    claims: {},
    clockToleranceSeconds: opts.clockToleranceSeconds ?? 30,
  };
}

export function loadIssuersFile(file: string): IssuerConfig[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new IssuersFileError(`${file}: cannot be read (${(err as Error).message})`);
  }
  return parseIssuers(text, file);
}

export function parseIssuers(text: string, file: string): IssuerConfig[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const where = (offset: number | undefined) => {
    if (offset === undefined) return file;
    const { line, col } = lines.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length > 0)
    throw new IssuersFileError(doc.errors.map((e) => `${where(e.pos[0])}: ${e.message}`).join('\n'));
  const raw: unknown = doc.toJS();
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const path = issue.path.filter((key): key is string | number => typeof key !== 'symbol');
      // The closest node that exists: a missing field points at its entry.
      let offset: number | undefined;
      for (let end = path.length; end >= 0 && offset === undefined; end--) {
        const node = end === 0 ? doc.contents : doc.getIn(path.slice(0, end), true);
        if (node && typeof node === 'object' && 'range' in node)
          offset = (node as { range: number[] }).range[0];
      }
      const entry = path[0] === 'issuers' && typeof path[1] === 'number' ? describeEntry(raw, path[1]) : '';
      const field = path.slice(path[0] === 'issuers' ? 2 : 0).join('.');
      return `${where(offset)}: ${entry}${field ? `field ${field}: ` : ''}${issue.message}`;
    });
    throw new IssuersFileError(problems.join('\n'));
  }
  return parsed.data.issuers.map((entry) => ({
    name: entry.name,
    issuer: entry.issuer,
    audience: entry.audience,
    kind: entry.kind,
    algorithms: entry.algorithms ?? DEFAULT_ALGORITHMS,
    groupsClaim: entry.groupsClaim ?? 'groups',
    claims: entry.claims ?? {},
    clockToleranceSeconds: entry.clockToleranceSeconds,
  }));
}

function describeEntry(raw: unknown, index: number): string {
  const name = (raw as { issuers?: { name?: unknown }[] }).issuers?.[index]?.name;
  return typeof name === 'string' ? `issuer "${name}", ` : `issuer #${index + 1}, `;
}

/**
 * The whole set: names unique, an issuer and audience pair used once, no catalog workload matched
 * on an issuer of people (errors); catalog workload entries naming an issuer that is not configured
 * match nobody (warnings: the shipped catalog names the dev stack's issuer).
 */
export function checkIssuers(
  issuers: readonly IssuerConfig[],
  workloadTokenIssuers: readonly { workload: string; issuer: string }[],
): { errors: string[]; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  const names = new Set<string>();
  const pairs = new Set<string>();
  for (const entry of issuers) {
    if (names.has(entry.name)) problems.push(`issuer name "${entry.name}" is used twice`);
    names.add(entry.name);
    const pair = `${entry.issuer} ${entry.audience}`;
    if (pairs.has(pair))
      problems.push(`issuer ${entry.issuer} with audience ${entry.audience} is configured twice`);
    pairs.add(pair);
  }
  for (const { workload, issuer } of workloadTokenIssuers) {
    const entry = issuers.find((i) => i.name === issuer);
    if (!entry)
      warnings.push(`catalog workload "${workload}" names issuer "${issuer}", which is not configured`);
    else if (entry.kind !== 'workload')
      problems.push(`catalog workload "${workload}" names issuer "${issuer}", an issuer of people`);
  }
  return { errors: problems, warnings: [...new Set(warnings)] };
}
