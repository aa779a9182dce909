// Reads schema.cedarschema and policies.cedar and checks them with Cedar itself: parse, then the
// strict validator. Cedar reports byte offsets; every problem becomes `file:line:column: message`.
import { readFileSync } from 'node:fs';
// First: sets a V8 flag before Cedar's Wasm module loads (see the file).
import './v8-guard.js';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { type LoadProblem, lineColumnAt, PolicyLoadError } from './load-error.js';

export interface CedarSources {
  schema: string;
  /** Policy text by its `@id`, in file order. */
  policies: Record<string, string>;
}

export function loadCedarSources(schemaFile: string, policiesFile: string): CedarSources {
  const schema = readFileSync(schemaFile, 'utf8');
  const policyText = readFileSync(policiesFile, 'utf8');

  // An empty policy set isolates schema problems (syntax and unresolved types) from policy ones.
  const schemaCheck = cedar.validate({ schema, policies: { staticPolicies: '' } });
  if (schemaCheck.type === 'failure') throw located(schemaFile, schema, schemaCheck.errors);

  const parsed = cedar.checkParsePolicySet({ staticPolicies: policyText });
  if (parsed.type === 'failure') throw located(policiesFile, policyText, parsed.errors);

  const chunks = splitPolicies(policyText);
  const ids = policyIds(policiesFile, policyText, chunks);

  const validation = cedar.validate({
    schema,
    policies: { staticPolicies: policyText },
    validationSettings: { mode: 'strict' },
  });
  if (validation.type === 'failure') throw located(policiesFile, policyText, validation.errors);
  if (validation.validationErrors.length > 0) {
    // Cedar names text policies policy0, policy1, ... in file order; say the @id instead.
    const rename = (message: string) =>
      message.replace(/`policy(\d+)`/g, (whole, index: string) => {
        const id = ids[Number(index)];
        return id === undefined ? whole : `"${id}"`;
      });
    throw located(
      policiesFile,
      policyText,
      validation.validationErrors.map(({ error }) => ({ ...error, message: rename(error.message) })),
    );
  }

  const policies: Record<string, string> = {};
  chunks.forEach((chunk, index) => {
    policies[ids[index] as string] = chunk.text;
  });
  return { schema, policies };
}

interface Chunk {
  text: string;
  /** String index of the policy's first character (annotations included). */
  start: number;
}

/**
 * Splits policy text at each top-level `;`. Cedar has no `;` inside a policy except in strings and
 * comments, which are skipped. The count is checked against Cedar's own parse.
 */
export function splitPolicies(text: string): Chunk[] {
  const chunks: Chunk[] = [];
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (char === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      i = end === -1 ? text.length : end;
      continue;
    }
    if (/\s/.test(char)) continue;
    if (start === -1) start = i;
    if (char === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (char === ';') {
      chunks.push({ text: text.slice(start, i + 1), start });
      start = -1;
    }
  }
  return chunks;
}

function policyIds(file: string, text: string, chunks: Chunk[]): string[] {
  const parts = cedar.policySetTextToParts(text);
  if (
    parts.type === 'failure' ||
    parts.policy_templates.length > 0 ||
    parts.policies.length !== chunks.length
  ) {
    throw new PolicyLoadError([
      { file, problem: 'could not split the policy set (templates are not supported)' },
    ]);
  }
  const problems: LoadProblem[] = [];
  const seen = new Set<string>();
  const ids = chunks.map((chunk, index) => {
    const json = cedar.policyToJson(chunk.text);
    const id = json.type === 'success' ? json.json.annotations?.id : undefined;
    const where = { file, ...lineColumnAt(text, Buffer.byteLength(text.slice(0, chunk.start))) };
    if (!id) problems.push({ ...where, problem: 'policy has no @id("...") annotation' });
    else if (seen.has(id)) problems.push({ ...where, problem: `duplicate policy @id "${id}"` });
    if (id) seen.add(id);
    return id ?? `policy${index}`;
  });
  if (problems.length > 0) throw new PolicyLoadError(problems);
  return ids;
}

function located(file: string, text: string, errors: cedar.DetailedError[]): PolicyLoadError {
  return new PolicyLoadError(
    errors.map((error): LoadProblem => {
      const location = error.sourceLocations?.[0];
      const details = [location?.label, error.help].filter((part): part is string => Boolean(part));
      const problem = details.length > 0 ? `${error.message} (${details.join('; ')})` : error.message;
      return location ? { file, ...lineColumnAt(text, location.start), problem } : { file, problem };
    }),
  );
}
