#!/usr/bin/env node
/**
 * Where a server's heap grew between two V8 heap snapshots (e.g. `npm run bench -- idle
 * --heap-snapshots DIR`), per unit of what was added (sockets):
 *
 *   node --max-old-space-size=4096 tools/bench/heap-diff.cjs BEFORE AFTER [--per N] [--top K]
 *        [--retainers REGEX]...
 *
 * Groups nodes by constructor (objects), by `closure <function name>` (functions), and by V8's
 * node type for the rest (strings, arrays, hidden, code...), and prints the self-size and count
 * differences divided by N. With --retainers, also prints for every group whose name matches
 * REGEX which groups and edge names point at its nodes in AFTER (what keeps them alive).
 * With --retained REGEX, prints the retained size (what would be freed with it: the node and
 * everything only reachable through it, from the dominator tree) of the nodes of each matching
 * group in AFTER, per unit; nodes dominated by another node of the same group count once.
 * With --inside REGEX, splits the retained size of the matching groups' nodes by what they
 * immediately dominate (the edge from the node when there is one, and the dominated group).
 */
const { readFileSync } = require('node:fs');
const { parseArgs } = require('node:util');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    per: { type: 'string', default: '1' },
    top: { type: 'string', default: '40' },
    retainers: { type: 'string', multiple: true, default: [] },
    retained: { type: 'string', multiple: true, default: [] },
    inside: { type: 'string', multiple: true, default: [] },
  },
});
if (positionals.length !== 2) {
  console.error('usage: heap-diff.cjs BEFORE.heapsnapshot AFTER.heapsnapshot [--per N] [--top K] [--retainers REGEX]...');
  process.exit(2);
}
const per = Number(values.per);
const top = Number(values.top);

function load(file) {
  const snapshot = JSON.parse(readFileSync(file, 'utf8'));
  const meta = snapshot.snapshot.meta;
  const nf = meta.node_fields;
  const ef = meta.edge_fields;
  // Closures are told apart by where their function is defined (script:line), when recorded.
  const nodeSize = nf.length;
  const edgeSize = ef.length;
  const firstEdge = new Uint32Array(snapshot.nodes.length / nodeSize + 1);
  for (let i = 0, k = 0; i < snapshot.nodes.length; i += nodeSize, k++) {
    firstEdge[k + 1] = firstEdge[k] + snapshot.nodes[i + nf.indexOf('edge_count')] * edgeSize;
  }
  const follow = (node, edgeName) => {
    const k = node / nodeSize;
    for (let e = firstEdge[k]; e < firstEdge[k + 1]; e += edgeSize) {
      const type = meta.edge_types[0][snapshot.edges[e + ef.indexOf('type')]];
      if (type !== 'element' && type !== 'hidden' && snapshot.strings[snapshot.edges[e + ef.indexOf('name_or_index')]] === edgeName) {
        return snapshot.edges[e + ef.indexOf('to_node')];
      }
    }
    return undefined;
  };
  const scriptName = (closure) => {
    const shared = follow(closure, 'shared');
    const script = shared === undefined ? undefined : follow(shared, 'script');
    const name = script === undefined ? undefined : follow(script, 'name');
    const text = name === undefined ? '?' : snapshot.strings[snapshot.nodes[name + nf.indexOf('name')]];
    return text.replace(/^.*node_modules\//, '').replace(/^.*\/dist\//, 'dist/');
  };
  const locations = new Map();
  const lf = meta.location_fields ?? [];
  const locs = snapshot.locations ?? [];
  for (let i = 0; i < locs.length; i += lf.length) {
    const node = locs[i + lf.indexOf('object_index')];
    locations.set(node, `${scriptName(node)}:${locs[i + lf.indexOf('line')] + 1}:${locs[i + lf.indexOf('column')] + 1}`);
  }
  return {
    follow,
    locations,
    nodes: snapshot.nodes,
    edges: snapshot.edges,
    strings: snapshot.strings,
    nodeTypes: meta.node_types[0],
    edgeTypes: meta.edge_types[0],
    nodeSize: nf.length,
    edgeSize: ef.length,
    type: nf.indexOf('type'),
    name: nf.indexOf('name'),
    selfSize: nf.indexOf('self_size'),
    edgeCount: nf.indexOf('edge_count'),
    edgeType: ef.indexOf('type'),
    edgeName: ef.indexOf('name_or_index'),
    edgeTo: ef.indexOf('to_node'),
  };
}

/** The group a node is counted in. */
function groupOf(s, i) {
  const type = s.nodeTypes[s.nodes[i + s.type]];
  const name = s.strings[s.nodes[i + s.name]];
  switch (type) {
    case 'object':
      // Three libraries call their class Socket: tell them apart by a field only each one has.
      if (name === 'Socket') {
        if (s.follow(i, 'nsp') !== undefined) return 'Socket (socket.io)';
        if (s.follow(i, 'transport') !== undefined) return 'Socket (engine.io)';
        if (s.follow(i, '_handle') !== undefined) return 'Socket (net)';
      }
      return name;
    case 'closure':
      return `closure ${name || '(anonymous)'}${s.locations.has(i) ? ` @${s.locations.get(i)}` : ''}`;
    case 'string':
    case 'concatenated string':
    case 'sliced string':
      return '(string)';
    case 'number':
      return '(heap number)';
    case 'code':
      return '(code)';
    case 'array':
      return `(array) ${name}`;
    case 'hidden':
    case 'object shape':
      return `(${type}) ${name.replace(/\d+/g, 'N').slice(0, 60)}`;
    default:
      return `(${type}) ${name.slice(0, 60)}`;
  }
}

function totals(s) {
  const byGroup = new Map();
  let total = 0;
  for (let i = 0; i < s.nodes.length; i += s.nodeSize) {
    const group = groupOf(s, i);
    const size = s.nodes[i + s.selfSize];
    total += size;
    const entry = byGroup.get(group) ?? { size: 0, count: 0 };
    entry.size += size;
    entry.count += 1;
    byGroup.set(group, entry);
  }
  return { byGroup, total };
}

function retainers(s, pattern) {
  // edge ranges: node k's edges start at the sum of the edge counts before it.
  const found = new Map();
  let edge = 0;
  for (let i = 0; i < s.nodes.length; i += s.nodeSize) {
    const from = groupOf(s, i);
    const count = s.nodes[i + s.edgeCount];
    for (let e = 0; e < count; e++, edge += s.edgeSize) {
      const to = s.edges[edge + s.edgeTo];
      const target = groupOf(s, to);
      if (!pattern.test(target)) continue;
      const edgeType = s.edgeTypes[s.edges[edge + s.edgeType]];
      if (edgeType === 'weak') continue;
      const nameOrIndex = s.edges[edge + s.edgeName];
      const edgeName = edgeType === 'element' || edgeType === 'hidden' ? `[${edgeType}]` : s.strings[nameOrIndex];
      const key = `${target}  <-  ${from}.${edgeName}`;
      found.set(key, (found.get(key) ?? 0) + 1);
    }
  }
  return [...found].sort((a, b) => b[1] - a[1]);
}

/** Immediate dominators (Cooper, Harvey, Kennedy), weak edges ignored; node ordinals, root 0. */
function dominators(s) {
  const n = s.nodes.length / s.nodeSize;
  const first = new Uint32Array(n + 1);
  for (let k = 0; k < n; k++) first[k + 1] = first[k] + s.nodes[k * s.nodeSize + s.edgeCount];
  const weak = s.edgeTypes.indexOf('weak');
  const shortcut = s.edgeTypes.indexOf('shortcut');
  const strong = (e) => {
    const t = s.edges[e * s.edgeSize + s.edgeType];
    return t !== weak && t !== shortcut;
  };
  const target = (e) => s.edges[e * s.edgeSize + s.edgeTo] / s.nodeSize;
  // Reverse postorder by iterative DFS from the root.
  const order = new Int32Array(n).fill(-1);
  const post = new Uint32Array(n);
  let count = 0;
  const stack = new Uint32Array(n);
  const next = new Uint32Array(n);
  const visited = new Uint8Array(n);
  let top = 0;
  stack[top++] = 0;
  visited[0] = 1;
  next[0] = first[0];
  while (top > 0) {
    const v = stack[top - 1];
    if (next[v] < first[v + 1]) {
      const e = next[v]++;
      if (!strong(e)) continue;
      const w = target(e);
      if (visited[w]) continue;
      visited[w] = 1;
      next[w] = first[w];
      stack[top++] = w;
    } else {
      top--;
      order[v] = count;
      post[count++] = v;
    }
  }
  // Predecessors (strong edges, reachable nodes only).
  const predCount = new Uint32Array(n + 1);
  for (let v = 0; v < n; v++) {
    if (!visited[v]) continue;
    for (let e = first[v]; e < first[v + 1]; e++) if (strong(e)) predCount[target(e) + 1]++;
  }
  for (let v = 0; v < n; v++) predCount[v + 1] += predCount[v];
  const preds = new Uint32Array(predCount[n]);
  const fill = predCount.slice(0, n);
  for (let v = 0; v < n; v++) {
    if (!visited[v]) continue;
    for (let e = first[v]; e < first[v + 1]; e++) if (strong(e)) preds[fill[target(e)]++] = v;
  }
  const idom = new Int32Array(n).fill(-1);
  idom[0] = 0;
  const intersect = (a, b) => {
    while (a !== b) {
      while (order[a] < order[b]) a = idom[a];
      while (order[b] < order[a]) b = idom[b];
    }
    return a;
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let i = count - 2; i >= 0; i--) {
      const v = post[i];
      let d = -1;
      for (let p = predCount[v]; p < predCount[v + 1]; p++) {
        const u = preds[p];
        if (idom[u] === -1) continue;
        d = d === -1 ? u : intersect(u, d);
      }
      if (d !== -1 && idom[v] !== d) {
        idom[v] = d;
        changed = true;
      }
    }
  }
  // Retained sizes: children before parents (postorder).
  const retained = new Float64Array(n);
  for (let i = 0; i < count; i++) {
    const v = post[i];
    retained[v] += s.nodes[v * s.nodeSize + s.selfSize];
    if (v !== 0) retained[idom[v]] += retained[v];
  }
  return { idom, retained, visited };
}

const kb = (bytes) => (bytes / 1024).toFixed(2);
const before = totals(load(positionals[0]));
const afterSnapshot = load(positionals[1]);
const after = totals(afterSnapshot);

const rows = [];
for (const [group, a] of after.byGroup) {
  const b = before.byGroup.get(group) ?? { size: 0, count: 0 };
  rows.push({ group, size: (a.size - b.size) / per, count: (a.count - b.count) / per });
}
for (const [group, b] of before.byGroup) {
  if (!after.byGroup.has(group)) rows.push({ group, size: -b.size / per, count: -b.count / per });
}
rows.sort((x, y) => Math.abs(y.size) - Math.abs(x.size));
console.log(`heap (self sizes) ${kb(before.total / 1024)} MiB -> ${kb(after.total / 1024)} MiB: ` +
  `${kb((after.total - before.total) / per)} KB per unit (per = ${per})\n`);
console.log('| group | bytes per unit | objects per unit |\n|---|---|---|');
for (const row of rows.slice(0, top)) {
  console.log(`| ${row.group.replace(/\|/g, '\\|')} | ${Math.round(row.size)} | ${row.count.toFixed(2)} |`);
}
for (const source of values.retainers) {
  const pattern = new RegExp(source);
  console.log(`\nretainers in AFTER of groups matching /${source}/ (count per unit):`);
  for (const [key, count] of retainers(afterSnapshot, pattern).slice(0, top)) {
    if (count / per < 0.05) break;
    console.log(`  ${(count / per).toFixed(2)}  ${key}`);
  }
}

if (values.retained.length > 0 || values.inside.length > 0) {
  const { idom, retained, visited } = dominators(afterSnapshot);
  const s = afterSnapshot;
  const edgeNameBetween = (from, to) => {
    // Edges of `from` (node ordinal) that point at `to`; the first one's name.
    let e = 0;
    for (let k = 0; k < from; k++) e += s.nodes[k * s.nodeSize + s.edgeCount];
    for (let c = 0; c < s.nodes[from * s.nodeSize + s.edgeCount]; c++, e++) {
      if (s.edges[e * s.edgeSize + s.edgeTo] / s.nodeSize !== to) continue;
      const type = s.edgeTypes[s.edges[e * s.edgeSize + s.edgeType]];
      return type === 'element' || type === 'hidden' ? `[${type}]` : s.strings[s.edges[e * s.edgeSize + s.edgeName]];
    }
    return '(indirect)';
  };
  for (const source of values.inside) {
    // GROUP_REGEX[/edge/edge...]: the nodes of the group, or what their named edges lead to.
    const [groupSource, ...path] = source.split('/');
    const pattern = new RegExp(groupSource);
    const parts = new Map();
    let owners = 0;
    const isOwner = new Uint8Array(idom.length);
    for (let v = 1; v < idom.length; v++) {
      if (!visited[v] || !pattern.test(groupOf(s, v * s.nodeSize))) continue;
      let node = v * s.nodeSize;
      for (const edge of path) node = node === undefined ? undefined : s.follow(node, edge);
      if (node === undefined || isOwner[node / s.nodeSize]) continue;
      isOwner[node / s.nodeSize] = 1;
      owners++;
    }
    // Edge names only for a sample of owners (the scan is linear per lookup).
    const named = new Set();
    for (let v = 1; v < idom.length && named.size < 20; v++) if (isOwner[v]) named.add(v);
    const edgeNames = new Map();
    for (let v = 1; v < idom.length; v++) {
      if (!visited[v] || !isOwner[idom[v]]) continue;
      const group = groupOf(s, v * s.nodeSize);
      if (named.has(idom[v])) edgeNames.set(group, edgeNameBetween(idom[v], v));
      const entry = parts.get(group) ?? { size: 0, count: 0 };
      entry.size += retained[v];
      entry.count += 1;
      parts.set(group, entry);
    }
    console.log(`\ninside ${owners} nodes matching /${source}/: what they dominate (bytes and nodes per owner):`);
    for (const [group, entry] of [...parts].sort((a, b) => b[1].size - a[1].size).slice(0, top)) {
      console.log(`  ${Math.round(entry.size / owners)} B  ${(entry.count / owners).toFixed(2)}  ${edgeNames.get(group) ?? '?'} -> ${group}`);
    }
  }
  for (const source of values.retained) {
    const pattern = new RegExp(source);
    const byGroup = new Map();
    for (let v = 1; v < idom.length; v++) {
      if (!visited[v]) continue;
      const group = groupOf(s, v * s.nodeSize);
      if (!pattern.test(group)) continue;
      let nested = false;
      for (let d = idom[v]; d !== 0; d = idom[d]) {
        if (groupOf(s, d * s.nodeSize) === group) {
          nested = true;
          break;
        }
      }
      if (nested) continue;
      const entry = byGroup.get(group) ?? { size: 0, count: 0 };
      entry.size += retained[v];
      entry.count += 1;
      byGroup.set(group, entry);
    }
    console.log(`\nretained in AFTER by groups matching /${source}/ (bytes and nodes per unit):`);
    for (const [group, entry] of [...byGroup].sort((a, b) => b[1].size - a[1].size).slice(0, top)) {
      console.log(`  ${Math.round(entry.size / per)} B  ${(entry.count / per).toFixed(2)}  ${group}`);
    }
  }
}
