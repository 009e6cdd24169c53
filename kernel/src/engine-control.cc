// rtpengine-ts native fast path: the operations the JS thread calls (open/close/send sockets,
// set/remove forwarding entries, stats) — each takes the table's write lock where it changes
// what the forwarding threads read. See engine.h for the locking model.
#include "engine-internal.h"

namespace fp {

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
  if (port != 0) {
    res.port = port;  // bound to exactly this port: nothing to ask the kernel
  } else {
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
  }
  int bufsz = 1 << 20;  // best effort; capped by net.core.[rw]mem_max
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof bufsz);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof bufsz);
  if (tos_ >= 0) setTosFd(fd, af, tos_);

  uint32_t id = nextId_++;
  if (nextId_ == 0) nextId_ = 1;
  unsigned th = threads_.empty() ? 0 : nextThread_++ % threads_.size();
  for (int i = 0; i < SLOT_FIELDS; i++) storeSlot(&stats[i], 0.0);
  auto sock = std::make_shared<Sock>(this, id, fd, af, th, stats);

  WriteLock wl(&lock_);
  socks_[id] = sock;
  epoll_event ev{};
  ev.events = EPOLLIN;
  // the fd rides along (upper half) so the JS thread's poll reads a ready socket without a map
  // lookup; fdOwner_ tells it whether that fd still is this socket (closeSocket)
  ev.data.u64 = (uint64_t)(uint32_t)fd << 32 | id;
  if (epoll_ctl(epfdOf(*sock), EPOLL_CTL_ADD, fd, &ev) < 0) {
    res.err = errno;
    res.what = std::string("epoll_ctl: ") + strerror(errno);
    socks_.erase(id);  // Sock destructor closes fd
    return res;
  }
  if ((size_t)fd >= fdOwner_.size()) fdOwner_.resize((size_t)fd + 256, 0);
  fdOwner_[(size_t)fd] = id;
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
      // No EPOLL_CTL_DEL: closing the last descriptor of the socket takes it out of the epoll
      // set (the addon never dups it; the daemon never forks). Were it still referenced
      // elsewhere (a fork between fork() and exec() in a host process), events for it would
      // carry an id that is no longer open: the forwarding threads look ids up (handleSocket),
      // the JS-path poll checks fdOwner_, so such events are skipped either way.
      fdOwner_[(size_t)s->fd] = 0;
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

namespace {

// The old entry's SRTP counters, for JS (read after the swap: no thread sees `old` any more).
void captureSrtp(const Entry& old, EntrySrtpState* out) {
  if (!out) return;
  out->hasIn = (bool)old.srtpIn;
  if (old.srtpIn) out->in = old.srtpIn->state();
  for (const auto* list : {&old.rtp, &old.rtcp}) {
    auto& dst = list == &old.rtp ? out->rtp : out->rtcp;
    for (const Dest& d : *list) dst.emplace_back((bool)d.srtpOut, d.srtpOut ? d.srtpOut->state() : SrtpState{});
  }
}

// A replacing entry continues the SRTP counters of the one it replaces, context by context
// (matched by the JS state they continue), so no index is used twice across the swap.
void continueSrtp(Entry& fresh, Entry& old) {
  if (fresh.srtpIn && old.srtpIn && fresh.srtpIn->stateKey() == old.srtpIn->stateKey())
    fresh.srtpIn->continueFrom(*old.srtpIn);
  for (auto* list : {&fresh.rtp, &fresh.rtcp}) {
    auto& olds = list == &fresh.rtp ? old.rtp : old.rtcp;
    for (Dest& d : *list) {
      if (!d.srtpOut) continue;
      for (Dest& o : olds)
        if (o.srtpOut && o.srtpOut->stateKey() == d.srtpOut->stateKey()) d.srtpOut->continueFrom(*o.srtpOut);
    }
  }
}

}  // namespace

std::string Engine::setEntry(uint32_t id, const EntrySpec& spec, EntrySrtpState* oldState, bool* busy) {
  if (busy) *busy = false;
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
      for (int pt = 0; pt < 128; pt++) dest.ptOut[pt] = (uint8_t)pt;
      for (const auto& m : d.ptMap) {
        if (m.first < 0 || m.first > 127 || m.second < 0 || m.second > 127)
          return "payload type out of range in map: " + std::to_string(m.first) + " -> " +
                 std::to_string(m.second);
        dest.ptOut[m.first] = (uint8_t)m.second;
        if (m.first != m.second) dest.renumber = true;
      }
      if (d.srtpOut) {
        std::string why;
        dest.srtpOut = SrtpContext::create(*d.srtpOut, &why);
        if (!dest.srtpOut) return "destination SRTP: " + why;
      }
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
  if (spec.srtpIn) {
    std::string why;
    e->srtpIn = SrtpContext::create(*spec.srtpIn, &why);
    if (!e->srtpIn) return "source SRTP: " + why;
  }
  std::unique_ptr<Entry> old;
  {
    WriteLock wl(&lock_);
    // under the write lock no thread is between reading a packet and counting it
    if (busy && s->puntsOut.load(std::memory_order_relaxed) != 0) {
      *busy = true;
      return "";
    }
    if (s->entry) continueSrtp(*e, *s->entry);
    old = std::move(s->entry);
    s->entry = std::move(e);
    if (!old) tableEntries_++;
  }
  if (old) captureSrtp(*old, oldState);
  return "";
}

bool Engine::removeEntry(uint32_t id, EntrySrtpState* oldState) {
  auto it = socks_.find(id);
  if (it == socks_.end()) return false;
  std::unique_ptr<Entry> old;
  {
    WriteLock wl(&lock_);
    old = std::move(it->second->entry);
    if (old) tableEntries_--;
  }
  if (old) captureSrtp(*old, oldState);
  return (bool)old;
}

bool Engine::srtpFailures(uint32_t id, uint64_t out[3]) const {
  // JS thread: the map and the entry pointer change only on this thread; the counters are atomics
  auto it = socks_.find(id);
  if (it == socks_.end() || !it->second->entry || !it->second->entry->srtpIn) return false;
  const SrtpContext& c = *it->second->entry->srtpIn;
  out[0] = c.failAuth.load(std::memory_order_relaxed);
  out[1] = c.failReplay.load(std::memory_order_relaxed);
  out[2] = c.failInvalid.load(std::memory_order_relaxed);
  return true;
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
    r.srtpDropped += c.srtpDropped.load(std::memory_order_relaxed);
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
