import { kafkaLoggerFor } from './platform-resources';

describe('kafkaLoggerFor', () => {
  it('writes kafkajs lines under the Kafka context at their own level', () => {
    const calls: Array<[string, unknown, unknown]> = [];
    const logger = {
      log: (m: unknown, c: unknown) => calls.push(['log', m, c]),
      warn: (m: unknown, c: unknown) => calls.push(['warn', m, c]),
      error: (m: unknown, c: unknown) => calls.push(['error', m, c]),
    };
    const kafkaLogger = kafkaLoggerFor(logger);
    kafkaLogger.log('joined');
    kafkaLogger.warn('rebalancing');
    kafkaLogger.error('broker down');
    expect(calls).toEqual([
      ['log', 'joined', 'Kafka'],
      ['warn', 'rebalancing', 'Kafka'],
      ['error', 'broker down', 'Kafka'],
    ]);
  });
});
