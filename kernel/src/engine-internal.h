// Internals shared by the forwarding side (engine.cc) and the JS-thread side
// (engine-control.cc) of the engine: address and stats helpers, lock guards, the packet
// validator, and the per-thread state. Not part of the addon's interface.
#pragma once
#include "engine.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/ip.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>

namespace fp {

// The same checks as the JS path's classifyPacket (daemon/media/rtp.ts), so a packet is
// judged alike whichever path sees it: version 2; RTCP with a packet type of 192..223 and at
// least 8 bytes; RTP with its CSRC list, header extension and padding inside the datagram.
inline bool validRtpOrRtcp(const uint8_t* p, size_t len, bool rtcp) {
  if (len < 2 || (p[0] >> 6) != 2) return false;
  if (rtcp) return len >= 8 && p[1] >= 192 && p[1] <= 223;
  if (len < 12) return false;
  size_t header = 12 + (size_t)(p[0] & 0x0f) * 4;
  if (p[0] & 0x10) {
    if (len < header + 4) return false;
    header += 4 + (size_t)((p[header + 2] << 8) | p[header + 3]) * 4;
  }
  if (header > len) return false;
  if (p[0] & 0x20) {
    uint8_t pad = p[len - 1];
    if (pad == 0 || header + pad > len) return false;
  }
  return true;
}

namespace {

constexpr uint64_t WAKE_ID = 0;  // epoll data of a thread's stop eventfd; socket ids start at 1
// A punt batch goes up once it holds this many packets or bytes (checked after each recvmmsg
// batch, so a batch may exceed them by up to BATCH packets), and at the end of every epoll round.
constexpr size_t PUNT_FLUSH_PACKETS = 128;
constexpr size_t PUNT_FLUSH_BYTES = 128 * 1024;

inline void bump(std::atomic<uint64_t>& a, uint64_t n) {
  // single writer per counter: a plain load/store pair, no locked instruction
  a.store(a.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
}

inline double loadSlot(const uint64_t* p) {
  uint64_t bits = __atomic_load_n(p, __ATOMIC_RELAXED);
  double d;
  memcpy(&d, &bits, sizeof d);
  return d;
}

inline void storeSlot(uint64_t* p, double d) {
  uint64_t bits;
  memcpy(&bits, &d, sizeof bits);
  __atomic_store_n(p, bits, __ATOMIC_RELAXED);
}

inline bool parseAddr(int family, const std::string& address, uint16_t port, sockaddr_storage* out,
               socklen_t* len) {
  memset(out, 0, sizeof *out);
  if (family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(out);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    if (inet_pton(AF_INET, address.c_str(), &sin->sin_addr) != 1) return false;
    *len = sizeof(sockaddr_in);
    return true;
  }
  if (family == AF_INET6) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(out);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    if (inet_pton(AF_INET6, address.c_str(), &sin6->sin6_addr) != 1) return false;
    *len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

inline bool sameAddr(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    auto& x = reinterpret_cast<const sockaddr_in&>(a);
    auto& y = reinterpret_cast<const sockaddr_in&>(b);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (a.ss_family == AF_INET6) {
    auto& x = reinterpret_cast<const sockaddr_in6&>(a);
    auto& y = reinterpret_cast<const sockaddr_in6&>(b);
    return x.sin6_port == y.sin6_port &&
           memcmp(&x.sin6_addr, &y.sin6_addr, sizeof(in6_addr)) == 0;
  }
  return false;
}

inline double nowMs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)(ts.tv_nsec / 1000000);
}

class ReadLock {
 public:
  explicit ReadLock(pthread_rwlock_t* l) : l_(l) { pthread_rwlock_rdlock(l_); }
  ~ReadLock() { pthread_rwlock_unlock(l_); }

 private:
  pthread_rwlock_t* l_;
};

class WriteLock {
 public:
  explicit WriteLock(pthread_rwlock_t* l) : l_(l) { pthread_rwlock_wrlock(l_); }
  ~WriteLock() { pthread_rwlock_unlock(l_); }

 private:
  pthread_rwlock_t* l_;
};

inline int setTosFd(int fd, int family, int tos) {
  if (family == AF_INET6) return setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos);
  return setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
}

}  // namespace

struct Engine::Thread {
  Engine* eng = nullptr;
  unsigned index = 0;
  pthread_t th{};
  bool joinable = false;
  int epfd = -1;
  int evfd = -1;
  ThreadCounters c;
  std::atomic<double> finalCpu{-1.0};

  std::vector<uint8_t> buf;
  mmsghdr msgs[BATCH];
  iovec iov[BATCH];
  sockaddr_storage from[BATCH];

  struct Out {
    int fd;
    mmsghdr h;
    // A renumbered copy goes out as two pieces: its own first two bytes, then the rest of the
    // shared receive buffer (no copy of the payload). iov2 is pointed at when sending, once
    // `out` no longer grows.
    bool split;
    uint8_t hdr[2];
    iovec iov2[2];
    // An SRTP copy (its own buffer) instead of the shared receive buffer; null otherwise.
    uint8_t* enc;
    size_t encLen;
  };
  std::vector<Out> out;
  std::vector<mmsghdr> sendv;
  std::vector<int> fds;
  std::unique_ptr<PuntBatch> punt;
  // SRTP output copies of the current batch (one per packet and encrypting destination);
  // buffers are kept and reused, `encUsed` resets with every batch.
  std::vector<std::unique_ptr<uint8_t[]>> enc;
  size_t encUsed = 0;
};

}  // namespace fp
