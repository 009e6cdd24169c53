// rtpengine-ts native fast path: forwarding threads, sockets, forwarding table.
// See engine.h for the threading and locking model, docs/fast-path.md for the overview.
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
static bool validRtpOrRtcp(const uint8_t* p, size_t len, bool rtcp) {
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

bool parseAddr(int family, const std::string& address, uint16_t port, sockaddr_storage* out,
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

double nowMs() {
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

int setTosFd(int fd, int family, int tos) {
  if (family == AF_INET6) return setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos);
  return setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

Entry::Entry(Engine* e) : engine(e) { engine->liveEntries.fetch_add(1, std::memory_order_relaxed); }
Entry::~Entry() { engine->liveEntries.fetch_sub(1, std::memory_order_relaxed); }

Sock::Sock(Engine* e, uint32_t id_, int fd_, int family_, unsigned thread_, uint64_t* stats_)
    : engine(e), id(id_), fd(fd_), family(family_), thread(thread_), stats(stats_) {
  engine->liveSockets.fetch_add(1, std::memory_order_relaxed);
}
Sock::~Sock() {
  if (fd >= 0) close(fd);  // only reached if never registered (error paths)
  engine->liveSockets.fetch_sub(1, std::memory_order_relaxed);
}

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
  };
  std::vector<Out> out;
  std::vector<mmsghdr> sendv;
  std::vector<int> fds;
  std::unique_ptr<PuntBatch> punt;
};

Engine::Engine() {
  pthread_rwlockattr_t attr;
  pthread_rwlockattr_init(&attr);
  // Readers run continuously under load; without writer preference setEntry could starve.
  pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init(&lock_, &attr);
  pthread_rwlockattr_destroy(&attr);
}

Engine::~Engine() {
  shutdown();
  pthread_rwlock_destroy(&lock_);
}

std::string Engine::start(int nthreads, int tos, PuntFn punt, void* puntCtx) {
  if (started_) return "already started";
  if (nthreads < 1 || nthreads > MAX_THREADS) return "threads must be 1.." + std::to_string(MAX_THREADS);
  started_ = true;
  tos_ = tos;
  punt_ = punt;
  puntCtx_ = puntCtx;

  for (int i = 0; i < nthreads; i++) {
    auto t = std::make_unique<Thread>();
    t->eng = this;
    t->index = (unsigned)i;
    t->buf.resize((size_t)BATCH * MAX_PACKET);
    t->out.reserve(BATCH * 2);
    t->sendv.reserve(BATCH * 2);
    t->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (t->epfd < 0) {
      std::string why = std::string("epoll_create1: ") + strerror(errno);
      threads_.push_back(std::move(t));
      shutdown();
      return why;
    }
    t->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (t->evfd < 0) {
      std::string why = std::string("eventfd: ") + strerror(errno);
      threads_.push_back(std::move(t));
      shutdown();
      return why;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = WAKE_ID;
    if (epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->evfd, &ev) < 0) {
      std::string why = std::string("epoll_ctl(eventfd): ") + strerror(errno);
      threads_.push_back(std::move(t));
      shutdown();
      return why;
    }
    threads_.push_back(std::move(t));
  }

  // Forwarding threads must not take process signals meant for Node's main thread.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  std::string why;
  for (auto& t : threads_) {
    int rc = pthread_create(&t->th, nullptr, &Engine::threadMain, t.get());
    if (rc != 0) {
      why = std::string("pthread_create: ") + strerror(rc);
      break;
    }
    t->joinable = true;
    char name[16];
    snprintf(name, sizeof name, "rtpe-fwd-%u", t->index);
    pthread_setname_np(t->th, name);
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (!why.empty()) shutdown();
  return why;
}

void Engine::shutdown() {
  if (shut_) return;
  shut_ = true;
  stop_.store(true, std::memory_order_release);
  for (auto& t : threads_) {
    if (t->evfd >= 0) {
      uint64_t one = 1;
      ssize_t w = write(t->evfd, &one, sizeof one);
      (void)w;
    }
  }
  for (auto& t : threads_) {
    if (t->joinable) {
      pthread_join(t->th, nullptr);
      t->joinable = false;
    }
  }
  // No thread runs any more; the lock is taken anyway for form's sake.
  std::vector<std::unique_ptr<Entry>> dead;
  {
    WriteLock wl(&lock_);
    for (auto& kv : socks_) {
      Sock* s = kv.second.get();
      if (s->entry) dead.push_back(std::move(s->entry));
      if (s->fd >= 0) {
        if (s->thread < threads_.size() && threads_[s->thread]->epfd >= 0)
          epoll_ctl(threads_[s->thread]->epfd, EPOLL_CTL_DEL, s->fd, nullptr);
        close(s->fd);
        s->fd = -1;
      }
      s->stats = nullptr;
    }
    tableEntries_ = 0;
  }
  dead.clear();   // drops the entries' references to destination sockets
  socks_.clear(); // frees the sockets
  for (auto& t : threads_) {
    if (t->epfd >= 0) close(t->epfd);
    if (t->evfd >= 0) close(t->evfd);
    t->epfd = t->evfd = -1;
    t->punt.reset();
  }
}

void* Engine::threadMain(void* arg) {
  auto* t = static_cast<Thread*>(arg);
  t->eng->run(t);
  timespec ts;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
    t->finalCpu.store((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
  return nullptr;
}

void Engine::run(Thread* t) {
  epoll_event evs[64];
  while (!stop_.load(std::memory_order_acquire)) {
    int n = epoll_wait(t->epfd, evs, 64, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    double now = nowMs();
    for (int i = 0; i < n; i++) {
      uint64_t id = evs[i].data.u64;
      if (id == WAKE_ID) continue;  // stop_ is checked by the loop
      handleSocket(t, (uint32_t)id, now);
      if (t->punt && (t->punt->meta.size() >= PUNT_FLUSH_PACKETS || t->punt->data.size() >= PUNT_FLUSH_BYTES))
        flushPunts(t);
    }
    flushPunts(t);
  }
  flushPunts(t);
}

void Engine::flushPunts(Thread* t) {
  if (!t->punt || t->punt->meta.empty()) return;
  PuntBatch* b = t->punt.release();
  uint64_t n = b->meta.size();
  if (punt_ && punt_(puntCtx_, b)) {
    bump(t->c.punted, n);
  } else {
    bump(t->c.puntDropped, n);
    delete b;
  }
}

void Engine::handleSocket(Thread* t, uint32_t id, double now) {
  ReadLock rl(&lock_);
  auto it = socks_.find(id);
  if (it == socks_.end()) return;
  Sock* s = it->second.get();
  if (s->fd < 0) return;

  for (int i = 0; i < BATCH; i++) {
    t->iov[i].iov_base = t->buf.data() + (size_t)i * MAX_PACKET;
    t->iov[i].iov_len = MAX_PACKET;
    mmsghdr& m = t->msgs[i];
    memset(&m.msg_hdr, 0, sizeof m.msg_hdr);
    m.msg_hdr.msg_name = &t->from[i];
    m.msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    m.msg_hdr.msg_iov = &t->iov[i];
    m.msg_hdr.msg_iovlen = 1;
    m.msg_len = 0;
  }
  int r = recvmmsg(s->fd, t->msgs, BATCH, MSG_DONTWAIT, nullptr);
  if (r <= 0) {
    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
      bump(t->c.recvErrors, 1);
    return;
  }
  bump(t->c.received, (uint64_t)r);

  Entry* e = s->entry.get();
  uint64_t accPackets = 0, accBytes = 0, errs = 0;
  t->out.clear();

  for (int i = 0; i < r; i++) {
    const mmsghdr& m = t->msgs[i];
    size_t len = m.msg_len;
    if (m.msg_hdr.msg_flags & MSG_TRUNC) {
      bump(t->c.oversized, 1);
      continue;
    }
    if (len == 0) {
      bump(t->c.empty, 1);
      continue;
    }
    const uint8_t* p = static_cast<const uint8_t*>(t->iov[i].iov_base);
    uint8_t b0 = p[0];
    bool toJs = false;
    const std::vector<Dest>* list = nullptr;

    if (b0 <= 3 || (b0 >= 20 && b0 <= 63)) {
      toJs = true;  // STUN / DTLS: always JS
    } else if (!e || !sameAddr(t->from[i], e->source)) {
      toJs = true;  // no entry or not the expected source: JS learns / drops / counts
    } else {
      bool rtcp;
      if (e->isRtcpSocket)
        rtcp = true;
      else if (e->rtcpMux && len >= 2 && p[1] >= 192 && p[1] <= 223)
        rtcp = true;
      else
        rtcp = false;
      if (!validRtpOrRtcp(p, len, rtcp)) {
        errs++;
        continue;
      }
      if (!rtcp && e->ptFilter && !e->pts[p[1] & 0x7f]) {
        toJs = true;
      } else {
        list = rtcp ? &e->rtcp : &e->rtp;
      }
    }

    if (toJs) {
      if (!t->punt) {
        t->punt = std::make_unique<PuntBatch>();
        t->punt->meta.reserve(BATCH);
      }
      PuntBatch& pb = *t->punt;
      PuntBatch::Meta meta{};
      meta.sockId = s->id;
      meta.offset = (uint32_t)pb.data.size();
      meta.len = (uint32_t)len;
      if (t->from[i].ss_family == AF_INET6) {
        auto& sin6 = reinterpret_cast<const sockaddr_in6&>(t->from[i]);
        meta.family = 6;
        meta.port = ntohs(sin6.sin6_port);
        memcpy(meta.addr, &sin6.sin6_addr, 16);
      } else {
        auto& sin = reinterpret_cast<const sockaddr_in&>(t->from[i]);
        meta.family = 4;
        meta.port = ntohs(sin.sin_port);
        memcpy(meta.addr, &sin.sin_addr, 4);
      }
      pb.data.insert(pb.data.end(), p, p + len);
      pb.meta.push_back(meta);
      continue;
    }

    accPackets++;
    accBytes += len;
    if (list->empty()) {
      bump(t->c.noDest, 1);
      continue;
    }
    t->iov[i].iov_len = len;
    for (const Dest& d : *list) {
      int fd = d.via->fd;
      if (fd < 0) {
        bump(t->c.sendErrors, 1);  // destination socket closed meanwhile
        continue;
      }
      Thread::Out o;
      o.fd = fd;
      memset(&o.h, 0, sizeof o.h);
      o.h.msg_hdr.msg_name = const_cast<sockaddr_storage*>(&d.addr);
      o.h.msg_hdr.msg_namelen = d.addrLen;
      o.h.msg_hdr.msg_iov = &t->iov[i];
      o.h.msg_hdr.msg_iovlen = 1;
      t->out.push_back(o);
    }
  }

  if (accPackets || errs) {
    uint64_t* st = s->stats;
    if (st) {
      if (accPackets) {
        storeSlot(&st[0], loadSlot(&st[0]) + (double)accPackets);
        storeSlot(&st[1], loadSlot(&st[1]) + (double)accBytes);
        storeSlot(&st[3], now);
      }
      if (errs) storeSlot(&st[2], loadSlot(&st[2]) + (double)errs);
    }
    bump(t->c.packets, accPackets);
    bump(t->c.bytes, accBytes);
    bump(t->c.errors, errs);
  }

  if (t->out.empty()) return;

  // Send per via-socket, keeping the packet order for each (fd, destination).
  t->fds.clear();
  for (const auto& o : t->out)
    if (std::find(t->fds.begin(), t->fds.end(), o.fd) == t->fds.end()) t->fds.push_back(o.fd);
  for (int fd : t->fds) {
    t->sendv.clear();
    for (const auto& o : t->out)
      if (o.fd == fd) t->sendv.push_back(o.h);
    size_t n = t->sendv.size(), i = 0;
    while (i < n) {
      int w = sendmmsg(fd, t->sendv.data() + i, (unsigned)(n - i), MSG_DONTWAIT);
      if (w > 0) {
        bump(t->c.sent, (uint64_t)w);
        i += (size_t)w;
        continue;
      }
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
        bump(t->c.sendErrors, n - i);  // full send buffer: drop the rest, never spin
        break;
      }
      bump(t->c.sendErrors, 1);  // this datagram failed: skip it
      i++;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// JS-thread operations

OpenResult Engine::open(const std::string& address, uint16_t port, int family, uint64_t* stats) {
  OpenResult res{0, "", 0, 0};
  if (shut_ || !started_) {
    res.err = ESHUTDOWN;
    res.what = "engine closed";
    return res;
  }
  int af = family == 6 ? AF_INET6 : AF_INET;
  sockaddr_storage sa;
  socklen_t salen;
  if (!parseAddr(af, address, port, &sa, &salen)) {
    res.err = EINVAL;
    res.what = "invalid IPv" + std::to_string(family) + " address '" + address + "'";
    return res;
  }
  int fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    res.err = errno;
    res.what = std::string("socket: ") + strerror(errno);
    return res;
  }
  int one = 1;
  if (af == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, reinterpret_cast<sockaddr*>(&sa), salen) < 0) {
    res.err = errno;
    res.what = std::string("bind: ") + strerror(errno);
    close(fd);
    return res;
  }
  sockaddr_storage bound;
  socklen_t blen = sizeof bound;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen) < 0) {
    res.err = errno;
    res.what = std::string("getsockname: ") + strerror(errno);
    close(fd);
    return res;
  }
  res.port = af == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6&>(bound).sin6_port)
                            : ntohs(reinterpret_cast<sockaddr_in&>(bound).sin_port);
  int bufsz = 1 << 20;  // best effort; capped by net.core.[rw]mem_max
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof bufsz);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof bufsz);
  if (tos_ >= 0) setTosFd(fd, af, tos_);

  uint32_t id = nextId_++;
  if (nextId_ == 0) nextId_ = 1;
  unsigned th = nextThread_++ % threads_.size();
  for (int i = 0; i < SLOT_FIELDS; i++) storeSlot(&stats[i], 0.0);
  auto sock = std::make_shared<Sock>(this, id, fd, af, th, stats);

  WriteLock wl(&lock_);
  socks_[id] = sock;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = id;
  if (epoll_ctl(threads_[th]->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
    res.err = errno;
    res.what = std::string("epoll_ctl: ") + strerror(errno);
    socks_.erase(id);  // Sock destructor closes fd
    return res;
  }
  res.id = id;
  return res;
}

uint64_t* Engine::closeSocket(uint32_t id) {
  auto it = socks_.find(id);
  if (it == socks_.end()) return nullptr;
  std::shared_ptr<Sock> s = it->second;
  std::unique_ptr<Entry> old;
  uint64_t* stats;
  {
    WriteLock wl(&lock_);
    socks_.erase(it);
    if (s->fd >= 0) {
      epoll_ctl(threads_[s->thread]->epfd, EPOLL_CTL_DEL, s->fd, nullptr);
      close(s->fd);
      s->fd = -1;
    }
    old = std::move(s->entry);
    if (old) tableEntries_--;
    stats = s->stats;
    s->stats = nullptr;
  }
  return stats;  // old entry and (unless a destination still uses it) the socket die here
}

bool Engine::send(uint32_t id, const uint8_t* data, size_t len, const std::string& address,
                  uint16_t port) {
  auto it = socks_.find(id);
  if (it == socks_.end() || it->second->fd < 0) {
    jsSendErrors++;
    return false;
  }
  Sock* s = it->second.get();
  sockaddr_storage sa;
  socklen_t salen;
  if (!parseAddr(s->family, address, port, &sa, &salen)) {
    jsSendErrors++;
    return false;
  }
  ssize_t w;
  do {
    w = sendto(s->fd, data, len, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&sa), salen);
  } while (w < 0 && errno == EINTR);
  if (w < 0) {
    jsSendErrors++;
    return false;
  }
  jsSent++;
  return true;
}

bool Engine::setTos(uint32_t id, int tos) {
  auto it = socks_.find(id);
  if (it == socks_.end() || it->second->fd < 0) return false;
  return setTosFd(it->second->fd, it->second->family, tos) == 0;
}

std::string Engine::setEntry(uint32_t id, const EntrySpec& spec) {
  auto it = socks_.find(id);
  if (it == socks_.end()) return "socket is closed";
  Sock* s = it->second.get();
  auto e = std::make_unique<Entry>(this);
  if (!parseAddr(s->family, spec.sourceAddr, spec.sourcePort, &e->source, &e->sourceLen))
    return "invalid source address '" + spec.sourceAddr + "' for an IPv" +
           (s->family == AF_INET6 ? "6" : "4") + " socket";
  auto build = [&](const std::vector<EntrySpec::D>& in, std::vector<Dest>& out) -> std::string {
    out.reserve(in.size());
    for (const auto& d : in) {
      auto vit = socks_.find(d.via);
      if (vit == socks_.end()) return "destination socket is closed";
      Dest dest;
      dest.via = vit->second;
      if (!parseAddr(dest.via->family, d.addr, d.port, &dest.addr, &dest.addrLen))
        return "invalid destination address '" + d.addr + "' for an IPv" +
               (dest.via->family == AF_INET6 ? "6" : "4") + " socket";
      out.push_back(std::move(dest));
    }
    return "";
  };
  std::string err = build(spec.rtp, e->rtp);
  if (err.empty()) err = build(spec.rtcp, e->rtcp);
  if (!err.empty()) return err;
  e->isRtcpSocket = spec.isRtcpSocket;
  e->rtcpMux = spec.rtcpMux;
  for (int pt : spec.payloadTypes) {
    if (pt < 0 || pt > 127) return "payload type out of range: " + std::to_string(pt);
    e->pts[pt] = 1;
    e->ptFilter = true;
  }
  std::unique_ptr<Entry> old;
  {
    WriteLock wl(&lock_);
    old = std::move(s->entry);
    s->entry = std::move(e);
    if (!old) tableEntries_++;
  }
  return "";
}

bool Engine::removeEntry(uint32_t id) {
  auto it = socks_.find(id);
  if (it == socks_.end()) return false;
  std::unique_ptr<Entry> old;
  {
    WriteLock wl(&lock_);
    old = std::move(it->second->entry);
    if (old) tableEntries_--;
  }
  return (bool)old;
}

Totals Engine::totals() const {
  Totals r{};
  for (const auto& t : threads_) {
    const ThreadCounters& c = t->c;
    r.received += c.received.load(std::memory_order_relaxed);
    r.packets += c.packets.load(std::memory_order_relaxed);
    r.bytes += c.bytes.load(std::memory_order_relaxed);
    r.sent += c.sent.load(std::memory_order_relaxed);
    r.punted += c.punted.load(std::memory_order_relaxed);
    r.puntDropped += c.puntDropped.load(std::memory_order_relaxed);
    r.errors += c.errors.load(std::memory_order_relaxed);
    r.oversized += c.oversized.load(std::memory_order_relaxed);
    r.empty += c.empty.load(std::memory_order_relaxed);
    r.noDest += c.noDest.load(std::memory_order_relaxed);
    r.sendErrors += c.sendErrors.load(std::memory_order_relaxed);
    r.recvErrors += c.recvErrors.load(std::memory_order_relaxed);
    double fin = t->finalCpu.load();
    if (fin >= 0) {
      r.cpuSeconds += fin;
    } else if (t->joinable) {
      clockid_t cid;
      timespec ts;
      if (pthread_getcpuclockid(t->th, &cid) == 0 && clock_gettime(cid, &ts) == 0)
        r.cpuSeconds += (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    }
  }
  return r;
}

}  // namespace fp
