// Turns the bundled workflow tracing interceptors (workflows/tracing.ts) on: a prelude like the
// verification keys', set from the worker's configuration.
import { TRACING_GLOBAL } from '../workflows/tracing.js';

export function withWorkflowTracing(bundle: { code: string }, on: boolean): { code: string } {
  if (!on) return bundle;
  const prelude = `Object.defineProperty(globalThis, ${JSON.stringify(TRACING_GLOBAL)}, { value: true, writable: false, configurable: false });\n`;
  return { code: prelude + bundle.code };
}
