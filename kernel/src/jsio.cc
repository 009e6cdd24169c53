// rtpengine-ts native addon: batched sends from the JS thread (the JS path's output).
//
// The JS path (daemon/kernel/native-io.ts) does not make one native call and one sendto() per
// datagram: while it handles a batch of packets it appends every datagram it sends to one
// buffer, then hands the whole buffer over in one call. Here the records become one mmsghdr
// each and go out with sendmmsg(), one call per run of consecutive records from the same
// socket (so the order of datagrams is kept). Runs only on the JS thread, which is the only
// writer of the socket map and of every socket's fd, so no lock is needed to read them.
//
// Record layout (host byte order, 4-byte aligned; written by native-io.ts):
//   u32 socket id | u32 length | u32 port | family << 16 | 16 bytes address (network order;
//   IPv4 in the first 4) | data, padded to a multiple of 4
#include "engine-internal.h"

#include <vector>

namespace fp {

namespace {

constexpr size_t RECORD_HEADER = 28;

// Scratch space of the JS thread (one per thread: a worker thread could own another engine).
struct SendScratch {
  std::vector<mmsghdr> msgs;
  std::vector<iovec> iovs;
  std::vector<sockaddr_storage> addrs;
  std::vector<int> fds;
};
thread_local SendScratch scratch;

}  // namespace

uint32_t Engine::sendBatch(const uint8_t* buf, size_t bytes, uint32_t count) {
  SendScratch& sc = scratch;
  if (sc.msgs.size() < count) {
    sc.msgs.resize(count);
    sc.iovs.resize(count);
    sc.addrs.resize(count);
    sc.fds.resize(count);
  }
  uint32_t n = 0, bad = 0;
  size_t off = 0;
  for (uint32_t i = 0; i < count; i++) {
    if (off + RECORD_HEADER > bytes) {
      bad += count - i;
      break;
    }
    uint32_t id, len, portFamily;
    memcpy(&id, buf + off, 4);
    memcpy(&len, buf + off + 4, 4);
    memcpy(&portFamily, buf + off + 8, 4);
    const uint8_t* addr = buf + off + 12;
    const uint8_t* data = buf + off + RECORD_HEADER;
    if (len > bytes || off + RECORD_HEADER + len > bytes) {
      bad += count - i;
      break;
    }
    off += RECORD_HEADER + ((len + 3) & ~(size_t)3);
    auto it = socks_.find(id);
    int fd = it == socks_.end() ? -1 : it->second->fd;
    int af = ((portFamily >> 16) & 0xff) == 6 ? AF_INET6 : AF_INET;
    if (fd < 0 || af != it->second->family) {
      bad++;
      continue;
    }
    sockaddr_storage& sa = sc.addrs[n];
    memset(&sa, 0, sizeof sa);
    socklen_t salen;
    uint16_t port = htons((uint16_t)(portFamily & 0xffff));
    if (af == AF_INET) {
      auto* sin = reinterpret_cast<sockaddr_in*>(&sa);
      sin->sin_family = AF_INET;
      sin->sin_port = port;
      memcpy(&sin->sin_addr, addr, 4);
      salen = sizeof(sockaddr_in);
    } else {
      auto* sin6 = reinterpret_cast<sockaddr_in6*>(&sa);
      sin6->sin6_family = AF_INET6;
      sin6->sin6_port = port;
      memcpy(&sin6->sin6_addr, addr, 16);
      salen = sizeof(sockaddr_in6);
    }
    sc.iovs[n].iov_base = const_cast<uint8_t*>(data);
    sc.iovs[n].iov_len = len;
    mmsghdr& m = sc.msgs[n];
    memset(&m, 0, sizeof m);
    m.msg_hdr.msg_name = &sa;
    m.msg_hdr.msg_namelen = salen;
    m.msg_hdr.msg_iov = &sc.iovs[n];
    m.msg_hdr.msg_iovlen = 1;
    sc.fds[n] = fd;
    n++;
  }

  uint32_t sent = 0;
  size_t i = 0;
  while (i < n) {
    size_t j = i + 1;
    while (j < n && sc.fds[j] == sc.fds[i]) j++;
    size_t k = i;
    while (k < j) {
      int w = sendmmsg(sc.fds[i], sc.msgs.data() + k, (unsigned)(j - k), MSG_DONTWAIT);
      if (w > 0) {
        sent += (uint32_t)w;
        k += (size_t)w;
        continue;
      }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
        bad += (uint32_t)(j - k);  // full send buffer: drop the rest of this run, never spin
        break;
      }
      bad++;  // this datagram failed (e.g. ECONNREFUSED from an earlier ICMP): skip it
      k++;
    }
    i = j;
  }
  jsSent += sent;
  jsSendErrors += bad;
  return sent;
}

}  // namespace fp
