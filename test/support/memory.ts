import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Live heap (after a full GC) in bytes; V8 lets us expose gc at run time. */
export function liveHeap(): () => number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    return process.memoryUsage().heapUsed;
  };
}
