import type { Message } from '@seqcast/contracts';
import type { MessageEntity } from './entities';

export function toMessage(row: MessageEntity): Message {
  return {
    roomId: row.roomId,
    seq: row.seq,
    prevSeq: row.prevSeq,
    epoch: row.epoch,
    clientMsgId: row.clientMsgId,
    senderId: row.senderId,
    payload: row.payload,
    sentAt: row.sentAt.toISOString(),
    sequencedAt: row.sequencedAt.toISOString(),
  };
}
