// ESLint rule that keeps the import direction of DESIGN.md: a room under src/
// may import only from the rooms listed for it. Lower rooms (sip, media) never
// reach up into actions, HTTP or the database.
import path from 'node:path';

/** Which rooms each room may import from (besides itself). */
export const allowedImports = {
  shared: [],
  config: ['shared'],
  sip: ['shared'],
  media: ['shared'],
  store: ['shared'],
  billing: ['shared', 'store'],
  webhooks: ['shared', 'store'],
  conference: ['shared', 'media'],
  actions: ['shared', 'media', 'conference'],
  // A call leg: one SIP dialog with its media endpoint (used by the engine and the sandbox phones).
  legs: ['shared', 'sip', 'media'],
  sandbox: ['shared', 'sip', 'media', 'legs'],
  engine: ['shared', 'sip', 'media', 'legs', 'conference', 'actions', 'store', 'billing', 'webhooks', 'sandbox'],
  // Several nodes (SPEC §16): the link between nodes; the API routes requests about live calls held elsewhere through it.
  cluster: ['shared', 'store'],
  api: ['shared', 'config', 'store', 'billing', 'webhooks', 'engine', 'actions', 'sandbox', 'conference', 'cluster'],
  // The web console: beside api/, and reaches the platform only through the REST API (in-process requests).
  console: ['shared'],
  // The browser softphone page (SPEC §15): static assets, no platform internals.
  webrtc: ['shared'],
  cli: ['*'],
  '': ['*'], // src/main.ts and src/index.ts: the composition root
};

function roomOf(srcDir, file) {
  const rel = path.relative(srcDir, file);
  if (rel.startsWith('..')) return undefined;
  const parts = rel.split(path.sep);
  return parts.length === 1 ? '' : parts[0];
}

export const layerRule = {
  meta: {
    type: 'problem',
    docs: { description: 'enforce the one-way import direction between src/ rooms' },
    schema: [],
    messages: {
      upward: "'{{from}}/' may not import from '{{to}}/' (DESIGN.md: allowed are {{allowed}}).",
    },
  },
  create(context) {
    const file = context.filename;
    const srcDir = path.join(context.cwd, 'src');
    const from = roomOf(srcDir, file);
    if (from === undefined) return {};
    const allowed = allowedImports[from] ?? [];
    if (allowed.includes('*')) return {};
    function check(node, source) {
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const target = path.resolve(path.dirname(file), source);
      const to = roomOf(srcDir, target);
      if (to === undefined || to === from || allowed.includes(to)) return;
      context.report({ node, messageId: 'upward', data: { from: from || 'src', to: to || 'src', allowed: allowed.join(', ') || 'none' } });
    }
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
    };
  },
};
