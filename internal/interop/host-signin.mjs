// A 2026 host that shows the user the pages servers ask it to:
// @modelcontextprotocol/client 2.4.0 pinned to 2026-07-28, declaring
// URL-mode elicitation. Its elicitation handler plays the user: it opens
// the page with OPENER (`mcp-bridge demo approve`, a browser that presses
// Approve and follows the redirect) and accepts.
//
//   node host-signin.mjs --open OPENER --stdio COMMAND ARG...
//
// It connects, calls add(2, 3) and prints one JSON line: the sum it got
// (or the error) and the URL-mode elicitations it was asked to show.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

import { closeStdio, parseArgs, stdioParams } from './checks.mjs';
import * as fx from './fixtures.mjs';

const argv = process.argv.slice(2);
const opener = argv[argv.indexOf('--open') + 1];
const spec = parseArgs(argv);

const client = new Client(
    { name: 'interop-host-signin', version: '2.4.0' },
    { capabilities: { elicitation: { url: {} } }, versionNegotiation: { mode: { pin: '2026-07-28' } } }
);
const asked = [];
client.setRequestHandler('elicitation/create', async request => {
    asked.push({ mode: request.params.mode, url: request.params.url, message: request.params.message });
    await promisify(execFile)(opener, ['demo', 'approve', request.params.url]);
    return { action: 'accept' };
});

const transport = new StdioClientTransport(stdioParams(spec));
const report = { asked };
try {
    await client.connect(transport, { timeout: 30_000 });
    const result = await client.callTool({ name: fx.TOOLS.add, arguments: { a: 2, b: 3 } }, { timeout: 60_000 });
    report.text = result.content?.[0]?.text ?? '';
    report.isError = result.isError === true;
} catch (err) {
    report.error = String(err?.message ?? err);
}
try {
    report.closed = await closeStdio(client, transport);
} catch (err) {
    report.closeError = String(err?.message ?? err);
}
console.log(JSON.stringify(report));
process.exit(0);
