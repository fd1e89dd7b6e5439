import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'bench/results/**', '.keyless/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        AbortController: 'readonly',
        AbortSignal: 'readonly',
        fetch: 'readonly',
        URLSearchParams: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        structuredClone: 'readonly',
        queueMicrotask: 'readonly',
        setImmediate: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The bin shim is plain CommonJS by necessity (it loads the bundled CLI); so is the sample app, which runs
    // on an EC2 instance with nothing but Node.js.
    files: ['**/*.cjs', 'examples/**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', __dirname: 'readonly', module: 'writable' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The sandbox is the other side of the wire: it must never import the engine (DESIGN.md).
    files: ['packages/sandbox/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['@keyless/core', '@keyless/core/*', '**/core/src/**'] },
      ],
    },
  },
  {
    // core knows no CI and no sandbox.
    files: ['packages/core/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '@keyless/sandbox',
            '@keyless/sandbox/*',
            '**/sandbox/src/**',
            'azure-pipelines-task-lib',
            'azure-pipelines-task-lib/*',
          ],
        },
      ],
    },
  },
  {
    // The extension is a front end: it reaches AWS only through core, never through the sandbox or the runner.
    files: ['packages/azure-pipelines/src/**/*.ts', 'packages/azure-pipelines/tasks/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['@keyless/sandbox', '@keyless/sandbox/*', '@keyless/pipeline-runner', '@keyless/cli'] },
      ],
    },
  },
  {
    // The runner plays the agent: it runs built tasks as processes and must not import their code or the sandbox.
    files: ['packages/pipeline-runner/src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            '@keyless/sandbox',
            '@keyless/sandbox/*',
            '@keyless/azure-pipelines',
            'azure-pipelines-task-lib',
            'azure-pipelines-task-lib/*',
          ],
        },
      ],
    },
  },
);
