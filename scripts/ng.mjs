#!/usr/bin/env node
// A minimal ng client for trying the daemon by hand:
//   node scripts/ng.mjs [--host 127.0.0.1] [--port 2223] '{"command":"ping"}' ['{...}' ...]
// Each argument is one JSON request, sent bencoded with a fresh cookie; replies are printed as
// JSON (SDP bodies as text). Needs `npm run build` first.
import dgram from 'node:dgram';
import { bencodeDecode, bencodeEncode, bencodeToPlain } from '../dist/daemon/control/bencode.js';

const args = process.argv.slice(2);
let host = '127.0.0.1';
let port = 2223;
const requests = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--host') host = args[++i];
  else if (args[i] === '--port') port = Number(args[++i]);
  else requests.push(JSON.parse(args[i]));
}
const socket = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
for (const [i, request] of requests.entries()) {
  const cookie = `${process.pid}_${i}`;
  const reply = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), 3000);
    socket.on('message', function onMessage(msg) {
      const space = msg.indexOf(0x20);
      if (msg.toString('latin1', 0, space) !== cookie) return;
      clearTimeout(timer);
      socket.off('message', onMessage);
      resolve(bencodeToPlain(bencodeDecode(msg.subarray(space + 1))));
    });
    socket.send(Buffer.concat([Buffer.from(`${cookie} `), bencodeEncode(request)]), port, host);
  });
  if (reply === null) {
    console.error(`no reply to ${JSON.stringify(request.command)} from ${host}:${port}`);
    process.exitCode = 1;
    continue;
  }
  const { sdp, ...rest } = reply;
  console.log(JSON.stringify(rest, null, 2));
  if (sdp) console.log(sdp.replace(/\r\n/g, '\n'));
}
socket.close();
