import { DEFAULT_EVENTS_TOPIC, DEFAULT_MESSAGES_TOPIC } from '@seqcast/contracts';
import { schemaFileName } from '@seqcast/api-docs';
import {
  type ClientToServerEvents,
  SERVER_BUSY_CONNECT_ERROR,
  SERVER_DRAINING_CONNECT_ERROR,
  type ServerToClientEvents,
  TOO_MANY_CONNECTIONS_CONNECT_ERROR,
  UNAUTHORIZED_CONNECT_ERROR,
} from '@seqcast/contracts/wire';

/*
 * The AsyncAPI 3 document describes Seqcast as one application: `receive` operations are what
 * clients/producers send to it, `send` operations what it emits. Event names and channels are kept
 * by hand (they are Socket.IO event names and topic names, not shapes); every payload is a $ref to
 * the JSON Schema file generated from the contracts, so shapes cannot drift.
 */

const payload = (name: string) => ({
  schemaFormat: 'application/schema+json;version=draft-07',
  schema: { $ref: `./schemas/${schemaFileName(name)}` },
});

interface SocketEvent {
  id: string;
  event: string;
  schema: string;
  summary: string;
}

const CLIENT_EVENTS = [
  {
    id: 'subscribe',
    event: 'subscribe',
    schema: 'SubscribeRequest',
    summary: 'Subscribe to a room; always sent with an ack id.',
  },
  {
    id: 'unsubscribe',
    event: 'unsubscribe',
    schema: 'UnsubscribeRequest',
    summary: 'Stop delivery of a room; always sent with an ack id.',
  },
  { id: 'ack', event: 'ack', schema: 'AckRequest', summary: 'Cumulative delivery acknowledgement; no ack id.' },
  {
    id: 'refresh',
    event: 'refresh',
    schema: 'RefreshRequest',
    summary: 'Hand the live socket a new token (any time, typically after token_expiring); always sent with an ack id.',
  },
  {
    id: 'presence',
    event: 'presence',
    schema: 'PresenceRequest',
    summary: "List a room's members across gateways; always sent with an ack id.",
  },
  {
    id: 'publish',
    event: 'publish',
    schema: 'SocketPublishRequest',
    summary: 'Publish one message on this connection (the HTTP publish over the socket); always sent with an ack id.',
  },
] as const satisfies readonly SocketEvent[];
const ACKS: readonly SocketEvent[] = [
  {
    id: 'subscribeAck',
    event: 'subscribe (ack)',
    schema: 'SubscribeAck',
    summary: 'The acknowledgement of subscribe (an ACK packet, first argument).',
  },
  {
    id: 'unsubscribeAck',
    event: 'unsubscribe (ack)',
    schema: 'UnsubscribeAck',
    summary: 'The acknowledgement of unsubscribe.',
  },
  {
    id: 'refreshAck',
    event: 'refresh (ack)',
    schema: 'RefreshAck',
    summary: 'The acknowledgement of refresh; revoked subscriptions were announced with unsubscribed before it.',
  },
  {
    id: 'presenceAck',
    event: 'presence (ack)',
    schema: 'PresenceAck',
    summary: 'The acknowledgement of presence: at most GATEWAY_PRESENCE_MAX_MEMBERS members, and whether there are more.',
  },
  {
    id: 'publishAck',
    event: 'publish (ack)',
    schema: 'SocketPublishAck',
    summary: 'The acknowledgement of publish: the HTTP 202 body as result, or the HTTP error code (with retryAfterMs for rate_limited and unavailable).',
  },
];
const SERVER_EVENTS = [
  {
    id: 'messages',
    event: 'messages',
    schema: 'MessagesEvent',
    summary: '1..n messages of one room, ascending seq; ack them with `ack`.',
  },
  {
    id: 'serverRestart',
    event: 'server_restart',
    schema: 'ServerRestartEvent',
    summary: 'The gateway drains; reconnect (elsewhere) after the delay.',
  },
  {
    id: 'slowConsumer',
    event: 'slow_consumer',
    schema: 'SlowConsumerEvent',
    summary: 'Backlog over the limit; the gateway disconnects the client.',
  },
  {
    id: 'tokenExpiring',
    event: 'token_expiring',
    schema: 'TokenExpiringEvent',
    summary: 'Sent once per token, GATEWAY_TOKEN_REFRESH_LEAD_MS before its exp; answer with refresh.',
  },
  {
    id: 'tokenExpired',
    event: 'token_expired',
    schema: 'TokenExpiredEvent',
    summary: 'exp passed without a successful refresh; the gateway disconnects the socket right after.',
  },
  {
    id: 'unsubscribed',
    event: 'unsubscribed',
    schema: 'UnsubscribedEvent',
    summary: 'The gateway ended a subscription the client did not ask to end (access_revoked); do not resubscribe.',
  },
  {
    id: 'presenceJoin',
    event: 'presence_join',
    schema: 'PresenceChangeEvent',
    summary: "A user's first socket joined a room this socket subscribed to with presence: true.",
  },
  {
    id: 'presenceLeave',
    event: 'presence_leave',
    schema: 'PresenceChangeEvent',
    summary: "A user's last socket left such a room (unsubscribe, disconnect, or its gateway's lease expired).",
  },
] as const satisfies readonly SocketEvent[];

// An event added to (or removed from) the wire's event maps fails `tsc` (and so the generate
// target) until it is documented here.
type Exact<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Assert<T extends true> = T;
type _ClientEvents = Assert<Exact<(typeof CLIENT_EVENTS)[number]['event'], keyof ClientToServerEvents>>;
type _ServerEvents = Assert<Exact<(typeof SERVER_EVENTS)[number]['event'], keyof ServerToClientEvents>>;

function socketMessage(e: SocketEvent) {
  return {
    name: e.event,
    title: e.event,
    summary: e.summary,
    contentType: 'application/json',
    payload: payload(e.schema),
  };
}

function kafkaMessage(name: string, schema: string, summary: string) {
  return {
    name,
    title: name,
    summary,
    contentType: 'application/json',
    payload: payload(schema),
    bindings: { kafka: { key: { type: 'string', description: 'The room id (UTF-8).' }, bindingVersion: '0.5.0' } },
  };
}

export function buildAsyncApiDocument(): Record<string, unknown> {
  const socketRef = { $ref: '#/channels/socket' };
  const socketMsg = (id: string) => ({ $ref: `#/channels/socket/messages/${id}` });
  const operations: Record<string, unknown> = {};
  for (const e of CLIENT_EVENTS) {
    const ack = ACKS.find((a) => a.id === `${e.id}Ack`);
    operations[`receive${e.id[0].toUpperCase()}${e.id.slice(1)}`] = {
      action: 'receive',
      channel: socketRef,
      summary: e.summary,
      messages: [socketMsg(e.id)],
      ...(ack ? { reply: { channel: socketRef, messages: [socketMsg(ack.id)] } } : {}),
    };
  }
  for (const e of SERVER_EVENTS) {
    operations[`send${e.id[0].toUpperCase()}${e.id.slice(1)}`] = {
      action: 'send',
      channel: socketRef,
      summary: e.summary,
      messages: [socketMsg(e.id)],
    };
  }
  operations['receiveIngestRecords'] = {
    action: 'receive',
    channel: { $ref: '#/channels/messagesTopic' },
    summary: 'The ordering worker consumes publishes (ingest-api and any other producer write them).',
    messages: [{ $ref: '#/channels/messagesTopic/messages/ingestRecord' }],
  };
  operations['sendEvents'] = {
    action: 'send',
    channel: { $ref: '#/channels/eventsTopic' },
    summary: 'The ordering worker publishes each stored message, at least once.',
    messages: [{ $ref: '#/channels/eventsTopic/messages/event' }],
  };

  return {
    asyncapi: '3.1.0',
    info: {
      title: 'Seqcast events',
      version: '1',
      description:
        'Socket.IO events of edge-gateway and the Kafka records of Seqcast. The prose contract, with ordering, replay and ack rules, is docs/protocol.md; the HTTP API is docs/openapi.json. Generated by `npm run contracts:generate` from libs/shared/contracts.',
      license: { name: 'Apache-2.0' },
    },
    servers: {
      gateway: {
        host: 'localhost:3001',
        pathname: '/socket.io/',
        protocol: 'ws',
        description:
          'edge-gateway: Socket.IO v5 over Engine.IO v4 (WebSocket or HTTP long-polling), default namespace.',
        security: [{ $ref: '#/components/securitySchemes/handshakeToken' }],
      },
      kafka: { host: '127.0.0.1:9092', protocol: 'kafka', description: 'The Kafka cluster; topics keyed by room id.' },
    },
    channels: {
      socket: {
        address: '/',
        title: 'Socket.IO default namespace',
        description: [
          'Events with an ack id are answered by an ACK packet carrying one argument.',
          `A refused handshake is a connect_error whose message is exactly \`${UNAUTHORIZED_CONNECT_ERROR}\` (missing, invalid or expired token: get a new one), \`${TOO_MANY_CONNECTIONS_CONNECT_ERROR}\` (the principal or client address holds as many sockets as allowed: retry later with backoff), \`${SERVER_DRAINING_CONNECT_ERROR}\` (the instance drains: connect to another one) or \`${SERVER_BUSY_CONNECT_ERROR}\` with data \`{ retryAfterMs }\` (the instance has as many handshakes in progress as it admits: retry after retryAfterMs plus jitter, not a failure).`,
          'A browser origin not in SEQCAST_ALLOWED_ORIGINS is refused before Socket.IO (HTTP 403 on the polling handshake, 400 on a WebSocket upgrade; a transport connect_error): do not retry.',
        ].join(' '),
        servers: [{ $ref: '#/servers/gateway' }],
        messages: Object.fromEntries(
          [...CLIENT_EVENTS, ...ACKS, ...SERVER_EVENTS].map((e) => [e.id, socketMessage(e)]),
        ),
      },
      messagesTopic: {
        address: DEFAULT_MESSAGES_TOPIC,
        title: 'Messages topic (input)',
        description: 'Records dead-lettered by the worker when invalid; SEQCAST_MESSAGES_TOPIC renames it.',
        servers: [{ $ref: '#/servers/kafka' }],
        messages: { ingestRecord: kafkaMessage('IngestRecord', 'IngestRecord', 'One publish, keyed by room id.') },
      },
      eventsTopic: {
        address: DEFAULT_EVENTS_TOPIC,
        title: 'Events topic (output)',
        description: "Same partition as the room's input records; SEQCAST_EVENTS_TOPIC renames it.",
        servers: [{ $ref: '#/servers/kafka' }],
        messages: { event: kafkaMessage('Message', 'Message', 'A sequenced message, keyed by room id.') },
      },
    },
    operations,
    components: {
      securitySchemes: {
        handshakeToken: {
          type: 'httpApiKey',
          name: 'token',
          in: 'query',
          description:
            'The HS256 JWT goes in the Socket.IO CONNECT packet payload `{"token": "..."}` (see HandshakeAuth), not in the URL; AsyncAPI has no scheme for that.',
        },
      },
    },
  };
}
