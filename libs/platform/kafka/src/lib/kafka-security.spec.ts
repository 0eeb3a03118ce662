import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSSASLAuthenticationError } from 'kafkajs';
import { securityOptions } from './kafka-client';
import { explainKafkaConfigurationError, KafkaConfigurationError } from './kafka-configuration-error';
import { KafkaUnavailableError } from './kafka-errors';

describe('securityOptions', () => {
  it('is plaintext without authentication when neither is set', () => {
    expect(securityOptions({})).toEqual({});
  });

  it('passes the CA, client certificate and verification flag to TLS, and SASL credentials as given', () => {
    expect(
      securityOptions({
        ssl: { ca: 'CA', cert: 'CERT', key: 'KEY', rejectUnauthorized: true },
        sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'p' },
      }),
    ).toEqual({
      ssl: { ca: 'CA', cert: 'CERT', key: 'KEY', rejectUnauthorized: true },
      sasl: { mechanism: 'scram-sha-256', username: 'u', password: 'p' },
    });
  });

  it('leaves out an absent CA so Node uses its public roots', () => {
    expect(securityOptions({ ssl: { rejectUnauthorized: false } })).toEqual({ ssl: { rejectUnauthorized: false } });
  });
});

describe('explainKafkaConfigurationError', () => {
  it('names the SASL variables when the broker refuses the credentials', () => {
    // kafkajs' typings declare this error without constructor arguments; the runtime takes a message.
    const SaslError = KafkaJSSASLAuthenticationError as unknown as new (message: string) => Error;
    const explained = explainKafkaConfigurationError(
      new SaslError('SASL SCRAM SHA256 authentication failed: Invalid username or password'),
    );
    expect(explained).toBeInstanceOf(KafkaConfigurationError);
    expect(explained?.message).toMatch(/KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD \(or KAFKA_SASL_PASSWORD_FILE\)/);
  });

  it("names the CA variable when the certificate is not trusted, through kafkajs' retry wrapper", () => {
    const lastAttempt = new KafkaJSConnectionError('Connection error: self-signed certificate in certificate chain', {
      broker: 'b:9093',
      code: 'SELF_SIGNED_CERT_IN_CHAIN',
    } as never);
    const explained = explainKafkaConfigurationError(
      new KafkaJSNumberOfRetriesExceeded(lastAttempt, { retryCount: 5, retryTime: 3000 } as never),
    );
    expect(explained?.message).toMatch(/^Kafka's TLS certificate was not accepted .*: set KAFKA_SSL_CA_FILE/);
  });

  it('names SEQCAST_REPLICATION_FACTOR when the cluster has too few brokers', () => {
    // The shape kafkajs' KafkaJSProtocolError has for this broker answer.
    const error = Object.assign(new Error('Replication factor: 3 larger than available brokers: 1.'), {
      name: 'KafkaJSProtocolError',
      type: 'INVALID_REPLICATION_FACTOR',
    });
    expect(explainKafkaConfigurationError(error)?.message).toMatch(/lower SEQCAST_REPLICATION_FACTOR/);
  });

  it('leaves availability problems alone (those are waited for)', () => {
    expect(
      explainKafkaConfigurationError(new KafkaJSConnectionError('Connection error: ECONNREFUSED')),
    ).toBeUndefined();
    expect(explainKafkaConfigurationError(new KafkaUnavailableError('down'))).toBeUndefined();
  });
});
