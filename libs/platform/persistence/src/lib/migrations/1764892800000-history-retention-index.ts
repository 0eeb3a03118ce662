import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * History retention deletes messages by age (`sequenced_at`), every minute, in small batches: the
 * index keeps each batch a short range scan instead of a full scan of the messages table.
 */
export class HistoryRetentionIndex1764892800000 implements MigrationInterface {
  // Explicit so a minifying bundler cannot change the name recorded in the migrations table.
  name = 'HistoryRetentionIndex1764892800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "ix_seqcast_messages_sequenced_at" ON "seqcast_messages" ("sequenced_at")`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "ix_seqcast_messages_sequenced_at"`);
  }
}
