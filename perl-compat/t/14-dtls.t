#!/usr/bin/perl
# DTLS-SRTP SDP rules in auto-daemon style (FINGERPRINT256 / FINGERPRINT / TLS_ID placeholders):
# an offerer that speaks DTLS gets a=setup:active and our fingerprint in the answer (its own
# DTLS lines never pass to the plain side); DTLS=passive and DTLS-fingerprint change what we
# write; an SRTP receiver with SDES off is offered DTLS (actpass); DTLS=off offers none.

use strict;
use warnings;
use NGCP::Rtpengine::Test;
use NGCP::Rtpengine::AutoTest qw(:DEFAULT leak_check);
use Test::More;

autotest_start(qw(--config-file=none -t -1 -i 203.0.113.1
			-n 2311 -c 12411 -f -L 7 -E -u 2312 -d 0 --leak-check=fatal))
		or die;

my $fingerprint = 'AB:' x 31 . 'AB';


new_call;

offer('DTLS bkw', { ICE => 'remove', 'transport-protocol' => 'RTP/AVP' }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
c=IN IP4 198.51.100.35
t=0 0
m=audio 3008 RTP/SAVP 0
a=setup:actpass
a=fingerprint:sha-256 $fingerprint
a=tls-id:xxxxxxxxxxxxxxxx
-----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

answer('DTLS bkw', { }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
c=IN IP4 198.51.100.35
t=0 0
m=audio 3010 RTP/AVP 0
-----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
t=0 0
m=audio PORT RTP/SAVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=setup:active
a=fingerprint:sha-256 FINGERPRINT256
a=tls-id:TLS_ID
SDP

rtpe_req('delete', 'delete DTLS bkw', { });


new_call;

offer('DTLS bkw passive sha-1', { ICE => 'remove', 'transport-protocol' => 'RTP/AVP', DTLS => 'passive',
		'DTLS-fingerprint' => 'SHA-1' }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
c=IN IP4 198.51.100.35
t=0 0
m=audio 3012 RTP/SAVP 0
a=setup:actpass
a=fingerprint:sha-256 $fingerprint
-----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

answer('DTLS bkw passive sha-1', { }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
c=IN IP4 198.51.100.35
t=0 0
m=audio 3014 RTP/AVP 0
-----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
t=0 0
m=audio PORT RTP/SAVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=setup:passive
a=fingerprint:sha-1 FINGERPRINT
a=tls-id:TLS_ID
SDP

rtpe_req('delete', 'delete DTLS bkw passive', { });


new_call;

offer('DTLS fwd', { ICE => 'remove', 'transport-protocol' => 'RTP/SAVP', SDES => 'off' }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
c=IN IP4 198.51.100.35
t=0 0
m=audio 3016 RTP/AVP 0
-----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
t=0 0
m=audio PORT RTP/SAVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=setup:actpass
a=fingerprint:sha-256 FINGERPRINT256
a=tls-id:TLS_ID
SDP

answer('DTLS fwd', { 'transport-protocol' => 'RTP/AVP' }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
c=IN IP4 198.51.100.35
t=0 0
m=audio 3018 RTP/SAVP 0
a=setup:active
a=fingerprint:sha-256 $fingerprint
-----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

rtpe_req('delete', 'delete DTLS fwd', { });


new_call;

offer('DTLS off', { ICE => 'remove', 'transport-protocol' => 'RTP/SAVP', DTLS => 'off',
		SDES => [ 'only-AES_CM_128_HMAC_SHA1_80' ] }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
c=IN IP4 198.51.100.35
t=0 0
m=audio 3020 RTP/AVP 0
-----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.23
s=tester
t=0 0
m=audio PORT RTP/SAVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:CRYPTO128
SDP

rtpe_req('delete', 'delete DTLS off', { });

leak_check('DTLS');

done_testing();
