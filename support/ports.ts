/** Free local ports for ng listeners and peers. */
import dgram from 'node:dgram';

/** A UDP port that was free a moment ago (bind to 0, read the port, close). */
export async function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.once('error', reject);
    s.bind(0, host, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
