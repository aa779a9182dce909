// .data/stack.json: where the running `npm start` stack listens (written once it is up, deleted when it
// stops), so `npm run dev-token` and scripts find it whatever ports it was given.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir } from './paths.js';

export interface StackInfo {
  apiUrl: string;
  oidcIssuer: string;
  temporalAddress: string;
  temporalUi: string;
  temporalMetrics: string;
  motoUrl: string;
  logs: string;
  /** The Node.js version the stack's processes run on. */
  node: string;
  /** The API's and the worker's current pids (updated when the supervisor restarts one). */
  pids: { api?: number; worker?: number };
}

export const stackFile = join(dataDir, 'stack.json');

/** The running stack's addresses, if `npm start` is up (or left the file behind). */
export function readStackInfo(file = stackFile): StackInfo | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StackInfo;
  } catch {
    return undefined;
  }
}
