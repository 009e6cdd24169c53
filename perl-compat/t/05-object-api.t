#!/usr/bin/perl
# NGCP::Rtpengine::Test object API: two clients, offer/answer through the daemon, one second of
# RTP (and some RTCP) each way, every packet checked on arrival, then delete.

use strict;
use warnings;
use NGCP::Rtpengine::Test;
use NGCP::Rtpengine::AutoTest qw(:DEFAULT leak_check);
use Test::More;

autotest_start(qw(--config-file=none -t -1 -i 203.0.113.1 -i 2001:db8:4321::1
			-n 2227 -c 12349 -f -L 7 -E -u 2262 --endpoint-learning=delayed -d 0 --leak-check=fatal))
		or die;

my $r = NGCP::Rtpengine::Test->new(port => 2227, media_port => 3100);
my ($a, $b) = $r->client_pair({ address => '198.51.100.20' }, { address => '198.51.100.21' });

my $o = $a->offer($b, ICE => 'remove');
is $o->{result}, 'ok', 'object API: offer ok';
like $o->{sdp}, qr/^c=IN IP4 203\.0\.113\.1\r?$/m, 'object API: offer rewritten to the relay address';
my $an = $b->answer($a, ICE => 'remove');
is $an->{result}, 'ok', 'object API: answer ok';
is $a->{remote_media}{address}, '203.0.113.1', 'caller talks to the relay';
is $a->{remote_media}{rtcp_port}, $a->{remote_media}{port} + 1, 'relay RTCP port is RTP port + 1';

$a->start_rtp();
$b->start_rtp();
$a->start_rtcp();
$b->start_rtcp();
$r->timer_once(1, sub { $_->stop_media() for $a, $b });
$r->timer_once(1.5, sub { $r->stop() });
$r->run();

for my $cl ([caller => $a], [callee => $b]) {
	my ($name, $c) = @$cl;
	my $other = $c == $a ? $b : $a;
	cmp_ok $c->{media_packets_sent}[0], '>=', 40, "$name sent RTP for a second";
	is $other->{media_packets_received}[0], $c->{media_packets_sent}[0], "every RTP packet of the $name arrived intact";
	cmp_ok $c->{media_packets_sent}[1], '>=', 1, "$name sent RTCP";
	is $other->{media_packets_received}[1], $c->{media_packets_sent}[1], "every RTCP packet of the $name arrived intact";
	is_deeply $other->{media_errors}, [], "no unexpected or altered packets at the " . ($c == $a ? 'callee' : 'caller');
}

is $a->delete()->{result}, 'ok', 'object API: delete ok';

leak_check('object API');

done_testing();
