import { ApiKeyEntity } from './api-key.entity';
import { DeadLetterEntity } from './dead-letter.entity';
import { MessageEntity } from './message.entity';
import { MetaEntity } from './meta.entity';
import { PartitionPositionEntity } from './partition-position.entity';

export { ApiKeyEntity, DeadLetterEntity, MessageEntity, MetaEntity, PartitionPositionEntity };
export { EPOCH_KEY } from './meta.entity';

export const ENTITIES = [MetaEntity, MessageEntity, PartitionPositionEntity, DeadLetterEntity, ApiKeyEntity];
