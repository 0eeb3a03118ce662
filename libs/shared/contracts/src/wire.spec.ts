import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { preProcessFile } from 'typescript';
import * as contracts from './index';
import * as wire from './wire';

/**
 * `@seqcast/contracts/wire` is bundled into the client SDK's published declarations, so its whole
 * import graph must stay free of zod (and of any other package), down to its comments: the SDK's
 * build rejects declarations that mention zod.
 */
describe('@seqcast/contracts/wire', () => {
  function importGraph(entry: string): Map<string, string[]> {
    const graph = new Map<string, string[]>();
    const pending = [entry];
    while (pending.length > 0) {
      const file = pending.pop() as string;
      if (graph.has(file)) continue;
      const info = preProcessFile(readFileSync(file, 'utf8'), true, true);
      const specifiers = [...info.importedFiles, ...info.referencedFiles, ...info.typeReferenceDirectives].map(
        (ref) => ref.fileName,
      );
      graph.set(file, specifiers);
      for (const specifier of specifiers.filter((s) => s.startsWith('.'))) {
        const target = [`${specifier}.ts`, `${specifier}/index.ts`]
          .map((candidate) => resolve(dirname(file), candidate))
          .find((candidate) => existsSync(candidate));
        if (!target) throw new Error(`${relative(__dirname, file)}: cannot resolve ${specifier}`);
        pending.push(target);
      }
    }
    return graph;
  }

  it('imports nothing but its own zod-free modules', () => {
    const graph = importGraph(join(__dirname, 'wire.ts'));
    const outside = [...graph].flatMap(([file, specifiers]) =>
      specifiers.filter((s) => !s.startsWith('.')).map((s) => `${relative(__dirname, file)} imports ${s}`),
    );
    expect(outside).toEqual([]);
    for (const file of graph.keys()) expect(readFileSync(file, 'utf8')).not.toMatch(/zod/i);
  });

  it('is re-exported unchanged by @seqcast/contracts', () => {
    for (const [name, value] of Object.entries(wire)) {
      expect(contracts[name as keyof typeof contracts]).toBe(value);
    }
    expect(wire.UNAUTHORIZED_CONNECT_ERROR).toBe('unauthorized');
    expect(wire.SERVER_DRAINING_CONNECT_ERROR).toBe('server_draining');
    expect(wire.SERVER_BUSY_CONNECT_ERROR).toBe('server_busy');
    expect(wire.ErrorCode.InvalidRequest).toBe('invalid_request');
  });
});
