#!/usr/bin/perl
# DTMF in rtpengine's auto-daemon style, with the RTP bytes expected on the wire:
# telephone-event passed through with payload-type mapping (101 <-> 96), events turned into
# the in-band tone toward a side without telephone-event (PCMU -> PCMA transcoding), `play DTMF`
# as RFC 4733 events continuing the stream (and the stream renumbered after them), `block DTMF`
# / `unblock DTMF`, and the `zero` DTMF-security mode; zero leaks at the end.

use strict;
use warnings;
use NGCP::Rtpengine::Test;
use NGCP::Rtpengine::AutoTest qw(:DEFAULT leak_check);
use Test::More;

autotest_start(qw(--config-file=none -t -1 -i 203.0.113.1 -i 2001:db8:4321::1
			-n 2297 -c 12397 -f -L 7 -E -u 2298 --endpoint-learning=delayed -d 0 --leak-check=fatal))
		or die;

# more margin than rtpengine's 1 s / 0.1 s on a busy test machine (timing only, no TAP change)
$NGCP::Rtpengine::AutoTest::rcv_timeout = 2;
$NGCP::Rtpengine::AutoTest::rcv_no_wait = 0.2;

# 20 ms each of event 5's dual tone at -10 dBm0, PCMA: samples 0-159 and 160-319
my $tone5_a = "\xd5\x88\xb7\x86\x65\x1b\x17\x51\x70\x1b\x03\x11\x84\xb6\xb5\xec\x03\x35\x06\xd4\xea\xc9\x64\xf0\x86\x88\x85\x1c\x37\x37\x12\x9a\x8f\x85\xc8\x4b\xe2\x90\x51\x00\x34\x02\xe9\xb5\xb7\x9a\x16\x06\x12\x40\x77\x1f\x04\x64\x80\xb6\x88\x5f\x09\x34\x04\xe5\x92\xe1\x4f\xe5\x87\x8c\x91\x07\x36\x35\x63\x83\x88\x85\x50\x66\xf7\xef\x78\x03\x0a\x05\x9e\xb7\xb4\x90\x1b\x02\x1f\x44\x5e\x11\x1f\xde\x8d\xb7\x82\x6a\x35\x34\x19\x94\x85\x95\xd5\xe4\x85\x81\xe5\x02\x36\x09\xc1\x8e\x8a\x9b\x78\x14\x46\xfe\x62\x03\x0e\x11\x86\xb6\xb5\xe6\x00\x0f\x1e\xd2\xcb\x6c\x14\xe7\x8c\xb5\x84\x18\x37\x35\x16\x99\x81\x91\xd2\xfe\x99\x9a\x41\x0f\x36\x02\x95\xb5\xb5\x9d";
my $tone5_b = "\x6a\x1c\x64\xc7\x6f\x01\x03\x7a\x8d\xb1\x89\x4b\x0f\x08\x1f\xfc\xe0\x73\x61\xe8\x8c\x88\x91\x01\x36\x0a\x7a\x86\x82\x93\x53\xc1\x91\x90\x62\x09\x34\x05\x9b\xb7\x8a\x95\x1c\x05\x6e\xd5\x6d\x04\x04\xcb\x89\xb6\x83\x14\x0a\x0b\x10\xee\x97\xdf\x74\x94\x8d\x8d\xf9\x0f\x31\x0e\xf6\x8c\x8f\x90\x71\x4e\xef\xec\x17\x09\x0a\x11\x80\xb6\x88\xfc\x07\x01\x15\xd6\x67\x19\x1c\xee\x8b\xb7\x85\x1a\x34\x0b\x69\x93\x9c\xfe\x53\x94\x80\x86\x70\x08\x36\x03\x97\x8b\x8e\x97\x63\x60\xfd\xfd\x13\x0e\x0f\x7c\x8e\xb1\x8f\x72\x02\x03\x15\xcf\x4a\x11\x6a\x90\x8a\xb5\x96\x03\x36\x09\x76\x85\x85\xe0\xd4\xea\x87\x9e\x15\x35\x37\x1a\x9a\xb4\x8e\xe2\x16\x17\x57\xdf";

sub ev { my ($event, $end, $vol, $dur) = @_; return pack('CCn', $event, ($end ? 0x80 : 0) | $vol, $dur) }

my ($sock_a, $sock_b, $port_a, $port_b);

# --- pass-through with payload-type mapping ---------------------------------------------------

($sock_a, $sock_b) = new_call([qw(198.51.100.16 6300)], [qw(198.51.100.16 6302)]);

($port_a) = offer('DTMF PT mapping', { }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.16
s=tester
t=0 0
m=audio 6300 RTP/AVP 0 101
c=IN IP4 198.51.100.16
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.16
s=tester
t=0 0
m=audio PORT RTP/AVP 0 101
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
a=sendrecv
a=rtcp:PORT
SDP

($port_b) = answer('DTMF PT mapping', { }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.16
s=tester
t=0 0
m=audio 6302 RTP/AVP 0 96
c=IN IP4 198.51.100.16
a=rtpmap:96 telephone-event/8000
a=fmtp:96 0-15
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.16
s=tester
t=0 0
m=audio PORT RTP/AVP 0 96
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=rtpmap:96 telephone-event/8000
a=fmtp:96 0-15
a=sendrecv
a=rtcp:PORT
SDP

snd($sock_a, $port_b, rtp(0, 1000, 3000, 0x1234, "\x00" x 160));
rcv($sock_b, $port_a, rtpm(0, 1000, 3000, 0x1234, "\x00" x 160));
snd($sock_b, $port_a, rtp(0, 4000, 5000, 0x4567, "\x00" x 160));
rcv($sock_a, $port_b, rtpm(0, 4000, 5000, 0x4567, "\x00" x 160));
# A's 101 leaves as B's 96 (marker kept), B's 96 as A's 101
snd($sock_a, $port_b, rtp(101 | 0x80, 1001, 3160, 0x1234, ev(3, 0, 10, 160)));
rcv($sock_b, $port_a, rtpm(96 | 0x80, 1001, 3160, 0x1234, ev(3, 0, 10, 160)));
snd($sock_a, $port_b, rtp(101, 1002, 3160, 0x1234, ev(3, 1, 10, 320)));
rcv($sock_b, $port_a, rtpm(96, 1002, 3160, 0x1234, ev(3, 1, 10, 320)));
snd($sock_b, $port_a, rtp(96 | 0x80, 4001, 5160, 0x4567, ev(11, 1, 7, 480)));
rcv($sock_a, $port_b, rtpm(101 | 0x80, 4001, 5160, 0x4567, ev(11, 1, 7, 480)));

# --- play DTMF: events continuing A's stream toward B ----------------------------------------

rtpe_req('play DTMF', 'play DTMF 8', { 'from-tag' => ft(), code => '8', duration => 100, volume => -8 });
# 5 frames of 20 ms (marker on the first, growing duration), then two more end packets, all at
# the timestamp following A's last packet (3160 + 160), sequence numbers following 1002
rcv($sock_b, $port_a, rtpm(96 | 0x80, 1003, 3320, 0x1234, ev(8, 0, 8, 160)));
rcv($sock_b, $port_a, rtpm(96, 1004, 3320, 0x1234, ev(8, 0, 8, 320)));
rcv($sock_b, $port_a, rtpm(96, 1005, 3320, 0x1234, ev(8, 0, 8, 480)));
rcv($sock_b, $port_a, rtpm(96, 1006, 3320, 0x1234, ev(8, 0, 8, 640)));
rcv($sock_b, $port_a, rtpm(96, 1007, 3320, 0x1234, ev(8, 1, 8, 800)));
rcv($sock_b, $port_a, rtpm(96, 1008, 3320, 0x1234, ev(8, 1, 8, 800)));
rcv($sock_b, $port_a, rtpm(96, 1009, 3320, 0x1234, ev(8, 1, 8, 800)));
# A's next packet follows the injected ones
snd($sock_a, $port_b, rtp(0, 1003, 4120, 0x1234, "\x00" x 160));
rcv($sock_b, $port_a, rtpm(0, 1010, 4120, 0x1234, "\x00" x 160));

# --- block DTMF / DTMF-security zero / unblock DTMF -------------------------------------------

rtpe_req('block DTMF', 'block DTMF', { });
snd($sock_a, $port_b, rtp(101 | 0x80, 1004, 4280, 0x1234, ev(4, 0, 10, 160)));
snd($sock_a, $port_b, rtp(0, 1005, 4440, 0x1234, "\x00" x 160));
rcv($sock_b, $port_a, rtpm(0, 1012, 4440, 0x1234, "\x00" x 160));
rcv_no($sock_b);

rtpe_req('block DTMF', 'DTMF-security zero', { 'DTMF-security' => 'zero' });
snd($sock_a, $port_b, rtp(101 | 0x80, 1006, 4600, 0x1234, ev(4, 0, 10, 160)));
rcv($sock_b, $port_a, rtpm(96 | 0x80, 1013, 4600, 0x1234, ev(0, 0, 10, 160)));

rtpe_req('unblock DTMF', 'unblock DTMF', { });
snd($sock_a, $port_b, rtp(101, 1007, 4600, 0x1234, ev(4, 1, 10, 320)));
rcv($sock_b, $port_a, rtpm(96, 1014, 4600, 0x1234, ev(4, 1, 10, 320)));

rtpe_req('delete', 'delete DTMF PT mapping', { 'from-tag' => ft() });

# --- event -> tone toward a side without telephone-event (PCMU -> PCMA) ------------------------

($sock_a, $sock_b) = new_call([qw(198.51.100.16 6304)], [qw(198.51.100.16 6306)]);

($port_a) = offer('DTMF to tone', { codec => { transcode => ['PCMA'] } }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.16
s=tester
t=0 0
m=audio 6304 RTP/AVP 0 101
c=IN IP4 198.51.100.16
a=rtpmap:101 telephone-event/8000
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.16
s=tester
t=0 0
m=audio PORT RTP/AVP 0 8 101
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=sendrecv
a=rtcp:PORT
SDP

($port_b) = answer('DTMF to tone', { }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.16
s=tester
t=0 0
m=audio 6306 RTP/AVP 8
c=IN IP4 198.51.100.16
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.16
s=tester
t=0 0
m=audio PORT RTP/AVP 0 101
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=sendrecv
a=rtcp:PORT
SDP

snd($sock_a, $port_b, rtp(0, 2000, 6000, 0x2345, "\x00" x 160));
rcv($sock_b, $port_a, rtpm(8, 2000, 6000, 0x2345, "\x2a" x 160));
# each event packet leaves as the tone for the part of the event not yet sent
snd($sock_a, $port_b, rtp(101 | 0x80, 2001, 6160, 0x2345, ev(5, 0, 10, 160)));
rcv($sock_b, $port_a, rtpm(8 | 0x80, 2001, 6160, 0x2345, $tone5_a));
snd($sock_a, $port_b, rtp(101, 2002, 6160, 0x2345, ev(5, 1, 10, 320)));
rcv($sock_b, $port_a, rtpm(8, 2002, 6320, 0x2345, $tone5_b));
# repeated end packets add nothing
snd($sock_a, $port_b, rtp(101, 2003, 6160, 0x2345, ev(5, 1, 10, 320)));
rcv_no($sock_b);
# and audio goes on, nothing waits for the sequence numbers the events used
snd($sock_a, $port_b, rtp(0, 2004, 6640, 0x2345, "\x00" x 160));
rcv($sock_b, $port_a, rtpm(8, 2004, 6640, 0x2345, "\x2a" x 160));

rtpe_req('delete', 'delete DTMF to tone', { 'from-tag' => ft() });

leak_check('DTMF');

done_testing();
