import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * API keys for backend publishers (hashed, scoped to room patterns per capability, revocable).
 * A name is unique among keys that are not revoked, so a rotated key can reuse its name.
 */
export class ApiKeys1764993612000 implements MigrationInterface {
  // Explicit so a minifying bundler cannot change the name recorded in the migrations table.
  name = 'ApiKeys1764993612000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "seqcast_api_keys" (
        "id" uuid NOT NULL DEFAULT gen_random_uuid(),
        "name" text NOT NULL,
        "key_hash" char(64) NOT NULL,
        "display_prefix" text NOT NULL,
        "publish_patterns" text[] NOT NULL DEFAULT '{}',
        "subscribe_patterns" text[] NOT NULL DEFAULT '{}',
        "history_patterns" text[] NOT NULL DEFAULT '{}',
        "created_at" timestamptz NOT NULL DEFAULT now(),
        "revoked_at" timestamptz,
        CONSTRAINT "pk_seqcast_api_keys" PRIMARY KEY ("id"),
        CONSTRAINT "uq_seqcast_api_keys_key_hash" UNIQUE ("key_hash")
      )`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX "uq_seqcast_api_keys_active_name" ON "seqcast_api_keys" ("name") WHERE "revoked_at" IS NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "seqcast_api_keys"`);
  }
}
