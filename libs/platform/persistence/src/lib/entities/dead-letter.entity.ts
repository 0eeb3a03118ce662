import { Column, Entity, PrimaryGeneratedColumn, Unique } from 'typeorm';
import { bigintToNumber } from '../bigint.transformer';

/**
 * An input record the worker could not sequence (bad JSON, invalid fields, wrong key or
 * partition). Kept raw so an operator can inspect or replay it; the partition moves on.
 */
@Entity({ name: 'seqcast_dead_letters' })
@Unique('uq_seqcast_dead_letters_record', ['topic', 'partition', 'offset'])
export class DeadLetterEntity {
  /** bigserial; node-postgres hands int8 back as a string and generated columns take no transformer. */
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'pk_seqcast_dead_letters' })
  id!: string;

  @Column({ type: 'text' })
  topic!: string;

  @Column({ type: 'int' })
  partition!: number;

  @Column({ type: 'bigint', transformer: bigintToNumber })
  offset!: number;

  @Column({ type: 'text' })
  reason!: string;

  @Column({ type: 'text', nullable: true })
  key!: string | null;

  /** The raw value: UTF-8 text as is, anything else as `base64:` + base64 of the bytes. */
  @Column({ type: 'text', nullable: true })
  value!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}
