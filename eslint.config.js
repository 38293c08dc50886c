import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { layerRule } from './tools/eslint-layer-rule.js';

export default tseslint.config(
  { ignores: ['dist/**', 'dist-check/**', 'node_modules/**', 'console/dist/**', '.sautikit/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { sautikit: { rules: { 'layer-direction': layerRule } } },
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      'sautikit/layer-direction': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['test/**', 'bench/**', 'examples/**'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
);
