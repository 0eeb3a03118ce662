import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Idempotency becomes per sender: (epoch, room, sender, clientMsgId) instead of
 * (epoch, room, clientMsgId), so one sender can no longer make another's message disappear by
 * re-using its id. Every v1 row stays valid: rows unique without the sender are unique with it.
 *
 * `payload_fingerprint` lets the worker tell a retry (same payload, dropped) from a re-used key
 * (different payload, dead-lettered as a conflict). It is nullable and not backfilled: v1 rows
 * have no fingerprint, and a copy colliding with one is treated as a plain duplicate, as in v1.
 *
 * The new unique index is built before the old one is dropped, within the migration's
 * transaction, so no moment exists without a uniqueness guarantee. Building it holds a lock that
 * blocks writes to seqcast_messages for the length of one index build; on a very large table run
 * this migration in a quiet moment (readers are not blocked).
 */
export class SenderScopedIdempotency1765065600000 implements MigrationInterface {
  // Explicit so a minifying bundler cannot change the name recorded in the migrations table.
  name = 'SenderScopedIdempotency1765065600000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE "seqcast_messages" ADD "payload_fingerprint" text`);
    await queryRunner.query(
      `ALTER TABLE "seqcast_messages" ADD CONSTRAINT "uq_seqcast_messages_sender_client_msg"
         UNIQUE ("epoch", "room_id", "sender_id", "client_msg_id")`,
    );
    await queryRunner.query(`ALTER TABLE "seqcast_messages" DROP CONSTRAINT "uq_seqcast_messages_client_msg"`);
  }

  /** Fails (and changes nothing) if two senders already share a clientMsgId in a room: v1 cannot hold both. */
  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "seqcast_messages" ADD CONSTRAINT "uq_seqcast_messages_client_msg"
         UNIQUE ("epoch", "room_id", "client_msg_id")`,
    );
    await queryRunner.query(`ALTER TABLE "seqcast_messages" DROP CONSTRAINT "uq_seqcast_messages_sender_client_msg"`);
    await queryRunner.query(`ALTER TABLE "seqcast_messages" DROP COLUMN "payload_fingerprint"`);
  }
}
