/** The RTP peer and packet builders of the shared support library, under their old test path. */
export { RtpPeer, rtcpPacket, rtpPacket, type Received } from '../../support/rtp-peer.js';
