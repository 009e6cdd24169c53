#!/usr/bin/perl
# IPv6 calls and IPv4<->IPv6 bridging with address-family; RTP and RTCP both ways.

use strict;
use warnings;
use NGCP::Rtpengine::Test;
use NGCP::Rtpclient::SRTP;
use NGCP::Rtpengine::AutoTest qw(:DEFAULT leak_check);
use Test::More;

autotest_start(qw(--config-file=none -t -1 -i 203.0.113.1 -i 2001:db8:4321::1
			-n 2224 -c 12346 -f -L 7 -E -u 2232 --silence-detect=1 --log-level-internals=7
			--endpoint-learning=delayed -d 0 --leak-check=fatal))
		or die;

# more margin than rtpengine's 1 s / 0.1 s on a busy test machine (timing only, no TAP change)
$NGCP::Rtpengine::AutoTest::rcv_timeout = 2;
$NGCP::Rtpengine::AutoTest::rcv_no_wait = 0.2;


my ($sock_a, $sock_ax, $sock_b, $sock_bx, $port_a, $port_ax, $port_b, $port_bx);

# --- IPv6 to IPv6 ------------------------------------------------------------------------------

($sock_a, $sock_ax, $sock_b, $sock_bx) = new_call(
	[qw(2001:db8:1234::1 3010)],
	[qw(2001:db8:1234::1 3011)],
	[qw(2001:db8:1234::2 3012)],
	[qw(2001:db8:1234::2 3013)],
);

($port_a, $port_ax) = offer('IPv6', { }, <<SDP);
v=0
o=- 1545997027 1 IN IP6 2001:db8:1234::1
s=tester
t=0 0
m=audio 3010 RTP/AVP 0
c=IN IP6 2001:db8:1234::1
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP6 2001:db8:1234::1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP6 2001:db8:4321::1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

($port_b, $port_bx) = answer('IPv6', { }, <<SDP);
v=0
o=- 2889 1 IN IP6 2001:db8:1234::2
s=tester
t=0 0
m=audio 3012 RTP/AVP 0
c=IN IP6 2001:db8:1234::2
a=sendrecv
----------------------------------
v=0
o=- 2889 1 IN IP6 2001:db8:1234::2
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP6 2001:db8:4321::1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

snd($sock_a, $port_b, rtp(0, 1000, 3000, 0x1234, "\x00" x 160));
rcv($sock_b, $port_a, rtpm(0, 1000, 3000, 0x1234, "\x00" x 160));
snd($sock_b, $port_a, rtp(0, 2000, 4000, 0x6543, "\x22" x 160));
rcv($sock_a, $port_b, rtpm(0, 2000, 4000, 0x6543, "\x22" x 160));

my $rr = pack('CCnN NNNNNN', 0x81, 201, 7, 0x1234, 0x6543, 0, 2000, 0, 0, 0);
snd($sock_ax, $port_bx, $rr);
rcv($sock_bx, $port_ax, qr/^\Q$rr\E$/s);
snd($sock_bx, $port_ax, $rr);
rcv($sock_ax, $port_bx, qr/^\Q$rr\E$/s);

rtpe_req('delete', 'IPv6', { 'from-tag' => ft() });
snd($sock_a, $port_b, rtp(0, 1001, 3160, 0x1234, "\x00" x 160));
rcv_no($sock_b);

# --- IPv4 caller, IPv6 callee ------------------------------------------------------------------

($sock_a, $sock_b) = new_call([qw(198.51.100.1 3014)], [qw(2001:db8:1234::3 3016)]);

($port_a) = offer('IPv4 to IPv6 bridge', { 'address-family' => 'IP6' }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 3014 RTP/AVP 8
c=IN IP4 198.51.100.1
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 8
c=IN IP6 2001:db8:4321::1
a=rtpmap:8 PCMA/8000
a=sendrecv
a=rtcp:PORT
SDP

($port_b) = answer('IPv4 to IPv6 bridge', { }, <<SDP);
v=0
o=- 2889 1 IN IP6 2001:db8:1234::3
s=tester
t=0 0
m=audio 3016 RTP/AVP 8
c=IN IP6 2001:db8:1234::3
a=sendrecv
----------------------------------
v=0
o=- 2889 1 IN IP6 2001:db8:1234::3
s=tester
t=0 0
m=audio PORT RTP/AVP 8
c=IN IP4 203.0.113.1
a=rtpmap:8 PCMA/8000
a=sendrecv
a=rtcp:PORT
SDP

snd($sock_a, $port_b, rtp(8, 1000, 3000, 0x4444, "\x33" x 160));
rcv($sock_b, $port_a, rtpm(8, 1000, 3000, 0x4444, "\x33" x 160));
snd($sock_b, $port_a, rtp(8, 7000, 5000, 0x5555, "\x44" x 160));
rcv($sock_a, $port_b, rtpm(8, 7000, 5000, 0x5555, "\x44" x 160));

rtpe_req('delete', 'IPv4 to IPv6 bridge', { 'from-tag' => ft() });
snd($sock_b, $port_a, rtp(8, 7001, 5160, 0x5555, "\x44" x 160));
rcv_no($sock_a);

leak_check('IPv6');

done_testing();
