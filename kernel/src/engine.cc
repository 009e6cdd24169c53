// rtpengine-ts native fast path: forwarding threads, sockets, forwarding table.
// See engine.h for the threading and locking model, docs/fast-path.md for the overview.
#include "engine-internal.h"

namespace fp {


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
  if (nthreads < 0 || nthreads > MAX_THREADS) return "threads must be 0.." + std::to_string(MAX_THREADS);
  started_ = true;
  tos_ = tos;
  punt_ = punt;
  puntCtx_ = puntCtx;
  if (nthreads == 0) {  // JS-path I/O only: the JS thread polls the sockets (jsio.cc)
    jsEpfd_ = epoll_create1(EPOLL_CLOEXEC);
    return jsEpfd_ < 0 ? std::string("epoll_create1: ") + strerror(errno) : "";
  }

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
  if (jsEpfd_ >= 0) close(jsEpfd_);
  jsEpfd_ = -1;
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
    {
      ReadLock rl(&lock_);
      releasePunts(*b);
    }
    delete b;
  }
}

void Engine::releasePunts(const PuntBatch& b) {
  for (const auto& m : b.meta) {
    auto it = socks_.find(m.sockId);
    if (it != socks_.end()) it->second->puntsOut.fetch_sub(1, std::memory_order_relaxed);
  }
}

void Engine::puntsHandled(const PuntBatch& b) {
  // JS thread: the only writer of socks_, so no lock is needed to read it here
  releasePunts(b);
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
  uint64_t accPackets = 0, accBytes = 0, errs = 0, srtpDrops = 0;
  t->out.clear();
  t->encUsed = 0;

  for (int i = 0; i < r; i++) {
    const mmsghdr& m = t->msgs[i];
    size_t len = m.msg_len;
    bool trunc = (m.msg_hdr.msg_flags & MSG_TRUNC) != 0;
    if (e && (trunc || len == 0)) {
      bump(trunc ? t->c.oversized : t->c.empty, 1);
      continue;
    }
    const uint8_t* p = static_cast<const uint8_t*>(t->iov[i].iov_base);
    const size_t wireLen = len;
    uint8_t b0 = len ? p[0] : 0;
    bool toJs = false;
    const std::vector<Dest>* list = nullptr;

    if (trunc || len == 0) {
      // a JS-path socket (no entry): JS counts it as invalid on its stream, as on dgram sockets
      len = 0;
      toJs = true;
    } else if (b0 <= 3 || (b0 >= 20 && b0 <= 63)) {
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
        if (e->srtpIn) {  // authenticate and decrypt in place (srtp.cc); failures counted there
          int plain = srtpInput(e->srtpIn.get(), const_cast<uint8_t*>(p), len, rtcp);
          if (plain < 0) {
            errs++;
            srtpDrops++;
            continue;
          }
          len = (size_t)plain;
        }
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
      s->puntsOut.fetch_add(1, std::memory_order_relaxed);
      continue;
    }

    accPackets++;
    accBytes += wireLen;
    if (list->empty()) {
      bump(t->c.noDest, 1);
      continue;
    }
    t->iov[i].iov_len = len;
    bool isRtp = list == &e->rtp;
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
      o.split = false;
      o.enc = nullptr;
      if (d.srtpOut) {
        // an encrypted copy per destination: renumbered first, then protected in place
        if (t->encUsed == t->enc.size()) t->enc.emplace_back(new uint8_t[MAX_PACKET + SRTP_MAX_OVERHEAD]);
        uint8_t* b = t->enc[t->encUsed].get();
        memcpy(b, p, len);
        if (isRtp && d.renumber) b[1] = (uint8_t)((p[1] & 0x80) | d.ptOut[p[1] & 0x7f]);
        int w = srtpOutput(d.srtpOut.get(), b, len, !isRtp);
        if (w < 0) {
          bump(t->c.sendErrors, 1);
          continue;
        }
        t->encUsed++;
        o.enc = b;
        o.encLen = (size_t)w;
      } else if (isRtp && d.renumber) {
        uint8_t pt = p[1] & 0x7f;
        if (d.ptOut[pt] != pt) {
          o.split = true;
          o.hdr[0] = p[0];
          o.hdr[1] = (uint8_t)((p[1] & 0x80) | d.ptOut[pt]);
          o.iov2[1].iov_base = const_cast<uint8_t*>(p) + 2;
          o.iov2[1].iov_len = len - 2;
        }
      }
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
    if (srtpDrops) bump(t->c.srtpDropped, srtpDrops);
  }

  if (t->out.empty()) return;

  // Send per via-socket, keeping the packet order for each (fd, destination).
  t->fds.clear();
  for (const auto& o : t->out)
    if (std::find(t->fds.begin(), t->fds.end(), o.fd) == t->fds.end()) t->fds.push_back(o.fd);
  for (int fd : t->fds) {
    t->sendv.clear();
    for (auto& o : t->out) {
      if (o.fd != fd) continue;
      if (o.enc) {
        o.iov2[0].iov_base = o.enc;
        o.iov2[0].iov_len = o.encLen;
        o.h.msg_hdr.msg_iov = o.iov2;
        o.h.msg_hdr.msg_iovlen = 1;
      } else if (o.split) {
        o.iov2[0].iov_base = o.hdr;
        o.iov2[0].iov_len = 2;
        o.h.msg_hdr.msg_iov = o.iov2;
        o.h.msg_hdr.msg_iovlen = 2;
      }
      t->sendv.push_back(o.h);
    }
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

}  // namespace fp
