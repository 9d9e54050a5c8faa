// The scenario both real clients run (Node.js and the page in Chromium), with what they have:
// graphql-ws's createClient and a WebSocket implementation. `out` reports each event as an object.
export function scenario({ url, createClient, WebSocketImpl, out }) {
  const query = 'subscription { orderUpdated(customerId: "c1") { id status } }';
  const sub = (name, token, q) => {
    const client = createClient({
      url,
      webSocketImpl: WebSocketImpl,
      connectionParams: { token },
      retryAttempts: 0,
      lazy: false,
      on: { closed: (e) => out({ client: name, closed: e && e.code }) },
    });
    client.subscribe({ query: q }, {
      next: (value) => out({ client: name, next: value }),
      error: (err) => out({ client: name, error: Array.isArray(err) ? err.map((e) => e.message).join('; ') : String(err && (err.reason || err.message || err)) }),
      complete: () => out({ client: name, complete: true }),
    });
  };
  sub('a', 't1-alice', query);           // tenant t1, customer c1
  sub('b', 't2-bob', query);             // another tenant, same filter
  sub('c', 't1-carol', 'subscription { orderUpdated { id nope } }'); // unknown field
  // a malformed message: subscribe without payload
  const raw = new WebSocketImpl(url, 'graphql-transport-ws');
  raw.onopen = () => raw.send(JSON.stringify({ type: 'connection_init', payload: { token: 't1-mallory' } }));
  raw.onmessage = (m) => {
    if (JSON.parse(typeof m.data === 'string' ? m.data : m.data.toString()).type === 'connection_ack') {
      raw.send('{"type":"subscribe","id":"1"}');
    }
  };
  raw.onclose = (e) => out({ client: 'malformed', closed: e.code, reason: e.reason });
}
