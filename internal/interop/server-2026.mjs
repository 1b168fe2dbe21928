// A 2026-07-28 server built with @modelcontextprotocol/server 2.4.0 the way
// its docs build one: createMcpHandler over a per-request McpServer factory,
// mounted on node:http with @modelcontextprotocol/node.
//
//   node server-2026.mjs [--reject] [--record FILE]
//
// By default the handler is dual-era (legacy: 'stateless': 2025 clients are
// served statelessly, GET and DELETE answer 405); --reject makes it
// 2026-only (legacy: 'reject': initialize gets 400 -32022).

import { localhostHostValidation, toNodeHandler } from '@modelcontextprotocol/node';
import { acceptedContent, createMcpHandler, inputRequired, McpServer } from '@modelcontextprotocol/server';
import * as z from 'zod/v4';

import * as fx from './fixtures.mjs';

/** extraTools are the tools add_tool registered; every request's instance serves them. */
const extraTools = new Set();

function buildServer() {
    const server = new McpServer({ name: fx.SERVER_NAME, version: '2.4.0' });
    const tool = (name, inputSchema, run) => server.registerTool(name, { description: name, inputSchema }, run);

    tool(fx.TOOLS.add, z.object({ a: z.number(), b: z.number() }), ({ a, b }) => fx.text(String(a + b)));
    tool(fx.TOOLS.progress, z.object({ steps: z.number().int() }), async ({ steps }, ctx) => {
        const progressToken = ctx.mcpReq._meta?.progressToken;
        for (let i = 1; progressToken !== undefined && i <= steps; i++) {
            await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress: i, total: steps } });
        }
        return fx.text('done');
    });
    // The 2026 way to ask the user: return input_required; the client retries
    // with the answer. For a 2025 client the SDK's legacy shim sends a real
    // elicitation/create instead.
    tool(fx.TOOLS.ask, z.object({}), (_args, ctx) => {
        const answer = acceptedContent(ctx.mcpReq.inputResponses, 'name', z.object({ name: z.string() }));
        if (answer === undefined) {
            return inputRequired({
                inputRequests: { name: inputRequired.elicit({ message: fx.ASK.message, requestedSchema: fx.ASK.schema }) }
            });
        }
        return fx.text(`hello ${answer.name}`);
    });
    tool(fx.TOOLS.big, z.object({}), () => fx.text(fx.BIG_TEXT));
    tool(fx.TOOLS.fail, z.object({}), () => fx.text(fx.FAIL_TEXT, true));
    tool(fx.TOOLS.slow, z.object({ id: z.string() }), async ({ id }, ctx) => {
        const progressToken = ctx.mcpReq._meta?.progressToken;
        if (progressToken !== undefined) {
            await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress: 1 } });
        }
        return fx.slowUntilCancelled(id, ctx.mcpReq.signal);
    });
    tool(fx.TOOLS.cancelSeen, z.object({ id: z.string() }), ({ id }) => fx.cancelSeen(id));
    tool(fx.TOOLS.addTool, z.object({ name: z.string() }), ({ name }) => {
        extraTools.add(name);
        handler.notify.toolsChanged();
        return fx.text(`added ${name}`);
    });
    tool(fx.TOOLS.region, z.object({ region: z.string().meta({ 'x-mcp-header': fx.REGION_HEADER }) }), ({ region }) =>
        fx.text(region)
    );
    for (const name of extraTools) tool(name, z.object({}), () => fx.text(name));

    server.registerResource(fx.RESOURCE.name, fx.RESOURCE.uri, { mimeType: 'text/plain' }, () => ({
        contents: [{ uri: fx.RESOURCE.uri, mimeType: 'text/plain', text: fx.RESOURCE.text }]
    }));
    server.registerPrompt(fx.PROMPT.name, { argsSchema: z.object({ name: z.string() }) }, ({ name }) => ({
        messages: [{ role: 'user', content: { type: 'text', text: fx.PROMPT.text(name) } }]
    }));
    return server;
}

const handler = createMcpHandler(buildServer, { legacy: process.argv.includes('--reject') ? 'reject' : 'stateless' });
const nodeHandler = toNodeHandler(handler);
const validateHost = localhostHostValidation();

fx.serve((req, res, body) => {
    if (validateHost(req, res)) return nodeHandler(req, res, body);
});
