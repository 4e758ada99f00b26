import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['vitest/**/*.test.ts'],
    testTimeout: 20000,
    hookTimeout: 30000,
  },
});
