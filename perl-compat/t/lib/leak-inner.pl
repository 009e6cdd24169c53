#!/usr/bin/perl
# Inner script of 06-leak-detection.t: one relayed call, delete, leak check. Run with
# RTPENGINE_TS_LEAK_INJECT set, it must fail; without, it must pass.

use strict;
use warnings;
use NGCP::Rtpengine::AutoTest qw(:DEFAULT leak_check);
use Test::More;

autotest_start(qw(--config-file=none -t -1 -i 203.0.113.1 -i 2001:db8:4321::1
			-n 2228 -c 12350 -f -L 7 -E -u 2272 --endpoint-learning=delayed -d 0 --leak-check=fatal))
		or die;

my ($sock_a, $sock_b) = new_call([qw(198.51.100.1 3040)], [qw(198.51.100.3 3042)]);

my ($port_a) = offer('leak inner', { }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 3040 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

my ($port_b) = answer('leak inner', { }, <<SDP);
v=0
o=- 2889 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 3042 RTP/AVP 0
c=IN IP4 198.51.100.3
a=sendrecv
----------------------------------
v=0
o=- 2889 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

snd($sock_a, $port_b, rtp(0, 1000, 3000, 0x1234, "\x00" x 160));
rcv($sock_b, $port_a, rtpm(0, 1000, 3000, 0x1234, "\x00" x 160));

rtpe_req('delete', 'leak inner', { 'from-tag' => ft() });

leak_check('leak inner', 1);

done_testing();
