// DTLS-SRTP endpoints (RFC 5763/5764) through the OpenSSL that Node carries: the handshake
// runs here, the packets travel in JS. See dtls.cc for the JS API.
#pragma once

#include <napi.h>

namespace dtls {

// Adds DtlsCert and DtlsConnection to the addon's exports.
void Init(Napi::Env env, Napi::Object exports);

}  // namespace dtls
