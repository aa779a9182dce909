// Which catalog workload a caller is: a token's mapped attributes (api/auth/), or the IAM unique id
// SQS reports as a message's sender (the queue door). Exact matches only; no match is no workload.
import type { CatalogWorkload, TokenAttribute } from './types.js';

/** SQS `SenderId`: `<unique id>` for an IAM user, `<role unique id>:<session name>` for a role session. */
export function senderPrincipalId(senderId: string): string {
  return senderId.split(':')[0] ?? '';
}

export class WorkloadMatcher {
  constructor(private readonly workloads: readonly CatalogWorkload[]) {}

  all(): readonly CatalogWorkload[] {
    return this.workloads;
  }

  byName(name: string): CatalogWorkload | undefined {
    return this.workloads.find((w) => w.name === name);
  }

  /** The workload whose token entry for `issuer` is satisfied by these attributes. */
  forToken(issuer: string, attributes: Partial<Record<TokenAttribute, string>>): CatalogWorkload | undefined {
    const matching = this.workloads.filter((w) =>
      w.tokens.some(
        (t) =>
          t.issuer === issuer &&
          Object.entries(t.attributes).every(([key, value]) => attributes[key as TokenAttribute] === value),
      ),
    );
    // Two entries both satisfied (one asks for less than the other) is a catalog the broker will
    // not guess about.
    return matching.length === 1 ? matching[0] : undefined;
  }

  /** The workload a queue message's sender is: its unique id listed, or that of a listed role. */
  forSender(
    senderId: string,
    roleIds: ReadonlyMap<string, string>,
  ): { workload: CatalogWorkload; awsRole?: string } | undefined {
    const id = senderPrincipalId(senderId);
    if (!id) return undefined;
    for (const workload of this.workloads) {
      const role = workload.awsRoles.find((arn) => roleIds.get(arn) === id);
      if (role) return { workload, awsRole: role };
      if (workload.awsPrincipalIds.includes(id)) return { workload };
    }
    return undefined;
  }

  /** Every role ARN some workload sends from: the queue door resolves their unique ids. */
  senderRoles(): string[] {
    return [...new Set(this.workloads.flatMap((w) => w.awsRoles))];
  }
}
