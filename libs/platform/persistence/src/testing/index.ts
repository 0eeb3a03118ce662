// Test support of @seqcast/persistence (`@seqcast/persistence/testing`): for tests only.
import { InitialSchema1764288000000 } from '../lib/migrations/1764288000000-initial-schema';
import { HistoryRetentionIndex1764892800000 } from '../lib/migrations/1764892800000-history-retention-index';

/** The schema exactly as v1 deployed it, to prove later migrations against v1 data. */
export const V1_MIGRATIONS = [InitialSchema1764288000000, HistoryRetentionIndex1764892800000];
