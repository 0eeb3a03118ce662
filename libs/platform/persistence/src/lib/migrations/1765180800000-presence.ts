import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Presence (docs/protocol.md "Presence"): who is in a room, shared by every gateway. Each gateway
 * incarnation holds a lease it renews; each row of seqcast_presence is one socket of one user in
 * one room on one gateway. A crashed gateway stops renewing, and any other gateway's sweep deletes
 * the rows of gateways without a live lease, so its members leave within the lease TTL.
 * The primary key's order (room, user, ...) serves "distinct users of a room, by user id".
 */
export class Presence1765180800000 implements MigrationInterface {
  // Explicit so a minifying bundler cannot change the name recorded in the migrations table.
  name = 'Presence1765180800000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "seqcast_gateway_leases" (
        "gateway_id" text NOT NULL,
        "expires_at" timestamptz NOT NULL,
        CONSTRAINT "pk_seqcast_gateway_leases" PRIMARY KEY ("gateway_id")
      )`);
    await queryRunner.query(`
      CREATE TABLE "seqcast_presence" (
        "room_id" text NOT NULL,
        "user_id" text NOT NULL,
        "gateway_id" text NOT NULL,
        "connection_id" text NOT NULL,
        "joined_at" timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT "pk_seqcast_presence" PRIMARY KEY ("room_id", "user_id", "gateway_id", "connection_id")
      )`);
    await queryRunner.query(`CREATE INDEX "ix_seqcast_presence_gateway" ON "seqcast_presence" ("gateway_id")`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "seqcast_presence"`);
    await queryRunner.query(`DROP TABLE "seqcast_gateway_leases"`);
  }
}
