// rtpengine-ts native fast path: JS <-> SrtpSpec / SrtpState. See srtp-addon.h.
// JS SrtpSpec: { cipher: 'aes-cm' | 'aes-gcm' | 'null', output, srtpTagLen, srtcpTagLen,
//   unencryptedSrtp, unencryptedSrtcp, unauthenticatedSrtp, mki?: Buffer,
//   rtpKey, rtpSalt, rtpAuth, rtcpKey, rtcpSalt, rtcpAuth: Buffer,
//   rtp: [ssrc, roc, seq, ...], rtcp: [ssrc, index, ...], stateKey }
// Key bytes are copied into the context and never logged or echoed in an error.
#include "srtp-addon.h"

namespace fp {

namespace {

std::vector<uint8_t> bytes(Napi::Env env, const Napi::Object& o, const char* name, bool optional = false) {
  Napi::Value v = o.Get(name);
  if (optional && (v.IsUndefined() || v.IsNull())) return {};
  if (!v.IsTypedArray()) throw Napi::TypeError::New(env, std::string("SRTP spec: ") + name + " must be a Buffer");
  Napi::Uint8Array a = v.As<Napi::Uint8Array>();
  return std::vector<uint8_t>(a.Data(), a.Data() + a.ByteLength());
}

void states(Napi::Env env, const Napi::Object& o, const char* name, size_t stride, std::vector<SrtpSsrcInit>& out) {
  Napi::Value v = o.Get(name);
  if (v.IsUndefined() || v.IsNull()) return;
  if (!v.IsArray()) throw Napi::TypeError::New(env, std::string("SRTP spec: ") + name + " must be an array");
  Napi::Array a = v.As<Napi::Array>();
  for (uint32_t i = 0; i + stride - 1 < a.Length(); i += (uint32_t)stride) {
    SrtpSsrcInit s{};
    s.ssrc = (uint32_t)a.Get(i).As<Napi::Number>().Int64Value();
    s.roc = a.Get(i + 1).As<Napi::Number>().Int64Value();
    s.seq = stride > 2 ? a.Get(i + 2).As<Napi::Number>().Int64Value() : 0;
    out.push_back(s);
  }
}

std::shared_ptr<SrtpSpec> readSpec(Napi::Env env, const Napi::Value& v) {
  if (v.IsUndefined() || v.IsNull()) return nullptr;
  if (!v.IsObject()) throw Napi::TypeError::New(env, "SRTP spec must be an object");
  Napi::Object o = v.As<Napi::Object>();
  auto s = std::make_shared<SrtpSpec>();
  std::string cipher = o.Get("cipher").ToString().Utf8Value();
  if (cipher == "aes-cm") s->cipher = SrtpCipher::AesCm;
  else if (cipher == "aes-gcm") s->cipher = SrtpCipher::AesGcm;
  else if (cipher == "null") s->cipher = SrtpCipher::Null;
  else throw Napi::TypeError::New(env, "SRTP spec: cipher '" + cipher + "' is not done natively");
  s->output = o.Get("output").ToBoolean().Value();
  s->srtpTagLen = (size_t)o.Get("srtpTagLen").ToNumber().Uint32Value();
  s->srtcpTagLen = (size_t)o.Get("srtcpTagLen").ToNumber().Uint32Value();
  s->unencryptedSrtp = o.Get("unencryptedSrtp").ToBoolean().Value();
  s->unencryptedSrtcp = o.Get("unencryptedSrtcp").ToBoolean().Value();
  s->unauthenticatedSrtp = o.Get("unauthenticatedSrtp").ToBoolean().Value();
  s->mki = bytes(env, o, "mki", true);
  s->rtpKey = bytes(env, o, "rtpKey");
  s->rtpSalt = bytes(env, o, "rtpSalt");
  s->rtpAuth = bytes(env, o, "rtpAuth");
  s->rtcpKey = bytes(env, o, "rtcpKey");
  s->rtcpSalt = bytes(env, o, "rtcpSalt");
  s->rtcpAuth = bytes(env, o, "rtcpAuth");
  states(env, o, "rtp", 3, s->rtp);
  states(env, o, "rtcp", 2, s->rtcp);
  s->stateKey = o.Get("stateKey").ToNumber().Uint32Value();
  return s;
}

void readList(Napi::Env env, const Napi::Value& v, std::vector<EntrySpec::D>& dests) {
  if (v.IsUndefined() || v.IsNull()) return;
  if (!v.IsArray()) throw Napi::TypeError::New(env, "destination SRTP specs must be an array");
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() > dests.size()) throw Napi::RangeError::New(env, "more SRTP specs than destinations");
  for (uint32_t i = 0; i < a.Length(); i++) dests[i].srtpOut = readSpec(env, a.Get(i));
}

Napi::Value stateToJs(Napi::Env env, const SrtpState& s) {
  Napi::Object o = Napi::Object::New(env);
  Napi::Array rtp = Napi::Array::New(env, s.rtp.size() * 3);
  for (size_t i = 0; i < s.rtp.size(); i++) {
    rtp.Set((uint32_t)(i * 3), (double)s.rtp[i].ssrc);
    rtp.Set((uint32_t)(i * 3 + 1), (double)s.rtp[i].roc);
    rtp.Set((uint32_t)(i * 3 + 2), (double)s.rtp[i].seq);
  }
  Napi::Array rtcp = Napi::Array::New(env, s.rtcp.size() * 2);
  for (size_t i = 0; i < s.rtcp.size(); i++) {
    rtcp.Set((uint32_t)(i * 2), (double)s.rtcp[i].ssrc);
    rtcp.Set((uint32_t)(i * 2 + 1), (double)s.rtcp[i].roc);
  }
  o.Set("rtp", rtp);
  o.Set("rtcp", rtcp);
  o.Set("auth", (double)s.auth);
  o.Set("replay", (double)s.replay);
  o.Set("invalid", (double)s.invalid);
  return o;
}

Napi::Array listToJs(Napi::Env env, const std::vector<std::pair<bool, SrtpState>>& l) {
  Napi::Array a = Napi::Array::New(env, l.size());
  for (size_t i = 0; i < l.size(); i++) a.Set((uint32_t)i, l[i].first ? stateToJs(env, l[i].second) : env.Null());
  return a;
}

}  // namespace

void ReadEntrySrtp(Napi::Env env, const Napi::Value& in, const Napi::Value& rtp, const Napi::Value& rtcp,
                   EntrySpec& spec) {
  spec.srtpIn = readSpec(env, in);
  readList(env, rtp, spec.rtp);
  readList(env, rtcp, spec.rtcp);
}

Napi::Value EntrySrtpToJs(Napi::Env env, const EntrySrtpState& st) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("input", st.hasIn ? stateToJs(env, st.in) : env.Null());
  o.Set("rtp", listToJs(env, st.rtp));
  o.Set("rtcp", listToJs(env, st.rtcp));
  return o;
}

}  // namespace fp
