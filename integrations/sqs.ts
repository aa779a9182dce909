// Every call to Amazon SQS goes through here: the queue door's long poll of the request queue.
// A message body may hold a Step Functions task token: it is handed to the caller, never logged.
import { DeleteMessageCommand, type Message, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { AwsClientOptions } from './aws.js';
import { traceAwsCalls } from './aws-tracing.js';

export function createSqsClient(opts: AwsClientOptions): SQSClient {
  return traceAwsCalls(
    new SQSClient({ region: opts.region, ...(opts.endpoint ? { endpoint: opts.endpoint } : {}) }),
  );
}

export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** The identity AWS authenticated for the sender: `<unique id>` or `<role unique id>:<session>`. */
  senderId: string;
  receiveCount: number;
}

/** Long polling: waits up to 20 s for messages, so an idle queue costs three calls a minute. */
export const LONG_POLL_SECONDS = 20;

export function sqsOperations(sqs: SQSClient) {
  return {
    async receive(queueUrl: string, signal?: AbortSignal): Promise<ReceivedMessage[]> {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: LONG_POLL_SECONDS,
          MessageSystemAttributeNames: ['SenderId', 'ApproximateReceiveCount'],
        }),
        signal ? { abortSignal: signal } : {},
      );
      return (out.Messages ?? []).flatMap((m: Message) =>
        m.MessageId && m.ReceiptHandle
          ? [
              {
                messageId: m.MessageId,
                receiptHandle: m.ReceiptHandle,
                body: m.Body ?? '',
                senderId: m.Attributes?.SenderId ?? '',
                receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
              },
            ]
          : [],
      );
    },

    async remove(queueUrl: string, receiptHandle: string): Promise<void> {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle }));
    },
  };
}

export type SqsOperations = ReturnType<typeof sqsOperations>;
