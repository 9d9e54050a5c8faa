// graphql-ws in a page of headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core),
// driven by RealClientsIT. usage: node browser-clients.mjs <ws url> <http page url>
// Prints one JSON line per thing that happens in the page; exits when stdin closes.
import { chromium } from 'playwright-core';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const [url, page_url] = process.argv.slice(2);
const here = dirname(fileURLToPath(import.meta.url));
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const umd = join(here, 'node_modules', 'graphql-ws', 'umd', 'graphql-ws.min.js');
const scenarioSource = readFileSync(join(here, 'scenario.mjs'), 'utf8').replace('export function', 'function');

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const page = await browser.newPage();
page.on('console', (m) => process.stderr.write('[page] ' + m.text() + '\n'));
await page.exposeFunction('report', (o) => out(o));
await page.goto(page_url);
await page.addScriptTag({ path: umd });
await page.addScriptTag({ content: scenarioSource });
await page.evaluate((u) => {
  // eslint-disable-next-line no-undef
  scenario({ url: u, createClient: graphqlWs.createClient, WebSocketImpl: WebSocket, out: (o) => window.report(o) });
}, url);
out({ browser: await browser.version() });
process.stdin.on('end', async () => { await browser.close(); process.exit(0); });
process.stdin.resume();
