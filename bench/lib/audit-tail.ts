// Follows the broker's audit store (read-only) so the benchmark sees when each step was durably
// recorded: the rows carry the worker's own timestamps, so no polling of the API skews a figure.
import Database from 'better-sqlite3';

export interface GrantEvents {
  /** recorded_at (ms) of each event type of the grant. */
  recorded: Map<string, number>;
  /** occurred_at (ms, workflow time) of each event type. */
  occurred: Map<string, number>;
  expiresAt?: number;
  /** recorded_at of the ledger row that added a deny entry for one of the grant's sessions. */
  ledgerRecordedAt?: number;
}

interface Row {
  position: number;
  grant_id: string;
  type: string;
  occurred_at: string;
  recorded_at: string;
  data: string;
}

export class AuditTail {
  private readonly db: Database.Database;
  private readonly stmt: Database.Statement;
  private last = 0;
  private timer: NodeJS.Timeout | undefined;
  private waiters: (() => void)[] = [];
  readonly grants = new Map<string, GrantEvents>();
  rows = 0;

  constructor(file: string) {
    this.db = new Database(file, { readonly: true, fileMustExist: true });
    this.db.pragma('busy_timeout = 5000');
    this.stmt = this.db.prepare(
      'select position, grant_id, type, occurred_at, recorded_at, data from audit_events where position > ? order by position limit 5000',
    );
  }

  private entry(grantId: string): GrantEvents {
    let g = this.grants.get(grantId);
    if (!g) {
      g = { recorded: new Map(), occurred: new Map() };
      this.grants.set(grantId, g);
    }
    return g;
  }

  /** Reads every row written since the last call. */
  poll(): void {
    for (;;) {
      const rows = this.stmt.all(this.last) as Row[];
      for (const row of rows) {
        this.last = row.position;
        this.rows += 1;
        const recordedAt = Date.parse(row.recorded_at);
        if (row.type === 'ledger.entries_added') {
          const { entries } = JSON.parse(row.data) as { entries: { grantId: string }[] };
          for (const e of entries) {
            const g = this.entry(e.grantId);
            g.ledgerRecordedAt ??= recordedAt;
          }
          continue;
        }
        if (!row.grant_id.startsWith('grant-')) continue;
        const g = this.entry(row.grant_id);
        g.recorded.set(row.type, recordedAt);
        g.occurred.set(row.type, Date.parse(row.occurred_at));
        if (row.type === 'grant.activated' || row.type === 'grant.extended') {
          g.expiresAt = Date.parse((JSON.parse(row.data) as { expiresAt: string }).expiresAt);
        }
      }
      if (rows.length < 5000) break;
    }
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  start(everyMs = 50): void {
    this.timer ??= setInterval(() => this.poll(), everyMs);
  }

  /** Resolves after the next poll. */
  next(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Waits until `done()` holds (checked after each poll); throws after `timeoutMs`. */
  async until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await this.next();
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const wake of this.waiters) wake();
    this.waiters = [];
    this.db.close();
  }
}
