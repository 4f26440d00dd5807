// npm run lint: typescript-eslint's recommended rules over the sources and tests (generated
// imports/ and build output excluded); formatting is prettier's (.prettierrc.json), so
// eslint-config-prettier turns off the stylistic rules that would disagree with it.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['build/', 'dist/', 'examples/*/dist/', 'imports/k8s.ts', 'imports/*.ts', 'node_modules/', 'cdk8s.out/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // `_`-prefixed parameters and variables are deliberately unused (tsc's noUnused* agree)
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // the L1 classes come from imports/k8s.ts: the package's index loads all of its L2 constructs too
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'cdk8s-plus-28', message: "import { k8s } from 'imports/k8s' (it loads only the L1 classes)" },
          ],
        },
      ],
    },
  },
  {
    // tests read synthesized manifests as loose JSON and match CLI output column by column
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off', 'no-regex-spaces': 'off', 'no-restricted-imports': 'off' },
  },
  {
    // jest's configuration modules are CommonJS
    files: ['**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        URL: 'readonly',
        require: 'readonly',
        module: 'writable',
        __dirname: 'readonly',
        fetch: 'readonly',
        structuredClone: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
      },
    },
  },
  prettier,
);
