// rtpengine-ts native fast path: the Node-API face of fp::Engine.
//
// JS API (used only by daemon/kernel/native-fast-path.ts):
//   ABI_VERSION, MAX_PACKET, SLOT_FIELDS, SLOTS_PER_PAGE
//   new Engine({ threads, tos, openOut: Uint32Array(6), puntQueuePackets?, puntQueueBytes? }, dispatch(buf: Buffer, meta: Uint32Array, addrs: string[]))
//     meta holds 5 uint32 per punted packet: socketId, offset, length, port, family
//   new Engine({ tos, openOut, pollMeta: Uint32Array }, dispatch, dispatchPolled(buf: Buffer, count))
//     JS-path I/O only (no forwarding threads): the JS thread polls the sockets (jsio.cc)
//   .open(address, port, family, count = 1) -> count (id, port, slot of socket i in openOut[3i..3i+2];
//                                                      count 2: ports port, port + 1)
//                                             | { code, errno, message, index } (nothing left open)
//   .closeSocket(id) -> boolean
//   .send(id, data: Uint8Array, port, address) -> boolean
//   .sendBatch(buf: Uint8Array, bytes, count) -> number   (records: see jsio.cc)
//   .setTos(id, tos) -> boolean
//   .setEntry(id, srcAddr, srcPort, rtp: [viaId, addr, port, ...], rtcp: [...],
//             isRtcpSocket, rtcpMux, payloadTypes: number[],
//             rtpPtMaps?: number[][],  (one flat [from, to, ...] list per rtp destination;
//                                        throws on bad input)
//             srtpIn?: SrtpSpec | null, rtpSrtp?: (SrtpSpec|null)[], rtcpSrtp?: (SrtpSpec|null)[])
//       -> the replaced entry's SRTP state (see srtp-addon.cc) or undefined
//   .removeEntry(id) -> the removed entry's SRTP state, or false if there was no entry
//   .srtpFailures(id) -> [auth, replay, invalid] of the entry's SRTP input, or null
//   .statsPage(index) -> ArrayBuffer (SLOTS_PER_PAGE * SLOT_FIELDS float64)
//   .status() -> { threads, sockets, entries, received, packets, bytes, ... }
//   .live() -> { sockets, entries }
//   .close(done: () => void) -> boolean   (done runs once the punt TSFN is finalized)
//   memoryPressure()  V8's moderate memory-pressure notification: an incremental GC that
//                     shrinks the heap (new space included) and returns pages; no long pause
//   mallocTrim() -> boolean   glibc malloc_trim(0): free heap pages back to the system
//   NgSocket, NG_BATCH   the ng control listener's socket (ngio.cc)
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <malloc.h>
#include <napi.h>
#include <v8.h>

#include <unordered_map>

#include "dtls.h"
#include "engine.h"
#include "srtp-addon.h"
#include "jsio.h"
#include "ngio.h"

namespace {

constexpr uint32_t SLOTS_PER_PAGE = 1024;
// Sockets one open() call may bind (an RTP/RTCP pair).
constexpr uint32_t OPEN_MAX = 2;
// Packets waiting for the JS thread are bounded by count and bytes (not by batches: at low
// rates a batch may hold a single packet). Beyond either limit new batches are dropped and
// counted (puntDropped), so a stalled event loop costs memory up to these limits, no more.
// Defaults; the Engine options puntQueuePackets / puntQueueBytes override them.
constexpr size_t PUNT_QUEUE_PACKETS = 32768;
constexpr size_t PUNT_QUEUE_BYTES = 16 * 1024 * 1024;

struct PuntCtx {
  Napi::FunctionReference closeCb;
  std::atomic<size_t> queuedPackets{0};
  std::atomic<size_t> queuedBytes{0};
  size_t maxPackets = PUNT_QUEUE_PACKETS;
  size_t maxBytes = PUNT_QUEUE_BYTES;
  // Told when a batch was handled (Engine::puntsHandled); null once the engine is torn down.
  fp::Engine* engine = nullptr;
};

void CallJs(Napi::Env env, Napi::Function fn, PuntCtx* ctx, fp::PuntBatch* raw) {
  std::unique_ptr<fp::PuntBatch> b(raw);
  if (!b) return;
  // after the dispatch (its sends are flushed by then), also when it throws or is skipped
  struct Handled {
    PuntCtx* ctx;
    fp::PuntBatch* b;
    ~Handled() {
      if (ctx->engine) ctx->engine->puntsHandled(*b);
    }
  } handled{ctx, b.get()};
  ctx->queuedPackets.fetch_sub(b->meta.size(), std::memory_order_relaxed);
  ctx->queuedBytes.fetch_sub(b->data.size(), std::memory_order_relaxed);
  if (env == nullptr || fn.IsEmpty()) return;  // torn down: just free the batch
  try {
    size_t n = b->meta.size();
    Napi::Buffer<uint8_t> buf = Napi::Buffer<uint8_t>::Copy(env, b->data.data(), b->data.size());
    Napi::Uint32Array meta = Napi::Uint32Array::New(env, n * 5);
    Napi::Array addrs = Napi::Array::New(env, n);
    char text[INET6_ADDRSTRLEN];
    for (size_t i = 0; i < n; i++) {
      const auto& m = b->meta[i];
      meta[i * 5 + 0] = m.sockId;
      meta[i * 5 + 1] = m.offset;
      meta[i * 5 + 2] = m.len;
      meta[i * 5 + 3] = m.port;
      meta[i * 5 + 4] = m.family;
      if (!inet_ntop(m.family == 6 ? AF_INET6 : AF_INET, m.addr, text, sizeof text)) text[0] = 0;
      addrs.Set((uint32_t)i, Napi::String::New(env, text));
    }
    std::vector<uint8_t>().swap(b->data);  // copied: free it before JS runs; the ids are still needed
    fn.Call({buf, meta, addrs});
  } catch (const Napi::Error& e) {
    e.ThrowAsJavaScriptException();  // surfaces as an uncaught exception, like a dgram listener's
  } catch (const std::exception& e) {
    Napi::Error::New(env, e.what()).ThrowAsJavaScriptException();
  }
}

void FinalizeTsfn(Napi::Env env, void*, PuntCtx* ctx) {
  if (!ctx->closeCb.IsEmpty()) {
    try {
      ctx->closeCb.Call({});
    } catch (...) {
    }
    ctx->closeCb.Reset();
  }
  delete ctx;
}

using Tsfn = Napi::TypedThreadSafeFunction<PuntCtx, fp::PuntBatch, CallJs>;

const char* errnoName(int e) {
  switch (e) {
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOBUFS: return "ENOBUFS";
    case ENOMEM: return "ENOMEM";
    case EAFNOSUPPORT: return "EAFNOSUPPORT";
    case ESHUTDOWN: return "ESHUTDOWN";
    default: return "EUNKNOWN";
  }
}

class NativeEngine : public Napi::ObjectWrap<NativeEngine> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Engine",
                       {
                           InstanceMethod<&NativeEngine::Open>("open"),
                           InstanceMethod<&NativeEngine::CloseSocket>("closeSocket"),
                           InstanceMethod<&NativeEngine::Send>("send"),
                           InstanceMethod<&NativeEngine::SendBatch>("sendBatch"),
                           InstanceMethod<&NativeEngine::SetTos>("setTos"),
                           InstanceMethod<&NativeEngine::SetEntry>("setEntry"),
                           InstanceMethod<&NativeEngine::RemoveEntry>("removeEntry"),
                           InstanceMethod<&NativeEngine::SrtpFailures>("srtpFailures"),
                           InstanceMethod<&NativeEngine::StatsPage>("statsPage"),
                           InstanceMethod<&NativeEngine::Status>("status"),
                           InstanceMethod<&NativeEngine::Live>("live"),
                           InstanceMethod<&NativeEngine::Close>("close"),
                       });
  }

  NativeEngine(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeEngine>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction())
      throw Napi::TypeError::New(env, "Engine(options, dispatch)");
    Napi::Object opts = info[0].As<Napi::Object>();
    if (!opts.Has("openOut") || !opts.Get("openOut").IsTypedArray() ||
        opts.Get("openOut").As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array ||
        opts.Get("openOut").As<Napi::Uint32Array>().ElementLength() < 3 * OPEN_MAX)
      throw Napi::TypeError::New(env, "Engine options: openOut must be a Uint32Array of at least 6 elements");
    openOutRef_ = Napi::Persistent(opts.Get("openOut").As<Napi::Uint32Array>());
    openOut_ = openOutRef_.Value().Data();
    int threads = opts.Has("threads") && opts.Get("threads").IsNumber()
                      ? opts.Get("threads").As<Napi::Number>().Int32Value()
                      : 1;
    // JS-path I/O only (jsio.cc): no forwarding threads, the JS thread polls the sockets
    bool ioOnly = opts.Has("pollMeta") && opts.Get("pollMeta").IsTypedArray() && info.Length() > 2 &&
                  info[2].IsFunction();
    if (ioOnly) threads = 0;
    else if (threads < 1) throw Napi::RangeError::New(env, "threads must be at least 1");
    int tos = opts.Has("tos") && opts.Get("tos").IsNumber()
                  ? opts.Get("tos").As<Napi::Number>().Int32Value()
                  : -1;
    auto* ctx = new PuntCtx();
    if (opts.Has("puntQueuePackets") && opts.Get("puntQueuePackets").IsNumber())
      ctx->maxPackets = (size_t)opts.Get("puntQueuePackets").As<Napi::Number>().Int64Value();
    if (opts.Has("puntQueueBytes") && opts.Get("puntQueueBytes").IsNumber())
      ctx->maxBytes = (size_t)opts.Get("puntQueueBytes").As<Napi::Number>().Int64Value();
    tsfn_ = Tsfn::New(env, info[1].As<Napi::Function>(), "rtpengine-fastpath-punt",
                      0 /* unbounded: Punt() bounds it */, 1, ctx, FinalizeTsfn, (void*)nullptr);
    ctx_ = ctx;
    tsfnLive_ = true;
    tsfn_.Unref(env);  // never keeps the process alive
    engine_ = std::make_unique<fp::Engine>();
    ctx->engine = engine_.get();
    std::string why = engine_->start(threads, tos, &NativeEngine::Punt, this);
    if (!why.empty()) {
      ctx->engine = nullptr;
      engine_.reset();
      tsfn_.Release();
      tsfnLive_ = false;
      closed_ = true;
      throw Napi::Error::New(env, "fast path threads failed to start: " + why);
    }
    if (ioOnly)
      poller_ = std::make_unique<fp::JsPoller>(env, engine_.get(), info[2].As<Napi::Function>(),
                                               opts.Get("pollMeta").As<Napi::Uint32Array>());
    hook_ = env.AddCleanupHook(&NativeEngine::EnvCleanup, this);
    hookLive_ = true;
  }

  ~NativeEngine() override { Teardown(); }

 private:
  // Forwarding threads: hand a batch to the JS thread, or refuse it (caller counts and frees).
  static bool Punt(void* self, fp::PuntBatch* b) {
    auto* me = static_cast<NativeEngine*>(self);
    PuntCtx* ctx = me->ctx_;  // alive until the TSFN is released, which is after the threads join
    size_t n = b->meta.size(), bytes = b->data.size();
    size_t qp = ctx->queuedPackets.fetch_add(n, std::memory_order_relaxed);
    size_t qb = ctx->queuedBytes.fetch_add(bytes, std::memory_order_relaxed);
    if (qp + n > ctx->maxPackets || qb + bytes > ctx->maxBytes ||
        me->tsfn_.NonBlockingCall(b) != napi_ok) {
      ctx->queuedPackets.fetch_sub(n, std::memory_order_relaxed);
      ctx->queuedBytes.fetch_sub(bytes, std::memory_order_relaxed);
      return false;
    }
    return true;
  }

  static void EnvCleanup(NativeEngine* self) {
    self->hookLive_ = false;
    self->Teardown();
  }

  // Stops threads, closes sockets, releases the TSFN. Safe to call more than once.
  void Teardown() {
    if (poller_) poller_->stop();
    if (engine_) engine_->shutdown();
    if (hookLive_) {
      hook_.Remove(Env());
      hookLive_ = false;
    }
    if (ctx_) ctx_->engine = nullptr;  // batches still queued are freed without it
    if (tsfnLive_) {
      tsfn_.Release();  // ctx_ now belongs to the TSFN's finalizer
      tsfnLive_ = false;
      ctx_ = nullptr;
    }
    closed_ = true;
  }

  fp::Engine& E(Napi::Env env) {
    if (closed_ || !engine_) throw Napi::Error::New(env, "fast path engine is closed");
    return *engine_;
  }

  // The result of a failed open (the rare path; success is a plain number, see Open).
  static Napi::Object OpenError(Napi::Env env, int err, const std::string& message, uint32_t index) {
    Napi::Object res = Napi::Object::New(env);
    res.Set("code", errnoName(err));
    res.Set("errno", err);
    res.Set("message", message);
    res.Set("index", index);
    return res;
  }

  uint32_t TakeSlot(Napi::Env env) {
    if (!freeSlots_.empty()) {
      uint32_t slot = freeSlots_.back();
      freeSlots_.pop_back();
      return slot;
    }
    uint32_t slot = nextSlot_++;
    uint32_t page = slot / SLOTS_PER_PAGE;
    if (page >= pages_.size()) {
      Napi::ArrayBuffer ab =
          Napi::ArrayBuffer::New(env, (size_t)SLOTS_PER_PAGE * fp::SLOT_FIELDS * 8);
      memset(ab.Data(), 0, ab.ByteLength());
      pagePtrs_.push_back(static_cast<uint64_t*>(ab.Data()));
      pages_.push_back(Napi::Persistent(ab));
    }
    return slot;
  }

  // open(address, port, family, count) -> count: sockets opened on port, port + 1, ... (count 2:
  // an RTP/RTCP pair in one call), socket i's id, port and slot in openOut[3i .. 3i+2]. A failure
  // returns { code, errno, message, index } (index: the socket that failed) and leaves nothing
  // open. A number and a shared Uint32Array instead of a result object per socket: the JS side
  // opens four sockets per call.
  Napi::Value Open(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string addr = info[0].As<Napi::String>().Utf8Value();
    uint32_t port = info[1].As<Napi::Number>().Uint32Value();
    int family = info[2].As<Napi::Number>().Int32Value();
    uint32_t count = info.Length() > 3 ? info[3].As<Napi::Number>().Uint32Value() : 1;
    if (closed_ || !engine_) return OpenError(env, ESHUTDOWN, "fast path engine is closed", 0);
    if (port > 65535 || (family != 4 && family != 6) || count < 1 || count > OPEN_MAX ||
        (count > 1 && (port == 0 || port + count - 1 > 65535)))
      return OpenError(env, EINVAL, "bad port, family or count", 0);
    for (uint32_t i = 0; i < count; i++) {
      uint32_t slot = TakeSlot(env);
      uint64_t* stats = pagePtrs_[slot / SLOTS_PER_PAGE] + (size_t)(slot % SLOTS_PER_PAGE) * fp::SLOT_FIELDS;
      fp::OpenResult r = engine_->open(addr, (uint16_t)(port + i), family, stats);
      if (r.err) {
        freeSlots_.push_back(slot);
        for (uint32_t j = 0; j < i; j++) ReleaseSocket(openOut_[3 * j]);
        return OpenError(env, r.err, r.what, i);
      }
      slotOf_[r.id] = slot;
      openOut_[3 * i] = r.id;
      openOut_[3 * i + 1] = r.port;
      openOut_[3 * i + 2] = slot;
    }
    return Napi::Number::New(env, count);
  }

  // Closes the socket and frees its slot; false if the id is unknown.
  bool ReleaseSocket(uint32_t id) {
    engine_->closeSocket(id);
    auto it = slotOf_.find(id);
    if (it == slotOf_.end()) return false;
    freeSlots_.push_back(it->second);
    slotOf_.erase(it);
    return true;
  }

  Napi::Value CloseSocket(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_ || !engine_) return Napi::Boolean::New(env, false);
    return Napi::Boolean::New(env, ReleaseSocket(info[0].As<Napi::Number>().Uint32Value()));
  }

  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_ || !engine_) return Napi::Boolean::New(env, false);
    uint32_t id = info[0].As<Napi::Number>().Uint32Value();
    if (!info[1].IsTypedArray()) throw Napi::TypeError::New(env, "send: data must be a Uint8Array");
    Napi::Uint8Array data = info[1].As<Napi::Uint8Array>();
    uint32_t port = info[2].As<Napi::Number>().Uint32Value();
    std::string addr = info[3].As<Napi::String>().Utf8Value();
    if (port > 65535) return Napi::Boolean::New(env, false);
    return Napi::Boolean::New(env, engine_->send(id, data.Data(), data.ByteLength(), addr, (uint16_t)port));
  }

  // sendBatch(buf: Uint8Array, bytes, count) -> datagrams sent (records: kernel/src/jsio.cc)
  Napi::Value SendBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_ || !engine_) return Napi::Number::New(env, 0);
    Napi::Uint8Array buf = info[0].As<Napi::Uint8Array>();
    size_t bytes = info[1].As<Napi::Number>().Uint32Value();
    if (bytes > buf.ByteLength()) bytes = buf.ByteLength();
    uint32_t count = info[2].As<Napi::Number>().Uint32Value();
    return Napi::Number::New(env, engine_->sendBatch(buf.Data(), bytes, count));
  }

  Napi::Value SetTos(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_ || !engine_) return Napi::Boolean::New(env, false);
    return Napi::Boolean::New(env, engine_->setTos(info[0].As<Napi::Number>().Uint32Value(),
                                                   info[1].As<Napi::Number>().Int32Value()));
  }

  static void ReadDests(const Napi::Value& v, std::vector<fp::EntrySpec::D>& out) {
    Napi::Array a = v.As<Napi::Array>();
    uint32_t n = a.Length();
    for (uint32_t i = 0; i + 2 < n; i += 3) {
      fp::EntrySpec::D d;
      d.via = a.Get(i).As<Napi::Number>().Uint32Value();
      d.addr = a.Get(i + 1).As<Napi::String>().Utf8Value();
      uint32_t port = a.Get(i + 2).As<Napi::Number>().Uint32Value();
      if (port > 65535) throw Napi::RangeError::New(v.Env(), "destination port out of range");
      d.port = (uint16_t)port;
      out.push_back(std::move(d));
    }
  }

  Napi::Value SetEntry(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    fp::Engine& e = E(env);
    fp::EntrySpec spec;
    uint32_t id = info[0].As<Napi::Number>().Uint32Value();
    spec.sourceAddr = info[1].As<Napi::String>().Utf8Value();
    uint32_t sport = info[2].As<Napi::Number>().Uint32Value();
    if (sport > 65535) throw Napi::RangeError::New(env, "source port out of range");
    spec.sourcePort = (uint16_t)sport;
    ReadDests(info[3], spec.rtp);
    ReadDests(info[4], spec.rtcp);
    spec.isRtcpSocket = info[5].ToBoolean().Value();
    spec.rtcpMux = info[6].ToBoolean().Value();
    Napi::Array pts = info[7].As<Napi::Array>();
    for (uint32_t i = 0; i < pts.Length(); i++)
      spec.payloadTypes.push_back(pts.Get(i).As<Napi::Number>().Int32Value());
    if (info.Length() > 8 && info[8].IsArray()) {
      Napi::Array maps = info[8].As<Napi::Array>();
      if (maps.Length() > spec.rtp.size())
        throw Napi::RangeError::New(env, "more payload-type maps than rtp destinations");
      for (uint32_t i = 0; i < maps.Length(); i++) {
        Napi::Value m = maps.Get(i);
        if (!m.IsArray()) continue;
        Napi::Array a = m.As<Napi::Array>();
        for (uint32_t k = 0; k + 1 < a.Length(); k += 2)
          spec.rtp[i].ptMap.emplace_back(a.Get(k).As<Napi::Number>().Int32Value(),
                                         a.Get(k + 1).As<Napi::Number>().Int32Value());
      }
    }
    if (info.Length() > 9) fp::ReadEntrySrtp(env, info[9], info.Length() > 10 ? info[10] : env.Undefined(),
                                             info.Length() > 11 ? info[11] : env.Undefined(), spec);
    // info[12] true: only if no packet of the socket handed up to JS is still unhandled; false if refused
    bool ifIdle = info.Length() > 12 && info[12].ToBoolean().Value();
    bool busy = false;
    fp::EntrySrtpState old;
    std::string err = e.setEntry(id, spec, &old, ifIdle ? &busy : nullptr);
    if (!err.empty()) throw Napi::Error::New(env, "setEntry: " + err);
    if (busy) return Napi::Boolean::New(env, false);
    return fp::EntrySrtpToJs(env, old);
  }

  Napi::Value RemoveEntry(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_ || !engine_) return Napi::Boolean::New(env, false);
    fp::EntrySrtpState old;
    if (!engine_->removeEntry(info[0].As<Napi::Number>().Uint32Value(), &old)) return Napi::Boolean::New(env, false);
    return fp::EntrySrtpToJs(env, old);
  }

  Napi::Value SrtpFailures(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint64_t f[3];
    if (closed_ || !engine_ || !engine_->srtpFailures(info[0].As<Napi::Number>().Uint32Value(), f)) return env.Null();
    Napi::Array a = Napi::Array::New(env, 3);
    for (uint32_t i = 0; i < 3; i++) a.Set(i, (double)f[i]);
    return a;
  }

  Napi::Value StatsPage(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t i = info[0].As<Napi::Number>().Uint32Value();
    if (i >= pages_.size() || pages_[i].IsEmpty()) return env.Undefined();
    return pages_[i].Value();
  }

  Napi::Value Status(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    fp::Totals t{};
    if (engine_) t = engine_->totals();
    o.Set("threads", engine_ && !closed_ ? engine_->threadCount() : 0);
    o.Set("sockets", engine_ ? (double)engine_->socketCount() : 0.0);
    o.Set("entries", engine_ ? (double)engine_->entriesInTable() : 0.0);
    o.Set("received", (double)t.received + (engine_ ? (double)engine_->jsReceived : 0.0));
    o.Set("packets", (double)t.packets);
    o.Set("bytes", (double)t.bytes);
    o.Set("sent", (double)t.sent);
    o.Set("punted", (double)t.punted);
    o.Set("puntDropped", (double)t.puntDropped);
    o.Set("errors", (double)t.errors);
    o.Set("oversized", (double)t.oversized);
    o.Set("empty", (double)t.empty);
    o.Set("noDestination", (double)t.noDest);
    o.Set("sendErrors", (double)t.sendErrors);
    o.Set("recvErrors", (double)t.recvErrors + (engine_ ? (double)engine_->jsRecvErrors : 0.0));
    o.Set("srtpDropped", (double)t.srtpDropped);
    o.Set("jsSent", engine_ ? (double)engine_->jsSent : 0.0);
    o.Set("jsSendErrors", engine_ ? (double)engine_->jsSendErrors : 0.0);
    o.Set("cpuSeconds", t.cpuSeconds);
    return o;
  }

  Napi::Value Live(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("sockets", engine_ ? (double)engine_->liveSockets.load() : 0.0);
    o.Set("entries", engine_ ? (double)engine_->liveEntries.load() : 0.0);
    o.Set("srtpContexts", (double)fp::SrtpContext::live.load());
    return o;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_) return Napi::Boolean::New(env, false);
    if (ctx_ && info.Length() > 0 && info[0].IsFunction())
      ctx_->closeCb = Napi::Persistent(info[0].As<Napi::Function>());
    if (poller_) poller_->stop();
    if (engine_) engine_->shutdown();  // joins the threads: nothing calls the TSFN afterwards
    // Keep the loop alive for the one turn it takes to drain and finalize the TSFN, so that
    // the close callback runs (an unref'd async handle would let the process exit first).
    if (tsfnLive_) tsfn_.Ref(env);
    Teardown();                        // releases the TSFN; closeCb runs from its finalizer
    pages_.clear();                    // JS keeps its own views of the pages
    pagePtrs_.clear();
    freeSlots_.clear();
    slotOf_.clear();
    return Napi::Boolean::New(env, true);
  }

  std::unique_ptr<fp::Engine> engine_;
  std::unique_ptr<fp::JsPoller> poller_;  // JS-path I/O only
  Tsfn tsfn_;
  PuntCtx* ctx_ = nullptr;  // owned by the TSFN (freed in FinalizeTsfn)
  bool tsfnLive_ = false;
  bool closed_ = false;
  Napi::Env::CleanupHook<void (*)(NativeEngine*), NativeEngine> hook_;
  bool hookLive_ = false;
  std::vector<Napi::Reference<Napi::ArrayBuffer>> pages_;
  std::vector<uint64_t*> pagePtrs_;
  std::vector<uint32_t> freeSlots_;
  uint32_t nextSlot_ = 0;
  std::unordered_map<uint32_t, uint32_t> slotOf_;
  // Where open() writes id, port, slot of each socket it opened (JS keeps the array).
  Napi::Reference<Napi::Uint32Array> openOutRef_;
  uint32_t* openOut_ = nullptr;
};

// Node-API has no memory-pressure call: V8's own, on the JS thread (the only caller).
Napi::Value MemoryPressure(const Napi::CallbackInfo& info) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (isolate) isolate->MemoryPressureNotification(v8::MemoryPressureLevel::kModerate);
  return info.Env().Undefined();
}

Napi::Value MallocTrim(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), malloc_trim(0) != 0);
}

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
  exports.Set("ABI_VERSION", Napi::Number::New(env, fp::ABI_VERSION));
  exports.Set("MAX_PACKET", Napi::Number::New(env, (double)fp::MAX_PACKET));
  exports.Set("SLOT_FIELDS", Napi::Number::New(env, fp::SLOT_FIELDS));
  exports.Set("SLOTS_PER_PAGE", Napi::Number::New(env, SLOTS_PER_PAGE));
  exports.Set("MAX_THREADS", Napi::Number::New(env, fp::MAX_THREADS));
  exports.Set("Engine", NativeEngine::Init(env));
  exports.Set("memoryPressure", Napi::Function::New(env, MemoryPressure, "memoryPressure"));
  exports.Set("mallocTrim", Napi::Function::New(env, MallocTrim, "mallocTrim"));
  dtls::Init(env, exports);
  ngio::Init(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(rtpengine_fastpath, InitModule)
