// A stateful 2025 server built with @modelcontextprotocol/sdk 1.x the way
// its README builds one: one McpServer and StreamableHTTPServerTransport per
// session (Mcp-Session-Id), the standalone GET stream for notifications, and
// DELETE to end the session.
//
//   node server-2025.mjs [--record FILE]

import { randomUUID } from 'node:crypto';

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import * as z from 'zod/v4';

import * as fx from './fixtures.mjs';

function buildServer() {
    const server = new McpServer({ name: fx.SERVER_NAME, version: '1.32.2' });
    const tool = (name, inputSchema, run) => server.registerTool(name, { description: name, inputSchema }, run);

    tool(fx.TOOLS.add, { a: z.number(), b: z.number() }, ({ a, b }) => fx.text(String(a + b)));
    tool(fx.TOOLS.progress, { steps: z.number().int() }, async ({ steps }, extra) => {
        const progressToken = extra._meta?.progressToken;
        for (let i = 1; progressToken !== undefined && i <= steps; i++) {
            await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress: i, total: steps } });
        }
        return fx.text('done');
    });
    // The 2025 way to ask the user: an elicitation/create request to the
    // client on the call's own stream.
    tool(fx.TOOLS.ask, {}, async (_args, extra) => {
        const answer = await server.server.elicitInput(
            { message: fx.ASK.message, requestedSchema: fx.ASK.schema },
            { relatedRequestId: extra.requestId }
        );
        return answer.action === 'accept' ? fx.text(`hello ${answer.content?.name}`) : fx.text(`no answer: ${answer.action}`, true);
    });
    tool(fx.TOOLS.big, {}, () => fx.text(fx.BIG_TEXT));
    tool(fx.TOOLS.fail, {}, () => fx.text(fx.FAIL_TEXT, true));
    tool(fx.TOOLS.slow, { id: z.string() }, async ({ id }, extra) => {
        const progressToken = extra._meta?.progressToken;
        if (progressToken !== undefined) {
            await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress: 1 } });
        }
        return fx.slowUntilCancelled(id, extra.signal);
    });
    tool(fx.TOOLS.cancelSeen, { id: z.string() }, ({ id }) => fx.cancelSeen(id));
    // Registering a tool on a connected McpServer sends
    // notifications/tools/list_changed (on the GET stream).
    tool(fx.TOOLS.addTool, { name: z.string() }, ({ name }) => {
        tool(name, {}, () => fx.text(name));
        return fx.text(`added ${name}`);
    });
    tool(fx.TOOLS.region, { region: z.string().meta({ 'x-mcp-header': fx.REGION_HEADER }) }, ({ region }) => fx.text(region));

    server.registerResource(fx.RESOURCE.name, fx.RESOURCE.uri, { mimeType: 'text/plain' }, () => ({
        contents: [{ uri: fx.RESOURCE.uri, mimeType: 'text/plain', text: fx.RESOURCE.text }]
    }));
    server.registerPrompt(fx.PROMPT.name, { argsSchema: { name: z.string() } }, ({ name }) => ({
        messages: [{ role: 'user', content: { type: 'text', text: fx.PROMPT.text(name) } }]
    }));
    return server;
}

/** sessions maps Mcp-Session-Id to its transport. */
const sessions = new Map();

fx.serve(async (req, res, body) => {
    const id = req.headers['mcp-session-id'];
    let transport = sessions.get(id);
    if (!transport && req.method === 'POST' && !id && isInitializeRequest(body)) {
        transport = new StreamableHTTPServerTransport({
            sessionIdGenerator: randomUUID,
            onsessioninitialized: sid => sessions.set(sid, transport)
        });
        transport.onclose = () => sessions.delete(transport.sessionId);
        await buildServer().connect(transport);
    }
    if (!transport) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: No valid session ID provided' }, id: null }));
        return;
    }
    await transport.handleRequest(req, res, body);
});

