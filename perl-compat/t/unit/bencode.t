#!/usr/bin/perl
# Bencode codec: known encodings, round trips, type detection, malformed input.
use strict;
use warnings;
use Test::More;
use NGCP::Rtpengine::Bencode qw(bencode bdecode bint bstr);

is bencode('spam'), '4:spam', 'string';
is bencode(''), '0:', 'empty string';
is bencode(42), 'i42e', 'integer literal';
is bencode(-7), 'i-7e', 'negative integer';
is bencode(0), 'i0e', 'zero';
is bencode('42'), '2:42', 'numeric-looking string stays a string';
my $n = 5; my $copy = "$n";
is bencode($n), 'i5e', 'number stays an integer after being stringified';
is bencode(1.5), '3:1.5', 'non-integer number becomes a string';
is bencode(bint('17')), 'i17e', 'bint forces an integer';
is bencode(bstr(17)), '2:17', 'bstr forces a string';
is bencode([1, 'a', [2]]), 'li1e1:ali2eee', 'nested list';
is bencode({ b => 1, a => 'x', c => undef }), 'd1:a1:x1:bi1ee', 'dict keys sorted, undef values skipped';
is bencode("\x{263a}"), "3:\xe2\x98\xba", q(wide character strings are written as UTF-8);

my $sdp = "v=0\r\no=- 1 1 IN IP4 198.51.100.1\r\ns=tester\r\n";
my $req = { command => 'offer', 'call-id' => 'c1', sdp => $sdp, flags => ['trust-address', 'x y'],
	replace => ['origin'], 'received-from' => ['IP4', '198.51.100.1'], 'delete-delay' => 0,
	codec => { strip => ['all'], transcode => ['PCMA'] } };
is_deeply bdecode(bencode($req)), $req, 'round trip of an offer request';

my $bin = join('', map { chr } 0 .. 255);
is bdecode(bencode($bin)), $bin, 'binary-safe round trip';
is_deeply bdecode('d6:result2:ok4:xtrad1:zi-3e1:aleee'), { result => 'ok', xtra => { z => -3, a => [] } },
	'unsorted keys accepted';
is_deeply bdecode('d3:sdp4:v=0' . "\n" . '6:result2:oke'), { sdp => "v=0\n", result => 'ok' }, 'reply with sdp';
is bdecode('i-12e'), -12, 'decode integer';

for my $bad ('', 'i12', 'ixe', '5:abc', 'l1:a', 'd1:ae', 'di1e1:ae', 'x', '4:spamX', 'i01e', '01:a') {
	ok !defined(eval { bdecode($bad); 1 }), "malformed input rejected: '$bad'";
}
like((eval { bdecode('5:abc') } // $@), qr/past end of data/, 'error message names the problem');
ok !defined(eval { bencode({ a => \*STDOUT }); 1 }), 'unencodable reference rejected';

done_testing();
