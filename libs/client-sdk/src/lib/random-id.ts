/**
 * Client message ids: UUIDs where the platform has them (Node >= 20, secure browser contexts),
 * otherwise 128 random bits as hex. Either form fits the protocol's 1-64 [A-Za-z0-9._:-].
 */
export function randomId(random: () => number = Math.random): string {
  const crypto = (globalThis as { crypto?: Partial<Crypto> }).crypto;
  if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  if (typeof crypto?.getRandomValues === 'function') crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256) & 0xff;
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
