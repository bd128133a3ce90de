import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// One vendor per module: these packages may be imported only from the named folder.
// Dependencies point one way: bots -> engine client / storage, never back (noBots).
const vendorRule = (allowed, noBots = false) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: noBots ? [{ group: ['**/bots/**'], message: 'engine and storage never import bots.' }] : [],
      paths: [
        { name: 'onnxruntime-node', message: 'Only src/engine/onnx may import onnxruntime-node.' },
        { name: 'sharp', message: 'Only src/engine/image may import sharp.' },
        { name: 'better-sqlite3', message: 'Only src/storage may import better-sqlite3.' },
        { name: 'discord.js', message: 'Only src/bots/discord may import discord.js.' },
        { name: '@slack/bolt', message: 'Only src/bots/slack may import @slack/bolt.' },
      ].filter((p) => !allowed.includes(p.name)),
    },
  ],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'tools/**', 'models/**'] },
  js.configs.recommended,
  {
    // Plain JavaScript entry points and scripts run on Node.
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly', Buffer: 'readonly', setTimeout: 'readonly' } },
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // Later entries replace the rule for the files they match, so the most specific come last.
  { files: ['src/**/*.ts'], rules: vendorRule([]) },
  { files: ['src/engine/**/*.ts', 'src/storage/**/*.ts'], rules: vendorRule([], true) },
  { files: ['src/engine/onnx/**/*.ts'], rules: vendorRule(['onnxruntime-node'], true) },
  { files: ['src/engine/image/**/*.ts'], rules: vendorRule(['sharp'], true) },
  { files: ['src/storage/**/*.ts'], rules: vendorRule(['better-sqlite3'], true) },
  { files: ['src/bots/discord/**/*.ts'], rules: vendorRule(['discord.js']) },
  { files: ['src/bots/slack/**/*.ts'], rules: vendorRule(['@slack/bolt']) },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/config/**', 'src/cli/main.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read config once in src/config and pass it down.' }],
    },
  },
  { files: ['test/**/*.ts', 'bench/**/*.ts'], rules: { '@typescript-eslint/no-non-null-assertion': 'off' } },
);
