// The Step Functions handoff on the local stack: the request queue the queue door polls, its own
// IAM user (least privilege, as infra/stepfunctions/deploy-pipeline.cfn.yaml gives it in AWS), and
// the example pipeline's role that the shipped catalog maps to the deploy-pipeline workload.
// moto's interpreter cannot run state machines while IAM is enforced (README, "Step Functions"),
// so on the local stack messages are sent by hand or by the tests' own moto.
import { join } from 'node:path';
import { CreateRoleCommand, EntityAlreadyExistsException, IAMClient } from '@aws-sdk/client-iam';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { dataDir } from '../paths.js';
import { DEV_ACCOUNT_ID, type DevCredentials, ensureUser, motoAuthAfter } from './seed.js';

export const HANDOFF_QUEUE = 'jit-broker-requests';
export const QUEUE_DOOR_USER = 'jit-queue-door';
export const PIPELINE_ROLE = 'jit-deploy-pipeline-sfn';

const queueDoorPolicy = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: [
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:GetQueueAttributes',
      ],
      Resource: `arn:aws:sqs:*:${DEV_ACCOUNT_ID}:${HANDOFF_QUEUE}`,
    },
    {
      Effect: 'Allow',
      Action: 'iam:GetRole',
      Resource: `arn:aws:iam::${DEV_ACCOUNT_ID}:role/${PIPELINE_ROLE}`,
    },
    {
      Effect: 'Allow',
      Action: ['states:DescribeExecution', 'states:DescribeStateMachine', 'states:SendTaskFailure'],
      Resource: '*',
    },
  ],
});

export async function seedHandoff(
  endpoint: string,
  keysDir = join(dataDir, 'aws'),
  region = 'us-east-1',
): Promise<{ queueUrl: string; door: DevCredentials }> {
  await motoAuthAfter(endpoint, 1_000_000);
  const config = { endpoint, region, credentials: { accessKeyId: 'seed', secretAccessKey: 'seed' } };
  const iam = new IAMClient(config);
  const sqs = new SQSClient(config);
  try {
    const door = await ensureUser(iam, QUEUE_DOOR_USER, queueDoorPolicy, keysDir);
    await iam
      .send(
        new CreateRoleCommand({
          RoleName: PIPELINE_ROLE,
          AssumeRolePolicyDocument: JSON.stringify({
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Principal: { Service: 'states.amazonaws.com' }, Action: 'sts:AssumeRole' },
            ],
          }),
        }),
      )
      .catch((err: unknown) => {
        if (!(err instanceof EntityAlreadyExistsException)) throw err;
      });
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({
        QueueName: HANDOFF_QUEUE,
        Attributes: { ReceiveMessageWaitTimeSeconds: '20' },
      }),
    );
    if (!QueueUrl) throw new Error('moto returned no queue URL');
    return { queueUrl: QueueUrl, door };
  } finally {
    iam.destroy();
    sqs.destroy();
    await motoAuthAfter(endpoint, 0);
  }
}
