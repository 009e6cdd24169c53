#!/usr/bin/perl
# An answer whose SDP differs from the expected one: the assertion fails and no port is
# captured, so the snd() after it has nowhere to send and the script ends (as with rtpengine's
# modules, which return no captures on a mismatch and die in snd).

use strict;
use warnings;
use NGCP::Rtpengine::Test;
use NGCP::Rtpengine::AutoTest;
use Test::More;

autotest_start(qw(--config-file=none -t -1 -i 203.0.113.1 -n 2223 -c 12345 -f -L 7 -E -d 0))
		or die;

my ($sock_a, $sock_b, $port_a, $port_b);

($sock_a, $sock_b) = new_call([qw(198.51.100.47 4120)], [qw(198.51.100.48 4122)]);

($port_a) = offer('mismatch', { ICE => 'remove' }, <<SDP);
v=0
o=- 9001 1 IN IP4 198.51.100.47
s=tester
t=0 0
m=audio 4120 RTP/AVP 0
c=IN IP4 198.51.100.47
a=sendrecv
----------------------------------
v=0
o=- 9001 1 IN IP4 198.51.100.47
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

($port_b) = answer('mismatch', { ICE => 'remove' }, <<SDP);
v=0
o=- 9002 1 IN IP4 198.51.100.48
s=tester
t=0 0
m=audio 4122 RTP/AVP 0
c=IN IP4 198.51.100.48
a=sendrecv
----------------------------------
v=0
o=- 9002 1 IN IP4 198.51.100.48
s=tester
t=0 0
m=audio PORT RTP/AVP 0 8
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

ok !defined($port_b), 'no port captured from the differing SDP';
snd($sock_a, $port_b, rtp(0, 1, 2, 3, "\x00" x 160));   # no port: the script ends here
rcv($sock_b, $port_a, rtpm(0, 1, 2, 3, "\x00" x 160));
done_testing();
