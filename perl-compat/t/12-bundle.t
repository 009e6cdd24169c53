#!/usr/bin/perl
# WebRTC SDP rules in auto-daemon style, and media through a BUNDLE transport: a bundled offer
# taken with bundle=accept (audio and video from one socket to one relay port, demultiplexed
# by SSRC, payload type and the MID header extension) toward a callee with two plain m= lines;
# the WebRTC shortcut; ICE=force-relay; trickle ICE fragments over ng.

use strict;
use warnings;
use NGCP::Rtpengine::Test;
use NGCP::Rtpengine::AutoTest qw(:DEFAULT leak_check);
use Test::More;

autotest_start(qw(--config-file=none -t -1 -i 203.0.113.1
			-n 2301 -c 12401 -f -L 7 -E -u 2302 -d 0 --leak-check=fatal))
		or die;

my ($sock_a, $sock_b, $sock_bv, $port_a, $port_av, $port_b, $port_bv);

($sock_a, $sock_b, $sock_bv) = new_call([qw(198.51.100.1 7000)], [qw(198.51.100.3 7002)],
	[qw(198.51.100.3 7004)]);

($port_b, undef, $port_bv) = offer('bundle accept', { bundle => ['accept'] }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
a=group:BUNDLE a v
m=audio 7000 RTP/AVPF 0 8
c=IN IP4 198.51.100.1
a=mid:a
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=ssrc:4660 cname:x
a=rtcp-mux
a=sendrecv
m=video 7000 RTP/AVPF 96
c=IN IP4 198.51.100.1
a=mid:v
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 nack pli
a=rtcp-mux
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVPF 0 8
c=IN IP4 203.0.113.1
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=ssrc:4660 cname:x
a=mid:a
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
m=video PORT RTP/AVPF 96
c=IN IP4 203.0.113.1
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=mid:v
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 nack pli
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
SDP

($port_a, undef, $port_av) = answer('bundle accept', { }, <<SDP);
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 7002 RTP/AVPF 0 8
c=IN IP4 198.51.100.3
a=rtcp-mux
a=sendrecv
m=video 7004 RTP/AVPF 96
c=IN IP4 198.51.100.3
a=rtpmap:96 VP8/90000
a=rtcp-mux
a=sendrecv
----------------------------------
v=0
o=- 1545997028 1 IN IP4 198.51.100.3
s=tester
t=0 0
a=group:BUNDLE a v
m=audio PORT RTP/AVPF 0 8
c=IN IP4 203.0.113.1
a=mid:a
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
m=video PORT RTP/AVPF 96
c=IN IP4 203.0.113.1
a=mid:v
a=rtpmap:96 VP8/90000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
SDP

is($port_av, $port_a, 'one relay port for both bundled m= lines');

# audio by its a=ssrc, video by its payload type, a new SSRC by the MID extension
snd($sock_a, $port_a, rtp(0, 1000, 3000, 0x1234, "\x00" x 160));
rcv($sock_b, $port_b, rtpm(0, 1000, 3000, 0x1234, "\x00" x 160));
snd($sock_a, $port_a, rtp(96, 2000, 9000, 0x5678, "\x11" x 100));
rcv($sock_bv, $port_bv, rtpm(96, 2000, 9000, 0x5678, "\x11" x 100));
snd($sock_a, $port_a, rtp(100, 3000, 9000, 0x9abc, "\x22" x 100, [[4, 'v']]));
rcv($sock_bv, $port_bv, rtpm(100, 3000, 9000, 0x9abc, "\x22" x 100, [[4, 'v']]));
# nothing tells where this one goes: dropped
snd($sock_a, $port_a, rtp(101, 4000, 9000, 0xdef0, "\x33" x 100));
rcv_no($sock_b);
rcv_no($sock_bv);
# the other way, both m= lines reach the one socket from the one port
snd($sock_b, $port_b, rtp(8, 5000, 7000, 0x4321, "\x44" x 160));
rcv($sock_a, $port_a, rtpm(8, 5000, 7000, 0x4321, "\x44" x 160));
snd($sock_bv, $port_bv, rtp(96, 6000, 8000, 0x8765, "\x55" x 100));
rcv($sock_a, $port_a, rtpm(96, 6000, 8000, 0x8765, "\x55" x 100));

rtpe_req('delete', 'delete bundle accept', { });


new_call;

offer('WebRTC shortcut', { flags => ['WebRTC'] }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT UDP/TLS/RTP/SAVPF 0
c=IN IP4 203.0.113.1
a=mid:1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp-mux
a=setup:actpass
a=fingerprint:sha-256 FINGERPRINT256
a=tls-id:TLS_ID
a=ice-ufrag:ICEUFRAG
a=ice-pwd:ICEPWD
a=ice-options:trickle
a=candidate:ICEBASE 1 UDP 2130706431 203.0.113.1 PORT typ host
a=end-of-candidates
SDP

rtpe_req('delete', 'delete WebRTC', { });


new_call;

offer('ICE force-relay', { ICE => 'force-relay' }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 198.51.100.1
a=rtcp-mux
a=ice-ufrag:q2eRfx8Z
a=ice-pwd:Ln8i2CXk3dVq7yQ0cHb5ww1a
a=candidate:1 1 UDP 2130706431 198.51.100.1 2000 typ host
a=candidate:2 1 UDP 16777215 192.0.2.7 50000 typ relay raddr 198.51.100.1 rport 2000
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 198.51.100.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp-mux
a=ice-ufrag:q2eRfx8Z
a=ice-pwd:Ln8i2CXk3dVq7yQ0cHb5ww1a
a=candidate:1 1 UDP 2130706431 198.51.100.1 2000 typ host
a=candidate:ICEBASE 1 UDP 16777215 203.0.113.1 PORT typ relay raddr 203.0.113.1 rport PORT
SDP

rtpe_req('delete', 'delete force-relay', { });


new_call;

offer('trickle: offer without candidates', { ICE => 'remove' }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 2000 RTP/AVP 0
c=IN IP4 198.51.100.1
a=mid:0
a=ice-ufrag:q2eRfx8Z
a=ice-pwd:Ln8i2CXk3dVq7yQ0cHb5ww1a
a=ice-options:trickle
a=rtcp-mux
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=mid:0
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=rtcp-mux
SDP

my $frag = rtpe_req('offer', 'trickle fragment', { 'from-tag' => ft(), flags => ['fragment'], sdp =>
	"a=ice-ufrag:q2eRfx8Z\r\na=ice-pwd:Ln8i2CXk3dVq7yQ0cHb5ww1a\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\n"
	. "a=candidate:3 1 UDP 2130706431 198.51.100.1 2004 typ host\r\na=end-of-candidates\r\n" });
ok(!exists $frag->{sdp}, 'a fragment is answered without SDP');

rtpe_req('delete', 'delete trickle', { });

leak_check('BUNDLE and WebRTC');

done_testing();
