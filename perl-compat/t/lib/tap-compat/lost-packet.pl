#!/usr/bin/perl
# rtpengine's rcv() ends the script when the packet it waits for does not come (its alarm dies):
# the asserts after it are never reported. Here the second rcv waits on a socket the relay
# does not send to.

use strict;
use warnings;
use NGCP::Rtpengine::Test;
use NGCP::Rtpengine::AutoTest;
use Test::More;

autotest_start(qw(--config-file=none -t -1 -i 203.0.113.1 -n 2223 -c 12345 -f -L 7 -E -d 0))
		or die;

my ($sock_a, $sock_b, $sock_c, $port_a, $port_b);

($sock_a, $sock_b, $sock_c) = new_call([qw(198.51.100.44 4110)], [qw(198.51.100.45 4112)],
	[qw(198.51.100.46 4114)]);

($port_a) = offer('lost packet', { ICE => 'remove' }, <<SDP);
v=0
o=- 8001 1 IN IP4 198.51.100.44
s=tester
t=0 0
m=audio 4110 RTP/AVP 0
c=IN IP4 198.51.100.44
a=sendrecv
----------------------------------
v=0
o=- 8001 1 IN IP4 198.51.100.44
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

($port_b) = answer('lost packet', { ICE => 'remove' }, <<SDP);
v=0
o=- 8002 1 IN IP4 198.51.100.45
s=tester
t=0 0
m=audio 4112 RTP/AVP 0
c=IN IP4 198.51.100.45
a=sendrecv
----------------------------------
v=0
o=- 8002 1 IN IP4 198.51.100.45
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

snd($sock_a, $port_b, rtp(0, 100, 1000, 0x8001, "\x01" x 160));
rcv($sock_b, $port_a, rtpm(0, 100, 1000, 0x8001, "\x01" x 160));
snd($sock_a, $port_b, rtp(0, 101, 1160, 0x8001, "\x01" x 160));
rcv($sock_c, $port_a, rtpm(0, 101, 1160, 0x8001, "\x01" x 160));   # never arrives: the script ends
ok 1, 'after the lost packet';
rtpe_req('delete', 'lost packet', { 'from-tag' => ft() });
done_testing();
