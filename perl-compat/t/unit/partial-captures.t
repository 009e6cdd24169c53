#!/usr/bin/perl
# A reply SDP that differs from the expected one: the assertion fails, but the placeholder
# captures are still returned (line by line, undef where a line is missing) so the script's
# later snd()/rcv() get their ports; snd() with no port is a failed assertion, not a die.
use strict;
use warnings;
use Test::More;
use Test::Builder::Tester;
use Socket qw(SOCK_DGRAM);
use IO::Socket::IP;
use NGCP::Rtpengine::AutoTest qw(:DEFAULT sdp_match sdp_partial_captures);

my $exp = "v=0\nm=audio PORT RTP/AVP 119 101\nc=IN IP4 203.0.113.1\na=rtpmap:119 opus/48000/2\n"
	. "a=sendrecv\na=rtcp:PORT\na=ptime:20\nm=video PORT RTP/AVP 96\na=rtcp:PORT\n";
# a=maxptime moved, a=ptime missing, video a=rtcp missing
my $got = "v=0\r\nm=audio 35364 RTP/AVP 119 101\r\nc=IN IP4 203.0.113.1\r\na=maxptime:60\r\n"
	. "a=rtpmap:119 opus/48000/2\r\na=sendrecv\r\na=rtcp:35365\r\nm=video 35366 RTP/AVP 96\r\n";

is_deeply [sdp_partial_captures($got, $exp)], [35364, 35365, 35366, undef],
	'captures found line by line, in order, undef for the missing line';
is_deeply [sdp_partial_captures("m=audio 30000 RTP/AVP 8\na=rtpmap:8 PCMA/8000\na=rtcp:30001\n",
	"m=audio PORT RTP/AVP 0 8\na=rtpmap:0 PCMU/8000\na=rtcp:PORT\n")], [30000, 30001],
	'a line differing after its last placeholder still gives its captures (prefix match)';
is_deeply [sdp_partial_captures("a=candidate:abc 1 UDP 1 203.0.113.1 4000 typ host\n",
	"a=candidate:ICEBASE 1 UDP 1 203.0.113.9 PORT typ host\n")], [undef, undef],
	'a line differing before a placeholder gives undef';
is_deeply [sdp_partial_captures('', "m=audio PORT RTP/AVP 0\na=sendrecv\na=rtcp:PORT\n")], [undef, undef],
	'no reply SDP: one undef per capture';
is_deeply [sdp_partial_captures("a=x:1 2\n", "a=x:PORT PORT\na=y\n")], [1, 2], 'two captures on one line';
is_deeply [sdp_partial_captures("o=- 1 2 IN\na=z\n", "o=- SDP_VERSION IN\na=z\n")], [],
	'non-capturing placeholders give nothing';

my @caps;
test_out("not ok 1 - t - output 'offer' SDP");
test_fail(+2);
@caps = sdp_match('offer', 't', $got, $exp);
test_test(title => 'mismatch is a failed assertion', skip_err => 1);
is_deeply \@caps, [35364, 35365, 35366, undef], 'sdp_match returns the partial captures on a mismatch';

@caps = sdp_match('offer', 't2', "m=audio 4000 RTP/AVP 0\r\na=rtcp:4001\r\n", "m=audio PORT RTP/AVP 0\na=rtcp:PORT\n");
is_deeply \@caps, [4000, 4001], 'full match unchanged';

# snd() to an undefined port: failed assertion, script goes on
my $s = IO::Socket::IP->new(Type => SOCK_DGRAM, Proto => 'udp', LocalHost => '127.0.0.1', LocalPort => 0) or die;
test_out('not ok 1 - snd: packet sent');
test_fail(+2);
my $r = eval { snd($s, undef, rtp(0, 1, 2, 3, 'x'), '127.0.0.1'); 1 };
test_test(title => 'snd with an undefined port fails an assertion', skip_err => 1);
ok $r, 'snd with an undefined port does not die';
is snd_no($s, undef, 'x', '127.0.0.1'), 0, 'snd_no with an undefined port returns 0';
snd($s, $s->sockport, 'self', '127.0.0.1');
rcv($s, $s->sockport, qr/^self$/);


done_testing();
