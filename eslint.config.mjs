// @ts-check
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';
import layers from './lint/layers.cjs';

export default defineConfig(
  // What .gitignore lists (made by the scripts), and the stored histories.
  { ignores: ['node_modules/', 'dist/', 'coverage/', '.data/', '.tools/', '.test-artifacts/', 'test/histories/'] },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // pg rows, JSON bodies and supertest responses are `any` by design; these five would flag
      // every one of them (about a thousand reports) without finding a bug.
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Route handlers and codec methods implement async interfaces; some need no await.
      '@typescript-eslint/require-await': 'off',
      // A leading underscore marks a value left out on purpose (a rest-spread omission, an
      // Express error handler's fourth parameter, a validator's unused argument).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      // A variable read by a closure before its one assignment (a harness its worker refers to).
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  {
    // Tests and benchmarks read JSON answers whose shape the assertion is about.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  layers.layerConfig,
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: {
      globals: {
        module: 'readonly',
        require: 'readonly',
        __dirname: 'readonly',
        process: 'readonly',
        console: 'readonly',
        exports: 'writable',
      },
    },
  },
  prettier,
);
