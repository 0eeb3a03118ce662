import { InitialSchema1764288000000 } from './1764288000000-initial-schema';
import { HistoryRetentionIndex1764892800000 } from './1764892800000-history-retention-index';
import { ApiKeys1764993612000 } from './1764993612000-api-keys';
import { SenderScopedIdempotency1765065600000 } from './1765065600000-sender-scoped-idempotency';
import { Presence1765180800000 } from './1765180800000-presence';

/** Every migration in order; listed explicitly because bundled apps cannot glob for files. */
export const MIGRATIONS = [
  InitialSchema1764288000000,
  HistoryRetentionIndex1764892800000,
  ApiKeys1764993612000,
  SenderScopedIdempotency1765065600000,
  Presence1765180800000,
];
