// rtpengine-ts native addon: the JS path's batched I/O on the JS thread.
//
// Input (JS-path I/O only, an engine with 0 forwarding threads): the sockets sit in one epoll
// set, which libuv watches (uv_poll on the epoll fd). When it is readable, JsPoller reads the
// ready sockets with recvmmsg on the JS thread itself — no thread hop, no queue, no lock —
// copies the datagrams into one Buffer and calls JS once per round (dispatch(buf, count)),
// with the per-datagram descriptions in a Uint32Array JS owns and reuses.
//
// Output:
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
#include "jsio.h"

#include "engine-internal.h"
#include "recv-slots.h"

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

int Engine::epfdOf(const Sock& s) const {
  return threads_.empty() ? jsEpfd_ : threads_[s.thread]->epfd;
}

namespace {

// Receive scratch of the JS thread: the headers point at fixed slots once and for all; a round
// only resets what recvmmsg wrote (msg_namelen) for the datagrams it returned.
struct RecvScratch {
  std::vector<uint8_t> buf = std::vector<uint8_t>((size_t)BATCH * MAX_PACKET);
  mmsghdr msgs[BATCH];
  iovec iov[BATCH];
  sockaddr_storage from[BATCH];
  RecvScratch() { pointRecvHeaders(msgs, iov, from, BATCH, buf.data(), MAX_PACKET); }
};
thread_local RecvScratch* recvScratch = nullptr;

// How many datagrams to ask a ready socket for, by fd (a hint only: a reused fd inherits a stale
// one). recvmmsg for N costs an extra failed attempt whenever fewer than N are queued, and with
// many calls nearly every ready socket holds exactly one datagram. A socket ready again within two
// rounds is backlogged (level-triggered: what a round leaves is reported by the next one) and
// gets a full batch; one that was not asks for what it had last time. A round that filled every
// event slot (more ready sockets than one round takes: overload) asks every socket for a full
// batch, so a backlog never drains one datagram at a time.
struct RecvHint {
  uint32_t round = 0;
  uint16_t want = BATCH;
};
thread_local std::vector<RecvHint> recvHints;
thread_local uint32_t pollRound = 0;

// Events taken per epoll_wait; sockets beyond stay ready (level-triggered) for the next round.
// With many calls nearly every ready socket holds one datagram, so this is also about how many
// datagrams one JS call gets.
constexpr int POLL_EVENTS = 256;

}  // namespace

size_t Engine::pollJs(std::vector<uint8_t>& data, uint32_t* meta, size_t maxPackets) {
  data.clear();
  if (jsEpfd_ < 0 || maxPackets == 0) return 0;
  if (!recvScratch) recvScratch = new RecvScratch();  // lives as long as the thread
  RecvScratch& rs = *recvScratch;
  epoll_event evs[POLL_EVENTS];
  int maxEvents = (int)std::min<size_t>(POLL_EVENTS, maxPackets);
  int ne = epoll_wait(jsEpfd_, evs, maxEvents, 0);
  if (ne > 0) pollRound++;
  bool useHints = ne < maxEvents;
  size_t count = 0;
  for (int e = 0; e < ne && count < maxPackets; e++) {
    // epoll data: fd << 32 | socket id (open). Only this thread closes sockets; closing the fd
    // normally takes it out of the set, but an event naming a socket that is no longer open on
    // that fd (closeSocket) is skipped rather than read from a reused fd.
    uint64_t d = evs[e].data.u64;
    uint32_t id = (uint32_t)d;
    int fd = (int)(uint32_t)(d >> 32);
    if ((size_t)fd >= fdOwner_.size() || fdOwner_[(size_t)fd] != id) continue;
    if ((size_t)fd >= recvHints.size()) recvHints.resize((size_t)fd + 64);
    RecvHint& hint = recvHints[(size_t)fd];
    unsigned hinted = !useHints || pollRound - hint.round <= 2 ? BATCH : hint.want;
    unsigned want = (unsigned)std::min<size_t>(hinted, maxPackets - count);
    int r = recvmmsg(fd, rs.msgs, want, MSG_DONTWAIT, nullptr);
    hint.round = pollRound;
    hint.want = (uint16_t)(r > 0 ? r : 1);
    if (r <= 0) {
      if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) jsRecvErrors++;
      continue;
    }
    jsReceived += (uint64_t)r;
    for (int i = 0; i < r; i++) {
      mmsghdr& m = rs.msgs[i];
      m.msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      // oversized (truncated) datagrams go up empty: JS counts them invalid, as it does on dgram
      size_t len = (m.msg_hdr.msg_flags & MSG_TRUNC) ? 0 : m.msg_len;
      uint32_t* w = meta + count * META_WORDS;
      w[0] = id;
      w[1] = (uint32_t)data.size();
      w[2] = (uint32_t)len;
      writeSender(&w[3], rs.from[i]);
      const uint8_t* p = static_cast<const uint8_t*>(rs.iov[i].iov_base);
      data.insert(data.end(), p, p + len);
      count++;
    }
  }
  return count;
}

JsPoller::JsPoller(Napi::Env env, Engine* engine, Napi::Function dispatch, Napi::Uint32Array meta)
    : env_(env), engine_(engine) {
  dispatch_ = Napi::Persistent(dispatch);
  metaRef_ = Napi::Persistent(meta);
  meta_ = meta.Data();
  maxPackets_ = meta.ElementLength() / META_WORDS;
  data_.reserve(maxPackets_ * 256);
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop)
    throw Napi::Error::New(env, "JS-path I/O: no event loop");
  handle_ = new uv_poll_t;
  if (uv_poll_init(loop, handle_, engine->jsPollFd()) != 0) {
    delete handle_;
    handle_ = nullptr;
    throw Napi::Error::New(env, "JS-path I/O: uv_poll_init failed");
  }
  handle_->data = this;
  uv_poll_start(handle_, UV_READABLE, &JsPoller::OnReadable);
  uv_unref(reinterpret_cast<uv_handle_t*>(handle_));  // never keeps the process alive
}

JsPoller::~JsPoller() { stop(); }

void JsPoller::stop() {
  if (!handle_) return;
  uv_poll_stop(handle_);
  handle_->data = nullptr;
  uv_close(reinterpret_cast<uv_handle_t*>(handle_),
           [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
  handle_ = nullptr;
}

void JsPoller::OnReadable(uv_poll_t* h, int status, int) {
  auto* self = static_cast<JsPoller*>(h->data);
  if (!self || status < 0) return;
  self->drain();
}

void JsPoller::drain() {
  Napi::HandleScope scope(env_);
  // A few rounds at most, then back to the event loop so that control traffic gets its turn;
  // the epoll set is level-triggered, libuv calls again while anything is left.
  for (int round = 0; round < 4 && handle_; round++) {
    size_t n = engine_->pollJs(data_, meta_, maxPackets_);
    if (n == 0) break;
    Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::Copy(env_, data_.data(), data_.size());
    try {
      dispatch_.MakeCallback(env_.Global(), {buf, Napi::Number::New(env_, (double)n)});
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env_, e.Value());  // as an uncaught exception from a dgram listener
      break;
    }
    if (n < maxPackets_) break;
  }
}

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
