import { createKafka, type KafkaLogger } from './kafka-client';

function capturingLogger(): KafkaLogger & { lines: Array<[string, string]> } {
  const lines: Array<[string, string]> = [];
  return {
    lines,
    log: (message) => lines.push(['log', message]),
    warn: (message) => lines.push(['warn', message]),
    error: (message) => lines.push(['error', message]),
  };
}

describe('createKafka logging', () => {
  it('routes kafkajs levels to the logger and drops debug', () => {
    const logger = capturingLogger();
    const kafkaLogger = createKafka({ brokers: ['127.0.0.1:1'], clientId: 'unit' }, logger).logger();
    kafkaLogger.namespace('Producer').error('send failed', { retryCount: 2, broker: 'b:9092' });
    kafkaLogger.warn('careful');
    kafkaLogger.info('connected');
    kafkaLogger.debug('request details');
    expect(logger.lines).toEqual([
      ['error', 'kafkajs Producer: send failed {"retryCount":2,"broker":"b:9092"}'],
      ['warn', 'kafkajs: careful'],
      ['log', 'kafkajs: connected'],
    ]);
  });

  it('downgrades broker error responses the calling layer handles to warnings', () => {
    const logger = capturingLogger();
    const kafkaLogger = createKafka({ brokers: ['127.0.0.1:1'], clientId: 'unit' }, logger).logger();
    kafkaLogger
      .namespace('Connection')
      .error('Response CreateTopics(key: 19, version: 3)', { error: 'Topic creation errors' });
    kafkaLogger.namespace('Connection').error('Connection error: ECONNREFUSED');
    expect(logger.lines).toEqual([
      ['warn', 'kafkajs Connection: Response CreateTopics(key: 19, version: 3) {"error":"Topic creation errors"}'],
      ['error', 'kafkajs Connection: Connection error: ECONNREFUSED'],
    ]);
  });

  it('is silent without a logger', () => {
    const write = jest.spyOn(process.stdout, 'write');
    const writeErr = jest.spyOn(process.stderr, 'write');
    const consoleError = jest.spyOn(console, 'error');
    const consoleLog = jest.spyOn(console, 'log');
    try {
      createKafka({ brokers: ['127.0.0.1:1'], clientId: 'unit' })
        .logger()
        .error('nobody hears this');
      expect(write).not.toHaveBeenCalled();
      expect(writeErr).not.toHaveBeenCalled();
      expect(consoleError).not.toHaveBeenCalled();
      expect(consoleLog).not.toHaveBeenCalled();
    } finally {
      jest.restoreAllMocks();
    }
  });

  it('does not warn about the default partitioner when RoomProducer-style producers are created', () => {
    const logger = capturingLogger();
    const kafka = createKafka({ brokers: ['127.0.0.1:1'], clientId: 'unit' }, logger);
    kafka.producer({ createPartitioner: () => () => 0 });
    expect(logger.lines.filter(([, line]) => line.includes('partitioner'))).toEqual([]);
  });
});
