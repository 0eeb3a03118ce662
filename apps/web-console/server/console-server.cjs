/**
 * The console's development server (started by `npm run start:local` and the browser test): serves
 * the built console, forwards `/v1/*` to ingest-api so publishing is same-origin (ingest-api needs
 * no CORS for the console), tells the page where the gateway is, and, outside production only,
 * mints short-lived HS256 development tokens so a person can sign in without a token at hand.
 *
 * Environment: CONSOLE_PORT (3003), CONSOLE_HOST (127.0.0.1), INGEST_URL (http://127.0.0.1:3000),
 * GATEWAY_URL as the browser reaches it (http://127.0.0.1:3001), SEQCAST_JWT_SECRET (the services'
 * development secret when unset), NODE_ENV (`production` turns dev tokens off, whatever else is set).
 */
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const jwt = require('jsonwebtoken');

/** The services' development default (libs/shared/config DEV_JWT_SECRET); never valid in production. */
const DEV_JWT_SECRET = 'seqcast-dev-secret-do-not-use-in-production';
const DEV_TOKEN_TTL_SECONDS = 3600;
const MAX_BODY_BYTES = 64 * 1024;
const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/**
 * @param {{ staticDir: string, ingestUrl: string, gatewayUrl: string, devTokenSecret?: string, log?: (line: string) => void }} options
 * `devTokenSecret` undefined: no dev tokens (production).
 */
function createConsoleServer(options) {
  const staticDir = path.resolve(options.staticDir);
  const ingest = new URL(options.ingestUrl);
  const log = options.log ?? (() => undefined);

  const sendJson = (res, status, body) => {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const sendError = (res, status, code, message) => sendJson(res, status, { error: { code, message } });

  const readJson = (req) =>
    new Promise((resolve, reject) => {
      const chunks = [];
      let size = 0;
      req.on('data', (chunk) => {
        size += chunk.length;
        if (size > MAX_BODY_BYTES) reject(Object.assign(new Error('body too large'), { status: 413 }));
        else chunks.push(chunk);
      });
      req.on('end', () => {
        try {
          resolve(chunks.length === 0 ? {} : JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          reject(Object.assign(new Error('body is not JSON'), { status: 400 }));
        }
      });
      req.on('error', reject);
    });

  const mintDevToken = async (req, res) => {
    if (options.devTokenSecret === undefined) {
      sendError(res, 404, 'not_found', 'development tokens are disabled (NODE_ENV=production): paste a token instead');
      return;
    }
    let body;
    try {
      body = await readJson(req);
    } catch (error) {
      sendError(res, error.status ?? 400, 'invalid_request', error.message);
      return;
    }
    const sub = body.sub ?? 'console-user';
    const rooms = body.rooms ?? ['*'];
    if (typeof sub !== 'string' || sub.trim() === '' || sub.length > 128) {
      sendError(res, 400, 'invalid_request', 'sub must be a non-empty string of at most 128 characters');
      return;
    }
    if (!Array.isArray(rooms) || rooms.length === 0 || !rooms.every((r) => typeof r === 'string' && r !== '')) {
      sendError(res, 400, 'invalid_request', 'rooms must be a non-empty array of room patterns (e.g. ["*"] or ["team-42:*"])');
      return;
    }
    const token = jwt.sign({ rooms }, options.devTokenSecret, { algorithm: 'HS256', subject: sub.trim(), expiresIn: DEV_TOKEN_TTL_SECONDS });
    log(`minted a development token for ${sub.trim()} (rooms ${rooms.join(',')})`);
    sendJson(res, 200, { token, expiresInSeconds: DEV_TOKEN_TTL_SECONDS });
  };

  /** Same-origin publishing: the request goes on to ingest-api as it came (token included). */
  const proxyToIngest = (req, res) => {
    const headers = { ...req.headers, host: ingest.host };
    const upstream = http.request(
      { protocol: ingest.protocol, hostname: ingest.hostname, port: ingest.port, method: req.method, path: req.url, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', (error) => {
      if (res.headersSent) res.destroy();
      else sendError(res, 502, 'unavailable', `ingest-api at ${ingest.origin} is not answering (${error.code ?? error.message})`);
    });
    req.pipe(upstream);
  };

  const serveStatic = (req, res, pathname) => {
    const relative = pathname === '/' ? 'index.html' : decodeURIComponent(pathname).replace(/^\/+/, '');
    let file = path.resolve(staticDir, relative);
    if (!file.startsWith(staticDir + path.sep)) {
      sendError(res, 400, 'invalid_request', 'bad path');
      return;
    }
    // A single page: anything that is not a file is the page itself.
    if (!fs.existsSync(file) || !fs.statSync(file).isFile()) file = path.join(staticDir, 'index.html');
    fs.readFile(file, (error, data) => {
      if (error) {
        sendError(res, 404, 'not_found', 'the console is not built (nx build web-console)');
        return;
      }
      res.writeHead(200, { 'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
      res.end(req.method === 'HEAD' ? undefined : data);
    });
  };

  return http.createServer((req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://console.local');
    if (pathname.startsWith('/v1/')) return proxyToIngest(req, res);
    if (pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (pathname === '/config.json' && req.method === 'GET') {
      return sendJson(res, 200, { gatewayUrl: options.gatewayUrl, devTokens: options.devTokenSecret !== undefined });
    }
    if (pathname === '/dev-token') {
      if (req.method !== 'POST') return sendError(res, 405, 'invalid_request', 'POST a JSON body { sub, rooms }');
      return void mintDevToken(req, res);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, 405, 'invalid_request', `${req.method} is not served here`);
    return serveStatic(req, res, pathname);
  });
}

function fromEnvironment(env = process.env) {
  const production = env.NODE_ENV === 'production';
  return {
    port: Number(env.CONSOLE_PORT ?? 3003),
    host: env.CONSOLE_HOST ?? '127.0.0.1',
    staticDir: env.CONSOLE_STATIC_DIR ?? path.resolve(__dirname, '../../../dist/apps/web-console'),
    ingestUrl: env.INGEST_URL ?? 'http://127.0.0.1:3000',
    gatewayUrl: env.GATEWAY_URL ?? 'http://127.0.0.1:3001',
    devTokenSecret: production ? undefined : env.SEQCAST_JWT_SECRET || DEV_JWT_SECRET,
  };
}

if (require.main === module) {
  const config = fromEnvironment();
  if (!Number.isInteger(config.port) || config.port < 0 || config.port > 65535) {
    console.error(`console-server: CONSOLE_PORT must be a port number, got ${process.env.CONSOLE_PORT}`);
    process.exit(1);
  }
  const log = (line) => console.log(`${new Date().toISOString()} console-server: ${line}`);
  const server = createConsoleServer({ ...config, log });
  server.on('error', (error) => {
    console.error(`console-server: cannot listen on ${config.host}:${config.port}: ${error.message}`);
    process.exit(1);
  });
  server.listen(config.port, config.host, () => {
    const { port } = server.address();
    log(`serving ${config.staticDir} on http://${config.host}:${port} (ingest ${config.ingestUrl}, gateway ${config.gatewayUrl}, dev tokens ${config.devTokenSecret ? 'on' : 'off'})`);
  });
  const stop = () => server.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

module.exports = { createConsoleServer, fromEnvironment, DEV_JWT_SECRET };
