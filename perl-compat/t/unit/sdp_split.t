#!/usr/bin/perl
# sdp_split and crlf as AutoTest scripts use them.
use strict;
use warnings;
use Test::More;
use NGCP::Rtpengine::AutoTest;

my $both = <<SDP;
v=0
o=- 1 1 IN IP4 198.51.100.1
----------------------------------
v=0
o=- 1 1 IN IP4 203.0.113.1
SDP
my ($in, $out) = sdp_split($both);
is $in, "v=0\no=- 1 1 IN IP4 198.51.100.1\n", 'input half';
is $out, "v=0\no=- 1 1 IN IP4 203.0.113.1\n", 'expected half';

my @p = sdp_split("a\n-------\nb\n");
is_deeply \@p, ["a\n", "b\n"], 'seven dashes are a separator';
@p = sdp_split("a\n------\nb\n");
is scalar(@p), 1, 'six dashes are not a separator';
@p = sdp_split("a=x\n");
is_deeply \@p, ["a=x\n"], 'no separator: one part';
@p = sdp_split("a\n--------\nb\n--------\nc\n");
is scalar(@p), 3, 'three parts';

is crlf("v=0\r\ns=x\r\n"), "v=0\ns=x\n", 'crlf turns CR LF into LF';
is crlf("v=0\ns=x\n"), "v=0\ns=x\n", 'crlf leaves LF alone';
is crlf("a\rb\r\n"), "a\rb\n", 'lone CR kept';

done_testing();
