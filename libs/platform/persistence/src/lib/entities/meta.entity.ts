import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Key/value facts about this database; today only `epoch`, the incarnation of the numbering. */
@Entity({ name: 'seqcast_meta' })
export class MetaEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_seqcast_meta' })
  key!: string;

  @Column({ type: 'text' })
  value!: string;
}

export const EPOCH_KEY = 'epoch';
