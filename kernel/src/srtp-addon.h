// rtpengine-ts native fast path: the Node-API side of SRTP (srtp.h) — reading the session keys
// and counters JS hands over with an entry, and handing the counters back.
#pragma once
#include <napi.h>

#include "engine.h"

namespace fp {

// Fills spec.srtpIn and each destination's srtpOut from setEntry's arguments 9..11
// (null/undefined: plain). Throws a JS TypeError on malformed input.
void ReadEntrySrtp(Napi::Env env, const Napi::Value& in, const Napi::Value& rtp, const Napi::Value& rtcp,
                   EntrySpec& spec);

// { input: State | null, rtp: (State | null)[], rtcp: (State | null)[] } with
// State = { rtp: [ssrc, roc, seq, ...], rtcp: [ssrc, index, ...], auth, replay, invalid }.
Napi::Value EntrySrtpToJs(Napi::Env env, const EntrySrtpState& st);

}  // namespace fp
