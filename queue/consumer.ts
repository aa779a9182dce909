// The long-poll loop of the queue door: receive up to 10 messages (waiting up to 20 s), decide each,
// delete those answered. A message left undeleted (the broker busy, Temporal away) comes back after
// the queue's visibility timeout; after maxReceiveCount the queue's redrive policy parks it.
import type { ReceivedMessage, SqsOperations } from '../integrations/sqs.js';
import type { HandoffDoor, Outcome } from './door.js';

export interface ConsumerDeps {
  sqs: Pick<SqsOperations, 'receive' | 'remove'>;
  queueUrl: string;
  door: Pick<HandoffDoor, 'handle'>;
  log: { info(detail: object, message: string): void; warn(detail: object, message: string): void };
  /** Called with each decision (tests, metrics). */
  onOutcome?: (message: ReceivedMessage, outcome: Outcome) => void;
}

export async function consume(deps: ConsumerDeps, signal: AbortSignal): Promise<void> {
  let failures = 0;
  while (!signal.aborted) {
    let messages: ReceivedMessage[];
    try {
      messages = await deps.sqs.receive(deps.queueUrl, signal);
      failures = 0;
    } catch (err) {
      if (signal.aborted) return;
      // SQS away: back off up to 30 s, then poll again.
      failures += 1;
      deps.log.warn({ error: String(err), failures }, 'receiving from the request queue failed');
      await sleep(Math.min(30_000, 500 * 2 ** failures), signal);
      continue;
    }
    await Promise.all(
      messages.map(async (message) => {
        let outcome: Outcome;
        try {
          outcome = await deps.door.handle(message);
        } catch (err) {
          outcome = { done: false, retry: String(err) };
        }
        deps.onOutcome?.(message, outcome);
        if (outcome.done) {
          await deps.sqs.remove(deps.queueUrl, message.receiptHandle).catch((err: unknown) => {
            // Redelivered later: the derived grant id makes that harmless.
            deps.log.warn({ messageId: message.messageId, error: String(err) }, 'could not delete a message');
          });
        } else {
          deps.log.warn(
            { messageId: message.messageId, receiveCount: message.receiveCount, retry: outcome.retry },
            'queue message left for a retry',
          );
        }
      }),
    );
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
