import { Column, Entity, Index, PrimaryColumn, Unique } from 'typeorm';
import type { JsonValue } from '@seqcast/contracts';
import { bigintToNumber } from '../bigint.transformer';

const PK = 'pk_seqcast_messages';

/**
 * One sequenced message. `seq` is the Kafka offset of the first accepted copy, so it is unique
 * per (epoch, room) and, per partition, increases with the input log; `prev_seq` chains a room.
 * The (epoch, partition, seq) index serves the outbox scan after a crash; the sequenced_at one,
 * history retention. Idempotency is per sender: (epoch, room, sender, clientMsgId) is unique.
 */
@Entity({ name: 'seqcast_messages' })
@Unique('uq_seqcast_messages_sender_client_msg', ['epoch', 'roomId', 'senderId', 'clientMsgId'])
@Index('ix_seqcast_messages_partition_seq', ['epoch', 'partition', 'seq'])
@Index('ix_seqcast_messages_sequenced_at', ['sequencedAt'])
export class MessageEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: PK })
  epoch!: string;

  @PrimaryColumn({ name: 'room_id', type: 'text', primaryKeyConstraintName: PK })
  roomId!: string;

  @PrimaryColumn({ type: 'bigint', transformer: bigintToNumber, primaryKeyConstraintName: PK })
  seq!: number;

  @Column({ name: 'prev_seq', type: 'bigint', nullable: true, transformer: bigintToNumber })
  prevSeq!: number | null;

  @Column({ type: 'int' })
  partition!: number;

  @Column({ name: 'client_msg_id', type: 'text' })
  clientMsgId!: string;

  @Column({ name: 'sender_id', type: 'text' })
  senderId!: string;

  @Column({ type: 'jsonb' })
  payload!: JsonValue;

  /** payloadFingerprint() of the payload, to tell a retry from a re-used key; null on v1 rows. */
  @Column({ name: 'payload_fingerprint', type: 'text', nullable: true })
  payloadFingerprint!: string | null;

  @Column({ name: 'sent_at', type: 'timestamptz' })
  sentAt!: Date;

  @Column({ name: 'sequenced_at', type: 'timestamptz' })
  sequencedAt!: Date;
}
