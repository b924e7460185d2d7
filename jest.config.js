// jest: the sidebar's models and React components in jsdom, TypeScript through ts-jest.
// The request module is faked in every test (src/__tests__/fakeRequest.ts), so no JupyterLab package is loaded.
module.exports = {
  testEnvironment: 'jsdom',
  roots: ['<rootDir>/src'],
  testMatch: ['**/__tests__/**/*.test.ts?(x)'],
  transform: {
    '^.+\\.tsx?$': ['ts-jest', { tsconfig: 'tsconfig.test.json' }]
  },
  moduleNameMapper: {
    '\\.(css|svg)$': '<rootDir>/src/__tests__/fileStub.js'
  },
  coverageDirectory: 'coverage',
  collectCoverageFrom: [
    'src/**/*.{ts,tsx}',
    '!src/__tests__/**',
    '!src/index.ts',
    '!src/lab.ts',
    '!src/panel.tsx',
    '!src/icon.ts',
    '!src/request.ts',
    '!src/svg.d.ts'
  ]
};
