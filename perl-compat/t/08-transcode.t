#!/usr/bin/perl
# Transcoding in rtpengine's auto-daemon style: PCMU <-> PCMA (offer with transcode=PCMA, the
# answerer takes PCMA only, byte-exact payloads both ways), ptime 50 -> 30 with ptime-reverse 50
# (repacketised sequence numbers and timestamps), then zero leaks.

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

my ($sock_a, $sock_b, $port_a, $port_b, $ssrc);

# --- PCMU <-> PCMA -----------------------------------------------------------------------------

($sock_a, $sock_b) = new_call([qw(198.51.100.1 3100)], [qw(198.51.100.3 3102)]);

($port_a) = offer('PCMU to PCMA', { codec => { transcode => ['PCMA'] } }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 3100 RTP/AVP 0
c=IN IP4 198.51.100.1
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

($port_b) = answer('PCMU to PCMA', { }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 3102 RTP/AVP 8
c=IN IP4 198.51.100.3
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

snd($sock_a, $port_b, rtp(0, 1000, 3000, 0x1234, "\x00" x 160));
rcv($sock_b, $port_a, rtpm(8, 1000, 3000, 0x1234, "\x2a" x 160));
snd($sock_a, $port_b, rtp(0, 1001, 3160, 0x1234, "\x00" x 160));
rcv($sock_b, $port_a, rtpm(8, 1001, 3160, 0x1234, "\x2a" x 160));
snd($sock_b, $port_a, rtp(8, 8000, 7000, 0x6543, "\x10" . ("\x00" x 158) . "\x50"));
rcv($sock_a, $port_b, rtpm(0, 8000, 7000, 0x6543, "\x39" . ("\x29" x 158) . "\x74"));
snd($sock_b, $port_a, rtp(8, 8001, 7160, 0x6543, "\x00" x 160));
rcv($sock_a, $port_b, rtpm(0, 8001, 7160, 0x6543, "\x29" x 160));

rtpe_req('delete', 'delete PCMU to PCMA', { 'from-tag' => ft() });

# --- ptime 50 -> 30, reverse 50 ----------------------------------------------------------------

($sock_a, $sock_b) = new_call([qw(198.51.100.1 3104)], [qw(198.51.100.3 3106)]);

($port_a) = offer('ptime=50 in, change to 30, reverse to 50', { ptime => 30, 'ptime-reverse' => 50 }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 3104 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendrecv
a=ptime:50
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
a=ptime:30
SDP

($port_b) = answer('ptime=50 in, change to 30, reverse to 50', { }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 3106 RTP/AVP 0
c=IN IP4 198.51.100.3
a=sendrecv
a=ptime:30
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=ptime:50
SDP

# A->B: 2x 50 ms -> 3x 30 ms (plus 10 ms left), then 20 ms more completes another
snd($sock_a, $port_b, rtp(0, 1000, 3000, 0x1234, "\x00" x 400));
($ssrc) = rcv($sock_b, $port_a, rtpm(0, 1000, 3000, 0x1234, "\x00" x 240));
snd($sock_a, $port_b, rtp(0, 1001, 3400, 0x1234, "\x00" x 400));
rcv($sock_b, $port_a, rtpm(0, 1001, 3240, 0x1234, "\x00" x 240));
rcv($sock_b, $port_a, rtpm(0, 1002, 3480, 0x1234, "\x00" x 240));
snd($sock_a, $port_b, rtp(0, 1002, 3800, 0x1234, "\x00" x 160));
rcv($sock_b, $port_a, rtpm(0, 1003, 3720, 0x1234, "\x00" x 240));

# B->A: 4x 30 ms -> 2x 50 ms (plus 20 ms left), then 30 ms more completes another
snd($sock_b, $port_a, rtp(0, 4000, 5000, 0x4567, "\x88" x 240));
Time::HiRes::usleep(20000);
snd($sock_b, $port_a, rtp(0, 4001, 5240, 0x4567, "\x88" x 240));
rcv($sock_a, $port_b, rtpm(0, 4000, 5000, 0x4567, "\x88" x 400));
snd($sock_b, $port_a, rtp(0, 4002, 5480, 0x4567, "\x88" x 240));
snd($sock_b, $port_a, rtp(0, 4003, 5720, 0x4567, "\x88" x 240));
rcv($sock_a, $port_b, rtpm(0, 4001, 5400, 0x4567, "\x88" x 400));
snd($sock_b, $port_a, rtp(0, 4004, 5960, 0x4567, "\x88" x 240));
rcv($sock_a, $port_b, rtpm(0, 4002, 5800, 0x4567, "\x88" x 400));

# teardown with 20 ms still in the B->A buffer
rtpe_req('delete', 'delete ptime', { 'from-tag' => ft() });

leak_check('transcoding');

done_testing();
