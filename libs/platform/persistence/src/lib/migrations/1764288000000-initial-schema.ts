import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The whole v1 schema, hand-written so review sees exactly what runs in production. Constraint
 * and index names match the entities, so TypeORM's schema diff of a migrated database is empty
 * (checked by the integration test). The first epoch is minted here so every reader sees the same
 * value from the first start; `'e' || 12 hex chars` like `newEpoch()`.
 */
export class InitialSchema1764288000000 implements MigrationInterface {
  // Explicit so a minifying bundler cannot change the name recorded in the migrations table.
  name = 'InitialSchema1764288000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "seqcast_meta" (
        "key" text NOT NULL,
        "value" text NOT NULL,
        CONSTRAINT "pk_seqcast_meta" PRIMARY KEY ("key")
      )`);
    await queryRunner.query(`
      INSERT INTO "seqcast_meta" ("key", "value")
      VALUES ('epoch', 'e' || substr(md5(random()::text || clock_timestamp()::text), 1, 12))`);

    await queryRunner.query(`
      CREATE TABLE "seqcast_messages" (
        "epoch" text NOT NULL,
        "room_id" text NOT NULL,
        "seq" bigint NOT NULL,
        "prev_seq" bigint,
        "partition" integer NOT NULL,
        "client_msg_id" text NOT NULL,
        "sender_id" text NOT NULL,
        "payload" jsonb NOT NULL,
        "sent_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        "sequenced_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "pk_seqcast_messages" PRIMARY KEY ("epoch", "room_id", "seq"),
        CONSTRAINT "uq_seqcast_messages_client_msg" UNIQUE ("epoch", "room_id", "client_msg_id")
      )`);
    await queryRunner.query(
      `CREATE INDEX "ix_seqcast_messages_partition_seq" ON "seqcast_messages" ("epoch", "partition", "seq")`,
    );

    await queryRunner.query(`
      CREATE TABLE "seqcast_partition_positions" (
        "epoch" text NOT NULL,
        "topic" text NOT NULL,
        "partition" integer NOT NULL,
        "next_offset" bigint NOT NULL,
        "published_offset" bigint NOT NULL,
        "generation" bigint NOT NULL,
        "owner" text NOT NULL,
        "updated_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "pk_seqcast_partition_positions" PRIMARY KEY ("epoch", "topic", "partition")
      )`);

    await queryRunner.query(`
      CREATE TABLE "seqcast_dead_letters" (
        "id" BIGSERIAL NOT NULL,
        "topic" text NOT NULL,
        "partition" integer NOT NULL,
        "offset" bigint NOT NULL,
        "reason" text NOT NULL,
        "key" text,
        "value" text,
        "created_at" TIMESTAMP WITH TIME ZONE NOT NULL,
        CONSTRAINT "pk_seqcast_dead_letters" PRIMARY KEY ("id"),
        CONSTRAINT "uq_seqcast_dead_letters_record" UNIQUE ("topic", "partition", "offset")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "seqcast_dead_letters"`);
    await queryRunner.query(`DROP TABLE "seqcast_partition_positions"`);
    await queryRunner.query(`DROP INDEX "ix_seqcast_messages_partition_seq"`);
    await queryRunner.query(`DROP TABLE "seqcast_messages"`);
    await queryRunner.query(`DROP TABLE "seqcast_meta"`);
  }
}
