/**
 * A private single-node broker with a SASL_SSL listener that also requires a client certificate,
 * for tests of the transport security settings: a CA, the broker's and a client's certificates
 * are made with openssl in a temporary directory, the SCRAM users are written by the broker's own
 * StorageTool (kafka.sh KAFKA_SASL_USERS). Not the shared broker: its listeners cannot change.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runKafkaSh } from './kafka-sh';

const run = promisify(execFile);

// Fixed ports reserved for this suite (override when they clash with something local); integration
// suites run one at a time, so no other test competes for them. Below Linux's ephemeral range
// (32768-60999): there, any outgoing connection or freePort() may hold one at the wrong moment
// (a clean-clone CI run lost 33022 that way).
const BASE_PORT = Number(process.env['SEQCAST_SECURED_KAFKA_PORT'] ?? 29620);

export interface SecuredKafka {
  /** `127.0.0.1:<port>` of the SASL_SSL listener. */
  broker: string;
  caFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** Stops the broker and removes its data and certificates. */
  destroy(): Promise<void>;
}

async function openssl(cwd: string, ...args: string[]): Promise<void> {
  await run('openssl', args, { cwd });
}

/** A P-256 key and a certificate for `name` signed by the CA in `dir`, with `san` as subjectAltName. */
async function signedCertificate(dir: string, name: string, san?: string): Promise<void> {
  await openssl(
    dir,
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-subj',
    `/CN=${name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
  );
  const extensions = san ? ['-extfile', await extensionFile(dir, name, san)] : [];
  await openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-out',
    `${name}.crt`,
    ...extensions,
  );
}

async function extensionFile(dir: string, name: string, san: string): Promise<string> {
  const file = join(dir, `${name}.ext`);
  await writeFile(file, `subjectAltName=${san}\n`);
  return file;
}

/** Starts the broker (about a minute on a loaded machine: two JVM tools, then the broker). */
export async function startSecuredKafka(users: Record<string, string>): Promise<SecuredKafka> {
  const dir = await mkdtemp(join(tmpdir(), 'seqcast-secured-kafka-'));
  const keystorePassword = 'keystore-secret';
  await openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=seqcast-test-ca',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
  );
  // The broker is reached as 127.0.0.1: Node checks that name against the certificate.
  await signedCertificate(dir, 'broker', 'IP:127.0.0.1,DNS:localhost');
  await signedCertificate(dir, 'client');
  await openssl(
    dir,
    'pkcs12',
    '-export',
    '-in',
    'broker.crt',
    '-inkey',
    'broker.key',
    '-certfile',
    'ca.crt',
    '-out',
    'broker.p12',
    '-passout',
    `pass:${keystorePassword}`,
  );

  const env = {
    ...process.env,
    SEQCAST_LOCAL_DIR: join(dir, 'local'),
    KAFKA_PORT: String(BASE_PORT),
    KAFKA_CONTROLLER_PORT: String(BASE_PORT + 1),
    KAFKA_SASL_SSL_PORT: String(BASE_PORT + 2),
    KAFKA_SSL_KEYSTORE: join(dir, 'broker.p12'),
    KAFKA_SSL_KEYSTORE_PASSWORD: keystorePassword,
    KAFKA_SSL_CLIENT_CA_FILE: join(dir, 'ca.crt'),
    KAFKA_SASL_USERS: Object.entries(users)
      .map(([user, password]) => `${user}:${password}`)
      .join(','),
    KAFKA_HEAP: '256m',
    KAFKA_START_TIMEOUT_S: '120',
  };
  const kafkaSh = (command: 'start' | 'stop') => runKafkaSh(command, env);
  const destroy = async () => {
    await kafkaSh('stop').catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await kafkaSh('start');
  } catch (error) {
    await destroy();
    throw error;
  }
  return {
    broker: `127.0.0.1:${BASE_PORT + 2}`,
    caFile: join(dir, 'ca.crt'),
    clientCertFile: join(dir, 'client.crt'),
    clientKeyFile: join(dir, 'client.key'),
    destroy,
  };
}
