/*
 * reference-forwarder: the ceiling for rtpengine-ts forwarding benchmarks.
 *
 * A minimal C UDP relay with the same socket layout as the daemon's fast path: N pairs of
 * local UDP sockets; a packet arriving on socket A of a pair from peer X leaves from socket B
 * of that pair to peer Y, and a packet arriving on B from Y leaves from A to X. It does what
 * the native fast path does per packet (epoll, recvmmsg, source check, RTP version/length
 * check, sendmmsg) and nothing else: no JS, no locks, no punting, no stats memory.
 *
 * Build:   node bench/build-reference.mjs          (cc -O2 -> bench/out/reference-forwarder)
 *
 * Usage:   bench/out/reference-forwarder [options]
 *   -l ADDR        local address to bind (IPv4 or IPv6, never the wildcard)  [127.0.0.1]
 *   -p PORT        first local port: pair i binds A = PORT+2i, B = PORT+2i+1  [40000]
 *                  (-p 0: ephemeral ports, printed on the "ready" line)
 *   -n PAIRS       number of pairs (1..4096)                                  [1]
 *   -x ADDR:PORT   peer X of pair 0; pair i uses PORT+i*STRIDE.  Omitted: X of each pair is
 *                  learnt from the first packet arriving on its socket A.
 *   -y ADDR:PORT   peer Y of pair 0, likewise (learnt from the first packet on B if omitted).
 *                  IPv6 peers: -x [::1]:5000
 *   -s STRIDE      peer port stride between pairs                             [1]
 *   -t SECONDS     run at most this long (bounded: 1..3600)                   [10]
 *   -i SECONDS     exit after this long without any packet, once one was seen (0 = off) [0]
 *   -b BATCH       recvmmsg/sendmmsg batch size (1..1024)                     [64]
 *   -T THREADS     forwarding threads; socket k is served by thread k % THREADS (1..64) [1]
 *   -v             check RTP/RTCP version and length like the fast path does (default on);
 *   -V             don't (forward any datagram from the right peer)
 *
 * Output (stdout):
 *   ready pairs=N first_port=P last_port=Q ports=A0,B0,A1,B1,...   once every socket is bound
 *                                                   (ports lists every pair's A and B port)
 *   ... at exit (time bound, idle, SIGINT or SIGTERM):
 *   forwarded=F received=R dropped=D send_errors=E cpu_user=U cpu_sys=S cpu=C wall=W pps=F/W
 *   {"forwarded":F,"received":R,"dropped":D,"sendErrors":E,"cpuUser":U,"cpuSys":S,"cpu":C,"wall":W}
 * cpu is getrusage(RUSAGE_SELF) user+system seconds of the whole process.
 * Exit status 0 on success, 2 on bad arguments, 1 on a socket/thread error.
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
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PACKET 4096
#define MAX_PAIRS 4096
#define MAX_THREADS 64
#define MAX_BATCH 1024

struct side {
	int fd;
	int port;                    /* bound local port */
	int index;                   /* socket k = 2*pair + (0 for A, 1 for B) */
	struct sockaddr_storage peer; /* where packets for this side's peer go, and where they come from */
	socklen_t peer_len;
	_Atomic int peer_known;
	struct side *other;
};

struct counters {
	uint64_t received, forwarded, dropped, send_errors;
	char pad[32];
};

static struct side *sides;
static int nsides;
static int batch = 64;
static int validate = 1;
static int nthreads = 1;
static volatile sig_atomic_t stop_flag;
static _Atomic int stop;
static struct counters tcount[MAX_THREADS];

static void on_signal(int sig) {
	(void)sig;
	stop_flag = 1;
}

static double now_s(clockid_t c) {
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int parse_hostport(const char *s, struct sockaddr_storage *ss, socklen_t *len, int *port) {
	char host[128];
	const char *colon;
	memset(ss, 0, sizeof *ss);
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof host) return -1;
		memcpy(host, s + 1, end - s - 1);
		host[end - s - 1] = 0;
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof host) return -1;
		memcpy(host, s, colon - s);
		host[colon - s] = 0;
	}
	*port = atoi(colon + 1);
	if (*port <= 0 || *port > 65535) return -1;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		*len = sizeof *sin;
		return 0;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		*len = sizeof *sin6;
		return 0;
	}
	return -1;
}

static void set_port(struct sockaddr_storage *ss, int port) {
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons(port);
}

static int same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b) {
	if (a->ss_family != b->ss_family) return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
}

struct thread_arg {
	int index;
	int epfd;
};

static void *forward_thread(void *p) {
	struct thread_arg *ta = p;
	struct counters *c = &tcount[ta->index];
	uint8_t *buf = malloc((size_t)batch * MAX_PACKET);
	struct mmsghdr *in = calloc(batch, sizeof *in), *out = calloc(batch, sizeof *out);
	struct iovec *iov = calloc(batch, sizeof *iov);
	struct sockaddr_storage *from = calloc(batch, sizeof *from);
	struct epoll_event evs[64];
	if (!buf || !in || !out || !iov || !from) {
		fprintf(stderr, "reference-forwarder: out of memory\n");
		atomic_store(&stop, 1);
		return NULL;
	}
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		int n = epoll_wait(ta->epfd, evs, 64, 100);
		for (int e = 0; e < n; e++) {
			struct side *s = evs[e].data.ptr;
			for (int i = 0; i < batch; i++) {
				iov[i].iov_base = buf + (size_t)i * MAX_PACKET;
				iov[i].iov_len = MAX_PACKET;
				memset(&in[i].msg_hdr, 0, sizeof in[i].msg_hdr);
				in[i].msg_hdr.msg_name = &from[i];
				in[i].msg_hdr.msg_namelen = sizeof from[i];
				in[i].msg_hdr.msg_iov = &iov[i];
				in[i].msg_hdr.msg_iovlen = 1;
			}
			int r = recvmmsg(s->fd, in, batch, MSG_DONTWAIT, NULL);
			if (r <= 0) continue;
			c->received += r;
			struct side *o = s->other;
			if (!atomic_load_explicit(&s->peer_known, memory_order_acquire)) {
				/* learn this side's peer from its first packet (this thread owns s) */
				s->peer = from[0];
				s->peer_len = in[0].msg_hdr.msg_namelen;
				atomic_store_explicit(&s->peer_known, 1, memory_order_release);
			}
			int k = 0;
			int o_known = atomic_load_explicit(&o->peer_known, memory_order_acquire);
			for (int i = 0; i < r; i++) {
				size_t len = in[i].msg_len;
				const uint8_t *d = iov[i].iov_base;
				if ((in[i].msg_hdr.msg_flags & MSG_TRUNC) || len == 0 || !o_known ||
				    !same_addr(&from[i], &s->peer) ||
				    (validate && ((d[0] >> 6) != 2 || len < 8 ||
						  (len < 12 && !(d[1] >= 192 && d[1] <= 223))))) {
					c->dropped++;
					continue;
				}
				iov[i].iov_len = len;
				memset(&out[k], 0, sizeof out[k]);
				out[k].msg_hdr.msg_name = &o->peer;
				out[k].msg_hdr.msg_namelen = o->peer_len;
				out[k].msg_hdr.msg_iov = &iov[i];
				out[k].msg_hdr.msg_iovlen = 1;
				k++;
			}
			int j = 0;
			while (j < k) {
				int w = sendmmsg(o->fd, out + j, k - j, MSG_DONTWAIT);
				if (w > 0) {
					c->forwarded += w;
					j += w;
				} else if (w < 0 && errno == EINTR) {
					continue;
				} else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
					c->send_errors += k - j;
					break;
				} else {
					c->send_errors++;
					j++;
				}
			}
		}
	}
	free(buf);
	free(in);
	free(out);
	free(iov);
	free(from);
	return NULL;
}

static void usage(void) {
	fprintf(stderr,
		"usage: reference-forwarder [-l addr] [-p first_port] [-n pairs] [-x addr:port] [-y addr:port]\n"
		"                           [-s stride] [-t seconds] [-i idle_seconds] [-b batch] [-T threads] [-V]\n"
		"(see the comment at the top of bench/reference-forwarder.c)\n");
	exit(2);
}

int main(int argc, char **argv) {
	const char *laddr = "127.0.0.1";
	int first_port = 40000, pairs = 1, stride = 1, seconds = 10, idle = 0;
	struct sockaddr_storage px, py;
	socklen_t pxl = 0, pyl = 0;
	int pxport = 0, pyport = 0, have_x = 0, have_y = 0;
	int opt;
	while ((opt = getopt(argc, argv, "l:p:n:x:y:s:t:i:b:T:vVh")) != -1) {
		switch (opt) {
		case 'l': laddr = optarg; break;
		case 'p': first_port = atoi(optarg); break;
		case 'n': pairs = atoi(optarg); break;
		case 'x': if (parse_hostport(optarg, &px, &pxl, &pxport)) usage(); have_x = 1; break;
		case 'y': if (parse_hostport(optarg, &py, &pyl, &pyport)) usage(); have_y = 1; break;
		case 's': stride = atoi(optarg); break;
		case 't': seconds = atoi(optarg); break;
		case 'i': idle = atoi(optarg); break;
		case 'b': batch = atoi(optarg); break;
		case 'T': nthreads = atoi(optarg); break;
		case 'v': validate = 1; break;
		case 'V': validate = 0; break;
		default: usage();
		}
	}
	if (pairs < 1 || pairs > MAX_PAIRS || seconds < 1 || seconds > 3600 || idle < 0 || batch < 1 ||
	    batch > MAX_BATCH || nthreads < 1 || nthreads > MAX_THREADS || stride < 0 || first_port < 0 ||
	    (first_port > 0 && first_port + 2 * pairs - 1 > 65535))
		usage();
	if ((have_x && pxport + (pairs - 1) * stride > 65535) || (have_y && pyport + (pairs - 1) * stride > 65535))
		usage();

	struct sockaddr_storage local;
	socklen_t local_len;
	memset(&local, 0, sizeof local);
	int af;
	if (inet_pton(AF_INET, laddr, &((struct sockaddr_in *)&local)->sin_addr) == 1) {
		af = AF_INET;
		local_len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, laddr, &((struct sockaddr_in6 *)&local)->sin6_addr) == 1) {
		af = AF_INET6;
		local_len = sizeof(struct sockaddr_in6);
	} else {
		fprintf(stderr, "reference-forwarder: bad local address %s\n", laddr);
		return 2;
	}
	local.ss_family = af;

	nsides = 2 * pairs;
	sides = calloc(nsides, sizeof *sides);
	int epfds[MAX_THREADS];
	for (int t = 0; t < nthreads; t++) {
		epfds[t] = epoll_create1(EPOLL_CLOEXEC);
		if (epfds[t] < 0) { perror("epoll_create1"); return 1; }
	}
	int lo_port = 65536, hi_port = 0;
	for (int k = 0; k < nsides; k++) {
		struct side *s = &sides[k];
		s->index = k;
		s->other = &sides[k ^ 1];
		s->fd = socket(af, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (s->fd < 0) { perror("socket"); return 1; }
		int one = 1, bufsz = 1 << 20;
		if (af == AF_INET6) setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
		setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof bufsz);
		setsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof bufsz);
		set_port(&local, first_port ? first_port + k : 0);
		if (bind(s->fd, (struct sockaddr *)&local, local_len) < 0) {
			fprintf(stderr, "reference-forwarder: bind %s port %d: %s\n", laddr, first_port ? first_port + k : 0,
				strerror(errno));
			return 1;
		}
		struct sockaddr_storage b;
		socklen_t bl = sizeof b;
		getsockname(s->fd, (struct sockaddr *)&b, &bl);
		int port = ntohs(af == AF_INET6 ? ((struct sockaddr_in6 *)&b)->sin6_port : ((struct sockaddr_in *)&b)->sin_port);
		s->port = port;
		if (port < lo_port) lo_port = port;
		if (port > hi_port) hi_port = port;
		int pair = k / 2;
		if ((k & 1) == 0 && have_x) {
			s->peer = px;
			s->peer_len = pxl;
			set_port(&s->peer, pxport + pair * stride);
			s->peer_known = 1;
		}
		if ((k & 1) == 1 && have_y) {
			s->peer = py;
			s->peer_len = pyl;
			set_port(&s->peer, pyport + pair * stride);
			s->peer_known = 1;
		}
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = s };
		if (epoll_ctl(epfds[k % nthreads], EPOLL_CTL_ADD, s->fd, &ev) < 0) { perror("epoll_ctl"); return 1; }
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	pthread_t th[MAX_THREADS];
	struct thread_arg targ[MAX_THREADS];
	double t0 = now_s(CLOCK_MONOTONIC);
	for (int t = 0; t < nthreads; t++) {
		targ[t].index = t;
		targ[t].epfd = epfds[t];
		if (pthread_create(&th[t], NULL, forward_thread, &targ[t])) { perror("pthread_create"); return 1; }
	}
	printf("ready pairs=%d first_port=%d last_port=%d ports=", pairs, lo_port, hi_port);
	for (int k = 0; k < nsides; k++) printf("%s%d", k ? "," : "", sides[k].port);
	printf("\n");
	fflush(stdout);

	uint64_t last_seen = 0;
	double last_change = t0;
	while (!stop_flag && !atomic_load(&stop)) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		double now = now_s(CLOCK_MONOTONIC);
		if (now - t0 >= seconds) break;
		if (idle > 0) {
			uint64_t seen = 0;
			for (int t = 0; t < nthreads; t++) seen += __atomic_load_n(&tcount[t].received, __ATOMIC_RELAXED);
			if (seen != last_seen) {
				last_seen = seen;
				last_change = now;
			} else if (seen > 0 && now - last_change >= idle) {
				break;
			}
		}
	}
	atomic_store(&stop, 1);
	for (int t = 0; t < nthreads; t++) pthread_join(th[t], NULL);
	double wall = now_s(CLOCK_MONOTONIC) - t0;

	struct counters sum = { 0 };
	for (int t = 0; t < nthreads; t++) {
		sum.received += tcount[t].received;
		sum.forwarded += tcount[t].forwarded;
		sum.dropped += tcount[t].dropped;
		sum.send_errors += tcount[t].send_errors;
	}
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
	double cs = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	printf("forwarded=%llu received=%llu dropped=%llu send_errors=%llu cpu_user=%.3f cpu_sys=%.3f cpu=%.3f wall=%.3f pps=%.0f\n",
	       (unsigned long long)sum.forwarded, (unsigned long long)sum.received, (unsigned long long)sum.dropped,
	       (unsigned long long)sum.send_errors, cu, cs, cu + cs, wall, wall > 0 ? sum.forwarded / wall : 0.0);
	printf("{\"forwarded\":%llu,\"received\":%llu,\"dropped\":%llu,\"sendErrors\":%llu,\"cpuUser\":%.3f,\"cpuSys\":%.3f,\"cpu\":%.3f,\"wall\":%.3f}\n",
	       (unsigned long long)sum.forwarded, (unsigned long long)sum.received, (unsigned long long)sum.dropped,
	       (unsigned long long)sum.send_errors, cu, cs, cu + cs, wall);
	for (int k = 0; k < nsides; k++) close(sides[k].fd);
	for (int t = 0; t < nthreads; t++) close(epfds[t]);
	free(sides);
	return 0;
}
