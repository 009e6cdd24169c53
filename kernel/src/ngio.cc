// rtpengine-ts native addon: the ng control listener's UDP socket, read and written on the JS
// thread (see docs/fast-path.md, "ng over the addon").
//
// Node's dgram costs one libuv read, one Buffer and one 'message' emit per command, and one
// sendmsg() per reply. Here libuv watches the socket (uv_poll); when it is readable, recvmmsg
// takes a round of commands (up to the round size JS chose) straight into slots of a buffer JS
// owns, and JS is called once for all of them; it copies each command out of its slot before
// the next round overwrites it. ng commands carry SDP and may be as large as a UDP datagram, so
// every slot holds a whole one (the kernel only touches the pages it writes). After each round
// JS is called once more (count 0): the round's microtasks have run by then, so the replies of
// every command that did not wait are queued, and they come back in one call and leave with
// sendmmsg() (daemon/kernel/native-ng.ts). Independent of the forwarding engine: it works alike
// with and without threads.
//
// JS API:
//   new NgSocket(address, port, family, dispatch(count), meta: Uint32Array, slots: Uint8Array)
//     binds and starts reading; throws an Error with .code / .errno / .syscall when it cannot.
//     The round size is meta's length / META_WORDS (at most NG_BATCH); slots: NG_SLOT bytes
//     per datagram of a round. meta: META_WORDS words per datagram: 0, offset in slots,
//     length, port | family << 16, then the 16 source address bytes (network order; IPv4 in
//     the first 4). dispatch(0) ends each round.
//   .localPort() -> the bound port
//   .sendBatch(buf: Uint8Array, bytes, count) -> datagrams sent (records as in jsio.cc; the
//     socket id word is ignored: every record leaves through this socket)
//   .send(data: Uint8Array, port, address) -> boolean (one sendto: a reply the batch cannot
//     carry)
//   .close()   idempotent; the poll handle is closed, then the fd
#include "ngio.h"
#include "recv-slots.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

namespace ngio {

namespace {

constexpr size_t META_WORDS = 8;  // as jsio.h: the JS side reads both with one helper
constexpr size_t RECORD_HEADER = 28;
// Commands per recvmmsg round at most (JS picks the round size, up to this).
constexpr unsigned NG_BATCH = 32;
// One whole UDP datagram per slot (an ng command with SDP may be tens of KB).
constexpr size_t NG_SLOT = 65536;
// Rounds per readable event before libuv gets its turn back (level-triggered: it calls again).
constexpr int ROUNDS = 8;

Napi::Error sysError(Napi::Env env, int err, const char* syscall, const std::string& where) {
  const char* code = uv_err_name(-err);
  Napi::Error e = Napi::Error::New(env, std::string(syscall) + " " + code + " " + where);
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

bool toSockaddr(int af, const uint8_t* addr, uint16_t port, sockaddr_storage* sa, socklen_t* len) {
  memset(sa, 0, sizeof *sa);
  if (af == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(sa);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    memcpy(&sin->sin_addr, addr, 4);
    *len = sizeof(sockaddr_in);
    return true;
  }
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(sa);
  sin6->sin6_family = AF_INET6;
  sin6->sin6_port = htons(port);
  memcpy(&sin6->sin6_addr, addr, 16);
  *len = sizeof(sockaddr_in6);
  return true;
}

class NgSocket : public Napi::ObjectWrap<NgSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NgSocket",
                       {
                           InstanceMethod<&NgSocket::LocalPort>("localPort"),
                           InstanceMethod<&NgSocket::SendBatch>("sendBatch"),
                           InstanceMethod<&NgSocket::Send>("send"),
                           InstanceMethod<&NgSocket::Close>("close"),
                       });
  }

  NgSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NgSocket>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 6 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsNumber() ||
        !info[3].IsFunction() || !info[4].IsTypedArray() || !info[5].IsTypedArray())
      throw Napi::TypeError::New(env, "NgSocket(address, port, family, dispatch, meta, slots)");
    std::string address = info[0].As<Napi::String>().Utf8Value();
    uint32_t port = info[1].As<Napi::Number>().Uint32Value();
    int family = info[2].As<Napi::Number>().Int32Value();
    Napi::Uint32Array meta = info[4].As<Napi::Uint32Array>();
    if (port > 65535 || (family != 4 && family != 6)) throw Napi::RangeError::New(env, "NgSocket: bad port or family");
    // the round size is JS's choice (how many commands per call), up to NG_BATCH
    round_ = (unsigned)std::min<size_t>(NG_BATCH, meta.ElementLength() / META_WORDS);
    if (round_ == 0) throw Napi::RangeError::New(env, "NgSocket: meta too short");
    Napi::Uint8Array slots = info[5].As<Napi::Uint8Array>();
    if (slots.ByteLength() < (size_t)round_ * NG_SLOT) throw Napi::RangeError::New(env, "NgSocket: slots too short");
    af_ = family == 6 ? AF_INET6 : AF_INET;
    std::string where = (family == 6 ? "[" + address + "]" : address) + ":" + std::to_string(port);

    sockaddr_storage sa;
    memset(&sa, 0, sizeof sa);
    socklen_t salen;
    uint8_t bytes[16];
    if (inet_pton(af_, address.c_str(), bytes) != 1) throw sysError(env, EINVAL, "bind", where);
    toSockaddr(af_, bytes, (uint16_t)port, &sa, &salen);
    int fd = socket(af_, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw sysError(env, errno, "socket", where);
    // no IPV6_V6ONLY: like Node's udp6 socket, a listener on :: also takes IPv4 (mapped) senders
    if (bind(fd, reinterpret_cast<sockaddr*>(&sa), salen) < 0) {
      int err = errno;
      ::close(fd);
      throw sysError(env, err, "bind", where);
    }
    sockaddr_storage bound;
    socklen_t blen = sizeof bound;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&bound), &blen) == 0)
      port_ = af_ == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6&>(bound).sin6_port)
                              : ntohs(reinterpret_cast<sockaddr_in&>(bound).sin_port);
    int bufsz = 1 << 20;  // best effort (capped by net.core.rmem_max): room for a burst of commands
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof bufsz);

    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || !loop) {
      ::close(fd);
      throw Napi::Error::New(env, "NgSocket: no event loop");
    }
    handle_ = new uv_poll_t;
    if (uv_poll_init(loop, handle_, fd) != 0) {
      delete handle_;
      handle_ = nullptr;
      ::close(fd);
      throw Napi::Error::New(env, "NgSocket: uv_poll_init failed");
    }
    fd_ = fd;
    handle_->data = this;
    dispatch_ = Napi::Persistent(info[3].As<Napi::Function>());
    metaRef_ = Napi::Persistent(meta);
    meta_ = meta.Data();
    slotsRef_ = Napi::Persistent(slots);
    pointRecvHeaders(msgs_, iov_, from_, round_, slots.Data(), NG_SLOT);
    // like a dgram socket, a listening ng socket keeps the process alive until it is closed
    uv_poll_start(handle_, UV_READABLE, &NgSocket::OnReadable);
    hook_ = env.AddCleanupHook(&NgSocket::EnvCleanup, this);
    hookLive_ = true;
  }

  ~NgSocket() override { stop(); }

 private:
  static void EnvCleanup(NgSocket* self) {
    self->hookLive_ = false;
    self->stop();
  }

  void stop() {
    if (handle_) {
      uv_poll_stop(handle_);
      handle_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(handle_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      handle_ = nullptr;
    }
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (hookLive_) {
      hook_.Remove(Env());
      hookLive_ = false;
    }
  }

  static void OnReadable(uv_poll_t* h, int status, int) {
    auto* self = static_cast<NgSocket*>(h->data);
    if (!self) return;
    // libuv stops a poll handle whose fd reports an error (a pending socket error): the
    // listener must not go deaf, so it watches again; the next recvmmsg takes the error
    if (status < 0 && uv_poll_start(h, UV_READABLE, &NgSocket::OnReadable) != 0) return;
    self->drain();
  }

  void drain() {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    for (int round = 0; round < ROUNDS && fd_ >= 0; round++) {
      int r = recvmmsg(fd_, msgs_, round_, MSG_DONTWAIT, nullptr);
      if (r <= 0) break;  // EAGAIN; other errors (ICMP reports) are left for the next event
      for (int i = 0; i < r; i++) {
        mmsghdr& m = msgs_[i];
        m.msg_hdr.msg_namelen = sizeof(sockaddr_storage);
        uint32_t* w = meta_ + (size_t)i * META_WORDS;
        w[0] = 0;
        w[1] = (uint32_t)((size_t)i * NG_SLOT);
        // truncated (not possible below 64 KiB): handed up empty, JS counts it as garbage
        w[2] = (m.msg_hdr.msg_flags & MSG_TRUNC) ? 0 : m.msg_len;
        writeSender(&w[3], from_[i]);
      }
      bool ok = call(env, r);
      // The end of the round: MakeCallback has run its microtasks, so the replies of the
      // commands that finished without waiting are queued; JS sends them together now, and the
      // proxy works on them while the next round is handled here.
      if (fd_ >= 0) ok = call(env, 0) && ok;
      if (!ok || (unsigned)r < round_) break;
    }
  }

  bool call(Napi::Env env, int count) {
    try {
      dispatch_.MakeCallback(env.Global(), {Napi::Number::New(env, (double)count)});
      return true;
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env, e.Value());  // as an uncaught exception from a dgram listener
      return false;
    }
  }

  Napi::Value LocalPort(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), port_); }

  Napi::Value SendBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0 || !info[0].IsTypedArray()) return Napi::Number::New(env, 0);
    Napi::Uint8Array u8 = info[0].As<Napi::Uint8Array>();
    size_t bytes = info[1].As<Napi::Number>().Uint32Value();
    if (bytes > u8.ByteLength()) bytes = u8.ByteLength();
    uint32_t count = info[2].As<Napi::Number>().Uint32Value();
    const uint8_t* buf = u8.Data();
    if (msgsOut_.size() < count) {
      msgsOut_.resize(count);
      iovOut_.resize(count);
      addrsOut_.resize(count);
    }
    uint32_t n = 0;
    size_t off = 0;
    for (uint32_t i = 0; i < count; i++) {
      if (off + RECORD_HEADER > bytes) break;
      uint32_t len, portFamily;
      memcpy(&len, buf + off + 4, 4);
      memcpy(&portFamily, buf + off + 8, 4);
      if (len > bytes || off + RECORD_HEADER + len > bytes) break;
      const uint8_t* addr = buf + off + 12;
      const uint8_t* data = buf + off + RECORD_HEADER;
      off += RECORD_HEADER + ((len + 3) & ~(size_t)3);
      int af = ((portFamily >> 16) & 0xff) == 6 ? AF_INET6 : AF_INET;
      if (af != af_) continue;  // an IPv4 destination on an IPv6 listener arrives mapped
      socklen_t salen;
      toSockaddr(af, addr, (uint16_t)(portFamily & 0xffff), &addrsOut_[n], &salen);
      iovOut_[n].iov_base = const_cast<uint8_t*>(data);
      iovOut_[n].iov_len = len;
      mmsghdr& m = msgsOut_[n];
      memset(&m, 0, sizeof m);
      m.msg_hdr.msg_name = &addrsOut_[n];
      m.msg_hdr.msg_namelen = salen;
      m.msg_hdr.msg_iov = &iovOut_[n];
      m.msg_hdr.msg_iovlen = 1;
      n++;
    }
    uint32_t sent = 0;
    size_t k = 0;
    while (k < n) {
      int w = sendmmsg(fd_, msgsOut_.data() + k, (unsigned)(n - k), MSG_DONTWAIT);
      if (w > 0) {
        sent += (uint32_t)w;
        k += (size_t)w;
        continue;
      }
      if (w < 0 && errno == EINTR) continue;
      // a full send buffer or an error for this one destination (ICMP unreachable reported on
      // the socket): that datagram is lost, as a failed dgram send would be; go on with the rest
      k++;
    }
    return Napi::Number::New(env, sent);
  }

  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (fd_ < 0 || !info[0].IsTypedArray() || !info[2].IsString()) return Napi::Boolean::New(env, false);
    Napi::Uint8Array data = info[0].As<Napi::Uint8Array>();
    uint32_t port = info[1].As<Napi::Number>().Uint32Value();
    std::string address = info[2].As<Napi::String>().Utf8Value();
    uint8_t bytes[16];
    if (port > 65535 || inet_pton(af_, address.c_str(), bytes) != 1) return Napi::Boolean::New(env, false);
    sockaddr_storage sa;
    socklen_t salen;
    toSockaddr(af_, bytes, (uint16_t)port, &sa, &salen);
    ssize_t w;
    do {
      w = sendto(fd_, data.Data(), data.ByteLength(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&sa), salen);
    } while (w < 0 && errno == EINTR);
    return Napi::Boolean::New(env, w >= 0);
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    stop();
    dispatch_.Reset();
    metaRef_.Reset();
    slotsRef_.Reset();
    meta_ = nullptr;
    return info.Env().Undefined();
  }

  int af_ = AF_INET;
  int fd_ = -1;
  uint16_t port_ = 0;
  unsigned round_ = NG_BATCH;
  uv_poll_t* handle_ = nullptr;
  Napi::FunctionReference dispatch_;
  Napi::Reference<Napi::Uint32Array> metaRef_;
  uint32_t* meta_ = nullptr;
  Napi::Reference<Napi::Uint8Array> slotsRef_;
  mmsghdr msgs_[NG_BATCH];
  iovec iov_[NG_BATCH];
  sockaddr_storage from_[NG_BATCH];
  std::vector<mmsghdr> msgsOut_;
  std::vector<iovec> iovOut_;
  std::vector<sockaddr_storage> addrsOut_;
  Napi::Env::CleanupHook<void (*)(NgSocket*), NgSocket> hook_;
  bool hookLive_ = false;
};

}  // namespace

void Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NgSocket", NgSocket::Define(env));
  exports.Set("NG_BATCH", Napi::Number::New(env, NG_BATCH));
  exports.Set("NG_SLOT", Napi::Number::New(env, (double)NG_SLOT));
}

}  // namespace ngio
