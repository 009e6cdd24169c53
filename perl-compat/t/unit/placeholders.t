#!/usr/bin/perl
# Expected-SDP placeholders: what they match, what they capture, in which order.
use strict;
use warnings;
use Test::More;
use NGCP::Rtpengine::AutoTest qw(:DEFAULT sdp_regex sdp_match);

sub m_ok {
	my ($exp, $got) = @_;
	my $re = sdp_regex($exp);
	return [ $got =~ /$re/s ] if $got =~ /$re/s;
	return;
}

is_deeply m_ok("m=audio PORT RTP/AVP 0\na=rtcp:PORT\n", "m=audio 30000 RTP/AVP 0\na=rtcp:30001\n"),
	[30000, 30001], 'PORT captures, in order';
ok !m_ok("m=audio PORT RTP/AVP 0\n", "m=audio 123456 RTP/AVP 0\n"), 'PORT is at most 5 digits';
ok !m_ok("m=audio PORT RTP/AVP 0\n", "m=audio  RTP/AVP 0\n"), 'PORT needs a digit';
ok !m_ok("c=IN IP4 203.0.113.1\n", "c=IN IP4 203x0y113z1\n"), 'dots are literal';
is_deeply m_ok("a=x:?\n", "a=x:Z\n"), [1], '? matches one character (no captures -> 1)';
ok !m_ok("a=x:?\n", "a=x:ZZ\n"), '? matches exactly one character';
ok m_ok("a?b\n", "a\nb\n"), '? also matches a newline';
is_deeply m_ok("a=ice-ufrag:ICEUFRAG\na=ice-pwd:ICEPWD\n", "a=ice-ufrag:abcd1234\na=ice-pwd:" . ('x' x 26) . "\n"),
	['abcd1234', 'x' x 26], 'ICEUFRAG (8) and ICEPWD (26)';
is_deeply m_ok("a=candidate:ICEBASE 1 UDP\n", "a=candidate:" . ('A1' x 8) . " 1 UDP\n"), ['A1' x 8], 'ICEBASE (16)';
my $k40 = 'a/+B' x 10;
my $k38 = substr($k40, 0, 38);
is_deeply m_ok("inline:CRYPTO128\n", "inline:$k40\n"), [$k40], 'CRYPTO128 (40)';
is_deeply m_ok("inline:CRYPTO128S\n", "inline:$k38\n"), [$k38], 'CRYPTO128S (38) not taken as CRYPTO128 + S';
ok !m_ok("inline:CRYPTO128\n", "inline:$k38\n"), 'CRYPTO128 rejects 38 characters';
is_deeply m_ok("inline:CRYPTO192\n", "inline:" . ('z' x 51) . "\n"), ['z' x 51], 'CRYPTO192 (51)';
is_deeply m_ok("inline:CRYPTO256\n", "inline:" . ('z' x 62) . "\n"), ['z' x 62], 'CRYPTO256 (62)';
is_deeply m_ok("inline:CRYPTO256S\n", "inline:" . ('z' x 59) . "\n"), ['z' x 59], 'CRYPTO256S (59)';
my $fp1 = join(':', ('AB') x 20);
my $fp256 = join(':', ('0f') x 32);
is_deeply m_ok("a=fingerprint:sha-1 FINGERPRINT\n", "a=fingerprint:sha-1 $fp1\n"), [$fp1], 'FINGERPRINT (59)';
is_deeply m_ok("a=fingerprint:sha-256 FINGERPRINT256\n", "a=fingerprint:sha-256 $fp256\n"), [$fp256],
	'FINGERPRINT256 (95) not taken as FINGERPRINT + 256';
is_deeply m_ok("a=tls-id:TLS_ID\n", "a=tls-id:" . ('0a' x 16) . "\n"), ['0a' x 16], 'TLS_ID (32 hex)';
is_deeply m_ok("a=rtpengine:LOOPER\n", "a=rtpengine:0123456789ab\n"), ['0123456789ab'], 'LOOPER (12 hex)';
is_deeply m_ok("o=- SDP_VERSION IN IP4 203.0.113.1\ns=RTPE_VERSION\nm=audio PORT RTP/AVP 0\n",
	"o=- 1545997027 3 IN IP4 203.0.113.1\ns=rtpengine-ts-0.1.0\nm=audio 4000 RTP/AVP 0\n"),
	[4000], 'SDP_VERSION and RTPE_VERSION match but do not capture';
is_deeply m_ok("a=group:BUNDLE BGROUPS\nm=audio PORT RTP/AVP 0\n", "a=group:BUNDLE 0 1 2\nm=audio 9 RTP/AVP 0\n"),
	['0 1 2', 9], 'BGROUPS captures a space-separated group list on one line';
ok !m_ok("a=sendrecv\n", "a=sendrecv\na=extra\n"), 'whole SDP must match (no extra lines)';
ok !m_ok("a=sendrecv\na=extra\n", "a=sendrecv\n"), 'whole SDP must match (no missing lines)';
ok m_ok("a=x (y) [z] {w} * + ^ \$ | \\ / .\n", "a=x (y) [z] {w} * + ^ \$ | \\ / .\n"), 'regex metacharacters are literal';
ok m_ok("a=PORTS\n", "a=1234S\n"), 'placeholder inside a word still substituted (as rtpengine)';

# sdp_match itself: one passing assertion, captures returned, CR LF normalised
my @c = sdp_match('offer', 'unit', "v=0\r\nm=audio 30004 RTP/AVP 8\r\na=rtcp:30005\r\n",
	"v=0\nm=audio PORT RTP/AVP 8\na=rtcp:PORT\n");
is_deeply \@c, [30004, 30005], 'sdp_match returns captures';

done_testing();
