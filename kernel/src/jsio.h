// rtpengine-ts native addon: the JS path's batched I/O (see jsio.cc and docs/fast-path.md,
// "JS-path I/O"). JsPoller watches an engine's JS epoll set from the Node event loop.
#pragma once
#include <napi.h>
#include <uv.h>

#include <vector>

#include "engine.h"

namespace fp {

// Words of `meta` per polled datagram: socket id, offset, length, port | family << 16,
// then the 16 source address bytes (network order; IPv4 in the first 4).
constexpr size_t META_WORDS = 8;

class JsPoller {
 public:
  // `dispatch(buf: Buffer, count)` is called once per round with the datagrams in `buf` and
  // their META_WORDS-word descriptions in `meta` (a Uint32Array JS keeps and reads).
  JsPoller(Napi::Env env, Engine* engine, Napi::Function dispatch, Napi::Uint32Array meta);
  ~JsPoller();
  JsPoller(const JsPoller&) = delete;
  JsPoller& operator=(const JsPoller&) = delete;
  // Stops watching (before the engine closes its epoll set). Idempotent.
  void stop();

 private:
  static void OnReadable(uv_poll_t* h, int status, int events);
  void drain();

  Napi::Env env_;
  Engine* engine_;
  Napi::FunctionReference dispatch_;
  Napi::Reference<Napi::Uint32Array> metaRef_;
  uint32_t* meta_;
  size_t maxPackets_;
  std::vector<uint8_t> data_;
  uv_poll_t* handle_ = nullptr;
};

}  // namespace fp
