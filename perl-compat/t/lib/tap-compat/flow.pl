#!/usr/bin/perl
# A call in rtpengine's auto-daemon-tests style, run by 10-tap-compat.t once with rtpengine's own
# Perl modules and once with perl-compat's: offer/answer with captured ports, RTP and RTCP both
# ways, captures from rcv (port -1 included), header extensions, rcv_no/rcv_maybe, query,
# a raw request that gets an error reply, re-offer, delete.

use strict;
use warnings;
use NGCP::Rtpengine::Test;
use NGCP::Rtpclient::SRTP;
use NGCP::Rtpengine::AutoTest;
use Test::More;

autotest_start(qw(--config-file=none -t -1 -i 203.0.113.1 -i 2001:db8:4321::1
			-n 2223 -c 12345 -f -L 7 -E -u 2222 -d 0))
		or die;

my ($sock_a, $sock_ax, $sock_b, $sock_bx, $port_a, $port_ax, $port_b, $port_bx, $resp,
	$seq, $ts, $ssrc, $src_port, $src_addr);

($sock_a, $sock_ax, $sock_b, $sock_bx) = new_call(
	[qw(198.51.100.41 4100)],
	[qw(198.51.100.41 4101)],
	[qw(198.51.100.43 4102)],
	[qw(198.51.100.43 4103)],
);

($port_a, $port_ax) = offer('tap flow', { ICE => 'remove' }, <<SDP);
v=0
o=- 7001 1 IN IP4 198.51.100.41
s=tester
t=0 0
m=audio 4100 RTP/AVP 0 8 101
c=IN IP4 198.51.100.41
a=rtpmap:101 telephone-event/8000
a=sendrecv
----------------------------------
v=0
o=- 7001 1 IN IP4 198.51.100.41
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

($port_b, $port_bx) = answer('tap flow', { ICE => 'remove' }, <<SDP);
v=0
o=- 7002 1 IN IP4 198.51.100.43
s=tester
t=0 0
m=audio 4102 RTP/AVP 8 101
c=IN IP4 198.51.100.43
a=rtpmap:101 telephone-event/8000
a=sendrecv
----------------------------------
v=0
o=- 7002 1 IN IP4 198.51.100.43
s=tester
t=0 0
m=audio PORT RTP/AVP 8 101
c=IN IP4 203.0.113.1
a=rtpmap:8 PCMA/8000
a=rtpmap:101 telephone-event/8000
a=sendrecv
a=rtcp:PORT
SDP

is $port_ax, $port_a + 1, 'RTCP port follows RTP port (offer)';

snd($sock_a, $port_b, rtp(8, 3000, 16000, 0x7001, "\x2a" x 160));
rcv($sock_b, $port_a, rtpm(8, 3000, 16000, 0x7001, "\x2a" x 160));
snd($sock_b, $port_a, rtp(8, 9000, 48000, 0x7002, "\x3b" x 160));
($seq, $ts, $ssrc) = rcv($sock_a, $port_b, rtpm(8, -1, -1, -1, "\x3b" x 160));
is $seq, 9000, 'captured sequence number';
is $ssrc, 0x7002, 'captured SSRC';

snd($sock_b, $port_a, rtp(8, 9001, 48160, 0x7002, "\x3b" x 160));
($src_port, $src_addr, $seq) = rcv($sock_a, -1, rtpm(8, -1, 48160, 0x7002, "\x3b" x 160));
is $src_port, $port_b, 'port -1: the packet came from the relay port';
is $seq, 9001, 'port -1: captures follow';

# an event and a packet with header extensions pass unchanged
snd($sock_a, $port_b, rtp(101, 3001, 16160, 0x7001, "\x05\x0a\x00\xa0"));
rcv($sock_b, $port_a, rtpm(101, 3001, 16160, 0x7001, "\x05\x0a\x00\xa0"));
snd($sock_a, $port_b, rtp(8, 3002, 16320, 0x7001, "\x2a" x 160, [[1, "\x10"], [3, "abc"]]));
rcv($sock_b, $port_a, rtpm(8, 3002, 16320, 0x7001, "\x2a" x 160, [[1, "\x10"], [3, "abc"]]));

my $rr = pack('CCnN', 0x80, 201, 1, 0x7001);
snd($sock_ax, $port_bx, $rr);
rcv($sock_bx, $port_ax, qr/^\Q$rr\E$/s);
snd($sock_bx, $port_ax, $rr);
rcv($sock_ax, $port_bx, qr/^\Q$rr\E$/s);

rcv_no($sock_a);
rcv_maybe($sock_b);

$resp = rtpe_req('query', 'tap flow', { });
ok exists $resp->{tags}{ft()}, 'query lists the caller';

my $err = rtpe_raw_req({ command => 'delete', 'call-id' => cid() . '-nonexistent', 'from-tag' => ft() });
like $err, qr/Error reason: "Unknown call-id"/, 'raw request for an unknown call: error reply';

# re-offer from the same side keeps the relay port
offer('tap flow re-offer', { ICE => 'remove' }, <<SDP);
v=0
o=- 7001 2 IN IP4 198.51.100.41
s=tester
t=0 0
m=audio 4100 RTP/AVP 8
c=IN IP4 198.51.100.41
a=sendrecv
----------------------------------
v=0
o=- 7001 2 IN IP4 198.51.100.41
s=tester
t=0 0
m=audio $port_a RTP/AVP 8
c=IN IP4 203.0.113.1
a=rtpmap:8 PCMA/8000
a=sendrecv
a=rtcp:$port_ax
SDP

rtpe_req('delete', 'tap flow', { 'from-tag' => ft() });
snd($sock_a, $port_b, rtp(8, 3003, 16480, 0x7001, "\x2a" x 160));
rcv_no($sock_b);

done_testing();
