import crypto from 'node:crypto';
import { WaymarkError } from '../errors';
import type { JobQueue } from '../jobs/queue';
import type { Logger } from '../logging';
import type { EventOutbox, HookBus, OutboxEvent } from './bus';

/** The kernel's job that delivers one event to one subscriber. */
export const HOOK_DELIVERY_JOB = 'core.hook_delivery';
/** Attempts before a delivery goes dead; with the backoff below, about 40 minutes of retries. */
export const HOOK_DELIVERY_MAX_ATTEMPTS = 10;
export const HOOK_DELIVERY_BACKOFF_MS = 5000;

/** What a delivery job carries: the event, and which subscriber it is for. */
export interface HookDeliveryPayload {
  hook: string;
  event: string;
  subscriber: string;
  publishedAt: number;
  args: unknown;
}

/**
 * Whether a subscriber is there to receive an event: `active` (a core module, or a plugin enabled
 * in the database), `disabled` (a plugin switched off), `gone` (no such plugin any more).
 */
export type SubscriberState = 'active' | 'disabled' | 'gone';

export interface HookOutboxOptions {
  bus: HookBus;
  queue: JobQueue;
  logger: Logger;
  subscriberState(subscriber: string): Promise<SubscriberState>;
}

const MAX_DEDUPE_KEY = 191;

/** `<hook>:<eventId>:<subscriber>`, hashed when a long hook or plugin name would not fit the column. */
export function deliveryKey(hook: string, eventId: string, subscriber: string): string {
  const key = `${hook}:${eventId}:${subscriber}`;
  return key.length <= MAX_DEDUPE_KEY ? key : `${HOOK_DELIVERY_JOB}:${crypto.createHash('sha256').update(key).digest('hex')}`;
}

/**
 * The event outbox on the job queue: publish() enqueues one `core.hook_delivery` job per subscriber
 * in the caller's transaction (so a rolled-back change publishes nothing), and the job runs that
 * subscriber's handlers after commit, with the queue's retries, backoff and dead state.
 */
export function installHookOutbox(options: HookOutboxOptions): void {
  const { bus, queue, logger } = options;
  const outbox: EventOutbox = {
    async record(trx, event: OutboxEvent, subscribers) {
      for (const subscriber of subscribers) {
        const payload: HookDeliveryPayload = { hook: event.hook, event: event.id, subscriber, publishedAt: event.publishedAt, args: event.args };
        await queue.enqueue(HOOK_DELIVERY_JOB, payload, { trx, dedupeKey: deliveryKey(event.hook, event.id, subscriber) });
      }
    },
  };
  bus.useOutbox(outbox);
  queue.registrarFor('core').define<HookDeliveryPayload>({
    name: HOOK_DELIVERY_JOB,
    maxAttempts: HOOK_DELIVERY_MAX_ATTEMPTS,
    backoffMs: HOOK_DELIVERY_BACKOFF_MS,
    handler: async (job) => {
      const { hook, event, subscriber, publishedAt, args } = job.payload;
      const ran = await bus.deliver(hook, subscriber, args, { id: event, hook, subscriber, publishedAt, attempt: job.attempt });
      if (ran > 0) return { delivered: true, handlers: ran };
      const state = await options.subscriberState(subscriber);
      if (state !== 'active') {
        // Disabling a plugin stops its reactions at once, queued deliveries included; the skip is
        // logged and recorded as the job's result, so it is never silent.
        logger.warn('event not delivered: subscriber is not enabled', { hook, event, subscriber, state });
        return { delivered: false, reason: state === 'disabled' ? 'subscriber_disabled' : 'subscriber_gone' };
      }
      // Enabled, but not registered in this process (it failed to start here, or has not caught up
      // with an enable yet): retry, and end dead if it never comes.
      throw new WaymarkError('HOOK_SUBSCRIBER_UNAVAILABLE', `Subscriber ${subscriber} of ${hook} is enabled but has no handler in this process`);
    },
  });
  logger.debug('hook outbox installed', { job: HOOK_DELIVERY_JOB });
}
