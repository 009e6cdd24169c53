// rtpengine-ts native addon: the ng control listener's UDP socket on the JS thread (ngio.cc).
#pragma once

#include <napi.h>

namespace ngio {

// Adds NgSocket to the addon's exports.
void Init(Napi::Env env, Napi::Object exports);

}  // namespace ngio
