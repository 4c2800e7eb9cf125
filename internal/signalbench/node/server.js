// The original signaling server as the write-up describes it: one
// WebSocket endpoint on the root path, a short text answer to plain GETs,
// a time-based base-36 id per connection, every text message parsed as
// JSON and forwarded to every other open connection with "sender" added.
// Rooms are not honoured. Connects, forwards and disconnects are logged.
const http = require('http');
const WebSocket = require('ws');

const port = Number(process.env.PORT || 3000);
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain' });
  res.end('WebSocket signaling server');
});
const wss = new WebSocket.Server({ server });

wss.on('connection', (ws) => {
  const id = Date.now().toString(36);
  console.log(`client connected: ${id} (total ${wss.clients.size})`);
  ws.on('message', (message) => {
    let data;
    try {
      data = JSON.parse(message);
    } catch (e) {
      console.error('invalid message:', e.message);
      return;
    }
    console.log(`forwarding ${data.type} from ${id}`);
    const out = JSON.stringify({ ...data, sender: id });
    wss.clients.forEach((client) => {
      if (client !== ws && client.readyState === WebSocket.OPEN) client.send(out);
    });
  });
  ws.on('close', () => console.log(`client disconnected: ${id} (total ${wss.clients.size})`));
});

server.listen(port, '127.0.0.1', () => console.log(`signaling server on ${port}`));
