// rtpengine-ts native addon: recvmmsg headers over fixed receive slots (jsio.cc, ngio.cc).
#pragma once

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
