// A 2025 host: @modelcontextprotocol/sdk 1.x's Client, as desktop hosts
// built on it connect.
//
//   node host-2025.mjs --protocol 2025-06-18|2025-11-25 [--record FILE] (--url URL | --stdio COMMAND ARG...)
//
// SDK 1.32 always offers its latest revision (2025-11-25) in initialize;
// for 2025-06-18 the host rewrites that one field on the way out, which is
// what an SDK of that time sent.

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';

import { closeHTTP, closeStdio, Hooks, parseArgs, runChecks, stdioParams, tap } from './checks.mjs';

const argv = process.argv.slice(2);
const protocol = argv[argv.indexOf('--protocol') + 1];
if (!['2025-06-18', '2025-11-25'].includes(protocol)) throw new Error(`--protocol ${protocol}?`);
const spec = parseArgs(argv);

const hooks = new Hooks();
const client = new Client(
    { name: `interop-host-${protocol}`, version: '1.32.2' },
    {
        capabilities: { elicitation: {} },
        listChanged: { tools: { onChanged: (error, tools) => hooks.toolsChanged(error, tools) } }
    }
);
client.setRequestHandler(ElicitRequestSchema, request => hooks.elicit(request.params));

const transport = spec.url ? new StreamableHTTPClientTransport(new URL(spec.url)) : new StdioClientTransport(stdioParams(spec));
const wire = tap(transport, spec.record, message => {
    if (message.method === 'initialize') message.params.protocolVersion = protocol;
    return message;
});

await runChecks({
    client,
    hooks,
    wire,
    callTool: (params, options) => client.callTool(params, undefined, options),
    connect: async () => {
        await client.connect(transport, { timeout: 30_000 });
        return `initialize → ${wire.protocolVersion}`;
    },
    close: () => (spec.url ? closeHTTP(client, transport) : closeStdio(client, transport))
});
process.exit(0);
