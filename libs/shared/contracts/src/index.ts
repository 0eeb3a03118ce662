export * from './lib/errors';
export * from './lib/http-api';
export * from './lib/identifiers';
export * from './lib/message';
export * from './lib/socket-api';
export * from './lib/topics';
export * from './lib/validation';
export * from './wire';
