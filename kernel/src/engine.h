// rtpengine-ts native fast path: the forwarding core (no Node-API in here).
//
// Threads: N forwarding threads, each with its own epoll instance; every socket is owned by
// exactly one thread (round-robin at open), so one socket's packets are read, counted and
// punted by one thread only (per-socket order, single writer per stats slot).
//
// Locking: one pthread_rwlock_t (writer-preferring) over the socket map and every socket's
// forwarding entry. Threads hold the read side from the lookup of the receiving socket to
// the end of the sendmmsg() of that batch; the JS thread takes the write side to install,
// replace or remove an entry and to close a socket. The socket map is only ever modified by
// the JS thread, so the JS thread may read it without the lock.
#pragma once

#ifndef __linux__
#error "the rtpengine-ts fast path needs Linux (epoll, recvmmsg, sendmmsg)"
#endif

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "srtp.h"

#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>

namespace fp {

// Bumped whenever the JS <-> addon interface changes; native-fast-path.ts checks it.
constexpr int ABI_VERSION = 5;
// Receive buffer per datagram; anything larger (MSG_TRUNC) is counted as oversized, dropped.
constexpr size_t MAX_PACKET = 4096;
// recvmmsg/sendmmsg batch.
constexpr int BATCH = 64;
// Per-socket stats slot: float64 [packets, bytes, errors, lastPacketMs].
constexpr int SLOT_FIELDS = 4;
constexpr int MAX_THREADS = 64;

class Engine;

struct Sock;

struct Dest {
  std::shared_ptr<Sock> via;
  sockaddr_storage addr;
  socklen_t addrLen;
  // RTP payload-type renumbering toward this destination (the sink's codec handlers):
  // ptOut[pt] is the payload type the packet leaves with. Identity unless `renumber`.
  bool renumber = false;
  uint8_t ptOut[128];
  // SRTP toward this destination (srtp.h), or null: plain.
  std::unique_ptr<SrtpContext> srtpOut;
};

struct Entry {
  explicit Entry(Engine* e);
  ~Entry();
  Entry(const Entry&) = delete;
  Entry& operator=(const Entry&) = delete;

  Engine* engine;
  sockaddr_storage source{};
  socklen_t sourceLen = 0;
  std::vector<Dest> rtp;
  std::vector<Dest> rtcp;
  bool isRtcpSocket = false;
  bool rtcpMux = false;
  bool ptFilter = false;
  uint8_t pts[128] = {};
  // SRTP from the source (srtp.h), or null: plain.
  std::unique_ptr<SrtpContext> srtpIn;
};

struct Sock {
  Sock(Engine* e, uint32_t id, int fd, int family, unsigned thread, uint64_t* stats);
  ~Sock();
  Sock(const Sock&) = delete;
  Sock& operator=(const Sock&) = delete;

  Engine* engine;
  uint32_t id;
  int fd;              // -1 once closed (written under the write lock)
  int family;          // AF_INET / AF_INET6
  unsigned thread;     // owning forwarding thread
  uint64_t* stats;     // SLOT_FIELDS float64 (stored as bits); written only by the owning thread
  std::unique_ptr<Entry> entry;  // guarded by the rwlock
  // Packets read from this socket and handed up to JS that JS has not handled yet: counted up by
  // the owning thread under the read lock, down on the JS thread once their batch was dispatched
  // (or dropped). An entry installed while some are out would let later packets overtake them.
  std::atomic<uint32_t> puntsOut{0};
};

// A batch of packets punted up to JS. Allocated by a forwarding thread, freed on the JS thread.
struct PuntBatch {
  struct Meta {
    uint32_t sockId;
    uint32_t offset;
    uint32_t len;
    uint16_t port;
    uint8_t family;  // 4 or 6
    uint8_t addr[16];
  };
  std::vector<uint8_t> data;
  std::vector<Meta> meta;
};

// Engine-wide counters of one forwarding thread (single writer: that thread).
struct alignas(64) ThreadCounters {
  std::atomic<uint64_t> received{0};     // datagrams read
  std::atomic<uint64_t> packets{0};      // accepted by an entry (forwarded or no destination)
  std::atomic<uint64_t> bytes{0};        // bytes of those
  std::atomic<uint64_t> sent{0};         // datagrams sent (one per destination)
  std::atomic<uint64_t> punted{0};       // handed to JS
  std::atomic<uint64_t> puntDropped{0};  // punt queue full
  std::atomic<uint64_t> errors{0};       // invalid RTP/RTCP from the entry's source
  std::atomic<uint64_t> oversized{0};    // > MAX_PACKET
  std::atomic<uint64_t> empty{0};        // zero-length datagrams
  std::atomic<uint64_t> noDest{0};       // accepted but the matching destination list was empty
  std::atomic<uint64_t> sendErrors{0};   // EAGAIN / other send failures (dropped)
  std::atomic<uint64_t> recvErrors{0};
  std::atomic<uint64_t> srtpDropped{0};  // failed SRTP/SRTCP authentication, replay, MKI, length
};

struct Totals {
  uint64_t received, packets, bytes, sent, punted, puntDropped, errors, oversized, empty, noDest,
      sendErrors, recvErrors, srtpDropped;
  double cpuSeconds;
};

using PuntFn = bool (*)(void* ctx, PuntBatch* batch);  // false: queue full / closing

struct OpenResult {
  int err;  // 0 or errno
  std::string what;
  uint32_t id;
  uint16_t port;
};

struct EntrySpec {
  std::string sourceAddr;
  uint16_t sourcePort;
  struct D {
    uint32_t via;
    std::string addr;
    uint16_t port;
    std::vector<std::pair<int, int>> ptMap;  // [from, to] payload types (RTP destinations only)
    std::shared_ptr<SrtpSpec> srtpOut;        // null: plain
  };
  std::vector<D> rtp, rtcp;
  bool isRtcpSocket, rtcpMux;
  std::vector<int> payloadTypes;
  std::shared_ptr<SrtpSpec> srtpIn;  // null: plain
};

class Engine {
 public:
  Engine();
  ~Engine();

  // Starts the threads; returns "" or the reason it failed.
  std::string start(int threads, int tos, PuntFn punt, void* puntCtx);
  // Stops and joins the threads, closes every socket. Idempotent.
  void shutdown();

  OpenResult open(const std::string& address, uint16_t port, int family, uint64_t* stats);
  // Returns the socket's stats pointer (so the caller can free the slot), nullptr if unknown.
  uint64_t* closeSocket(uint32_t id);
  bool send(uint32_t id, const uint8_t* data, size_t len, const std::string& address, uint16_t port);
  bool setTos(uint32_t id, int tos);
  // JS thread: sends `count` records of a send buffer (layout in jsio.cc); returns how many
  // datagrams went out (the others count in jsSendErrors).
  uint32_t sendBatch(const uint8_t* buf, size_t bytes, uint32_t count);
  // Started with 0 threads (JS-path I/O only, no forwarding): the sockets sit in one epoll set
  // that the JS thread polls (jsio.cc). pollJs reads up to maxPackets ready datagrams into
  // `data`, META_WORDS words each in `meta`; returns how many.
  int jsPollFd() const { return jsEpfd_; }
  size_t pollJs(std::vector<uint8_t>& data, uint32_t* meta, size_t maxPackets);
  uint64_t jsReceived = 0;
  uint64_t jsRecvErrors = 0;
  // "" or an error message (bad address, unknown/closed socket).
  // `old`, if given, receives the SRTP counters of the entry replaced or removed.
  // With `busy`: refused (*busy = true, nothing changed) while packets of the socket handed up
  // to JS are not handled yet, so the hand-over to the entry keeps the packets' order.
  std::string setEntry(uint32_t id, const EntrySpec& spec, EntrySrtpState* old = nullptr, bool* busy = nullptr);
  // JS thread: a punted batch was dispatched (or dropped): its packets are no longer out.
  void puntsHandled(const PuntBatch& b);
  bool removeEntry(uint32_t id, EntrySrtpState* old = nullptr);
  // Live SRTP input failures [auth, replay, invalid] of a socket's entry; false if none.
  bool srtpFailures(uint32_t id, uint64_t out[3]) const;

  Totals totals() const;
  int threadCount() const { return (int)threads_.size(); }
  size_t socketCount() const { return socks_.size(); }
  int64_t entriesInTable() const { return tableEntries_; }

  // Live native objects (constructor ++, destructor --).
  std::atomic<int64_t> liveSockets{0};
  std::atomic<int64_t> liveEntries{0};
  // JS-thread send() failures.
  uint64_t jsSendErrors = 0;
  uint64_t jsSent = 0;

 private:
  struct Thread;
  static void* threadMain(void* arg);
  void run(Thread* t);
  void handleSocket(Thread* t, uint32_t id, double nowMs);
  void flushPunts(Thread* t);
  void releasePunts(const PuntBatch& b);

  // the epoll set a socket is in: its forwarding thread's, or the JS thread's (0 threads)
  int epfdOf(const Sock& s) const;
  int jsEpfd_ = -1;
  // fd -> id of the open socket on it, 0 if none (JS thread only): a polled event whose id is
  // not its fd's owner is stale (its socket was closed) and is skipped.
  std::vector<uint32_t> fdOwner_;
  pthread_rwlock_t lock_;
  std::unordered_map<uint32_t, std::shared_ptr<Sock>> socks_;  // written by the JS thread only
  std::vector<std::unique_ptr<Thread>> threads_;
  std::atomic<bool> stop_{false};
  bool started_ = false;
  bool shut_ = false;
  uint32_t nextId_ = 1;
  unsigned nextThread_ = 0;
  int tos_ = -1;
  int64_t tableEntries_ = 0;
  PuntFn punt_ = nullptr;
  void* puntCtx_ = nullptr;
};

}  // namespace fp
