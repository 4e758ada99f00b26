import { defineConfig } from '@playwright/test';

// Debian's chromium, not a browser build Playwright downloads: `npx playwright install` is never
// run. CHROMIUM overrides the path.
const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';

export default defineConfig({
  testDir: './playwright',
  timeout: 30000,
  reporter: [['list']],
  forbidOnly: true,
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: {
      executablePath,
      args: [
        // As root (CI), Chromium's sandbox cannot start.
        '--no-sandbox',
        // The machine has no network beyond the loopback: no background calls home.
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
        '--disable-quic',
      ],
    },
  },
});
