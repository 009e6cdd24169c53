#!/usr/bin/perl
# A reply SDP that differs from the expected one: the assertion fails and, as rtpengine's
# sdp_match does, nothing is returned; the captures found line by line (undef where a line is
# missing) are only shown as a diagnostic. sdp_partial_captures() computes them.
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
is_deeply \@caps, [], 'sdp_match returns nothing on a mismatch (as rtpengine)';

{
	my $diag = '';
	my $tb = Test::More->builder;
	my ($old_fail, $old_todo) = ($tb->failure_output, $tb->todo_output);
	open(my $fh, '>', \$diag) or die;
	$tb->failure_output($fh);
	$tb->todo_output($fh);   # a failing TODO test's diagnostics go here
	$tb->todo_start('expected failure, its diagnostics are checked');
	sdp_match('offer', 't3', $got, $exp);
	$tb->todo_end;
	$tb->failure_output($old_fail);
	$tb->todo_output($old_todo);
	like $diag . '', qr/captures found line by line \(not returned\): 35364, 35365, 35366, undef/,
		'the line-by-line captures are shown as a hint';
}

@caps = sdp_match('offer', 't2', "m=audio 4000 RTP/AVP 0\r\na=rtcp:4001\r\n", "m=audio PORT RTP/AVP 0\na=rtcp:PORT\n");
is_deeply \@caps, [4000, 4001], 'full match unchanged';

done_testing();
