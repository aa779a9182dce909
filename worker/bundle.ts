// The workflow bundle. Production (dist/, `npm run build`) ships it prebuilt next to the worker, so a
// worker starts without webpack. Development builds it at start in a child process: webpack and its
// loaders take about 115 MB of RSS that the worker would otherwise keep for its whole life (measured
// with bench/rss-probe.mts).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { workflowInterceptorsPath, workflowsPath } from './worker.js';

/**
 * Libraries the workflows import, evaluated once per worker and shared by every workflow (the SDK
 * deep-freezes them). Without this, the SDK evaluates each module anew inside every workflow it
 * creates: zod alone then costs hundreds of kB of heap per cached grant and CPU per activation.
 * Only stateless libraries belong here; our own modules stay per workflow.
 */
export const sharedWorkflowModules = [
  'zod',
  '@noble/curves/ed25519.js',
  '@noble/hashes/sha2.js',
  '@noble/hashes/utils.js',
  '@scure/base',
  'confusables',
];

/** Where `npm run build` writes the bundle: dist/worker/workflow-bundle.js, beside the compiled worker. */
export const prebuiltBundlePath = fileURLToPath(new URL('./workflow-bundle.js', import.meta.url));

/**
 * The prebuilt bundle's code when there is one, else a bundle built now. `{ code }` rather than a
 * path, so code can be put in front of it before the worker loads it.
 */
export async function workflowBundle(): Promise<{ code: string; prebuilt: boolean }> {
  if (existsSync(prebuiltBundlePath))
    return { code: readFileSync(prebuiltBundlePath, 'utf8'), prebuilt: true };
  return { ...(await bundleWorkflowsInChildProcess()), prebuilt: false };
}

const childScript = `
const { bundleWorkflowCode } = await import(process.argv[1]);
const quiet = () => {};
const logger = { trace: quiet, debug: quiet, info: quiet, log: quiet, warn: quiet, error: (m, meta) => console.error(m, meta ?? '') };
const { code } = await bundleWorkflowCode({
  workflowsPath: process.argv[2],
  workflowInterceptorModules: [process.argv[3]],
  preloadModules: JSON.parse(process.argv[4]),
  logger,
});
process.stdout.write(code);
`;

export function bundleWorkflowsInChildProcess(
  path: string = workflowsPath,
  interceptors: string = workflowInterceptorsPath,
): Promise<{ code: string }> {
  const sdk = import.meta.resolve('@temporalio/worker');
  return new Promise((resolve, reject) => {
    const preload = JSON.stringify(sharedWorkflowModules);
    const child = spawn(
      process.execPath,
      ['--input-type=module', '-e', childScript, sdk, path, interceptors, preload],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const chunks: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) resolve({ code: Buffer.concat(chunks).toString('utf8') });
      else reject(new Error(`bundling the workflows failed (exit ${code ?? signal})`));
    });
  });
}
