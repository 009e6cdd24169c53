#!/usr/bin/perl
# Plain IPv4 offer/answer rewriting, RTP and RTCP relayed both ways, delete, nothing relayed
# after delete, zero leaks.

use strict;
use warnings;
use NGCP::Rtpengine::Test;
use NGCP::Rtpclient::SRTP;
use NGCP::Rtpengine::AutoTest qw(:DEFAULT leak_check);
use Test::More;

autotest_start(qw(--config-file=none -t -1 -i 203.0.113.1 -i 2001:db8:4321::1
			-n 2223 -c 12345 -f -L 7 -E -u 2222 --silence-detect=1 --log-level-internals=7
			--endpoint-learning=delayed -d 0 --leak-check=fatal))
		or die;

# more margin than rtpengine's 1 s / 0.1 s on a busy test machine (timing only, no TAP change)
$NGCP::Rtpengine::AutoTest::rcv_timeout = 2;
$NGCP::Rtpengine::AutoTest::rcv_no_wait = 0.2;


my ($sock_a, $sock_ax, $sock_b, $sock_bx, $port_a, $port_ax, $port_b, $port_bx, $resp);

# --- a plain call ------------------------------------------------------------------------------

($sock_a, $sock_ax, $sock_b, $sock_bx) = new_call(
	[qw(198.51.100.1 3000)],
	[qw(198.51.100.1 3001)],
	[qw(198.51.100.3 3002)],
	[qw(198.51.100.3 3003)],
);

($port_a, $port_ax) = offer('plain IPv4, session-level c=', { }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
c=IN IP4 198.51.100.1
t=0 0
m=audio 3000 RTP/AVP 0 8
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0 8
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=sendrecv
a=rtcp:PORT
SDP

is $port_ax, $port_a + 1, 'offer: a=rtcp names RTP port + 1';
is $port_a % 2, 0, 'offer: RTP port is even';

($port_b, $port_bx) = answer('plain IPv4, session-level c=', { }, <<SDP);
v=0
o=- 2889 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 3002 RTP/AVP 8
c=IN IP4 198.51.100.3
a=sendrecv
----------------------------------
v=0
o=- 2889 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 8
c=IN IP4 203.0.113.1
a=rtpmap:8 PCMA/8000
a=sendrecv
a=rtcp:PORT
SDP

is $port_bx, $port_b + 1, 'answer: a=rtcp names RTP port + 1';
isnt $port_b, $port_a, 'each side has its own relay port';

# RTP both ways
snd($sock_a, $port_b, rtp(8, 1000, 3000, 0x1234, "\x00" x 160));
rcv($sock_b, $port_a, rtpm(8, 1000, 3000, 0x1234, "\x00" x 160));
snd($sock_b, $port_a, rtp(8, 2000, 4000, 0x6543, "\x11" x 160));
rcv($sock_a, $port_b, rtpm(8, 2000, 4000, 0x6543, "\x11" x 160));
snd($sock_a, $port_b, rtp(8, 1001, 3160, 0x1234, "\x00" x 160));
rcv($sock_b, $port_a, rtpm(8, 1001, 3160, 0x1234, "\x00" x 160));
snd($sock_b, $port_a, rtp(8, 2001, 4160, 0x6543, "\x11" x 160));
rcv($sock_a, $port_b, rtpm(8, 2001, 4160, 0x6543, "\x11" x 160));

# RTCP both ways (sender reports pass through unchanged)
my $sr_a = pack('CCnN NNNNN', 0x80, 200, 6, 0x1234, 0xe1e2e3e4, 0x10000000, 3160, 2, 320);
my $sr_b = pack('CCnN NNNNN', 0x80, 200, 6, 0x6543, 0xe1e2e3e4, 0x20000000, 4160, 2, 320);
snd($sock_ax, $port_bx, $sr_a);
rcv($sock_bx, $port_ax, qr/^\Q$sr_a\E$/s);
snd($sock_bx, $port_ax, $sr_b);
rcv($sock_ax, $port_bx, qr/^\Q$sr_b\E$/s);

$resp = rtpe_req('query', 'plain IPv4', { });
ok exists $resp->{tags}{ft()}, 'query: from-tag monologue listed';
ok exists $resp->{tags}{tt()}, 'query: to-tag monologue listed';

$resp = rtpe_req('delete', 'plain IPv4', { 'from-tag' => ft() });

snd($sock_a, $port_b, rtp(8, 1002, 3320, 0x1234, "\x00" x 160));
rcv_no($sock_b);
snd($sock_b, $port_a, rtp(8, 2002, 4320, 0x6543, "\x11" x 160));
rcv_no($sock_a);
snd($sock_ax, $port_bx, $sr_a);
rcv_no($sock_bx);

# --- media-level c=, unknown attributes, replace origin ---------------------------------------

($sock_a, $sock_b) = new_call([qw(198.51.100.1 3004)], [qw(198.51.100.3 3006)]);

($port_a) = offer('replace origin, unknown attributes', { replace => ['origin'] }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
a=x-session-thing:1
m=audio 3004 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendrecv
a=x-foo:bar
----------------------------------
v=0
o=- 1545997027 1 IN IP4 203.0.113.1
s=tester
t=0 0
a=x-session-thing:1
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=x-foo:bar
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

($port_b) = answer('replace origin, unknown attributes', { replace => ['origin'] }, <<SDP);
v=0
o=- 2889 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 3006 RTP/AVP 0
c=IN IP4 198.51.100.3
a=sendrecv
----------------------------------
v=0
o=- 2889 1 IN IP4 203.0.113.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

snd($sock_a, $port_b, rtp(0, 5000, 8000, 0x1111, "\x55" x 160));
rcv($sock_b, $port_a, rtpm(0, 5000, 8000, 0x1111, "\x55" x 160));
snd($sock_b, $port_a, rtp(0, 6000, 9000, 0x2222, "\x66" x 160));
rcv($sock_a, $port_b, rtpm(0, 6000, 9000, 0x2222, "\x66" x 160));

rtpe_req('delete', 'replace origin', { 'from-tag' => ft() });
snd($sock_a, $port_b, rtp(0, 5001, 8160, 0x1111, "\x55" x 160));
rcv_no($sock_b);

leak_check('basic IPv4');

done_testing();
