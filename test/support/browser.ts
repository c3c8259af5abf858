import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium (`apt-get install chromium fonts-noto-cjk`); never a browser Playwright downloads. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Screenshots and other artefacts of browser tests (gitignored; CI keeps the folder). */
export const ARTIFACT_DIR = resolve(__dirname, '../../test-artifacts/checkout');

const isCi = () => !!process.env.CI && process.env.CI !== 'false' && process.env.CI !== '0';

/**
 * Whether browser tests can run. Without chromium they are skipped with a loud message on a
 * developer's machine, and fail in CI, where .ci/run installs it: a browser test must never
 * disappear silently.
 */
export function chromiumAvailability(): { run: true } | { run: false; fail: boolean; reason: string } {
  if (existsSync(CHROMIUM_PATH)) return { run: true };
  const reason = `chromium not found at ${CHROMIUM_PATH}: install it with \`apt-get update && apt-get install -y chromium fonts-noto-cjk\` (or set CHROMIUM_PATH)`;
  if (!isCi()) process.stderr.write(`\n*** BROWSER TESTS SKIPPED: ${reason} ***\n\n`);
  return { run: false, fail: isCi(), reason };
}

/**
 * A describe block of browser tests: its body when chromium is here; otherwise one test that fails
 * in CI, or is skipped saying why on a developer's machine.
 */
export function describeInBrowser(name: string, body: () => void): void {
  const availability = chromiumAvailability();
  describe(name, () => {
    if (availability.run) return body();
    if (availability.fail)
      it('needs chromium in CI', () => {
        throw new Error(availability.reason);
      });
    else it.skip(`SKIPPED: ${availability.reason}`, () => undefined);
  });
}

/** A full-page screenshot of the page, into ARTIFACT_DIR as `<name>.png`. */
export function screenshot(page: Page, name: string): Promise<Buffer> {
  return page.screenshot({ path: join(ARTIFACT_DIR, `${name}.png`), fullPage: true });
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** A headless chromium with a fresh profile, nothing fetched from the network on its own. */
export async function launchBrowser(options: { locale?: string } = {}): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'memberpay-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    locale: options.locale,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  mkdirSync(ARTIFACT_DIR, { recursive: true });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
