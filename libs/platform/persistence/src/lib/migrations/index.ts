import { InitialSchema1764288000000 } from './1764288000000-initial-schema';

/** Every migration in order; listed explicitly because bundled apps cannot glob for files. */
export const MIGRATIONS = [InitialSchema1764288000000];
