// The real graphql-ws client in Node.js, driven by RealClientsIT.
// usage: node node-clients.mjs <ws url>
// Prints one JSON line per thing that happens; exits when stdin closes.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { scenario } from './scenario.mjs';

const url = process.argv[2];
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
scenario({ url, createClient, WebSocketImpl: WebSocket, out });
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
