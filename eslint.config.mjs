// ESLint flat config: TypeScript strict rules plus prettier compatibility.
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'lib/',
      'aignostics_jupyter/',
      'coverage/',
      '.venv/',
      'ui-tests/',
      '**/*.js',
      '**/*.mjs'
    ]
  },
  ...tseslint.configs.strict,
  prettier,
  {
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    rules: {
      '@typescript-eslint/naming-convention': [
        'error',
        { selector: 'interface', format: ['PascalCase'], custom: { regex: '^I[A-Z]', match: true } }
      ],
      '@typescript-eslint/no-unused-vars': ['warn', { args: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      eqeqeq: 'error',
      curly: ['error', 'all']
    }
  }
);
