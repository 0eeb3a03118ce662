export * from './lib/dedicated-kafka';
export * from './lib/free-port';
export * from './lib/prometheus-sample';
export * from './lib/tcp-proxy';
export * from './lib/test-auth';
export * from './lib/test-database';
export * from './lib/test-kafka';
export * from './lib/wait-for';
