#!/usr/bin/perl
# SDES (a=crypto) negotiation in auto-daemon style: SRTP pass-through with rtpengine's own
# suites appended, RTP -> SRTP and SRTP -> RTP conversion, SDES flags, OSRTP accept, legacy OSRTP
# (offer-legacy, accept-legacy).

use strict;
use warnings;
use NGCP::Rtpengine::Test;
use NGCP::Rtpengine::AutoTest qw(:DEFAULT leak_check);
use Test::More;

autotest_start(qw(--config-file=none -t -1 -i 203.0.113.1 -i 2001:db8:4321::1
			-n 2285 -c 12385 -f -L 7 -E -u 2286 -d 0 --leak-check=fatal))
		or die;


new_call;

offer('SDES pass-through, only the AES-CM suites added', { ICE => 'remove',
		SDES => [ 'only-AES_CM_128_HMAC_SHA1_80', 'only-AES_CM_128_HMAC_SHA1_32', 'only-AES_256_CM_HMAC_SHA1_80' ] }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 3000 RTP/SAVP 0
c=IN IP4 198.51.100.1
a=sendrecv
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:Tt2sUQpl/5epoClVgzmQQfkCh3FciN5ROArrR4tf
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/SAVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:Tt2sUQpl/5epoClVgzmQQfkCh3FciN5ROArrR4tf
a=crypto:2 AES_256_CM_HMAC_SHA1_80 inline:CRYPTO256
a=crypto:3 AES_CM_128_HMAC_SHA1_32 inline:CRYPTO128
SDP

answer('SDES pass-through, answer', { ICE => 'remove' }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 3002 RTP/SAVP 0
c=IN IP4 198.51.100.3
a=sendrecv
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:4hPbyMof1s81PIWzzlC+lQe3w86V6tzY8Jco9iIo
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/SAVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:4hPbyMof1s81PIWzzlC+lQe3w86V6tzY8Jco9iIo
SDP

rtpe_req('delete', 'delete SDES pass-through', { });

new_call;

offer('RTP to SRTP, GCM only', { ICE => 'remove', 'transport-protocol' => 'RTP/SAVP',
		SDES => [ 'only-AEAD_AES_256_GCM', 'only-AEAD_AES_128_GCM' ] }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 3004 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/SAVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=crypto:1 AEAD_AES_256_GCM inline:CRYPTO256S
a=crypto:2 AEAD_AES_128_GCM inline:CRYPTO128S
SDP

answer('RTP to SRTP, answer', { ICE => 'remove' }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 3006 RTP/SAVP 0
c=IN IP4 198.51.100.3
a=sendrecv
a=crypto:2 AEAD_AES_128_GCM inline:70XALRx6oRojHiVTCDH75bZ4zWfX4/9gjFiQuQ
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

rtpe_req('delete', 'delete RTP to SRTP', { });

new_call;

offer('OSRTP accept', { ICE => 'remove', OSRTP => [ 'accept' ] }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 3008 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendrecv
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:KFeyHrIWmb5bIkJd1wNKq447KqK1Bi8AlytJoHyQ
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

answer('OSRTP accept, answer', { ICE => 'remove' }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 3010 RTP/AVP 0
c=IN IP4 198.51.100.3
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:CRYPTO128
SDP

rtpe_req('delete', 'delete OSRTP', { });

# legacy OSRTP: each media twice, plain RTP and SRTP

new_call;

offer('OSRTP offer-legacy', { ICE => 'remove', OSRTP => [ 'offer-legacy' ], 'transport-protocol' => 'RTP/SAVP',
		SDES => [ 'only-AES_CM_128_HMAC_SHA1_80' ] }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 3012 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendrecv
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
m=audio PORT RTP/SAVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:CRYPTO128
SDP

answer('OSRTP offer-legacy, legacy answer taking SRTP', { ICE => 'remove', OSRTP => [ 'accept-legacy' ] }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 0 RTP/AVP 0
m=audio 3014 RTP/SAVP 0
c=IN IP4 198.51.100.3
a=sendrecv
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:Vh8lPC7LJBWOUm8gd6PS3iqmlFR9zg0kgqQ8D8Bz
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio PORT RTP/AVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
SDP

rtpe_req('delete', 'delete OSRTP offer-legacy', { });

new_call;

offer('OSRTP accept-legacy', { ICE => 'remove', OSRTP => [ 'accept-legacy' ], SDES => [ 'only-AES_CM_128_HMAC_SHA1_80' ] }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio 3016 RTP/AVP 0
c=IN IP4 198.51.100.1
a=sendrecv
m=audio 3016 RTP/SAVP 0
c=IN IP4 198.51.100.1
a=sendrecv
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:2Vc7DUuyhHDDVqN5QQiCyTrk2vsl1nrJrrZv7r5K
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.1
s=tester
t=0 0
m=audio PORT RTP/SAVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:2Vc7DUuyhHDDVqN5QQiCyTrk2vsl1nrJrrZv7r5K
SDP

answer('OSRTP accept-legacy, answer', { ICE => 'remove', OSRTP => [ 'accept-legacy' ] }, <<SDP);
v=0
o=- 1545997027 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 3018 RTP/SAVP 0
c=IN IP4 198.51.100.3
a=sendrecv
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:h4g0aPHu4JE9Gp1Zf2rXWkCm8c6j0G5QvyE7vFmL
----------------------------------
v=0
o=- 1545997027 1 IN IP4 198.51.100.3
s=tester
t=0 0
m=audio 0 RTP/AVP 0
m=audio PORT RTP/SAVP 0
c=IN IP4 203.0.113.1
a=rtpmap:0 PCMU/8000
a=sendrecv
a=rtcp:PORT
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:h4g0aPHu4JE9Gp1Zf2rXWkCm8c6j0G5QvyE7vFmL
SDP

rtpe_req('delete', 'delete OSRTP accept-legacy', { });

leak_check('SDES');

done_testing();
