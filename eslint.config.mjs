// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const nodeBuiltins = [
  'assert',
  'async_hooks',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'readline',
  'stream',
  'timers',
  'tls',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.data/', 'coverage/', 'eslint.config.mjs', 'jest.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver()] },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'import-x/no-cycle': 'error',
      'no-console': 'off',
    },
  },
  {
    // Tests poke at Meta's JSON fixtures field by field; typing each one would hide what is being changed.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // The boundaries of the layout (DESIGN.md, "Parts and where they live"), as paths.
    files: ['**/*.ts'],
    rules: {
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './workflows',
              from: ['./api', './clients', './dev', './scripts', './temporal', './test', './workers'],
              message: 'Workflows may import only pure modules (lib/domain) and activity types.',
            },
            {
              target: './workflows',
              from: './lib',
              except: ['./domain'],
              message: 'Workflows may import only pure modules (lib/domain) and activity types.',
            },
            {
              target: './workflows',
              from: './activities',
              except: ['./index.ts'],
              message:
                'Workflows see activities only as the `Activities` type of activities/index.ts; contracts are in lib/domain.',
            },
            {
              target: './lib/domain',
              from: [
                './activities',
                './api',
                './clients',
                './dev',
                './scripts',
                './temporal',
                './test',
                './workers',
                './workflows',
              ],
              message: 'lib/domain is pure: it imports nothing with I/O.',
            },
            {
              target: './lib/domain',
              from: './lib',
              except: ['./domain'],
              message: 'lib/domain is pure: it imports nothing with I/O.',
            },
            {
              target: './clients',
              from: ['./activities', './api', './workers', './workflows'],
              message: 'Clients of outside systems know nothing of the activities or the API that use them.',
            },
            {
              target: './activities',
              from: ['./api', './workers'],
              message: 'Activities use clients; they do not reach into the API or the worker that builds them.',
            },
          ],
        },
      ],
    },
  },
  {
    // Workflow code is replayed deterministically inside Temporal's sandbox: no I/O, no Node builtins.
    files: ['workflows/**/*.ts', 'lib/domain/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: 'Workflow code must not import Node builtins.' })),
            ...['pg', 'ioredis', 'undici', 'pino', 'cockatiel'].map((name) => ({
              name,
              message: 'Workflow code must not do I/O; call an activity instead.',
            })),
          ],
          patterns: [
            { group: ['node:*'], message: 'Workflow code must not import Node builtins.' },
            {
              // A value import of an activity module drags Node modules into the workflow bundle.
              group: ['**/activities', '**/activities/*'],
              allowTypeImports: true,
              message: 'Workflows import activities as types only (`import type`).',
            },
          ],
        },
      ],
    },
  },
);
