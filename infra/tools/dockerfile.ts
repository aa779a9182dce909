// Reads the Dockerfile's stages and checks the steps the image relies on against the project: no
// image can be built here, so what CI would build is checked as text. `node infra/bootstrap.mjs infra/tools/dockerfile.ts`
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../paths.js';

export interface Stage {
  name: string;
  from: string;
  runs: string[];
  copies: string[];
  user?: string;
  entrypoint?: string[];
  cmd?: string[];
}

/** Instructions of a Dockerfile, continuation lines joined, comments dropped, ARGs substituted. */
export function parseDockerfile(text: string): Stage[] {
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  for (const line of logical) {
    const [, keyword = '', rest = ''] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    const value = rest
      .replace(/\$\{(\w+)\}|\$(\w+)/g, (m, a, b) => args.get(a ?? b) ?? m)
      .replace(/\s+/g, ' ');
    const stage = stages.at(-1);
    switch (keyword.toUpperCase()) {
      case 'ARG': {
        const [name = '', dflt] = rest.split('=');
        if (dflt !== undefined) args.set(name, dflt);
        break;
      }
      case 'FROM': {
        const [from = '', , name] = value.split(' ');
        stages.push({ name: name ?? String(stages.length), from, runs: [], copies: [] });
        break;
      }
      case 'RUN':
        stage?.runs.push(value);
        break;
      case 'COPY':
        stage?.copies.push(value);
        break;
      case 'USER':
        if (stage) stage.user = value;
        break;
      case 'ENTRYPOINT':
        if (stage) stage.entrypoint = JSON.parse(value) as string[];
        break;
      case 'CMD':
        if (stage) stage.cmd = JSON.parse(value) as string[];
        break;
    }
  }
  return stages;
}

/** The commands of a RUN, split on `&&`. */
const commandsOf = (stage: Stage | undefined) =>
  (stage?.runs ?? []).flatMap((r) => r.split('&&').map((c) => c.trim()));

export interface DockerfileCheck {
  /** What is wrong. */
  problems: string[];
}

/** The image's contract: Node 24 slim base, the project's install and build commands, non-root, tini. */
export function checkDockerfile(text: string, pkg: { scripts?: Record<string, string> }): DockerfileCheck {
  const stages = parseDockerfile(text);
  const problems: string[] = [];
  const stage = (name: string) => stages.find((s) => s.name === name);
  const build = stage('build');
  const deps = stage('deps');
  const runtime = stages.at(-1);
  for (const s of stages) {
    if (!/^node:24[.\d]*-(bookworm|trixie)-slim(@sha256:[0-9a-f]{64})?$/.test(s.from) && !stage(s.from)) {
      problems.push(`stage ${s.name}: base ${s.from} is not node:24-<debian>-slim`);
    }
  }
  if (!build) problems.push('no "build" stage');
  if (!deps) problems.push('no "deps" stage');
  const buildCommands = commandsOf(build);
  // The lock file decides every version: `npm ci`, never `npm install`.
  if (!buildCommands.includes('npm ci')) problems.push('build stage: does not install with `npm ci`');
  if (!buildCommands.includes('npm run build')) problems.push('build stage: does not run `npm run build`');
  if (!pkg.scripts?.build)
    problems.push('package.json has no "build" script (the build stage runs `npm run build`)');
  if (!commandsOf(deps).includes('npm ci --omit=dev')) problems.push('deps stage: not `npm ci --omit=dev`');
  if (!runtime) return { problems: [...problems, 'no stages'] };
  if (commandsOf(runtime).some((c) => /\bnpm (ci|install)\b/.test(c))) {
    problems.push('runtime stage installs packages itself');
  }
  const copied = runtime.copies.join('\n');
  if (!/--from=deps\b.*\/app\/node_modules/.test(copied))
    problems.push('runtime: node_modules do not come from deps');
  if (!/--from=build\b.*\/app\/dist\b/.test(copied)) problems.push('runtime: dist/ does not come from build');
  if (runtime.copies.some((c) => !c.includes('--from=') && !/^(--chown=\S+ )?package\.json \.\/$/.test(c))) {
    problems.push(
      'runtime: copies sources from the context (only dist/, node_modules and package.json belong)',
    );
  }
  const [uid] = (runtime.user ?? '').split(':');
  if (!uid || !/^\d+$/.test(uid) || Number(uid) === 0)
    problems.push('runtime: USER is not a numeric non-root uid');
  if (runtime.entrypoint?.[0] !== '/usr/bin/tini') problems.push('runtime: ENTRYPOINT is not tini');
  if (runtime.cmd?.join(' ') !== 'node dist/api/main.js')
    problems.push('runtime: CMD is not `node dist/api/main.js`');
  return { problems };
}

if (process.argv[1] === import.meta.filename) {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8'));
  const { problems } = checkDockerfile(readFileSync(join(repoRoot, 'Dockerfile'), 'utf8'), pkg);
  for (const p of problems) process.stderr.write(`Dockerfile: ${p}\n`);
  process.exit(problems.length > 0 ? 1 : 0);
}
