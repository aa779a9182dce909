// Names and ARNs shared by the CDK app, the catalog check and the broker: one place, so a role the
// app creates and the ARN the catalog names cannot drift apart.
import { REVOCATION_POLICY_NAME } from '../../common/revocation-policy.js';

export { REVOCATION_POLICY_NAME };

/** Path of every target role; the broker may assume, and the ledger writer may edit, only roles here. */
export const TARGET_ROLE_PATH = '/jit/';
/** Path of the broker's own roles (broker, ledger writer): outside TARGET_ROLE_PATH, so no grant touches them. */
export const BROKER_ROLE_PATH = '/jit-broker/';
export const BROKER_ROLE_NAME = 'jit-broker';
/** Fixed name, so the broker can derive the writer's ARN in every target account. */
export const LEDGER_WRITER_ROLE_NAME = 'jit-ledger-writer';
/** Path of the boundary policies the app creates. */
export const BOUNDARY_POLICY_PATH = '/jit-broker/';

/** The only session tags the broker sets (workflows/grant.ts); target roles accept no others. */
export const SESSION_TAG_KEYS = ['jit-grant', 'jit-requester', 'jit-ticket'] as const;
/** Tag on every target role; the broker's AssumeRole permission requires it besides the path. */
export const TARGET_ROLE_TAG = { key: 'jit-target', value: 'true' } as const;

export const targetRoleArn = (account: string, roleName: string, partition = 'aws') =>
  `arn:${partition}:iam::${account}:role${TARGET_ROLE_PATH}${roleName}`;

export const ledgerWriterRoleArn = (account: string, partition = 'aws') =>
  `arn:${partition}:iam::${account}:role${BROKER_ROLE_PATH}${LEDGER_WRITER_ROLE_NAME}`;

export const brokerRoleArn = (account: string, partition = 'aws') =>
  `arn:${partition}:iam::${account}:role${BROKER_ROLE_PATH}${BROKER_ROLE_NAME}`;
