/** The daemon's version; `s=` of the SDP it writes itself is `rtpengine-ts-VERSION` (rtpengine's RTPE_VERSION). */
export const VERSION = '0.1.0';
export const SDP_SESSION_NAME = `rtpengine-ts-${VERSION}`;
