// A policy, schema or catalog problem found at load time. Start-up stops on it, so the message must
// point the operator at the exact place: `file:line:column: problem`, one line per problem.

export interface LoadProblem {
  file: string;
  /** 1-based; absent when the source gives no location. */
  line?: number;
  column?: number;
  problem: string;
}

export class PolicyLoadError extends Error {
  override readonly name = 'PolicyLoadError';
  readonly code = 'policy_load_failed';
  readonly problems: LoadProblem[];

  constructor(problems: LoadProblem[]) {
    super(problems.map(describeProblem).join('\n'));
    this.problems = problems;
  }

  /** Where the first problem is. */
  get file(): string {
    return this.problems[0]?.file ?? '';
  }

  get line(): number | undefined {
    return this.problems[0]?.line;
  }
}

export function describeProblem({ file, line, column, problem }: LoadProblem): string {
  const where = line === undefined ? file : `${file}:${line}:${column ?? 1}`;
  return `${where}: ${problem}`;
}

/**
 * 1-based line and column of a Cedar source offset. Cedar (Rust) reports UTF-8 byte offsets; columns
 * are counted in characters so they match what an editor shows.
 */
export function lineColumnAt(text: string, byteOffset: number): { line: number; column: number } {
  const before = Buffer.from(text, 'utf8').subarray(0, byteOffset).toString('utf8');
  const lines = before.split('\n');
  return { line: lines.length, column: [...(lines.at(-1) ?? '')].length + 1 };
}
