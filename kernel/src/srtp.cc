// rtpengine-ts native fast path: SRTP/SRTCP through Node's OpenSSL. See srtp.h.
// Packet layouts and index rules follow RFC 3711 (AES-CM, HMAC-SHA1, appendix A index
// estimate, 3.3.2 replay) and RFC 7714 (AES-GCM nonces, AAD, tag placement), exactly as the
// JS path (daemon/crypto/srtp.ts) does them, so either path can take over from the other.
#define OPENSSL_SUPPRESS_DEPRECATED 1  // HMAC_CTX: a reusable key schedule, cheapest per packet
#include "srtp.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace fp {

std::atomic<int64_t> SrtpContext::live{0};

SrtpSpec::~SrtpSpec() {
  for (auto* v : {&rtpKey, &rtpSalt, &rtpAuth, &rtcpKey, &rtcpSalt, &rtcpAuth}) OPENSSL_cleanse(v->data(), v->size());
}

namespace {

constexpr int REPLAY_WINDOW = 128;

inline uint16_t rd16(const uint8_t* p) { return (uint16_t)((p[0] << 8) | p[1]); }
inline uint32_t rd32(const uint8_t* p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
inline void wr32(uint8_t* p, uint32_t v) {
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

// 128-entry sliding window over indexes: bit i of w = (max - i) seen.
inline bool windowCheck(bool any, uint64_t max, const uint64_t w[2], uint64_t index) {
  if (!any || index > max) return true;
  uint64_t d = max - index;
  if (d >= REPLAY_WINDOW) return false;
  return !((w[d >> 6] >> (d & 63)) & 1);
}

inline void windowAccept(bool& any, uint64_t& max, uint64_t w[2], uint64_t index) {
  if (!any) {
    any = true;
    max = index;
    w[0] = 1;
    w[1] = 0;
    return;
  }
  if (index > max) {
    uint64_t s = index - max;
    if (s >= REPLAY_WINDOW) {
      w[0] = w[1] = 0;
    } else if (s >= 64) {
      w[1] = w[0] << (s - 64);
      w[0] = 0;
    } else {
      w[1] = (w[1] << s) | (w[0] >> (64 - s));
      w[0] <<= s;
    }
    w[0] |= 1;
    max = index;
    return;
  }
  uint64_t d = max - index;
  if (d < REPLAY_WINDOW) w[d >> 6] |= (uint64_t)1 << (d & 63);
}

// A window taken over from the other path: everything at or below `max` counts as seen (the
// other path's bitmap is not carried; refusing a late duplicate is the safe side).
inline void windowFull(bool& any, uint64_t& max, uint64_t w[2], uint64_t index) {
  any = true;
  max = index;
  w[0] = w[1] = ~(uint64_t)0;
}

const EVP_CIPHER* ctrCipher(size_t keyLen) {
  switch (keyLen) {
    case 16: return EVP_aes_128_ctr();
    case 24: return EVP_aes_192_ctr();
    case 32: return EVP_aes_256_ctr();
    default: return nullptr;
  }
}

const EVP_CIPHER* gcmCipher(size_t keyLen) {
  switch (keyLen) {
    case 16: return EVP_aes_128_gcm();
    case 24: return EVP_aes_192_gcm();
    case 32: return EVP_aes_256_gcm();
    default: return nullptr;
  }
}

}  // namespace

// One session key set (RTP or RTCP) with its key schedules set up once.
struct SrtpContext::Keys {
  EVP_CIPHER_CTX* cipher = nullptr;
  HMAC_CTX* mac = nullptr;
  uint8_t salt[14] = {};
  ~Keys() {
    if (cipher) EVP_CIPHER_CTX_free(cipher);
    if (mac) HMAC_CTX_free(mac);
  }
};

std::unique_ptr<SrtpContext> SrtpContext::create(const SrtpSpec& s, std::string* err) {
  std::unique_ptr<SrtpContext> c(new SrtpContext());
  live.fetch_add(1, std::memory_order_relaxed);
  c->cipher_ = s.cipher;
  c->output_ = s.output;
  c->srtpTagLen_ = s.srtpTagLen;
  c->srtcpTagLen_ = s.srtcpTagLen;
  c->unencSrtp_ = s.unencryptedSrtp;
  c->unencSrtcp_ = s.unencryptedSrtcp;
  c->unauthSrtp_ = s.unauthenticatedSrtp;
  c->mki_ = s.mki;
  c->stateKey_ = s.stateKey;
  if (s.mki.size() > SRTP_MAX_MKI) {
    *err = "MKI longer than " + std::to_string(SRTP_MAX_MKI) + " bytes";
    return nullptr;
  }
  bool gcm = s.cipher == SrtpCipher::AesGcm;
  if (!gcm && (s.srtpTagLen > 20 || s.srtcpTagLen > 20 || s.srtcpTagLen == 0)) {
    *err = "bad HMAC-SHA1 tag length";
    return nullptr;
  }
  size_t saltLen = gcm ? 12 : 14;
  auto make = [&](const std::vector<uint8_t>& key, const std::vector<uint8_t>& salt,
                  const std::vector<uint8_t>& auth, std::unique_ptr<Keys>& out) -> bool {
    out = std::make_unique<Keys>();
    if (s.cipher != SrtpCipher::Null) {
      if (salt.size() != saltLen) {
        *err = "session salt must be " + std::to_string(saltLen) + " bytes";
        return false;
      }
      memcpy(out->salt, salt.data(), saltLen);
      const EVP_CIPHER* ciph = gcm ? gcmCipher(key.size()) : ctrCipher(key.size());
      if (!ciph) {
        *err = "session key must be 16, 24 or 32 bytes";
        return false;
      }
      out->cipher = EVP_CIPHER_CTX_new();
      // GCM's default nonce length is the 12 bytes RFC 7714 uses
      if (!out->cipher || EVP_CipherInit_ex(out->cipher, ciph, nullptr, key.data(), nullptr, gcm ? (s.output ? 1 : 0) : 1) != 1) {
        *err = "cipher setup failed";
        return false;
      }
    }
    if (!gcm) {
      if (auth.empty()) {
        *err = "missing authentication key";
        return false;
      }
      out->mac = HMAC_CTX_new();
      if (!out->mac || HMAC_Init_ex(out->mac, auth.data(), (int)auth.size(), EVP_sha1(), nullptr) != 1) {
        *err = "HMAC setup failed";
        return false;
      }
    }
    return true;
  };
  if (!make(s.rtpKey, s.rtpSalt, s.rtpAuth, c->rtpKeys_) || !make(s.rtcpKey, s.rtcpSalt, s.rtcpAuth, c->rtcpKeys_))
    return nullptr;
  for (const auto* v : {&s.rtpKey, &s.rtpSalt, &s.rtpAuth, &s.rtcpKey, &s.rtcpSalt, &s.rtcpAuth, &s.mki})
    c->keyMaterial_.insert(c->keyMaterial_.end(), v->begin(), v->end());
  c->keyMaterial_.push_back((uint8_t)s.cipher);

  for (const auto& st : s.rtp) {
    RtpSsrc& r = c->rtpSsrc(st.ssrc);
    r.roc = st.roc < 0 ? 0 : (uint64_t)st.roc;
    r.sl = st.seq < 0 ? -1 : (int32_t)(st.seq & 0xffff);
    if (r.sl >= 0) windowFull(r.any, r.maxIndex, r.window, (r.roc << 16) | (uint64_t)r.sl);
  }
  for (const auto& st : s.rtcp) {
    RtcpSsrc& r = c->rtcpSsrc(st.ssrc);
    if (s.output) {
      r.next = (uint32_t)(st.roc & 0x7fffffff);
    } else if (st.roc >= 0) {
      uint64_t m = 0;
      windowFull(r.any, m, r.window, (uint64_t)st.roc);
      r.maxIndex = (uint32_t)m;
    }
  }
  return c;
}

SrtpContext::~SrtpContext() {
  OPENSSL_cleanse(keyMaterial_.data(), keyMaterial_.size());
  live.fetch_sub(1, std::memory_order_relaxed);
}

SrtpContext::RtpSsrc& SrtpContext::rtpSsrc(uint32_t ssrc) {
  for (int i = 0; i < nRtp_; i++)
    if (rtp_[i].ssrc == ssrc) return rtp_[i];
  int slot = nRtp_;
  if (nRtp_ < SRTP_MAX_SSRCS) {
    nRtp_++;
  } else {
    slot = 0;
    for (int i = 1; i < nRtp_; i++)
      if (rtp_[i].order < rtp_[slot].order) slot = i;
  }
  RtpSsrc& r = rtp_[slot];
  r = RtpSsrc{ssrc, 0, -1, 0, {0, 0}, false, ++order_};
  return r;
}

SrtpContext::RtcpSsrc& SrtpContext::rtcpSsrc(uint32_t ssrc) {
  for (int i = 0; i < nRtcp_; i++)
    if (rtcp_[i].ssrc == ssrc) return rtcp_[i];
  int slot = nRtcp_;
  if (nRtcp_ < SRTP_MAX_SSRCS) {
    nRtcp_++;
  } else {
    slot = 0;
    for (int i = 1; i < nRtcp_; i++)
      if (rtcp_[i].order < rtcp_[slot].order) slot = i;
  }
  RtcpSsrc& r = rtcp_[slot];
  r = RtcpSsrc{ssrc, 0, 0, {0, 0}, false, ++order_};
  return r;
}

namespace {

// RFC 3711 appendix A: the ROC guess for sequence number `seq` (may be -1 for a packet from
// before ROC 0, which the caller refuses).
inline int64_t guessRoc(uint64_t roc, int32_t sl, uint16_t seq) {
  int64_t r = (int64_t)roc;
  if (sl < 0) return r;
  if (sl < 32768) return (int)seq - sl > 32768 ? r - 1 : r;
  return sl - 32768 > (int)seq ? r + 1 : r;
}

inline void updateIndex(uint64_t& roc, int32_t& sl, uint64_t v, uint16_t seq) {
  if (sl < 0 || v > roc) {
    roc = v;
    sl = seq;
  } else if (v == roc && (int32_t)seq > sl) {
    sl = seq;
  }
}

// AES-CM IV: (salt << 16) ^ (SSRC << 64) ^ (index << 16).
inline void cmIv(uint8_t iv[16], const uint8_t salt[14], uint32_t ssrc, uint64_t index) {
  memcpy(iv, salt, 14);
  iv[14] = iv[15] = 0;
  iv[4] ^= (uint8_t)(ssrc >> 24);
  iv[5] ^= (uint8_t)(ssrc >> 16);
  iv[6] ^= (uint8_t)(ssrc >> 8);
  iv[7] ^= (uint8_t)ssrc;
  for (int i = 0; i < 6; i++) iv[8 + i] ^= (uint8_t)(index >> (40 - 8 * i));
}

inline bool ctrXor(EVP_CIPHER_CTX* c, const uint8_t iv[16], uint8_t* data, size_t len) {
  if (len == 0) return true;
  int outl = 0;
  if (EVP_EncryptInit_ex(c, nullptr, nullptr, nullptr, iv) != 1) return false;
  return EVP_EncryptUpdate(c, data, &outl, data, (int)len) == 1;
}

// HMAC-SHA1 over a || b, the full 20-byte digest into `out`.
inline bool hmac(HMAC_CTX* m, const uint8_t* a, size_t alen, const uint8_t* b, size_t blen, uint8_t out[20]) {
  unsigned int l = 0;
  if (HMAC_Init_ex(m, nullptr, 0, nullptr, nullptr) != 1) return false;
  if (HMAC_Update(m, a, alen) != 1) return false;
  if (blen && HMAC_Update(m, b, blen) != 1) return false;
  return HMAC_Final(m, out, &l) == 1;
}

inline void gcmRtpIv(uint8_t iv[12], const uint8_t salt[14], uint32_t ssrc, uint32_t roc, uint16_t seq) {
  iv[0] = iv[1] = 0;
  wr32(iv + 2, ssrc);
  wr32(iv + 6, roc);
  iv[10] = (uint8_t)(seq >> 8);
  iv[11] = (uint8_t)seq;
  for (int i = 0; i < 12; i++) iv[i] ^= salt[i];
}

inline void gcmRtcpIv(uint8_t iv[12], const uint8_t salt[14], uint32_t ssrc, uint32_t index) {
  iv[0] = iv[1] = 0;
  wr32(iv + 2, ssrc);
  iv[6] = iv[7] = 0;
  wr32(iv + 8, index & 0x7fffffff);
  for (int i = 0; i < 12; i++) iv[i] ^= salt[i];
}

// AES-GCM over `data` in place with AAD a1 || a2; encrypts (and writes the tag) or decrypts
// (and checks the tag). `crypt` false: authenticate only (the data goes into the AAD instead).
inline bool gcm(EVP_CIPHER_CTX* c, bool enc, const uint8_t iv[12], const uint8_t* a1, size_t a1len,
                const uint8_t* a2, size_t a2len, uint8_t* data, size_t len, uint8_t* tag) {
  int l = 0;
  if (EVP_CipherInit_ex(c, nullptr, nullptr, nullptr, iv, enc ? 1 : 0) != 1) return false;
  if (a1len && EVP_CipherUpdate(c, nullptr, &l, a1, (int)a1len) != 1) return false;
  if (a2len && EVP_CipherUpdate(c, nullptr, &l, a2, (int)a2len) != 1) return false;
  if (len && EVP_CipherUpdate(c, data, &l, data, (int)len) != 1) return false;
  if (!enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) != 1) return false;
  uint8_t fin[16];
  if (EVP_CipherFinal_ex(c, fin, &l) != 1) return false;
  if (enc && EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) != 1) return false;
  return true;
}

}  // namespace

int SrtpContext::protectRtp(uint8_t* p, size_t len, size_t hdr) {
  uint16_t seq = rd16(p + 2);
  uint32_t ssrc = rd32(p + 8);
  RtpSsrc& st = rtpSsrc(ssrc);
  int64_t g = guessRoc(st.roc, st.sl, seq);
  uint64_t v = g < 0 ? 0 : (uint64_t)g;
  updateIndex(st.roc, st.sl, v, seq);
  uint64_t index = (v << 16) | seq;
  Keys& k = *rtpKeys_;
  size_t out = len;
  if (cipher_ == SrtpCipher::AesGcm) {
    uint8_t iv[12];
    gcmRtpIv(iv, k.salt, ssrc, (uint32_t)v, seq);
    bool ok = unencSrtp_ ? gcm(k.cipher, true, iv, p, len, nullptr, 0, nullptr, 0, p + len)
                         : gcm(k.cipher, true, iv, p, hdr, nullptr, 0, p + hdr, len - hdr, p + len);
    if (!ok) return -1;
    out += 16;
    memcpy(p + out, mki_.data(), mki_.size());
    return (int)(out + mki_.size());
  }
  if (cipher_ == SrtpCipher::AesCm && !unencSrtp_) {
    uint8_t iv[16];
    cmIv(iv, k.salt, ssrc, index);
    if (!ctrXor(k.cipher, iv, p + hdr, len - hdr)) return -1;
  }
  if (!unauthSrtp_) {
    uint8_t roc[4], tag[20];
    wr32(roc, (uint32_t)v);
    if (!hmac(k.mac, p, len, roc, 4, tag)) return -1;
    memcpy(p + out, mki_.data(), mki_.size());
    out += mki_.size();
    memcpy(p + out, tag, srtpTagLen_);
    return (int)(out + srtpTagLen_);
  }
  memcpy(p + out, mki_.data(), mki_.size());
  return (int)(out + mki_.size());
}

int SrtpContext::unprotectRtp(uint8_t* p, size_t len, size_t hdr) {
  size_t mkiLen = mki_.size();
  bool isGcm = cipher_ == SrtpCipher::AesGcm;
  size_t tagLen = isGcm ? 16 : unauthSrtp_ ? 0 : srtpTagLen_;
  if (len < hdr + tagLen + mkiLen) return SRTP_SHORT;
  uint16_t seq = rd16(p + 2);
  uint32_t ssrc = rd32(p + 8);
  RtpSsrc& st = rtpSsrc(ssrc);
  int64_t g = guessRoc(st.roc, st.sl, seq);
  if (g < 0) return SRTP_REPLAY;
  uint64_t v = (uint64_t)g;
  uint64_t index = (v << 16) | seq;
  if (!windowCheck(st.any, st.maxIndex, st.window, index)) return SRTP_REPLAY;
  Keys& k = *rtpKeys_;
  size_t plain;
  if (isGcm) {
    size_t end = len - mkiLen;
    if (mkiLen && CRYPTO_memcmp(p + end, mki_.data(), mkiLen) != 0) return SRTP_MKI;
    uint8_t iv[12];
    gcmRtpIv(iv, k.salt, ssrc, (uint32_t)v, seq);
    plain = end - 16;
    bool ok = unencSrtp_ ? gcm(k.cipher, false, iv, p, plain, nullptr, 0, nullptr, 0, p + plain)
                         : gcm(k.cipher, false, iv, p, hdr, nullptr, 0, p + hdr, plain - hdr, p + plain);
    if (!ok) return SRTP_AUTH;
  } else {
    size_t authEnd = len - tagLen - mkiLen;
    if (mkiLen && CRYPTO_memcmp(p + authEnd, mki_.data(), mkiLen) != 0) return SRTP_MKI;
    if (tagLen) {
      uint8_t roc[4], want[20];
      wr32(roc, (uint32_t)v);
      if (!hmac(k.mac, p, authEnd, roc, 4, want)) return SRTP_AUTH;
      if (CRYPTO_memcmp(want, p + len - tagLen, tagLen) != 0) return SRTP_AUTH;
    }
    plain = authEnd;
    if (cipher_ == SrtpCipher::AesCm && !unencSrtp_) {
      uint8_t iv[16];
      cmIv(iv, k.salt, ssrc, index);
      if (!ctrXor(k.cipher, iv, p + hdr, plain - hdr)) return SRTP_AUTH;
    }
  }
  windowAccept(st.any, st.maxIndex, st.window, index);
  updateIndex(st.roc, st.sl, v, seq);
  return (int)plain;
}

int SrtpContext::protectRtcp(uint8_t* p, size_t len) {
  uint32_t ssrc = rd32(p + 4);
  RtcpSsrc& st = rtcpSsrc(ssrc);
  uint32_t index = st.next;
  st.next = (st.next + 1) & 0x7fffffff;
  bool encrypt = !unencSrtcp_ && cipher_ != SrtpCipher::Null;
  uint8_t eIndex[4];
  wr32(eIndex, (encrypt ? 0x80000000u : 0u) | index);
  Keys& k = *rtcpKeys_;
  size_t out = len;
  if (cipher_ == SrtpCipher::AesGcm) {
    uint8_t iv[12];
    gcmRtcpIv(iv, k.salt, ssrc, index);
    bool ok = encrypt ? gcm(k.cipher, true, iv, p, 8, eIndex, 4, p + 8, len - 8, p + len)
                      : gcm(k.cipher, true, iv, p, len, eIndex, 4, nullptr, 0, p + len);
    if (!ok) return -1;
    out += 16;
    memcpy(p + out, eIndex, 4);
    out += 4;
    memcpy(p + out, mki_.data(), mki_.size());
    return (int)(out + mki_.size());
  }
  if (encrypt) {
    uint8_t iv[16];
    cmIv(iv, k.salt, ssrc, index);
    if (!ctrXor(k.cipher, iv, p + 8, len - 8)) return -1;
  }
  memcpy(p + out, eIndex, 4);
  out += 4;
  uint8_t tag[20];
  if (!hmac(k.mac, p, out, nullptr, 0, tag)) return -1;
  memcpy(p + out, mki_.data(), mki_.size());
  out += mki_.size();
  memcpy(p + out, tag, srtcpTagLen_);
  return (int)(out + srtcpTagLen_);
}

int SrtpContext::unprotectRtcp(uint8_t* p, size_t len) {
  size_t mkiLen = mki_.size();
  Keys& k = *rtcpKeys_;
  if (cipher_ == SrtpCipher::AesGcm) {
    if (len < 8 + 16 + 4 + mkiLen) return SRTP_SHORT;
    size_t end = len - mkiLen;
    if (mkiLen && CRYPTO_memcmp(p + end, mki_.data(), mkiLen) != 0) return SRTP_MKI;
    uint8_t* eIndex = p + end - 4;
    uint32_t word = rd32(eIndex);
    uint32_t index = word & 0x7fffffff;
    uint32_t ssrc = rd32(p + 4);
    RtcpSsrc& st = rtcpSsrc(ssrc);
    uint64_t max = st.maxIndex;
    if (!windowCheck(st.any, max, st.window, index)) return SRTP_REPLAY;
    uint8_t iv[12];
    gcmRtcpIv(iv, k.salt, ssrc, index);
    size_t plain = end - 20;
    bool ok = (word & 0x80000000u)
                  ? gcm(k.cipher, false, iv, p, 8, eIndex, 4, p + 8, plain - 8, p + plain)
                  : gcm(k.cipher, false, iv, p, plain, eIndex, 4, nullptr, 0, p + plain);
    if (!ok) return SRTP_AUTH;
    windowAccept(st.any, max, st.window, index);
    st.maxIndex = (uint32_t)max;
    return (int)plain;
  }
  size_t tagLen = srtcpTagLen_;
  if (len < 8 + 4 + mkiLen + tagLen) return SRTP_SHORT;
  size_t authEnd = len - tagLen - mkiLen;
  if (mkiLen && CRYPTO_memcmp(p + authEnd, mki_.data(), mkiLen) != 0) return SRTP_MKI;
  uint32_t word = rd32(p + authEnd - 4);
  uint32_t index = word & 0x7fffffff;
  uint32_t ssrc = rd32(p + 4);
  RtcpSsrc& st = rtcpSsrc(ssrc);
  uint64_t max = st.maxIndex;
  if (!windowCheck(st.any, max, st.window, index)) return SRTP_REPLAY;
  uint8_t want[20];
  if (!hmac(k.mac, p, authEnd, nullptr, 0, want)) return SRTP_AUTH;
  if (CRYPTO_memcmp(want, p + len - tagLen, tagLen) != 0) return SRTP_AUTH;
  size_t plain = authEnd - 4;
  if ((word & 0x80000000u) && cipher_ != SrtpCipher::Null) {
    uint8_t iv[16];
    cmIv(iv, k.salt, ssrc, index);
    if (!ctrXor(k.cipher, iv, p + 8, plain - 8)) return SRTP_AUTH;
  }
  windowAccept(st.any, max, st.window, index);
  st.maxIndex = (uint32_t)max;
  return (int)plain;
}

bool SrtpContext::sameKeys(const SrtpContext& o) const {
  return keyMaterial_.size() == o.keyMaterial_.size() &&
         CRYPTO_memcmp(keyMaterial_.data(), o.keyMaterial_.data(), keyMaterial_.size()) == 0;
}

void SrtpContext::continueFrom(SrtpContext& old) {
  bool same = sameKeys(old);
  for (int i = 0; i < old.nRtp_; i++) {
    const RtpSsrc& o = old.rtp_[i];
    if (o.sl < 0) continue;
    RtpSsrc& n = rtpSsrc(o.ssrc);
    uint64_t oi = (o.roc << 16) | (uint64_t)o.sl;
    uint64_t ni = n.sl < 0 ? 0 : (n.roc << 16) | (uint64_t)n.sl;
    if (n.sl < 0 || oi >= ni) {
      n.roc = o.roc;
      n.sl = o.sl;
      if (same && o.any) {
        n.any = true;
        n.maxIndex = o.maxIndex;
        n.window[0] = o.window[0];
        n.window[1] = o.window[1];
      } else {
        windowFull(n.any, n.maxIndex, n.window, oi);
      }
    }
  }
  if (!same) return;  // SRTCP under new keys starts afresh, as on the JS path
  for (int i = 0; i < old.nRtcp_; i++) {
    const RtcpSsrc& o = old.rtcp_[i];
    RtcpSsrc& n = rtcpSsrc(o.ssrc);
    if (o.next > n.next) n.next = o.next;
    if (o.any && (!n.any || o.maxIndex >= n.maxIndex)) {
      n.any = true;
      n.maxIndex = o.maxIndex;
      n.window[0] = o.window[0];
      n.window[1] = o.window[1];
    }
  }
  // failure counters stay with the old context: JS folds them in from its returned state
}

int srtpInput(SrtpContext* c, uint8_t* p, size_t len, bool rtcp) {
  int r;
  if (rtcp) {
    r = c->unprotectRtcp(p, len);
  } else {
    // the caller validated the header (validRtpOrRtcp): CSRCs and extension are inside `len`
    size_t hdr = 12 + (size_t)(p[0] & 0x0f) * 4;
    if (p[0] & 0x10) hdr += 4 + (size_t)((p[hdr + 2] << 8) | p[hdr + 3]) * 4;
    r = c->unprotectRtp(p, len, hdr);
  }
  if (r >= 0) return r;
  std::atomic<uint64_t>& n = r == SRTP_AUTH ? c->failAuth : r == SRTP_REPLAY ? c->failReplay : c->failInvalid;
  n.store(n.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);  // single writer
  return r;
}

int srtpOutput(SrtpContext* c, uint8_t* p, size_t len, bool rtcp) {
  if (rtcp) return c->protectRtcp(p, len);
  size_t hdr = 12 + (size_t)(p[0] & 0x0f) * 4;
  if (p[0] & 0x10) hdr += 4 + (size_t)((p[hdr + 2] << 8) | p[hdr + 3]) * 4;
  return c->protectRtp(p, len, hdr);
}

SrtpState SrtpContext::state() const {
  SrtpState s;
  for (int i = 0; i < nRtp_; i++) {
    const RtpSsrc& r = rtp_[i];
    if (r.sl < 0) continue;
    s.rtp.push_back({r.ssrc, (int64_t)r.roc, r.sl});
  }
  for (int i = 0; i < nRtcp_; i++) {
    const RtcpSsrc& r = rtcp_[i];
    if (output_) s.rtcp.push_back({r.ssrc, (int64_t)r.next, 0});
    else if (r.any) s.rtcp.push_back({r.ssrc, (int64_t)r.maxIndex, 0});
  }
  s.auth = failAuth.load(std::memory_order_relaxed);
  s.replay = failReplay.load(std::memory_order_relaxed);
  s.invalid = failInvalid.load(std::memory_order_relaxed);
  return s;
}

}  // namespace fp
