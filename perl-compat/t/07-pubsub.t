#!/usr/bin/perl
# Publish/subscribe in auto-daemon style: one publisher, two subscribers each receiving the
# published RTP from their own relay port; unsubscribe stops one of them.

use strict;
use warnings;
use NGCP::Rtpengine::Test;
use NGCP::Rtpengine::AutoTest qw(:DEFAULT leak_check);
use Test::More;

autotest_start(qw(--config-file=none -t -1 -i 203.0.113.1 -i 2001:db8:4321::1
			-n 2281 -c 12381 -f -L 7 -E -u 2282 --endpoint-learning=delayed -d 0 --leak-check=fatal))
		or die;

# more margin than rtpengine's 1 s / 0.1 s on a busy test machine (timing only, no TAP change)
$NGCP::Rtpengine::AutoTest::rcv_timeout = 2;
$NGCP::Rtpengine::AutoTest::rcv_no_wait = 0.2;


my ($sock_a, $sock_b, $sock_c, $port_a, $port_b, $port_c, $ftr, $ttb, $ttc, $fts);

($sock_a, $sock_b, $sock_c) = new_call([qw(198.51.100.14 6042)], [qw(198.51.100.14 6044)], [qw(198.51.100.14 6046)]);

($port_a) = publish('publish', { }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 6042 RTP/AVP 0 8 9
c=IN IP4 198.51.100.14
a=sendonly
----------------------------------
v=0
o=- SDP_VERSION IN IP4 203.0.113.1
s=RTPE_VERSION
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=recvonly
a=rtcp:PORT
SDP

snd($sock_a, $port_a, rtp(0, 2000, 4000, 0x3456, "\x00" x 160));

($ftr, $ttb, $fts, undef, undef, $port_b) = subscribe_request('subscribe B', { 'from-tag' => ft() }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendonly
a=rtcp:PORT
SDP

is $ftr, ft(), 'from-tag is the publisher';
is_deeply $fts, [ft()], 'from-tags';
ok $ttb, 'a to-tag was generated';

subscribe_answer('subscribe B', { 'to-tag' => $ttb }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.14
s=tester
t=0 0
m=audio 6044 RTP/AVP 0
c=IN IP4 198.51.100.14
a=recvonly
SDP

($ftr, $ttc, undef, undef, undef, $port_c) = subscribe_request('subscribe C', { 'from-tag' => ft(), 'to-tag' => 'sub-c' }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendonly
a=rtcp:PORT
SDP

is $ttc, 'sub-c', 'the given to-tag is used';

subscribe_answer('subscribe C', { 'to-tag' => $ttc }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.14
s=tester
t=0 0
m=audio 6046 RTP/AVP 0
c=IN IP4 198.51.100.14
a=recvonly
SDP

snd($sock_a, $port_a, rtp(0, 2001, 4160, 0x3456, "\x00" x 160));
rcv($sock_b, $port_b, rtpm(0, 2001, 4160, 0x3456, "\x00" x 160));
rcv($sock_c, $port_c, rtpm(0, 2001, 4160, 0x3456, "\x00" x 160));
snd($sock_a, $port_a, rtp(0, 2002, 4320, 0x3456, "\x00" x 160));
rcv($sock_b, $port_b, rtpm(0, 2002, 4320, 0x3456, "\x00" x 160));
rcv($sock_c, $port_c, rtpm(0, 2002, 4320, 0x3456, "\x00" x 160));

rtpe_req('unsubscribe', 'unsubscribe C', { 'to-tag' => $ttc });

snd($sock_a, $port_a, rtp(0, 2003, 4480, 0x3456, "\x00" x 160));
rcv($sock_b, $port_b, rtpm(0, 2003, 4480, 0x3456, "\x00" x 160));
rcv_no($sock_c);

rtpe_req('delete', 'delete pub/sub', { 'from-tag' => ft() });
snd($sock_a, $port_a, rtp(0, 2004, 4640, 0x3456, "\x00" x 160));
rcv_no($sock_b);

leak_check('pub/sub');

done_testing();
