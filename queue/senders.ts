// Who sent a queue message: the IAM unique id SQS reports (`SenderId`), mapped to a workload of the
// catalog. Catalog roles are named by ARN; their unique ids come from IAM (GetRole) at start and
// again every few minutes, so a role deleted and created again (a new id) is not trusted by its
// old id, and a new one is picked up.
import type { CatalogWorkload } from '../policies/types.js';
import type { WorkloadMatcher } from '../policies/workloads.js';

const REFRESH_MS = 5 * 60_000;
/** An unknown sender triggers a refresh at most this often (a flood of strangers costs no IAM calls). */
const MISS_REFRESH_MS = 30_000;

export class SenderDirectory {
  private roleIds = new Map<string, string>();
  private refreshedAt = 0;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly workloads: WorkloadMatcher,
    private readonly roleUniqueId: (roleArn: string) => Promise<string | undefined>,
    private readonly warn: (message: string, detail: object) => void = () => {},
  ) {}

  /** Resolves every catalog sender role; a role IAM does not know is warned about and not trusted. */
  refresh(): Promise<void> {
    this.refreshing ??= (async () => {
      const next = new Map<string, string>();
      for (const arn of this.workloads.senderRoles()) {
        const id = await this.roleUniqueId(arn).catch((err: unknown) => {
          this.warn('could not resolve a sender role', { roleArn: arn, error: String(err) });
          return this.roleIds.get(arn); // keep the last good id through an IAM outage
        });
        if (id) next.set(arn, id);
        else this.warn('a catalog sender role does not exist in IAM', { roleArn: arn });
      }
      this.roleIds = next;
      this.refreshedAt = Date.now();
    })().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** The workload that sent a message, and the catalog role it sent as (when matched by role). */
  async lookup(senderId: string): Promise<{ workload: CatalogWorkload; awsRole?: string } | undefined> {
    if (Date.now() - this.refreshedAt > REFRESH_MS) await this.refresh();
    let found = this.workloads.forSender(senderId, this.roleIds);
    if (!found && Date.now() - this.refreshedAt > MISS_REFRESH_MS) {
      await this.refresh();
      found = this.workloads.forSender(senderId, this.roleIds);
    }
    return found;
  }
}
