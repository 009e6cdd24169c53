// rtpengine-ts native addon: recvmmsg over fixed receive slots, shared by the JS-path poll
// (jsio.cc) and the ng socket (ngio.cc): the headers, and the sender as JS reads it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>

// Points n recvmmsg headers at fixed slots once and for all: datagram i lands at
// base + i * slotBytes and its sender in from[i]. A round then only resets what recvmmsg wrote
// (msg_namelen) for the datagrams it returned.
inline void pointRecvHeaders(mmsghdr* msgs, iovec* iov, sockaddr_storage* from, unsigned n, uint8_t* base,
                             size_t slotBytes) {
  memset(msgs, 0, sizeof(mmsghdr) * n);
  for (unsigned i = 0; i < n; i++) {
    iov[i].iov_base = base + (size_t)i * slotBytes;
    iov[i].iov_len = slotBytes;
    msgs[i].msg_hdr.msg_name = &from[i];
    msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
}

// A received datagram's sender in the meta words JS reads (kernel/native-io.ts): w[0] the port
// with the address family (4 or 6) above it, w[1..] the address bytes (4 or 16).
inline void writeSender(uint32_t* w, const sockaddr_storage& from) {
  if (from.ss_family == AF_INET6) {
    auto& sin6 = reinterpret_cast<const sockaddr_in6&>(from);
    w[0] = ntohs(sin6.sin6_port) | (6u << 16);
    memcpy(&w[1], &sin6.sin6_addr, 16);
  } else {
    auto& sin = reinterpret_cast<const sockaddr_in&>(from);
    w[0] = ntohs(sin.sin_port) | (4u << 16);
    memcpy(&w[1], &sin.sin_addr, 4);
  }
}
