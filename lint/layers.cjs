'use strict';
// CommonJS, so that jest (test/unit/lint-layers.test.ts) can load it without ESM support.
const { builtinModules } = require('node:module');
const path = require('node:path');

/**
 * The floor plan as a lint rule: which folder may import which. Each file belongs to the first
 * layer whose folder holds it; an import of our own code is allowed when its target's layer is in
 * the importer's `may` list. Paths are resolved from the importing file, so `../../db/cases` and
 * `../db/cases` are the same import.
 */
const root = path.resolve(__dirname, '..');

/**
 * Most specific folder first: `workflows/contracts` before `workflows`, `domain/schemas` before
 * `domain`, `test/support` before `test`.
 */
const LAYERS = [
  { name: 'contracts', dir: 'workflows/contracts' },
  { name: 'workflows', dir: 'workflows' },
  { name: 'schemas', dir: 'domain/schemas' },
  { name: 'domain', dir: 'domain' },
  { name: 'db', dir: 'db' },
  { name: 'activities', dir: 'activities' },
  { name: 'api', dir: 'api' },
  { name: 'worker', dir: 'worker' },
  { name: 'runtime', dir: 'runtime' },
  { name: 'testkit', dir: 'test/support' },
  { name: 'test', dir: 'test' },
  { name: 'bench', dir: 'bench' },
];

const PRODUCTION = ['contracts', 'domain', 'schemas', 'db', 'activities', 'api', 'worker', 'runtime'];

/**
 * What each layer may import. `workflows` is not in any production list: the worker finds workflow
 * code through the bundle (worker/workflow-bundle.ts), everyone else through contracts. What the
 * workflows import (contracts, domain/) is evaluated once per cached workflow, so it holds no zod:
 * the schemas live in domain/schemas/, which the API, activities and db/ import, never a workflow.
 */
const NO_SCHEMAS = ['zod'];
const RULES = {
  domain: {
    may: ['domain'],
    typeOnly: ['schemas'],
    forbiddenPackages: NO_SCHEMAS,
    why: 'domain/ is pure and zod-free (the workflows import it): it imports nothing of ours, and domain/schemas/ as types only',
  },
  schemas: { may: ['domain', 'schemas'], why: 'domain/schemas/ imports only domain/' },
  contracts: {
    may: ['domain', 'contracts'],
    packages: ['@temporalio/workflow'],
    why: 'a workflow contract imports only domain/ and @temporalio/workflow',
  },
  workflows: {
    may: ['domain', 'contracts'],
    typeOnly: ['activities'],
    nodeBuiltins: false,
    forbiddenPackages: NO_SCHEMAS,
    why: 'workflows/ imports only domain/ and workflows/contracts/ (activities as types), no Node built-ins, no zod',
  },
  db: { may: ['db', 'domain', 'schemas'], why: 'db/ imports only db/ and domain/' },
  activities: {
    may: ['activities', 'db', 'domain', 'schemas', 'contracts', 'runtime'],
    why: 'activities/ import db/, domain/, runtime/ and workflow contracts, never a workflow implementation',
  },
  api: {
    may: ['api', 'db', 'domain', 'schemas', 'contracts', 'runtime'],
    why: 'api/ never imports activities/, worker/ or a workflow implementation (only workflows/contracts/)',
  },
  worker: {
    may: ['worker', 'activities', 'db', 'domain', 'schemas', 'contracts', 'runtime'],
    why: 'worker/ never imports a workflow implementation (only workflows/contracts/)',
  },
  runtime: { may: ['runtime', 'db', 'domain', 'schemas'], why: 'runtime/ imports only runtime/, db/ and domain/' },
  testkit: { may: [...PRODUCTION, 'workflows', 'testkit'], why: 'test/support/ never imports bench/ or a test' },
  test: { may: [...PRODUCTION, 'workflows', 'testkit', 'test'], why: 'test/ never imports bench/' },
  bench: {
    may: [...PRODUCTION, 'workflows', 'testkit', 'bench'],
    why: 'bench/ imports the testkit (test/support/), never a test',
  },
};

/** Files at the root (configs) and anything outside the layers are not checked. */
function layerOf(file) {
  const relative = path.relative(root, path.resolve(file)).split(path.sep).join('/');
  return LAYERS.find((layer) => relative === layer.dir || relative.startsWith(`${layer.dir}/`))?.name;
}

const builtins = new Set(builtinModules);
function isNodeBuiltin(specifier) {
  return specifier.startsWith('node:') || builtins.has(specifier) || builtins.has(specifier.split('/')[0]);
}

function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** The bundle entry re-exports every workflow for the worker: the one file that imports implementations. */
const WORKFLOW_BUNDLE_ENTRY = 'workflows/index.ts';

function check(context, node, specifier, typeOnly) {
  const file = context.filename;
  const from = layerOf(file);
  if (!from || typeof specifier !== 'string') return;
  const rule = RULES[from];
  const report = (target) => context.report({ node, messageId: 'forbidden', data: { from, target, specifier, why: rule.why } });

  if (!specifier.startsWith('.')) {
    if (rule.nodeBuiltins === false && isNodeBuiltin(specifier)) report('a Node built-in');
    else if (rule.packages && !rule.packages.includes(packageName(specifier))) report(`the package ${packageName(specifier)}`);
    else if (rule.forbiddenPackages?.includes(packageName(specifier))) report(`the package ${packageName(specifier)}`);
    return;
  }
  const target = layerOf(path.resolve(path.dirname(file), specifier));
  if (!target) return;
  if (rule.may.includes(target)) return;
  if (typeOnly && rule.typeOnly?.includes(target)) return;
  const relative = path.relative(root, file).split(path.sep).join('/');
  if (from === 'workflows' && target === 'workflows' && relative === WORKFLOW_BUNDLE_ENTRY) return;
  report(`${target}/`);
}

const allowedImports = {
  meta: {
    type: 'problem',
    docs: { description: 'Imports follow the layers: see lint/layers.mjs and the README' },
    schema: [],
    messages: { forbidden: "{{from}} may not import {{target}} ('{{specifier}}'): {{why}}" },
  },
  create(context) {
    const isTypeOnly = (node) =>
      node.importKind === 'type' ||
      node.exportKind === 'type' ||
      (node.specifiers?.length > 0 && node.specifiers.every((s) => s.importKind === 'type' || s.exportKind === 'type'));
    const fromSource = (node) => node.source && check(context, node.source, node.source.value, isTypeOnly(node));
    return {
      ImportDeclaration: fromSource,
      ExportNamedDeclaration: fromSource,
      ExportAllDeclaration: fromSource,
      ImportExpression: (node) => node.source.type === 'Literal' && check(context, node.source, node.source.value, false),
      TSImportEqualsDeclaration: (node) =>
        node.moduleReference.type === 'TSExternalModuleReference' &&
        check(context, node.moduleReference.expression, node.moduleReference.expression.value, node.importKind === 'type'),
      CallExpression: (node) => {
        if (node.callee.type === 'Identifier' && node.callee.name === 'require' && node.arguments[0]?.type === 'Literal') {
          check(context, node.arguments[0], node.arguments[0].value, false);
        }
      },
    };
  },
};

const plugin = { rules: { 'allowed-imports': allowedImports } };

/** The config block eslint.config.mjs uses, and the layer test too. */
const layerConfig = {
  files: ['**/*.ts'],
  plugins: { layers: plugin },
  rules: { 'layers/allowed-imports': 'error' },
};

module.exports = { LAYERS, RULES, layerOf, plugin, layerConfig };
