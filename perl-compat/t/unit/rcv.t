#!/usr/bin/perl
# snd/snd_no/rcv/rcv_no/rcv_maybe and the rtp()/rtpm()/rtpmre() helpers over a local UDP socket
# pair: the assertions each one makes (names included, as rtpengine's module makes them), the
# captures rcv() returns, and rcv() ending the script when no packet arrives.
use strict;
use warnings;
use Test::More;
use Test::Builder::Tester;
use Socket qw(SOCK_DGRAM);
use IO::Socket::IP;
use File::Temp ();
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use NGCP::Rtpengine::AutoTest;

my ($a, $b) = map { IO::Socket::IP->new(Type => SOCK_DGRAM, Proto => 'udp', LocalHost => '127.0.0.1',
	LocalPort => 0) or die } 1 .. 2;
my ($pa, $pb) = ($a->sockport, $b->sockport);

my $pkt = rtp(8, 1000, 3000, 0x1234, "\x00" x 160);
is length($pkt), 172, 'rtp() builds a 12-byte header + payload';
is unpack('H*', substr($pkt, 0, 12)), '800803e800000bb800001234', 'rtp() header bytes';

# rcv: two assertions named after the caller (package, file, line)
my @r;
snd($a, $pb, $pkt, '127.0.0.1');
test_out("ok 1 - received packet matches (main $0 " . (__LINE__ + 2) . ')',
	"ok 2 - receive port matches (main $0 " . (__LINE__ + 1) . ')');
@r = rcv($b, $pa, rtpm(8, 1000, 3000, 0x1234, "\x00" x 160));
test_test(title => 'rcv: packet and source port asserted', skip_err => 1);
is_deeply \@r, [1], 'exact match without groups returns (1), as a list match does';

snd($a, $pb, rtp(8, 1, 1, 1, 'x'), '127.0.0.1');
test_out("ok 1 - received packet matches (main $0 " . (__LINE__ + 3) . ')',
	"not ok 2 - receive port matches (main $0 " . (__LINE__ + 2) . ')');
test_fail(+1);
rcv($b, $pa + 1, rtpm(8, 1, 1, 1, 'x'));
test_test(title => 'rcv: a packet from another port fails the second assertion', skip_err => 1);

snd($a, $pb, rtp(8, 1, 1, 1, 'y'), '127.0.0.1');
test_out("not ok 1 - received packet matches (main $0 " . (__LINE__ + 3) . ')',
	"ok 2 - receive port matches (main $0 " . (__LINE__ + 2) . ')');
test_fail(+1);
rcv($b, $pa, rtpm(8, 1, 1, 1, 'x'));
test_test(title => 'rcv: a different packet fails the first assertion', skip_err => 1);

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

# port -1: no port assertion; the source port and address come before the captures
snd($a, $pb, rtp(0, 1, 2, 3, 'x'), '127.0.0.1');
test_out("ok 1 - received packet matches (main $0 " . (__LINE__ + 1) . ')');
@r = rcv($b, -1, rtpm(0, -1, 2, 3, 'x'));
test_test(title => 'rcv with port -1: one assertion', skip_err => 1);
is_deeply \@r, [$pa, '127.0.0.1', 1], 'port -1: source port and address prepended to captures';
is_deeply $NGCP::Rtpengine::AutoTest::last_rcv_from, ['127.0.0.1', $pa], 'last_rcv_from recorded';

snd($a, $pb, rtp(0, 5, 6, 7, 'alt'), '127.0.0.1');
@r = rcv($b, $pa, rtpm(0, 5, 6, 7, 'main', 'alt'));
is_deeply \@r, ['alt'], 'alternative payload accepted and captured';

# RTP header extensions, one-byte and two-byte forms
$pkt = rtp(96, 1, 2, 3, 'p', [[1, 'ab'], [2, 'xyz']]);
is unpack('H*', $pkt), '906000010000000200000003bede00021161622278797a0070', 'rtp() with one-byte extensions';
snd($a, $pb, $pkt, '127.0.0.1');
rcv($b, $pa, rtpm(96, 1, 2, 3, 'p', [[1, 'ab'], [2, 'xyz']]));
is unpack('H*', rtp(96, 1, 2, 3, 'p', [[16, 'a']])), '90600001000000020000000310000001100161' . '0070',
	'rtp() with an id >= 16 uses the two-byte form';

snd($a, $pb, "\x81\xc9\x00\x01\x00\x00\x12\x34", '127.0.0.1');
rcv($b, $pa, qr/^\x81\xc9\x00\x01\x00\x00\x12\x34$/s);

# rcv_no: one assertion
test_out("ok 1 - no packet received (main $0 " . (__LINE__ + 1) . ')');
rcv_no($b);
test_test(title => 'rcv_no with nothing pending', skip_err => 1);
snd($a, $pb, 'stray', '127.0.0.1');
test_out("not ok 1 - no packet received (main $0 " . (__LINE__ + 2) . ')');
test_fail(+1);
rcv_no($b);
test_test(title => 'rcv_no with a packet pending fails', skip_err => 1);

# rcv_maybe: one assertion that always passes, and the pending packet is gone afterwards
snd($a, $pb, rtp(0, 2, 3, 4, 'y'), '127.0.0.1');
test_out('ok 1 - whatever packet received or not', 'ok 2 - whatever packet received or not');
rcv_maybe($b);
rcv_maybe($b);
test_test(title => 'rcv_maybe: always one passing assertion', skip_err => 1);
rcv_no($b);

# snd_no: one assertion, passing when the send is refused
test_out('ok 1 - send to closed port fails');
snd_no($a, 0, 'z', '127.0.0.1');
test_test(title => 'snd_no to port 0: refused, passes', skip_err => 1);
test_out('not ok 1 - send to closed port fails');
test_fail(+1);
snd_no($a, $pb, 'z', '127.0.0.1');
test_test(title => 'snd_no where the send goes through: fails', skip_err => 1);
rcv($b, $pa, qr/^z$/);

# the other direction and IPv6 loopback when available
snd($b, $pa, rtp(96, 1, 2, 3, 'back'), '127.0.0.1');
rcv($a, $pb, rtpm(96, 1, 2, 3, 'back'));
SKIP: {
	my $s6 = IO::Socket::IP->new(Type => SOCK_DGRAM, Proto => 'udp', LocalHost => '::1', LocalPort => 0)
		or skip 'no IPv6 loopback', 2;
	snd($s6, $s6->sockport, rtp(0, 9, 9, 9, 'six'), '::1');
	rcv($s6, $s6->sockport, rtpm(0, 9, 9, 9, 'six'));
}

# What ends a script, as rtpengine's module ends it: a packet that never arrives, and a send
# without a port (an SDP that did not match returns no captures). Nothing after is reported.
my $lib = abs_path(dirname(__FILE__) . '/../..');
sub run_inner {
	my ($body) = @_;
	my $f = File::Temp->new(SUFFIX => '.t');
	print $f "use strict; use warnings; use Test::More; use NGCP::Rtpengine::AutoTest;\n"
		. "use Socket qw(SOCK_DGRAM); use IO::Socket::IP;\n"
		. "my \$s = IO::Socket::IP->new(Type => SOCK_DGRAM, Proto => 'udp', LocalHost => '127.0.0.1',"
		. " LocalPort => 0) or die;\nmy \$p = \$s->sockport;\n$body\nok(1, 'never reached');\ndone_testing();\n";
	close $f;
	my $out = `$^X -I$lib $f 2>&1`;
	return ($?, $out);
}
my ($st, $out) = run_inner("snd(\$s, \$p, 'one', '127.0.0.1');\nrcv(\$s, \$p, qr/^one\$/);\nrcv(\$s, \$p, qr/^two\$/);");
isnt $st, 0, 'rcv without a packet: the script fails';
like $out, qr/^ok 1 - received packet matches .*\nok 2 - receive port matches /m, 'the asserts before are reported';
like $out, qr/recv timed out: no packet within 1 s/, 'with the reason';
unlike $out, qr/never reached|^1\.\./m, 'and nothing after it, not even a plan';
($st, $out) = run_inner("snd(\$s, undef, 'one', '127.0.0.1');");
isnt $st, 0, 'snd without a port: the script fails';
like $out, qr/snd: no usable destination port \(undef\)/, 'with the reason';
unlike $out, qr/never reached/, 'and nothing after it';

done_testing();
