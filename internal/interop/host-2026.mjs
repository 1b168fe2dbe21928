// A 2026 host: @modelcontextprotocol/client 2.4.0's Client with version
// negotiation on.
//
//   node host-2026.mjs --mode pin|auto [--record FILE] (--url URL | --stdio COMMAND ARG...)
//
// pin: versionNegotiation {mode: {pin: '2026-07-28'}}, 2026 or nothing.
// auto: versionNegotiation {mode: 'auto'}: server/discover first (over stdio
// on a throw-away sibling process), then 2026 or a fallback to initialize.

import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

import { closeHTTP, closeStdio, Hooks, parseArgs, runChecks, stdioParams, tap } from './checks.mjs';

const argv = process.argv.slice(2);
const mode = { pin: { pin: '2026-07-28' }, auto: 'auto' }[argv[argv.indexOf('--mode') + 1]];
if (!mode) throw new Error('--mode pin|auto');
const spec = parseArgs(argv);

const hooks = new Hooks();
const client = new Client(
    { name: `interop-host-2026-${argv[argv.indexOf('--mode') + 1]}`, version: '2.4.0' },
    {
        capabilities: { elicitation: { form: {} } },
        versionNegotiation: { mode, probe: { timeoutMs: 10_000 } },
        listChanged: { tools: { onChanged: (error, tools) => hooks.toolsChanged(error, tools) } }
    }
);
client.setRequestHandler('elicitation/create', request => hooks.elicit(request.params));

const transport = spec.url ? new StreamableHTTPClientTransport(new URL(spec.url)) : new StdioClientTransport(stdioParams(spec));
const wire = tap(transport, spec.record);

await runChecks({
    client,
    hooks,
    wire,
    callTool: (params, options) => client.callTool(params, options),
    connect: async () => {
        await client.connect(transport, { timeout: 30_000 });
        return `${client.getProtocolEra()} ${client.getNegotiatedProtocolVersion()}`;
    },
    close: () => (spec.url ? closeHTTP(client, transport) : closeStdio(client, transport))
});
process.exit(0);
