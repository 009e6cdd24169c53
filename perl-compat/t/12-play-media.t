#!/usr/bin/perl
# `play media` in auto-daemon style: WAV blobs built here (A-law, µ-law, 16-bit PCM) played to
# one side of a call; the expected RTP bytes follow from the file (G.711 in the receiver's own
# G.711 law comes out byte for byte), 160 bytes per packet, the marker on the first packet of
# each repetition, seq/ts/SSRC continuing; `repeat-times`, `stop media`, error replies; the
# zero-leak check at the end.

use strict;
use warnings;
use NGCP::Rtpengine::Test;
use NGCP::Rtpengine::AutoTest qw(:DEFAULT leak_check);
use Test::More;
use Socket;
use Time::HiRes;

autotest_start(qw(--config-file=none -t -1 -i 203.0.113.1 -i 2001:db8:4321::1
			-n 2293 -c 12393 -f -L 7 -E -u 2294 --endpoint-learning=delayed -d 0 --leak-check=fatal))
		or die;

$NGCP::Rtpengine::AutoTest::rcv_timeout = 2;
$NGCP::Rtpengine::AutoTest::rcv_no_wait = 0.2;

# a WAV file: format tag, bits per sample, sample rate, data
sub wav {
	my ($tag, $bits, $rate, $data) = @_;
	my $fmt = pack('vvVVvv', $tag, 1, $rate, $rate * $bits / 8, $bits / 8, $bits);
	my $body = 'WAVE' . 'fmt ' . pack('V', length($fmt)) . $fmt . 'data' . pack('V', length($data)) . $data;
	return 'RIFF' . pack('V', length($body)) . $body;
}

# 800 A-law codes (100 ms): every code once (0x00..0xff) and then some more
my $alaw = join('', map { chr($_ % 256) } 0 .. 799);
# µ-law: every code but 0x7f (it decodes to the same zero as 0xff)
my $ulaw = join('', map { my $c = ($_ * 7) % 256; chr($c == 0x7f ? 0x7e : $c) } 0 .. 799);
my @a_frames = map { substr($alaw, $_ * 160, 160) } 0 .. 4;
my @u_frames = map { substr($ulaw, $_ * 160, 160) } 0 .. 4;

my ($sock_a, $sock_b, $port_a, $port_b, $seq, $ts, $ssrc, $ssrc_a, $resp);

($sock_a, $sock_b) = new_call([qw(198.51.100.1 6200)], [qw(198.51.100.3 6202)]);

($port_a) = offer('media playback, side A', { ICE => 'remove', replace => ['origin'] }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 6200 RTP/AVP 8 0
c=IN IP4 198.51.100.1
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 203.0.113.1
s=tester
t=0 0
m=audio PORT RTP/AVP 8 0
c=IN IP4 203.0.113.1
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

($port_b) = answer('media playback, side A', { replace => ['origin'] }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 6202 RTP/AVP 0
c=IN IP4 198.51.100.3
a=sendrecv
--------------------------------------
v=0
o=- 1545997027 1 IN IP4 203.0.113.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

# A prefers PCMA: the A-law file reaches it byte for byte, 160 bytes per packet
$resp = rtpe_req('play media', 'A-law blob to A', { 'from-tag' => ft(), blob => wav(6, 8, 8000, $alaw) });
is $resp->{duration}, 100, 'media duration';
(undef, undef, $seq, $ts, $ssrc) = rcv($sock_a, -1, rtpm(8 | 0x80, -1, -1, -1, $a_frames[0]));
rcv($sock_a, -1, rtpm(8, $seq + $_, $ts + 160 * $_, $ssrc, $a_frames[$_])) for 1 .. 4;
rcv_no($sock_a);
$ssrc_a = $ssrc;
rcv_no($sock_b);

# B has PCMU only: the µ-law file, twice (repeat-times), the marker on each repetition
$resp = rtpe_req('play media', 'µ-law blob to B, twice', { 'from-tag' => tt(), blob => wav(7, 8, 8000, $ulaw),
	'repeat-times' => 2 });
is $resp->{duration}, 100, 'media duration';
(undef, undef, $seq, $ts, $ssrc) = rcv($sock_b, -1, rtpm(0 | 0x80, -1, -1, -1, $u_frames[0]));
rcv($sock_b, -1, rtpm(0, $seq + $_, $ts + 160 * $_, $ssrc, $u_frames[$_])) for 1 .. 4;
rcv($sock_b, -1, rtpm(0 | 0x80, $seq + 5, $ts + 160 * 5, $ssrc, $u_frames[0]));
rcv($sock_b, -1, rtpm(0, $seq + 5 + $_, $ts + 160 * (5 + $_), $ssrc, $u_frames[$_])) for 1 .. 4;
rcv_no($sock_b);

# 16-bit PCM silence, 1 s, to A again: the same player continues; stopped after the first packets
$resp = rtpe_req('play media', 'PCM silence to A, then stopped', { 'from-tag' => ft(),
	blob => wav(1, 16, 8000, "\0\0" x 8000) });
is $resp->{duration}, 1000, 'media duration';
my ($seq2, $ts2, $ssrc2);
(undef, undef, $seq2, $ts2, $ssrc2) = rcv($sock_a, -1, rtpm(8 | 0x80, -1, -1, -1, "\xd5" x 160));
is $ssrc2, $ssrc_a, 'the same player (SSRC) as before';
rcv($sock_a, -1, rtpm(8, $seq2 + 1, $ts2 + 160, $ssrc2, "\xd5" x 160));
$resp = rtpe_req('stop media', 'stop playback to A', { 'from-tag' => ft() });
ok $resp->{'last-frame-pos'} >= 320, 'last-frame-pos counts the samples played';
# at most one packet was in flight when it stopped
my $drained = 0;
while (1) {
	Time::HiRes::sleep(0.1);
	my $p = '';
	last unless defined $sock_a->recv($p, 65535, Socket::MSG_DONTWAIT());
	$drained++;
}
ok $drained <= 1, 'playback stopped';

# errors name the problem; the call is unharmed
$resp = rtpe_raw_req('play media', 'not a WAV', { 'from-tag' => ft(), blob => 'hello world' });
is $resp->{'error-reason'}, 'Failed to start media playback from blob: not a WAV file (no RIFF/WAVE header)', 'not a WAV';
$resp = rtpe_raw_req('play media', 'missing file', { 'from-tag' => ft(), file => '/nonexistent/x.wav' });
is $resp->{'error-reason'}, "Failed to start media playback from file: cannot read '/nonexistent/x.wav': no such file", 'missing file';
$resp = rtpe_raw_req('play media', 'no source', { 'from-tag' => ft() });
is $resp->{'error-reason'}, 'No media file specified', 'no source';
$resp = rtpe_raw_req('stop media', 'never played', { 'from-tag' => 'nobody' });
is $resp->{'error-reason'}, 'From-tag not found', 'unknown party';

snd($sock_a, $port_b, rtp(0, 1000, 3000, 0x1234, "\x2a" x 160));
rcv($sock_b, $port_a, rtpm(0, 1000, 3000, 0x1234, "\x2a" x 160));

rtpe_req('delete', 'delete', { });
leak_check('play media');

done_testing();
