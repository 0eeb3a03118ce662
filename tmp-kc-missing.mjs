import { Producer } from '@platformatic/kafka';
const p = new Producer({ clientId: 'x', bootstrapBrokers: ['127.0.0.1:19392'], idempotent: true, acks: -1, autocreateTopics: false, retries: 1 });
try { await p.send({ messages: [{ topic: 'nope.missing.x', partition: 0, key: Buffer.from('a'), value: Buffer.from('b') }] }); } catch (e) { console.log(e.name, e.code, e.message, e.cause && (e.cause.code + ' ' + e.cause.message + ' ' + e.cause.apiId), JSON.stringify(e, null, 1).slice(0, 800)); }
await p.close();
