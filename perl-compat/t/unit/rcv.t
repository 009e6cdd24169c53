#!/usr/bin/perl
# snd/rcv/rcv_no/rcv_maybe and the rtp()/rtpm()/rtpmre() helpers over a local UDP socket pair.
use strict;
use warnings;
use Test::More;
use Socket qw(SOCK_DGRAM);
use IO::Socket::IP;
use NGCP::Rtpengine::AutoTest;

local $NGCP::Rtpengine::AutoTest::rcv_timeout = 1;
my ($a, $b) = map { IO::Socket::IP->new(Type => SOCK_DGRAM, Proto => 'udp', LocalHost => '127.0.0.1',
	LocalPort => 0) or die } 1 .. 2;
my ($pa, $pb) = ($a->sockport, $b->sockport);

my $pkt = rtp(8, 1000, 3000, 0x1234, "\x00" x 160);
is length($pkt), 172, 'rtp() builds a 12-byte header + payload';
is unpack('H*', substr($pkt, 0, 12)), '800803e800000bb800001234', 'rtp() header bytes';

snd($a, $pb, $pkt, '127.0.0.1');
my @r = rcv($b, $pa, rtpm(8, 1000, 3000, 0x1234, "\x00" x 160));
is_deeply \@r, [1], 'exact match without groups returns (1), as a list match does';

snd($a, $pb, rtp(0, 4321, 160000, 0xdeadbeef, 'payload'), '127.0.0.1');
@r = rcv($b, $pa, rtpm(0, -1, -1, -1, 'payload'));
is_deeply \@r, [4321, 160000, 0xdeadbeef], 'seq (2 bytes), ts and ssrc (4 bytes) captured as numbers';

snd($a, $pb, rtp(0, 7, 8, 9, 'abcdefgh'), '127.0.0.1');
@r = rcv($b, $pa, rtpmre(0, 7, 8, 9, '(ab)(cdef)(gh)'));
is_deeply \@r, [unpack('n', 'ab'), unpack('N', 'cdef'), unpack('n', 'gh')],
	'payload captures of 2/4 bytes are unpacked too (as rtpengine)';

snd($a, $pb, rtp(0, 7, 8, 9, 'abc'), '127.0.0.1');
@r = rcv($b, $pa, rtpmre(0, 7, 8, 9, '(abc)'));
is_deeply \@r, ['abc'], 'other captures returned as bytes';

snd($a, $pb, rtp(0, 1, 2, 3, 'x'), '127.0.0.1');
@r = rcv($b, -1, rtpm(0, -1, 2, 3, 'x'));
is_deeply \@r, [$pa, 1], 'port -1: source port prepended to captures';

snd($a, $pb, rtp(0, 5, 6, 7, 'alt'), '127.0.0.1');
@r = rcv($b, $pa, rtpm(0, 5, 6, 7, 'main', 'alt'));
is_deeply \@r, ['alt'], 'alternative payload accepted and captured';

{
	local $NGCP::Rtpengine::AutoTest::check_src_port = 1;
	snd($a, $pb, rtp(0, 1, 1, 1, 'p'), '127.0.0.1');
	rcv($b, $pa, rtpm(0, 1, 1, 1, 'p'));
	is_deeply $NGCP::Rtpengine::AutoTest::last_rcv_from, ['127.0.0.1', $pa], 'last_rcv_from recorded';
}

snd($a, $pb, "\x81\xc9\x00\x01\x00\x00\x12\x34", '127.0.0.1');
rcv($b, $pa, qr/^\x81\xc9\x00\x01\x00\x00\x12\x34$/s);

rcv_no($b);
@r = rcv_maybe($b, $pa, rtpm(0, 1, 1, 1, 'x'), undef, undef, 0.1);
is_deeply \@r, [], 'rcv_maybe with nothing pending: no captures, no failure';
snd($a, $pb, rtp(0, 2, 3, 4, 'y'), '127.0.0.1');
@r = rcv_maybe($b, $pa, rtpm(0, -1, 3, 4, 'y'));
is_deeply \@r, [2], 'rcv_maybe with a packet: checked and captured';

ok snd_no($a, $pb, 'z', '127.0.0.1'), 'snd_no reports a successful send';
rcv($b, $pa, qr/^z$/);
rcv_no($b);

# the other direction and IPv6 loopback when available
snd($b, $pa, rtp(96, 1, 2, 3, 'back'), '127.0.0.1');
rcv($a, $pb, rtpm(96, 1, 2, 3, 'back'));
SKIP: {
	my $s6 = IO::Socket::IP->new(Type => SOCK_DGRAM, Proto => 'udp', LocalHost => '::1', LocalPort => 0)
		or skip 'no IPv6 loopback', 1;
	snd($s6, $s6->sockport, rtp(0, 9, 9, 9, 'six'), '::1');
	rcv($s6, $s6->sockport, rtpm(0, 9, 9, 9, 'six'));
}

done_testing();
