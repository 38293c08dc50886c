import path from 'node:path';
import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import { layerRule } from '../../tools/eslint-layer-rule.js';

function lint(file: string, code: string): string[] {
  const linter = new Linter({ cwd: process.cwd() });
  const messages = linter.verify(code, [{
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser as never, sourceType: 'module' },
    plugins: { sautikit: { rules: { 'layer-direction': layerRule as never } } },
    rules: { 'sautikit/layer-direction': 'error' },
  }], path.join(process.cwd(), file));
  return messages.map((m) => m.message);
}

describe('eslint layer-direction rule (DESIGN.md import direction)', () => {
  it('refuses upward imports from lower rooms', () => {
    expect(lint('src/sip/transport/udp-transport.ts', "import { Store } from '../../store/store.js';")).toEqual([
      "'sip/' may not import from 'store/' (DESIGN.md: allowed are shared).",
    ]);
    expect(lint('src/media/endpoint.ts', "export * from '../actions/schema.js';")).toHaveLength(1);
    expect(lint('src/api/routes/calls-routes.ts', "import '../../sip/index.js';")).toHaveLength(1);
    expect(lint('src/store/store.ts', "const m = await import('../billing/wallet.js');")).toHaveLength(1);
  });

  it('allows imports downward, within a room and from the composition root', () => {
    expect(lint('src/api/routes/calls-routes.ts', "import { Store } from '../../store/store.js';\nimport { AppError } from '../../shared/errors.js';")).toEqual([]);
    expect(lint('src/sip/transport/udp-transport.ts', "import { parse } from '../message/parser.js';")).toEqual([]);
    expect(lint('src/main.ts', "import { x } from './sip/index.js';\nimport { y } from './api/server.js';")).toEqual([]);
    expect(lint('src/engine/call-session.ts', "import { z } from '../actions/registry.js';\nimport 'node:fs';\nimport 'kysely';")).toEqual([]);
  });
});
