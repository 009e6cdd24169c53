#!/usr/bin/perl
# A stand-in daemon for the AutoTest life-cycle unit test: answers ng 'ping' and 'statistics'
# on 127.0.0.1:<-n port>, exits with $ENV{FAKE_EXIT} (default 0) on SIGTERM.
use strict;
use warnings;
use Socket qw(SOCK_DGRAM);
use IO::Socket::IP;
use NGCP::Rtpengine::Bencode qw(bencode bdecode);

my $port;
for my $i (0 .. $#ARGV) { $port = $ARGV[$i + 1] if $ARGV[$i] eq '-n' }
my $exit = $ENV{FAKE_EXIT} // 0;
my $live = $ENV{FAKE_LIVE} // 0;
$SIG{TERM} = sub { print STDERR "fake daemon: SIGTERM, exiting with $exit\n"; exit($exit) };
select(undef, undef, undef, 0.3);   # pretend to start slowly
my $s = IO::Socket::IP->new(Type => SOCK_DGRAM, Proto => 'udp', LocalHost => '127.0.0.1', LocalPort => $port)
	or die "bind: $@";
print STDERR "fake daemon listening on $port\n";
while (1) {
	my $buf = '';
	my $peer = $s->recv($buf, 65535, 0) // next;
	my ($cookie, $body) = $buf =~ /^(\S+) (.*)\z/s or next;
	my $req = bdecode($body);
	my $reply = ($req->{command} // '') eq 'ping' ? { result => 'pong' }
		: ($req->{command} // '') eq 'statistics'
			? { result => 'ok', leaks => { leaked => 0, doubleRelease => 0, live => { Call => $live, Media => 0 } } }
		: { result => 'error', 'error-reason' => 'Unrecognized command' };
	$s->send("$cookie " . bencode($reply), 0, $peer);
}
