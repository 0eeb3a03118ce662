import { Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';

/**
 * A backend publisher's API key. Only the SHA-256 of the key is stored (the key is shown once, at
 * creation); `display_prefix` lets an operator tell keys apart in listings and logs.
 */
@Entity({ name: 'seqcast_api_keys' })
@Unique('uq_seqcast_api_keys_key_hash', ['keyHash'])
// One active key per name; a revoked key's name may be reused.
@Index('uq_seqcast_api_keys_active_name', ['name'], { unique: true, where: '"revoked_at" IS NULL' })
export class ApiKeyEntity {
  @PrimaryGeneratedColumn('uuid', { primaryKeyConstraintName: 'pk_seqcast_api_keys' })
  id!: string;

  @Column({ type: 'text' })
  name!: string;

  /** Hex SHA-256 of the whole key; unique, the lookup on every cache miss. */
  @Column({ name: 'key_hash', type: 'char', length: 64 })
  keyHash!: string;

  @Column({ name: 'display_prefix', type: 'text' })
  displayPrefix!: string;

  @Column({ name: 'publish_patterns', type: 'text', array: true, default: () => "'{}'" })
  publishPatterns!: string[];

  @Column({ name: 'subscribe_patterns', type: 'text', array: true, default: () => "'{}'" })
  subscribePatterns!: string[];

  @Column({ name: 'history_patterns', type: 'text', array: true, default: () => "'{}'" })
  historyPatterns!: string[];

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}
