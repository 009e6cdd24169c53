#!/usr/bin/perl
# Call composition in auto-daemon style: `create` (the relay's own offer, rtpengine's defaults)
# and `create answer` for a party in each of two calls, `connect` across the calls (they merge),
# RTP both ways, `query` by either call-id, delete by the merged-in call-id ends it all.

use strict;
use warnings;
use NGCP::Rtpengine::Test;
use NGCP::Rtpengine::AutoTest qw(:DEFAULT leak_check);
use Test::More;

autotest_start(qw(--config-file=none -t -1 -i 203.0.113.1 -i 2001:db8:4321::1
			-n 2291 -c 12391 -f -L 7 -E -u 2292 --endpoint-learning=delayed -d 0 --leak-check=fatal))
		or die;

# more margin than rtpengine's 1 s / 0.1 s on a busy test machine (timing only, no TAP change)
$NGCP::Rtpengine::AutoTest::rcv_timeout = 2;
$NGCP::Rtpengine::AutoTest::rcv_no_wait = 0.2;


my ($sock_a, $sock_b, $port_a, $port_b, $cid_a, $ft_a, $cid, $ft, $resp);

($sock_a, $sock_b) = new_call([qw(198.51.100.14 6100)], [qw(198.51.100.14 6102)]);

($cid, $ft, $port_a) = create('create A', { 'from-tag' => ft() }, <<SDP);
v=0
o=- SDP_VERSION IN IP4 203.0.113.1
s=RTPE_VERSION
t=0 0
m=audio PORT RTP/AVP 8 0
c=IN IP4 203.0.113.1
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

is $cid, cid(), 'create: the given call-id';
is $ft, ft(), 'create: the given from-tag';

create_answer('create A', { 'from-tag' => ft() }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.14
s=tester
t=0 0
m=audio 6100 RTP/AVP 8
c=IN IP4 198.51.100.14
a=sendrecv
SDP

($cid_a, $ft_a) = (cid(), ft());

# a second call (new call-id and tags, same sockets)
new_call_nc();

(undef, undef, $port_b) = create('create B', { 'from-tag' => ft() }, <<SDP);
v=0
o=- SDP_VERSION IN IP4 203.0.113.1
s=RTPE_VERSION
t=0 0
m=audio PORT RTP/AVP 8 0
c=IN IP4 203.0.113.1
a=rtpmap:8 PCMA/8000
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

create_answer('create B', { 'from-tag' => ft() }, <<SDP);
v=0
o=- 1545997028 1 IN IP4 198.51.100.14
s=tester
t=0 0
m=audio 6102 RTP/AVP 8
c=IN IP4 198.51.100.14
a=sendrecv
SDP

rtpe_req('connect', 'connect across calls', { 'call-id' => $cid_a, 'from-tag' => $ft_a, 'to-tag' => ft(),
	'to-call-id' => cid() });

snd($sock_a, $port_a, rtp(8, 3000, 5000, 0x5678, "\x2a" x 160));
rcv($sock_b, $port_b, rtpm(8, 3000, 5000, 0x5678, "\x2a" x 160));
snd($sock_b, $port_b, rtp(8, 4000, 7000, 0x6789, "\x2a" x 160));
rcv($sock_a, $port_a, rtpm(8, 4000, 7000, 0x6789, "\x2a" x 160));

$resp = rtpe_req('query', 'query by the merged-in call-id', { });
is_deeply [sort keys %{$resp->{tags}}], [sort($ft_a, ft())], 'both parties in one call';
$resp = rtpe_req('query', 'query by the first call-id', { 'call-id' => $cid_a });
is_deeply [sort keys %{$resp->{tags}}], [sort($ft_a, ft())], 'the same call by either call-id';

rtpe_req('delete', 'delete by the merged-in call-id', { });
snd($sock_a, $port_a, rtp(8, 3001, 5160, 0x5678, "\x2a" x 160));
rcv_no($sock_b);

leak_check('compose');

done_testing();
