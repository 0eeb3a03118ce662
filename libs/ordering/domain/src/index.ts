// Public API of @seqcast/ordering-domain: the pure sequencing rule and the store port it is applied
// through (implemented by @seqcast/ordering-data-access).
export {
  conflictReason,
  decodeRecord,
  encodeRaw,
  lookupKeys,
  sequenceBatch,
  sequenceRecords,
  type Conflict,
  type DecodedRecord,
  type Duplicate,
  type InputRecord,
  type PartitionContext,
  type SequenceContext,
  type SequenceResult,
} from './lib/sequencer';
export {
  idempotencyKey,
  type BatchWrite,
  type ClaimRequest,
  type CommitOutcome,
  type DeadLetterRecord,
  type GroupedBatch,
  type GroupedOutcome,
  type IdempotencyKey,
  type KnownState,
  type PartitionClaim,
  type PartitionRef,
  type SequencedBatch,
  type SequencerStore,
  type StoredCopy,
} from './lib/sequencer-store.port';
