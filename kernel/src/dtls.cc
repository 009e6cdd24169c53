// DTLS-SRTP endpoints through Node's own OpenSSL (symbols exported by the node binary, headers
// from node-gyp's include dir). The handshake runs here; datagrams travel in JS: JS feeds each
// received DTLS datagram in and takes the datagrams to send out, and drives the retransmission
// timer. No sockets and no threads here, so everything runs on the JS thread.
//
// JS API (used only by daemon/crypto/dtls-native.ts):
//   DtlsCert.generate(kind: 'ec' | 'rsa', rsaBits, signature: 'sha256' | 'sha1', days) -> DtlsCert
//     .fingerprint(hash) -> Buffer        (hash: sha-1 ... sha-512 as OpenSSL names them)
//     .notAfter() -> number               (unix seconds)
//   new DtlsConnection(cert, active: boolean, mtu)
//     .start()                            (active: sends the ClientHello)
//     .feed(datagram) -> state            (0 handshaking, 1 connected, 2 failed, 3 closed)
//     .take() -> Buffer[]                 (datagrams to send, in order)
//     .timeoutMs() -> number              (until the next retransmission; -1: none pending)
//     .handleTimeout() -> state           (retransmits the last flight when due)
//     .state() -> state, .error() -> string
//     .peerFingerprint(hash) -> Buffer | null
//     .keyingMaterial() -> { profile, material } | null   (RFC 5764 §4.2, EXTRACTOR-dtls_srtp)
//     .close()                            (frees the SSL object; idempotent)
//     DtlsConnection.live() -> number     (SSL objects not yet freed, for the leak audit)
#include "dtls.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/srtp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <deque>
#include <string>
#include <vector>

namespace dtls {
namespace {

// The SRTP protection profiles we offer and accept, strongest first (RFC 5764, RFC 7714).
constexpr const char* SRTP_PROFILES =
    "SRTP_AEAD_AES_256_GCM:SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32";

enum State { HANDSHAKING = 0, CONNECTED = 1, FAILED = 2, CLOSED = 3 };

int64_t liveConnections = 0;

std::string opensslError(const char* what) {
  std::string out(what);
  unsigned long e;
  char buf[256];
  while ((e = ERR_get_error()) != 0) {
    ERR_error_string_n(e, buf, sizeof buf);
    out += ": ";
    out += buf;
  }
  return out;
}

// A write BIO that keeps each datagram OpenSSL writes apart, so a flight leaves as the
// datagrams OpenSSL sized for the MTU rather than one concatenated blob (a memory BIO's way).
struct DgramQueue {
  std::deque<std::vector<uint8_t>> out;
  size_t bytes = 0;
};

// A peer that never reads cannot make us queue without limit: beyond this the oldest go.
constexpr size_t MAX_QUEUED_BYTES = 256 * 1024;

int qWrite(BIO* b, const char* data, int len) {
  auto* q = static_cast<DgramQueue*>(BIO_get_data(b));
  if (!q || len < 0) return -1;
  q->out.emplace_back(data, data + len);
  q->bytes += (size_t)len;
  while (q->bytes > MAX_QUEUED_BYTES && q->out.size() > 1) {
    q->bytes -= q->out.front().size();
    q->out.pop_front();
  }
  return len;
}

long qCtrl(BIO*, int cmd, long, void*) {
  switch (cmd) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
      return 28;  // IPv4 + UDP headers; OpenSSL subtracts it from the link MTU
    default:
      return 0;  // no MTU query (SSL_OP_NO_QUERY_MTU), nothing pending, no peer address
  }
}

int qCreate(BIO* b) {
  BIO_set_init(b, 1);
  return 1;
}

BIO_METHOD* queueMethod() {
  static BIO_METHOD* m = nullptr;
  if (!m) {
    m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "rtpengine-ts dgram queue");
    BIO_meth_set_write(m, qWrite);
    BIO_meth_set_ctrl(m, qCtrl);
    BIO_meth_set_create(m, qCreate);
  }
  return m;
}

int acceptAnyCert(int, X509_STORE_CTX*) {
  // Self-signed certificates are the rule in DTLS-SRTP: the peer is authenticated by the
  // a=fingerprint of its SDP, checked in JS once the handshake is done.
  return 1;
}

// OpenSSL's digest name for an SDP hash name (RFC 8122: sha-1, sha-224, ... sha-512).
const EVP_MD* digestFor(const std::string& name) {
  std::string n;
  for (char c : name)
    if (c != '-') n += (char)tolower((unsigned char)c);
  if (n == "sha1") return EVP_sha1();
  if (n == "sha224") return EVP_sha224();
  if (n == "sha256") return EVP_sha256();
  if (n == "sha384") return EVP_sha384();
  if (n == "sha512") return EVP_sha512();
  return nullptr;
}

Napi::Value digestOf(Napi::Env env, X509* x, const std::string& hash) {
  const EVP_MD* md = digestFor(hash);
  if (!md) throw Napi::TypeError::New(env, "unknown fingerprint hash " + hash);
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!X509_digest(x, md, buf, &len)) throw Napi::Error::New(env, opensslError("X509_digest"));
  return Napi::Buffer<uint8_t>::Copy(env, buf, len);
}

class DtlsCert : public Napi::ObjectWrap<DtlsCert> {
 public:
  static Napi::FunctionReference ctor;

  static Napi::Function Init(Napi::Env env) {
    Napi::Function f = DefineClass(env, "DtlsCert", {
      StaticMethod("generate", &DtlsCert::Generate),
      InstanceMethod("fingerprint", &DtlsCert::Fingerprint),
      InstanceMethod("notAfter", &DtlsCert::NotAfter),
    });
    ctor = Napi::Persistent(f);
    ctor.SuppressDestruct();
    return f;
  }

  explicit DtlsCert(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DtlsCert>(info) {}

  ~DtlsCert() override {
    if (ctx_) SSL_CTX_free(ctx_);
    if (x509_) X509_free(x509_);
    if (key_) EVP_PKEY_free(key_);
  }

  SSL_CTX* ctx() const { return ctx_; }

 private:
  EVP_PKEY* key_ = nullptr;
  X509* x509_ = nullptr;
  SSL_CTX* ctx_ = nullptr;
  int64_t notAfter_ = 0;

  static Napi::Value Generate(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsString() || !info[3].IsNumber())
      throw Napi::TypeError::New(env, "generate(kind, rsaBits, signature, days)");
    std::string kind = info[0].As<Napi::String>();
    int bits = info[1].As<Napi::Number>().Int32Value();
    std::string sig = info[2].As<Napi::String>();
    int days = info[3].As<Napi::Number>().Int32Value();
    if (days < 1 || days > 3650) throw Napi::RangeError::New(env, "days out of range");
    const EVP_MD* md = sig == "sha1" ? EVP_sha1() : sig == "sha256" ? EVP_sha256() : nullptr;
    if (!md) throw Napi::TypeError::New(env, "signature must be sha-256 or sha-1");

    Napi::Object obj = ctor.New({});
    DtlsCert* self = Napi::ObjectWrap<DtlsCert>::Unwrap(obj);
    ERR_clear_error();
    if (kind == "rsa") {
      if (bits < 1024 || bits > 8192) throw Napi::RangeError::New(env, "RSA key size out of range");
      self->key_ = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", (size_t)bits);
    } else if (kind == "ec") {
      self->key_ = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    } else {
      throw Napi::TypeError::New(env, "kind must be ec or rsa");
    }
    if (!self->key_) throw Napi::Error::New(env, opensslError("key generation"));

    X509* x = self->x509_ = X509_new();
    if (!x) throw Napi::Error::New(env, opensslError("X509_new"));
    X509_set_version(x, 2);
    // a random 64-bit serial from OpenSSL's CSPRNG
    unsigned char serial[8];
    if (RAND_bytes(serial, sizeof serial) != 1) throw Napi::Error::New(env, opensslError("RAND_bytes"));
    serial[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))) {
      BN_free(bn);
      throw Napi::Error::New(env, opensslError("serial"));
    }
    BN_free(bn);
    // valid from a day ago (peers with a clock slightly behind still accept it)
    X509_gmtime_adj(X509_getm_notBefore(x), -86400L);
    X509_gmtime_adj(X509_getm_notAfter(x), (long)days * 86400L);
    X509_NAME* name = X509_get_subject_name(x);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char*)"rtpengine-ts", -1, -1, 0);
    X509_set_issuer_name(x, name);
    if (!X509_set_pubkey(x, self->key_) || !X509_sign(x, self->key_, md))
      throw Napi::Error::New(env, opensslError("certificate signing"));
    self->notAfter_ = (int64_t)time(nullptr) + (int64_t)days * 86400;

    SSL_CTX* ctx = self->ctx_ = SSL_CTX_new(DTLS_method());
    if (!ctx) throw Napi::Error::New(env, opensslError("SSL_CTX_new"));
    SSL_CTX_set_min_proto_version(ctx, DTLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, DTLS1_2_VERSION);
    if (SSL_CTX_use_certificate(ctx, x) != 1 || SSL_CTX_use_PrivateKey(ctx, self->key_) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
      throw Napi::Error::New(env, opensslError("certificate into SSL_CTX"));
    // returns 0 on success (OpenSSL's inverted convention for this call)
    if (SSL_CTX_set_tlsext_use_srtp(ctx, SRTP_PROFILES) != 0)
      throw Napi::Error::New(env, opensslError("SSL_CTX_set_tlsext_use_srtp"));
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, acceptAnyCert);
    SSL_CTX_set_read_ahead(ctx, 1);
    return obj;
  }

  Napi::Value Fingerprint(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(info.Env(), "fingerprint(hash)");
    return digestOf(info.Env(), x509_, info[0].As<Napi::String>());
  }

  Napi::Value NotAfter(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), (double)notAfter_);
  }
};

Napi::FunctionReference DtlsCert::ctor;

class DtlsConnection : public Napi::ObjectWrap<DtlsConnection> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "DtlsConnection", {
      InstanceMethod("start", &DtlsConnection::Start),
      InstanceMethod("feed", &DtlsConnection::Feed),
      InstanceMethod("take", &DtlsConnection::Take),
      InstanceMethod("timeoutMs", &DtlsConnection::TimeoutMs),
      InstanceMethod("handleTimeout", &DtlsConnection::HandleTimeout),
      InstanceMethod("state", &DtlsConnection::GetState),
      InstanceMethod("error", &DtlsConnection::GetError),
      InstanceMethod("peerFingerprint", &DtlsConnection::PeerFingerprint),
      InstanceMethod("keyingMaterial", &DtlsConnection::KeyingMaterial),
      InstanceMethod("close", &DtlsConnection::Close),
      StaticMethod("live", &DtlsConnection::Live),
    });
  }

  explicit DtlsConnection(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DtlsConnection>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsObject() || !info[1].IsBoolean() || !info[2].IsNumber())
      throw Napi::TypeError::New(env, "new DtlsConnection(cert, active, mtu)");
    Napi::Object certObj = info[0].As<Napi::Object>();
    if (!certObj.InstanceOf(DtlsCert::ctor.Value())) throw Napi::TypeError::New(env, "cert must be a DtlsCert");
    DtlsCert* cert = Napi::ObjectWrap<DtlsCert>::Unwrap(certObj);
    active_ = info[1].As<Napi::Boolean>();
    int mtu = info[2].As<Napi::Number>().Int32Value();
    ERR_clear_error();
    ssl_ = SSL_new(cert->ctx());  // holds its own reference to the SSL_CTX
    if (!ssl_) throw Napi::Error::New(env, opensslError("SSL_new"));
    liveConnections++;
    BIO* rbio = BIO_new(BIO_s_mem());
    BIO* wbio = BIO_new(queueMethod());
    if (!rbio || !wbio) {
      BIO_free(rbio);
      BIO_free(wbio);
      Free();
      throw Napi::Error::New(env, opensslError("BIO_new"));
    }
    BIO_set_mem_eof_return(rbio, -1);  // empty read BIO: "try again", not end of stream
    BIO_set_data(wbio, &queue_);
    SSL_set_bio(ssl_, rbio, wbio);
    SSL_set_options(ssl_, SSL_OP_NO_QUERY_MTU);
    SSL_set_mtu(ssl_, mtu > 200 ? mtu : 1200);
    if (active_) SSL_set_connect_state(ssl_);
    else SSL_set_accept_state(ssl_);
  }

  ~DtlsConnection() override { Free(); }

 private:
  SSL* ssl_ = nullptr;
  bool active_ = false;
  int state_ = HANDSHAKING;
  std::string error_;
  DgramQueue queue_;

  void Free() {
    if (!ssl_) return;
    SSL_free(ssl_);
    ssl_ = nullptr;
    liveConnections--;
  }

  void Fail(const std::string& why) {
    state_ = FAILED;
    error_ = why;
  }

  // Runs the handshake (or reads after it) until OpenSSL wants more input.
  void Drive() {
    if (!ssl_ || state_ == FAILED || state_ == CLOSED) return;
    ERR_clear_error();
    if (state_ == HANDSHAKING) {
      int r = SSL_do_handshake(ssl_);
      if (r == 1) {
        state_ = CONNECTED;
      } else {
        int e = SSL_get_error(ssl_, r);
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) Fail(opensslError("DTLS handshake failed"));
        return;
      }
    }
    // connected: application data is not used by DTLS-SRTP (read and dropped); alerts end it
    unsigned char buf[2048];
    for (int i = 0; i < 64; i++) {
      int r = SSL_read(ssl_, buf, sizeof buf);
      if (r > 0) continue;
      int e = SSL_get_error(ssl_, r);
      if (e == SSL_ERROR_ZERO_RETURN) state_ = CLOSED;
      else if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) Fail(opensslError("DTLS read failed"));
      return;
    }
  }

  Napi::Value StateValue(Napi::Env env) { return Napi::Number::New(env, state_); }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Drive();
    return StateValue(info.Env());
  }

  Napi::Value Feed(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsBuffer()) throw Napi::TypeError::New(env, "feed(buffer)");
    if (!ssl_) return StateValue(env);
    auto buf = info[0].As<Napi::Buffer<uint8_t>>();
    if (buf.Length() == 0 || buf.Length() > 65535) return StateValue(env);
    BIO* rbio = SSL_get_rbio(ssl_);
    BIO_write(rbio, buf.Data(), (int)buf.Length());
    Drive();
    // whatever OpenSSL did not take (a truncated or garbage datagram) goes, so the next
    // datagram starts on a record boundary
    (void)BIO_reset(rbio);
    return StateValue(env);
  }

  Napi::Value Take(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Array out = Napi::Array::New(env, queue_.out.size());
    uint32_t i = 0;
    for (auto& d : queue_.out) out.Set(i++, Napi::Buffer<uint8_t>::Copy(env, d.data(), d.size()));
    queue_.out.clear();
    queue_.bytes = 0;
    return out;
  }

  Napi::Value TimeoutMs(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!ssl_ || state_ != HANDSHAKING) return Napi::Number::New(env, -1);
    struct timeval tv;
    if (!DTLSv1_get_timeout(ssl_, &tv)) return Napi::Number::New(env, -1);
    return Napi::Number::New(env, (double)tv.tv_sec * 1000.0 + (double)tv.tv_usec / 1000.0);
  }

  Napi::Value HandleTimeout(const Napi::CallbackInfo& info) {
    if (ssl_ && state_ == HANDSHAKING) {
      ERR_clear_error();
      // < 0: OpenSSL gave up after too many retransmissions
      if (DTLSv1_handle_timeout(ssl_) < 0) Fail(opensslError("DTLS handshake timed out"));
    }
    return StateValue(info.Env());
  }

  Napi::Value GetState(const Napi::CallbackInfo& info) { return StateValue(info.Env()); }

  Napi::Value GetError(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), error_); }

  Napi::Value PeerFingerprint(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "peerFingerprint(hash)");
    if (!ssl_) return env.Null();
    X509* peer = SSL_get1_peer_certificate(ssl_);
    if (!peer) return env.Null();
    Napi::Value v;
    try {
      v = digestOf(env, peer, info[0].As<Napi::String>());
    } catch (...) {
      X509_free(peer);
      throw;
    }
    X509_free(peer);
    return v;
  }

  Napi::Value KeyingMaterial(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!ssl_ || state_ != CONNECTED) return env.Null();
    SRTP_PROTECTION_PROFILE* p = SSL_get_selected_srtp_profile(ssl_);
    if (!p) return env.Null();
    size_t keyLen, saltLen;
    switch (p->id) {
      case SRTP_AES128_CM_SHA1_80:
      case SRTP_AES128_CM_SHA1_32: keyLen = 16; saltLen = 14; break;
      case SRTP_AEAD_AES_128_GCM: keyLen = 16; saltLen = 12; break;
      case SRTP_AEAD_AES_256_GCM: keyLen = 32; saltLen = 12; break;
      default: return env.Null();
    }
    // RFC 5764 §4.2: client key, server key, client salt, server salt
    std::vector<unsigned char> m(2 * (keyLen + saltLen));
    static const char label[] = "EXTRACTOR-dtls_srtp";
    ERR_clear_error();
    if (SSL_export_keying_material(ssl_, m.data(), m.size(), label, sizeof label - 1, nullptr, 0, 0) != 1)
      throw Napi::Error::New(env, opensslError("SSL_export_keying_material"));
    Napi::Object o = Napi::Object::New(env);
    o.Set("profile", Napi::String::New(env, p->name));
    o.Set("keyLength", Napi::Number::New(env, (double)keyLen));
    o.Set("saltLength", Napi::Number::New(env, (double)saltLen));
    o.Set("material", Napi::Buffer<unsigned char>::Copy(env, m.data(), m.size()));
    OPENSSL_cleanse(m.data(), m.size());
    return o;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (ssl_ && state_ == CONNECTED) {
      // a close_notify the caller may still send (take()) before dropping the connection
      ERR_clear_error();
      SSL_shutdown(ssl_);
    }
    Free();
    if (state_ == HANDSHAKING || state_ == CONNECTED) state_ = CLOSED;
    return info.Env().Undefined();
  }

  static Napi::Value Live(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), (double)liveConnections);
  }
};

}  // namespace

void Init(Napi::Env env, Napi::Object exports) {
  exports.Set("DtlsCert", DtlsCert::Init(env));
  exports.Set("DtlsConnection", DtlsConnection::Init(env));
}

}  // namespace dtls
