// Lint rules, including the layering of ../shared/DESIGN.md §2 enforced as import restrictions:
// a wrong-way import fails lint rather than relying on reviewers.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const restrict = (files, patterns, message) => ({
  files,
  rules: {
    'no-restricted-imports': ['error', { patterns: patterns.map((group) => ({ group: [group], message })) }],
  },
});

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'out/**',
      'dist/**',
      'release/**',
      'docs/**',
      'models/**',
      'e2e/artifacts/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        console: 'readonly',
        process: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        Buffer: 'readonly',
        performance: 'readonly',
        window: 'readonly',
        document: 'readonly',
        requestAnimationFrame: 'readonly',
        WebSocket: 'readonly',
        fetch: 'readonly',
        structuredClone: 'readonly',
        queueMicrotask: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        AbortController: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  // Only the thin Electron shell may import electron.
  {
    files: ['src-main/**/*.ts', 'src-shared/**/*.ts', 'src-renderer/**/*.{ts,tsx}'],
    ignores: ['src-main/electron/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: 'electron', message: 'Only src-main/electron/ may import electron.' }] },
      ],
    },
  },
  restrict(
    ['src-shared/**/*.ts'],
    ['**/src-main/**', '**/src-renderer/**', 'node:*', 'electron'],
    'src-shared holds contracts only and imports nothing from main, renderer or Node.',
  ),
  restrict(
    ['src-renderer/**/*.{ts,tsx}'],
    ['**/src-main/**', 'node:*', 'electron'],
    'The renderer talks to the engine only through src-renderer/api.',
  ),
  restrict(
    ['src-main/book/**/*.ts'],
    [
      '**/trading/**',
      '**/store/**',
      '**/features/**',
      '**/model/**',
      '**/engine/**',
      '**/market/**',
      'electron',
    ],
    'The order book knows nothing of later stages or I/O.',
  ),
  restrict(
    ['src-main/features/**/*.ts'],
    ['**/store/**', '**/trading/**', '**/model/**', '**/engine/**', 'electron'],
    'Features are pure: no storage, no trading, no engine.',
  ),
  restrict(
    ['src-main/quality/**/*.ts'],
    ['**/store/**', '**/trading/**', '**/model/**', '**/engine/**', '**/market/**', 'electron'],
    'Data-quality maths is pure: the CLI feeds it stored events.',
  ),
  restrict(
    ['src-main/trading/**/*.ts'],
    ['**/store/**', '**/engine/**', '**/market/**', 'electron'],
    'Trading maths is pure: the engine wires it to sources and storage.',
  ),
);
