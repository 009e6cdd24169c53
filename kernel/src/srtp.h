// rtpengine-ts native fast path: SRTP/SRTCP (RFC 3711, RFC 7714) for one direction of one
// packet stream, through the OpenSSL that Node carries (EVP ciphers, HMAC) — no cipher of our
// own. The JS side derives the session keys (daemon/crypto/srtp.ts) and hands them over with
// each SSRC's rollover counter and SRTCP index when it kernelizes a stream; the addon hands the
// counters back when the stream leaves the fast path, so no index is ever used twice.
//
// Threads: a context belongs to one forwarding entry, and an entry is read only by the thread
// that owns its receiving socket, so the per-SSRC state needs no lock. The JS thread touches it
// only under the table's write lock (install, replace, remove) and reads the failure counters
// with relaxed atomics.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fp {

// Bytes an output context may add to a packet: MKI (at most SRTP_MAX_MKI) + SRTCP index + tag.
constexpr size_t SRTP_MAX_MKI = 32;
constexpr size_t SRTP_MAX_OVERHEAD = SRTP_MAX_MKI + 4 + 16;
// Per-SSRC states a context keeps; beyond, the oldest is evicted (as the JS path bounds its maps).
constexpr int SRTP_MAX_SSRCS = 16;

enum class SrtpCipher : uint8_t { Null = 0, AesCm = 1, AesGcm = 2 };

// Why an input packet was refused (counted, never forwarded).
enum SrtpResult : int { SRTP_OK = 0, SRTP_SHORT = -1, SRTP_AUTH = -2, SRTP_REPLAY = -3, SRTP_MKI = -4 };

// One SSRC's state as it crosses between JS and the addon.
struct SrtpSsrcInit {
  uint32_t ssrc;
  // RTP: rollover counter and highest sequence number (-1: none yet).
  // SRTCP: `index` is the next index to send (output) or the highest one accepted (input, -1 none).
  int64_t roc;
  int64_t seq;
};

struct SrtpSpec {
  SrtpCipher cipher = SrtpCipher::AesCm;
  bool output = false;  // protects (toward a participant) or unprotects (from one)
  size_t srtpTagLen = 10, srtcpTagLen = 10;
  bool unencryptedSrtp = false, unencryptedSrtcp = false, unauthenticatedSrtp = false;
  std::vector<uint8_t> mki;
  // Session keys (RFC 3711 4.3) of RTP and RTCP: cipher key, salt (14 or 12 bytes), auth key.
  std::vector<uint8_t> rtpKey, rtpSalt, rtpAuth, rtcpKey, rtcpSalt, rtcpAuth;
  std::vector<SrtpSsrcInit> rtp, rtcp;
  // Which JS-side state this context continues (a packet stream's id): replacing an entry
  // carries the live counters over from the old context with the same key.
  uint32_t stateKey = 0;
  ~SrtpSpec();  // wipes the key bytes
};

struct SrtpState {
  std::vector<SrtpSsrcInit> rtp, rtcp;
  uint64_t auth = 0, replay = 0, invalid = 0;
};

class SrtpContext {
 public:
  // nullptr and `err` set if the spec is unusable (key lengths, OpenSSL failure).
  static std::unique_ptr<SrtpContext> create(const SrtpSpec& spec, std::string* err);
  ~SrtpContext();
  SrtpContext(const SrtpContext&) = delete;
  SrtpContext& operator=(const SrtpContext&) = delete;

  // Input, in place: returns the plain length, or an SrtpResult < 0. `hdr` is the RTP header length.
  int unprotectRtp(uint8_t* p, size_t len, size_t hdr);
  int unprotectRtcp(uint8_t* p, size_t len);
  // Output, in place: `p` holds the plain packet with room for SRTP_MAX_OVERHEAD more bytes.
  // Returns the protected length, or -1 (cipher failure).
  int protectRtp(uint8_t* p, size_t len, size_t hdr);
  int protectRtcp(uint8_t* p, size_t len);

  // Under the write lock, when an entry replaces another: continue the old context's counters
  // (higher index wins; replay windows and SRTCP indexes only under the same keys).
  void continueFrom(SrtpContext& old);
  SrtpState state() const;

  bool output() const { return output_; }
  uint32_t stateKey() const { return stateKey_; }

  // Failed input packets (written by the owning thread, read by JS).
  std::atomic<uint64_t> failAuth{0}, failReplay{0}, failInvalid{0};

  static std::atomic<int64_t> live;  // for the leak audit

 private:
  SrtpContext() = default;
  struct Keys;
  struct RtpSsrc {
    uint32_t ssrc;
    uint64_t roc;
    int32_t sl;           // highest sequence number, -1 before the first packet
    uint64_t maxIndex;    // replay window: highest index accepted, bit i of `window` = maxIndex - i
    uint64_t window[2];
    bool any;             // replay window holds something
    uint64_t order;       // for eviction
  };
  struct RtcpSsrc {
    uint32_t ssrc;
    uint32_t next;        // output: next SRTCP index
    uint32_t maxIndex;    // input: highest accepted
    uint64_t window[2];
    bool any;
    uint64_t order;
  };
  RtpSsrc& rtpSsrc(uint32_t ssrc);
  RtcpSsrc& rtcpSsrc(uint32_t ssrc);
  bool sameKeys(const SrtpContext& o) const;

  SrtpCipher cipher_ = SrtpCipher::AesCm;
  bool output_ = false;
  size_t srtpTagLen_ = 10, srtcpTagLen_ = 10;
  bool unencSrtp_ = false, unencSrtcp_ = false, unauthSrtp_ = false;
  std::vector<uint8_t> mki_;
  std::unique_ptr<Keys> rtpKeys_, rtcpKeys_;
  std::vector<uint8_t> keyMaterial_;  // both key sets concatenated, for sameKeys()
  RtpSsrc rtp_[SRTP_MAX_SSRCS];
  int nRtp_ = 0;
  RtcpSsrc rtcp_[SRTP_MAX_SSRCS];
  int nRtcp_ = 0;
  uint64_t order_ = 0;
  uint32_t stateKey_ = 0;
};

// The forwarding thread's two calls: a packet in from the entry's source (in place; returns
// the plain length, or < 0 after counting the failure) and a copy out to one destination (in
// place, with SRTP_MAX_OVERHEAD spare bytes; returns the protected length or -1).
int srtpInput(SrtpContext* c, uint8_t* p, size_t len, bool rtcp);
int srtpOutput(SrtpContext* c, uint8_t* p, size_t len, bool rtcp);

// What an entry's SRTP contexts reached, handed back to JS when the entry goes or is replaced.
struct EntrySrtpState {
  bool hasIn = false;
  SrtpState in;
  std::vector<std::pair<bool, SrtpState>> rtp, rtcp;  // per destination, in order
};

}  // namespace fp
