/*
 * blaster: the load generator and sink of bench/forward (rtpengine-ts forwarding benchmark).
 *
 * One process plays every call party: it binds NA "A side" and NB "B side" UDP sockets on one
 * local address (ephemeral ports, printed on the "ready" line). The bench script puts those
 * ports into the SDP of every call (call k uses A socket k % NA and B socket k % NB), so the
 * relay sends all of its output to these few sockets. Each *flow* is (sending socket,
 * destination port on the relay): the A socket of call k sends to the relay port that faces A,
 * the B socket to the port that faces B, so every call is relayed both ways.
 *
 * The main thread reads commands on stdin and paces the sender (sendmmsg, up to 64 datagrams per
 * call, one sending socket per call, destinations round-robin). A receiver thread drains every
 * socket with recvmmsg (up to 256 a call) every 0.5 ms and never blocks on a socket, so the
 * relay's sends into the sink wake nobody (see receiver()); each datagram carries the run id, the
 * flow id and the send time (CLOCK_REALTIME ns), the receive time is the kernel's SO_TIMESTAMPNS
 * of the sink socket, so the latency excludes the sink's own scheduling. SO_RXQ_OVFL reports
 * datagrams the sink sockets themselves dropped (a generator-side limit, not the relay's).
 *
 * Build:  node bench/build-tools.mjs   (cc -O2 -> bench/out/blaster)
 * Usage:  bench/out/blaster [-l ADDR] [-a NA] [-b NB] [-s BYTES] [-T MAX_SECONDS]
 *   -l ADDR   local address (127.0.0.1 or ::1 only)                 [127.0.0.1]
 *   -a NA     A side sockets (1..64)                                 [1]
 *   -b NB     B side sockets (1..64)                                 [1]
 *   -s BYTES  datagram size incl. the 12-byte RTP header (48..1400) [172]
 *   -T SECS   hard lifetime bound (1..7200); also exits when stdin closes [1800]
 *   -k HEX    SRTP: protect every datagram sent and unprotect every datagram received with
 *             AES_CM_128_HMAC_SHA1_80, master key || salt HEX (30 bytes; libsrtp2; only when
 *             built with BLASTER_SRTP, which bench/build-tools.mjs does when libsrtp2 is there)
 *   -A        with -k: SRTP on the A side only (A sockets protect what they send and unprotect
 *             what they receive; B sockets speak plain RTP): an SRTP <-> RTP relay
 *   -X HEX:HEX transcoding mode (bench/transcode): A sockets send PT 0 (PCMU), B sockets PT 8
 *             (PCMA); the 24 info bytes are sent as 48 nibbles, nibble i as byte A[i] (A side) or
 *             B[i] (B side) of the two 16-byte hex alphabets, chosen so that the relay's G.711
 *             transcoding maps A[i] <-> B[i]; the receiver decodes either alphabet
 *
 * Commands (one per line on stdin; one reply line on stdout each):
 *   flow SOCK PORT        add a flow: socket index SOCK (0..NA-1 = A, NA..NA+NB-1 = B) sends to
 *                         ADDR:PORT                                   -> ok flows=N
 *   clear                 remove every flow                           -> ok flows=0
 *   rxkey SSRC HEX        with -k: unprotect what arrives with SSRC (decimal) with this key ||
 *                         salt (60 hex digits) instead of the -k key (a relay's own SDES key)
 *                                                                     -> ok
 *   prime ROUNDS WAITMS   up to ROUNDS times: one datagram per flow, wait up to WAITMS for all
 *                         of them; stops at the first complete round  -> {"primed":..,"flows":..,"rounds":..}
 *   run PPS SECS DRAINMS  send PPS datagrams/s (all flows together) for SECS (<= 120) seconds,
 *                         then wait DRAINMS; reply JSON with sent, received, latency percentiles
 *   quit
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifdef BLASTER_SRTP
#include <srtp2/srtp.h>
/* tx: used by the main thread only (sending); rx: by the receiver thread only */
static srtp_t srtp_tx, srtp_rx;

/* 60 hex digits -> the 30-byte AES_CM_128 master key + salt; 0 if malformed */
static int parse_key_hex(const char *hex, unsigned char key[30]) {
	if (strlen(hex) != 60) return 0;
	for (int i = 0; i < 30; i++) {
		unsigned int b;
		if (sscanf(hex + 2 * i, "%2x", &b) != 1) return 0;
		key[i] = (unsigned char)b;
	}
	return 1;
}

/* AES_CM_128_HMAC_SHA1_80 for RTP and RTCP with that key; the caller sets the SSRC type */
static void aes_cm_80_policy(srtp_policy_t *pol, unsigned char *key) {
	memset(pol, 0, sizeof *pol);
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol->rtp);
	srtp_crypto_policy_set_aes_cm_128_hmac_sha1_80(&pol->rtcp);
	pol->key = key;
	pol->window_size = 1024;
}
#endif
static int use_srtp;
static int srtp_a_only;

#define MAX_SOCKS 128
#define MAX_FLOWS 65536
#define BATCH 64
#define PKT_MAX 2048
#define HIST_US 2000000 /* 1 us buckets up to 2 s */
#define MAGIC 0x424c5354u /* "BLST" */
#define PRIME_RUN 0xffffffffu

struct flow {
	int sock;
	struct sockaddr_storage dst;
	socklen_t dst_len;
	uint32_t ssrc;
	uint16_t seq;
	uint32_t ts;
};

static int nsocks, na = 1, nb = 1, pkt_size = 172, family = AF_INET;
/* -X: nibble alphabets of the A and B side, and the receiver's byte -> nibble table (-1: none) */
static int xmode;
static uint8_t xalpha[2][16];
static int xdec[256];
#define XINFO 24
static int fds[MAX_SOCKS];
static int ports[MAX_SOCKS];
static struct flow *flows;
static int nflows;
/* per sending socket: the flows it sends, and a round-robin cursor */
static int *sock_flows[MAX_SOCKS];
static int sock_nflows[MAX_SOCKS];
static int sock_cursor[MAX_SOCKS];

static _Atomic uint32_t current_run;
static _Atomic uint64_t rx_run, rx_total, rx_other;
static uint32_t *hist; /* single writer: the receiver thread */
static _Atomic uint64_t hist_over; /* latency >= 2 s */
static _Atomic int64_t lat_min_ns, lat_max_ns;
static _Atomic uint32_t sock_drops[MAX_SOCKS];
static _Atomic uint32_t *prime_round; /* per flow: the last prime round that arrived */
static _Atomic uint32_t prime_seen;
static _Atomic uint32_t prime_cur;
static _Atomic int stop;

static int64_t now_ns(clockid_t c) {
	struct timespec ts;
	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ns(int64_t ns) {
	if (ns <= 0) return;
	struct timespec ts = { ns / 1000000000LL, ns % 1000000000LL };
	nanosleep(&ts, NULL);
}

/* The receiver never blocks on a socket (no epoll, no blocking recv): it drains every socket with
 * recvmmsg(MSG_DONTWAIT), then sleeps RX_SLEEP_NS. With no thread waiting on a sink socket, the
 * relay's send delivers into it without waking anyone (on loopback that wake-up is charged to the
 * relay's core), and the generator wakes only RX_SLEEP_NS^-1 times a second however high the rate
 * (the sockets' 4 MB buffers hold what arrives meanwhile). Latency stays exact: it is measured
 * from the kernel's receive timestamp (SO_TIMESTAMPNS), not from when the receiver reads. */
#define RX_BATCH 256
#define RX_SLEEP_NS 500000
static void *receiver(void *arg) {
	(void)arg;
	static uint8_t buf[RX_BATCH][PKT_MAX];
	static char ctl[RX_BATCH][128];
	static struct mmsghdr m[RX_BATCH];
	static struct iovec iov[RX_BATCH];
	for (int i = 0; i < RX_BATCH; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = PKT_MAX;
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
		m[i].msg_hdr.msg_control = ctl[i];
	}
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		for (int si = 0; si < nsocks; si++) {
		for (;;) {
			for (int i = 0; i < RX_BATCH; i++) {
				m[i].msg_hdr.msg_controllen = sizeof ctl[i];
				m[i].msg_hdr.msg_flags = 0;
			}
			int r = recvmmsg(fds[si], m, RX_BATCH, MSG_DONTWAIT, NULL);
			if (r <= 0) break;
			int64_t fallback_rx = now_ns(CLOCK_REALTIME);
			uint32_t run = atomic_load_explicit(&current_run, memory_order_acquire);
			uint64_t got_run = 0, got_other = 0;
			for (int i = 0; i < r; i++) {
				int64_t rx = fallback_rx;
				for (struct cmsghdr *c = CMSG_FIRSTHDR(&m[i].msg_hdr); c; c = CMSG_NXTHDR(&m[i].msg_hdr, c)) {
					if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPNS) {
						struct timespec ts;
						memcpy(&ts, CMSG_DATA(c), sizeof ts);
						rx = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
					} else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
						uint32_t d;
						memcpy(&d, CMSG_DATA(c), sizeof d);
						atomic_store_explicit(&sock_drops[si], d, memory_order_relaxed);
					}
				}
#ifdef BLASTER_SRTP
				if (use_srtp && (!srtp_a_only || si < na)) {
					int len = (int)m[i].msg_len;
					if (len < 12 || srtp_unprotect(srtp_rx, buf[i], &len) != srtp_err_status_ok) { got_other++; continue; }
					m[i].msg_len = (unsigned)len;
				}
#endif
				const uint8_t *p = buf[i] + 12;
				uint8_t info[XINFO];
				if (m[i].msg_len < 12 + (xmode ? 2 * XINFO : XINFO)) { got_other++; continue; }
				if (xmode) {
					int bad = 0;
					for (int k = 0; k < XINFO; k++) {
						int hi = xdec[p[2 * k]], lo = xdec[p[2 * k + 1]];
						if (hi < 0 || lo < 0) { bad = 1; break; }
						info[k] = (uint8_t)(hi << 4 | lo);
					}
					if (bad) { got_other++; continue; }
					p = info;
				}
				uint32_t magic, prun, pflow;
				int64_t tx;
				memcpy(&magic, p, 4);
				memcpy(&prun, p + 4, 4);
				memcpy(&pflow, p + 8, 4);
				memcpy(&tx, p + 16, 8);
				if (magic != MAGIC) { got_other++; continue; }
				if (prun == PRIME_RUN) {
					uint32_t cur = atomic_load(&prime_cur);
					if (pflow < (uint32_t)nflows && atomic_exchange(&prime_round[pflow], cur) != cur)
						atomic_fetch_add(&prime_seen, 1);
					continue;
				}
				if (prun != run) { got_other++; continue; }
				got_run++;
				int64_t lat = rx - tx;
				if (lat < 0) lat = 0;
				int64_t us = lat / 1000;
				if (us >= HIST_US) atomic_fetch_add_explicit(&hist_over, 1, memory_order_relaxed);
				else __atomic_store_n(&hist[us], __atomic_load_n(&hist[us], __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
				if (lat < atomic_load_explicit(&lat_min_ns, memory_order_relaxed)) atomic_store_explicit(&lat_min_ns, lat, memory_order_relaxed);
				if (lat > atomic_load_explicit(&lat_max_ns, memory_order_relaxed)) atomic_store_explicit(&lat_max_ns, lat, memory_order_relaxed);
			}
			atomic_fetch_add_explicit(&rx_run, got_run, memory_order_release);
			atomic_fetch_add_explicit(&rx_other, got_other, memory_order_relaxed);
			atomic_fetch_add_explicit(&rx_total, (uint64_t)r, memory_order_relaxed);
			if (r < RX_BATCH) break;
		}
		}
		sleep_ns(RX_SLEEP_NS);
	}
	return NULL;
}

static uint64_t total_sink_drops(void) {
	uint64_t s = 0;
	for (int i = 0; i < nsocks; i++) s += atomic_load(&sock_drops[i]);
	return s;
}

static uint8_t sendbuf[BATCH][PKT_MAX];

/* one sendmmsg of up to `want` datagrams from the next socket that has flows; returns how many
 * were handed to the kernel, *errs counts datagrams refused */
static int next_sock;
static int send_some(int want, uint32_t run, uint64_t *errs) {
	for (int tries = 0; tries < nsocks; tries++) {
		int s = next_sock;
		next_sock = (next_sock + 1) % nsocks;
		if (sock_nflows[s] == 0) continue;
		if (want > BATCH) want = BATCH;
		struct mmsghdr m[BATCH];
		struct iovec iov[BATCH];
		int64_t tx = now_ns(CLOCK_REALTIME);
		for (int i = 0; i < want; i++) {
			int fi = sock_flows[s][sock_cursor[s]];
			sock_cursor[s] = (sock_cursor[s] + 1) % sock_nflows[s];
			struct flow *f = &flows[fi];
			uint8_t *p = sendbuf[i];
			p[0] = 0x80;
			p[1] = xmode && s >= na ? 8 : 0; /* PCMU (PCMA from the B side in -X mode) */
			uint16_t seq = htons(f->seq++);
			uint32_t ts = htonl(f->ts);
			f->ts += 160;
			uint32_t ssrc = htonl(f->ssrc);
			memcpy(p + 2, &seq, 2);
			memcpy(p + 4, &ts, 4);
			memcpy(p + 8, &ssrc, 4);
			uint32_t magic = MAGIC, ufi = (uint32_t)fi, pad = 0;
			memcpy(p + 12, &magic, 4);
			memcpy(p + 16, &run, 4);
			memcpy(p + 20, &ufi, 4);
			memcpy(p + 24, &pad, 4);
			memcpy(p + 28, &tx, 8);
			if (xmode) {
				const uint8_t *alpha = xalpha[s >= na];
				uint8_t info[XINFO];
				memcpy(info, p + 12, XINFO);
				for (int k = 0; k < XINFO; k++) {
					p[12 + 2 * k] = alpha[info[k] >> 4];
					p[13 + 2 * k] = alpha[info[k] & 15];
				}
				memset(p + 12 + 2 * XINFO, alpha[0], (size_t)pkt_size - 12 - 2 * XINFO);
			}
			int len = pkt_size;
#ifdef BLASTER_SRTP
			if (use_srtp && (!srtp_a_only || s < na) && srtp_protect(srtp_tx, p, &len) != srtp_err_status_ok) (*errs)++;
#endif
			iov[i].iov_base = p;
			iov[i].iov_len = (size_t)len;
			memset(&m[i].msg_hdr, 0, sizeof m[i].msg_hdr);
			m[i].msg_hdr.msg_name = &f->dst;
			m[i].msg_hdr.msg_namelen = f->dst_len;
			m[i].msg_hdr.msg_iov = &iov[i];
			m[i].msg_hdr.msg_iovlen = 1;
		}
		int done = 0;
		while (done < want) {
			int w = sendmmsg(fds[s], m + done, want - done, MSG_DONTWAIT);
			if (w > 0) {
				done += w;
			} else if (w < 0 && errno == EINTR) {
				continue;
			} else if (w < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
				*errs += (uint64_t)(want - done);
				break;
			} else {
				(*errs)++;
				done++; /* skip the failing datagram (e.g. ECONNREFUSED from an earlier ICMP) */
			}
		}
		return want;
	}
	return 0;
}

static void cmd_prime(int rounds, int waitms) {
	int r;
	uint32_t seen = 0;
	uint64_t errs = 0;
	for (r = 1; r <= rounds; r++) {
		static uint32_t prime_gen; /* never repeats across prime commands (a relay restarted with the same flows) */
		atomic_store(&prime_seen, 0);
		atomic_store(&prime_cur, ++prime_gen);
		/* exactly one datagram per flow: socket by socket, each socket's flows in order */
		int sent_flows = 0;
		for (int s = 0; s < nsocks; s++) {
			int left = sock_nflows[s];
			sock_cursor[s] = 0;
			while (left > 0) {
				next_sock = s;
				int k = send_some(left > BATCH ? BATCH : left, PRIME_RUN, &errs);
				if (k == 0) break;
				left -= k;
				sent_flows += k;
				if (sent_flows % 512 == 0) sleep_ns(200000); /* don't flood the relay's endpoint learning */
			}
		}
		int64_t deadline = now_ns(CLOCK_MONOTONIC) + (int64_t)waitms * 1000000LL;
		while (now_ns(CLOCK_MONOTONIC) < deadline && (seen = atomic_load(&prime_seen)) < (uint32_t)nflows)
			sleep_ns(2000000);
		seen = atomic_load(&prime_seen);
		if (seen >= (uint32_t)nflows) break;
	}
	if (r > rounds) r = rounds;
	printf("{\"primed\":%u,\"flows\":%d,\"rounds\":%d,\"sendErrors\":%llu}\n", seen, nflows, r, (unsigned long long)errs);
	fflush(stdout);
}

static double hist_pct(uint64_t total, double q) {
	if (total == 0) return -1;
	uint64_t want = (uint64_t)(q * (double)total);
	if (want >= total) want = total - 1;
	uint64_t acc = 0;
	for (int i = 0; i < HIST_US; i++) {
		acc += __atomic_load_n(&hist[i], __ATOMIC_RELAXED);
		if (acc > want) return i + 0.5;
	}
	return HIST_US;
}

static void cmd_run(double pps, double secs, int drainms) {
	if (secs > 120) secs = 120;
	if (pps < 1) pps = 1;
	memset(hist, 0, sizeof(uint32_t) * HIST_US);
	atomic_store(&hist_over, 0);
	atomic_store(&lat_min_ns, INT64_MAX);
	atomic_store(&lat_max_ns, 0);
	atomic_store(&rx_run, 0);
	uint32_t run = atomic_load(&current_run) + 1;
	if (run == PRIME_RUN) run = 1;
	uint64_t drops0 = total_sink_drops();
	atomic_store_explicit(&current_run, run, memory_order_release);
	uint64_t sent = 0, errs = 0, calls = 0;
	uint64_t limit = (uint64_t)(pps * secs);
	int64_t t0 = now_ns(CLOCK_MONOTONIC);
	int64_t end = t0 + (int64_t)(secs * 1e9);
	/* at most ~10k sendmmsg calls per second: batch = pps / 10000 (1..64), so the generator's syscall
	 * cost stays low at high rates while low rates (latency runs) still send one datagram at a time */
	uint64_t minb = (uint64_t)(pps / 10000);
	if (minb < 1) minb = 1;
	if (minb > BATCH) minb = BATCH;
	int64_t t;
	while (sent < limit && (t = now_ns(CLOCK_MONOTONIC)) < end) {
		uint64_t due = (uint64_t)((double)(t - t0) * pps / 1e9) + 1;
		if (due > limit) due = limit;
		if (due < limit && due < sent + minb) {
			int64_t next = t0 + (int64_t)((double)(sent + minb) * 1e9 / pps);
			int64_t d = next - t;
			if (d > 50000) sleep_ns(d - 20000); /* coarse sleep, then spin-check */
			continue;
		}
		uint64_t want = due - sent;
		int k = send_some(want > BATCH ? BATCH : (int)want, run, &errs);
		if (k == 0) break;
		sent += (uint64_t)k;
		calls++;
	}
	int64_t t1 = now_ns(CLOCK_MONOTONIC);
	/* drain: wait DRAINMS, but stop early once everything sent has arrived */
	int64_t dl = t1 + (int64_t)drainms * 1000000LL;
	while (now_ns(CLOCK_MONOTONIC) < dl && atomic_load(&rx_run) < sent - errs) sleep_ns(5000000);
	uint64_t got = atomic_load(&rx_run);
	uint64_t hist_total = 0;
	for (int i = 0; i < HIST_US; i++) hist_total += __atomic_load_n(&hist[i], __ATOMIC_RELAXED);
	uint64_t over = atomic_load(&hist_over);
	hist_total += over;
	double wall = (double)(t1 - t0) / 1e9;
	int64_t mn = atomic_load(&lat_min_ns), mx = atomic_load(&lat_max_ns);
	printf("{\"run\":%u,\"pps\":%.0f,\"seconds\":%.3f,\"sent\":%llu,\"sendErrors\":%llu,\"sendCalls\":%llu,"
	       "\"received\":%llu,\"sinkDrops\":%llu,\"achievedPps\":%.1f,"
	       "\"latUs\":{\"n\":%llu,\"min\":%.1f,\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f}}\n",
	       run, pps, wall, (unsigned long long)sent, (unsigned long long)errs, (unsigned long long)calls,
	       (unsigned long long)got, (unsigned long long)(total_sink_drops() - drops0), wall > 0 ? (double)sent / wall : 0,
	       (unsigned long long)hist_total, mn == INT64_MAX ? -1.0 : mn / 1000.0, hist_pct(hist_total, 0.5),
	       hist_pct(hist_total, 0.9), hist_pct(hist_total, 0.99), hist_pct(hist_total, 0.999), mx / 1000.0);
	fflush(stdout);
}

static void on_alarm(int sig) {
	(void)sig;
	static const char msg[] = "blaster: lifetime bound reached, exiting\n";
	ssize_t w = write(2, msg, sizeof msg - 1);
	(void)w;
	_exit(3);
}

/* "SSRC HEX": a receive stream for one SSRC with its own key (the relay's SDES key toward us). */
static const char *cmd_rxkey(const char *args) {
#ifdef BLASTER_SRTP
	unsigned long ssrc;
	char hex[64];
	if (!use_srtp) return "error rxkey needs -k";
	if (sscanf(args, "%lu %63s", &ssrc, hex) != 2) return "error bad rxkey";
	static unsigned char keys[MAX_FLOWS][30];
	static int nkeys;
	if (nkeys >= MAX_FLOWS) return "error too many rxkeys";
	unsigned char *key = keys[nkeys];
	if (!parse_key_hex(hex, key)) return "error bad rxkey";
	srtp_policy_t pol;
	aes_cm_80_policy(&pol, key);
	pol.ssrc.type = ssrc_specific;
	pol.ssrc.value = (uint32_t)ssrc;
	if (srtp_add_stream(srtp_rx, &pol) != srtp_err_status_ok) return "error srtp_add_stream";
	nkeys++;
	return "ok";
#else
	(void)args;
	return "error built without libsrtp2";
#endif
}

int main(int argc, char **argv) {
	const char *laddr = "127.0.0.1";
	int lifetime = 1800, opt;
	const char *srtp_key = NULL;
	for (int i = 0; i < 256; i++) xdec[i] = -1;
	while ((opt = getopt(argc, argv, "l:a:b:s:T:X:k:A")) != -1) {
		switch (opt) {
		case 'l': laddr = optarg; break;
		case 'a': na = atoi(optarg); break;
		case 'b': nb = atoi(optarg); break;
		case 's': pkt_size = atoi(optarg); break;
		case 'T': lifetime = atoi(optarg); break;
		case 'k': srtp_key = optarg; break;
		case 'A': srtp_a_only = 1; break;
		case 'X': {
			unsigned v;
			if (strlen(optarg) != 65 || optarg[32] != ':') { fprintf(stderr, "blaster: -X wants 32 hex digits:32 hex digits\n"); return 2; }
			for (int side = 0; side < 2; side++) {
				for (int k = 0; k < 16; k++) {
					if (sscanf(optarg + side * 33 + 2 * k, "%2x", &v) != 1) { fprintf(stderr, "blaster: bad -X\n"); return 2; }
					xalpha[side][k] = (uint8_t)v;
					xdec[v] = k;
				}
			}
			xmode = 1;
			break;
		}
		default: fprintf(stderr, "usage: blaster [-l addr] [-a NA] [-b NB] [-s bytes] [-T secs] [-X hex:hex] [-k hex]\n"); return 2;
		}
	}
	if (na < 1 || na > 64 || nb < 1 || nb > 64 || pkt_size < 48 || pkt_size > 1400 || lifetime < 1 || lifetime > 7200
			|| (xmode && pkt_size < 12 + 2 * XINFO)) {
		fprintf(stderr, "blaster: bad arguments\n");
		return 2;
	}
	if (strcmp(laddr, "127.0.0.1") && strcmp(laddr, "::1")) {
		fprintf(stderr, "blaster: only 127.0.0.1 or ::1\n");
		return 2;
	}
	if (srtp_key) {
#ifdef BLASTER_SRTP
		static unsigned char key[30];
		if (!parse_key_hex(srtp_key, key)) { fprintf(stderr, "blaster: -k wants 60 hex digits\n"); return 2; }
		if (srtp_init()) { fprintf(stderr, "blaster: srtp_init failed\n"); return 1; }
		srtp_policy_t pol;
		aes_cm_80_policy(&pol, key);
		pol.ssrc.type = ssrc_any_outbound;
		if (srtp_create(&srtp_tx, &pol)) { fprintf(stderr, "blaster: srtp_create tx failed\n"); return 1; }
		pol.ssrc.type = ssrc_any_inbound;
		if (srtp_create(&srtp_rx, &pol)) { fprintf(stderr, "blaster: srtp_create rx failed\n"); return 1; }
		use_srtp = 1;
#else
		fprintf(stderr, "blaster: built without libsrtp2 (BLASTER_SRTP): -k not available\n");
		return 2;
#endif
	}
	signal(SIGALRM, on_alarm);
	signal(SIGPIPE, SIG_IGN);
	alarm((unsigned)lifetime);
	family = strchr(laddr, ':') ? AF_INET6 : AF_INET;
	nsocks = na + nb;
	hist = calloc(HIST_US, sizeof(uint32_t));
	flows = calloc(MAX_FLOWS, sizeof *flows);
	prime_round = calloc(MAX_FLOWS, sizeof *prime_round);
	if (!hist || !flows || !prime_round) { fprintf(stderr, "blaster: out of memory\n"); return 1; }
	for (int i = 0; i < nsocks; i++) {
		int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0) { perror("socket"); return 1; }
		int one = 1, sz = 4 << 20;
		/* the receiver reads every RX_SLEEP_NS: the buffers hold what arrives meanwhile (FORCE when
		 * allowed, beyond net.core.rmem_max) */
		if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz)) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
		if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz)) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
		setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
		setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof one);
		struct sockaddr_storage ss;
		socklen_t sl;
		memset(&ss, 0, sizeof ss);
		if (family == AF_INET) {
			struct sockaddr_in *s4 = (void *)&ss;
			s4->sin_family = AF_INET;
			inet_pton(AF_INET, laddr, &s4->sin_addr);
			sl = sizeof *s4;
		} else {
			struct sockaddr_in6 *s6 = (void *)&ss;
			s6->sin6_family = AF_INET6;
			inet_pton(AF_INET6, laddr, &s6->sin6_addr);
			setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
			sl = sizeof *s6;
		}
		if (bind(fd, (struct sockaddr *)&ss, sl) < 0) { perror("bind"); return 1; }
		sl = sizeof ss;
		getsockname(fd, (struct sockaddr *)&ss, &sl);
		ports[i] = ntohs(family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port : ((struct sockaddr_in6 *)&ss)->sin6_port);
		fds[i] = fd;
		sock_flows[i] = calloc(MAX_FLOWS, sizeof(int));
	}
	pthread_t th;
	if (pthread_create(&th, NULL, receiver, NULL)) { perror("pthread_create"); return 1; }
	printf("ready a=");
	for (int i = 0; i < na; i++) printf("%s%d", i ? "," : "", ports[i]);
	printf(" b=");
	for (int i = 0; i < nb; i++) printf("%s%d", i ? "," : "", ports[na + i]);
	printf("\n");
	fflush(stdout);

	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, stdin) > 0) {
		int sock, port, rounds, waitms, drainms;
		double pps, secs;
		if (sscanf(line, "flow %d %d", &sock, &port) == 2) {
			if (sock < 0 || sock >= nsocks || port <= 0 || port > 65535 || nflows >= MAX_FLOWS) {
				printf("error bad flow\n");
			} else {
				struct flow *f = &flows[nflows];
				memset(f, 0, sizeof *f);
				f->sock = sock;
				if (family == AF_INET) {
					struct sockaddr_in *s4 = (void *)&f->dst;
					s4->sin_family = AF_INET;
					inet_pton(AF_INET, laddr, &s4->sin_addr);
					s4->sin_port = htons((uint16_t)port);
					f->dst_len = sizeof *s4;
				} else {
					struct sockaddr_in6 *s6 = (void *)&f->dst;
					s6->sin6_family = AF_INET6;
					inet_pton(AF_INET6, laddr, &s6->sin6_addr);
					s6->sin6_port = htons((uint16_t)port);
					f->dst_len = sizeof *s6;
				}
				f->ssrc = 0x10000000u + (uint32_t)nflows;
				f->seq = (uint16_t)(nflows * 7);
				f->ts = (uint32_t)nflows * 1000u;
				sock_flows[sock][sock_nflows[sock]++] = nflows;
				nflows++;
				printf("ok flows=%d\n", nflows);
			}
		} else if (!strncmp(line, "rxkey ", 6)) {
			printf("%s\n", cmd_rxkey(line + 6));
		} else if (!strncmp(line, "clear", 5)) {
			nflows = 0;
			for (int i = 0; i < nsocks; i++) sock_nflows[i] = sock_cursor[i] = 0;
			printf("ok flows=0\n");
		} else if (sscanf(line, "prime %d %d", &rounds, &waitms) == 2) {
			cmd_prime(rounds < 1 ? 1 : rounds > 20 ? 20 : rounds, waitms < 1 ? 1 : waitms > 10000 ? 10000 : waitms);
			continue;
		} else if (sscanf(line, "run %lf %lf %d", &pps, &secs, &drainms) == 3) {
			cmd_run(pps, secs, drainms < 0 ? 0 : drainms > 10000 ? 10000 : drainms);
			continue;
		} else if (!strncmp(line, "quit", 4)) {
			break;
		} else {
			printf("error unknown command\n");
		}
		fflush(stdout);
	}
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	for (int i = 0; i < nsocks; i++) close(fds[i]);
	free(line);
	return 0;
}
