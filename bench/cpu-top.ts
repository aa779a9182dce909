// The functions that took the most CPU in a V8 profile: `npx tsx bench/cpu-top.ts <file.cpuprofile> [N]`.
// Self time per function, and per package (node_modules/<name>, node: internals, the repo's own files).
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, top = '25'] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: tsx bench/cpu-top.ts <file.cpuprofile> [N]\n');
  process.exit(64);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => {
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);

const pkg = (url: string) => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1] as string;
  if (url.startsWith('node:')) return 'node:internal';
  if (!url) return '(native / idle / gc)';
  return url.replace(/^file:\/\/.*?\/(?=[^/]+\/[^/]+$)/, '');
};
const functions = new Map<string, number>();
const packages = new Map<string, number>();
for (const [id, us] of selfUs) {
  const frame = byId.get(id)?.callFrame;
  if (!frame) continue;
  const key = `${frame.functionName || '(anonymous)'}  ${pkg(frame.url)}:${frame.lineNumber + 1}`;
  functions.set(key, (functions.get(key) ?? 0) + us);
  packages.set(pkg(frame.url), (packages.get(pkg(frame.url)) ?? 0) + us);
}
const show = (title: string, map: Map<string, number>) => {
  process.stdout.write(`\n${title} (of ${(total / 1e6).toFixed(1)} s sampled)\n`);
  for (const [key, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) {
    process.stdout.write(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}\n`);
  }
};
show('by package', packages);
show('by function (self time)', functions);
