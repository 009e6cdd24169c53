#!/usr/bin/perl
# Error and warning replies, retransmitted requests answered from the cookie cache.

use strict;
use warnings;
use NGCP::Rtpengine::Test;
use NGCP::Rtpclient::SRTP;
use NGCP::Rtpengine::AutoTest qw(:DEFAULT leak_check rtpe_client);
use NGCP::Rtpengine::Bencode qw(bencode bdecode);
use IO::Select;
use Test::More;

autotest_start(qw(--config-file=none -t -1 -i 203.0.113.1 -i 2001:db8:4321::1
			-n 2226 -c 12348 -f -L 7 -E -u 2252 --silence-detect=1 --log-level-internals=7
			--endpoint-learning=delayed -d 0 --leak-check=fatal))
		or die;

my ($resp, $port_a, $port_b);
my $sdp_a = <<SDP;
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 3030 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendrecv
SDP

new_call;

$resp = rtpe_raw_req('answer', 'answer to unknown call', { 'from-tag' => ft(), 'to-tag' => tt(), sdp => $sdp_a });
is $resp->{result}, 'error', 'answer to unknown call: error';
like $resp->{'error-reason'}, qr/^Unknown call-id$/i, 'answer to unknown call: reason';

$resp = rtpe_raw_req('delete', 'delete unknown call', { 'from-tag' => ft() });
is $resp->{result}, 'ok', 'delete unknown call: ok';
is $resp->{warning}, "Call-ID not found or tags didn't match", 'delete unknown call: warning';

$resp = rtpe_raw_req('delete', 'delete unknown call, fatal', { 'from-tag' => ft(), flags => ['fatal'] });
is $resp->{result}, 'error', 'delete unknown call with fatal: error';
is $resp->{'error-reason'}, "Call-ID not found or tags didn't match", 'delete unknown call with fatal: reason';

$resp = rtpe_raw_req('query', 'query unknown call', { });
is $resp->{result}, 'error', 'query unknown call: error';
like $resp->{'error-reason'}, qr/^Unknown call-id/i, 'query unknown call: reason';

$resp = rtpe_raw_req('frobnicate', 'unknown command', { });
is $resp->{result}, 'error', 'unknown command: error';
is $resp->{'error-reason'}, 'Unrecognized command', 'unknown command: reason';

$resp = rtpe_raw_req('offer', 'offer without SDP', { 'from-tag' => ft() });
is $resp->{result}, 'error', 'offer without SDP: error';
is $resp->{'error-reason'}, 'No SDP body in message', 'offer without SDP: reason';

$resp = rtpe_raw_req({ command => 'offer', 'from-tag' => ft(), sdp => $sdp_a });
is $resp->{result}, 'error', 'offer without call-id: error';
is $resp->{'error-reason'}, 'No call-id in message', 'offer without call-id: reason';

$resp = rtpe_raw_req('offer', 'offer without from-tag', { sdp => $sdp_a });
is $resp->{result}, 'error', 'offer without from-tag: error';
is $resp->{'error-reason'}, 'No from-tag in message', 'offer without from-tag: reason';

$resp = rtpe_raw_req({ 'call-id' => cid() });
is $resp->{result}, 'error', 'request without command: error';
is $resp->{'error-reason'}, 'Dictionary contains no key "command"', 'request without command: reason';

$resp = rtpe_raw_req('offer', 'garbage SDP', { 'from-tag' => ft(), sdp => "this is not SDP\n" });
is $resp->{result}, 'error', 'unparsable SDP: error';

# the failed requests must not have left a call behind
$resp = rtpe_raw_req('query', 'query after errors', { });
is $resp->{result}, 'error', 'no call was created by the failed requests';

# --- retransmission: the same cookie gets the cached reply, the request is not re-executed -----

my $c = rtpe_client();
my $sock = $c->{socket};
sub raw_exchange {
	my ($datagram) = @_;
	$sock->send($datagram, 0);
	my $sel = IO::Select->new($sock);
	while ($sel->can_read(3)) {
		my $buf = '';
		defined($sock->recv($buf, 65535, 0)) or last;
		my ($cookie) = $datagram =~ /^(\S+) /;
		return $1 if $buf =~ /^\Q$cookie\E (.*)\z/s;
	}
	return;
}

new_call;
my $offer = bencode({ command => 'offer', 'call-id' => cid(), 'from-tag' => ft(), sdp => $sdp_a });
my $cookie = "rtx-$$-" . int(rand(1e9));
my $r1 = raw_exchange("$cookie $offer");
ok defined $r1, 'offer answered';
my $d1 = defined $r1 ? bdecode($r1) : {};
is $d1->{result}, 'ok', 'offer ok';

rtpe_req('delete', 'retransmission', { 'from-tag' => ft() });

my $r2 = raw_exchange("$cookie $offer");
is $r2, $r1, 'retransmitted offer gets the identical cached reply';
$resp = rtpe_raw_req('query', 'query after retransmission', { });
is $resp->{result}, 'error', 'retransmission did not re-create the deleted call';

# a new cookie with the same body is a new request
my $r3 = raw_exchange("$cookie-2 $offer");
is bdecode($r3 // 'de')->{result}, 'ok', 'same offer under a new cookie is executed';
rtpe_req('delete', 'retransmission cleanup', { 'from-tag' => ft() });

# --- malformed datagrams -----------------------------------------------------------------------

my $bad = raw_exchange("bad-$$ xyz");
ok defined $bad, 'body that is neither bencode nor JSON: answered';
is eval { bdecode($bad)->{result} }, 'error', '... with an error';

$bad = raw_exchange("bad2-$$ d7:comma");
ok defined $bad, 'bencode cut inside a string: answered';
is eval { bdecode($bad)->{result} }, 'error', '... with an error';

# JSON in, JSON out
use_json(1);
$resp = rtpe_raw_req({ command => 'ping' });
is $resp->{result}, 'pong', 'JSON ping';
use_json(0);

leak_check('errors');

done_testing();
