/**
 * Deletes this instance's consumer group of the events topic on a clean shutdown. Every gateway
 * process is its own group (`seqcast-gateway-<instance>`, default `<host>-<pid>`) that starts at
 * the latest offset and never reads its commits back, so a group outliving its process is pure
 * clutter: one orphan per restart, listed by every `kafka-consumer-groups --list` until the
 * broker's offsets retention expires it (7 days by default; that is still what happens after a
 * crash, which runs no shutdown hook).
 *
 * Kept apart from the consumer's lifecycle (EventsConsumerService): Nest runs both shutdown hooks
 * together, so this one retries while the consumer is still leaving the group (NON_EMPTY_GROUP).
 * A group that stays non-empty (another live process configured with the same GATEWAY_INSTANCE_ID)
 * is left alone: Kafka refuses to delete a group with members.
 */
import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { Kafka } from '@seqcast/kafka';
import { EVENTS_CONSUMER_OPTIONS, KAFKA_CLIENT } from './delivery.tokens';
import type { EventsConsumerOptions } from './events-consumer.service';

/** Kafka error codes DeleteGroups answers per group. */
const GROUP_ID_NOT_FOUND = 69;
/** How long shutdown waits for the consumer to have left before giving up on the deletion. */
export const GROUP_CLEANUP_TIMEOUT_MS = 5_000;
const RETRY_MS = 200;

interface DeleteGroupsFailure {
  groups?: { errorCode?: number }[];
}

@Injectable()
export class GroupCleanupService implements OnApplicationShutdown {
  private readonly logger = new Logger(GroupCleanupService.name);

  constructor(
    @Inject(KAFKA_CLIENT) private readonly kafka: Kafka,
    @Inject(EVENTS_CONSUMER_OPTIONS) private readonly options: EventsConsumerOptions,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    const { groupId } = this.options;
    const deadline = Date.now() + GROUP_CLEANUP_TIMEOUT_MS;
    const admin = this.kafka.admin();
    let lastError = '';
    try {
      await admin.connect();
      for (;;) {
        try {
          await admin.deleteGroups([groupId]);
          this.logger.log(`deleted consumer group ${groupId}`);
          return;
        } catch (error) {
          const codes = (error as DeleteGroupsFailure).groups?.map((g) => g.errorCode) ?? [];
          if (codes.length > 0 && codes.every((code) => code === GROUP_ID_NOT_FOUND)) return;
          lastError = error instanceof Error ? error.message : String(error);
        }
        if (Date.now() + RETRY_MS > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      }
      this.logger.warn(
        `consumer group ${groupId} not deleted (${lastError}); the broker expires it after its offsets retention`,
      );
    } catch (error) {
      this.logger.warn(
        `consumer group ${groupId} not deleted: ${error instanceof Error ? error.message : String(error)}`,
      );
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}
