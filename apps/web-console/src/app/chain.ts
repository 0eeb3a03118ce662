/**
 * What the console shows next to each message: whether it names the message before it as
 * `prevSeq` (the protocol's proof that nothing in between was missed).
 */
export interface ChainedMessage {
  seq: number;
  prevSeq: number | null;
}

export type ChainMark = 'first' | 'ok' | 'broken';

/** One mark per message, in the given (delivery) order. The first shown message cannot be checked. */
export function chainMarks(messages: readonly ChainedMessage[]): ChainMark[] {
  return messages.map((message, i) => {
    if (i === 0) return 'first';
    const previous = messages[i - 1];
    return message.prevSeq === previous.seq && message.seq > previous.seq ? 'ok' : 'broken';
  });
}

/** True when every shown message chains onto the one before it. */
export function chainIntact(messages: readonly ChainedMessage[]): boolean {
  return chainMarks(messages).every((mark) => mark !== 'broken');
}
