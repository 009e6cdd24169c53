#!/usr/bin/perl
# Re-INVITEs: from the caller with a changed media port (new relay port, as there is no
# port-latching), with port-latching (relay port kept), from the callee (reverse tags) with a
# hold/resume direction change; media follows each change.

use strict;
use warnings;
use NGCP::Rtpengine::Test;
use NGCP::Rtpclient::SRTP;
use NGCP::Rtpengine::AutoTest qw(:DEFAULT leak_check);
use Test::More;

autotest_start(qw(--config-file=none -t -1 -i 203.0.113.1 -i 2001:db8:4321::1
			-n 2225 -c 12347 -f -L 7 -E -u 2242 --silence-detect=1 --log-level-internals=7
			--endpoint-learning=delayed -d 0 --leak-check=fatal))
		or die;

# more margin than rtpengine's 1 s / 0.1 s on a busy test machine (timing only, no TAP change)
$NGCP::Rtpengine::AutoTest::rcv_timeout = 2;
$NGCP::Rtpengine::AutoTest::rcv_no_wait = 0.2;


my ($sock_a, $sock_b, $sock_a2, $port_a, $port_b, $port_a2, $port_b2, $port_a3, $port_b3);

($sock_a, $sock_b, $sock_a2) = new_call(
	[qw(198.51.100.1 3020)],
	[qw(198.51.100.3 3022)],
	[qw(198.51.100.1 3024)],
);

($port_a) = offer('re-invite, initial', { }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 3020 RTP/AVP 0
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

($port_b) = answer('re-invite, initial', { }, <<SDP);
v=0
o=- 2889 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 3022 RTP/AVP 0
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
snd($sock_b, $port_a, rtp(0, 2000, 4000, 0x6543, "\x11" x 160));
rcv($sock_a, $port_b, rtpm(0, 2000, 4000, 0x6543, "\x11" x 160));

# caller moves its media to port 3024
($port_a2) = offer('re-invite from caller, new port', { }, <<SDP);
v=0
o=- 1545997027 2 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 3024 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendrecv
----------------------------------
v=0
o=- 1545997027 2 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

isnt $port_a2, $port_a, 'caller changed its port: new relay port toward the callee (no port-latching)';
is $port_a2 % 2, 0, 'new relay port is even';

($port_b2) = answer('re-invite from caller, new port', { }, <<SDP);
v=0
o=- 2889 2 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 3022 RTP/AVP 0
c=IN IP4 198.51.100.3
a=sendrecv
----------------------------------
v=0
o=- 2889 2 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

is $port_b2, $port_b, 're-invite keeps the relay port toward the caller';

$port_a = $port_a2;

snd($sock_b, $port_a, rtp(0, 2001, 4160, 0x6543, "\x11" x 160));
rcv($sock_a2, $port_b, rtpm(0, 2001, 4160, 0x6543, "\x11" x 160));
rcv_no($sock_a);
snd($sock_a2, $port_b, rtp(0, 1001, 3160, 0x1234, "\x00" x 160));
rcv($sock_b, $port_a, rtpm(0, 1001, 3160, 0x1234, "\x00" x 160));

# same again with port-latching: the caller moves back to 3020, the relay keeps its port
($port_a2) = offer('re-invite from caller, port-latching', { flags => ['port-latching'] }, <<SDP);
v=0
o=- 1545997027 3 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 3020 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendrecv
----------------------------------
v=0
o=- 1545997027 3 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

is $port_a2, $port_a, 'port-latching: relay port toward the callee kept';

answer('re-invite from caller, port-latching', { }, <<SDP);
v=0
o=- 2889 3 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 3022 RTP/AVP 0
c=IN IP4 198.51.100.3
a=sendrecv
----------------------------------
v=0
o=- 2889 3 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

snd($sock_b, $port_a, rtp(0, 2002, 4320, 0x6543, "\x11" x 160));
rcv($sock_a, $port_b, rtpm(0, 2002, 4320, 0x6543, "\x11" x 160));
rcv_no($sock_a2);

# callee puts the call on hold (re-INVITE from B: tags reversed)
reverse_tags();

($port_b3) = offer('re-invite from callee, hold', { 'to-tag' => tt() }, <<SDP);
v=0
o=- 2889 4 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 3022 RTP/AVP 0
c=IN IP4 198.51.100.3
a=sendonly
----------------------------------
v=0
o=- 2889 4 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendonly
a=rtcp:PORT
SDP

is $port_b3, $port_b, 'callee re-invite: same relay port toward the caller';

($port_a3) = answer('re-invite from callee, hold', { }, <<SDP);
v=0
o=- 1545997027 4 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 3020 RTP/AVP 0
c=IN IP4 198.51.100.1
a=recvonly
----------------------------------
v=0
o=- 1545997027 4 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=recvonly
a=rtcp:PORT
SDP

# (which relay port the caller's side gets here depends on rtpengine's port bookkeeping after
# the latched re-invite; follow whatever the SDP says)
$port_a = $port_a3;

# the held party still sends (sendonly side B -> A)
snd($sock_b, $port_a, rtp(0, 2003, 4480, 0x6543, "\x11" x 160));
rcv($sock_a, $port_b, rtpm(0, 2003, 4480, 0x6543, "\x11" x 160));

# resume
offer('re-invite from callee, resume', { 'to-tag' => tt() }, <<SDP);
v=0
o=- 2889 5 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 3022 RTP/AVP 0
c=IN IP4 198.51.100.3
a=sendrecv
----------------------------------
v=0
o=- 2889 5 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

($port_a3) = answer('re-invite from callee, resume', { }, <<SDP);
v=0
o=- 1545997027 5 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 3020 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendrecv
----------------------------------
v=0
o=- 1545997027 5 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

is $port_a3, $port_a, 'callee resume: relay port toward the callee unchanged';

snd($sock_a, $port_b, rtp(0, 1003, 3480, 0x1234, "\x00" x 160));
rcv($sock_b, $port_a, rtpm(0, 1003, 3480, 0x1234, "\x00" x 160));
snd($sock_b, $port_a, rtp(0, 2004, 4640, 0x6543, "\x11" x 160));
rcv($sock_a, $port_b, rtpm(0, 2004, 4640, 0x6543, "\x11" x 160));

# delete by the callee's tag (from-tag is now B's tag after reverse_tags)
rtpe_req('delete', 're-invite', { 'from-tag' => ft() });
snd($sock_a, $port_b, rtp(0, 1004, 3640, 0x1234, "\x00" x 160));
rcv_no($sock_b);
snd($sock_b, $port_a, rtp(0, 2005, 4800, 0x6543, "\x11" x 160));
rcv_no($sock_a);

leak_check('re-invite');

done_testing();
