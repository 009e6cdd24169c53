#!/usr/bin/perl
# NGCP::Rtpengine against a fake ng server on 127.0.0.1: framing, cookie handling, retransmission
# with the same cookie, stale replies ignored, timeout, error replies, JSON.
use strict;
use warnings;
use Test::More;
use Socket qw(SOCK_DGRAM);
use IO::Socket::IP;
use POSIX ();
use NGCP::Rtpengine;
use NGCP::Rtpengine::Bencode qw(bencode bdecode);
use JSON::PP ();

my $srv = IO::Socket::IP->new(Type => SOCK_DGRAM, Proto => 'udp', LocalHost => '127.0.0.1', LocalPort => 0) or die;
my $port = $srv->sockport;
pipe(my $rd, my $wr) or die;
my $pid = fork() // die;
if (!$pid) {
	close $rd;
	$wr->autoflush(1);
	my $n = 0;
	while (1) {
		my $buf = '';
		my $peer = $srv->recv($buf, 65535, 0) // next;
		$n++;
		my ($cookie, $body) = $buf =~ /^(\S+) (.*)\z/s or next;
		print $wr "$cookie\n";
		my $json = $body =~ /^\{/;
		my $req = $json ? JSON::PP::decode_json($body) : bdecode($body);
		my $cmd = $req->{command} // '';
		last if $cmd eq 'quit';
		next if $cmd eq 'silent';
		if ($cmd eq 'drop-first' && !$req->{seen}++ && $n % 2) { next }   # first copy only
		my $reply;
		if ($cmd eq 'ping') { $reply = { result => 'pong' } }
		elsif ($cmd eq 'fail') { $reply = { result => 'error', 'error-reason' => 'Unknown call-id' } }
		elsif ($cmd eq 'stale') { $srv->send("not-the-cookie d6:result5:stalee", 0, $peer); $reply = { result => 'ok' } }
		else { $reply = { result => 'ok', echo => $req } }
		$srv->send("$cookie " . ($json ? JSON::PP::encode_json($reply) : bencode($reply)), 0, $peer);
	}
	POSIX::_exit(0);
}
close $wr;

my $c = NGCP::Rtpengine->new('127.0.0.1', $port, timeout => 0.3, retries => 2);
ok $c->{socket}, 'client socket created';
is $c->req({ command => 'ping' })->{result}, 'pong', 'ping answered';
my $r = $c->req({ command => 'offer', sdp => "v=0\r\n", flags => ['trust-address'], 'delete-delay' => 0 });
is_deeply $r->{echo}, { command => 'offer', sdp => "v=0\r\n", flags => ['trust-address'], 'delete-delay' => 0 },
	'request arrives intact (bencode)';
my @cookies = map { scalar <$rd> } 1 .. 2;
isnt $cookies[0], $cookies[1], 'every request gets its own cookie';

$r = $c->req({ command => 'drop-first' });
is $r->{result}, 'ok', 'answer after a retransmission';
is $c->{last_tries}, 2, 'it took two tries';
my @rt = map { scalar <$rd> } 1 .. 2;
is $rt[0], $rt[1], 'the retransmission used the same cookie';

$r = $c->req({ command => 'stale' });
is $r->{result}, 'ok', 'reply with a foreign cookie ignored';
<$rd>;

ok !eval { $c->req({ command => 'fail' }); 1 }, 'req dies on an error reply';
like $@, qr/Unknown call-id/, 'with the error reason';
<$rd>;
$r = $c->req_raw({ command => 'fail' });
is $r->{'error-reason'}, 'Unknown call-id', 'req_raw returns error replies';
<$rd>;

my $t0 = time;
ok !eval { $c->req_raw({ command => 'silent' }); 1 }, 'no reply: dies';
like $@, qr/no reply from rtpengine at 127\.0\.0\.1:\d+ after 3 tries/, 'timeout message';
my @silent = map { scalar <$rd> } 1 .. 3;
is scalar(grep { $_ eq $silent[0] } @silent), 3, 'three tries, one cookie';

$c->{json} = 1;
$r = $c->req({ command => 'query', 'call-id' => 'x' });
is_deeply $r->{echo}, { command => 'query', 'call-id' => 'x' }, 'JSON request and reply';
<$rd>;
ok $c->ping, 'ping helper';

$c->{json} = 0;
eval { $c->req_raw({ command => 'quit' }) };
waitpid($pid, 0);
ok !NGCP::Rtpengine->new('127.0.0.1', $port, timeout => 0.1, retries => 0)->ping, 'ping fails when nobody listens';

done_testing();
