#!/usr/bin/perl
# rtpe_req() on a request the daemon answers with result=error ends the script without an
# assertion for it (rtpengine's client dies on an error reply).

use strict;
use warnings;
use NGCP::Rtpengine::Test;
use NGCP::Rtpengine::AutoTest;
use Test::More;

autotest_start(qw(--config-file=none -t -1 -i 203.0.113.1 -n 2223 -c 12345 -f -L 7 -E -d 0))
		or die;

new_call();
my $resp = rtpe_req('query', 'unknown call', { });   # error reply: the script ends
ok 1, 'after the error reply';
done_testing();
