// ESLint for the explore page's scripts (nnlab/explore/*.js): plain browser scripts that
// page.py inlines, in order, into one <script> (no modules, no build step). Each file is
// one namespace: a single global `const Name = (() => { ... })();`, named in its
// `/* exported Name */` comment, and the namespaces it reads in its `/* global ... */`.
'use strict';
const js = require('@eslint/js');
const globals = require('globals');

module.exports = [
  js.configs.recommended,
  {
    files: ['nnlab/explore/**/*.js'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'script',
      globals: { ...globals.browser },
    },
    rules: {
      // nothing global but the file's namespace
      'no-implicit-globals': ['error', { lexicalBindings: true }],
      'strict': ['error', 'function'],
      'no-var': 'error',
      'prefer-const': 'error',
      'eqeqeq': ['error', 'always'],
      'no-shadow': ['error', { builtinGlobals: false }],
      'no-unused-vars': ['error', { args: 'after-used', argsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['eslint.config.js'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
  },
];
