import { Column, Entity, PrimaryColumn } from 'typeorm';
import { bigintToNumber } from '../bigint.transformer';

const PK = 'pk_seqcast_partition_positions';

/**
 * The truth about how far a partition of the input topic has been sequenced (`next_offset`) and
 * how far its messages have been republished (`published_offset`), per epoch. `generation` fences
 * workers: each claim bumps it and every batch commit checks it under a row lock.
 */
@Entity({ name: 'seqcast_partition_positions' })
export class PartitionPositionEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: PK })
  epoch!: string;

  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: PK })
  topic!: string;

  @PrimaryColumn({ type: 'int', primaryKeyConstraintName: PK })
  partition!: number;

  @Column({ name: 'next_offset', type: 'bigint', transformer: bigintToNumber })
  nextOffset!: number;

  @Column({ name: 'published_offset', type: 'bigint', transformer: bigintToNumber })
  publishedOffset!: number;

  @Column({ type: 'bigint', transformer: bigintToNumber })
  generation!: number;

  @Column({ type: 'text' })
  owner!: string;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
